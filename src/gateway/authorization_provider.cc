#include "gateway/authorization_provider.h"

namespace byok::gateway {
namespace {

const std::vector<std::string> kRoleAssignmentVersions = {
    "2022-04-01",         "2022-01-01-preview", "2020-10-01-preview", "2020-08-01-preview",
    "2020-04-01-preview", "2020-03-01-preview", "2018-09-01-preview", "2018-01-01-preview",
    "2017-10-01-preview", "2015-07-01"};
const std::vector<std::string> kRoleDefinitionVersions = {"2022-05-01-preview", "2022-04-01",
                                                          "2018-01-01-preview", "2015-07-01"};

std::string ScopeString(const arm::ResourceId& id) {
  return id.kind() == arm::ResourceId::Kind::kTenant ? std::string("/") : id.ToString();
}

// The scope an extension resource hangs off ("/" at tenant level).
std::string ExtensionScope(const arm::ResourceId& id) {
  return id.scope().empty() ? std::string("/") : id.scope();
}

http::Response Render(const ApiResult<authz::ApiResponse>& r) {
  if (!r.ok()) return ArmError(r.error());
  if (r->body.is_null()) return http::Response::Empty(r->http_status);
  return http::Response::Json(r->http_status, r->body);
}

http::Response Render(const ApiResult<nlohmann::json>& r) {
  if (!r.ok()) return ArmError(r.error());
  return http::Response::Json(200, r.value());
}

}  // namespace

void RegisterAuthorizationProvider(Frontend& frontend, authz::Rbac& rbac) {
  ResourceTypeSpec ra;
  ra.type = "Microsoft.Authorization/roleAssignments";
  ra.api_versions = kRoleAssignmentVersions;
  ra.put = [&rbac](ArmRequest& r) {
    return Render(rbac.CreateRoleAssignment(ExtensionScope(r.path.id), r.path.id.Name(), r.body,
                                            r.caller.object_id));
  };
  ra.get = [&rbac](ArmRequest& r) {
    return Render(rbac.GetRoleAssignment(ExtensionScope(r.path.id), r.path.id.Name()));
  };
  ra.del = [&rbac](ArmRequest& r) {
    return Render(rbac.DeleteRoleAssignment(ExtensionScope(r.path.id), r.path.id.Name()));
  };
  ra.list = [&rbac](ArmRequest& r) {
    return Render(
        rbac.ListRoleAssignments(ScopeString(r.path.id), r.http->Query("$filter").value_or("")));
  };
  // A resource-group cascade delete removes the rows; the index must forget them too (before the
  // commit: if the commit fails the assignments stay stored but grant nothing — fail closed).
  ra.on_cascade_delete = [&rbac](store::Transaction&, const store::Resource& res) {
    rbac.ForgetRoleAssignment(res.id);
    return Status::Ok();
  };
  frontend.Register(std::move(ra));

  ResourceTypeSpec rd;
  rd.type = "Microsoft.Authorization/roleDefinitions";
  rd.api_versions = kRoleDefinitionVersions;
  rd.rbac_action = [](const ArmRequest&) { return std::string(); };
  rd.get = [&rbac](ArmRequest& r) {
    return Render(rbac.GetRoleDefinition(ExtensionScope(r.path.id), r.path.id.Name()));
  };
  rd.list = [&rbac](ArmRequest& r) {
    return Render(
        rbac.ListRoleDefinitions(ScopeString(r.path.id), r.http->Query("$filter").value_or("")));
  };
  frontend.Register(std::move(rd));
}

}  // namespace byok::gateway
