// Volume I/O: round trips, holes, trim, ciphertext at rest, locking, concurrency.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "blockstore/blockstore.h"
#include "blockstore/blockstore_test_helpers.h"

namespace byok::blockstore {
namespace {

using blockstore_test::CustomerKey;
using blockstore_test::DiskEnv;
using blockstore_test::PlatformKey;
using blockstore_test::RandomBytes;
using blockstore_test::ReadRaw;

constexpr uint64_t kDiskSize = 64 * 1024 * 1024;

class VolumeTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    std::vector<KeyRef> layers;
    switch (GetParam()) {
      case 0:
        layers = {PlatformKey()};
        break;
      case 1:
        layers = {CustomerKey()};
        break;
      default:
        layers = {CustomerKey(), PlatformKey()};
    }
    ASSERT_TRUE(env_.store->Create("disk1", kDiskSize, layers).ok());
    auto v = env_.store->Open("disk1");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    volume_ = *v;
  }

  // Writes a copy of `data` (Write may clobber its buffer).
  void Write(uint64_t offset, const std::vector<uint8_t>& data, bool fua = false) {
    std::vector<uint8_t> scratch = data;
    Status s = volume_->Write(offset, scratch, fua);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::vector<uint8_t> Read(uint64_t offset, size_t len) {
    std::vector<uint8_t> out(len, 0xee);
    Status s = volume_->Read(offset, out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  std::string Path() const { return env_.store->PathOf("disk1"); }
  uint64_t AllocatedBytes() const {
    struct stat st {};
    ::stat(Path().c_str(), &st);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  }

  DiskEnv env_;
  std::shared_ptr<Volume> volume_;
};

INSTANTIATE_TEST_SUITE_P(Layers, VolumeTest, ::testing::Values(0, 1, 2), [](const auto& info) {
  return std::string(info.param == 0 ? "Platform" : info.param == 1 ? "Customer" : "Double");
});

TEST_P(VolumeTest, Geometry) {
  EXPECT_EQ(volume_->size(), kDiskSize);
  EXPECT_EQ(volume_->preferred_block_size(), 4096u);
  EXPECT_EQ(volume_->disk_id(), "disk1");
  EXPECT_FALSE(volume_->locked());
}

TEST_P(VolumeTest, NeverWrittenReadsZeros) {
  EXPECT_EQ(Read(0, 8192), std::vector<uint8_t>(8192, 0));
  EXPECT_EQ(Read(kDiskSize - 100, 100), std::vector<uint8_t>(100, 0));
  EXPECT_EQ(Read(12345, 7), std::vector<uint8_t>(7, 0));
  EXPECT_LT(AllocatedBytes(), 1024 * 1024u) << "a new disk is sparse";
}

TEST_P(VolumeTest, RoundTrips) {
  struct Case {
    uint64_t offset;
    size_t len;
  } cases[] = {
      {0, 4096},                 // one aligned sector
      {8192, 3 * 4096},          // several aligned sectors
      {40000, 10},               // inside one sector
      {4096 * 20 + 4000, 5000},  // crosses two sector boundaries, partial at both ends
      {4096 * 40 + 1, 4096},     // unaligned, exactly one sector long
      {4096 * 50, 4095},         // aligned start, partial end
      {4096 * 60 + 1, 4095},     // partial start, aligned end
      {kDiskSize - 4096, 4096},  // last sector
      {kDiskSize - 1, 1},        // last byte
  };
  uint64_t seed = 100;
  for (const Case& c : cases) {
    std::vector<uint8_t> data = RandomBytes(c.len, ++seed);
    Write(c.offset, data);
    EXPECT_EQ(Read(c.offset, c.len), data) << c.offset << "+" << c.len;
  }
  // Neighbours of a partial write keep their content.
  std::vector<uint8_t> base = RandomBytes(3 * 4096, 1);
  Write(4096 * 100, base);
  std::vector<uint8_t> patch = RandomBytes(100, 2);
  Write(4096 * 101 - 50, patch);
  std::copy(patch.begin(), patch.end(), base.begin() + 4096 - 50);
  EXPECT_EQ(Read(4096 * 100, 3 * 4096), base);
}

TEST_P(VolumeTest, LargeUnalignedRoundTrip) {
  std::vector<uint8_t> data = RandomBytes(8 * 1024 * 1024 + 777, 9);
  Write(1000, data, /*fua=*/true);
  EXPECT_EQ(Read(1000, data.size()), data);
  EXPECT_EQ(Read(0, 1000), std::vector<uint8_t>(1000, 0));
  // Reads at other alignments see the same bytes.
  std::vector<uint8_t> middle = Read(1000 + 4096 * 7 + 3, 100000);
  EXPECT_TRUE(std::equal(middle.begin(), middle.end(), data.begin() + 4096 * 7 + 3));
}

TEST_P(VolumeTest, ZeroPlaintextIsStillEncrypted) {
  Write(0, std::vector<uint8_t>(4096, 0));
  EXPECT_NE(ReadRaw(Path(), 1024 * 1024, 4096), std::vector<uint8_t>(4096, 0));
  EXPECT_EQ(Read(0, 4096), std::vector<uint8_t>(4096, 0));
}

TEST_P(VolumeTest, CiphertextAtRest) {
  std::string pattern = "byok-plaintext-pattern-0123456789!";
  std::vector<uint8_t> data;
  while (data.size() < 64 * 4096) data.insert(data.end(), pattern.begin(), pattern.end());
  data.resize(64 * 4096);
  Write(0, data, true);
  std::vector<uint8_t> raw = ReadRaw(Path(), 0, 2 * 1024 * 1024);
  auto it = std::search(raw.begin(), raw.end(), pattern.begin(), pattern.end());
  EXPECT_EQ(it, raw.end()) << "plaintext found in the raw file";
  // The raw sector is where the format says, and is not the plaintext.
  std::vector<uint8_t> sector0 = ReadRaw(Path(), 1024 * 1024, 4096);
  EXPECT_NE(sector0, std::vector<uint8_t>(data.begin(), data.begin() + 4096));
  EXPECT_NE(sector0, std::vector<uint8_t>(4096, 0));
  // Equal plaintext sectors encrypt differently (the tweak is the sector number).
  EXPECT_NE(ReadRaw(Path(), 1024 * 1024 + 17 * 4096, 4096),
            ReadRaw(Path(), 1024 * 1024 + 34 * 4096, 4096));
}

TEST_P(VolumeTest, TrimAndWriteZeroes) {
  std::vector<uint8_t> data = RandomBytes(64 * 4096, 3);
  Write(0, data, true);
  uint64_t before = AllocatedBytes();
  // Whole sectors 1..30 plus partial ends.
  ASSERT_TRUE(volume_->Trim(4096 + 0, 30 * 4096, false).ok());
  ASSERT_TRUE(volume_->WriteZeroes(40 * 4096 + 100, 5 * 4096, true).ok());
  std::vector<uint8_t> expect = data;
  std::fill(expect.begin() + 4096, expect.begin() + 31 * 4096, 0);
  std::fill(expect.begin() + 40 * 4096 + 100, expect.begin() + 45 * 4096 + 100, 0);
  EXPECT_EQ(Read(0, data.size()), expect);
  EXPECT_LT(AllocatedBytes(), before) << "trimmed sectors became holes";
  // Trimmed sectors are holes in the file (all-zero ciphertext).
  EXPECT_EQ(ReadRaw(Path(), 1024 * 1024 + 4096, 30 * 4096), std::vector<uint8_t>(30 * 4096, 0));
  // Tiny ranges inside a sector.
  ASSERT_TRUE(volume_->WriteZeroes(50 * 4096 + 10, 20, false).ok());
  std::fill(expect.begin() + 50 * 4096 + 10, expect.begin() + 50 * 4096 + 30, 0);
  EXPECT_EQ(Read(0, data.size()), expect);
  ASSERT_TRUE(volume_->Trim(0, 0, false).ok());
  ASSERT_TRUE(volume_->Flush().ok());
}

TEST_P(VolumeTest, OutOfRange) {
  std::vector<uint8_t> buf(4096);
  EXPECT_TRUE(volume_->Read(kDiskSize - 4095, buf).Is(StatusCode::kOutOfRange));
  EXPECT_TRUE(volume_->Write(kDiskSize, buf, false).Is(StatusCode::kOutOfRange));
  EXPECT_TRUE(volume_->Trim(kDiskSize - 4096, 8192, false).Is(StatusCode::kOutOfRange));
  EXPECT_TRUE(volume_->WriteZeroes(UINT64_MAX, 2, false).Is(StatusCode::kOutOfRange));
  EXPECT_TRUE(volume_->Read(kDiskSize, std::span<uint8_t>()).ok());
}

TEST_P(VolumeTest, LockFailsIoAndUnlockResumes) {
  std::vector<uint8_t> data = RandomBytes(3 * 4096, 4);
  Write(4096, data);
  volume_->Lock("the key was revoked");
  EXPECT_TRUE(volume_->locked());
  EXPECT_EQ(volume_->lock_reason(), "the key was revoked");
  std::vector<uint8_t> buf(4096);
  Status s = volume_->Read(0, buf);
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition));
  EXPECT_EQ(s.message(), "disk disk1 is locked: the key was revoked");
  EXPECT_TRUE(volume_->Write(0, buf, false).Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(volume_->Trim(0, 4096, false).Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(volume_->WriteZeroes(0, 4096, false).Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(volume_->Flush().Is(StatusCode::kFailedPrecondition));
  ASSERT_TRUE(volume_->Unlock().ok());
  EXPECT_FALSE(volume_->locked());
  EXPECT_EQ(volume_->lock_reason(), "");
  EXPECT_EQ(Read(4096, data.size()), data);
  EXPECT_TRUE(volume_->Unlock().ok()) << "unlocking an unlocked volume is fine";
}

TEST_P(VolumeTest, ConcurrentWritersAndReaders) {
  constexpr int kThreads = 8;
  constexpr int kSectorsPerThread = 64;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t base = uint64_t(t) * kSectorsPerThread * 4096;
      for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < kSectorsPerThread; i += 4) {
          // Aligned multi-sector writes and unaligned writes, each inside this thread's range.
          std::vector<uint8_t> data = RandomBytes(4 * 4096, t * 100000 + round * 1000 + i);
          uint64_t off = base + uint64_t(i) * 4096;
          std::vector<uint8_t> scratch = data;
          if (!volume_->Write(off, scratch, false).ok()) ++failures;
          std::vector<uint8_t> back(data.size());
          if (!volume_->Read(off, back).ok() || back != data) ++failures;
          std::vector<uint8_t> small = RandomBytes(300, round + i);
          scratch = small;
          if (!volume_->Write(off + 4000, scratch, false).ok()) ++failures;
          std::vector<uint8_t> small_back(300);
          if (!volume_->Read(off + 4000, small_back).ok() || small_back != small) ++failures;
        }
      }
    });
  }
  // Neighbouring threads' partial writes share no sector; a reader thread reads everything.
  threads.emplace_back([&] {
    std::vector<uint8_t> buf(kThreads * kSectorsPerThread * 4096);
    for (int i = 0; i < 5; ++i) {
      if (!volume_->Read(0, buf).ok()) ++failures;
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_P(VolumeTest, LockWhileIoIsRunning) {
  std::vector<uint8_t> data = RandomBytes(16 * 4096, 11);
  Write(0, data);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> io;
  for (int t = 0; t < 4; ++t) {
    io.emplace_back([&] {
      std::vector<uint8_t> buf(data.size());
      while (!stop.load()) {
        Status s = volume_->Read(0, buf);
        if (s.ok() ? buf != data : !s.Is(StatusCode::kFailedPrecondition)) ++bad;
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    volume_->Lock("test");
    ASSERT_TRUE(volume_->Unlock().ok());
  }
  stop = true;
  for (auto& th : io) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace byok::blockstore
