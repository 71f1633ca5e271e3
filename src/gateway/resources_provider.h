// Microsoft.Resources: subscriptions, tenants, locations, providers, resource groups (with
// cascade delete as a long-running operation), the generic resource listing, and the metadata
// endpoints document. Registered on a Frontend; tenants and metadata are plain routes.
//
// Thread-safe after registration.
#pragma once

#include <functional>
#include <memory>
#include <string>

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

// Creates the subscription resource if missing (bootstrap). Idempotent.
Status EnsureSubscription(store::Store& store, const std::string& subscription_id,
                          const std::string& tenant_id, const std::string& display_name);

}  // namespace byok::gateway
