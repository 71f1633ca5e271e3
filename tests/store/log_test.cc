// Append-only logs (Transaction::AppendLog/ListLog/TrimLog): key order, pagination, trimming,
// input checks, transactions, change_generation, and the schema-2 migration of audit resources.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store_test_helpers.h"

namespace byok::store::test {
namespace {

using ::testing::ElementsAre;

using LogTest = StoreTest;

std::vector<std::string> Keys(const std::vector<LogEntry>& entries) {
  std::vector<std::string> out;
  for (const LogEntry& e : entries) out.push_back(e.key);
  return out;
}

class LogContentTest : public LogTest {
 protected:
  void Append(std::string_view log, std::vector<std::string> keys) {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    for (const std::string& k : keys) ASSERT_OK(txn->AppendLog(log, k, "value of " + k));
    ASSERT_OK(txn->Commit());
  }
  std::vector<std::string> List(std::string_view log, ListOptions o = {}) {
    auto txn = store_->BeginRead();
    EXPECT_TRUE(txn.ok());
    if (!txn.ok()) return {};
    auto entries = (*txn)->ListLog(log, o);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    return entries.ok() ? Keys(*entries) : std::vector<std::string>{};
  }
};

TEST_F(LogContentTest, ListsInByteOrderPerLogWithValues) {
  Append("a", {"02", "10", "01", "B", "b"});
  Append("b", {"00"});
  EXPECT_THAT(List("a"), ElementsAre("01", "02", "10", "B", "b"));
  EXPECT_THAT(List("b"), ElementsAre("00"));
  EXPECT_TRUE(List("c").empty());
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto entries, txn->ListLog("b"));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].value, "value of 00");
}

TEST_F(LogContentTest, BinaryValuesRoundTrip) {
  const std::string value("\0\xff\x01 x", 5);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->AppendLog("l", "k", value));
    ASSERT_OK(txn->Commit());
  }
  Reopen();
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto entries, txn->ListLog("l"));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].value, value);
}

TEST_F(LogContentTest, PaginatesWithAfterAndLimit) {
  Append("l", {"1", "2", "3", "4", "5"});
  ListOptions o;
  o.limit = 2;
  EXPECT_THAT(List("l", o), ElementsAre("1", "2"));
  o.after = "2";
  EXPECT_THAT(List("l", o), ElementsAre("3", "4"));
  o.after = "25";  // not a key: the next key after it
  EXPECT_THAT(List("l", o), ElementsAre("3", "4"));
  o.after = "5";
  EXPECT_TRUE(List("l", o).empty());
}

TEST_F(LogContentTest, DuplicateKeyIsAlreadyExistsAndKeepsTheFirstValue) {
  Append("l", {"k"});
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    EXPECT_TRUE(txn->AppendLog("l", "k", "second").Is(StatusCode::kAlreadyExists));
    ASSERT_OK(txn->AppendLog("other", "k", "same key, other log"));
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto entries, txn->ListLog("l"));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].value, "value of k");
}

TEST_F(LogContentTest, TrimDeletesKeysBeforeTheBoundInPages) {
  Append("l", {"1", "2", "3", "4", "5"});
  Append("m", {"1"});
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK_AND_ASSIGN(int64_t n, txn->TrimLog("l", "4", 2));
  EXPECT_EQ(n, 2);  // "1" and "2": the smallest
  ASSERT_OK_AND_ASSIGN(n, txn->TrimLog("l", "4"));
  EXPECT_EQ(n, 1);  // "3"; "4" is not before "4"
  ASSERT_OK_AND_ASSIGN(n, txn->TrimLog("l", "4"));
  EXPECT_EQ(n, 0);
  ASSERT_OK(txn->Commit());
  EXPECT_THAT(List("l"), ElementsAre("4", "5"));
  EXPECT_THAT(List("m"), ElementsAre("1"));
}

TEST_F(LogContentTest, RolledBackAppendsLeaveNothing) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->AppendLog("l", "k", "v"));
    txn->Rollback();
  }
  EXPECT_TRUE(List("l").empty());
}

TEST_F(LogTest, RejectsBadNamesKeysAndWritesInReadTransactions) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  EXPECT_TRUE(txn->AppendLog("", "k", "v").Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn->AppendLog("l", "", "v").Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn->AppendLog("l", std::string("a\0b", 3), "v").Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn->ListLog("").status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn->TrimLog("", "k").status().Is(StatusCode::kInvalidArgument));
  ASSERT_OK(txn->Commit());
  EXPECT_TRUE(txn->AppendLog("l", "k", "v").Is(StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  EXPECT_TRUE(read->AppendLog("l", "k", "v").Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(read->TrimLog("l", "k").status().Is(StatusCode::kFailedPrecondition));
}

TEST_F(LogTest, LogWritesDoNotAdvanceTheChangeGeneration) {
  const uint64_t g0 = store_->change_generation();
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->AppendLog("l", "k", "v"));
    ASSERT_OK_AND_ASSIGN(int64_t n, txn->TrimLog("l", "z"));
    EXPECT_EQ(n, 1);
    ASSERT_OK(txn->Commit());
  }
  EXPECT_EQ(store_->change_generation(), g0);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->AppendLog("l", "k", "v"));
    ASSERT_OK(txn->PutMeta("m", "v"));
    ASSERT_OK(txn->Commit());
  }
  EXPECT_GT(store_->change_generation(), g0) << "a transaction that also wrote meta";
}

// A data directory written by a schema-1 build keeps its audit records: migration 2 moves the
// resources '/byok/audit/{key}' of type 'byok.audit' into the log "audit" and leaves every other
// resource alone.
TEST_F(LogTest, MigrationTwoMovesSchemaOneAuditRecords) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource("/byok/audit/00000000000000000001-00000007", "byok.audit",
                                    "/byok/audit", {{"operation", "KeyWrap"}})));
    ASSERT_OK(txn->Put(MakeResource("/byok/audit/00000000000000000002-00000008", "byok.audit",
                                    "/byok/audit", {{"operation", "KeyUnwrap"}})));
    ASSERT_OK(txn->Put(MakeResource("/byok/other/x", "byok.audit", "/byok/other")));
    ASSERT_OK(txn->Put(MakeResource("/subscriptions/s", "Microsoft.Resources/subscriptions", "")));
    ASSERT_OK(txn->Commit());
  }
  store_.reset();
  {
    // Back to schema 1.
    RawDb raw(DbPath());
    ASSERT_EQ(raw.Exec("DROP TABLE log_entries; DELETE FROM schema_migrations WHERE version > 1"),
              SQLITE_OK);
  }
  Open();
  EXPECT_EQ(store_->SchemaVersion(), kSqliteSchemaVersion);
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto entries, txn->ListLog("audit"));
  EXPECT_THAT(Keys(entries),
              ElementsAre("00000000000000000001-00000007", "00000000000000000002-00000008"));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(entries[1].value)["operation"], "KeyUnwrap");
  ASSERT_OK_AND_ASSIGN(auto left, txn->ListByType("byok.audit"));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, "/byok/other/x");
  ASSERT_OK_AND_ASSIGN(auto sub, txn->Get("/subscriptions/s"));
  EXPECT_TRUE(sub.has_value());
}

}  // namespace
}  // namespace byok::store::test
