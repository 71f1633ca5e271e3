// The OAuth2 token endpoints, OpenID configuration documents and JWKS (see identity_service.h).
#include <spdlog/spdlog.h>

#include <openssl/crypto.h>

#include "common/encoding.h"
#include "identity/errors.h"
#include "identity/identity_service.h"
#include "identity/internal/util.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;
using Form = std::vector<std::pair<std::string, std::string>>;
namespace entra = errors::entra;

// Which authority a request came to.
enum class Flavor { kAdfs, kV1, kV2 };

struct Authority {
  Flavor flavor;
  std::string host;  // "localhost:8443", as the client sent it
  std::string issuer;
};

std::string HostOf(const IdentityService& svc, const http::Request& req) {
  std::string host = internal::RequestAuthority(req);
  return host.empty() ? svc.DefaultAuthority() : host;
}

// Resolves the {tenant} path segment: our tenant GUID, "organizations", "common" or "adfs".
// Returns the ADFS flavor for "adfs".
ApiResult<Authority> ResolveAuthority(const IdentityService& svc, const http::Request& req,
                                      Flavor flavor) {
  Authority a;
  a.host = HostOf(svc, req);
  auto it = req.params.find("tenant");
  if (flavor != Flavor::kAdfs && it != req.params.end()) {
    std::string tenant = internal::ToLowerAscii(it->second);
    if (tenant == "adfs") {
      flavor = Flavor::kAdfs;
    } else if (tenant != svc.tenant_id() && tenant != "organizations" && tenant != "common") {
      return MakeError(entra::kTenantNotFound, internal::Truncate(it->second, 64));
    }
  }
  a.flavor = flavor;
  switch (flavor) {
    case Flavor::kAdfs:
      a.issuer = AdfsIssuer(a.host);
      break;
    case Flavor::kV2:
      a.issuer = V2Issuer(a.host, svc.tenant_id());
      break;
    case Flavor::kV1:
    default:
      a.issuer = V1Issuer(a.host, svc.tenant_id());
      break;
  }
  return a;
}

// Entra's error body: {"error","error_description","error_codes","timestamp","trace_id",
// "correlation_id"}.
http::Response EntraError(const IdentityService& svc, const http::Request& req, const ApiError& e) {
  std::string timestamp = internal::FormatEntraTimestamp(svc.clock().Now());
  std::string correlation = internal::ClientRequestId(req);
  json codes = json::array();
  // The message starts with "AADSTS<number>: ".
  if (e.message.starts_with("AADSTS")) {
    size_t end = e.message.find(':');
    std::string digits = e.message.substr(6, end == std::string::npos ? 0 : end - 6);
    if (!digits.empty() && digits.size() < 10 &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
      codes.push_back(std::stoll(digits));
    }
  }
  json body = {{"error", e.code},
               {"error_description", e.message + "\r\nTrace ID: " + req.request_id +
                                         "\r\nCorrelation ID: " + correlation +
                                         "\r\nTimestamp: " + timestamp},
               {"error_codes", codes},
               {"timestamp", timestamp},
               {"trace_id", req.request_id},
               {"correlation_id", correlation}};
  http::Response r = http::Response::Json(e.http_status, body);
  r.headers.Set("Cache-Control", "no-store, no-cache");
  r.headers.Set("Pragma", "no-cache");
  return r;
}

// The client's id and secret from the form or from HTTP Basic (RFC 6749 section 2.3.1).
struct ClientCredentials {
  std::optional<std::string> client_id;
  std::optional<std::string> client_secret;
  ~ClientCredentials() {
    if (client_secret) OPENSSL_cleanse(client_secret->data(), client_secret->size());
  }
};

void ReadClientCredentials(const http::Request& req, const Form& form, ClientCredentials& out) {
  out.client_id = internal::FormValue(form, "client_id");
  out.client_secret = internal::FormValue(form, "client_secret");
  if (out.client_id && out.client_secret) return;
  auto auth = req.headers.Get("Authorization");
  if (!auth || !internal::StartsWithIgnoreCase(*auth, "Basic ")) return;
  auto decoded = Base64Decode(internal::TrimSpaces(std::string_view(*auth).substr(6)));
  if (!decoded.ok()) return;
  std::string pair = ToString(*decoded);
  OPENSSL_cleanse(decoded->data(), decoded->size());
  size_t colon = pair.find(':');
  if (colon != std::string::npos) {
    auto id = internal::PercentDecode(pair.substr(0, colon));
    auto secret = internal::PercentDecode(pair.substr(colon + 1));
    if (id.ok() && secret.ok()) {
      if (!out.client_id) out.client_id = std::move(id).value();
      if (!out.client_secret) out.client_secret = std::move(secret).value();
    }
    if (secret.ok()) OPENSSL_cleanse(secret->data(), secret->size());
  }
  OPENSSL_cleanse(pair.data(), pair.size());
}

// "https://management.core.windows.net//.default" → "https://management.core.windows.net/".
// OIDC scopes (openid, profile, offline_access, email) are ignored; exactly one
// "<resource>/.default" must remain.
std::optional<std::string> ResourceFromScope(std::string_view scope) {
  std::optional<std::string> resource;
  constexpr std::string_view kDefault = "/.default";
  while (!scope.empty()) {
    size_t sp = scope.find(' ');
    std::string_view item = scope.substr(0, sp);
    scope = sp == std::string_view::npos ? std::string_view() : scope.substr(sp + 1);
    if (item.empty() || item == "openid" || item == "profile" || item == "offline_access" ||
        item == "email") {
      continue;
    }
    if (resource || !internal::EndsWith(item, kDefault) || item.size() == kDefault.size()) {
      return std::nullopt;
    }
    resource = std::string(item.substr(0, item.size() - kDefault.size()));
  }
  return resource;
}

http::Response HandleToken(IdentityService& svc, http::Request& req, Flavor flavor) {
  auto authority = ResolveAuthority(svc, req, flavor);
  if (!authority.ok()) return EntraError(svc, req, authority.error());
  const bool v1 = authority->flavor == Flavor::kV1;

  auto parsed = internal::ParseForm(req.body);
  Form form = parsed.ok() ? std::move(parsed).value() : Form();
  struct Wipe {
    Form& f;
    ~Wipe() {
      for (auto& [n, v] : f) OPENSSL_cleanse(v.data(), v.size());
    }
  } wipe{form};

  auto grant_type = internal::FormValue(form, "grant_type");
  if (!grant_type || grant_type->empty()) {
    return EntraError(svc, req, MakeError(entra::kMissingParameter, "grant_type"));
  }
  if (*grant_type != "client_credentials") {
    return EntraError(svc, req,
                      MakeError(entra::kUnsupportedGrantType, internal::Truncate(*grant_type, 64)));
  }
  ClientCredentials creds;
  ReadClientCredentials(req, form, creds);
  if (!creds.client_id || creds.client_id->empty()) {
    return EntraError(svc, req, MakeError(entra::kMissingParameter, "client_id"));
  }
  auto scope = internal::FormValue(form, "scope");
  auto resource_field = internal::FormValue(form, "resource");
  std::string resource;
  if (scope && !scope->empty()) {
    auto r = ResourceFromScope(*scope);
    if (!r)
      return EntraError(svc, req, MakeError(entra::kInvalidScope, internal::Truncate(*scope)));
    resource = std::move(*r);
  } else if (resource_field && !resource_field->empty()) {
    resource = *resource_field;
  } else {
    return EntraError(svc, req, MakeError(entra::kMissingParameter, v1 ? "resource" : "scope"));
  }

  const std::string& client_id = *creds.client_id;
  std::string shown_id = internal::Truncate(client_id, 64);
  if (!creds.client_secret || creds.client_secret->empty()) {
    auto known = svc.directory().FindByAppId(client_id);
    if (!known.ok() && known.status().Is(StatusCode::kNotFound)) {
      return EntraError(svc, req, MakeError(entra::kUnknownClient, shown_id, svc.tenant_id()));
    }
    return EntraError(svc, req, MakeError(entra::kMissingClientSecret));
  }
  auto principal = svc.directory().VerifyClientSecret(client_id, *creds.client_secret);
  if (!principal.ok()) {
    const Status& s = principal.status();
    if (s.Is(StatusCode::kNotFound)) {
      return EntraError(svc, req, MakeError(entra::kUnknownClient, shown_id, svc.tenant_id()));
    }
    if (s.Is(StatusCode::kUnauthenticated)) {
      spdlog::info("token request refused: invalid client secret for app {}", shown_id);
      return EntraError(svc, req, MakeError(entra::kInvalidClientSecret, shown_id));
    }
    spdlog::error("token request failed: {}", s.ToString());
    return EntraError(svc, req, MakeError(entra::kServerError));
  }

  if (!AudienceOfResource(resource, svc.server_base_urls())) {
    return EntraError(
        svc, req,
        MakeError(entra::kInvalidResource, internal::Truncate(resource), svc.tenant_id()));
  }
  auto token =
      svc.tokens().Issue(*principal, resource, authority->issuer,
                         authority->flavor == Flavor::kV2 ? TokenVersion::kV2 : TokenVersion::kV1);
  if (!token.ok()) {
    spdlog::error("token issue failed: {}", token.status().ToString());
    return EntraError(svc, req, MakeError(entra::kServerError));
  }
  spdlog::debug("token issued to app {} for {}", principal->app_id, resource);
  json body = {{"token_type", "Bearer"},
               {"expires_in", token->expires_in},
               {"ext_expires_in", token->expires_in},
               {"access_token", token->access_token}};
  if (v1 || !scope || scope->empty()) {
    body["expires_on"] = std::to_string(token->expires_on);
    body["not_before"] = std::to_string(token->issued_at);
    body["resource"] = resource;
  }
  http::Response r = http::Response::Json(200, body);
  OPENSSL_cleanse(token->access_token.data(), token->access_token.size());
  r.headers.Set("Cache-Control", "no-store, no-cache");
  r.headers.Set("Pragma", "no-cache");
  if (auto id = req.headers.Get("client-request-id")) {
    r.headers.Set("client-request-id", internal::Truncate(*id, 128));
  }
  return r;
}

json OpenIdConfiguration(const IdentityService& svc, const Authority& a) {
  std::string base = "https://" + a.host;
  std::string tenant_base = base + "/" + svc.tenant_id();
  std::string authorize, token, keys;
  switch (a.flavor) {
    case Flavor::kAdfs:
      authorize = base + "/adfs/oauth2/authorize";
      token = base + "/adfs/oauth2/token";
      keys = base + "/adfs/discovery/keys";
      break;
    case Flavor::kV2:
      authorize = tenant_base + "/oauth2/v2.0/authorize";
      token = tenant_base + "/oauth2/v2.0/token";
      keys = tenant_base + "/discovery/v2.0/keys";
      break;
    case Flavor::kV1:
    default:
      authorize = tenant_base + "/oauth2/authorize";
      token = tenant_base + "/oauth2/token";
      keys = tenant_base + "/discovery/keys";
      break;
  }
  json doc = {
      {"issuer", a.issuer},
      {"authorization_endpoint", authorize},
      {"token_endpoint", token},
      {"jwks_uri", keys},
      {"token_endpoint_auth_methods_supported", {"client_secret_post", "client_secret_basic"}},
      {"grant_types_supported", {"client_credentials"}},
      {"response_types_supported", {"code", "id_token", "code id_token", "id_token token"}},
      {"response_modes_supported", {"query", "fragment", "form_post"}},
      {"subject_types_supported", {"pairwise"}},
      {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
      {"id_token_signing_alg_values_supported", {"RS256"}},
      {"claims_supported",
       {"sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "appid", "azp", "idtyp", "ver"}},
      {"request_uri_parameter_supported", false},
      {"tenant_region_scope", nullptr},
      {"cloud_instance_name", "byok"}};
  if (a.flavor == Flavor::kAdfs) doc["access_token_issuer"] = a.issuer;
  return doc;
}

http::Handler OpenIdHandler(IdentityService& svc, Flavor flavor) {
  return [&svc, flavor](http::Request& req) {
    auto a = ResolveAuthority(svc, req, flavor);
    if (!a.ok()) return EntraError(svc, req, a.error());
    return http::Response::Json(200, OpenIdConfiguration(svc, *a));
  };
}

http::Handler JwksHandler(IdentityService& svc, Flavor flavor) {
  return [&svc, flavor](http::Request& req) {
    auto a = ResolveAuthority(svc, req, flavor);
    if (!a.ok()) return EntraError(svc, req, a.error());
    return http::Response::Json(200, svc.signing_key().Jwks());
  };
}

http::Handler TokenHandler(IdentityService& svc, Flavor flavor) {
  return [&svc, flavor](http::Request& req) { return HandleToken(svc, req, flavor); };
}

}  // namespace

void AddTokenRoutes(http::Router& router, IdentityService& service) {
  router.Add("GET", "*", "/adfs/.well-known/openid-configuration",
             OpenIdHandler(service, Flavor::kAdfs));
  router.Add("POST", "*", "/adfs/oauth2/token", TokenHandler(service, Flavor::kAdfs));
  router.Add("GET", "*", "/adfs/discovery/keys", JwksHandler(service, Flavor::kAdfs));

  router.Add("GET", "*", "/{tenant}/v2.0/.well-known/openid-configuration",
             OpenIdHandler(service, Flavor::kV2));
  router.Add("POST", "*", "/{tenant}/oauth2/v2.0/token", TokenHandler(service, Flavor::kV2));
  router.Add("GET", "*", "/{tenant}/discovery/v2.0/keys", JwksHandler(service, Flavor::kV2));

  router.Add("GET", "*", "/{tenant}/.well-known/openid-configuration",
             OpenIdHandler(service, Flavor::kV1));
  router.Add("POST", "*", "/{tenant}/oauth2/token", TokenHandler(service, Flavor::kV1));
  router.Add("GET", "*", "/{tenant}/discovery/keys", JwksHandler(service, Flavor::kV1));
}

}  // namespace byok::identity
