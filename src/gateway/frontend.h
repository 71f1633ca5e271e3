// The ARM front end: every request under /subscriptions and /providers goes through here.
//
// For each request, in Azure's order: classify the path (gateway/arm_path.h) → authenticate the
// bearer token (401 with the API's challenge) → require and check api-version for the resource
// type → check the method is supported → parse the JSON body → authorize the caller with RBAC
// ({type}/read|write|delete, {type}/{action}/action at the addressed scope; 403
// AuthorizationFailed) → check the subscription and resource group exist → call the type's
// handler. Handlers receive an ArmRequest and return an http::Response; they hold no HTTP
// plumbing beyond building JSON responses.
//
// Thread safety: Register() before AddRoutes(); afterwards read-only and thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "authz/authorizer.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "gateway/arm_path.h"
#include "http/message.h"
#include "http/router.h"
#include "identity/principal.h"
#include "store/store.h"

namespace byok::gateway {

struct ArmRequest {
  http::Request* http = nullptr;
  identity::Principal caller;
  std::string api_version;
  ArmPath path;         // what the URL addresses
  nlohmann::json body;  // parsed request body; null when empty
};

using ArmHandler = std::function<http::Response(ArmRequest&)>;

struct ResourceTypeSpec {
  std::string type;                       // "Microsoft.Resources/resourceGroups"
  std::vector<std::string> api_versions;  // newest first (as ARM lists them); "*" = any
  ArmHandler get, put, patch, del, list, head;
  std::map<std::string, ArmHandler> actions;  // POST {id}/{action}; key lower-case
  // RBAC action override (e.g. subscriptions list needs none): returns "" to skip authorization.
  std::function<std::string(const ArmRequest&)> rbac_action;
  // Called for each stored resource of this type removed by a resource-group cascade delete,
  // inside the cascade's write transaction and before the group's rows go (release files,
  // identities; keep a soft-deleted copy outside the group, as Key Vault does). A failure fails
  // the delete operation and rolls the whole cascade back (the group and its resources stay).
  std::function<Status(store::Transaction&, const store::Resource&)> on_cascade_delete;
  // Called for each stored resource of this type inside a resource group about to be
  // cascade-deleted, BEFORE the cascade's transaction begins (the caller holds no transaction):
  // for work that needs its own transactions (an AKS cluster's nodes, disks and node resource
  // group). It may delete the resource itself. A failure fails the delete operation; what earlier
  // hooks did stays done.
  std::function<Status(const store::Resource&)> before_cascade_delete;
  // Called for each resource of this type a resource-group cascade removed, AFTER the cascade's
  // transaction committed (FinishResourceGroupDelete): for what must not happen unless the
  // records are really gone, such as deleting a disk's file. Failures are the hook's to log.
  std::function<void(const store::Resource&)> after_cascade_delete;
};

// Authenticates a request for ARM: the principal, or the complete 401 response to send.
using ArmAuthenticator =
    std::function<std::variant<identity::Principal, http::Response>(const http::Request&)>;

class Frontend {
 public:
  struct Deps {
    store::Store* store = nullptr;
    authz::Authorizer* authorizer = nullptr;
    ArmAuthenticator authenticate;
    const Clock* clock = nullptr;
  };
  explicit Frontend(Deps deps) : deps_(std::move(deps)) {}

  void Register(ResourceTypeSpec spec);
  const ResourceTypeSpec* Find(std::string_view type) const;
  // All registered types (for cascade deletes and /providers listings).
  std::vector<const ResourceTypeSpec*> Types() const;

  // Routes every ARM path of any host onto this front end.
  void AddRoutes(http::Router& router);

  // The full pipeline for one request (exposed for tests).
  http::Response Handle(http::Request& req);

  // 403 AuthorizationFailed for the caller.
  static http::Response Denied(const identity::Principal& caller, std::string_view action,
                               std::string_view scope);
  // Checks `action` at `scope` for the caller; nullopt if allowed, else the 403 response.
  std::optional<http::Response> Authorize(const identity::Principal& caller,
                                          std::string_view action, std::string_view scope,
                                          bool data_action = false) const;

 private:
  // Handle after authentication: api-version, type, method, body, RBAC, then the handler.
  http::Response HandleAuthenticated(ArmRequest& r, const std::optional<std::string>& api_version);

  Deps deps_;
  std::map<std::string, ResourceTypeSpec> types_;  // key: lower-cased type
};

// Helpers for handlers.
http::Response ArmError(const ApiError& e);
// "2023-01-02T03:04:05.1234567Z"
std::string ArmTime(const Clock& clock);

}  // namespace byok::gateway
