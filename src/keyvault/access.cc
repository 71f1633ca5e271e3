#include "keyvault/access.h"

#include <array>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/message.h"
#include "store/store.h"

namespace byok::keyvault {
namespace {

struct PermissionInfo {
  KeyPermission permission;
  std::string_view name;
  std::string_view data_action;
};

// Data actions per Azure's "Migrate from vault access policy to an Azure role-based access
// control permission model" mapping.
constexpr std::array<PermissionInfo, 19> kPermissions{{
    {KeyPermission::kGet, "get", "Microsoft.KeyVault/vaults/keys/read"},
    {KeyPermission::kList, "list", "Microsoft.KeyVault/vaults/keys/read"},
    {KeyPermission::kCreate, "create", "Microsoft.KeyVault/vaults/keys/create/action"},
    {KeyPermission::kUpdate, "update", "Microsoft.KeyVault/vaults/keys/update/action"},
    {KeyPermission::kImport, "import", "Microsoft.KeyVault/vaults/keys/import/action"},
    {KeyPermission::kDelete, "delete", "Microsoft.KeyVault/vaults/keys/delete"},
    {KeyPermission::kRecover, "recover", "Microsoft.KeyVault/vaults/keys/recover/action"},
    {KeyPermission::kBackup, "backup", "Microsoft.KeyVault/vaults/keys/backup/action"},
    {KeyPermission::kRestore, "restore", "Microsoft.KeyVault/vaults/keys/restore/action"},
    {KeyPermission::kPurge, "purge", "Microsoft.KeyVault/vaults/keys/purge/action"},
    {KeyPermission::kWrapKey, "wrapKey", "Microsoft.KeyVault/vaults/keys/wrap/action"},
    {KeyPermission::kUnwrapKey, "unwrapKey", "Microsoft.KeyVault/vaults/keys/unwrap/action"},
    {KeyPermission::kEncrypt, "encrypt", "Microsoft.KeyVault/vaults/keys/encrypt/action"},
    {KeyPermission::kDecrypt, "decrypt", "Microsoft.KeyVault/vaults/keys/decrypt/action"},
    {KeyPermission::kSign, "sign", "Microsoft.KeyVault/vaults/keys/sign/action"},
    {KeyPermission::kVerify, "verify", "Microsoft.KeyVault/vaults/keys/verify/action"},
    {KeyPermission::kRotate, "rotate", "Microsoft.KeyVault/vaults/keys/rotate/action"},
    {KeyPermission::kGetRotationPolicy, "getrotationpolicy",
     "Microsoft.KeyVault/vaults/keyrotationpolicies/read"},
    {KeyPermission::kSetRotationPolicy, "setrotationpolicy",
     "Microsoft.KeyVault/vaults/keyrotationpolicies/write"},
}};

const PermissionInfo& Info(KeyPermission p) {
  for (const PermissionInfo& i : kPermissions) {
    if (i.permission == p) return i;
  }
  return kPermissions[0];  // unreachable: the table covers the enum
}

std::string JsonString(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// True if one of the caller's access-policy entries grants `name`.
bool PolicyGrants(const VaultRecord& vault, const identity::Principal& p, std::string_view name) {
  if (!vault.access_policies.is_array()) return false;
  for (const nlohmann::json& entry : vault.access_policies) {
    if (!entry.is_object()) continue;
    if (!http::EqualsIgnoreCase(JsonString(entry, "objectId"), p.object_id)) continue;
    if (!http::EqualsIgnoreCase(JsonString(entry, "tenantId"), p.tenant_id)) continue;
    std::string app = JsonString(entry, "applicationId");
    if (!app.empty() && !http::EqualsIgnoreCase(app, p.app_id)) continue;
    auto perms = entry.find("permissions");
    if (perms == entry.end() || !perms->is_object()) continue;
    auto keys = perms->find("keys");
    if (keys == perms->end() || !keys->is_array()) continue;
    for (const nlohmann::json& k : *keys) {
      if (!k.is_string()) continue;
      const std::string& s = k.get_ref<const std::string&>();
      if (http::EqualsIgnoreCase(s, name) || http::EqualsIgnoreCase(s, "all")) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view PermissionName(KeyPermission p) { return Info(p).name; }

std::string_view DataAction(KeyPermission p) { return Info(p).data_action; }

std::string CallerDescription(const identity::Principal& principal, std::string_view issuer) {
  std::string s = fmt::format("appid={};oid={}", principal.app_id, principal.object_id);
  if (!issuer.empty()) s += fmt::format(";iss={}", issuer);
  return s;
}

std::optional<KvError> CheckKeyPermission(const VaultRecord& vault,
                                          const identity::Principal& principal,
                                          KeyPermission permission, authz::Authorizer& authorizer,
                                          std::string_view key_name, std::string_view issuer) {
  if (!vault.enable_rbac_authorization) {
    if (PolicyGrants(vault, principal, PermissionName(permission))) return std::nullopt;
    return MakeKvError(errors::kForbiddenByPolicy, CallerDescription(principal, issuer),
                       PermissionName(permission), vault.name, vault.location);
  }
  std::string scope = vault.id;
  if (!key_name.empty()) scope += fmt::format("/keys/{}", key_name);
  Result<bool> allowed =
      authorizer.IsAllowed(principal.object_id, DataAction(permission), scope, true);
  if (!allowed.ok()) {
    spdlog::error("keyvault: RBAC check failed for {}: {}", scope, allowed.status().ToString());
    return MakeKvError(errors::kInternalError);
  }
  if (*allowed) return std::nullopt;
  return MakeKvError(errors::kForbiddenByRbac, CallerDescription(principal, issuer),
                     DataAction(permission), store::NormalizeId(scope), vault.name, vault.location);
}

}  // namespace byok::keyvault
