#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/json.h"
#include "common/random.h"
#include "common/secret.h"

namespace byok {
namespace {

using namespace std::chrono_literals;

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(TimePoint(std::chrono::seconds(1'700'000'000)));
  EXPECT_EQ(clock.NowUnix(), 1'700'000'000);
  clock.Advance(1h);
  EXPECT_EQ(clock.NowUnix(), 1'700'003'600);
}

TEST(ClockTest, OffsetClockNeverMovesBack) {
  ManualClock base(TimePoint(std::chrono::seconds(100)));
  OffsetClock clock(base);
  clock.Advance(10s);
  clock.Advance(-5s);
  EXPECT_EQ(clock.NowUnix(), 110);
}

TEST(ClockTest, AzureTimeFormat) {
  TimePoint t = TimePoint(std::chrono::seconds(1'672'628'645)) +
                std::chrono::duration_cast<TimePoint::duration>(123456700ns);
  EXPECT_EQ(FormatAzureTime(t), "2023-01-02T03:04:05.1234567Z");
}

TEST(RandomTest, UuidsAreV4AndDistinct) {
  // 8-4-4-4-12 lower-case hex, version nibble 4, variant 8..b.
  auto is_v4 = [](const std::string& u) {
    if (u.size() != 36) return false;
    for (size_t i = 0; i < u.size(); ++i) {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != (u[i] == '-')) return false;
      if (!dash && !((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'))) return false;
    }
    return u[14] == '4' && std::string("89ab").find(u[19]) != std::string::npos;
  };
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string u = CryptoRandom().Uuid();
    EXPECT_TRUE(is_v4(u)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(RandomTest, UuidsStayDistinctAcrossBatchesAndThreads) {
  // CryptoRandom serves UUIDs from 4 KiB batches per thread: cross several batch boundaries on
  // two threads at once.
  std::vector<std::string> a, b;
  std::thread other([&] {
    for (int i = 0; i < 1000; ++i) b.push_back(CryptoRandom().Uuid());
  });
  for (int i = 0; i < 1000; ++i) a.push_back(CryptoRandom().Uuid());
  other.join();
  std::set<std::string> seen(a.begin(), a.end());
  seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(RandomTest, ForkedChildNeverRepeatsTheParentsUuids) {
  (void)CryptoRandom().Uuid();  // this thread now holds a partly used batch
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string u = CryptoRandom().Uuid();
    ssize_t n = write(fds[1], u.data(), u.size());
    _exit(n == static_cast<ssize_t>(u.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string parent = CryptoRandom().Uuid();  // the next UUID of the parent's batch
  char buf[36];
  ssize_t n = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(n, 36);
  EXPECT_NE(std::string(buf, 36), parent);
}

TEST(RandomTest, FormatUuidSetsVersionAndVariant) {
  const uint8_t bytes[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                             0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  EXPECT_EQ(FormatUuid(bytes), "00112233-4455-4677-8899-aabbccddeeff");
  const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(FormatUuid(ones), "ffffffff-ffff-4fff-bfff-ffffffffffff");
}

TEST(RandomTest, SeededRandomIsReproducible) {
  SeededRandom a(42), b(42);
  EXPECT_EQ(a.Uuid(), b.Uuid());
}

TEST(SecretBytesTest, MoveLeavesSourceEmptyAndCompareIsExact) {
  std::vector<uint8_t> k = {1, 2, 3};
  SecretBytes a(k);
  SecretBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.size(), 3u);
  EXPECT_TRUE(b == b.Clone());
  b.Wipe();
  EXPECT_TRUE(b.empty());
}

TEST(ApiErrorTest, FormatsFromTable) {
  constexpr ErrorSpec kSpec{"ResourceGroupNotFound", 404,
                            "Resource group '{}' could not be found."};
  ApiError e = MakeError(kSpec, "rg1");
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(e.ToJson()["error"]["code"], "ResourceGroupNotFound");
  EXPECT_EQ(e.ToJson()["error"]["message"], "Resource group 'rg1' could not be found.");
}

TEST(JsonTest, ParsesAndBoundsDepthAndSize) {
  EXPECT_TRUE(ParseJsonBody(R"({"a":[1,2,{"b":null}]})").ok());
  EXPECT_FALSE(ParseJsonBody("{").ok());
  EXPECT_FALSE(ParseJsonBody("").ok());
  EXPECT_FALSE(ParseJsonBody("\"\xff\"").ok());  // invalid UTF-8
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto r = ParseJsonBody(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nesting"), std::string::npos);
  JsonLimits small;
  small.max_bytes = 4;
  EXPECT_FALSE(ParseJsonBody("[1,2,3]", small).ok());
}

TEST(JsonTest, DumpNeverThrows) {
  nlohmann::json j = std::string("bad \xff utf8");
  EXPECT_NO_THROW(DumpJson(j));
}

TEST(FilesTest, AtomicWriteWithMode) {
  char tmpl[] = "/tmp/byok-files-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/sub/f.txt";
  ASSERT_TRUE(EnsureDirectory(std::string(tmpl) + "/sub").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "two", 0600).ok());
  EXPECT_EQ(*ReadFile(path), "two");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(path + ".missing").status().code(), StatusCode::kNotFound);
  std::system(("rm -rf " + std::string(tmpl)).c_str());
}

}  // namespace
}  // namespace byok
