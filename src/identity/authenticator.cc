#include "identity/authenticator.h"

#include <spdlog/spdlog.h>

#include "crypto/jwt.h"
#include "identity/errors.h"
#include "identity/internal/util.h"

namespace byok::identity {
namespace {

using nlohmann::json;

enum class Failure {
  kMissingHeader,
  kBadHeader,
  kMalformed,
  kBadSignature,
  kExpired,
  kNotYetValid,
  kWrongIssuer,
  kWrongAudience,
  kUnknownPrincipal,
  kInternal,
};

// What the error messages may quote. Only values from tokens whose signature verified.
struct FailureContext {
  std::string audience;
  std::string issuer;
  int64_t exp = 0;
  int64_t nbf = 0;
  int64_t now = 0;
  std::vector<std::string> allowed_audiences;
  std::string expected_issuer;
  std::string authority;
};

std::string QuoteList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ",";
    out += "'" + s + "'";
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

ApiError ArmError(Failure f, const FailureContext& c) {
  namespace e = errors::arm;
  switch (f) {
    case Failure::kMissingHeader:
      return MakeError(e::kMissingAuthorization);
    case Failure::kBadHeader:
      return MakeError(e::kInvalidAuthorizationFormat);
    case Failure::kMalformed:
      return MakeError(e::kInvalidToken);
    case Failure::kBadSignature:
      return MakeError(e::kInvalidSignature);
    case Failure::kExpired:
      return MakeError(e::kExpiredToken, internal::FormatDotNetUtc(c.exp),
                       internal::FormatDotNetUtc(c.now));
    case Failure::kNotYetValid:
      return MakeError(e::kTokenNotYetValid, internal::FormatDotNetUtc(c.nbf),
                       internal::FormatDotNetUtc(c.now));
    case Failure::kWrongIssuer:
      return MakeError(e::kWrongIssuer, internal::Truncate(c.issuer), c.expected_issuer,
                       c.expected_issuer);
    case Failure::kWrongAudience:
      return MakeError(e::kWrongAudience, internal::Truncate(c.audience),
                       QuoteList(c.allowed_audiences));
    case Failure::kUnknownPrincipal:
      return MakeError(e::kUnknownPrincipal);
    case Failure::kInternal:
    default:
      return MakeError(e::kInternalError);
  }
}

ApiError GraphError(Failure f) {
  namespace e = errors::graph;
  switch (f) {
    case Failure::kMissingHeader:
      return MakeError(e::kMissingToken);
    case Failure::kBadHeader:
    case Failure::kMalformed:
      return MakeError(e::kMalformedToken);
    case Failure::kExpired:
    case Failure::kNotYetValid:
      return MakeError(e::kExpiredToken);
    case Failure::kWrongIssuer:
      return MakeError(e::kInvalidIssuer);
    case Failure::kWrongAudience:
      return MakeError(e::kInvalidAudience);
    case Failure::kBadSignature:
    case Failure::kUnknownPrincipal:
      return MakeError(e::kInvalidToken);
    case Failure::kInternal:
    default:
      return MakeError(e::kInternalError);
  }
}

ApiError KeyVaultError(Failure f, const FailureContext& c) {
  namespace e = errors::keyvault;
  switch (f) {
    case Failure::kMissingHeader:
      return MakeError(e::kMissingToken);
    case Failure::kBadHeader:
    case Failure::kMalformed:
    case Failure::kUnknownPrincipal:
      return MakeError(e::kInvalidToken);
    case Failure::kBadSignature:
      return MakeError(e::kUnknownSigningKey);
    case Failure::kExpired:
      return MakeError(e::kExpiredToken);
    case Failure::kNotYetValid:
      return MakeError(e::kTokenNotYetValid);
    case Failure::kWrongIssuer:
      return MakeError(e::kInvalidIssuer, c.expected_issuer, internal::Truncate(c.issuer));
    case Failure::kWrongAudience:
      return MakeError(e::kInvalidAudience, JoinList(c.allowed_audiences, " or "),
                       internal::Truncate(c.audience));
    case Failure::kInternal:
    default:
      return MakeError(e::kInternalError);
  }
}

ApiError MakeFailure(Audience api, Failure f, const FailureContext& c) {
  switch (api) {
    case Audience::kGraph:
      return GraphError(f);
    case Audience::kKeyVault:
      return KeyVaultError(f, c);
    case Audience::kArm:
    default:
      return ArmError(f, c);
  }
}

std::string StringClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int64_t> NumberClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return it->is_number_integer() ? it->get<int64_t>() : static_cast<int64_t>(it->get<double>());
}

}  // namespace

Authenticator::Authenticator(Directory& directory, std::shared_ptr<const SigningKey> key,
                             const Clock& clock, const ServerUrls& urls,
                             AuthenticatorOptions options)
    : directory_(directory), key_(std::move(key)), clock_(clock), urls_(urls), options_(options) {}

ApiResult<Principal> Authenticator::Authenticate(const http::Request& req, Audience api) const {
  FailureContext ctx;
  std::vector<std::string> values = req.headers.GetAll("Authorization");
  if (values.empty()) return MakeFailure(api, Failure::kMissingHeader, ctx);
  if (values.size() > 1) return MakeFailure(api, Failure::kBadHeader, ctx);
  std::string_view value = internal::TrimSpaces(values.front());
  constexpr std::string_view kBearer = "Bearer";
  if (!internal::StartsWithIgnoreCase(value, kBearer) || value.size() <= kBearer.size() ||
      (value[kBearer.size()] != ' ' && value[kBearer.size()] != '\t')) {
    return MakeFailure(api, Failure::kBadHeader, ctx);
  }
  std::string_view token = internal::TrimSpaces(value.substr(kBearer.size()));
  if (token.empty() || token.find_first_of(" \t") != std::string_view::npos) {
    return MakeFailure(api, Failure::kBadHeader, ctx);
  }
  return AuthenticateToken(token, api);
}

ApiResult<Principal> Authenticator::AuthenticateToken(std::string_view token, Audience api) const {
  FailureContext ctx;
  ctx.now = clock_.NowUnix();
  std::vector<std::string> base_urls = urls_.Get();

  auto jwt = crypto::ParseJwt(token);
  if (!jwt.ok()) return MakeFailure(api, Failure::kMalformed, ctx);
  if (!key_->Verify(*jwt).ok()) return MakeFailure(api, Failure::kBadSignature, ctx);
  const json& claims = jwt->claims;

  // Time.
  auto exp = NumberClaim(claims, "exp");
  if (!exp) return MakeFailure(api, Failure::kMalformed, ctx);
  ctx.exp = *exp;
  ctx.nbf = NumberClaim(claims, "nbf").value_or(0);
  Status time = crypto::ValidateTimeClaims(claims, ctx.now, options_.clock_skew_seconds);
  if (!time.ok()) {
    if (!time.Is(StatusCode::kUnauthenticated)) return MakeFailure(api, Failure::kMalformed, ctx);
    return MakeFailure(
        api,
        *exp <= ctx.now - options_.clock_skew_seconds ? Failure::kExpired : Failure::kNotYetValid,
        ctx);
  }

  // Issuer and tenant.
  const std::string& tenant = directory_.tenant_id();
  ctx.issuer = StringClaim(claims, "iss");
  std::string authority = base_urls.empty() ? "localhost" : base_urls.front().substr(8);
  ctx.expected_issuer = AdfsIssuer(authority);
  if (!IsAcceptedIssuer(ctx.issuer, tenant, base_urls) ||
      internal::ToLowerAscii(StringClaim(claims, "tid")) != tenant) {
    return MakeFailure(api, Failure::kWrongIssuer, ctx);
  }

  // Audience.
  auto aud = claims.find("aud");
  if (aud == claims.end() || !aud->is_string()) return MakeFailure(api, Failure::kMalformed, ctx);
  ctx.audience = aud->get<std::string>();
  if (!IsAllowedAudience(api, ctx.audience, base_urls)) {
    ctx.allowed_audiences = AllowedAudiences(api, base_urls);
    return MakeFailure(api, Failure::kWrongAudience, ctx);
  }

  // The principal must still exist.
  std::string oid = StringClaim(claims, "oid");
  if (oid.empty()) return MakeFailure(api, Failure::kUnknownPrincipal, ctx);
  auto principal = directory_.FindByObjectId(oid);
  if (!principal.ok()) {
    if (principal.status().Is(StatusCode::kNotFound)) {
      return MakeFailure(api, Failure::kUnknownPrincipal, ctx);
    }
    spdlog::error("authentication: directory lookup failed: {}", principal.status().ToString());
    return MakeFailure(api, Failure::kInternal, ctx);
  }
  if (internal::ToLowerAscii(StringClaim(claims, "appid")) !=
      internal::ToLowerAscii(principal->app_id)) {
    return MakeFailure(api, Failure::kUnknownPrincipal, ctx);
  }
  return std::move(principal).value();
}

std::string Authenticator::Challenge(const http::Request& req, Audience api,
                                     const ApiError& error) const {
  if (error.http_status != 401 || api == Audience::kKeyVault) return "";
  std::string authority = internal::RequestAuthority(req);
  if (authority.empty()) {
    std::vector<std::string> base_urls = urls_.Get();
    authority = base_urls.empty() ? "localhost" : base_urls.front().substr(8);
  }
  std::string adfs = AdfsIssuer(authority);
  if (api == Audience::kGraph) {
    return "Bearer realm=\"\", authorization_uri=\"" + internal::QuoteHeaderValue(adfs) +
           "/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
  }
  std::string description =
      error.message == errors::arm::kMissingAuthorization.message
          ? "The authentication failed because of missing 'Authorization' header."
          : error.message;
  return "Bearer authorization_uri=\"" + internal::QuoteHeaderValue(adfs) +
         "\", error=\"invalid_token\", error_description=\"" +
         internal::QuoteHeaderValue(description) + "\"";
}

http::Response Authenticator::ErrorResponse(const http::Request& req, Audience api,
                                            const ApiError& error) const {
  http::Response r = api == Audience::kGraph
                         ? internal::GraphErrorResponse(req, error, clock_.Now())
                         : http::Response::Error(error);
  if (std::string challenge = Challenge(req, api, error); !challenge.empty()) {
    r.headers.Set("WWW-Authenticate", std::move(challenge));
  }
  return r;
}

}  // namespace byok::identity
