#include "gateway/frontend.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/errors.h"
#include "common/json.h"

namespace byok::gateway {
namespace {

namespace errors = arm::errors;
using arm::AsciiLower;
using arm::ResourceId;

std::string JoinVersions(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ",";
    out += s;
  }
  return out;
}

std::string RbacVerb(const std::string& method) {
  if (method == "GET" || method == "HEAD") return "read";
  if (method == "PUT" || method == "PATCH") return "write";
  if (method == "DELETE") return "delete";
  return "action";
}

// The RBAC action for a request on a type:
// "Microsoft.Resources/subscriptions/resourceGroups/write".
std::string DefaultRbacAction(const ArmRequest& r) {
  std::string type = r.path.type;
  // Resource groups are "Microsoft.Resources/subscriptions/resourceGroups" in RBAC.
  if (arm::EqualsIgnoreCase(type, "Microsoft.Resources/resourceGroups")) {
    type = "Microsoft.Resources/subscriptions/resourceGroups";
  }
  if (r.path.kind == ArmPath::Kind::kAction) return type + "/" + r.path.action + "/action";
  return type + "/" + RbacVerb(r.http->method);
}

std::string ScopeOf(const ArmRequest& r) {
  if (r.path.id.kind() == ResourceId::Kind::kTenant) return "/";
  return r.path.id.ToString();
}

}  // namespace

http::Response ArmError(const ApiError& e) { return http::Response::Error(e); }

std::string ArmTime(const Clock& clock) { return FormatAzureTime(clock.Now()); }

void Frontend::Register(ResourceTypeSpec spec) {
  std::string key = AsciiLower(spec.type);
  types_[key] = std::move(spec);
}

const ResourceTypeSpec* Frontend::Find(std::string_view type) const {
  auto it = types_.find(AsciiLower(type));
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<const ResourceTypeSpec*> Frontend::Types() const {
  std::vector<const ResourceTypeSpec*> out;
  for (const auto& [k, v] : types_) out.push_back(&v);
  return out;
}

void Frontend::AddRoutes(http::Router& router) {
  auto h = [this](http::Request& req) { return Handle(req); };
  for (const char* method : {"GET", "PUT", "PATCH", "DELETE", "POST", "HEAD"}) {
    router.Add(method, "*", "/subscriptions", h);
    router.Add(method, "*", "/subscriptions/{*rest}", h);
    router.Add(method, "*", "/providers/{*rest}", h);
  }
}

http::Response Frontend::Denied(const identity::Principal& caller, std::string_view action,
                                std::string_view scope) {
  std::string client = caller.app_id.empty() ? caller.object_id : caller.app_id;
  return ArmError(MakeError(errors::kAuthorizationFailed, client, caller.object_id, action, scope));
}

std::optional<http::Response> Frontend::Authorize(const identity::Principal& caller,
                                                  std::string_view action, std::string_view scope,
                                                  bool data_action) const {
  auto allowed = deps_.authorizer->IsAllowed(caller.object_id, action, scope, data_action);
  if (!allowed.ok()) {
    spdlog::error("authorization check failed: {}", allowed.status().ToString());
    return Denied(caller, action, scope);
  }
  if (!*allowed) return Denied(caller, action, scope);
  return std::nullopt;
}

http::Response Frontend::Handle(http::Request& req) {
  bool is_post = req.method == "POST";
  auto parsed = ParseArmPath(req.path, is_post);
  std::optional<std::string> api_version = req.Query("api-version");
  if (!parsed.ok()) {
    return ArmError(MakeError(errors::kNoRouteFound, req.path, api_version.value_or("")));
  }

  // Authenticate first: an anonymous caller learns nothing about what exists.
  auto who = deps_.authenticate(req);
  if (auto* denied = std::get_if<http::Response>(&who)) return std::move(*denied);

  ArmRequest r;
  r.http = &req;
  r.caller = std::get<identity::Principal>(std::move(who));
  r.path = std::move(parsed).value();
  // Every answer from here on names the caller in the access log.
  http::Response resp = HandleAuthenticated(r, api_version);
  resp.log_principal = r.caller.object_id;
  return resp;
}

http::Response Frontend::HandleAuthenticated(ArmRequest& r,
                                             const std::optional<std::string>& api_version) {
  http::Request& req = *r.http;

  if (!api_version || api_version->empty()) return ArmError(MakeError(errors::kMissingApiVersion));
  r.api_version = *api_version;

  const ResourceTypeSpec* spec = Find(r.path.type);
  if (!spec) {
    std::string ns = r.path.type.substr(0, r.path.type.find('/'));
    bool known_ns = false;
    for (const auto& [k, v] : types_) {
      if (arm::EqualsIgnoreCase(v.type.substr(0, v.type.find('/')), ns)) known_ns = true;
    }
    if (!known_ns) return ArmError(MakeError(errors::kInvalidResourceNamespace, ns));
    std::string rest = r.path.type.substr(std::min(r.path.type.size(), ns.size() + 1));
    return ArmError(MakeError(errors::kInvalidResourceType, rest, ns, r.api_version));
  }
  if (std::none_of(spec->api_versions.begin(), spec->api_versions.end(), [&](const std::string& v) {
        return v == "*" || arm::EqualsIgnoreCase(v, r.api_version);
      })) {
    return ArmError(
        MakeError(errors::kInvalidApiVersion, r.api_version, JoinVersions(spec->api_versions)));
  }

  const ArmHandler* handler = nullptr;
  switch (r.path.kind) {
    case ArmPath::Kind::kCollection:
      if (req.method == "GET") handler = &spec->list;
      break;
    case ArmPath::Kind::kAction: {
      auto it = spec->actions.find(AsciiLower(r.path.action));
      if (it != spec->actions.end()) handler = &it->second;
      break;
    }
    case ArmPath::Kind::kResource:
      if (req.method == "GET")
        handler = &spec->get;
      else if (req.method == "HEAD")
        handler = spec->head ? &spec->head : &spec->get;
      else if (req.method == "PUT")
        handler = &spec->put;
      else if (req.method == "PATCH")
        handler = &spec->patch;
      else if (req.method == "DELETE")
        handler = &spec->del;
      break;
  }
  if (!handler || !*handler) {
    return ArmError(MakeError(errors::kMethodNotAllowed, req.method, req.path));
  }

  if (!req.body.empty() && (req.method == "PUT" || req.method == "PATCH" || req.method == "POST")) {
    auto body = ParseJsonBody(req.body);
    if (!body.ok()) {
      return ArmError(MakeError(errors::kInvalidRequestContent, body.status().message()));
    }
    r.body = std::move(body).value();
  }

  std::string action = spec->rbac_action ? spec->rbac_action(r) : DefaultRbacAction(r);
  if (!action.empty()) {
    if (auto denied = Authorize(r.caller, action, ScopeOf(r))) return std::move(*denied);
  }

  // The subscription and resource group in the path must exist (after RBAC, as ARM does).
  const ResourceId& id = r.path.id;
  bool addresses_subscription =
      r.path.type == "Microsoft.Resources/subscriptions" && r.path.kind == ArmPath::Kind::kResource;
  if (!id.subscription_id().empty() && !addresses_subscription) {
    auto txn = deps_.store->BeginRead();
    if (!txn.ok())
      return ArmError(MakeError(errors::kInternalError, ArmTime(*deps_.clock), req.request_id));
    auto sub = (*txn)->Get(ResourceId::Subscription(id.subscription_id()).ToString());
    if (sub.ok() && !sub->has_value()) {
      return ArmError(MakeError(errors::kSubscriptionNotFound, id.subscription_id()));
    }
    bool addresses_rg = arm::EqualsIgnoreCase(r.path.type, "Microsoft.Resources/resourceGroups") &&
                        r.path.kind == ArmPath::Kind::kResource;
    if (!id.resource_group().empty() && !addresses_rg) {
      auto rg = (*txn)->Get(
          ResourceId::ResourceGroup(id.subscription_id(), id.resource_group()).ToString());
      if (rg.ok() && !rg->has_value()) {
        return ArmError(MakeError(errors::kResourceGroupNotFound, id.resource_group()));
      }
    }
  }

  try {
    return (*handler)(r);
  } catch (const std::exception& e) {
    spdlog::error("handler for {} {} failed: {}", req.method, r.path.type, e.what());
    return ArmError(MakeError(errors::kInternalError, ArmTime(*deps_.clock), req.request_id));
  }
}

}  // namespace byok::gateway
