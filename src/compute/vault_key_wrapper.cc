#include "compute/vault_key_wrapper.h"

#include <openssl/crypto.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/resource_id.h"
#include "common/encoding.h"
#include "common/json.h"
#include "compute/key_reference.h"

namespace byok::compute {
namespace {

using blockstore::KeyRef;
using blockstore::Layer;
using blockstore::WrappedDek;
using nlohmann::json;

constexpr size_t kCheckBytes = 32;

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

void Wipe(std::vector<uint8_t>& v) {
  if (!v.empty()) OPENSSL_cleanse(v.data(), v.size());
  v.clear();
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// "code/inner" (or "code") and the message of a Key Vault error body.
std::pair<std::string, std::string> ErrorOf(const json& body) {
  std::string code = "Unknown", inner, message;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    code = e.value("code", code);
    message = e.value("message", "");
    if (e.contains("innererror") && e["innererror"].is_object()) {
      inner = e["innererror"].value("code", "");
    }
  }
  return {inner.empty() ? code : code + "/" + inner, message};
}

}  // namespace

VaultKeyWrapper::VaultKeyWrapper(VaultKeyWrapperDeps deps) : deps_(std::move(deps)) {}

void VaultKeyWrapper::Forget(std::string_view des_id) {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_.erase(arm::AsciiLower(des_id));
}

Result<std::string> VaultKeyWrapper::Token(std::string_view des_id, bool refresh) {
  const std::string key = arm::AsciiLower(des_id);
  const int64_t now = UnixSeconds(deps_.identity->clock().Now());
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(key);
    if (!refresh && it != tokens_.end() &&
        it->second.expires_on - deps_.token_refresh_margin.count() > now) {
      return it->second.token;
    }
    if (it != tokens_.end()) tokens_.erase(it);
  }
  auto principal = deps_.identity->directory().FindManagedIdentity(des_id);
  if (!principal.ok()) {
    if (principal.status().Is(StatusCode::kNotFound)) {
      return Status::PermissionDenied(
          fmt::format("NoIdentity: the disk encryption set '{}' has no managed identity", des_id));
    }
    return principal.status();
  }
  BYOK_ASSIGN_OR_RETURN(identity::IssuedToken issued,
                        deps_.identity->IssueToken(*principal, identity::Audience::kKeyVault));
  std::lock_guard<std::mutex> lock(mu_);
  tokens_[key] = CachedToken{principal->object_id, issued.access_token, issued.expires_on};
  return std::move(issued.access_token);
}

Result<VaultKeyWrapper::Reply> VaultKeyWrapper::CallOnce(const std::string& token,
                                                         const std::string& method,
                                                         const std::string& key_url,
                                                         std::string_view suffix,
                                                         const std::string& body) {
  std::optional<KeyUrl> url = KeyUrl::Parse(key_url);
  if (!url) return Status::InvalidArgument(fmt::format("not a key URL: {}", key_url));
  http::Request req;
  req.method = method;
  req.path = fmt::format("/keys/{}", url->name);
  if (!url->version.empty()) req.path += "/" + url->version;
  req.path += suffix;
  req.target = fmt::format("{}?api-version={}", req.path, kKeyVaultApiVersion);
  req.query.emplace_back("api-version", kKeyVaultApiVersion);
  req.host = url->vault + ".vault.localhost";
  req.headers.Set("Host", url->authority);
  req.headers.Set("Authorization", "Bearer " + token);
  req.headers.Set("User-Agent", "byok-compute");
  if (!body.empty()) req.headers.Set("Content-Type", "application/json");
  req.body = body;
  req.request_id = deps_.random->Uuid();
  req.remote_address = "byokd";

  http::Router::Match m = deps_.router->Find(req.method, req.host, req.path);
  if (m.handler == nullptr) {
    Wipe(req.body);
    return Status::Unavailable(
        fmt::format("NoRoute: no Key Vault route for {} {}", req.method, req.path));
  }
  req.params = std::move(m.params);
  http::Response resp = (*m.handler)(req);
  Wipe(req.body);
  Reply reply;
  reply.status = resp.status;
  if (!resp.body.empty()) {
    auto parsed = ParseJsonBody(resp.body);
    Wipe(resp.body);
    if (parsed.ok()) reply.body = std::move(parsed).value();
  }
  return reply;
}

Result<VaultKeyWrapper::Reply> VaultKeyWrapper::Call(std::string_view des_id,
                                                     const std::string& method,
                                                     const std::string& key_url,
                                                     std::string_view suffix, std::string body) {
  BYOK_ASSIGN_OR_RETURN(std::string token, Token(des_id, false));
  auto reply = CallOnce(token, method, key_url, suffix, body);
  Wipe(token);
  if (reply.ok() && reply->status == 401) {
    // The cached token was refused (signing key rotated, identity replaced): one fresh try.
    BYOK_ASSIGN_OR_RETURN(token, Token(des_id, true));
    reply = CallOnce(token, method, key_url, suffix, body);
    Wipe(token);
  }
  Wipe(body);
  return reply;
}

Status VaultKeyWrapper::ErrorStatus(const Reply& reply, const std::string& key_url,
                                    bool unwrapping) {
  auto [code, message] = ErrorOf(reply.body);
  const std::string text = fmt::format("{}: {}", code, message);
  if (reply.status == 401 || code == "Forbidden/ForbiddenByPolicy" ||
      code == "Forbidden/ForbiddenByRbac" || code == "Forbidden" || code == "AccessDenied") {
    return Status::PermissionDenied(text);
  }
  if (reply.status == 403) return Status::FailedPrecondition(text);  // KeyDisabled, KeyExpired...
  if (reply.status == 404) {
    // Soft-deleted (recoverable) is a revocation; missing (purged, never created) is final.
    std::optional<KeyUrl> url = KeyUrl::Parse(key_url);
    if (url && deps_.store != nullptr) {
      KeyLookup found;
      Status s = store::RunInReadTransaction(*deps_.store, [&](store::Transaction& txn) -> Status {
        BYOK_ASSIGN_OR_RETURN(found, LookupKey(txn, *url));
        return Status::Ok();
      });
      if (s.ok()) {
        if (found.vault && found.vault->deleted) {
          return Status::FailedPrecondition(
              fmt::format("{} (the vault '{}' is soft-deleted)", text, url->vault));
        }
        if (found.vault && found.key_deleted) {
          return Status::FailedPrecondition(
              fmt::format("{} (the key '{}' is soft-deleted)", text, url->name));
        }
      }
    }
    return Status::NotFound(text);
  }
  if (reply.status == 400 && unwrapping) return Status::DataLoss(text);
  if (reply.status >= 500) return Status::Unavailable(text);
  return Status::Internal(fmt::format("Key Vault answered {}: {}", reply.status, text));
}

Result<WrappedDek> VaultKeyWrapper::Wrap(const KeyRef& key, std::span<const uint8_t> dek) {
  if (key.layer != Layer::kCustomer) {
    return Status::InvalidArgument("VaultKeyWrapper wraps customer layers only");
  }
  std::optional<KeyUrl> url = KeyUrl::Parse(key.key_id);
  if (!url || url->version.empty()) {
    return Status::InvalidArgument(fmt::format("not a versioned key URL: {}", key.key_id));
  }
  json req = {{"alg", kWrapAlgorithm}, {"value", Base64UrlEncode(dek)}};
  std::string body = req.dump();
  Wipe(req["value"].get_ref<std::string&>());
  BYOK_ASSIGN_OR_RETURN(Reply reply, Call(key.des_id, "POST", key.key_id, "/wrapkey", body));
  if (reply.status != 200) return ErrorStatus(reply, key.key_id, false);
  auto value = reply.body.is_object() ? reply.body.find("value") : reply.body.end();
  if (!reply.body.is_object() || value == reply.body.end() || !value->is_string()) {
    return Status::Internal("Key Vault wrapKey answered without a value");
  }
  auto wrapped = Base64UrlDecode(value->get<std::string>());
  if (!wrapped.ok()) return Status::Internal("Key Vault wrapKey answered a malformed value");
  WrappedDek out;
  out.key = key;
  out.algorithm = kWrapAlgorithm;
  out.wrapped = std::move(wrapped).value();
  return out;
}

Result<SecretBytes> VaultKeyWrapper::Unwrap(const WrappedDek& wrapped) {
  if (wrapped.key.layer != Layer::kCustomer) {
    return Status::InvalidArgument("VaultKeyWrapper unwraps customer layers only");
  }
  if (wrapped.algorithm != kWrapAlgorithm) {
    return Status::InvalidArgument(fmt::format("unsupported wrap algorithm {}", wrapped.algorithm));
  }
  std::optional<KeyUrl> url = KeyUrl::Parse(wrapped.key.key_id);
  if (!url || url->version.empty()) {
    return Status::InvalidArgument(fmt::format("not a versioned key URL: {}", wrapped.key.key_id));
  }
  json req = {{"alg", kWrapAlgorithm}, {"value", Base64UrlEncode(wrapped.wrapped)}};
  BYOK_ASSIGN_OR_RETURN(
      Reply reply, Call(wrapped.key.des_id, "POST", wrapped.key.key_id, "/unwrapkey", req.dump()));
  if (reply.status != 200) return ErrorStatus(reply, wrapped.key.key_id, true);
  auto value = reply.body.is_object() ? reply.body.find("value") : reply.body.end();
  if (!reply.body.is_object() || value == reply.body.end() || !value->is_string()) {
    return Status::Internal("Key Vault unwrapKey answered without a value");
  }
  std::string& text = value->get_ref<std::string&>();
  auto plain = Base64UrlDecode(text);
  Wipe(text);
  if (!plain.ok()) return Status::Internal("Key Vault unwrapKey answered a malformed value");
  SecretBytes out(*plain);
  Wipe(*plain);
  return out;
}

Status VaultKeyWrapper::CheckAccess(std::string_view des_id, std::string_view key_url) {
  std::optional<KeyUrl> url = KeyUrl::Parse(key_url);
  if (!url || url->version.empty()) {
    return Status::InvalidArgument(fmt::format("not a versioned key URL: {}", key_url));
  }
  const std::string id(key_url);
  BYOK_ASSIGN_OR_RETURN(Reply got, Call(des_id, "GET", id, "", ""));
  if (got.status != 200) return ErrorStatus(got, id, false);

  std::vector<uint8_t> probe = deps_.random->Bytes(kCheckBytes);
  KeyRef ref{Layer::kCustomer, id, std::string(des_id)};
  auto wrapped = Wrap(ref, probe);
  if (!wrapped.ok()) {
    Wipe(probe);
    return wrapped.status();
  }
  auto back = Unwrap(*wrapped);
  if (!back.ok()) {
    Wipe(probe);
    return back.status();
  }
  bool same =
      back->size() == probe.size() && CRYPTO_memcmp(back->data(), probe.data(), probe.size()) == 0;
  Wipe(probe);
  if (!same) return Status::DataLoss("CheckFailed: unwrapKey did not return the wrapped bytes");
  return Status::Ok();
}

}  // namespace byok::compute
