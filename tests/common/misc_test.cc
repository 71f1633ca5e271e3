#include <sys/stat.h>
#include <chrono>
#include <set>

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
