// Built-in role data and the action matcher.
//
// Role data source: Microsoft's "Azure built-in roles" reference, as published in the
// MicrosoftDocs/azure-docs repository (articles/role-based-access-control/built-in-roles/
// privileged.md for Owner, Contributor and User Access Administrator; general.md for Reader;
// security.md for the Key Vault roles), checked against learn.microsoft.com's rendering of the same
// pages. The lists below are the roles' permission values, in Azure's order.

#include "authz/roles.h"

#include <array>

#include "arm/resource_id.h"

namespace byok::authz {
namespace {

using Sv = std::string_view;

// Azure returns createdOn/updatedOn for built-in roles; byok serves Reader's published values for
// every built-in role (the others' exact timestamps are not documented).
constexpr Sv kBuiltInCreatedOn = "2015-02-02T21:55:09.8806423Z";
constexpr Sv kBuiltInUpdatedOn = "2021-11-11T20:13:47.8628684Z";

constexpr std::array<Sv, 0> kNone{};
constexpr std::array<Sv, 1> kAll{"*"};

constexpr std::array<Sv, 11> kContributorNotActions{
    "Microsoft.Authorization/*/Delete",
    "Microsoft.Authorization/*/Write",
    "Microsoft.Authorization/elevateAccess/Action",
    "Microsoft.Blueprint/blueprintAssignments/write",
    "Microsoft.Blueprint/blueprintAssignments/delete",
    "Microsoft.Compute/galleries/share/action",
    "Microsoft.Purview/consents/write",
    "Microsoft.Purview/consents/delete",
    "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
    "Microsoft.Subscription/cancel/action",
    "Microsoft.Subscription/enable/action",
};

constexpr std::array<Sv, 1> kReaderActions{"*/read"};

constexpr std::array<Sv, 3> kUserAccessAdministratorActions{
    "*/read",
    "Microsoft.Authorization/*",
    "Microsoft.Support/*",
};

// The control-plane actions shared by Key Vault Administrator, Crypto Officer and Reader.
constexpr std::array<Sv, 10> kKeyVaultDataRoleActions{
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
};

constexpr std::array<Sv, 1> kKeyVaultAdministratorDataActions{"Microsoft.KeyVault/vaults/*"};

constexpr std::array<Sv, 2> kKeyVaultCryptoOfficerDataActions{
    "Microsoft.KeyVault/vaults/keys/*",
    "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
};

constexpr std::array<Sv, 9> kKeyVaultCryptoUserDataActions{
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/update/action",
    "Microsoft.KeyVault/vaults/keys/backup/action",
    "Microsoft.KeyVault/vaults/keys/encrypt/action",
    "Microsoft.KeyVault/vaults/keys/decrypt/action",
    "Microsoft.KeyVault/vaults/keys/wrap/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
    "Microsoft.KeyVault/vaults/keys/sign/action",
    "Microsoft.KeyVault/vaults/keys/verify/action",
};

constexpr std::array<Sv, 3> kKeyVaultCryptoServiceEncryptionUserActions{
    "Microsoft.EventGrid/eventSubscriptions/write",
    "Microsoft.EventGrid/eventSubscriptions/read",
    "Microsoft.EventGrid/eventSubscriptions/delete",
};

constexpr std::array<Sv, 3> kKeyVaultCryptoServiceEncryptionUserDataActions{
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/wrap/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
};

constexpr std::array<Sv, 2> kKeyVaultReaderDataActions{
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
};

constexpr std::array<RoleDefinition, 9> kBuiltInRoles{{
    {kOwnerRoleId, "Owner",
     "Grants full access to manage all resources, including the ability to assign roles in Azure "
     "RBAC.",
     kAll, kNone, kNone, kNone},
    {kContributorRoleId, "Contributor",
     "Grants full access to manage all resources, but does not allow you to assign roles in Azure "
     "RBAC, manage assignments in Azure Blueprints, or share image galleries.",
     kAll, kContributorNotActions, kNone, kNone},
    {kReaderRoleId, "Reader", "View all resources, but does not allow you to make any changes.",
     kReaderActions, kNone, kNone, kNone},
    {kUserAccessAdministratorRoleId, "User Access Administrator",
     "Lets you manage user access to Azure resources.", kUserAccessAdministratorActions, kNone,
     kNone, kNone},
    {kKeyVaultAdministratorRoleId, "Key Vault Administrator",
     "Perform all data plane operations on a key vault and all objects in it, including "
     "certificates, keys, and secrets. Cannot manage key vault resources or manage role "
     "assignments. Only works for key vaults that use the 'Azure role-based access control' "
     "permission model.",
     kKeyVaultDataRoleActions, kNone, kKeyVaultAdministratorDataActions, kNone},
    {kKeyVaultCryptoOfficerRoleId, "Key Vault Crypto Officer",
     "Perform any action on the keys of a key vault, except manage permissions. Only works for key "
     "vaults that use the 'Azure role-based access control' permission model.",
     kKeyVaultDataRoleActions, kNone, kKeyVaultCryptoOfficerDataActions, kNone},
    {kKeyVaultCryptoUserRoleId, "Key Vault Crypto User",
     "Perform cryptographic operations using keys. Only works for key vaults that use the 'Azure "
     "role-based access control' permission model.",
     kNone, kNone, kKeyVaultCryptoUserDataActions, kNone},
    {kKeyVaultCryptoServiceEncryptionUserRoleId, "Key Vault Crypto Service Encryption User",
     "Read metadata of keys and perform wrap/unwrap operations. Only works for key vaults that use "
     "the 'Azure role-based access control' permission model.",
     kKeyVaultCryptoServiceEncryptionUserActions, kNone,
     kKeyVaultCryptoServiceEncryptionUserDataActions, kNone},
    {kKeyVaultReaderRoleId, "Key Vault Reader",
     "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive "
     "values such as secret contents or key material. Only works for key vaults that use the "
     "'Azure role-based access control' permission model.",
     kKeyVaultDataRoleActions, kNone, kKeyVaultReaderDataActions, kNone},
}};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool AnyMatches(std::span<const Sv> patterns, Sv action) {
  for (Sv p : patterns) {
    if (ActionMatches(p, action)) return true;
  }
  return false;
}

nlohmann::json StringArray(std::span<const Sv> values) {
  nlohmann::json a = nlohmann::json::array();
  for (Sv v : values) a.push_back(std::string(v));
  return a;
}

}  // namespace

std::span<const RoleDefinition> BuiltInRoles() { return kBuiltInRoles; }

const RoleDefinition* FindBuiltInRole(std::string_view guid) {
  for (const RoleDefinition& r : kBuiltInRoles) {
    if (arm::EqualsIgnoreCase(r.guid, guid)) return &r;
  }
  return nullptr;
}

const RoleDefinition* FindBuiltInRoleByName(std::string_view role_name) {
  for (const RoleDefinition& r : kBuiltInRoles) {
    if (arm::EqualsIgnoreCase(r.role_name, role_name)) return &r;
  }
  return nullptr;
}

// Glob matching with '*' only, ASCII case-insensitive. Greedy with one backtrack point: on a
// mismatch, the last '*' absorbs one more character. O(|pattern| * |action|) worst case, linear
// for the patterns Azure uses.
bool ActionMatches(std::string_view pattern, std::string_view action) {
  size_t p = 0, a = 0;
  size_t star = std::string_view::npos, star_a = 0;
  while (a < action.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_a = a;
    } else if (p < pattern.size() && Lower(pattern[p]) == Lower(action[a])) {
      ++p;
      ++a;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      a = ++star_a;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool RoleGrants(const RoleDefinition& role, std::string_view action, bool data_action) {
  if (data_action) {
    return AnyMatches(role.data_actions, action) && !AnyMatches(role.not_data_actions, action);
  }
  return AnyMatches(role.actions, action) && !AnyMatches(role.not_actions, action);
}

std::string RoleDefinitionResourceId(std::string_view subscription_id, std::string_view guid) {
  std::string id;
  if (!subscription_id.empty()) {
    id += "/subscriptions/";
    id += subscription_id;
  }
  id += "/providers/Microsoft.Authorization/roleDefinitions/";
  id += guid;
  return id;
}

nlohmann::json RoleDefinitionToJson(const RoleDefinition& role, std::string_view subscription_id) {
  nlohmann::json permission = {
      {"actions", StringArray(role.actions)},
      {"notActions", StringArray(role.not_actions)},
      {"dataActions", StringArray(role.data_actions)},
      {"notDataActions", StringArray(role.not_data_actions)},
  };
  nlohmann::json properties = {
      {"roleName", std::string(role.role_name)},
      {"type", "BuiltInRole"},
      {"description", std::string(role.description)},
      {"assignableScopes", nlohmann::json::array({"/"})},
      {"permissions", nlohmann::json::array({permission})},
      {"createdOn", std::string(kBuiltInCreatedOn)},
      {"updatedOn", std::string(kBuiltInUpdatedOn)},
      {"createdBy", nullptr},
      {"updatedBy", nullptr},
  };
  return {
      {"id", RoleDefinitionResourceId(subscription_id, role.guid)},
      {"type", std::string(kRoleDefinitionType)},
      {"name", std::string(role.guid)},
      {"properties", std::move(properties)},
  };
}

}  // namespace byok::authz
