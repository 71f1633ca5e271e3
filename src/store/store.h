// The metadata store: durable, transactional storage for every emulated Azure resource, for
// sealed secrets (key material, client secrets) and for small server-state values.
//
// Contract. A Store hands out Transactions. Everything read or written through one Transaction is
// atomic and isolated: a write transaction's changes become visible to others, all together, when
// Commit() returns OK, and are discarded if it is destroyed (or Rollback() is called) first. Write
// transactions are serialized (at most one is open at a time per database); a read transaction
// (BeginRead) sees one consistent snapshot and never blocks writers. A committed transaction
// survives a crash of the process (and, with the SQLite backend, a power loss).
//
// Resources are keyed by their NORMALIZED id: NormalizeId() lower-cases ASCII, because Azure
// resource ids and names are case-insensitive. Callers may pass ids in any case; the id, type and
// parent_id a resource was first created with are stored and returned with their case preserved.
// Every write gives the resource a new server-generated etag (an opaque string; compare it
// byte-for-byte). If-Match semantics: if_match == "*" means "the resource must exist"; any other
// value must equal the current etag; otherwise the write fails with kAborted ("precondition
// failed"), which the HTTP layer maps to 412.
//
// Secrets are sealed by the store (AES-256-GCM under the root key, AAD = the secret's name; see
// docs/formats/sealed.md): plaintext never reaches the database, and a sealed blob copied to
// another name does not open.
//
// Lists are sorted by normalized id (secrets: by name), byte order, and paginate with ListOptions:
// pass the last id (name) of a page as `after` to get the next one; a page shorter than `limit`
// is the last one.
//
// Errors: kInvalidArgument (malformed input), kNotFound, kAlreadyExists, kAborted (If-Match
// precondition failed, or the database rolled the transaction back), kFailedPrecondition (the
// transaction is finished, or a write in a read transaction), kUnavailable (the database stayed
// busy past the busy timeout; retry), kDataLoss (stored data is corrupt or a secret does not
// open), kInternal. No exceptions cross this API.
//
// Thread safety: a Store is thread-safe; Begin()/BeginRead() may be called from any number of
// threads. A Transaction is NOT thread-safe: use it from one thread at a time. One thread should
// not hold two write transactions at once (the second Begin() waits for the first and fails with
// kUnavailable after the busy timeout).
//
// REQUIRES: the Clock (and Random) given when the store was opened outlive the Store and every
// Transaction. Transactions may outlive the Store object that created them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/secret.h"
#include "common/status.h"

namespace byok::store {

// One stored resource.
struct Resource {
  // As first created, case preserved, e.g.
  // /subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/V
  std::string id;
  // e.g. Microsoft.KeyVault/vaults. Compared case-insensitively; case preserved.
  std::string type;
  // The id of the parent resource (or scope), case preserved; empty for top-level resources.
  std::string parent_id;
  // Opaque, server-generated, new on every write. Ignored on input.
  std::string etag;
  // Set by the store from its Clock: `created` on the first write (kept on replace), `updated`
  // on every write. Ignored on input.
  TimePoint created{};
  TimePoint updated{};
  // The resource document. Must be serializable (strings valid UTF-8).
  nlohmann::json body;
};

// Lower-cases ASCII letters; every other byte is kept. This is the key resources are stored under.
std::string NormalizeId(std::string_view id);

// Pagination for list calls.
struct ListOptions {
  // At most this many results; 0 means no limit.
  size_t limit = 0;
  // Only results sorting strictly after this id (any case), secret name or log key; empty = from
  // the start.
  std::string after;
};

// One entry of an append-only log (Transaction::AppendLog).
struct LogEntry {
  std::string key;
  std::string value;
};

class TransactionBackend;
struct StoreContext;

// A unit of atomic work. Obtained from Store::Begin() (read-write) or Store::BeginRead().
// Every method fails with kFailedPrecondition once the transaction is committed or rolled back;
// every write method fails with kFailedPrecondition in a read transaction.
class Transaction final {
 public:
  // For Store backends only (see store/backend.h); callers use Store::Begin()/BeginRead().
  // REQUIRES: backend != nullptr, context != nullptr.
  Transaction(std::unique_ptr<TransactionBackend> backend,
              std::shared_ptr<const StoreContext> context, bool read_only);
  // Rolls back unless committed.
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  bool read_only() const { return read_only_; }

  // ---- Resources. `id` may be in any case. ----

  // The resource, or nullopt if there is none.
  Result<std::optional<Resource>> Get(std::string_view id);

  // Creates or replaces r (r.id and r.type must be non-empty). Sets etag, created (kept on
  // replace) and updated; a replace keeps the stored id/parent_id case and may not change the
  // type (kInvalidArgument). if_match: see the file comment (kAborted on mismatch or, when given,
  // if the resource does not exist). Returns the stored resource.
  Result<Resource> Put(Resource r, std::optional<std::string> if_match = std::nullopt);

  // Like Put but fails with kAlreadyExists if the resource exists (If-None-Match: *).
  Result<Resource> Create(Resource r);

  // kNotFound if absent; kAborted if if_match is given and does not match.
  Status Delete(std::string_view id, std::optional<std::string> if_match = std::nullopt);

  // Resources whose parent_id is parent_id (any case; "" lists top-level resources), optionally
  // only those of `type` (any case).
  Result<std::vector<Resource>> ListChildren(std::string_view parent_id,
                                             std::optional<std::string> type = std::nullopt,
                                             const ListOptions& options = {});

  // Resources of `type` (any case, non-empty), optionally only those inside `scope` (see
  // ListByPrefix), e.g. all vaults of a subscription.
  Result<std::vector<Resource>> ListByType(std::string_view type,
                                           std::optional<std::string> scope = std::nullopt,
                                           const ListOptions& options = {});

  // Everything inside `scope`: the resource whose id is scope itself and every resource whose id
  // continues scope with '/'. Matching is by whole path segments: scope ".../vaults/v" does not
  // match ".../vaults/v2". A trailing '/' on scope is ignored; "" or "/" means everything.
  Result<std::vector<Resource>> ListByPrefix(std::string_view scope,
                                             const ListOptions& options = {});

  // Deletes everything ListByPrefix(scope) would list (cascade delete); returns how many
  // resources were deleted. REQUIRES: scope is not empty or "/" (kInvalidArgument).
  Result<int> DeleteByPrefix(std::string_view scope);

  // ---- Sealed secrets. Names are exact, case-sensitive byte strings, non-empty, without NUL. ----

  // Seals plaintext under the root key (AAD = name) and stores it, replacing any previous value.
  Status PutSecret(std::string_view name, std::span<const uint8_t> plaintext);
  // kNotFound if absent; kDataLoss if the sealed blob does not open (altered, moved from another
  // name, or sealed under another key).
  Result<SecretBytes> GetSecret(std::string_view name);
  // kNotFound if absent.
  Status DeleteSecret(std::string_view name);
  // Names (never values) starting with prefix (plain byte prefix; "" lists all), sorted.
  Result<std::vector<std::string>> ListSecrets(std::string_view prefix,
                                               const ListOptions& options = {});

  // ---- Small server-state values (e.g. the emulated clock offset). ----

  // The value (arbitrary bytes), or nullopt.
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  // REQUIRES: key is non-empty and does not start with "store." (reserved for the store itself;
  // kInvalidArgument).
  Status PutMeta(std::string_view key, std::string_view value);
  // kNotFound if absent. Same REQUIRES as PutMeta.
  Status DeleteMeta(std::string_view key);

  // ---- Append-only logs (the audit log): named sequences of (key, value) entries in key order,
  // much cheaper per entry than resources (no etag, timestamps or secondary index; one row in a
  // table ordered by (log, key)). Log names and keys are exact, case-sensitive, non-empty byte
  // strings without NUL (kInvalidArgument otherwise) and sort in byte order, so fixed-width
  // numeric keys give numeric order. Values are arbitrary bytes. Log writes never advance
  // Store::change_generation(): no cache depends on them. ----

  // Adds an entry. kAlreadyExists if the log has that key.
  Status AppendLog(std::string_view log, std::string_view key, std::string_view value);
  // The entries whose key sorts after options.after (a key), in key order, at most
  // options.limit.
  Result<std::vector<LogEntry>> ListLog(std::string_view log, const ListOptions& options = {});
  // Deletes the entries whose key sorts before `before` — only the first `limit` of them when
  // limit > 0 — and returns how many were deleted.
  Result<int64_t> TrimLog(std::string_view log, std::string_view before, size_t limit = 0);

  // ---- Completion. ----

  // Makes every change durable and visible. On error nothing was committed and the transaction
  // is finished (rolled back). For a read transaction, just ends it.
  Status Commit();
  // Discards every change. Idempotent; also done by the destructor.
  void Rollback();

  // Declares that no in-memory cache depends on what this transaction writes (append-only
  // records such as the audit log), so its Commit does not advance Store::change_generation()
  // and does not invalidate the caches validated by it. Call before or after the writes.
  void MarkCacheNeutral() { cache_neutral_ = true; }

 private:
  Status CheckOpen() const;
  // Also notes that the transaction writes, unless !affects_caches (log writes: they do not
  // advance change_generation()).
  Status CheckWritable(bool affects_caches = true);

  std::unique_ptr<TransactionBackend> backend_;
  std::shared_ptr<const StoreContext> context_;
  const bool read_only_;
  bool finished_ = false;
  bool wrote_ = false;  // a write method succeeded
  bool cache_neutral_ = false;
};

// A transactional metadata store (SQLite today; see sqlite_store.h to open one).
class Store {
 public:
  virtual ~Store() = default;

  // Begins a read-write transaction. Waits (up to the backend's busy timeout) while another
  // write transaction is open, then fails with kUnavailable.
  virtual Result<std::unique_ptr<Transaction>> Begin() = 0;
  // Begins a read-only transaction on a consistent snapshot taken now.
  virtual Result<std::unique_ptr<Transaction>> BeginRead() = 0;
  // The schema version of the open database (after migrations).
  virtual int SchemaVersion() const = 0;

  // A counter that advances, before Commit() returns, after every committed write transaction of
  // this process (except cache-neutral ones: Transaction::MarkCacheNeutral). In-memory caches of
  // stored documents read it BEFORE reading the store and trust an entry only while the counter
  // still has the value it had then: a write committed by this process is never served stale
  // once its Commit() returned. Writes by other processes are not counted: a store shared by
  // several servers (PostgreSQL, later) returns kNoChangeGeneration, which caches must treat as
  // "never valid".
  static constexpr uint64_t kNoChangeGeneration = UINT64_MAX;
  virtual uint64_t change_generation() const = 0;
  // Runs the backend's consistency check. kDataLoss with details if it finds corruption.
  virtual Status CheckIntegrity() = 0;
};

// Begin(), fn, Commit(). If fn fails, rolls back and returns fn's status.
Status RunInTransaction(Store& store, const std::function<Status(Transaction&)>& fn);
// BeginRead(), fn, end.
Status RunInReadTransaction(Store& store, const std::function<Status(Transaction&)>& fn);

}  // namespace byok::store
