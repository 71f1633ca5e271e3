// IdentityService: the identity module assembled for byokd — the directory, the signing key, the
// token service and the authenticator over one store — plus its HTTP routes.
//
// Start-up order in the daemon:
//   auto boot = identity::Bootstrap(store, clock, random);             // idempotent
//   if (!boot->password.empty())                                        // first start only
//     identity::WriteCredentialsFile(identity::CredentialsFilePath(dir), *boot);
//   auto id = identity::IdentityService::Open(store, clock, random, options);
//   identity::AddIdentityRoutes(router, **id);                          // before Server::Start
//   ... Server::Start ...
//   (*id)->SetServerBaseUrls(identity::DefaultServerBaseUrls(host, server->port()));
// Other modules then call authenticator().Authenticate(req, Audience::kArm) per request, and
// directory().CreateManagedIdentity(...) / IssueToken(...) for resources with identities.
//
// Routes (host "*"; handlers are thread-safe):
//   GET  /adfs/.well-known/openid-configuration           ADFS-style authority (Azure CLI)
//   POST /adfs/oauth2/token
//   GET  /adfs/discovery/keys                             JWKS
//   GET  /{tenant}/v2.0/.well-known/openid-configuration  Entra v2 ({tenant}: the tenant GUID,
//   POST /{tenant}/oauth2/v2.0/token                       "organizations", "common" or "adfs")
//   GET  /{tenant}/discovery/v2.0/keys
//   GET  /{tenant}/.well-known/openid-configuration       Entra v1
//   POST /{tenant}/oauth2/token
//   GET  /{tenant}/discovery/keys
//   GET  /graph/v1.0/me                                   Microsoft Graph subset (Graph audience)
//   GET  /graph/v1.0/servicePrincipals[?$filter=...]
//   GET  /graph/v1.0/servicePrincipals/{id}
//   POST /graph/v1.0/directoryObjects/getByIds
// Issuers are derived from the request's Host header (scheme https, the same host and port the
// client used). Token requests: form-encoded client_credentials with client_id + client_secret
// (or HTTP Basic), scope "<resource>/.default" or resource=<resource>; `claims` and other extra
// parameters are ignored. Errors are Entra's JSON error bodies (errors.h, entra::).
//
// Clock: byokd gives this service the wall clock (SystemClock), not its emulated OffsetClock:
// token iat/nbf/exp and their validation must hold in real time, because clients (MSAL) cache
// tokens by wall-clock expiry and `byok clock advance` must not invalidate them.
//
// Thread safety: thread-safe after Open. REQUIRES: store, clock and random outlive it; the
// service outlives every router it added routes to.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "http/router.h"
#include "identity/authenticator.h"
#include "identity/directory.h"
#include "identity/endpoints.h"
#include "identity/principal.h"
#include "identity/signing_key.h"
#include "identity/token_service.h"
#include "store/store.h"

namespace byok::identity {

struct IdentityOptions {
  // The server's own base URLs (endpoints.h); may also be set later with SetServerBaseUrls.
  std::vector<std::string> server_base_urls;
  DirectoryOptions directory;
  AuthenticatorOptions authenticator;
};

class IdentityService {
 public:
  // Reads the bootstrap ids (FailedPrecondition if Bootstrap() never ran on this store) and loads
  // or creates the signing key.
  static Result<std::unique_ptr<IdentityService>> Open(store::Store& store, const Clock& clock,
                                                       Random& random,
                                                       IdentityOptions options = {});

  IdentityService(const IdentityService&) = delete;
  IdentityService& operator=(const IdentityService&) = delete;

  const std::string& tenant_id() const { return tenant_id_; }
  const std::string& subscription_id() const { return subscription_id_; }
  Directory& directory() { return directory_; }
  const Authenticator& authenticator() const { return authenticator_; }
  const TokenService& tokens() const { return tokens_; }
  const SigningKey& signing_key() const { return *key_; }
  const Clock& clock() const { return clock_; }

  void SetServerBaseUrls(std::vector<std::string> base_urls) { urls_.Set(std::move(base_urls)); }
  std::vector<std::string> server_base_urls() const { return urls_.Get(); }

  // A token for byok's own services acting as `principal` (e.g. a DiskEncryptionSet's managed
  // identity calling Key Vault): issuer "<first base URL>/adfs", audience DefaultResource(api) or
  // the given resource. It validates with authenticator() like a client's token.
  Result<IssuedToken> IssueToken(const Principal& principal, Audience api) const;
  Result<IssuedToken> IssueToken(const Principal& principal, std::string_view resource) const;

  // The authority ("host:port") for tokens issued without a request: the first base URL's,
  // else "localhost".
  std::string DefaultAuthority() const;

 private:
  IdentityService(store::Store& store, const Clock& clock, Random& random, std::string tenant_id,
                  std::string subscription_id, std::shared_ptr<const SigningKey> key,
                  IdentityOptions options);

  const Clock& clock_;
  const std::string tenant_id_;
  const std::string subscription_id_;
  std::shared_ptr<const SigningKey> key_;
  ServerUrls urls_;
  Directory directory_;
  TokenService tokens_;
  Authenticator authenticator_;
};

// Adds every route listed in the file comment (token service, OpenID configuration, JWKS and
// Graph). Same as AddTokenRoutes + AddGraphRoutes.
void AddIdentityRoutes(http::Router& router, IdentityService& service);
void AddTokenRoutes(http::Router& router, IdentityService& service);
void AddGraphRoutes(http::Router& router, IdentityService& service);

}  // namespace byok::identity
