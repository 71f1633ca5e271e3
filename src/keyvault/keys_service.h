// KeysService: the Key Vault keys data plane over HTTP, at https://{vault}.vault.localhost:{port}
// (route host pattern "*.vault.localhost"; the vault is the host's first label).
//
// Routes (paths case-insensitive, one trailing slash tolerated: "/keys/k/" is the latest
// version), every one with ?api-version= (api_versions below; missing or unknown → 400
// BadParameter):
//   GET    /keys                                   list keys (maxresults 1..25, $skiptoken)
//   POST   /keys/{name}/create                     create (RSA, RSA-HSM, EC, EC-HSM)
//   PUT    /keys/{name}                            import (JWK with private members)
//   GET    /keys/{name}                            latest version
//   DELETE /keys/{name}                            soft delete → DeletedKeyBundle
//   GET    /keys/{name}/versions                   list versions
//   GET    /keys/{name}/{version}                  one version
//   PATCH  /keys/{name}[/{version}]                update (enabled, nbf, exp, key_ops, tags)
//   POST   /keys/{name}/{version}/{wrapkey|unwrapkey|encrypt|decrypt|sign|verify}
//   POST   /keys/{name}/rotate                     new version, same type, size, ops
//   GET    /keys/{name}/rotationpolicy, PUT ...     rotation policy
//   POST   /keys/{name}/backup, POST /keys/restore  sealed backup blobs (backup.h)
//   GET    /deletedkeys, GET|DELETE /deletedkeys/{name}, POST /deletedkeys/{name}/recover
//   POST   /rng                                    random bytes
//
// Pipeline per request (the order matters to clients):
//   1. the host's vault must be live (FindVaultByName), else 404 VaultNotFound — as a client of
//      Azure sees a deleted vault's DNS name vanish;
//   2. no Authorization header → 401 with Key Vault's challenge, BEFORE the body is looked at:
//        WWW-Authenticate: Bearer authorization="https://localhost:{port}/{tenant}",
//                          resource="https://vault.localhost:{port}"
//      (port = the Host header's). The Azure CLI, the Python SDK and the JavaScript SDK (with an
//      "adfs" or a GUID tenant credential) accept this: the SDKs take the authorization path as
//      the tenant, and the resource's host is a DNS suffix of every vault host. Every other 401
//      (bad, expired or foreign token; identity::Authenticator with Audience::kKeyVault) carries
//      the same challenge;
//   3. api-version;
//   4. authorization (access.h: access policies or RBAC) → 403;
//   5. the JSON body (bounded parse) → 400;
//   6. KeyStore (key_store.h) → Key Vault's response, or its error envelope
//      {"error":{"code","message","innererror"?}}.
// Token cache: validating a bearer token (signature, claims, the principal still in the directory)
// costs about as much as a wrapKey. A token that validated is remembered for
// KeysServiceDeps::token_cache_ttl of real time (default 5 s; the same token string then maps to
// the same principal without re-validation), so a principal deleted meanwhile, or a token
// expiring meanwhile, keeps working for at most that long. Failures are never cached.
// Store reads: the vault record (by host) and, for crypto operations, the key version and its
// parsed private key are served from memory while the store's change generation holds
// (store/generation_cache.h): any write — a key disabled, an access policy changed, a vault
// deleted — invalidates them before its response is sent, so the next request sees it. A
// wrap/unwrap with a cached token therefore touches no database at all.
//
// Every request that reaches step 3 is appended to the audit log (caller, vault, key, version,
// operation as Azure's diagnostic logs name it, status, result, request id, client address).
//
// Housekeeping (byokd registers these on its Scheduler): PurgeExpired purges soft-deleted keys
// whose scheduledPurgeDate passed; RunRotationPolicies executes due rotation policies. Both are
// audited with an empty caller.
//
// Thread safety: handlers run concurrently on the server's worker threads; the service is
// thread-safe. REQUIRES: every dependency outlives the service (and the Router it was added to).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "authz/authorizer.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "http/message.h"
#include "http/router.h"
#include "identity/authenticator.h"
#include "keyvault/key_store.h"
#include "store/store.h"

namespace byok::keyvault {

// The data-plane api-versions byok accepts (7.0 ... 7.6, the 7.4-preview.1 the Azure CLI 2.45
// sends, and the date-named versions of the current SDKs).
const std::vector<std::string>& KeysApiVersions();

struct KeysServiceDeps {
  store::Store* store = nullptr;
  const Clock* clock = nullptr;
  Random* random = nullptr;
  const identity::Authenticator* authenticator = nullptr;
  authz::Authorizer* authorizer = nullptr;
  audit::AuditLog* audit = nullptr;  // may be null (no auditing)
  SecretBytes backup_key;            // DeriveBackupKey(root key)
  // How long a validated token is trusted without validating it again (see the file comment);
  // zero disables the cache.
  std::chrono::milliseconds token_cache_ttl{5000};
};

class KeysService {
 public:
  explicit KeysService(KeysServiceDeps deps);
  ~KeysService();
  KeysService(const KeysService&) = delete;
  KeysService& operator=(const KeysService&) = delete;

  // Adds every route above to `router` (host "*.vault.localhost").
  void AddRoutes(http::Router& router);

  // Scheduler tasks (see the file comment).
  Status PurgeExpired(TimePoint now);
  Status RunRotationPolicies(TimePoint now);

  KeyStore& key_store();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byok::keyvault
