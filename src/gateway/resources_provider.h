// Microsoft.Resources: subscriptions, tenants, locations, providers, resource groups (with
// cascade delete as a long-running operation), the generic resource listing, and the metadata
// endpoints document. Registered on a Frontend; tenants and metadata are plain routes.
//
// Thread-safe after registration.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gateway/frontend.h"
#include "gateway/operations.h"

namespace byok::gateway {

struct ResourcesDeps {
  store::Store* store = nullptr;
  const Clock* clock = nullptr;
  Operations* operations = nullptr;
  Frontend* frontend = nullptr;
  ArmAuthenticator authenticate;           // for GET /tenants
  std::function<std::string()> tenant_id;  // the tenant of this server
};

// The returned handle owns the handlers' state: keep it alive as long as the router and front end.
std::shared_ptr<void> RegisterResourcesProvider(const ResourcesDeps& deps, http::Router& router);

// Resource groups for other modules (an AKS cluster's node resource group):
//
// Creates resource group `name` of `subscription_id` inside `txn`, as a PUT of a new group would
// store it (location canonical, e.g. "eastus"; managed_by the id of the resource that manages the
// group, "" for none). kInvalidArgument for a name a PUT would refuse or an unknown location,
// kAlreadyExists if the group exists.
Result<store::Resource> CreateResourceGroup(store::Transaction& txn,
                                            std::string_view subscription_id, std::string_view name,
                                            std::string_view location, std::string_view managed_by,
                                            const nlohmann::json& tags = nlohmann::json::object());
// The first half of a resource-group delete: runs the before_cascade_delete hook of every
// resource inside the group (see ResourceTypeSpec). REQUIRES: the caller holds no transaction.
Status PrepareResourceGroupDelete(store::Store& store, const Frontend& frontend,
                                  std::string_view resource_group_id);
// The second half: inside `txn`, runs the on_cascade_delete hook of every resource inside the
// group and deletes the group with everything in it. Returns how many resources went (the group
// included); kNotFound if the group does not exist. When `deleted` is given, the removed resources
// are appended to it. The caller commits, then calls FinishResourceGroupDelete with them.
Result<int> DeleteResourceGroupCascade(store::Transaction& txn, const Frontend& frontend,
                                       std::string_view resource_group_id,
                                       std::vector<store::Resource>* deleted = nullptr);
// The third part, after the cascade's transaction committed: runs the after_cascade_delete hook
// of every resource the cascade removed.
void FinishResourceGroupDelete(const Frontend& frontend,
                               const std::vector<store::Resource>& deleted);

// Creates the subscription resource if missing (bootstrap). Idempotent.
Status EnsureSubscription(store::Store& store, const std::string& subscription_id,
                          const std::string& tenant_id, const std::string& display_name);

}  // namespace byok::gateway
