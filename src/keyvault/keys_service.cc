#include "keyvault/keys_service.h"

#include <iterator>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/encoding.h"
#include "common/json.h"
#include "identity/errors.h"
#include "keyvault/access.h"
#include "keyvault/errors.h"

namespace byok::keyvault {

namespace e = errors;
using nlohmann::json;

const std::vector<std::string>& KeysApiVersions() {
  static const std::vector<std::string> kVersions = {
      "2025-07-01",    "7.6", "7.6-preview.2", "7.5", "7.5-preview.1", "7.4",
      "7.4-preview.1", "7.3", "7.3-preview",   "7.2", "7.1",           "7.0"};
  return kVersions;
}

namespace {

constexpr std::string_view kLatestStable = "7.6";
constexpr char kHostPattern[] = "*.vault.localhost";
constexpr int kDefaultMaxResults = 25;

enum class Op {
  kListKeys,
  kCreate,
  kImport,
  kGet,
  kDelete,
  kListVersions,
  kUpdate,
  kCrypto,
  kRotate,
  kGetPolicy,
  kSetPolicy,
  kBackup,
  kRestore,
  kListDeleted,
  kGetDeleted,
  kPurge,
  kRecover,
  kRandomBytes,
};

struct OpSpec {
  Op op;
  std::string_view audit_name;
  std::optional<KeyPermission> permission;  // nullopt: any authenticated caller
  bool needs_body;
  CryptoOp crypto = CryptoOp::kEncrypt;  // for kCrypto
};

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Param(const http::Request& req, const char* name) {
  auto it = req.params.find(name);
  return it == req.params.end() ? std::string() : it->second;
}

// The port of a Host header value ("v.vault.localhost:8443" → "8443"; "" if none).
std::string HostPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos && close + 1 < host.size() && host[close + 1] == ':') {
      return std::string(host.substr(close + 2));
    }
    return "";
  }
  size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? "" : std::string(host.substr(colon + 1));
}

// The token's "iss" claim, unverified (the Authenticator has verified the token already); only
// used to name the caller in 403 messages.
std::string TokenIssuer(const http::Request& req) {
  std::optional<std::string> auth = req.headers.Get("Authorization");
  if (!auth) return "";
  size_t first = auth->find('.');
  size_t second = first == std::string::npos ? first : auth->find('.', first + 1);
  if (second == std::string::npos) return "";
  auto payload = Base64UrlDecode(std::string_view(*auth).substr(first + 1, second - first - 1));
  if (!payload.ok()) return "";
  auto claims = ParseJsonBody(ToString(*payload));
  if (!claims.ok() || !claims->is_object()) return "";
  auto iss = claims->find("iss");
  return iss != claims->end() && iss->is_string() ? iss->get<std::string>() : "";
}

std::string EncodeToken(std::string_view t) { return Base64UrlEncode(AsBytes(t)); }

std::optional<std::string> DecodeToken(std::string_view t) {
  auto bytes = Base64UrlDecode(t);
  if (!bytes.ok()) return std::nullopt;
  std::string s = ToString(*bytes);
  if (s.empty() || s.size() > 127) return std::nullopt;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return std::nullopt;
  }
  return s;
}

}  // namespace

// Validated bearer tokens → their principal, for a short time (see keys_service.h).
class TokenCache {
 public:
  explicit TokenCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  std::optional<identity::Principal> Find(const std::string& token) const {
    if (ttl_.count() <= 0) return std::nullopt;
    std::shared_lock lock(mu_);
    auto it = map_.find(token);
    if (it == map_.end() || std::chrono::steady_clock::now() >= it->second.expires) {
      return std::nullopt;
    }
    return it->second.principal;
  }

  void Insert(const std::string& token, const identity::Principal& principal) {
    if (ttl_.count() <= 0) return;
    auto now = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    if (map_.size() >= kMaxEntries) {
      for (auto it = map_.begin(); it != map_.end();) {
        it = now >= it->second.expires ? map_.erase(it) : std::next(it);
      }
      if (map_.size() >= kMaxEntries) map_.clear();
    }
    map_[token] = Entry{principal, now + ttl_};
  }

 private:
  static constexpr size_t kMaxEntries = 10000;
  struct Entry {
    identity::Principal principal;
    std::chrono::steady_clock::time_point expires;
  };
  const std::chrono::milliseconds ttl_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> map_;
};

class KeysService::Impl {
 public:
  explicit Impl(KeysServiceDeps deps)
      : deps_(std::move(deps)),
        keys_(*deps_.store, *deps_.clock, *deps_.random, std::move(deps_.backup_key)),
        tokens_(deps_.token_cache_ttl) {}

  KeyStore& keys() { return keys_; }

  void AddRoutes(http::Router& router) {
    auto add = [&](const char* method, const char* path, OpSpec spec,
                   http::Dispatch dispatch = http::Dispatch::kWorker) {
      router.Add(
          method, kHostPattern, path,
          [this, spec](http::Request& req) { return Handle(spec, req); }, dispatch);
    };
    using P = KeyPermission;
    add("GET", "/keys", {Op::kListKeys, "KeyList", P::kList, false});
    add("POST", "/keys/restore", {Op::kRestore, "KeyRestore", P::kRestore, true});
    add("POST", "/keys/{name}/create", {Op::kCreate, "KeyCreate", P::kCreate, true});
    add("PUT", "/keys/{name}", {Op::kImport, "KeyImport", P::kImport, true});
    add("GET", "/keys/{name}", {Op::kGet, "KeyGet", P::kGet, false});
    add("DELETE", "/keys/{name}", {Op::kDelete, "KeyDelete", P::kDelete, false});
    add("PATCH", "/keys/{name}", {Op::kUpdate, "KeyUpdate", P::kUpdate, true});
    add("GET", "/keys/{name}/versions", {Op::kListVersions, "KeyListVersions", P::kList, false});
    add("GET", "/keys/{name}/{version}", {Op::kGet, "KeyGet", P::kGet, false});
    add("PATCH", "/keys/{name}/{version}", {Op::kUpdate, "KeyUpdate", P::kUpdate, true});
    add("POST", "/keys/{name}/rotate", {Op::kRotate, "KeyRotate", P::kRotate, false});
    add("GET", "/keys/{name}/rotationpolicy",
        {Op::kGetPolicy, "KeyRotationPolicyGet", P::kGetRotationPolicy, false});
    add("PUT", "/keys/{name}/rotationpolicy",
        {Op::kSetPolicy, "KeyRotationPolicySet", P::kSetRotationPolicy, true});
    add("POST", "/keys/{name}/backup", {Op::kBackup, "KeyBackup", P::kBackup, false});
    struct CryptoRoute {
      const char* path;
      const char* audit;
      P permission;
      CryptoOp op;
    };
    for (const CryptoRoute& c : {
             CryptoRoute{"/keys/{name}/{version}/encrypt", "KeyEncrypt", P::kEncrypt,
                         CryptoOp::kEncrypt},
             CryptoRoute{"/keys/{name}/{version}/decrypt", "KeyDecrypt", P::kDecrypt,
                         CryptoOp::kDecrypt},
             CryptoRoute{"/keys/{name}/{version}/wrapkey", "KeyWrap", P::kWrapKey,
                         CryptoOp::kWrapKey},
             CryptoRoute{"/keys/{name}/{version}/unwrapkey", "KeyUnwrap", P::kUnwrapKey,
                         CryptoOp::kUnwrapKey},
             CryptoRoute{"/keys/{name}/{version}/sign", "KeySign", P::kSign, CryptoOp::kSign},
             CryptoRoute{"/keys/{name}/{version}/verify", "KeyVerify", P::kVerify,
                         CryptoOp::kVerify},
         }) {
      // The data plane's hot path: with the vault and key version cached (store::GenerationCache)
      // and the audit queued in memory, these handlers only compute, so they run on the I/O
      // thread and save two thread hand-offs per request.
      add("POST", c.path, {Op::kCrypto, c.audit, c.permission, true, c.op},
          http::Dispatch::kInline);
    }
    add("GET", "/deletedkeys", {Op::kListDeleted, "KeyListDeleted", P::kList, false});
    add("GET", "/deletedkeys/{name}", {Op::kGetDeleted, "KeyGetDeleted", P::kGet, false});
    add("DELETE", "/deletedkeys/{name}", {Op::kPurge, "KeyPurge", P::kPurge, false});
    add("POST", "/deletedkeys/{name}/recover", {Op::kRecover, "KeyRecover", P::kRecover, false});
    add("POST", "/rng", {Op::kRandomBytes, "GetRandomBytes", std::nullopt, true});
  }

  Status PurgeExpired(TimePoint now) {
    BYOK_ASSIGN_OR_RETURN(auto events, keys_.PurgeExpired(now));
    AuditHousekeeping(events);
    return Status::Ok();
  }

  Status RunRotationPolicies(TimePoint now) {
    BYOK_ASSIGN_OR_RETURN(auto events, keys_.RunRotationPolicies(now));
    AuditHousekeeping(events);
    return Status::Ok();
  }

 private:
  void AuditHousekeeping(const std::vector<HousekeepingEvent>& events) {
    if (deps_.audit == nullptr) return;
    for (const HousekeepingEvent& ev : events) {
      audit::Record r;
      r.vault = ev.vault;
      r.object = ev.key;
      r.version = ev.version;
      r.operation = ev.operation;
      r.status = 200;
      r.result = "Success";
      r.caller_app_id = "byok-scheduler";
      deps_.audit->Append(std::move(r));
    }
  }

  http::Response ErrorResponse(const KvError& err) const {
    return http::Response::Json(err.http_status, err.ToJson());
  }

  // Any 401: the error body plus Key Vault's challenge.
  http::Response Challenge(const http::Request& req, const VaultRecord& vault,
                           const KvError& err) const {
    http::Response r = ErrorResponse(err);
    std::string port = HostPort(req.headers.Get("Host").value_or(""));
    std::string suffix = port.empty() || port == "443" ? "" : ":" + port;
    r.headers.Set("WWW-Authenticate",
                  fmt::format("Bearer authorization=\"https://localhost{}/{}\", "
                              "resource=\"https://vault.localhost{}\"",
                              suffix, vault.tenant_id, suffix));
    return r;
  }

  void Audit(const http::Request& req, const identity::Principal& caller, const VaultRecord& vault,
             const OpSpec& spec, std::string_view key, std::string_view version, int status,
             std::string_view result) {
    if (deps_.audit == nullptr) return;
    audit::Record r;
    r.caller_object_id = caller.object_id;
    r.caller_app_id = caller.app_id;
    r.vault = vault.name;
    r.object = std::string(key);
    r.version = LowerAscii(version);
    r.operation = std::string(spec.audit_name);
    r.status = status;
    r.result = std::string(result);
    r.request_id = req.request_id;
    r.client_ip = req.remote_address;
    deps_.audit->Append(std::move(r));
  }

  // The vault named by the host (live or soft-deleted), or nullopt; a store failure as a 500.
  // Served from memory while nothing was written to the store since it was read
  // (store/generation_cache.h): most requests are crypto operations on the same few vaults.
  std::variant<std::optional<VaultRecord>, http::Response> FindVault(const http::Request& req) {
    const std::string label = LowerAscii(Param(req, "host_label"));
    const uint64_t generation = deps_.store->change_generation();
    if (auto hit = vaults_.Find(label, generation)) return *hit;
    auto begun = deps_.store->BeginRead();
    if (!begun.ok()) return Internal(begun.status());
    auto found = FindVaultByName(**begun, label);
    if (!found.ok()) return Internal(found.status());
    vaults_.Insert(label, generation,
                   std::make_shared<const std::optional<VaultRecord>>(found.value()));
    return std::move(found).value();
  }

  http::Response Handle(const OpSpec& spec, http::Request& req) {
    // 1-2. The vault behind the host and the caller. An unknown or deleted vault answers 404
    // whoever asks; otherwise a request without a valid token gets the challenge, before its body
    // is looked at.
    std::optional<ApiResult<identity::Principal>> principal;
    if (std::optional<std::string> auth = req.headers.Get("Authorization")) {
      if (std::optional<identity::Principal> cached = tokens_.Find(*auth)) {
        principal.emplace(std::move(*cached));
      } else {
        principal.emplace(deps_.authenticator->Authenticate(req, identity::Audience::kKeyVault));
        if (principal->ok() && req.headers.GetAll("Authorization").size() == 1) {
          tokens_.Insert(*auth, principal->value());
        }
      }
    }
    auto found = FindVault(req);
    if (auto* error = std::get_if<http::Response>(&found)) return std::move(*error);
    std::optional<VaultRecord> vault = std::move(std::get<0>(found));
    if (!vault || vault->deleted) {
      return ErrorResponse(MakeKvError(e::kVaultNotFound, TruncateForError(req.host)));
    }
    if (!principal) {
      return Challenge(req, *vault,
                       FromApiError(MakeError(identity::errors::keyvault::kMissingToken)));
    }
    if (!principal->ok()) return Challenge(req, *vault, FromApiError(principal->error()));
    const identity::Principal& caller = principal->value();

    const std::string name = Param(req, "name");
    const std::string version = Param(req, "version");
    auto finish = [&](KvResult<KvResponse> result) {
      if (!result.ok()) {
        const KvError& err = result.error();
        Audit(req, caller, *vault, spec, name, version, err.http_status,
              err.inner_code.empty() ? err.code : err.inner_code);
        return ErrorResponse(err);
      }
      KvResponse& resp = result.value();
      Audit(req, caller, *vault, spec, name, resp.version.empty() ? version : resp.version,
            resp.status, "Success");
      if (resp.status == 204 || resp.body.is_null()) return http::Response::Empty(resp.status);
      if (resp.next_token) {
        resp.body["nextLink"] = NextLink(req, *resp.next_token);
      } else if (resp.body.contains("value") && resp.body["value"].is_array()) {
        resp.body["nextLink"] = nullptr;
      }
      return http::Response::Json(resp.status, resp.body);
    };

    // 3. api-version.
    std::optional<std::string> api_version = req.Query("api-version");
    if (!api_version || api_version->empty()) {
      return finish(MakeKvError(e::kMissingApiVersion));
    }
    if (std::find(KeysApiVersions().begin(), KeysApiVersions().end(), *api_version) ==
        KeysApiVersions().end()) {
      return finish(
          MakeKvError(e::kUnknownApiVersion, TruncateForError(*api_version), kLatestStable));
    }

    // 4. Authorization.
    if (spec.permission) {
      std::string_view scope_key =
          spec.op == Op::kListKeys || spec.op == Op::kListDeleted || spec.op == Op::kRestore
              ? std::string_view()
              : std::string_view(name);
      if (std::optional<KvError> denied =
              CheckKeyPermission(*vault, caller, *spec.permission, *deps_.authorizer, scope_key)) {
        if (denied->http_status == 403) {
          denied = CheckKeyPermission(*vault, caller, *spec.permission, *deps_.authorizer,
                                      scope_key, TokenIssuer(req));
        }
        if (denied) return finish(*denied);
      }
    }

    // 5. The body.
    json body = json::object();
    if (spec.needs_body) {
      Result<json> parsed = ParseJsonBody(req.body);
      if (!parsed.ok()) return finish(MakeKvError(e::kInvalidBody, parsed.status().message()));
      body = std::move(parsed).value();
    }

    // 6. The operation.
    std::string host = LowerAscii(req.headers.Get("Host").value_or(req.host));
    if (!host.empty() && host.back() == '.') host.pop_back();
    const std::string base = "https://" + host;
    switch (spec.op) {
      case Op::kListKeys:
      case Op::kListDeleted: {
        auto page = ParsePage(req);
        if (!page.ok()) return finish(page.error());
        return finish(spec.op == Op::kListKeys ? keys_.ListKeys(*vault, base, *page)
                                               : keys_.ListDeletedKeys(*vault, base, *page));
      }
      case Op::kListVersions: {
        auto page = ParsePage(req);
        if (!page.ok()) return finish(page.error());
        return finish(keys_.ListVersions(*vault, base, name, *page));
      }
      case Op::kCreate:
        return finish(keys_.CreateKey(*vault, base, name, body));
      case Op::kImport:
        return finish(keys_.ImportKey(*vault, base, name, body));
      case Op::kGet:
        return finish(keys_.GetKey(*vault, base, name, version));
      case Op::kDelete:
        return finish(keys_.DeleteKey(*vault, base, name));
      case Op::kUpdate:
        return finish(keys_.UpdateKey(*vault, base, name, version, body));
      case Op::kCrypto:
        return finish(keys_.Crypto(*vault, base, name, version, spec.crypto, body));
      case Op::kRotate:
        return finish(keys_.RotateKey(*vault, base, name));
      case Op::kGetPolicy:
        return finish(keys_.GetRotationPolicy(*vault, base, name));
      case Op::kSetPolicy:
        return finish(keys_.SetRotationPolicy(*vault, base, name, body));
      case Op::kBackup:
        return finish(keys_.BackupKey(*vault, name));
      case Op::kRestore:
        return finish(keys_.RestoreKey(*vault, base, body));
      case Op::kGetDeleted:
        return finish(keys_.GetDeletedKey(*vault, base, name));
      case Op::kPurge:
        return finish(keys_.PurgeDeletedKey(*vault, name));
      case Op::kRecover:
        return finish(keys_.RecoverDeletedKey(*vault, base, name));
      case Op::kRandomBytes:
        return finish(keys_.GetRandomBytes(body));
    }
    return finish(MakeKvError(e::kInternalError));
  }

  KvResult<PageRequest> ParsePage(const http::Request& req) const {
    PageRequest page;
    page.max_results = kDefaultMaxResults;
    if (std::optional<std::string> m = req.Query("maxresults"); m && !m->empty()) {
      int n = 0;
      bool digits = m->size() <= 4;
      for (char c : *m) {
        if (c < '0' || c > '9') digits = false;
      }
      if (digits) n = std::stoi(*m);
      if (!digits || n < 1 || n > 25)
        return MakeKvError(e::kInvalidMaxResults, TruncateForError(*m));
      page.max_results = n;
    }
    if (std::optional<std::string> t = req.Query("$skiptoken"); t && !t->empty()) {
      std::optional<std::string> after = DecodeToken(*t);
      if (!after) return MakeKvError(e::kInvalidSkipToken);
      page.after = *after;
    }
    return page;
  }

  std::string NextLink(const http::Request& req, std::string_view token) const {
    std::string host = LowerAscii(req.headers.Get("Host").value_or(req.host));
    std::string link = fmt::format("https://{}{}?api-version={}&$skiptoken={}", host, req.path,
                                   req.Query("api-version").value_or(""), EncodeToken(token));
    if (std::optional<std::string> m = req.Query("maxresults"); m && !m->empty()) {
      link += "&maxresults=" + *m;
    }
    return link;
  }

  http::Response Internal(const Status& s) const {
    spdlog::error("keyvault: {}", s.ToString());
    return ErrorResponse(MakeKvError(e::kInternalError));
  }

  KeysServiceDeps deps_;
  KeyStore keys_;
  TokenCache tokens_;
  store::GenerationCache<std::optional<VaultRecord>> vaults_;  // by lower-case vault name
};

KeysService::KeysService(KeysServiceDeps deps) : impl_(std::make_unique<Impl>(std::move(deps))) {}
KeysService::~KeysService() = default;

void KeysService::AddRoutes(http::Router& router) { impl_->AddRoutes(router); }
Status KeysService::PurgeExpired(TimePoint now) { return impl_->PurgeExpired(now); }
Status KeysService::RunRotationPolicies(TimePoint now) { return impl_->RunRotationPolicies(now); }
KeyStore& KeysService::key_store() { return impl_->keys(); }

}  // namespace byok::keyvault
