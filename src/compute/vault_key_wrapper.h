// VaultKeyWrapper: the customer layer's KeyWrapper (blockstore/key_wrapper.h). It wraps and
// unwraps disk data keys with the customer's RSA key through the Key Vault data plane, AS the
// disk encryption set's managed identity, exactly as an outside client would:
//
//   POST https://{vault}.vault.localhost:{port}/keys/{name}/{version}/wrapkey|unwrapkey
//        ?api-version=7.4   {"alg":"RSA-OAEP-256","value":<base64url>}
//   Authorization: Bearer <token of the DES identity, audience Key Vault>
//
// The request is built in memory and handed to the keys service's own route handler
// (keyvault::KeysService routes in `router`), so the vault's access policies or RBAC, the key's
// state (enabled, nbf/exp, key_ops, soft delete) and the audit log (the DES principal as the
// caller) apply for real. The token is minted by the identity service for the DES's
// system-assigned identity (Directory::FindManagedIdentity(des id)) and cached per DES until
// five minutes before it expires; a 401 drops it and the call is retried once with a new one.
//
// KeyRef for the customer layer: key_id = the versioned key URL, des_id = the DES resource id.
// Errors (key_wrapper.h classes), each message "<Key Vault code>[/<inner code>]: <Key Vault's
// message>" so callers can tell the cause apart without parsing HTTP:
//   PermissionDenied    403 Forbidden (ForbiddenByPolicy, ForbiddenByRbac), 401, or the DES has
//                       no identity any more;
//   FailedPrecondition  KeyDisabled, KeyExpired, KeyNotYetValid, KeyOperationForbidden; the
//                       vault or the key is soft-deleted (recoverable);
//   NotFound            the vault or key (version) does not exist: never created or purged;
//   DataLoss            the wrapped bytes do not unwrap under that key (400 BadParameter);
//   Unavailable         no key service route, or Key Vault answered 5xx;
//   InvalidArgument     a key_id that is not a versioned key URL.
// Plain data keys pass through request and response bodies only in memory; those buffers are
// wiped after use. Nothing secret is logged.
//
// Thread safety: thread-safe. REQUIRES: every dependency outlives the wrapper.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "blockstore/key_wrapper.h"
#include "common/random.h"
#include "common/status.h"
#include "http/message.h"
#include "http/router.h"
#include "identity/identity_service.h"
#include "store/store.h"

namespace byok::compute {

inline constexpr char kWrapAlgorithm[] = "RSA-OAEP-256";
inline constexpr char kKeyVaultApiVersion[] = "7.4";

struct VaultKeyWrapperDeps {
  // A router holding the Key Vault keys data-plane routes (keyvault::KeysService::AddRoutes).
  const http::Router* router = nullptr;
  identity::IdentityService* identity = nullptr;  // managed identities and token issuing
  store::Store* store = nullptr;                  // tells soft-deleted vaults/keys from purged ones
  Random* random = nullptr;                       // request ids and CheckAccess test bytes
  // A token is renewed this long before it expires (identity clock).
  std::chrono::seconds token_refresh_margin{300};
};

class VaultKeyWrapper : public blockstore::KeyWrapper {
 public:
  explicit VaultKeyWrapper(VaultKeyWrapperDeps deps);

  // KeyWrapper: customer layers only (a platform KeyRef is InvalidArgument).
  Result<blockstore::WrappedDek> Wrap(const blockstore::KeyRef& key,
                                      std::span<const uint8_t> dek) override;
  Result<SecretBytes> Unwrap(const blockstore::WrappedDek& wrapped) override;

  // What Azure verifies when a disk is created with a disk encryption set: as the DES identity,
  // GET the key (version) and wrapKey + unwrapKey 32 random bytes. OK if all three succeed and
  // the bytes come back; errors as in the file comment.
  Status CheckAccess(std::string_view des_id, std::string_view key_url);

  // Drops the cached token of a DES (its identity was deleted or replaced).
  void Forget(std::string_view des_id);

 private:
  struct CachedToken {
    std::string object_id;
    std::string token;  // secret
    int64_t expires_on = 0;
  };
  struct Reply {
    int status = 0;
    nlohmann::json body;
  };

  Result<std::string> Token(std::string_view des_id, bool refresh);
  // One data-plane call as the DES identity (retried once on 401).
  Result<Reply> Call(std::string_view des_id, const std::string& method, const std::string& key_url,
                     std::string_view suffix, std::string body);
  Result<Reply> CallOnce(const std::string& token, const std::string& method,
                         const std::string& key_url, std::string_view suffix,
                         const std::string& body);
  // The Status for a Key Vault error reply.
  Status ErrorStatus(const Reply& reply, const std::string& key_url, bool unwrapping);

  VaultKeyWrapperDeps deps_;
  std::mutex mu_;
  std::map<std::string, CachedToken> tokens_;  // key: normalized DES id
};

}  // namespace byok::compute
