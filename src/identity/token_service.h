// Issuing access tokens: RS256 JWTs signed by the SigningKey.
//
// Claims (what Entra puts in app-only tokens, enough for every client and for our validators):
//   aud    the requested resource, as requested ("https://management.core.windows.net/")
//   iss    chosen by the caller (endpoints.h: AdfsIssuer / V2Issuer / V1Issuer)
//   iat, nbf = now; exp = now + kAccessTokenLifetimeSeconds (or the lifetime given to Issue: a
//   zero or negative lifetime, used by `byok token --expires-in -2h` to test clients, yields a
//   token that expired that long ago, with iat = nbf = exp - kAccessTokenLifetimeSeconds)
//   oid, sub = the principal's objectId; tid = the tenant; appid (and for v2 also azp) = its
//   appId; appidacr (azpacr) "1" for a client secret, "2" for a managed identity; idtyp "app";
//   idp = iss; uti = a random token id; ver "1.0" or "2.0"; xms_mirid = the resource id of a
//   managed identity.
// Token responses report expires_in = kAccessTokenExpiresIn (one second short of the lifetime,
// as Entra does).
//
// "now" is the injected Clock's time. byokd gives the identity module the wall clock
// (SystemClock), not its emulated clock: `byok clock advance` must not expire tokens that clients
// (MSAL) cache by wall-clock expiry.
//
// Thread safety: immutable; Issue may be called concurrently.
// REQUIRES: key, clock and random outlive the TokenService.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "identity/principal.h"
#include "identity/signing_key.h"

namespace byok::identity {

inline constexpr int64_t kAccessTokenLifetimeSeconds = 3600;
inline constexpr int64_t kAccessTokenExpiresIn = 3599;

enum class TokenVersion { kV1, kV2 };

struct IssuedToken {
  std::string access_token;  // secret: never log it
  std::string resource;      // the audience
  int64_t issued_at = 0;     // unix seconds
  int64_t expires_on = 0;    // unix seconds (the exp claim)
  int64_t expires_in = kAccessTokenExpiresIn;
};

class TokenService {
 public:
  TokenService(std::shared_ptr<const SigningKey> key, const Clock& clock, Random& random,
               std::string tenant_id);

  // REQUIRES: principal has object_id and app_id; resource and issuer are non-empty
  // (InvalidArgument otherwise).
  // lifetime: exp - now in seconds (default kAccessTokenLifetimeSeconds); see the file comment.
  Result<IssuedToken> Issue(const Principal& principal, std::string_view resource,
                            std::string_view issuer, TokenVersion version,
                            int64_t lifetime_seconds = kAccessTokenLifetimeSeconds) const;

  const SigningKey& key() const { return *key_; }
  const std::string& tenant_id() const { return tenant_id_; }

 private:
  std::shared_ptr<const SigningKey> key_;
  const Clock& clock_;
  Random& random_;
  const std::string tenant_id_;
};

}  // namespace byok::identity
