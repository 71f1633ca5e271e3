#include "store/sqlite_conn.h"

#include <fmt/format.h>

namespace byok::store::sqlite {

Status MapError(sqlite3* db, int rc, std::string_view what) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string msg = fmt::format("{}: {} (sqlite code {})", what, detail, rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(fmt::format("database is busy: {}", msg));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Status::AlreadyExists(std::move(msg));
      }
      return Status::FailedPrecondition(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::DataLoss(fmt::format("database is corrupt: {}", msg));
    case SQLITE_FULL:
      return Status::ResourceExhausted(std::move(msg));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::PermissionDenied(std::move(msg));
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return Status::Unavailable(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

Stmt::~Stmt() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Status Stmt::BindText(int i, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) return MapError(conn_->db(), rc, "bind");
  return Status::Ok();
}

Status Stmt::BindBlob(int i, std::span<const uint8_t> blob) {
  // A zero-length blob needs a non-null pointer to bind as a blob (not NULL).
  static const uint8_t kEmpty = 0;
  const void* p = blob.empty() ? &kEmpty : blob.data();
  int rc = sqlite3_bind_blob64(stmt_, i, p, blob.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return MapError(conn_->db(), rc, "bind");
  return Status::Ok();
}

Status Stmt::BindInt(int i, int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) return MapError(conn_->db(), rc, "bind");
  return Status::Ok();
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return MapError(conn_->db(), rc, "step");
}

Status Stmt::Run() {
  for (;;) {
    BYOK_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

std::string Stmt::ColumnText(int i) const {
  const unsigned char* p = sqlite3_column_text(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  if (p == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

std::vector<uint8_t> Stmt::ColumnBlob(int i) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, i));
  int n = sqlite3_column_bytes(stmt_, i);
  if (p == nullptr) return {};
  return std::vector<uint8_t>(p, p + n);
}

int64_t Stmt::ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }

Result<std::unique_ptr<SqliteConn>> SqliteConn::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (rc != SQLITE_OK) {
    Status s = MapError(db, rc, fmt::format("open {}", path));
    sqlite3_close_v2(db);  // a handle is returned even on failure
    return s;
  }
  return std::unique_ptr<SqliteConn>(new SqliteConn(db));
}

SqliteConn::~SqliteConn() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status SqliteConn::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return MapError(db_, rc, "exec");
  return Status::Ok();
}

Result<std::string> SqliteConn::QueryText(const char* sql) {
  BYOK_ASSIGN_OR_RETURN(std::unique_ptr<Stmt> stmt, Prepare(sql));
  BYOK_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Status::Internal(fmt::format("no result from: {}", sql));
  std::string value = stmt->ColumnText(0);
  BYOK_TRY(stmt->Run());
  return value;
}

Result<std::unique_ptr<Stmt>> SqliteConn::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return MapError(db_, rc, "prepare");
    if (stmt == nullptr) return Status::Internal("prepare: empty statement");
    it = cache_.emplace(sql, stmt).first;
  }
  return std::make_unique<Stmt>(this, it->second);
}

}  // namespace byok::store::sqlite
