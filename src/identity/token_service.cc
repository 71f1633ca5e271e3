#include "identity/token_service.h"

#include "common/encoding.h"

namespace byok::identity {

TokenService::TokenService(std::shared_ptr<const SigningKey> key, const Clock& clock,
                           Random& random, std::string tenant_id)
    : key_(std::move(key)), clock_(clock), random_(random), tenant_id_(std::move(tenant_id)) {}

Result<IssuedToken> TokenService::Issue(const Principal& principal, std::string_view resource,
                                        std::string_view issuer, TokenVersion version,
                                        int64_t lifetime_seconds) const {
  if (principal.object_id.empty() || principal.app_id.empty()) {
    return Status::InvalidArgument("cannot issue a token to an incomplete principal");
  }
  if (resource.empty() || issuer.empty()) {
    return Status::InvalidArgument("a token needs a resource and an issuer");
  }
  const bool managed = principal.kind == PrincipalKind::kManagedIdentity;
  const int64_t now = clock_.NowUnix();
  const int64_t exp = now + lifetime_seconds;
  const int64_t iat = lifetime_seconds > 0 ? now : exp - kAccessTokenLifetimeSeconds;
  const char* acr = managed ? "2" : "1";
  nlohmann::json claims = {{"aud", std::string(resource)},
                           {"iss", std::string(issuer)},
                           {"iat", iat},
                           {"nbf", iat},
                           {"exp", exp},
                           {"appid", principal.app_id},
                           {"appidacr", acr},
                           {"idp", std::string(issuer)},
                           {"idtyp", "app"},
                           {"oid", principal.object_id},
                           {"sub", principal.object_id},
                           {"tid", tenant_id_},
                           {"uti", Base64UrlEncode(random_.Bytes(16))},
                           {"ver", version == TokenVersion::kV2 ? "2.0" : "1.0"}};
  if (version == TokenVersion::kV2) {
    claims["azp"] = principal.app_id;
    claims["azpacr"] = acr;
  }
  if (managed) claims["xms_mirid"] = principal.resource_id;
  IssuedToken out;
  BYOK_ASSIGN_OR_RETURN(out.access_token, key_->Sign(claims));
  out.resource = std::string(resource);
  out.issued_at = iat;
  out.expires_on = exp;
  out.expires_in =
      lifetime_seconds == kAccessTokenLifetimeSeconds ? kAccessTokenExpiresIn : lifetime_seconds;
  return out;
}

}  // namespace byok::identity
