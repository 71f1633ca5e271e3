#include "store/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iterator>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/files.h"
#include "store/backend.h"
#include "store/sqlite_conn.h"

namespace byok::store {
namespace {

using sqlite::SqliteConn;
using sqlite::Stmt;

// The value to bind to LIMIT for a list limit: 0 (unlimited) is SQLite's -1.
int64_t SqlLimit(size_t limit) { return limit == 0 ? -1 : static_cast<int64_t>(limit); }

// ---------------------------------------------------------------------------------------------
// Schema migrations. Append only: never edit a migration that has shipped; add the next version.
// Each is applied exactly once, in its own transaction together with its schema_migrations row.

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE resources (
  norm_id        TEXT PRIMARY KEY NOT NULL,  -- NormalizeId(id)
  id             TEXT NOT NULL,              -- as created, case preserved
  type           TEXT NOT NULL,
  norm_type      TEXT NOT NULL,
  parent_norm_id TEXT NOT NULL,              -- '' for top-level resources
  parent_id      TEXT NOT NULL,
  etag           TEXT NOT NULL,
  created_ns     INTEGER NOT NULL,           -- nanoseconds since the Unix epoch
  updated_ns     INTEGER NOT NULL,
  body           TEXT NOT NULL               -- JSON
);
CREATE INDEX resources_by_parent ON resources (parent_norm_id, norm_id);
CREATE INDEX resources_by_type ON resources (norm_type, norm_id);
CREATE TABLE secrets (
  name       TEXT PRIMARY KEY NOT NULL,
  sealed     BLOB NOT NULL,                  -- docs/formats/sealed.md; never plaintext
  created_ns INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL
);
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
);
)sql"},
    {2, "append-only logs; audit records move there", R"sql(
CREATE TABLE log_entries (
  log   TEXT NOT NULL,
  key   TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (log, key)
) WITHOUT ROWID;
-- Schema 1 kept each audit record as a resource '/byok/audit/{key}' of type 'byok.audit'; the
-- audit log (src/audit) now keeps them in the log 'audit' under the same key.
INSERT INTO log_entries (log, key, value)
  SELECT 'audit', substr(norm_id, 13), CAST(body AS BLOB) FROM resources
  WHERE norm_type = 'byok.audit' AND substr(norm_id, 1, 12) = '/byok/audit/';
DELETE FROM resources WHERE norm_type = 'byok.audit' AND substr(norm_id, 1, 12) = '/byok/audit/';
)sql"},
};

constexpr bool MigrationsAreContiguous() {
  int v = 0;
  for (const Migration& m : kMigrations) {
    if (m.version != ++v) return false;
  }
  return v == kSqliteSchemaVersion;
}
static_assert(MigrationsAreContiguous(), "kMigrations must be versions 1..kSqliteSchemaVersion");

// ---------------------------------------------------------------------------------------------
// Connection pool and writer serialization.

class Pool {
 public:
  Pool(std::string path, const SqliteOptions& options)
      : path_(std::move(path)),
        busy_timeout_ms_(options.busy_timeout_ms),
        max_idle_(static_cast<size_t>(std::max(options.max_idle_connections, 0))) {}

  const std::string& path() const { return path_; }

  Result<std::unique_ptr<SqliteConn>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<SqliteConn> conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
    }
    return OpenConnection();
  }

  // Returns conn for reuse. A connection still inside a transaction is closed instead (closing
  // rolls the transaction back).
  void Release(std::unique_ptr<SqliteConn> conn) {
    if (conn == nullptr || conn->InTransaction()) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
    // Otherwise the parameter closes the connection, after mu_ is released.
  }

  // In-process writers queue here instead of polling SQLite's busy handler; the database lock
  // (BEGIN IMMEDIATE) still serializes against other processes.
  Status AcquireWriter() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(busy_timeout_ms_),
                      [this] { return !writer_active_; })) {
      return Status::Unavailable(
          fmt::format("database is busy: another write transaction stayed open longer than {} ms",
                      busy_timeout_ms_));
    }
    writer_active_ = true;
    return Status::Ok();
  }

  void ReleaseWriter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      writer_active_ = false;
    }
    cv_.notify_one();
  }

 private:
  Result<std::unique_ptr<SqliteConn>> OpenConnection() {
    BYOK_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> conn, SqliteConn::Open(path_));
    sqlite3_busy_timeout(conn->db(), busy_timeout_ms_);
    // synchronous=FULL: in WAL mode NORMAL may lose the last committed transactions on power loss
    // (not on a process crash); the store promises that a committed write is durable, and the
    // write rate of a control plane makes the extra fsync per commit cheap.
    BYOK_TRY(conn->Exec(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA trusted_schema = OFF;"));
    BYOK_ASSIGN_OR_RETURN(std::string mode, conn->QueryText("PRAGMA journal_mode = WAL"));
    if (mode != "wal") {
      return Status::Internal(
          fmt::format("cannot put {} in WAL mode (journal_mode is '{}')", path_, mode));
    }
    return conn;
  }

  const std::string path_;
  const int busy_timeout_ms_;
  const size_t max_idle_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool writer_active_ = false;
  std::vector<std::unique_ptr<SqliteConn>> idle_;
};

// ---------------------------------------------------------------------------------------------
// One transaction on one pooled connection.

constexpr char kResourceColumns[] =
    "norm_id, id, type, norm_type, parent_norm_id, parent_id, etag, created_ns, updated_ns, body";

const Status& StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

// The smallest string greater than every string that starts with prefix, or nullopt if there is
// none (prefix is all 0xff bytes).
std::optional<std::string> PrefixUpperBound(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

class SqliteTxn final : public TransactionBackend {
 public:
  SqliteTxn(std::shared_ptr<Pool> pool, std::unique_ptr<SqliteConn> conn, bool writer)
      : pool_(std::move(pool)), conn_(std::move(conn)), writer_(writer) {}

  ~SqliteTxn() override { Rollback(); }

  // Opens the database transaction ("BEGIN IMMEDIATE" or "BEGIN"). On failure the SqliteTxn is
  // finished (connection and writer slot given back).
  Status Start(const char* begin_sql) {
    Status s = conn_->Exec(begin_sql);
    if (!s.ok()) Finish();
    return s;
  }

  Result<std::optional<ResourceRecord>> GetResource(const std::string& norm_id) override {
    return Guarded([&]() -> Result<std::optional<ResourceRecord>> {
      BYOK_ASSIGN_OR_RETURN(
          auto stmt, conn_->Prepare(fmt::format("SELECT {} FROM resources WHERE norm_id = ?1",
                                                kResourceColumns)));
      BYOK_TRY(stmt->BindText(1, norm_id));
      BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) return std::optional<ResourceRecord>();
      return std::optional<ResourceRecord>(ReadResource(*stmt));
    });
  }

  Status InsertResource(const ResourceRecord& r) override {
    return Guarded([&]() -> Status {
      BYOK_ASSIGN_OR_RETURN(auto stmt,
                            conn_->Prepare(fmt::format("INSERT INTO resources ({}) VALUES "
                                                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                                       kResourceColumns)));
      BYOK_TRY(BindResource(*stmt, r));
      Status s = stmt->Run();
      if (s.Is(StatusCode::kAlreadyExists)) {
        return Status::AlreadyExists(fmt::format("resource '{}' already exists", r.id));
      }
      return s;
    });
  }

  Status UpdateResource(const ResourceRecord& r) override {
    return Guarded([&]() -> Status {
      BYOK_ASSIGN_OR_RETURN(
          auto stmt,
          conn_->Prepare("UPDATE resources SET id = ?2, type = ?3, norm_type = ?4, "
                         "parent_norm_id = ?5, parent_id = ?6, etag = ?7, created_ns = ?8, "
                         "updated_ns = ?9, body = ?10 WHERE norm_id = ?1"));
      BYOK_TRY(BindResource(*stmt, r));
      BYOK_TRY(stmt->Run());
      if (sqlite3_changes64(conn_->db()) != 1) {
        return Status::Internal(fmt::format("update of '{}' matched no row", r.id));
      }
      return Status::Ok();
    });
  }

  Result<bool> DeleteResource(const std::string& norm_id) override {
    return Guarded([&]() -> Result<bool> {
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare("DELETE FROM resources WHERE norm_id = ?1"));
      BYOK_TRY(stmt->BindText(1, norm_id));
      BYOK_TRY(stmt->Run());
      return sqlite3_changes64(conn_->db()) > 0;
    });
  }

  Result<std::vector<ResourceRecord>> ListResources(const ResourceQuery& q) override {
    return Guarded([&]() -> Result<std::vector<ResourceRecord>> {
      // The SQL text is assembled from constant fragments only; every value is a bound parameter.
      std::string sql = fmt::format("SELECT {} FROM resources WHERE 1", kResourceColumns);
      std::vector<std::string> params;
      if (q.parent_norm_id) {
        sql += " AND parent_norm_id = ?";
        params.push_back(*q.parent_norm_id);
      }
      if (q.norm_type) {
        sql += " AND norm_type = ?";
        params.push_back(*q.norm_type);
      }
      if (q.scope) {
        // Byte order: exactly the strings starting with scope + "/" lie in
        // [scope + "/", scope + "0") because '0' follows '/'.
        sql += " AND (norm_id = ? OR (norm_id >= ? AND norm_id < ?))";
        params.push_back(*q.scope);
        params.push_back(*q.scope + "/");
        params.push_back(*q.scope + "0");
      }
      if (!q.after.empty()) {
        sql += " AND norm_id > ?";
        params.push_back(q.after);
      }
      sql += " ORDER BY norm_id LIMIT ?";
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
      int i = 0;
      for (const std::string& p : params) BYOK_TRY(stmt->BindText(++i, p));
      BYOK_TRY(stmt->BindInt(++i, SqlLimit(q.limit)));
      std::vector<ResourceRecord> out;
      for (;;) {
        BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
        if (!row) break;
        out.push_back(ReadResource(*stmt));
      }
      return out;
    });
  }

  Result<int64_t> DeleteResourcesInScope(const std::string& scope) override {
    return Guarded([&]() -> Result<int64_t> {
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare("DELETE FROM resources WHERE norm_id = ?1 OR "
                                                      "(norm_id >= ?2 AND norm_id < ?3)"));
      BYOK_TRY(stmt->BindText(1, scope));
      BYOK_TRY(stmt->BindText(2, scope + "/"));
      BYOK_TRY(stmt->BindText(3, scope + "0"));
      BYOK_TRY(stmt->Run());
      return static_cast<int64_t>(sqlite3_changes64(conn_->db()));
    });
  }

  Result<std::optional<std::vector<uint8_t>>> GetSecret(const std::string& name) override {
    return Guarded([&]() -> Result<std::optional<std::vector<uint8_t>>> {
      BYOK_ASSIGN_OR_RETURN(auto stmt,
                            conn_->Prepare("SELECT sealed FROM secrets WHERE name = ?1"));
      BYOK_TRY(stmt->BindText(1, name));
      BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) return std::optional<std::vector<uint8_t>>();
      return std::optional<std::vector<uint8_t>>(stmt->ColumnBlob(0));
    });
  }

  Status PutSecret(const std::string& name, std::span<const uint8_t> sealed,
                   int64_t now_ns) override {
    return Guarded([&]() -> Status {
      BYOK_ASSIGN_OR_RETURN(
          auto stmt, conn_->Prepare("INSERT INTO secrets (name, sealed, created_ns, updated_ns) "
                                    "VALUES (?1, ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE SET "
                                    "sealed = excluded.sealed, updated_ns = excluded.updated_ns"));
      BYOK_TRY(stmt->BindText(1, name));
      BYOK_TRY(stmt->BindBlob(2, sealed));
      BYOK_TRY(stmt->BindInt(3, now_ns));
      return stmt->Run();
    });
  }

  Result<bool> DeleteSecret(const std::string& name) override {
    return Guarded([&]() -> Result<bool> {
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare("DELETE FROM secrets WHERE name = ?1"));
      BYOK_TRY(stmt->BindText(1, name));
      BYOK_TRY(stmt->Run());
      return sqlite3_changes64(conn_->db()) > 0;
    });
  }

  Result<std::vector<std::string>> ListSecrets(const std::string& prefix, const std::string& after,
                                               size_t limit) override {
    return Guarded([&]() -> Result<std::vector<std::string>> {
      std::string sql = "SELECT name FROM secrets WHERE 1";
      std::vector<std::string> params;
      if (!prefix.empty()) {
        sql += " AND name >= ?";
        params.push_back(prefix);
        if (std::optional<std::string> upper = PrefixUpperBound(prefix)) {
          sql += " AND name < ?";
          params.push_back(std::move(*upper));
        }
      }
      if (!after.empty()) {
        sql += " AND name > ?";
        params.push_back(after);
      }
      sql += " ORDER BY name LIMIT ?";
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
      int i = 0;
      for (const std::string& p : params) BYOK_TRY(stmt->BindText(++i, p));
      BYOK_TRY(stmt->BindInt(++i, SqlLimit(limit)));
      std::vector<std::string> out;
      for (;;) {
        BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
        if (!row) break;
        out.push_back(stmt->ColumnText(0));
      }
      return out;
    });
  }

  Result<std::optional<std::string>> GetMeta(const std::string& key) override {
    return Guarded([&]() -> Result<std::optional<std::string>> {
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare("SELECT value FROM meta WHERE key = ?1"));
      BYOK_TRY(stmt->BindText(1, key));
      BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) return std::optional<std::string>();
      std::vector<uint8_t> v = stmt->ColumnBlob(0);
      return std::optional<std::string>(std::string(v.begin(), v.end()));
    });
  }

  Status PutMeta(const std::string& key, std::string_view value) override {
    return Guarded([&]() -> Status {
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare("INSERT INTO meta (key, value) VALUES "
                                                      "(?1, ?2) ON CONFLICT (key) DO UPDATE "
                                                      "SET value = excluded.value"));
      BYOK_TRY(stmt->BindText(1, key));
      BYOK_TRY(stmt->BindBlob(2, {reinterpret_cast<const uint8_t*>(value.data()), value.size()}));
      return stmt->Run();
    });
  }

  Result<bool> DeleteMeta(const std::string& key) override {
    return Guarded([&]() -> Result<bool> {
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare("DELETE FROM meta WHERE key = ?1"));
      BYOK_TRY(stmt->BindText(1, key));
      BYOK_TRY(stmt->Run());
      return sqlite3_changes64(conn_->db()) > 0;
    });
  }

  Status AppendLogEntry(const std::string& log, const std::string& key,
                        std::string_view value) override {
    return Guarded([&]() -> Status {
      BYOK_ASSIGN_OR_RETURN(
          auto stmt,
          conn_->Prepare("INSERT INTO log_entries (log, key, value) VALUES (?1, ?2, ?3)"));
      BYOK_TRY(stmt->BindText(1, log));
      BYOK_TRY(stmt->BindText(2, key));
      BYOK_TRY(stmt->BindBlob(3, {reinterpret_cast<const uint8_t*>(value.data()), value.size()}));
      Status s = stmt->Run();
      if (s.Is(StatusCode::kAlreadyExists)) {
        return Status::AlreadyExists(fmt::format("log '{}' already has key '{}'", log, key));
      }
      return s;
    });
  }

  Result<std::vector<LogEntry>> ListLogEntries(const std::string& log, const std::string& after,
                                               size_t limit) override {
    return Guarded([&]() -> Result<std::vector<LogEntry>> {
      BYOK_ASSIGN_OR_RETURN(auto stmt,
                            conn_->Prepare("SELECT key, value FROM log_entries WHERE log = ?1 AND "
                                           "key > ?2 ORDER BY key LIMIT ?3"));
      BYOK_TRY(stmt->BindText(1, log));
      BYOK_TRY(stmt->BindText(2, after));
      BYOK_TRY(stmt->BindInt(3, SqlLimit(limit)));
      std::vector<LogEntry> out;
      while (true) {
        BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
        if (!row) break;
        std::vector<uint8_t> v = stmt->ColumnBlob(1);
        out.push_back(LogEntry{stmt->ColumnText(0), std::string(v.begin(), v.end())});
      }
      return out;
    });
  }

  Result<int64_t> TrimLogEntries(const std::string& log, const std::string& before,
                                 size_t limit) override {
    return Guarded([&]() -> Result<int64_t> {
      BYOK_ASSIGN_OR_RETURN(
          auto stmt,
          conn_->Prepare("DELETE FROM log_entries WHERE log = ?1 AND key IN (SELECT key FROM "
                         "log_entries WHERE log = ?1 AND key < ?2 ORDER BY key LIMIT ?3)"));
      BYOK_TRY(stmt->BindText(1, log));
      BYOK_TRY(stmt->BindText(2, before));
      BYOK_TRY(stmt->BindInt(3, SqlLimit(limit)));
      BYOK_TRY(stmt->Run());
      return static_cast<int64_t>(sqlite3_changes64(conn_->db()));
    });
  }

  Status Commit() override {
    if (conn_ == nullptr) return Status::FailedPrecondition("transaction is already finished");
    Status s = aborted_ ? Status::Aborted("transaction was rolled back by the database")
                        : conn_->Exec("COMMIT");
    if (!s.ok()) {
      s = s.WithContext("commit");
      if (conn_->InTransaction()) (void)conn_->Exec("ROLLBACK");
    }
    Finish();
    return s;
  }

  void Rollback() override {
    if (conn_ == nullptr) return;
    if (conn_->InTransaction() && !conn_->Exec("ROLLBACK").ok()) {
      conn_.reset();  // closing the connection rolls back whatever is left
    }
    Finish();
  }

 private:
  // Runs op unless the transaction is already dead; if op fails and SQLite has rolled the whole
  // transaction back on its own (possible after I/O errors, SQLITE_FULL, ...), marks it dead.
  template <typename F>
  auto Guarded(F&& op) -> decltype(op()) {
    if (conn_ == nullptr) return Status::FailedPrecondition("transaction is already finished");
    if (aborted_) return Status::Aborted("transaction was rolled back by the database");
    auto result = op();
    if (!result.ok() && !conn_->InTransaction()) {
      aborted_ = true;
      return Status::Aborted(fmt::format("transaction was rolled back by the database: {}",
                                         StatusOf(result).ToString()));
    }
    return result;
  }

  static Status BindResource(Stmt& stmt, const ResourceRecord& r) {
    BYOK_TRY(stmt.BindText(1, r.norm_id));
    BYOK_TRY(stmt.BindText(2, r.id));
    BYOK_TRY(stmt.BindText(3, r.type));
    BYOK_TRY(stmt.BindText(4, r.norm_type));
    BYOK_TRY(stmt.BindText(5, r.parent_norm_id));
    BYOK_TRY(stmt.BindText(6, r.parent_id));
    BYOK_TRY(stmt.BindText(7, r.etag));
    BYOK_TRY(stmt.BindInt(8, r.created_ns));
    BYOK_TRY(stmt.BindInt(9, r.updated_ns));
    BYOK_TRY(stmt.BindText(10, r.body_json));
    return Status::Ok();
  }

  static ResourceRecord ReadResource(const Stmt& stmt) {
    ResourceRecord r;
    r.norm_id = stmt.ColumnText(0);
    r.id = stmt.ColumnText(1);
    r.type = stmt.ColumnText(2);
    r.norm_type = stmt.ColumnText(3);
    r.parent_norm_id = stmt.ColumnText(4);
    r.parent_id = stmt.ColumnText(5);
    r.etag = stmt.ColumnText(6);
    r.created_ns = stmt.ColumnInt(7);
    r.updated_ns = stmt.ColumnInt(8);
    r.body_json = stmt.ColumnText(9);
    return r;
  }

  // Returns the connection to the pool (or drops it) and frees the writer slot.
  void Finish() {
    pool_->Release(std::move(conn_));
    conn_.reset();
    if (writer_) {
      writer_ = false;
      pool_->ReleaseWriter();
    }
  }

  std::shared_ptr<Pool> pool_;
  std::unique_ptr<SqliteConn> conn_;  // null once finished
  bool writer_;
  bool aborted_ = false;
};

// Begins a write transaction: the in-process writer slot, a connection, BEGIN IMMEDIATE.
Result<std::unique_ptr<SqliteTxn>> BeginWrite(const std::shared_ptr<Pool>& pool) {
  BYOK_TRY(pool->AcquireWriter());
  Result<std::unique_ptr<SqliteConn>> conn = pool->Acquire();
  if (!conn.ok()) {
    pool->ReleaseWriter();
    return conn.status();
  }
  // From here on the SqliteTxn owns the slot and the connection and gives both back.
  auto txn = std::make_unique<SqliteTxn>(pool, std::move(*conn), /*writer=*/true);
  BYOK_TRY(txn->Start("BEGIN IMMEDIATE"));
  return txn;
}

// ---------------------------------------------------------------------------------------------
// Opening.

Result<int> CurrentVersion(SqliteConn& conn) {
  BYOK_ASSIGN_OR_RETURN(auto stmt,
                        conn.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Status::Internal("no schema version");
  return static_cast<int>(stmt->ColumnInt(0));
}

// Applies one pending migration, if any, in its own transaction. Returns the schema version
// afterwards and whether anything was applied.
Result<std::pair<int, bool>> MigrateOneStep(SqliteConn& conn, const std::string& path,
                                            const Clock& clock) {
  BYOK_TRY(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY NOT NULL, description TEXT NOT NULL, "
                "applied_ns INTEGER NOT NULL)"));
  BYOK_ASSIGN_OR_RETURN(int current, CurrentVersion(conn));
  if (current > kSqliteSchemaVersion) {
    return Status::FailedPrecondition(fmt::format(
        "database {} has schema version {}, newer than this build of byok supports ({}); "
        "upgrade byok or point it at another data directory",
        path, current, kSqliteSchemaVersion));
  }
  if (current == kSqliteSchemaVersion) return std::pair<int, bool>(current, false);
  const Migration& m = kMigrations[current];  // versions are 1..N, contiguous
  Status s = conn.Exec(m.sql);
  if (!s.ok()) {
    return s.WithContext(fmt::format("schema migration {} ({})", m.version, m.description));
  }
  BYOK_ASSIGN_OR_RETURN(auto stmt, conn.Prepare("INSERT INTO schema_migrations (version, "
                                                "description, applied_ns) VALUES (?1, ?2, ?3)"));
  BYOK_TRY(stmt->BindInt(1, m.version));
  BYOK_TRY(stmt->BindText(2, m.description));
  BYOK_TRY(stmt->BindInt(
      3, std::chrono::duration_cast<std::chrono::nanoseconds>(clock.Now().time_since_epoch())
             .count()));
  BYOK_TRY(stmt->Run());
  return std::pair<int, bool>(m.version, true);
}

Result<int> Migrate(Pool& pool, const std::string& path, const Clock& clock) {
  BYOK_TRY(pool.AcquireWriter());
  Result<std::unique_ptr<SqliteConn>> conn = pool.Acquire();
  if (!conn.ok()) {
    pool.ReleaseWriter();
    return conn.status();
  }
  Result<int> version = Status::Internal("unreachable");
  for (;;) {
    Status s = (*conn)->Exec("BEGIN IMMEDIATE");
    if (!s.ok()) {
      version = s;
      break;
    }
    Result<std::pair<int, bool>> step = MigrateOneStep(**conn, path, clock);
    if (step.ok()) s = (*conn)->Exec("COMMIT");
    if (!step.ok() || !s.ok()) {
      if ((*conn)->InTransaction()) (void)(*conn)->Exec("ROLLBACK");
      version = step.ok() ? s : step.status();
      break;
    }
    if (!step->second) {
      version = step->first;
      break;
    }
  }
  pool.Release(std::move(*conn));
  pool.ReleaseWriter();
  return version;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::shared_ptr<Pool> pool, std::shared_ptr<const StoreContext> context, int version)
      : pool_(std::move(pool)), context_(std::move(context)), version_(version) {}

  Result<std::unique_ptr<Transaction>> Begin() override {
    BYOK_ASSIGN_OR_RETURN(std::unique_ptr<SqliteTxn> txn, BeginWrite(pool_));
    return std::make_unique<Transaction>(std::move(txn), context_, /*read_only=*/false);
  }

  Result<std::unique_ptr<Transaction>> BeginRead() override {
    BYOK_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> conn, pool_->Acquire());
    auto txn = std::make_unique<SqliteTxn>(pool_, std::move(conn), /*writer=*/false);
    // A deferred transaction takes its snapshot at its first read; read now so the snapshot is
    // the state at BeginRead().
    BYOK_TRY(txn->Start("BEGIN"));
    BYOK_ASSIGN_OR_RETURN(std::optional<std::string> ignored, txn->GetMeta(kCanaryMetaKey));
    (void)ignored;
    return std::make_unique<Transaction>(std::move(txn), context_, /*read_only=*/true);
  }

  uint64_t change_generation() const override {
    return context_->change_generation.load(std::memory_order_acquire);
  }

  int SchemaVersion() const override { return version_; }

  Status CheckIntegrity() override {
    BYOK_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> conn, pool_->Acquire());
    std::string problems;
    {
      BYOK_ASSIGN_OR_RETURN(auto stmt, conn->Prepare("PRAGMA integrity_check"));
      for (;;) {
        BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
        if (!row) break;
        std::string line = stmt->ColumnText(0);
        if (line == "ok") continue;
        if (!problems.empty()) problems += "; ";
        problems += line;
      }
    }
    pool_->Release(std::move(conn));
    if (!problems.empty()) {
      return Status::DataLoss(
          fmt::format("integrity check of {} failed: {}", pool_->path(), problems));
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<Pool> pool_;
  std::shared_ptr<const StoreContext> context_;
  const int version_;
};

}  // namespace

std::string SqliteDbPath(const std::string& data_dir) { return data_dir + "/" + kSqliteDbFileName; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options, const Clock& clock,
                                               RootKey root_key) {
  if (options.data_dir.empty()) return Status::InvalidArgument("SqliteOptions.data_dir is empty");
  if (options.busy_timeout_ms < 0) return Status::InvalidArgument("busy_timeout_ms is negative");
  if (root_key.bytes().size() != kRootKeySize) return Status::InvalidArgument("invalid root key");
  if (sqlite3_threadsafe() == 0) {
    return Status::Internal("the linked SQLite library was built without thread support");
  }
  BYOK_TRY(EnsureDirectory(options.data_dir, 0700));
  const std::string path = SqliteDbPath(options.data_dir);
  // Create the file ourselves so it starts private; SQLite gives -wal/-shm the same mode.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    std::string msg = fmt::format("open {}: {}", path, std::strerror(e));
    if (e == EACCES || e == EPERM || e == EROFS) return Status::PermissionDenied(std::move(msg));
    return Status::Unavailable(std::move(msg));
  }
  ::close(fd);

  auto pool = std::make_shared<Pool>(path, options);
  BYOK_ASSIGN_OR_RETURN(int version, Migrate(*pool, path, clock));

  {
    BYOK_ASSIGN_OR_RETURN(std::unique_ptr<SqliteTxn> txn, BeginWrite(pool));
    BYOK_TRY(CheckOrInstallRootKeyCanary(*txn, root_key));
    BYOK_TRY(txn->Commit());
  }

  Random* random = options.random != nullptr ? options.random : &CryptoRandom();
  auto context = std::make_shared<const StoreContext>(&clock, random, std::move(root_key));
  return std::unique_ptr<Store>(new SqliteStore(std::move(pool), std::move(context), version));
}

}  // namespace byok::store
