// The backend-neutral half of the store: normalization, etags, timestamps, If-Match, sealing.

#include "store/store.h"

#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "common/encoding.h"
#include "crypto/gcm.h"
#include "store/backend.h"

namespace byok::store {
namespace {

constexpr std::string_view kCanaryPlaintext = "byok root key canary v1";
// Starts with NUL, which secret names may not contain, so no secret's AAD can equal it.
constexpr std::string_view kCanaryAad = std::string_view("\0byok/root-key-canary", 21);
static_assert(kCanaryAad.size() == 1 + std::string_view("byok/root-key-canary").size());

int64_t ToNanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TimePoint FromNanos(int64_t ns) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(ns)));
}

// Normalized scope for prefix queries: lower-cased, trailing '/' removed ("" = everything).
std::string NormalizeScope(std::string_view scope) {
  std::string s = NormalizeId(scope);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

Status CheckId(std::string_view id, std::string_view what) {
  if (id.empty()) return Status::InvalidArgument(fmt::format("{} must not be empty", what));
  return Status::Ok();
}

Status CheckSecretName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("secret name must not be empty");
  if (name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("secret name must not contain NUL");
  }
  return Status::Ok();
}

Status CheckMetaKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("meta key must not be empty");
  if (key.starts_with(kReservedMetaPrefix)) {
    return Status::InvalidArgument(
        fmt::format("meta keys starting with '{}' are reserved", kReservedMetaPrefix));
  }
  return Status::Ok();
}

Status CheckIfMatch(const std::optional<ResourceRecord>& existing,
                    const std::optional<std::string>& if_match, std::string_view id) {
  if (!if_match) return Status::Ok();
  if (!existing) {
    return Status::Aborted(
        fmt::format("precondition failed: If-Match given but '{}' does not exist", id));
  }
  if (*if_match != "*" && *if_match != existing->etag) {
    return Status::Aborted(fmt::format("precondition failed: etag of '{}' does not match", id));
  }
  return Status::Ok();
}

Result<std::string> SerializeBody(const nlohmann::json& body) {
  try {
    return body.dump();
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(fmt::format("resource body cannot be serialized: {}", e.what()));
  }
}

Result<Resource> ToResource(ResourceRecord rec) {
  nlohmann::json body = nlohmann::json::parse(rec.body_json, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return Status::DataLoss(fmt::format("stored body of '{}' is not valid JSON", rec.id));
  }
  return Resource{.id = std::move(rec.id),
                  .type = std::move(rec.type),
                  .parent_id = std::move(rec.parent_id),
                  .etag = std::move(rec.etag),
                  .created = FromNanos(rec.created_ns),
                  .updated = FromNanos(rec.updated_ns),
                  .body = std::move(body)};
}

Result<std::vector<Resource>> ToResources(std::vector<ResourceRecord> recs) {
  std::vector<Resource> out;
  out.reserve(recs.size());
  for (auto& rec : recs) {
    BYOK_ASSIGN_OR_RETURN(Resource r, ToResource(std::move(rec)));
    out.push_back(std::move(r));
  }
  return out;
}

Status CheckLogString(std::string_view what, std::string_view s) {
  if (s.empty()) return Status::InvalidArgument(fmt::format("log {} must not be empty", what));
  if (s.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("log {} must not contain NUL", what));
  }
  return Status::Ok();
}

}  // namespace

std::string NormalizeId(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Transaction::Transaction(std::unique_ptr<TransactionBackend> backend,
                         std::shared_ptr<const StoreContext> context, bool read_only)
    : backend_(std::move(backend)), context_(std::move(context)), read_only_(read_only) {}

Transaction::~Transaction() { Rollback(); }

Status Transaction::CheckOpen() const {
  if (finished_) {
    return Status::FailedPrecondition("transaction is already committed or rolled back");
  }
  return Status::Ok();
}

Status Transaction::CheckWritable(bool affects_caches) {
  BYOK_TRY(CheckOpen());
  if (read_only_) return Status::FailedPrecondition("write in a read-only transaction");
  if (affects_caches) wrote_ = true;
  return Status::Ok();
}

Result<std::optional<Resource>> Transaction::Get(std::string_view id) {
  BYOK_TRY(CheckOpen());
  BYOK_TRY(CheckId(id, "resource id"));
  BYOK_ASSIGN_OR_RETURN(auto rec, backend_->GetResource(NormalizeId(id)));
  if (!rec) return std::optional<Resource>();
  BYOK_ASSIGN_OR_RETURN(Resource r, ToResource(std::move(*rec)));
  return std::optional<Resource>(std::move(r));
}

Result<Resource> Transaction::Put(Resource r, std::optional<std::string> if_match) {
  BYOK_TRY(CheckWritable());
  BYOK_TRY(CheckId(r.id, "resource id"));
  BYOK_TRY(CheckId(r.type, "resource type"));
  std::string norm_id = NormalizeId(r.id);
  BYOK_ASSIGN_OR_RETURN(auto existing, backend_->GetResource(norm_id));
  BYOK_TRY(CheckIfMatch(existing, if_match, r.id));
  BYOK_ASSIGN_OR_RETURN(std::string body_json, SerializeBody(r.body));

  ResourceRecord rec;
  rec.norm_id = std::move(norm_id);
  rec.norm_type = NormalizeId(r.type);
  rec.etag = context_->random->Uuid();
  rec.updated_ns = ToNanos(context_->clock->Now());
  rec.body_json = std::move(body_json);
  if (existing) {
    if (existing->norm_type != rec.norm_type) {
      return Status::InvalidArgument(
          fmt::format("resource '{}' is a {}, not a {}", existing->id, existing->type, r.type));
    }
    rec.id = std::move(existing->id);
    rec.type = std::move(existing->type);
    rec.parent_id = std::move(existing->parent_id);
    rec.parent_norm_id = std::move(existing->parent_norm_id);
    rec.created_ns = existing->created_ns;
    BYOK_TRY(backend_->UpdateResource(rec));
  } else {
    rec.id = std::move(r.id);
    rec.type = std::move(r.type);
    rec.parent_norm_id = NormalizeId(r.parent_id);
    rec.parent_id = std::move(r.parent_id);
    rec.created_ns = rec.updated_ns;
    BYOK_TRY(backend_->InsertResource(rec));
  }
  return Resource{.id = std::move(rec.id),
                  .type = std::move(rec.type),
                  .parent_id = std::move(rec.parent_id),
                  .etag = std::move(rec.etag),
                  .created = FromNanos(rec.created_ns),
                  .updated = FromNanos(rec.updated_ns),
                  .body = std::move(r.body)};
}

Result<Resource> Transaction::Create(Resource r) {
  // No read first: the database's uniqueness check refuses an existing id (any case, since the
  // key is the normalized id) — one statement, as cheap as an append.
  BYOK_TRY(CheckWritable());
  BYOK_TRY(CheckId(r.id, "resource id"));
  BYOK_TRY(CheckId(r.type, "resource type"));
  BYOK_ASSIGN_OR_RETURN(std::string body_json, SerializeBody(r.body));
  ResourceRecord rec;
  rec.norm_id = NormalizeId(r.id);
  rec.norm_type = NormalizeId(r.type);
  rec.etag = context_->random->Uuid();
  rec.updated_ns = ToNanos(context_->clock->Now());
  rec.created_ns = rec.updated_ns;
  rec.body_json = std::move(body_json);
  rec.id = std::move(r.id);
  rec.type = std::move(r.type);
  rec.parent_norm_id = NormalizeId(r.parent_id);
  rec.parent_id = std::move(r.parent_id);
  BYOK_TRY(backend_->InsertResource(rec));
  return Resource{.id = std::move(rec.id),
                  .type = std::move(rec.type),
                  .parent_id = std::move(rec.parent_id),
                  .etag = std::move(rec.etag),
                  .created = FromNanos(rec.created_ns),
                  .updated = FromNanos(rec.updated_ns),
                  .body = std::move(r.body)};
}

Status Transaction::Delete(std::string_view id, std::optional<std::string> if_match) {
  BYOK_TRY(CheckWritable());
  BYOK_TRY(CheckId(id, "resource id"));
  std::string norm_id = NormalizeId(id);
  BYOK_ASSIGN_OR_RETURN(auto existing, backend_->GetResource(norm_id));
  if (!existing) return Status::NotFound(fmt::format("resource '{}' not found", id));
  BYOK_TRY(CheckIfMatch(existing, if_match, id));
  BYOK_ASSIGN_OR_RETURN(bool deleted, backend_->DeleteResource(norm_id));
  if (!deleted) return Status::Internal(fmt::format("resource '{}' vanished during delete", id));
  return Status::Ok();
}

Result<std::vector<Resource>> Transaction::ListChildren(std::string_view parent_id,
                                                        std::optional<std::string> type,
                                                        const ListOptions& options) {
  BYOK_TRY(CheckOpen());
  ResourceQuery q;
  q.parent_norm_id = NormalizeId(parent_id);
  if (type) q.norm_type = NormalizeId(*type);
  q.after = NormalizeId(options.after);
  q.limit = options.limit;
  BYOK_ASSIGN_OR_RETURN(auto recs, backend_->ListResources(q));
  return ToResources(std::move(recs));
}

Result<std::vector<Resource>> Transaction::ListByType(std::string_view type,
                                                      std::optional<std::string> scope,
                                                      const ListOptions& options) {
  BYOK_TRY(CheckOpen());
  BYOK_TRY(CheckId(type, "resource type"));
  ResourceQuery q;
  q.norm_type = NormalizeId(type);
  if (scope) {
    std::string s = NormalizeScope(*scope);
    if (!s.empty()) q.scope = std::move(s);
  }
  q.after = NormalizeId(options.after);
  q.limit = options.limit;
  BYOK_ASSIGN_OR_RETURN(auto recs, backend_->ListResources(q));
  return ToResources(std::move(recs));
}

Result<std::vector<Resource>> Transaction::ListByPrefix(std::string_view scope,
                                                        const ListOptions& options) {
  BYOK_TRY(CheckOpen());
  ResourceQuery q;
  std::string s = NormalizeScope(scope);
  if (!s.empty()) q.scope = std::move(s);
  q.after = NormalizeId(options.after);
  q.limit = options.limit;
  BYOK_ASSIGN_OR_RETURN(auto recs, backend_->ListResources(q));
  return ToResources(std::move(recs));
}

Result<int> Transaction::DeleteByPrefix(std::string_view scope) {
  BYOK_TRY(CheckWritable());
  std::string s = NormalizeScope(scope);
  if (s.empty()) return Status::InvalidArgument("refusing to delete by an empty scope");
  BYOK_ASSIGN_OR_RETURN(int64_t n, backend_->DeleteResourcesInScope(s));
  return static_cast<int>(n);
}

Status Transaction::PutSecret(std::string_view name, std::span<const uint8_t> plaintext) {
  BYOK_TRY(CheckWritable());
  BYOK_TRY(CheckSecretName(name));
  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed,
                        crypto::GcmSeal(context_->root_key.bytes(), plaintext, AsBytes(name)));
  return backend_->PutSecret(std::string(name), sealed, ToNanos(context_->clock->Now()));
}

Result<SecretBytes> Transaction::GetSecret(std::string_view name) {
  BYOK_TRY(CheckOpen());
  BYOK_TRY(CheckSecretName(name));
  BYOK_ASSIGN_OR_RETURN(auto sealed, backend_->GetSecret(std::string(name)));
  if (!sealed) return Status::NotFound(fmt::format("secret '{}' not found", name));
  Result<SecretBytes> opened = crypto::GcmOpen(context_->root_key.bytes(), *sealed, AsBytes(name));
  if (!opened.ok()) {
    return Status::DataLoss(
        fmt::format("secret '{}' cannot be opened: {}", name, opened.status().message()));
  }
  return opened;
}

Status Transaction::DeleteSecret(std::string_view name) {
  BYOK_TRY(CheckWritable());
  BYOK_TRY(CheckSecretName(name));
  BYOK_ASSIGN_OR_RETURN(bool deleted, backend_->DeleteSecret(std::string(name)));
  if (!deleted) return Status::NotFound(fmt::format("secret '{}' not found", name));
  return Status::Ok();
}

Result<std::vector<std::string>> Transaction::ListSecrets(std::string_view prefix,
                                                          const ListOptions& options) {
  BYOK_TRY(CheckOpen());
  return backend_->ListSecrets(std::string(prefix), options.after, options.limit);
}

Result<std::optional<std::string>> Transaction::GetMeta(std::string_view key) {
  BYOK_TRY(CheckOpen());
  if (key.empty()) return Status::InvalidArgument("meta key must not be empty");
  return backend_->GetMeta(std::string(key));
}

Status Transaction::PutMeta(std::string_view key, std::string_view value) {
  BYOK_TRY(CheckWritable());
  BYOK_TRY(CheckMetaKey(key));
  return backend_->PutMeta(std::string(key), value);
}

Status Transaction::DeleteMeta(std::string_view key) {
  BYOK_TRY(CheckWritable());
  BYOK_TRY(CheckMetaKey(key));
  BYOK_ASSIGN_OR_RETURN(bool deleted, backend_->DeleteMeta(std::string(key)));
  if (!deleted) return Status::NotFound(fmt::format("meta key '{}' not found", key));
  return Status::Ok();
}

Status Transaction::AppendLog(std::string_view log, std::string_view key, std::string_view value) {
  BYOK_TRY(CheckWritable(/*affects_caches=*/false));
  BYOK_TRY(CheckLogString("name", log));
  BYOK_TRY(CheckLogString("key", key));
  return backend_->AppendLogEntry(std::string(log), std::string(key), value);
}

Result<std::vector<LogEntry>> Transaction::ListLog(std::string_view log,
                                                   const ListOptions& options) {
  BYOK_TRY(CheckOpen());
  BYOK_TRY(CheckLogString("name", log));
  return backend_->ListLogEntries(std::string(log), options.after, options.limit);
}

Result<int64_t> Transaction::TrimLog(std::string_view log, std::string_view before, size_t limit) {
  BYOK_TRY(CheckWritable(/*affects_caches=*/false));
  BYOK_TRY(CheckLogString("name", log));
  return backend_->TrimLogEntries(std::string(log), std::string(before), limit);
}

Status Transaction::Commit() {
  BYOK_TRY(CheckOpen());
  finished_ = true;
  BYOK_TRY(backend_->Commit());
  if (wrote_ && !cache_neutral_) {
    context_->change_generation.fetch_add(1, std::memory_order_acq_rel);
  }
  return Status::Ok();
}

void Transaction::Rollback() {
  if (finished_) return;
  finished_ = true;
  backend_->Rollback();
}

Status RunInTransaction(Store& store, const std::function<Status(Transaction&)>& fn) {
  BYOK_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn, store.Begin());
  BYOK_TRY(fn(*txn));
  return txn->Commit();
}

Status RunInReadTransaction(Store& store, const std::function<Status(Transaction&)>& fn) {
  BYOK_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn, store.BeginRead());
  BYOK_TRY(fn(*txn));
  return txn->Commit();
}

Status CheckOrInstallRootKeyCanary(TransactionBackend& txn, const RootKey& key) {
  BYOK_ASSIGN_OR_RETURN(std::optional<std::string> canary, txn.GetMeta(kCanaryMetaKey));
  if (canary) {
    Result<SecretBytes> opened =
        crypto::GcmOpen(key.bytes(), AsBytes(*canary), AsBytes(kCanaryAad));
    if (!opened.ok()) {
      return Status::PermissionDenied("root key does not match this data directory");
    }
    if (ToString(opened->span()) != kCanaryPlaintext) {
      return Status::DataLoss("root key canary has unexpected contents");
    }
    return Status::Ok();
  }
  BYOK_ASSIGN_OR_RETURN(std::vector<std::string> secrets, txn.ListSecrets("", "", 1));
  if (!secrets.empty()) {
    return Status::DataLoss(
        "root key canary is missing but the store holds secrets; refusing to guess the key");
  }
  BYOK_ASSIGN_OR_RETURN(
      std::vector<uint8_t> sealed,
      crypto::GcmSeal(key.bytes(), AsBytes(kCanaryPlaintext), AsBytes(kCanaryAad)));
  return txn.PutMeta(kCanaryMetaKey, ToString(sealed));
}

}  // namespace byok::store
