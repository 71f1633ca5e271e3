// Rbac's role-definition operations: built-in roles only, no store access.

#include "authz/errors.h"
#include "authz/filter.h"
#include "authz/ids.h"
#include "authz/rbac.h"

namespace byok::authz {

ApiResult<nlohmann::json> Rbac::ListRoleDefinitions(std::string_view scope,
                                                    std::string_view filter) const {
  auto parsed = ParseScope(scope);
  if (!parsed.ok()) return MakeError(errors::kInvalidScope, scope);
  std::optional<DefinitionFilter> f = ParseDefinitionFilter(filter);
  if (!f) return MakeError(errors::kUnsupportedRoleDefinitionFilter, filter);
  nlohmann::json value = nlohmann::json::array();
  // Every role byok has is a built-in one.
  if (!f->type || arm::EqualsIgnoreCase(*f->type, "BuiltInRole")) {
    for (const RoleDefinition& role : BuiltInRoles()) {
      if (f->role_name && !arm::EqualsIgnoreCase(role.role_name, *f->role_name)) continue;
      value.push_back(RoleDefinitionToJson(role, parsed->subscription_id()));
    }
  }
  return nlohmann::json{{"value", std::move(value)}};
}

ApiResult<nlohmann::json> Rbac::GetRoleDefinition(std::string_view scope,
                                                  std::string_view guid) const {
  auto parsed = ParseScope(scope);
  if (!parsed.ok()) return MakeError(errors::kInvalidScope, scope);
  std::optional<std::string> canonical = CanonicalGuid(guid);
  const RoleDefinition* role = canonical ? FindBuiltInRole(*canonical) : nullptr;
  if (role == nullptr) return MakeError(errors::kRoleDefinitionDoesNotExist, guid);
  return RoleDefinitionToJson(*role, parsed->subscription_id());
}

ApiResult<nlohmann::json> Rbac::GetRoleDefinitionById(std::string_view role_definition_id) const {
  auto parts = SplitRoleDefinitionId(role_definition_id);
  if (!parts.ok()) return MakeError(errors::kInvalidScope, role_definition_id);
  return GetRoleDefinition(parts->scope.ToString(), parts->guid);
}

}  // namespace byok::authz
