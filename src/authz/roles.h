// Azure's built-in role definitions (the ones byok serves) and action-pattern matching.
//
// Data. Each role carries Azure's real GUID, roleName, description and one permission block
// (actions, notActions, dataActions, notDataActions), taken from Microsoft's "Azure built-in
// roles" reference (categories Privileged, General and Security; see roles.cc). Every built-in
// role is assignable at "/" (any scope).
//
// Matching. An action pattern matches an action case-insensitively (ASCII); '*' matches any run of
// characters, '/' included, anywhere in the pattern: "*" matches everything, "*/read" every read,
// "Microsoft.KeyVault/vaults/*" everything under vaults, "Microsoft.Authorization/*/Delete" every
// Microsoft.Authorization delete. A role grants an action if one of its Actions (DataActions, for a
// data action) matches it and none of its NotActions (NotDataActions) does: NotActions subtract
// from that role only, they are not deny rules.
//
// Thread safety: immutable static data; all functions are pure.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace byok::authz {

inline constexpr std::string_view kOwnerRoleId = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
inline constexpr std::string_view kContributorRoleId = "b24988ac-6180-42a0-ab88-20f7382dd24c";
inline constexpr std::string_view kReaderRoleId = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
inline constexpr std::string_view kUserAccessAdministratorRoleId =
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
inline constexpr std::string_view kKeyVaultAdministratorRoleId =
    "00482a5a-887f-4fb3-b363-3b7fe8e74483";
inline constexpr std::string_view kKeyVaultCryptoOfficerRoleId =
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603";
inline constexpr std::string_view kKeyVaultCryptoUserRoleId =
    "12338af0-0e69-4776-bea7-57ae8d297424";
inline constexpr std::string_view kKeyVaultCryptoServiceEncryptionUserRoleId =
    "e147488a-f6f5-4113-8e2d-b22465e65bf6";
inline constexpr std::string_view kKeyVaultReaderRoleId = "21090545-7ca7-4776-b22c-e363652d74d2";

inline constexpr std::string_view kRoleDefinitionType = "Microsoft.Authorization/roleDefinitions";

struct RoleDefinition {
  std::string_view guid;  // lower-case canonical GUID: the definition's "name"
  std::string_view role_name;
  std::string_view description;
  std::span<const std::string_view> actions;
  std::span<const std::string_view> not_actions;
  std::span<const std::string_view> data_actions;
  std::span<const std::string_view> not_data_actions;
};

// Every built-in role byok knows, in a fixed order.
std::span<const RoleDefinition> BuiltInRoles();

// The role whose GUID is `guid` (any case, canonical hyphenated form), or nullptr.
const RoleDefinition* FindBuiltInRole(std::string_view guid);
// The role whose roleName equals `role_name` ignoring ASCII case, or nullptr.
const RoleDefinition* FindBuiltInRoleByName(std::string_view role_name);

// True if `pattern` matches `action` (see the file comment).
bool ActionMatches(std::string_view pattern, std::string_view action);

// True if `role` grants `action` (a data action if data_action).
bool RoleGrants(const RoleDefinition& role, std::string_view action, bool data_action);

// "{subscription-prefix}/providers/Microsoft.Authorization/roleDefinitions/{guid}", where the
// prefix is "/subscriptions/{subscription_id}" or empty (tenant level) when subscription_id is "".
std::string RoleDefinitionResourceId(std::string_view subscription_id, std::string_view guid);

// The role as Azure's RoleDefinition resource (2022-04-01 shape), with the id of
// RoleDefinitionResourceId(subscription_id, role.guid).
nlohmann::json RoleDefinitionToJson(const RoleDefinition& role, std::string_view subscription_id);

}  // namespace byok::authz
