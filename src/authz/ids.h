// Identifier helpers of the authz module: GUIDs, RBAC scopes and role-assignment ids.
//
// A scope is "/" (the tenant) or an ARM resource id (arm::ResourceId::Parse: subscription, resource
// group, resource, nested or extension resource); one trailing '/' is tolerated. Its chain is the
// scope itself followed by every enclosing scope up to the tenant, the order in which RBAC
// inheritance applies (e.g. vault key → vault → resource group → subscription → tenant).
//
// Values and pure functions; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arm/resource_id.h"
#include "common/status.h"

namespace byok::authz {

inline constexpr std::string_view kRoleAssignmentType = "Microsoft.Authorization/roleAssignments";

// The canonical lower-case hyphenated form of a GUID written as 32 hex digits, optionally with the
// 8-4-4-4-12 hyphens, optionally inside {} or (); nullopt if s is none of those.
std::optional<std::string> CanonicalGuid(std::string_view s);

// s without surrounding ASCII whitespace and without any number of enclosing pairs of literal
// double quotes: `"<guid>"` (the shell-quoted object id of the seed walkthrough) → `<guid>`.
std::string_view StripQuotes(std::string_view s);

// "/" → the tenant; otherwise arm::ResourceId::Parse. kInvalidArgument if malformed.
Result<arm::ResourceId> ParseScope(std::string_view scope);

// scope, its parent, ..., the tenant (always last).
std::vector<arm::ResourceId> ScopeChain(const arm::ResourceId& scope);

// "{scope}/providers/Microsoft.Authorization/roleAssignments/{name}" ("/providers/..." at the
// tenant).
std::string RoleAssignmentResourceId(const arm::ResourceId& scope, std::string_view name);

struct RoleAssignmentIdParts {
  arm::ResourceId scope;
  std::string name;  // as written; not validated as a GUID
};

// Splits a full role-assignment id. kInvalidArgument unless the id parses and ends in
// ".../providers/Microsoft.Authorization/roleAssignments/{name}" (any case).
Result<RoleAssignmentIdParts> SplitRoleAssignmentId(std::string_view id);

struct RoleDefinitionIdParts {
  arm::ResourceId scope;  // "" → tenant
  std::string guid;       // as written; not validated
};

// Splits "[{scope}]/providers/Microsoft.Authorization/roleDefinitions/{guid}" (any case).
Result<RoleDefinitionIdParts> SplitRoleDefinitionId(std::string_view id);

}  // namespace byok::authz
