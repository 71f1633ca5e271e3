#include "audit/audit.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::audit {
namespace {

using namespace std::chrono_literals;

TimePoint Epoch() { return TimePoint(std::chrono::seconds(1704164645)); }  // 2024-01-02T03:04:05Z

class AuditTest : public ::testing::Test {
 protected:
  AuditTest() : clock_(Epoch()) {
    std::string tmpl = "/tmp/byok-audit-test-XXXXXX";
    if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') {
      tmpl = std::string(t) + "/byok-audit-test-XXXXXX";
    }
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) std::abort();
    dir_ = buf.data();
  }
  ~AuditTest() override {
    log_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void SetUp() override { OpenStore(); }

  void OpenStore() {
    std::vector<uint8_t> key(store::kRootKeySize, 7);
    auto rk = store::RootKey::FromBytes(key);
    ASSERT_TRUE(rk.ok());
    store::SqliteOptions so;
    so.data_dir = dir_;
    auto s = store::OpenSqliteStore(so, clock_, std::move(rk).value());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  void OpenLog(Options o = {}) { log_ = AuditLog::Open(*store_, clock_, o); }

  // Destroys the log and the store, then opens both again.
  void Reopen() {
    log_.reset();
    store_.reset();
    OpenStore();
    OpenLog();
  }

  static Record Rec(std::string vault, std::string op, std::string object = "k1") {
    Record r;
    r.vault = std::move(vault);
    r.operation = std::move(op);
    r.object = std::move(object);
    r.version = "v1";
    r.caller_object_id = "oid-1";
    r.caller_app_id = "app-1";
    r.status = 200;
    r.result = "Success";
    r.request_id = "req";
    r.client_ip = "127.0.0.1";
    return r;
  }

  std::vector<Record> List(Query q = {}) {
    auto r = log_->List(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : std::vector<Record>{};
  }

  static std::vector<std::string> Ops(const std::vector<Record>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs) out.push_back(r.operation);
    return out;
  }

  std::string dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditTest, ListsInTimeOrderWithTheClocksTime) {
  OpenLog();
  log_->Append(Rec("v1", "KeyCreate"));
  clock_.Advance(1s);
  log_->Append(Rec("v1", "KeyWrap"));
  clock_.Advance(1s);
  log_->Append(Rec("v1", "KeyUnwrap"));
  Record explicit_time = Rec("v1", "Earlier");
  explicit_time.time = Epoch() - 1h;
  log_->Append(explicit_time);
  auto all = List();
  EXPECT_EQ(Ops(all), (std::vector<std::string>{"Earlier", "KeyCreate", "KeyWrap", "KeyUnwrap"}));
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].time, Epoch());
  EXPECT_EQ(all[3].time, Epoch() + 2s);
  EXPECT_EQ(all[1].caller_object_id, "oid-1");
  EXPECT_EQ(all[1].caller_app_id, "app-1");
  EXPECT_EQ(all[1].object, "k1");
  EXPECT_EQ(all[1].version, "v1");
  EXPECT_EQ(all[1].status, 200);
  EXPECT_EQ(all[1].result, "Success");
  EXPECT_EQ(all[1].request_id, "req");
  EXPECT_EQ(all[1].client_ip, "127.0.0.1");
}

TEST_F(AuditTest, RecordsAtTheSameInstantKeepAppendOrder) {
  OpenLog();
  for (int i = 0; i < 20; ++i) log_->Append(Rec("v", "op" + std::to_string(i)));
  auto all = List();
  ASSERT_EQ(all.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(all[i].operation, "op" + std::to_string(i));
}

TEST_F(AuditTest, FiltersByVaultCaseInsensitivelyAndSinceInclusively) {
  OpenLog();
  log_->Append(Rec("Alpha", "a1"));
  clock_.Advance(10s);
  log_->Append(Rec("beta", "b1"));
  clock_.Advance(10s);
  log_->Append(Rec("alpha", "a2"));
  Query q;
  q.vault = "ALPHA";
  EXPECT_EQ(Ops(List(q)), (std::vector<std::string>{"a1", "a2"}));
  Query since;
  since.since = Epoch() + 10s;
  EXPECT_EQ(Ops(List(since)), (std::vector<std::string>{"b1", "a2"}));
  since.vault = "alpha";
  EXPECT_EQ(Ops(List(since)), (std::vector<std::string>{"a2"}));
  Query later;
  later.since = Epoch() + 21s;
  EXPECT_TRUE(List(later).empty());
  Query limited;
  limited.limit = 2;
  EXPECT_EQ(Ops(List(limited)), (std::vector<std::string>{"a1", "b1"}));
}

TEST_F(AuditTest, FlushedRecordsSurviveReopeningTheStore) {
  OpenLog();
  log_->Append(Rec("v", "KeyCreate"));
  log_->Append(Rec("v", "KeySign"));
  ASSERT_TRUE(log_->Flush().ok());
  Reopen();
  EXPECT_EQ(Ops(List()), (std::vector<std::string>{"KeyCreate", "KeySign"}));
}

TEST_F(AuditTest, DestroyingTheLogFlushesPendingRecords) {
  Options o;
  o.flush_interval = 1h;  // the writer thread would not get to it
  OpenLog(o);
  log_->Append(Rec("v", "KeyDelete"));
  Reopen();
  EXPECT_EQ(Ops(List()), (std::vector<std::string>{"KeyDelete"}));
}

// A key name comes from the request path and may be any bytes: a record with invalid UTF-8 is
// stored with U+FFFD in its place, and the rest of its batch with it.
TEST_F(AuditTest, InvalidUtf8IsReplacedNotFatal) {
  OpenLog();
  log_->Append(Rec("v", "before"));
  log_->Append(Rec("v", "KeyGet", std::string("k\xff\xfe") + "y"));
  log_->Append(Rec("v", "after"));
  ASSERT_TRUE(log_->Flush().ok());
  auto all = List();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].object, "k\xEF\xBF\xBD\xEF\xBF\xBDy");
  EXPECT_EQ(Ops(all), (std::vector<std::string>{"before", "KeyGet", "after"}));
}

TEST_F(AuditTest, WritesInBatches) {
  Options o;
  o.max_batch = 3;
  OpenLog(o);
  for (int i = 0; i < 10; ++i) log_->Append(Rec("v", "op" + std::to_string(i)));
  ASSERT_TRUE(log_->Flush().ok());
  EXPECT_EQ(List().size(), 10u);
  EXPECT_EQ(log_->dropped(), 0u);
}

TEST_F(AuditTest, FullQueueDropsTheOldestAndCountsThem) {
  Options o;
  o.flush_interval = 1h;
  o.max_queue = 3;
  OpenLog(o);
  for (int i = 0; i < 5; ++i) log_->Append(Rec("v", "op" + std::to_string(i)));
  EXPECT_EQ(log_->dropped(), 2u);
  EXPECT_EQ(Ops(List()), (std::vector<std::string>{"op2", "op3", "op4"}));
}

TEST_F(AuditTest, BackgroundWriterPersistsWithoutFlush) {
  Options o;
  o.flush_interval = 1ms;
  OpenLog(o);
  log_->Append(Rec("v", "KeyGet"));
  // Poll the store (not the log, whose List would flush) until the writer thread got to it.
  bool seen = false;
  for (int i = 0; i < 30000 && !seen; ++i) {
    auto tx = store_->BeginRead();
    ASSERT_TRUE(tx.ok());
    auto page = (*tx)->ListLog("audit");
    ASSERT_TRUE(page.ok());
    seen = !page->empty();
    if (!seen) std::this_thread::yield();
  }
  EXPECT_TRUE(seen);
}

TEST_F(AuditTest, PruneDeletesRecordsOlderThanTheRetention) {
  Options o;
  o.retention = 24h;
  OpenLog(o);
  log_->Append(Rec("v", "old"));
  clock_.Advance(12h);
  log_->Append(Rec("v", "middle"));
  ASSERT_TRUE(log_->Flush().ok());
  clock_.Advance(13h);  // "old" is 25 h old, "middle" 13 h
  log_->Append(Rec("v", "new"));
  auto pruned = log_->Prune();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(Ops(List()), (std::vector<std::string>{"middle", "new"}));
  auto again = log_->Prune();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  clock_.Advance(24h * 91);
  auto all = log_->Prune();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 2);
  EXPECT_TRUE(List().empty());
}

TEST_F(AuditTest, PruneHandlesMoreThanOnePage) {
  Options o;
  o.retention = 1h;
  o.prune_batch = 1000;
  OpenLog(o);
  for (int i = 0; i < 2500; ++i) log_->Append(Rec("v", "op"));
  ASSERT_TRUE(log_->Flush().ok());
  clock_.Advance(2h);
  log_->Append(Rec("v", "kept"));
  auto pruned = log_->Prune();
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 2500);
  EXPECT_EQ(Ops(List()), (std::vector<std::string>{"kept"}));
}

TEST_F(AuditTest, ConcurrentAppendsAreAllRecorded) {
  Options o;
  o.max_batch = 50;
  OpenLog(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) log_->Append(Rec("v" + std::to_string(t), "op"));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(List().size(), 1000u);
  Query q;
  q.vault = "v2";
  EXPECT_EQ(List(q).size(), 250u);
}

TEST(AuditJsonTest, RoundTrips) {
  Record r;
  r.time = Epoch() + 123400ns;
  r.caller_object_id = "oid";
  r.caller_app_id = "app";
  r.vault = "vault";
  r.object = "key";
  r.version = "ver";
  r.operation = "KeyUnwrap";
  r.status = 403;
  r.result = "Forbidden";
  r.request_id = "rid";
  r.client_ip = "::1";
  nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["time"], "2024-01-02T03:04:05.0001234Z");
  EXPECT_EQ(j["callerObjectId"], "oid");
  EXPECT_EQ(j["operation"], "KeyUnwrap");
  EXPECT_EQ(j["status"], 403);
  auto back = FromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->time, r.time);
  EXPECT_EQ(back->caller_app_id, "app");
  EXPECT_EQ(back->vault, "vault");
  EXPECT_EQ(back->object, "key");
  EXPECT_EQ(back->version, "ver");
  EXPECT_EQ(back->status, 403);
  EXPECT_EQ(back->result, "Forbidden");
  EXPECT_EQ(back->request_id, "rid");
  EXPECT_EQ(back->client_ip, "::1");
  EXPECT_FALSE(FromJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(FromJson({{"time", "yesterday"}}).ok());
  EXPECT_FALSE(FromJson({{"time", "2024-01-02T03:04:05Z"}, {"vault", 5}}).ok());
}

}  // namespace
}  // namespace byok::audit
