// The Microsoft Graph subset under /graph/v1.0 (see identity_service.h).
#include <spdlog/spdlog.h>

#include "common/json.h"
#include "identity/errors.h"
#include "identity/identity_service.h"
#include "identity/internal/graph_filter.h"
#include "identity/internal/util.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;
namespace gerr = errors::graph;

constexpr size_t kMaxGetByIds = 1000;

std::string GraphBase(const IdentityService& svc, const http::Request& req) {
  std::string host = internal::RequestAuthority(req);
  return "https://" + (host.empty() ? svc.DefaultAuthority() : host) + "/graph/v1.0/";
}

// A servicePrincipal resource as Graph shows it.
json GraphServicePrincipal(const IdentityService& svc, const PrincipalInfo& info) {
  const Principal& p = info.principal;
  const bool managed = p.kind == PrincipalKind::kManagedIdentity;
  json creds = json::array();
  for (const auto& c : info.password_credentials) {
    creds.push_back({{"customKeyIdentifier", nullptr},
                     {"displayName", nullptr},
                     {"endDateTime", nullptr},
                     {"hint", nullptr},
                     {"keyId", c.key_id},
                     {"secretText", nullptr},
                     {"startDateTime", internal::FormatIsoSeconds(c.start)}});
  }
  json alternative = json::array();
  if (managed) alternative = json::array({"isExplicit=False", p.resource_id});
  return {{"id", p.object_id},
          {"deletedDateTime", nullptr},
          {"accountEnabled", true},
          {"alternativeNames", alternative},
          {"appDisplayName", managed ? json(nullptr) : json(p.display_name)},
          {"appDescription", nullptr},
          {"appId", p.app_id},
          {"appOwnerOrganizationId", managed ? json(nullptr) : json(svc.tenant_id())},
          {"appRoleAssignmentRequired", false},
          {"createdDateTime", internal::FormatIsoSeconds(info.created)},
          {"description", nullptr},
          {"displayName", p.display_name},
          {"servicePrincipalNames", info.service_principal_names},
          {"servicePrincipalType", managed ? "ManagedIdentity" : "Application"},
          {"signInAudience", managed ? json(nullptr) : json("AzureADMyOrg")},
          {"tags", json::array()},
          {"keyCredentials", json::array()},
          {"passwordCredentials", creds}};
}

http::Response GraphJson(int status, json body) {
  http::Response r = http::Response::Json(status, body);
  r.headers.Set("OData-Version", "4.0");
  return r;
}

// Runs `fn` for an authenticated request; failures get Graph's envelope and challenge.
template <typename Fn>
http::Handler Authenticated(IdentityService& svc, Fn fn) {
  return [&svc, fn](http::Request& req) -> http::Response {
    auto principal = svc.authenticator().Authenticate(req, Audience::kGraph);
    if (!principal.ok()) {
      return svc.authenticator().ErrorResponse(req, Audience::kGraph, principal.error());
    }
    return fn(req, *principal);
  };
}

http::Response Error(IdentityService& svc, const http::Request& req, const ApiError& e) {
  return internal::GraphErrorResponse(req, e, svc.clock().Now());
}

http::Response Internal(IdentityService& svc, const http::Request& req, const Status& s) {
  spdlog::error("graph: {}", s.ToString());
  return Error(svc, req, MakeError(gerr::kInternalError));
}

http::Response Me(IdentityService& svc, http::Request& req, const Principal&) {
  // Every byok token is app-only (client credentials or managed identity).
  return Error(svc, req, MakeError(gerr::kMeRequiresDelegated));
}

http::Response ListServicePrincipals(IdentityService& svc, http::Request& req, const Principal&) {
  auto filter = internal::ParseGraphFilter(req.Query("$filter").value_or(""));
  if (!filter.ok()) return Error(svc, req, filter.error());
  auto all = svc.directory().ListPrincipals();
  if (!all.ok()) return Internal(svc, req, all.status());
  json value = json::array();
  for (const auto& info : *all) {
    if (internal::MatchesGraphFilter(*filter, info)) {
      value.push_back(GraphServicePrincipal(svc, info));
    }
  }
  return GraphJson(200, {{"@odata.context", GraphBase(svc, req) + "$metadata#servicePrincipals"},
                         {"value", std::move(value)}});
}

http::Response GetServicePrincipal(IdentityService& svc, http::Request& req, const Principal&) {
  const std::string& id = req.params["id"];
  auto info = svc.directory().Describe(id);
  if (!info.ok()) {
    if (info.status().Is(StatusCode::kNotFound)) {
      return Error(svc, req, MakeError(gerr::kNotFound, internal::Truncate(id, 64)));
    }
    return Internal(svc, req, info.status());
  }
  json body = GraphServicePrincipal(svc, *info);
  body["@odata.context"] = GraphBase(svc, req) + "$metadata#servicePrincipals/$entity";
  return GraphJson(200, std::move(body));
}

http::Response GetByIds(IdentityService& svc, http::Request& req, const Principal&) {
  auto body = ParseJsonBody(req.body);
  if (!body.ok() || !body->is_object()) return Error(svc, req, MakeError(gerr::kUnreadableJson));
  auto ids = body->find("ids");
  if (ids == body->end() || !ids->is_array() || ids->size() > kMaxGetByIds) {
    return Error(svc, req, MakeError(gerr::kInvalidProperty, "ids", "DirectoryObject"));
  }
  bool want_service_principals = true;
  if (auto types = body->find("types"); types != body->end() && !types->is_null()) {
    if (!types->is_array()) {
      return Error(svc, req, MakeError(gerr::kInvalidProperty, "types", "DirectoryObject"));
    }
    want_service_principals = types->empty();
    for (const auto& t : *types) {
      if (!t.is_string()) {
        return Error(svc, req, MakeError(gerr::kInvalidProperty, "types", "DirectoryObject"));
      }
      std::string type = internal::ToLowerAscii(t.get<std::string>());
      if (type == "serviceprincipal" || type == "microsoft.graph.serviceprincipal") {
        want_service_principals = true;
      }
    }
  }
  json value = json::array();
  for (const auto& id : *ids) {
    if (!id.is_string()) {
      return Error(svc, req, MakeError(gerr::kInvalidProperty, "ids", "DirectoryObject"));
    }
    if (!want_service_principals) continue;
    auto info = svc.directory().Describe(id.get<std::string>());
    if (!info.ok()) {
      if (info.status().Is(StatusCode::kNotFound)) continue;
      return Internal(svc, req, info.status());
    }
    json sp = GraphServicePrincipal(svc, *info);
    sp["@odata.type"] = "#microsoft.graph.servicePrincipal";
    value.push_back(std::move(sp));
  }
  return GraphJson(200, {{"@odata.context", GraphBase(svc, req) + "$metadata#directoryObjects"},
                         {"value", std::move(value)}});
}

}  // namespace

void AddGraphRoutes(http::Router& router, IdentityService& service) {
  auto bind = [&service](auto fn) {
    return Authenticated(service, [&service, fn](http::Request& req, const Principal& p) {
      return fn(service, req, p);
    });
  };
  router.Add("GET", "*", "/graph/v1.0/me", bind(Me));
  router.Add("GET", "*", "/graph/v1.0/servicePrincipals", bind(ListServicePrincipals));
  router.Add("GET", "*", "/graph/v1.0/servicePrincipals/{id}", bind(GetServicePrincipal));
  router.Add("POST", "*", "/graph/v1.0/directoryObjects/getByIds", bind(GetByIds));
}

}  // namespace byok::identity
