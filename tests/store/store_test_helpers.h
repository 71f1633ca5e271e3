// Shared fixtures for the store tests: private temp directories, deterministic keys and clocks,
// raw SQLite access for white-box checks, and Status assertions.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/status.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"
#include "store/store.h"

#define ASSERT_OK(expr)                                                      \
  do {                                                                       \
    const ::byok::Status assert_ok_s_ = ::byok::store::test::ToStatus(expr); \
    ASSERT_TRUE(assert_ok_s_.ok()) << assert_ok_s_.ToString();               \
  } while (0)
#define EXPECT_OK(expr)                                                      \
  do {                                                                       \
    const ::byok::Status expect_ok_s_ = ::byok::store::test::ToStatus(expr); \
    EXPECT_TRUE(expect_ok_s_.ok()) << expect_ok_s_.ToString();               \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(BYOK_CONCAT_(assert_result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)  \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

namespace byok::store::test {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}

// A fresh directory from mkdtemp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// 2024-01-02T03:04:05Z, the start of every test clock.
TimePoint TestEpoch();

// A fixed key derived from seed (different seeds give different keys).
RootKey TestRootKey(uint8_t seed = 1);

Resource MakeResource(std::string id, std::string type, std::string parent_id,
                      nlohmann::json body = nlohmann::json::object());

// The whole file, or "" if it does not exist.
std::string ReadFileOrEmpty(const std::string& path);

// True if needle occurs in haystack.
bool Contains(const std::string& haystack, std::string_view needle);

// A direct SQLite connection for white-box checks and tampering.
class RawDb {
 public:
  explicit RawDb(const std::string& path);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  sqlite3* db() const { return db_; }
  // Runs sql; returns the sqlite result code.
  int Exec(const std::string& sql);
  // First column of every row, as text.
  std::vector<std::string> Column(const std::string& sql);

 private:
  sqlite3* db_ = nullptr;
};

// Opens a SQLite store in its own temp dir with a ManualClock.
class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : clock_(TestEpoch()) {}

  void SetUp() override { Open(); }

  SqliteOptions Options() const {
    SqliteOptions o;
    o.data_dir = dir_.path();
    o.busy_timeout_ms = busy_timeout_ms_;
    return o;
  }
  void Open() {
    auto store = OpenSqliteStore(Options(), clock_, TestRootKey());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void Reopen() {
    store_.reset();
    Open();
  }
  std::string DbPath() const { return SqliteDbPath(dir_.path()); }

  TempDir dir_;
  ManualClock clock_;
  int busy_timeout_ms_ = 5000;
  std::unique_ptr<Store> store_;
};

}  // namespace byok::store::test
