// The SQLite backend: file layout and modes, pragmas, migrations, refusing newer schemas and
// foreign files, persistence across reopen.

#include <sys/stat.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store_test_helpers.h"

namespace byok::store::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using SqliteStoreTest = StoreTest;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return static_cast<mode_t>(-1);
  return st.st_mode & 07777;
}

TEST_F(SqliteStoreTest, FreshDatabaseLayout) {
  EXPECT_EQ(store_->SchemaVersion(), kSqliteSchemaVersion);
  EXPECT_EQ(ModeOf(DbPath()), 0600u);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->PutMeta("k", "v"));
    ASSERT_OK(txn->Commit());
  }
  EXPECT_EQ(ModeOf(DbPath() + "-wal"), 0600u);
  RawDb raw(DbPath());
  EXPECT_THAT(raw.Column("PRAGMA journal_mode"), ElementsAre("wal"));
  EXPECT_THAT(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"),
              ElementsAre("log_entries", "meta", "resources", "schema_migrations", "secrets"));
  EXPECT_THAT(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE "
                         "'sqlite_autoindex%' ORDER BY name"),
              ElementsAre("resources_by_parent", "resources_by_type"));
  EXPECT_THAT(raw.Column("SELECT version FROM schema_migrations ORDER BY version"),
              ElementsAre("1", "2"));
  EXPECT_OK(store_->CheckIntegrity());
}

TEST_F(SqliteStoreTest, CreatesMissingDataDirectoryPrivately) {
  const std::string nested = dir_.File("a/b/data");
  SqliteOptions o = Options();
  o.data_dir = nested;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(o, clock_, TestRootKey()));
  EXPECT_EQ(ModeOf(nested), 0700u);
  EXPECT_EQ(ModeOf(SqliteDbPath(nested)), 0600u);
}

TEST_F(SqliteStoreTest, ListQueriesUseTheIndexes) {
  RawDb raw(DbPath());
  auto plan = [&](const std::string& sql) {
    std::string all;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(
        sqlite3_prepare_v2(raw.db(), ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr),
        SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      all += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      all += "\n";
    }
    sqlite3_finalize(stmt);
    return all;
  };
  EXPECT_THAT(plan("SELECT * FROM resources WHERE 1 AND parent_norm_id = 'p' ORDER BY norm_id"),
              HasSubstr("resources_by_parent"));
  EXPECT_THAT(plan("SELECT * FROM resources WHERE 1 AND norm_type = 't' ORDER BY norm_id"),
              HasSubstr("resources_by_type"));
}

TEST_F(SqliteStoreTest, MigrationsRunOnceAndReopenIsIdempotent) {
  auto applied = [&] {
    RawDb raw(DbPath());
    return raw.Column(
        "SELECT version || ':' || applied_ns FROM schema_migrations ORDER BY version");
  };
  std::vector<std::string> first = applied();
  ASSERT_EQ(first.size(), static_cast<size_t>(kSqliteSchemaVersion));
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(std::chrono::hours(1));
    Reopen();
    EXPECT_EQ(store_->SchemaVersion(), kSqliteSchemaVersion);
    EXPECT_EQ(applied(), first);
  }
}

TEST_F(SqliteStoreTest, DataSurvivesReopen) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource("/subscriptions/S", "Microsoft.Resources/subscriptions", "",
                                    {{"state", "Enabled"}})));
    ASSERT_OK(txn->PutSecret("s", AsBytes("v")));
    ASSERT_OK(txn->Commit());
  }
  Reopen();
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto sub, txn->Get("/SUBSCRIPTIONS/s"));
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->body["state"], "Enabled");
  EXPECT_EQ(sub->created, TestEpoch());
  ASSERT_OK_AND_ASSIGN(SecretBytes v, txn->GetSecret("s"));
  EXPECT_EQ(ToString(v.span()), "v");
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  store_.reset();
  {
    RawDb raw(DbPath());
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations (version, description, applied_ns) VALUES (" +
                       std::to_string(kSqliteSchemaVersion + 1) + ", 'from the future', 0)"),
              SQLITE_OK);
  }
  Result<std::unique_ptr<Store>> s = OpenSqliteStore(Options(), clock_, TestRootKey());
  EXPECT_TRUE(s.status().Is(StatusCode::kFailedPrecondition)) << s.status().ToString();
  EXPECT_THAT(s.status().message(), HasSubstr("newer than this build"));
  // Refusing must not have changed the database.
  RawDb raw(DbPath());
  EXPECT_THAT(raw.Column("SELECT max(version) FROM schema_migrations"),
              ElementsAre(std::to_string(kSqliteSchemaVersion + 1)));
}

TEST(SqliteStoreOpenTest, ForeignFileIsDataLoss) {
  TempDir dir;
  {
    std::ofstream out(SqliteDbPath(dir.path()), std::ios::binary);
    out << std::string(8192, 'x');
  }
  ManualClock clock(TestEpoch());
  SqliteOptions o;
  o.data_dir = dir.path();
  Result<std::unique_ptr<Store>> s = OpenSqliteStore(o, clock, TestRootKey());
  EXPECT_TRUE(s.status().Is(StatusCode::kDataLoss)) << s.status().ToString();
}

TEST(SqliteStoreOpenTest, RejectsBadOptions) {
  ManualClock clock(TestEpoch());
  EXPECT_TRUE(OpenSqliteStore(SqliteOptions{}, clock, TestRootKey())
                  .status()
                  .Is(StatusCode::kInvalidArgument));
  TempDir dir;
  SqliteOptions o;
  o.data_dir = dir.path();
  o.busy_timeout_ms = -1;
  EXPECT_TRUE(OpenSqliteStore(o, clock, TestRootKey()).status().Is(StatusCode::kInvalidArgument));
}

TEST(SqliteStoreOpenTest, TwoStoresOnOneDirectoryShareData) {
  // Like two processes (byokd and the CLI) on one data dir.
  TempDir dir;
  ManualClock clock(TestEpoch());
  SqliteOptions o;
  o.data_dir = dir.path();
  ASSERT_OK_AND_ASSIGN(auto a, OpenSqliteStore(o, clock, TestRootKey()));
  ASSERT_OK_AND_ASSIGN(auto b, OpenSqliteStore(o, clock, TestRootKey()));
  {
    ASSERT_OK_AND_ASSIGN(auto txn, a->Begin());
    ASSERT_OK(txn->PutSecret("shared", AsBytes("x")));
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto txn, b->BeginRead());
  ASSERT_OK_AND_ASSIGN(SecretBytes v, txn->GetSecret("shared"));
  EXPECT_EQ(ToString(v.span()), "x");
}

TEST_F(SqliteStoreTest, CorruptionIsReportedByCheckIntegrity) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    for (int i = 0; i < 200; ++i) {
      ASSERT_OK(txn->Put(
          MakeResource("/r/" + std::to_string(i), "t", "/r", {{"pad", std::string(200, 'p')}})));
    }
    ASSERT_OK(txn->Commit());
  }
  store_.reset();  // checkpoint into byok.db
  int page = 0;
  int page_size = 0;
  {
    RawDb raw(DbPath());
    page = std::stoi(
        raw.Column("SELECT rootpage FROM sqlite_schema WHERE name = 'resources_by_type'").at(0));
    page_size = std::stoi(raw.Column("PRAGMA page_size").at(0));
    ASSERT_EQ(raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
  }
  {
    // Overwrite the index's root page with zeros, behind SQLite's back.
    std::fstream f(DbPath(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(page - 1) * page_size);
    f << std::string(static_cast<size_t>(page_size), '\0');
  }
  Open();
  Status s = store_->CheckIntegrity();
  EXPECT_TRUE(s.Is(StatusCode::kDataLoss)) << s.ToString();
}

}  // namespace
}  // namespace byok::store::test
