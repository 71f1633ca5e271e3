// Internal to the SQLite backend: a thin RAII layer over the SQLite C API (a connection with a
// prepared-statement cache, bound statements, result-code mapping). Not for use outside
// src/store/.
//
// Thread safety: a SqliteConn and its statements are used by one thread at a time (connections
// are opened with SQLITE_OPEN_NOMUTEX and handed out by a pool).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <sqlite3.h>

#include "common/status.h"

namespace byok::store::sqlite {

// Maps a SQLite result code (primary or extended) to a Status: BUSY/LOCKED -> kUnavailable,
// PRIMARYKEY/UNIQUE constraint -> kAlreadyExists, other constraints -> kFailedPrecondition,
// CORRUPT/NOTADB -> kDataLoss, FULL -> kResourceExhausted, READONLY/PERM/AUTH ->
// kPermissionDenied, IOERR/CANTOPEN -> kUnavailable, anything else -> kInternal. `db` (may be
// null) supplies the detailed message.
Status MapError(sqlite3* db, int rc, std::string_view what);

class SqliteConn;

// A cached prepared statement in use. Resets itself and clears its bindings when destroyed.
class Stmt {
 public:
  Stmt(SqliteConn* conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Parameters are 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT).
  Status BindText(int i, std::string_view text);
  Status BindBlob(int i, std::span<const uint8_t> blob);
  Status BindInt(int i, int64_t v);

  // Runs one step: true if a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run();

  std::string ColumnText(int i) const;
  std::vector<uint8_t> ColumnBlob(int i) const;
  int64_t ColumnInt(int i) const;

 private:
  SqliteConn* conn_;
  sqlite3_stmt* stmt_;
};

// One connection to a database file.
class SqliteConn {
 public:
  // Opens (creating if missing) the database file. Extended result codes are enabled.
  static Result<std::unique_ptr<SqliteConn>> Open(const std::string& path);
  ~SqliteConn();
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  sqlite3* db() const { return db_; }

  // Runs SQL text that contains no user data (schema, pragmas, BEGIN/COMMIT); may hold several
  // statements.
  Status Exec(const char* sql);
  // Runs a statement that returns one text value (e.g. "PRAGMA journal_mode=WAL").
  Result<std::string> QueryText(const char* sql);

  // A prepared statement for sql, from the cache. REQUIRES: sql is a single statement and at most
  // one Stmt per sql text is in use at a time.
  Result<std::unique_ptr<Stmt>> Prepare(const std::string& sql);

  // True while a transaction is open on this connection.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit SqliteConn(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace byok::store::sqlite
