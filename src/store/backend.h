// The storage-provider interface behind store::Transaction: what a backend (SQLite today,
// PostgreSQL later) implements. Callers of the store never include this header.
//
// Contract. The backend-neutral layer (store.cc) owns the semantics: id normalization, etags,
// timestamps, If-Match, sealing and opening secrets, input validation, the root-key canary. A
// TransactionBackend is one open database transaction and only stores and retrieves rows:
// arguments arrive already normalized and validated, and it must not second-guess them. All
// comparisons on keys (norm_id, norm_type, parent_norm_id, secret names, meta keys, log names
// and keys) are exact byte comparisons and every list is sorted by its key in byte order
// (memcmp), so that pagination cursors work the same on every backend. A write transaction must be
// serialized against every other write transaction on the same database, and isolated (snapshot or
// serializable) from readers. If the database aborts the transaction on its own (e.g. after an I/O
// error), every later call returns kAborted.
//
// Thread safety: a TransactionBackend is used by one thread at a time.
#pragma once

#include <atomic>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "store/root_key.h"
#include "store/store.h"

namespace byok::store {

// A resource as stored.
struct ResourceRecord {
  std::string norm_id;  // NormalizeId(id); the primary key
  std::string id;
  std::string type;
  std::string norm_type;  // NormalizeId(type)
  std::string parent_norm_id;
  std::string parent_id;
  std::string etag;
  int64_t created_ns = 0;  // nanoseconds since the Unix epoch
  int64_t updated_ns = 0;
  std::string body_json;  // the serialized body
};

// A resource list query. All strings are normalized. Filters that are set are ANDed.
struct ResourceQuery {
  std::optional<std::string> parent_norm_id;  // parent_norm_id == this
  std::optional<std::string> norm_type;       // norm_type == this
  // norm_id == scope, or norm_id starts with scope + "/". Never empty or '/'-terminated.
  std::optional<std::string> scope;
  std::string after;  // norm_id > after (empty: no lower bound)
  size_t limit = 0;   // 0: unlimited
};

class TransactionBackend {
 public:
  virtual ~TransactionBackend() = default;

  virtual Result<std::optional<ResourceRecord>> GetResource(const std::string& norm_id) = 0;
  // kAlreadyExists if a row with r.norm_id exists.
  virtual Status InsertResource(const ResourceRecord& r) = 0;
  // REQUIRES: a row with r.norm_id exists (checked by the caller in this transaction).
  virtual Status UpdateResource(const ResourceRecord& r) = 0;
  // Returns whether a row was deleted.
  virtual Result<bool> DeleteResource(const std::string& norm_id) = 0;
  virtual Result<std::vector<ResourceRecord>> ListResources(const ResourceQuery& query) = 0;
  // Deletes the rows ResourceQuery{.scope = scope} matches; returns the count.
  virtual Result<int64_t> DeleteResourcesInScope(const std::string& scope) = 0;

  // The sealed blob, or nullopt.
  virtual Result<std::optional<std::vector<uint8_t>>> GetSecret(const std::string& name) = 0;
  // Inserts or replaces (keeping the first created_ns).
  virtual Status PutSecret(const std::string& name, std::span<const uint8_t> sealed,
                           int64_t now_ns) = 0;
  virtual Result<bool> DeleteSecret(const std::string& name) = 0;
  // Names starting with prefix ("" = all), name > after, at most limit (0 = unlimited).
  virtual Result<std::vector<std::string>> ListSecrets(const std::string& prefix,
                                                       const std::string& after, size_t limit) = 0;

  virtual Result<std::optional<std::string>> GetMeta(const std::string& key) = 0;
  virtual Status PutMeta(const std::string& key, std::string_view value) = 0;
  virtual Result<bool> DeleteMeta(const std::string& key) = 0;

  // Append-only logs. AppendLogEntry: kAlreadyExists if (log, key) exists. ListLogEntries: key >
  // after, at most limit (0 = unlimited). TrimLogEntries: deletes the entries with key < before,
  // the smallest `limit` of them when limit > 0; returns the count.
  virtual Status AppendLogEntry(const std::string& log, const std::string& key,
                                std::string_view value) = 0;
  virtual Result<std::vector<LogEntry>> ListLogEntries(const std::string& log,
                                                       const std::string& after, size_t limit) = 0;
  virtual Result<int64_t> TrimLogEntries(const std::string& log, const std::string& before,
                                         size_t limit) = 0;

  // Ends the transaction. After Commit (successful or not) or Rollback the backend is finished;
  // a failed Commit must leave nothing committed. Rollback never fails (it may discard the
  // underlying connection instead).
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
};

// What every Transaction of one Store shares. Immutable after the store opens.
struct StoreContext {
  const Clock* clock = nullptr;
  Random* random = nullptr;  // for etags
  RootKey root_key;
  // Store::change_generation(): advanced by Transaction::Commit (mutable: the context is shared
  // as const by the store and its transactions).
  mutable std::atomic<uint64_t> change_generation{0};
};

// Meta keys starting with this are reserved for the store itself.
inline constexpr std::string_view kReservedMetaPrefix = "store.";
// The meta key holding the sealed root-key canary.
inline constexpr char kCanaryMetaKey[] = "store.root_key_canary";

// Verifies the root-key canary in this (write) transaction, or installs it if the store has none
// yet. kPermissionDenied "root key does not match this data directory" if it was sealed under
// another key; kDataLoss if it is missing while secrets exist, or is malformed. The caller
// commits. Backends call this once when opening a database.
Status CheckOrInstallRootKeyCanary(TransactionBackend& txn, const RootKey& key);

}  // namespace byok::store
