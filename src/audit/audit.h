// Audit log: one structured record per security-relevant operation (every Key Vault key
// operation; later disk unlocks), kept in the metadata store and listed by `byok audit`.
//
// Records are queued in memory by Append() (cheap, never blocks on the database) and written in
// batches by a background thread, one transaction per batch, so auditing does not cap the
// data plane's throughput. Flush() waits until everything recorded so far is durable; the
// destructor flushes. A crash may lose the records of the last batch interval (documented in
// docs/ARCHITECTURE.md); a full queue (options.max_queue) drops the oldest pending records and
// counts them (dropped()), logging a warning.
//
// Storage: the store's append-only log "audit" (store.h), one entry per record: key
// "{20-digit unix-ns}-{8-digit seq}" (key order is time order, then append order), value the
// record's JSON (ToJson). Retention: records older than options.retention are deleted by Prune().
//
// Thread safety: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace byok::audit {

struct Record {
  TimePoint time{};              // filled from the log's clock when left at the epoch
  std::string caller_object_id;  // principal oid ("" if unauthenticated)
  std::string caller_app_id;
  std::string vault;       // vault name
  std::string object;      // key name ("" for vault-level operations)
  std::string version;     // key version ("" if none)
  std::string operation;   // e.g. "KeyCreate", "KeyWrap", "KeyUnwrap", "KeyPurge", "VaultDelete"
  int status = 0;          // HTTP status answered
  std::string result;      // "Success" or the error code answered
  std::string request_id;  // x-ms-request-id
  std::string client_ip;
};

nlohmann::json ToJson(const Record& r);  // keys: time (Azure time), callerObjectId, ...
Result<Record> FromJson(const nlohmann::json& j);

struct Query {
  std::optional<std::string> vault;  // case-insensitive
  std::optional<TimePoint> since;    // inclusive
  size_t limit = 0;                  // 0 = all
};

struct Options {
  std::chrono::milliseconds flush_interval{200};
  size_t max_batch = 2000;
  size_t max_queue = 200000;
  std::chrono::hours retention{24 * 90};
  size_t prune_batch = 10000;  // records Prune() deletes per transaction (at least 1)
};

class AuditLog {
 public:
  static std::unique_ptr<AuditLog> Open(store::Store& store, const Clock& clock,
                                        Options options = {});
  virtual ~AuditLog() = default;
  virtual void Append(Record r) = 0;
  virtual Status Flush() = 0;
  // Records matching q, oldest first (flushes first).
  virtual Result<std::vector<Record>> List(const Query& q) = 0;
  // Deletes records older than now - retention; returns how many.
  virtual Result<int> Prune() = 0;
  virtual uint64_t dropped() const = 0;
};

}  // namespace byok::audit
