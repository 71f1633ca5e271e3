// Authenticator: turns a request's "Authorization: Bearer <jwt>" into the Principal it stands for,
// or into the Azure error the API answers with.
//
// Checks, in order (the first failure decides the error):
//   1. the header: present (else ARM AuthenticationFailed "... header is missing."), exactly one,
//      "Bearer <token>" (scheme case-insensitive);
//   2. the token parses as a strict RS256 JWS (crypto::ParseJwt: "none", HS256, ... refused);
//   3. its kid is the signing key's and the signature verifies;
//   4. exp/nbf against the injected Clock with options.clock_skew_seconds of skew;
//   5. iss is one of this server's issuers for this tenant (endpoints.h: IsAcceptedIssuer) and tid
//      is this tenant;
//   6. aud is one of the API's audiences (endpoints.h: AllowedAudiences);
//   7. oid names a principal that still exists (a principal deleted after the token was issued
//      is refused), and appid matches it.
// Errors come from errors.h, per API: arm:: for Audience::kArm, graph:: for kGraph, keyvault::
// (generic) for kKeyVault. A directory failure is a 500 from the same table.
//
// Sending a failure: ErrorResponse(req, api, error) renders the API's envelope (Graph's with
// innerError) and adds WWW-Authenticate for 401s:
//   ARM:   Bearer authorization_uri="https://HOST:PORT/adfs", error="invalid_token",
//          error_description="..."
//   Graph: Bearer realm="", authorization_uri="https://HOST:PORT/adfs/oauth2/authorize",
//          client_id="00000003-0000-0000-c000-000000000000"
//   Key Vault: none (the keyvault module sends its own challenge; see Challenge()).
// HOST:PORT is the authority the client used (its Host header).
//
//   auto principal = auth.Authenticate(req, Audience::kArm);
//   if (!principal.ok()) return auth.ErrorResponse(req, Audience::kArm, principal.error());
//
// Thread safety: thread-safe (const methods; the Directory and ServerUrls are thread-safe).
// REQUIRES: directory, clock and urls outlive the Authenticator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/api_error.h"
#include "common/clock.h"
#include "http/message.h"
#include "identity/directory.h"
#include "identity/endpoints.h"
#include "identity/principal.h"
#include "identity/signing_key.h"

namespace byok::identity {

struct AuthenticatorOptions {
  int64_t clock_skew_seconds = 300;  // allowed on exp and nbf
};

class Authenticator {
 public:
  Authenticator(Directory& directory, std::shared_ptr<const SigningKey> key, const Clock& clock,
                const ServerUrls& urls, AuthenticatorOptions options = {});

  // Validates the request's bearer token for `api`; see the file comment.
  ApiResult<Principal> Authenticate(const http::Request& req, Audience api) const;
  // Steps 2..7 on a bare token.
  ApiResult<Principal> AuthenticateToken(std::string_view token, Audience api) const;

  // The response to send for a failed Authenticate (any ApiError works; WWW-Authenticate only
  // for 401s of ARM and Graph).
  http::Response ErrorResponse(const http::Request& req, Audience api, const ApiError& error) const;
  // Just the WWW-Authenticate value ErrorResponse adds ("" when it adds none).
  std::string Challenge(const http::Request& req, Audience api, const ApiError& error) const;

 private:
  Directory& directory_;
  std::shared_ptr<const SigningKey> key_;
  const Clock& clock_;
  const ServerUrls& urls_;
  const AuthenticatorOptions options_;
};

}  // namespace byok::identity
