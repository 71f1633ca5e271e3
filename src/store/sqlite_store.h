// The SQLite backend of the metadata store (see store.h for the Store/Transaction contract).
//
// Contract. OpenSqliteStore() opens (creating if missing) the database <data_dir>/byok.db, mode
// 0600 (its -wal and -shm files inherit that mode), in WAL mode with synchronous=FULL: every
// committed transaction is on disk when Commit() returns and survives a process crash or a power
// loss; an uncommitted one leaves no trace. It brings the schema up to kSqliteSchemaVersion with
// the versioned migrations (each applied once, in its own transaction, recorded in the
// schema_migrations table) and refuses (kFailedPrecondition) a database whose schema is newer than
// this build knows. It then checks the root-key canary: a different root key than the one the
// database was created with fails with kPermissionDenied "root key does not match this data
// directory". A file that is not a byok SQLite database fails with kDataLoss.
//
// Write transactions are serialized (BEGIN IMMEDIATE; in-process writers queue on a condition
// variable, other processes on SQLite's busy handler); waiting longer than busy_timeout_ms fails
// with kUnavailable. Read transactions run on their own connection and see a snapshot. Several
// processes may open the same data directory.
//
// Thread safety: the returned Store is thread-safe (connections come from a pool; each
// transaction has its own). REQUIRES: clock (and options.random, if set) outlive the Store and all
// its transactions; data_dir is on a local file system (SQLite's WAL needs shared memory, so not
// NFS).
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "store/root_key.h"
#include "store/store.h"

namespace byok::store {

// The schema version this build creates and understands.
inline constexpr int kSqliteSchemaVersion = 2;
inline constexpr char kSqliteDbFileName[] = "byok.db";

struct SqliteOptions {
  // The directory holding byok.db; created (mode 0700) if missing.
  std::string data_dir;
  // How long a transaction waits for a busy database (another writer) before kUnavailable.
  int busy_timeout_ms = 5000;
  // Idle connections kept open for reuse; more are opened on demand and closed when released.
  int max_idle_connections = 4;
  // Randomness for etags; nullptr means CryptoRandom(). (Sealing nonces always use the CSPRNG.)
  Random* random = nullptr;
};

// <data_dir>/byok.db
std::string SqliteDbPath(const std::string& data_dir);

// Opens the store; see the file comment.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options, const Clock& clock,
                                               RootKey root_key);

}  // namespace byok::store
