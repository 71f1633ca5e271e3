// Root key loading: creation with mode 0600, refusing loose permissions, BYOK_ROOT_KEY,
// --root-key-file, malformed keys, concurrent first starts.

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "common/files.h"
#include "common/random.h"
#include "store/store_test_helpers.h"

namespace byok::store::test {
namespace {

using ::testing::HasSubstr;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return static_cast<mode_t>(-1);
  return st.st_mode & 07777;
}

void WriteFileWithMode(const std::string& path, const std::string& data, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

std::string Key(const RootKey& k) { return ToString(k.bytes()); }

// An environment with nothing set, so tests do not depend on the real one.
std::optional<std::string> NoEnv(const char*) { return std::nullopt; }

class RootKeyTest : public ::testing::Test {
 protected:
  RootKeyOptions Options() const {
    RootKeyOptions o;
    o.data_dir = dir_.path();
    o.getenv = NoEnv;
    return o;
  }
  std::string KeyPath() const { return dir_.File(kRootKeyFileName); }

  TempDir dir_;
};

TEST_F(RootKeyTest, CreatesKeyFileWithMode0600OnFirstStart) {
  RootKeyOptions o = Options();
  o.data_dir = dir_.File("fresh/data");  // missing parents are created
  ASSERT_OK_AND_ASSIGN(RootKey key, LoadOrCreateRootKey(o));
  EXPECT_EQ(key.bytes().size(), kRootKeySize);
  const std::string path = o.data_dir + "/root.key";
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(o.data_dir), 0700u);
  EXPECT_EQ(ReadFileOrEmpty(path), Base64Encode(key.bytes()) + "\n");
  // No temporary files left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(o.data_dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);

  ASSERT_OK_AND_ASSIGN(RootKey again, LoadOrCreateRootKey(o));
  EXPECT_EQ(Key(again), Key(key));
}

TEST_F(RootKeyTest, RefusesKeyFileAccessibleByGroupOrOthers) {
  ASSERT_OK(LoadOrCreateRootKey(Options()));
  for (mode_t mode : {0640, 0604, 0644, 0620, 0660}) {
    ASSERT_EQ(::chmod(KeyPath().c_str(), mode), 0);
    Result<RootKey> key = LoadOrCreateRootKey(Options());
    EXPECT_TRUE(key.status().Is(StatusCode::kPermissionDenied)) << std::oct << mode;
    EXPECT_THAT(key.status().message(), HasSubstr("chmod 600"));
  }
  ASSERT_EQ(::chmod(KeyPath().c_str(), 0400), 0);
  EXPECT_OK(LoadOrCreateRootKey(Options()));
}

TEST_F(RootKeyTest, EnvironmentVariableWins) {
  ASSERT_OK_AND_ASSIGN(RootKey file_key, LoadOrCreateRootKey(Options()));
  RootKey env_key = TestRootKey(9);
  const std::string env_value = Base64Encode(env_key.bytes());
  RootKeyOptions o = Options();
  o.key_file = KeyPath();
  o.getenv = [&](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == kRootKeyEnvVar) return env_value;
    return std::nullopt;
  };
  ASSERT_OK_AND_ASSIGN(RootKey key, LoadOrCreateRootKey(o));
  EXPECT_EQ(Key(key), Key(env_key));
  EXPECT_NE(Key(key), Key(file_key));

  // With the env var, an empty data dir gets no key file.
  TempDir empty;
  o.data_dir = empty.path();
  o.key_file.clear();
  ASSERT_OK(LoadOrCreateRootKey(o));
  EXPECT_FALSE(FileExists(empty.File(kRootKeyFileName)));
}

TEST_F(RootKeyTest, MalformedEnvironmentVariableIsRejected) {
  for (std::string bad : {std::string("not base64!"), Base64Encode(AsBytes("too short")),
                          Base64Encode(std::vector<uint8_t>(33, 1))}) {
    RootKeyOptions o = Options();
    o.getenv = [&](const char*) -> std::optional<std::string> { return bad; };
    Result<RootKey> key = LoadOrCreateRootKey(o);
    EXPECT_TRUE(key.status().Is(StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(key.status().message(), HasSubstr(kRootKeyEnvVar));
  }
}

TEST_F(RootKeyTest, EmptyEnvironmentVariableIsIgnored) {
  RootKeyOptions o = Options();
  o.getenv = [](const char*) -> std::optional<std::string> { return std::string(); };
  ASSERT_OK(LoadOrCreateRootKey(o));
  EXPECT_TRUE(FileExists(KeyPath()));
}

TEST_F(RootKeyTest, ProcessEnvironmentIsReadByDefault) {
  // ctest runs every test in its own process; still, restore what was there.
  const char* old = std::getenv(kRootKeyEnvVar);
  std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  RootKey env_key = TestRootKey(4);
  ASSERT_EQ(::setenv(kRootKeyEnvVar, Base64Encode(env_key.bytes()).c_str(), 1), 0);
  RootKeyOptions o = Options();
  o.getenv = nullptr;
  Result<RootKey> key = LoadOrCreateRootKey(o);
  if (saved) {
    ::setenv(kRootKeyEnvVar, saved->c_str(), 1);
  } else {
    ::unsetenv(kRootKeyEnvVar);
  }
  ASSERT_OK(key);
  EXPECT_EQ(Key(*key), Key(env_key));
}

TEST_F(RootKeyTest, ExplicitKeyFile) {
  RootKey k = TestRootKey(5);
  const std::string b64_path = dir_.File("b64.key");
  const std::string raw_path = dir_.File("raw.key");
  WriteFileWithMode(b64_path, "  " + Base64Encode(k.bytes()) + "\r\n", 0600);
  WriteFileWithMode(raw_path, Key(k), 0400);

  RootKeyOptions o = Options();
  o.data_dir = dir_.File("unused");
  o.key_file = b64_path;
  ASSERT_OK_AND_ASSIGN(RootKey from_b64, LoadOrCreateRootKey(o));
  EXPECT_EQ(Key(from_b64), Key(k));
  o.key_file = raw_path;
  ASSERT_OK_AND_ASSIGN(RootKey from_raw, LoadOrCreateRootKey(o));
  EXPECT_EQ(Key(from_raw), Key(k));
  EXPECT_FALSE(FileExists(o.data_dir + "/root.key"));  // the explicit file takes precedence

  o.key_file = dir_.File("missing.key");
  Result<RootKey> missing = LoadOrCreateRootKey(o);
  EXPECT_TRUE(missing.status().Is(StatusCode::kNotFound)) << missing.status().ToString();
  EXPECT_FALSE(FileExists(o.key_file));  // never created

  ASSERT_EQ(::chmod(b64_path.c_str(), 0644), 0);
  o.key_file = b64_path;
  EXPECT_TRUE(LoadOrCreateRootKey(o).status().Is(StatusCode::kPermissionDenied));
}

TEST_F(RootKeyTest, MalformedKeyFilesAreRejected) {
  std::map<std::string, std::string> bad = {
      {"short", Base64Encode(std::vector<uint8_t>(16, 7)) + "\n"},
      {"garbage", "this is not a key\n"},
      {"empty", ""},
      {"huge", std::string(10000, 'A')},
  };
  for (const auto& [name, content] : bad) {
    const std::string path = dir_.File(name);
    WriteFileWithMode(path, content, 0600);
    RootKeyOptions o = Options();
    o.key_file = path;
    EXPECT_TRUE(LoadOrCreateRootKey(o).status().Is(StatusCode::kInvalidArgument)) << name;
  }
  ASSERT_EQ(::mkdir(dir_.File("dir.key").c_str(), 0700), 0);
  RootKeyOptions o = Options();
  o.key_file = dir_.File("dir.key");
  EXPECT_FALSE(LoadOrCreateRootKey(o).ok());
}

TEST_F(RootKeyTest, NoSourceConfigured) {
  RootKeyOptions o;
  o.getenv = NoEnv;
  EXPECT_TRUE(LoadOrCreateRootKey(o).status().Is(StatusCode::kInvalidArgument));
}

TEST_F(RootKeyTest, ConcurrentFirstStartsAgreeOnOneKey) {
  constexpr int kThreads = 8;
  std::vector<std::string> keys(kThreads);
  std::vector<Status> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Result<RootKey> k = LoadOrCreateRootKey(Options());
      if (k.ok()) {
        keys[i] = Key(*k);
      } else {
        errors[i] = k.status();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_OK(errors[i]);
    EXPECT_EQ(keys[i], keys[0]);
  }
  ASSERT_OK_AND_ASSIGN(RootKey final_key, LoadOrCreateRootKey(Options()));
  EXPECT_EQ(Key(final_key), keys[0]);
}

TEST(RootKeyValueTest, FromBytesChecksSize) {
  EXPECT_TRUE(
      RootKey::FromBytes(std::vector<uint8_t>(31)).status().Is(StatusCode::kInvalidArgument));
  EXPECT_OK(RootKey::FromBytes(std::vector<uint8_t>(32)));
  SeededRandom r(1);
  RootKey a = RootKey::Generate(r);
  RootKey b = a.Clone();
  EXPECT_EQ(Key(a), Key(b));
}

TEST(RootKeyStoreTest, KeyFromEnvironmentMustMatchTheDataDirectory) {
  // End to end: a data dir created with its root.key refuses a different BYOK_ROOT_KEY.
  TempDir dir;
  ManualClock clock(TestEpoch());
  RootKeyOptions ko;
  ko.data_dir = dir.path();
  ko.getenv = NoEnv;
  ASSERT_OK_AND_ASSIGN(RootKey file_key, LoadOrCreateRootKey(ko));
  SqliteOptions so;
  so.data_dir = dir.path();
  { ASSERT_OK(OpenSqliteStore(so, clock, std::move(file_key))); }
  const std::string other = Base64Encode(TestRootKey(7).bytes());
  ko.getenv = [&](const char*) -> std::optional<std::string> { return other; };
  ASSERT_OK_AND_ASSIGN(RootKey env_key, LoadOrCreateRootKey(ko));
  Result<std::unique_ptr<Store>> s = OpenSqliteStore(so, clock, std::move(env_key));
  EXPECT_TRUE(s.status().Is(StatusCode::kPermissionDenied)) << s.status().ToString();
}

}  // namespace
}  // namespace byok::store::test
