// BlockStore lifecycle: create, open, persistence, rewrap, torn headers, resize, delete.
#include "blockstore/blockstore.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "blockstore/blockstore_test_helpers.h"
#include "blockstore/format.h"

namespace byok::blockstore {
namespace {

using blockstore_test::CustomerKey;
using blockstore_test::DiskEnv;
using blockstore_test::FakeCustomerWrapper;
using blockstore_test::kCustomerKeyV1;
using blockstore_test::kCustomerKeyV2;
using blockstore_test::kDesId;
using blockstore_test::PlatformKey;
using blockstore_test::RandomBytes;
using blockstore_test::ReadRaw;
using blockstore_test::WriteRaw;
using KeyState = FakeCustomerWrapper::KeyState;

constexpr uint64_t kSize = 16 * 1024 * 1024;

void WriteData(Volume& v, uint64_t offset, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> scratch = data;
  ASSERT_TRUE(v.Write(offset, scratch, true).ok());
}
std::vector<uint8_t> ReadData(Volume& v, uint64_t offset, size_t len) {
  std::vector<uint8_t> out(len);
  Status s = v.Read(offset, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(BlockStoreTest, CreateWritesHeaderAndSparseFile) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {CustomerKey(), PlatformKey()}).ok());
  std::string path = env.store->PathOf("d1");
  EXPECT_EQ(path, env.dir.path() + "/disks/d1.disk");
  EXPECT_EQ(std::filesystem::file_size(path), kDefaultDataOffset + kSize);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  Result<DiskHeader> h = env.store->ReadHeader("d1");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->disk_id, "d1");
  EXPECT_EQ(h->size_bytes, kSize);
  EXPECT_EQ(h->generation, 1u);
  EXPECT_EQ(h->data_offset, kDefaultDataOffset);
  EXPECT_EQ(h->created, "2024-05-01T12:00:00.0000000Z");
  ASSERT_EQ(h->layers.size(), 2u);
  EXPECT_EQ(h->layers[0].key.layer, Layer::kCustomer);
  EXPECT_EQ(h->layers[0].key.key_id, kCustomerKeyV1);
  EXPECT_EQ(h->layers[0].key.des_id, kDesId);
  EXPECT_EQ(h->layers[0].algorithm, "RSA-OAEP-256");
  EXPECT_EQ(h->layers[1].key.layer, Layer::kPlatform);
  EXPECT_EQ(h->layers[1].algorithm, "A256KW");
  EXPECT_EQ(h->layers[1].wrapped.size(), 72u);
  EXPECT_EQ(env.customer.wraps(), 1);
  // No temporary files are left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(env.dir.path() + "/disks")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(BlockStoreTest, CreateValidates) {
  DiskEnv env;
  EXPECT_TRUE(env.store->Create("d1", 4095, {PlatformKey()}).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(env.store->Create("d1", 0, {PlatformKey()}).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(env.store->Create("../x", kSize, {PlatformKey()}).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(env.store->Create("d1", kSize, {}).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(env.store->Create("d1", kSize, {PlatformKey(), CustomerKey()})
                  .Is(StatusCode::kInvalidArgument));
  ASSERT_TRUE(env.store->Create("d1", kSize, {PlatformKey()}).ok());
  EXPECT_TRUE(env.store->Create("d1", kSize, {PlatformKey()}).Is(StatusCode::kAlreadyExists));
  // The wrapper's errors come through, and no file is left.
  env.customer.SetState(kCustomerKeyV2, KeyState::kForbidden);
  EXPECT_TRUE(env.store->Create("d2", kSize, {CustomerKey(kCustomerKeyV2)})
                  .Is(StatusCode::kPermissionDenied));
  EXPECT_FALSE(std::filesystem::exists(env.store->PathOf("d2")));
  EXPECT_TRUE(env.store->Open("nope").status().Is(StatusCode::kNotFound));
  EXPECT_TRUE(env.store->ReadHeader("nope").status().Is(StatusCode::kNotFound));
}

TEST(BlockStoreTest, OpenReturnsTheLiveVolume) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {CustomerKey()}).ok());
  auto a = env.store->Open("d1");
  auto b = env.store->Open("d1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(env.customer.unwraps(), 1) << "the second Open reuses the unlocked volume";
  // Open unlocks a locked live volume.
  (*a)->Lock("detached");
  auto c = env.store->Open("d1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->get(), a->get());
  EXPECT_FALSE((*a)->locked());
  // Once every reference is gone a new Volume is made.
  a = Status::Internal("x");
  b = Status::Internal("x");
  c = Status::Internal("x");
  auto d = env.store->Open("d1");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(env.customer.unwraps(), 3);
}

TEST(BlockStoreTest, DataPersistsAcrossStores) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {CustomerKey(), PlatformKey()}).ok());
  std::vector<uint8_t> data = RandomBytes(100000, 5);
  {
    auto v = env.store->Open("d1");
    ASSERT_TRUE(v.ok());
    WriteData(**v, 12345, data);
  }
  env.Reopen();  // a byokd restart
  auto v = env.store->Open("d1");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(ReadData(**v, 12345, data.size()), data);
}

TEST(BlockStoreTest, OtherRootKeyCannotOpen) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {PlatformKey()}).ok());
  env.root_key = RandomBytes(32, 999);
  env.Reopen();
  EXPECT_TRUE(env.store->Open("d1").status().Is(StatusCode::kDataLoss));
}

TEST(BlockStoreTest, RevokedCustomerKeyLocksOutAndRestoreResumes) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {CustomerKey()}).ok());
  std::vector<uint8_t> data = RandomBytes(8192, 1);
  auto v = env.store->Open("d1");
  ASSERT_TRUE(v.ok());
  WriteData(**v, 0, data);
  env.customer.SetState(kCustomerKeyV1, KeyState::kDisabled);
  (*v)->Lock("the key is disabled");
  EXPECT_TRUE((*v)->Unlock().Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(env.store->Open("d1").status().Is(StatusCode::kFailedPrecondition));
  env.customer.SetState(kCustomerKeyV1, KeyState::kForbidden);
  EXPECT_TRUE((*v)->Unlock().Is(StatusCode::kPermissionDenied));
  env.customer.SetState(kCustomerKeyV1, KeyState::kEnabled);
  ASSERT_TRUE((*v)->Unlock().ok());
  EXPECT_EQ(ReadData(**v, 0, data.size()), data);
  // Purged: crypto-shredded for good.
  env.customer.SetState(kCustomerKeyV1, KeyState::kPurged);
  (*v)->Lock("purged");
  EXPECT_TRUE((*v)->Unlock().Is(StatusCode::kNotFound));
}

TEST(BlockStoreTest, RewrapKeepsDataAndChangesHeader) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {CustomerKey(), PlatformKey()}).ok());
  std::vector<uint8_t> data = RandomBytes(50000, 2);
  auto v = env.store->Open("d1");
  ASSERT_TRUE(v.ok());
  WriteData(**v, 4096 * 3 + 5, data);
  Result<DiskHeader> before = env.store->ReadHeader("d1");
  ASSERT_TRUE(before.ok());

  // Same key: no-op.
  ASSERT_TRUE(env.store->Rewrap("d1", Layer::kCustomer, CustomerKey()).ok());
  EXPECT_EQ(env.store->ReadHeader("d1")->generation, 1u);
  // Rotation to a new version, while the volume is open and in use.
  ASSERT_TRUE(env.store->Rewrap("d1", Layer::kCustomer, CustomerKey(kCustomerKeyV2)).ok());
  Result<DiskHeader> after = env.store->ReadHeader("d1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->generation, 2u);
  EXPECT_EQ(after->layers[0].key.key_id, kCustomerKeyV2);
  EXPECT_NE(after->layers[0].wrapped, before->layers[0].wrapped);
  EXPECT_EQ(after->layers[1].wrapped, before->layers[1].wrapped) << "platform layer untouched";
  EXPECT_FALSE((*v)->locked());
  EXPECT_EQ(ReadData(**v, 4096 * 3 + 5, data.size()), data);

  // The old version no longer matters; the new one does.
  env.customer.SetState(kCustomerKeyV1, KeyState::kDisabled);
  (*v)->Lock("re-unlock");
  ASSERT_TRUE((*v)->Unlock().ok());
  EXPECT_EQ(ReadData(**v, 4096 * 3 + 5, data.size()), data);
  env.customer.SetState(kCustomerKeyV2, KeyState::kDisabled);
  (*v)->Lock("re-unlock");
  EXPECT_TRUE((*v)->Unlock().Is(StatusCode::kFailedPrecondition));
  env.customer.SetState(kCustomerKeyV2, KeyState::kEnabled);
  ASSERT_TRUE((*v)->Unlock().ok());

  // The platform layer can be rewrapped too (same key: no-op), not with a customer key.
  ASSERT_TRUE(env.store->Rewrap("d1", Layer::kPlatform, PlatformKey()).ok());
  EXPECT_TRUE(
      env.store->Rewrap("d1", Layer::kPlatform, CustomerKey()).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(env.store->Rewrap("nope", Layer::kCustomer, CustomerKey()).Is(StatusCode::kNotFound));
  // A disk without a customer layer.
  ASSERT_TRUE(env.store->Create("p", kSize, {PlatformKey()}).ok());
  EXPECT_TRUE(
      env.store->Rewrap("p", Layer::kCustomer, CustomerKey()).Is(StatusCode::kFailedPrecondition));
  // Rewrap needs no open volume.
  env.customer.SetState(kCustomerKeyV1, KeyState::kEnabled);
  ASSERT_TRUE(env.store->Create("c", kSize, {CustomerKey()}).ok());
  ASSERT_TRUE(env.store->Rewrap("c", Layer::kCustomer, CustomerKey(kCustomerKeyV2)).ok());
  env.Reopen();
  auto c = env.store->Open("c");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
}

TEST(BlockStoreTest, TornHeaderWriteLeavesThePreviousHeader) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {CustomerKey()}).ok());
  std::vector<uint8_t> data = RandomBytes(4096, 3);
  {
    auto v = env.store->Open("d1");
    ASSERT_TRUE(v.ok());
    WriteData(**v, 0, data);
  }
  ASSERT_TRUE(env.store->Rewrap("d1", Layer::kCustomer, CustomerKey(kCustomerKeyV2)).ok());
  std::string path = env.store->PathOf("d1");
  // Generation 2 went to slot B. Tear it: half of it overwritten.
  ASSERT_EQ(env.store->ReadHeader("d1")->generation, 2u);
  WriteRaw(path, HeaderSlotOffset(1) + 200, RandomBytes(100, 4));
  Result<DiskHeader> h = env.store->ReadHeader("d1");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->generation, 1u);
  EXPECT_EQ(h->layers[0].key.key_id, kCustomerKeyV1);
  auto v = env.store->Open("d1");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(ReadData(**v, 0, 4096), data);
  // The next update overwrites the damaged slot, not the good one.
  ASSERT_TRUE(env.store->Rewrap("d1", Layer::kCustomer, CustomerKey(kCustomerKeyV2)).ok());
  EXPECT_EQ(env.store->ReadHeader("d1")->generation, 2u);
  ASSERT_TRUE(env.store->Resize("d1", 2 * kSize).ok());  // generation 3, back in slot A
  h = env.store->ReadHeader("d1");
  EXPECT_EQ(h->generation, 3u);
  EXPECT_EQ(h->layers[0].key.key_id, kCustomerKeyV2);
  // Both slots destroyed: DataLoss.
  WriteRaw(path, 40, RandomBytes(8, 5));
  WriteRaw(path, HeaderSlotOffset(1) + 40, RandomBytes(8, 6));
  EXPECT_TRUE(env.store->ReadHeader("d1").status().Is(StatusCode::kDataLoss));
}

TEST(BlockStoreTest, ResizeGrowsOnly) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {PlatformKey()}).ok());
  auto v = env.store->Open("d1");
  ASSERT_TRUE(v.ok());
  std::vector<uint8_t> data = RandomBytes(4096, 1);
  WriteData(**v, kSize - 4096, data);
  EXPECT_TRUE(env.store->Resize("d1", kSize / 2).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(env.store->Resize("d1", kSize + 1).Is(StatusCode::kInvalidArgument));
  ASSERT_TRUE(env.store->Resize("d1", kSize).ok());
  EXPECT_EQ(env.store->ReadHeader("d1")->generation, 1u) << "same size: no-op";
  ASSERT_TRUE(env.store->Resize("d1", 2 * kSize).ok());
  EXPECT_EQ((*v)->size(), 2 * kSize) << "the open volume sees the new size";
  EXPECT_EQ(env.store->ReadHeader("d1")->size_bytes, 2 * kSize);
  EXPECT_EQ(std::filesystem::file_size(env.store->PathOf("d1")), kDefaultDataOffset + 2 * kSize);
  EXPECT_EQ(ReadData(**v, kSize - 4096, 4096), data);
  EXPECT_EQ(ReadData(**v, 2 * kSize - 4096, 4096), std::vector<uint8_t>(4096, 0));
  WriteData(**v, 2 * kSize - 4096, data);
  env.Reopen();
  auto again = env.store->Open("d1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->size(), 2 * kSize);
  EXPECT_EQ(ReadData(**again, 2 * kSize - 4096, 4096), data);
}

TEST(BlockStoreTest, DeleteLocksTheOpenVolume) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {PlatformKey()}).ok());
  auto v = env.store->Open("d1");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(env.store->Delete("d1").ok());
  EXPECT_FALSE(std::filesystem::exists(env.store->PathOf("d1")));
  std::vector<uint8_t> buf(4096);
  EXPECT_TRUE((*v)->Read(0, buf).Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE((*v)->Unlock().Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(env.store->Open("d1").status().Is(StatusCode::kNotFound));
  EXPECT_TRUE(env.store->Delete("d1").ok()) << "deleting a missing disk is fine";
  // A new disk with the same id is a new disk.
  ASSERT_TRUE(env.store->Create("d1", kSize, {PlatformKey()}).ok());
  auto w = env.store->Open("d1");
  ASSERT_TRUE(w.ok());
  EXPECT_NE(w->get(), v->get());
  EXPECT_TRUE((*v)->Read(0, buf).Is(StatusCode::kFailedPrecondition));
}

TEST(BlockStoreTest, LayersAreIndependent) {
  // Two disks, same data: their ciphertexts differ (independent DEKs); and a double-encrypted
  // sector is not readable with only one of its layers.
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("a", kSize, {PlatformKey()}).ok());
  ASSERT_TRUE(env.store->Create("b", kSize, {PlatformKey()}).ok());
  std::vector<uint8_t> data = RandomBytes(4096, 8);
  for (const char* id : {"a", "b"}) {
    auto v = env.store->Open(id);
    ASSERT_TRUE(v.ok());
    WriteData(**v, 0, data);
  }
  EXPECT_NE(ReadRaw(env.store->PathOf("a"), kDefaultDataOffset, 4096),
            ReadRaw(env.store->PathOf("b"), kDefaultDataOffset, 4096));
  // Move b's ciphertext into a: a decrypts it with its own DEK, which gives garbage.
  auto raw_b = ReadRaw(env.store->PathOf("b"), kDefaultDataOffset, 4096);
  WriteRaw(env.store->PathOf("a"), kDefaultDataOffset + 4096, raw_b);
  auto a = env.store->Open("a");
  EXPECT_NE(ReadData(**a, 4096, 4096), data);
}

}  // namespace
}  // namespace byok::blockstore
