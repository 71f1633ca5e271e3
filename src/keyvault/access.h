// Data-plane authorization of Key Vault keys: may this principal perform this key operation on
// this vault?
//
// A vault decides in one of two ways (VaultRecord::enable_rbac_authorization):
//   - Access policies (false): the vault's properties.accessPolicies entries whose objectId is
//     the caller's object id, whose tenantId is the caller's tenant and whose applicationId is
//     absent or the caller's app id are united; the operation is allowed if their
//     permissions.keys contain its permission name or "all" (case-insensitive). Otherwise 403
//     Forbidden / ForbiddenByPolicy with Azure's wording.
//   - Azure RBAC (true): the permission's data action (DataAction()) is checked with the
//     Authorizer at the scope "{vault id}/keys/{name}" (the vault id for vault-wide operations:
//     list, restore, random bytes), so assignments at the key, vault, resource group,
//     subscription or tenant apply. Otherwise 403 Forbidden / ForbiddenByRbac.
// Managed identities are principals like any other: the same rules apply to a disk encryption
// set's identity.
//
// Thread safety: pure functions (the Authorizer is thread-safe).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "authz/authorizer.h"
#include "identity/principal.h"
#include "keyvault/errors.h"
#include "keyvault/vault_store.h"

namespace byok::keyvault {

// The key permissions of access policies (Microsoft.KeyVault 2022-07-01 KeyPermissions).
enum class KeyPermission {
  kGet,
  kList,
  kCreate,
  kUpdate,
  kImport,
  kDelete,
  kRecover,
  kBackup,
  kRestore,
  kPurge,
  kWrapKey,
  kUnwrapKey,
  kEncrypt,
  kDecrypt,
  kSign,
  kVerify,
  kRotate,
  kGetRotationPolicy,
  kSetRotationPolicy,
};

// As written in access policies and in Azure's Forbidden message: "get", "wrapKey",
// "getrotationpolicy", ...
std::string_view PermissionName(KeyPermission p);

// The Azure RBAC data action, e.g. kGet → "Microsoft.KeyVault/vaults/keys/read", kWrapKey →
// "Microsoft.KeyVault/vaults/keys/wrap/action", kGetRotationPolicy →
// "Microsoft.KeyVault/vaults/keyrotationpolicies/read".
std::string_view DataAction(KeyPermission p);

// "appid=...;oid=...;iss=..." as Azure names the caller in its 403 messages (";iss=..." only when
// issuer is not empty).
std::string CallerDescription(const identity::Principal& principal, std::string_view issuer);

// nullopt if allowed; else the 403 to answer (or a 500 if the Authorizer fails). key_name may be
// empty for vault-wide operations. issuer (the token's iss) only feeds the error message.
std::optional<KvError> CheckKeyPermission(const VaultRecord& vault,
                                          const identity::Principal& principal,
                                          KeyPermission permission, authz::Authorizer& authorizer,
                                          std::string_view key_name, std::string_view issuer = {});

}  // namespace byok::keyvault
