// OData $filter parsing for Microsoft.Authorization list operations.
//
// A filter (already URL-decoded) is "" or clauses joined by the keyword "and" (any case, outside
// quotes). Keywords and property names are ASCII case-insensitive; values are single-quoted OData
// strings ('' inside is a quote). Unquoted values are accepted too (the REST reference writes
// "principalId eq {id}").
//
// Role assignments: atScope(), principalId eq '{id}', assignedTo('{id}'); each at most once,
// and principalId and assignedTo not together with different ids.
// Role definitions: roleName eq '{name}', type eq '{type}'; each at most once.
//
// Pure functions; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace byok::authz {

struct AssignmentFilter {
  bool at_scope = false;
  std::optional<std::string> principal_id;  // as written (quotes of the OData literal removed)
};

// nullopt if the filter is not one of the supported forms.
std::optional<AssignmentFilter> ParseAssignmentFilter(std::string_view filter);

struct DefinitionFilter {
  std::optional<std::string> role_name;
  std::optional<std::string> type;
};

std::optional<DefinitionFilter> ParseDefinitionFilter(std::string_view filter);

}  // namespace byok::authz
