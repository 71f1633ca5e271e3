#include "gateway/resources_provider.h"

#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/errors.h"
#include "arm/locations.h"
#include "common/json.h"

namespace byok::gateway {
namespace {

namespace errors = arm::errors;
using arm::ResourceId;
using nlohmann::json;

const std::vector<std::string> kSubscriptionVersions = {
    "2022-12-01", "2022-09-01", "2021-04-01", "2021-01-01", "2020-01-01", "2019-11-01",
    "2019-06-01", "2018-06-01", "2016-06-01", "2015-11-01", "2015-01-01"};
const std::vector<std::string> kResourceGroupVersions = {
    "2025-04-01", "2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01", "2021-01-01",
    "2020-10-01", "2020-06-01", "2019-10-01", "2019-08-01", "2019-07-01", "2019-05-10",
    "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01", "2016-02-01", "2015-11-01"};

http::Response Internal(const ArmRequest& r, const Clock& clock, const Status& s) {
  spdlog::error("{} {}: {}", r.http->method, r.http->path, s.ToString());
  return ArmError(
      MakeError(errors::kInternalError, FormatAzureTime(clock.Now()), r.http->request_id));
}

json SubscriptionDoc(const store::Resource& res) { return res.body; }

json LocationDoc(const std::string& sub, const arm::Location& l) {
  return {
      {"id", fmt::format("/subscriptions/{}/locations/{}", sub, l.name)},
      {"name", l.name},
      {"type", "Region"},
      {"displayName", l.display_name},
      {"regionalDisplayName", l.regional_display},
      {"metadata",
       {{"regionType", "Physical"},
        {"regionCategory", "Recommended"},
        {"geographyGroup", l.geography_group},
        {"longitude", l.longitude},
        {"latitude", l.latitude},
        {"physicalLocation", l.display_name},
        {"pairedRegion",
         json::array({{{"name", l.paired},
                       {"id", fmt::format("/subscriptions/{}/locations/{}", sub, l.paired)}}})}}}};
}

// Resource-group names: 1-90 characters, letters, digits, '-', '_', '.', '(', ')' (and any
// non-ASCII letter), not ending with '.'.
std::optional<ApiError> CheckResourceGroupName(const std::string& name) {
  if (name.size() > 90) return MakeError(errors::kResourceGroupNameTooLong, name);
  std::string bad;
  for (unsigned char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '(' || c == ')' || c >= 0x80;
    if (!ok && bad.find(static_cast<char>(c)) == std::string::npos) bad += static_cast<char>(c);
  }
  if (!bad.empty()) return MakeError(errors::kInvalidResourceGroupName, name, bad);
  if (!name.empty() && name.back() == '.') {
    return MakeError(errors::kResourceGroupNameEndsWithPeriod, name);
  }
  return std::nullopt;
}

std::optional<ApiError> CheckTags(const std::string& id, const json& tags) {
  if (tags.is_null()) return std::nullopt;
  if (!tags.is_object()) {
    return MakeError(errors::kInvalidRequestContent, "'tags' must be an object of strings");
  }
  if (tags.size() > 50) return MakeError(errors::kTooManyTags, id);
  for (const auto& [k, v] : tags.items()) {
    if (!v.is_string()) {
      return MakeError(errors::kInvalidRequestContent, fmt::format("tag '{}' must be a string", k));
    }
    if (k.empty() || k.size() > 512 || v.get<std::string>().size() > 256 ||
        k.find_first_of("<>%&\\?/") != std::string::npos) {
      return MakeError(errors::kInvalidTagName, k);
    }
  }
  return std::nullopt;
}

json ResourceGroupDoc(const store::Resource& res) {
  json doc = res.body;
  doc["id"] = res.id;
  return doc;
}

class ResourcesProvider {
 public:
  explicit ResourcesProvider(ResourcesDeps deps) : d_(std::move(deps)) {}

  void Register(http::Router& router) {
    ResourceTypeSpec subs;
    subs.type = "Microsoft.Resources/subscriptions";
    subs.api_versions = kSubscriptionVersions;
    subs.rbac_action = [](const ArmRequest&) { return std::string(); };
    subs.list = [this](ArmRequest& r) { return ListSubscriptions(r); };
    subs.get = [this](ArmRequest& r) { return GetSubscription(r); };
    d_.frontend->Register(std::move(subs));

    ResourceTypeSpec locations;
    locations.type = "Microsoft.Resources/locations";
    locations.api_versions = kSubscriptionVersions;
    locations.rbac_action = [](const ArmRequest&) { return std::string(); };
    locations.list = [](ArmRequest& r) {
      json value = json::array();
      for (const auto& l : arm::Locations()) {
        value.push_back(LocationDoc(r.path.id.subscription_id(), l));
      }
      return http::Response::Json(200, {{"value", value}});
    };
    d_.frontend->Register(std::move(locations));

    ResourceTypeSpec providers;
    providers.type = "Microsoft.Resources/providers";
    providers.api_versions = kResourceGroupVersions;
    providers.rbac_action = [](const ArmRequest& r) {
      return r.path.kind == ArmPath::Kind::kAction ? std::string("*/register/action")
                                                   : std::string();
    };
    providers.list = [this](ArmRequest& r) { return ListProviders(r); };
    providers.get = [this](ArmRequest& r) { return GetProvider(r, r.path.action); };
    d_.frontend->Register(std::move(providers));

    ResourceTypeSpec rgs;
    rgs.type = "Microsoft.Resources/resourceGroups";
    rgs.api_versions = kResourceGroupVersions;
    rgs.list = [this](ArmRequest& r) { return ListResourceGroups(r); };
    rgs.get = [this](ArmRequest& r) { return GetResourceGroup(r); };
    rgs.head = [this](ArmRequest& r) {
      http::Response res = GetResourceGroup(r);
      return http::Response::Empty(res.status == 200 ? 204 : res.status);
    };
    rgs.put = [this](ArmRequest& r) { return PutResourceGroup(r); };
    rgs.patch = [this](ArmRequest& r) { return PatchResourceGroup(r); };
    rgs.del = [this](ArmRequest& r) { return DeleteResourceGroup(r); };
    d_.frontend->Register(std::move(rgs));

    ResourceTypeSpec resources;
    resources.type = "Microsoft.Resources/resources";
    resources.api_versions = kResourceGroupVersions;
    resources.rbac_action = [](const ArmRequest& r) {
      return r.path.id.kind() == ResourceId::Kind::kResourceGroup
                 ? std::string("Microsoft.Resources/subscriptions/resourceGroups/resources/read")
                 : std::string("Microsoft.Resources/subscriptions/resources/read");
    };
    resources.list = [this](ArmRequest& r) { return ListResources(r); };
    d_.frontend->Register(std::move(resources));

    router.Add("GET", "*", "/tenants", [this](http::Request& req) { return ListTenants(req); });
    router.Add("GET", "*", "/metadata/endpoints",
               [](http::Request& req) { return MetadataEndpoints(req); });
  }

 private:
  http::Response ListSubscriptions(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto subs = (*txn)->ListByType("Microsoft.Resources/subscriptions");
    if (!subs.ok()) return Internal(r, *d_.clock, subs.status());
    json value = json::array();
    for (const auto& s : *subs) {
      if (s.body.value("tenantId", "") == r.caller.tenant_id) value.push_back(SubscriptionDoc(s));
    }
    return http::Response::Json(
        200, {{"value", value}, {"count", {{"type", "Total"}, {"value", value.size()}}}});
  }

  http::Response GetSubscription(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto sub = (*txn)->Get(r.path.id.ToString());
    if (!sub.ok()) return Internal(r, *d_.clock, sub.status());
    if (!sub->has_value() || (*sub)->body.value("tenantId", "") != r.caller.tenant_id) {
      return ArmError(MakeError(errors::kSubscriptionNotFound, r.path.id.subscription_id()));
    }
    return http::Response::Json(200, SubscriptionDoc(**sub));
  }

  json ProviderDoc(const std::string& sub, const std::string& ns) {
    json types = json::array();
    std::string real_ns;
    for (const ResourceTypeSpec* t : d_.frontend->Types()) {
      std::string tns = t->type.substr(0, t->type.find('/'));
      if (!arm::EqualsIgnoreCase(tns, ns)) continue;
      if (t->api_versions.size() == 1 && t->api_versions[0] == "*") continue;
      real_ns = tns;
      json locations = json::array();
      for (const auto& l : arm::Locations()) locations.push_back(l.display_name);
      types.push_back({{"resourceType", t->type.substr(tns.size() + 1)},
                       {"locations", locations},
                       {"apiVersions", t->api_versions},
                       {"capabilities", "None"}});
    }
    if (real_ns.empty()) return nullptr;
    return {{"id", fmt::format("/subscriptions/{}/providers/{}", sub, real_ns)},
            {"namespace", real_ns},
            {"registrationState", "Registered"},
            {"registrationPolicy", "RegistrationRequired"},
            {"resourceTypes", types}};
  }

  http::Response ListProviders(ArmRequest& r) {
    std::set<std::string> seen;
    json value = json::array();
    for (const ResourceTypeSpec* t : d_.frontend->Types()) {
      std::string ns = t->type.substr(0, t->type.find('/'));
      if (!seen.insert(arm::AsciiLower(ns)).second) continue;
      json doc = ProviderDoc(r.path.id.subscription_id(), ns);
      if (!doc.is_null()) value.push_back(doc);
    }
    return http::Response::Json(200, {{"value", value}});
  }

  http::Response GetProvider(ArmRequest& r, const std::string& ns) {
    json doc = ProviderDoc(r.path.id.subscription_id(), ns);
    if (doc.is_null()) return ArmError(MakeError(errors::kInvalidResourceNamespace, ns));
    return http::Response::Json(200, doc);
  }

  http::Response ListResourceGroups(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto rgs = (*txn)->ListChildren(r.path.id.ToString(),
                                    std::string("Microsoft.Resources/resourceGroups"));
    if (!rgs.ok()) return Internal(r, *d_.clock, rgs.status());
    json value = json::array();
    for (const auto& rg : *rgs) value.push_back(ResourceGroupDoc(rg));
    return http::Response::Json(200, {{"value", value}});
  }

  http::Response GetResourceGroup(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto rg = (*txn)->Get(r.path.id.ToString());
    if (!rg.ok()) return Internal(r, *d_.clock, rg.status());
    if (!rg->has_value()) {
      return ArmError(MakeError(errors::kResourceGroupNotFound, r.path.id.resource_group()));
    }
    return http::Response::Json(200, ResourceGroupDoc(**rg));
  }

  http::Response PutResourceGroup(ArmRequest& r) {
    const std::string name = r.path.id.resource_group();
    if (auto e = CheckResourceGroupName(name)) return ArmError(*e);
    if (!r.body.is_object()) {
      return ArmError(MakeError(errors::kInvalidRequestContent, "the body must be a JSON object"));
    }
    std::string location_in = r.body.value("location", "");
    if (!r.body.contains("location") || !r.body["location"].is_string() || location_in.empty()) {
      return ArmError(MakeError(errors::kLocationRequired));
    }
    const arm::Location* loc = arm::FindLocation(location_in);
    if (!loc) {
      return ArmError(MakeError(errors::kLocationNotAvailableForResourceGroup, location_in,
                                arm::LocationNames()));
    }
    json tags = r.body.contains("tags") ? r.body["tags"] : json::object();
    if (tags.is_null()) tags = json::object();
    if (auto e = CheckTags(r.path.id.ToString(), tags)) return ArmError(*e);

    auto txn = d_.store->Begin();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto existing = (*txn)->Get(r.path.id.ToString());
    if (!existing.ok()) return Internal(r, *d_.clock, existing.status());
    bool created = !existing->has_value();
    store::Resource res;
    if (!created) {
      res = **existing;
      if (res.body.value("properties", json::object()).value("provisioningState", "") ==
          "Deleting") {
        return ArmError(
            MakeError(errors::kResourceGroupBeingDeleted, res.body.value("name", name)));
      }
      std::string have = res.body.value("location", "");
      if (have != loc->name) {
        return ArmError(MakeError(errors::kInvalidResourceGroupLocation, location_in, have));
      }
    } else {
      res.id = r.path.id.ToString();
      res.type = "Microsoft.Resources/resourceGroups";
      res.parent_id = ResourceId::Subscription(r.path.id.subscription_id()).ToString();
      res.body = {{"id", res.id},
                  {"name", name},
                  {"type", "Microsoft.Resources/resourceGroups"},
                  {"location", loc->name},
                  {"properties", {{"provisioningState", "Succeeded"}}}};
    }
    res.body["tags"] = tags;
    if (r.body.contains("managedBy") && r.body["managedBy"].is_string()) {
      res.body["managedBy"] = r.body["managedBy"];
    }
    std::optional<std::string> if_match = r.http->headers.Get("if-match");
    auto put = (*txn)->Put(std::move(res), if_match);
    if (!put.ok()) {
      if (put.status().Is(StatusCode::kAborted))
        return ArmError(MakeError(errors::kPreconditionFailed));
      return Internal(r, *d_.clock, put.status());
    }
    if (Status s = (*txn)->Commit(); !s.ok()) return Internal(r, *d_.clock, s);
    return http::Response::Json(created ? 201 : 200, ResourceGroupDoc(*put));
  }

  http::Response PatchResourceGroup(ArmRequest& r) {
    if (!r.body.is_object()) {
      return ArmError(MakeError(errors::kInvalidRequestContent, "the body must be a JSON object"));
    }
    auto txn = d_.store->Begin();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto existing = (*txn)->Get(r.path.id.ToString());
    if (!existing.ok()) return Internal(r, *d_.clock, existing.status());
    if (!existing->has_value()) {
      return ArmError(MakeError(errors::kResourceGroupNotFound, r.path.id.resource_group()));
    }
    store::Resource res = **existing;
    if (r.body.contains("tags")) {
      json tags = r.body["tags"].is_null() ? json::object() : r.body["tags"];
      if (auto e = CheckTags(res.id, tags)) return ArmError(*e);
      res.body["tags"] = tags;
    }
    if (r.body.contains("managedBy") && r.body["managedBy"].is_string()) {
      res.body["managedBy"] = r.body["managedBy"];
    }
    auto put = (*txn)->Put(std::move(res), r.http->headers.Get("if-match"));
    if (!put.ok()) {
      if (put.status().Is(StatusCode::kAborted))
        return ArmError(MakeError(errors::kPreconditionFailed));
      return Internal(r, *d_.clock, put.status());
    }
    if (Status s = (*txn)->Commit(); !s.ok()) return Internal(r, *d_.clock, s);
    return http::Response::Json(200, ResourceGroupDoc(*put));
  }

  http::Response DeleteResourceGroup(ArmRequest& r) {
    std::string id = r.path.id.ToString();
    {
      auto txn = d_.store->Begin();
      if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
      auto existing = (*txn)->Get(id);
      if (!existing.ok()) return Internal(r, *d_.clock, existing.status());
      if (!existing->has_value()) {
        return ArmError(MakeError(errors::kResourceGroupNotFound, r.path.id.resource_group()));
      }
      store::Resource res = **existing;
      res.body["properties"]["provisioningState"] = "Deleting";
      auto put = (*txn)->Put(std::move(res), r.http->headers.Get("if-match"));
      if (!put.ok()) {
        if (put.status().Is(StatusCode::kAborted))
          return ArmError(MakeError(errors::kPreconditionFailed));
        return Internal(r, *d_.clock, put.status());
      }
      if (Status s = (*txn)->Commit(); !s.ok()) return Internal(r, *d_.clock, s);
    }
    Frontend* fe = d_.frontend;
    store::Store* st = d_.store;
    return d_.operations->Start(r, [fe, st, id]() -> ApiResult<json> {
      if (Status s = PrepareResourceGroupDelete(*st, *fe, id); !s.ok()) {
        return MakeError(errors::kInternalError, "", s.message());
      }
      auto txn = st->Begin();
      if (!txn.ok()) return MakeError(errors::kInternalError, "", txn.status().message());
      std::vector<store::Resource> deleted;
      auto n = DeleteResourceGroupCascade(**txn, *fe, id, &deleted);
      if (!n.ok()) return MakeError(errors::kInternalError, "", n.status().message());
      if (Status s = (*txn)->Commit(); !s.ok()) {
        return MakeError(errors::kInternalError, "", s.message());
      }
      FinishResourceGroupDelete(*fe, deleted);
      spdlog::info("deleted resource group {} and {} resources in it", id, *n - 1);
      return json();
    });
  }

  http::Response ListResources(ArmRequest& r) {
    std::optional<std::string> type_filter;
    if (auto f = r.http->Query("$filter"); f && !f->empty()) {
      // resourceType eq 'Microsoft.KeyVault/vaults'
      std::string fs = *f;
      std::string lower = arm::AsciiLower(fs);
      const std::string kPrefix = "resourcetype eq '";
      size_t p = lower.find(kPrefix);
      if (p == std::string::npos || fs.back() != '\'') {
        return ArmError(MakeError(errors::kInvalidFilter, fs));
      }
      type_filter = fs.substr(p + kPrefix.size(), fs.size() - p - kPrefix.size() - 1);
    }
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto all = (*txn)->ListByPrefix(r.path.id.ToString());
    if (!all.ok()) return Internal(r, *d_.clock, all.status());
    json value = json::array();
    for (const auto& res : *all) {
      auto id = ResourceId::Parse(res.id);
      if (!id.ok() || id->kind() != ResourceId::Kind::kResource || id->types().size() != 1)
        continue;
      if (!id->scope().empty() && ResourceId::Parse(id->scope()).value_or(ResourceId()).kind() ==
                                      ResourceId::Kind::kResource) {
        continue;  // extension resources (role assignments) are not listed
      }
      if (!res.body.contains("location")) continue;
      if (type_filter && !arm::EqualsIgnoreCase(res.type, *type_filter)) continue;
      json item = {{"id", res.id},
                   {"name", id->Name()},
                   {"type", res.body.value("type", res.type)},
                   {"location", res.body["location"]}};
      for (const char* k : {"tags", "kind", "sku", "identity", "managedBy"}) {
        if (res.body.contains(k)) item[k] = res.body[k];
      }
      value.push_back(item);
    }
    return http::Response::Json(200, {{"value", value}});
  }

  http::Response ListTenants(http::Request& req) {
    auto who = d_.authenticate(req);
    if (auto* denied = std::get_if<http::Response>(&who)) return std::move(*denied);
    auto p = std::get<identity::Principal>(who);
    json t = {{"id", "/tenants/" + p.tenant_id},
              {"tenantId", p.tenant_id},
              {"tenantCategory", "Home"},
              {"countryCode", "US"},
              {"displayName", "byok"},
              {"domains", json::array({"byok.localhost"})},
              {"defaultDomain", "byok.localhost"},
              {"tenantType", "AAD"}};
    return http::Response::Json(200, {{"value", json::array({t})}});
  }

  static http::Response MetadataEndpoints(http::Request& req) {
    std::string base = "https://" + req.headers.Get("host").value_or("localhost");
    return http::Response::Json(
        200, {{"galleryEndpoint", ""},
              {"graphEndpoint", base + "/graph/"},
              {"portalEndpoint", ""},
              {"authentication",
               {{"loginEndpoint", base + "/adfs"},
                {"audiences", json::array({"https://management.core.windows.net/"})}}}});
  }

  ResourcesDeps d_;
};

}  // namespace

std::shared_ptr<void> RegisterResourcesProvider(const ResourcesDeps& deps, http::Router& router) {
  auto provider = std::make_shared<ResourcesProvider>(deps);
  provider->Register(router);
  return provider;
}

Result<store::Resource> CreateResourceGroup(store::Transaction& txn,
                                            std::string_view subscription_id, std::string_view name,
                                            std::string_view location, std::string_view managed_by,
                                            const json& tags) {
  if (name.empty()) return Status::InvalidArgument("a resource group needs a name");
  if (auto e = CheckResourceGroupName(std::string(name)))
    return Status::InvalidArgument(e->message);
  const arm::Location* loc = arm::FindLocation(location);
  if (!loc) return Status::InvalidArgument(fmt::format("unknown location '{}'", location));
  store::Resource res;
  res.id = ResourceId::ResourceGroup(std::string(subscription_id), std::string(name)).ToString();
  res.type = "Microsoft.Resources/resourceGroups";
  res.parent_id = ResourceId::Subscription(std::string(subscription_id)).ToString();
  res.body = {{"id", res.id},
              {"name", name},
              {"type", "Microsoft.Resources/resourceGroups"},
              {"location", loc->name},
              {"tags", tags.is_object() ? tags : json::object()},
              {"properties", {{"provisioningState", "Succeeded"}}}};
  if (!managed_by.empty()) res.body["managedBy"] = managed_by;
  return txn.Create(std::move(res));
}

Status PrepareResourceGroupDelete(store::Store& store, const Frontend& frontend,
                                  std::string_view resource_group_id) {
  std::vector<store::Resource> inside;
  BYOK_TRY(store::RunInReadTransaction(store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(inside, txn.ListByPrefix(resource_group_id));
    return Status::Ok();
  }));
  for (const store::Resource& res : inside) {
    const ResourceTypeSpec* spec = frontend.Find(res.type);
    if (spec && spec->before_cascade_delete) {
      if (Status s = spec->before_cascade_delete(res); !s.ok()) {
        spdlog::error("preparing the cascade delete of {}: {}", res.id, s.ToString());
        return s;
      }
    }
  }
  return Status::Ok();
}

Result<int> DeleteResourceGroupCascade(store::Transaction& txn, const Frontend& frontend,
                                       std::string_view resource_group_id,
                                       std::vector<store::Resource>* deleted) {
  BYOK_ASSIGN_OR_RETURN(auto group, txn.Get(resource_group_id));
  if (!group) return Status::NotFound(fmt::format("resource group {}", resource_group_id));
  BYOK_ASSIGN_OR_RETURN(auto inside, txn.ListByPrefix(resource_group_id));
  for (const auto& res : inside) {
    const ResourceTypeSpec* spec = frontend.Find(res.type);
    if (spec && spec->on_cascade_delete) {
      // Fail closed: a resource that could not be released (e.g. a vault that could not be
      // soft-deleted) must not vanish; the whole cascade rolls back and the group stays.
      if (Status s = spec->on_cascade_delete(txn, res); !s.ok()) {
        spdlog::error("cascade delete of {}: {}", res.id, s.ToString());
        return s;
      }
    }
  }
  BYOK_ASSIGN_OR_RETURN(int n, txn.DeleteByPrefix(resource_group_id));
  if (deleted != nullptr) deleted->insert(deleted->end(), inside.begin(), inside.end());
  return n;
}

void FinishResourceGroupDelete(const Frontend& frontend,
                               const std::vector<store::Resource>& deleted) {
  for (const store::Resource& res : deleted) {
    const ResourceTypeSpec* spec = frontend.Find(res.type);
    if (spec && spec->after_cascade_delete) spec->after_cascade_delete(res);
  }
}

Status EnsureSubscription(store::Store& store, const std::string& subscription_id,
                          const std::string& tenant_id, const std::string& display_name) {
  return store::RunInTransaction(store, [&](store::Transaction& txn) -> Status {
    std::string id = "/subscriptions/" + subscription_id;
    BYOK_ASSIGN_OR_RETURN(auto existing, txn.Get(id));
    if (existing.has_value()) return Status::Ok();
    store::Resource res;
    res.id = id;
    res.type = "Microsoft.Resources/subscriptions";
    res.body = {{"id", id},
                {"authorizationSource", "RoleBased"},
                {"managedByTenants", json::array()},
                {"subscriptionId", subscription_id},
                {"tenantId", tenant_id},
                {"displayName", display_name},
                {"state", "Enabled"},
                {"subscriptionPolicies",
                 {{"locationPlacementId", "Public_2014-09-01"},
                  {"quotaId", "PayAsYouGo_2014-09-01"},
                  {"spendingLimit", "Off"}}}};
    BYOK_ASSIGN_OR_RETURN(auto put, txn.Put(std::move(res)));
    (void)put;
    return Status::Ok();
  });
}

}  // namespace byok::gateway
