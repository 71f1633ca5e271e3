// The managedClusters handlers (containerservice.h states what they do).
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/locations.h"
#include "common/encoding.h"
#include "compute/disk_store.h"
#include "containerservice/errors.h"
#include "containerservice/provider.h"
#include "containerservice/versions.h"
#include "gateway/resources_provider.h"

namespace byok::containerservice::internal {
namespace {

using arm::EqualsIgnoreCase;
using arm::ResourceId;
using gateway::ArmError;
using gateway::ArmRequest;
using nlohmann::json;

// Properties byok computes or keeps: never copied from a request.
constexpr std::string_view kClusterComputed[] = {"agentPoolProfiles",
                                                 "provisioningState",
                                                 "powerState",
                                                 "currentKubernetesVersion",
                                                 "fqdn",
                                                 "azurePortalFQDN",
                                                 "privateFQDN",
                                                 "identityProfile",
                                                 "maxAgentPools",
                                                 "nodeResourceGroup",
                                                 "diskEncryptionSetID",
                                                 "servicePrincipalProfile",
                                                 "kubernetesVersion",
                                                 "dnsPrefix",
                                                 "networkProfile",
                                                 "enableRBAC"};

// Operations in progress: a second change is refused until they end (409).
bool InProgress(std::string_view state) {
  return state == "Creating" || state == "Updating" || state == "Scaling" || state == "Deleting" ||
         state == "Stopping" || state == "Starting" || state == "Upgrading";
}

bool ValidClusterName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool ValidDnsPrefix(std::string_view p) {
  if (p.empty() || p.size() > 54) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(p.front()) || !alnum(p.back())) return false;
  for (char c : p) {
    if (!alnum(c) && c != '-') return false;
  }
  return true;
}

std::optional<ApiError> CheckTags(const json& tags) {
  if (tags.is_null()) return std::nullopt;
  if (!tags.is_object()) return MakeError(errors::kInvalidTags, "tags must be an object");
  if (tags.size() > 50) return MakeError(errors::kInvalidTags, "at most 50 tags are allowed");
  for (const auto& [k, v] : tags.items()) {
    if (k.empty() || !v.is_string()) {
      return MakeError(errors::kInvalidTags, "tag values must be strings");
    }
  }
  return std::nullopt;
}

const json& Member(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// Virtual nodes (aciConnectorLinux) are not supported with customer-managed keys.
// Settings whose enforcement byok does not have: refused instead of shown and ignored.
std::optional<ApiError> CheckUnsupportedFeatures(const json& props) {
  if (!props.is_object()) return std::nullopt;
  const json& aad = Member(props, "aadProfile");
  if (!aad.is_null() && !(aad.is_object() && aad.empty())) {
    return MakeError(errors::kUnsupportedClusterFeature, "properties.aadProfile",
                     "the cluster API authenticates kubectl with client certificates only, not "
                     "with Azure AD");
  }
  if (Member(props, "disableLocalAccounts") == json(true)) {
    return MakeError(errors::kUnsupportedClusterFeature, "properties.disableLocalAccounts",
                     "local accounts (the client certificates of the kubeconfigs) are the only way "
                     "to reach the cluster API, so they cannot be disabled");
  }
  const json& access = Member(props, "apiServerAccessProfile");
  if (access.is_object()) {
    const json& ranges = Member(access, "authorizedIPRanges");
    if (ranges.is_array() && !ranges.empty()) {
      return MakeError(errors::kUnsupportedClusterFeature,
                       "properties.apiServerAccessProfile.authorizedIPRanges",
                       "the cluster API is served on byokd's own port for every client");
    }
    if (Member(access, "enablePrivateCluster") == json(true)) {
      return MakeError(errors::kUnsupportedClusterFeature,
                       "properties.apiServerAccessProfile.enablePrivateCluster",
                       "byok has no virtual networks");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> CheckAddons(const json& addons, const std::string& des_id) {
  if (des_id.empty() || !addons.is_object()) return std::nullopt;
  for (const auto& [name, profile] : addons.items()) {
    if (name.size() < 12 || !EqualsIgnoreCase(name.substr(0, 12), "aciConnector")) continue;
    if (profile.is_object() && profile.value("enabled", false)) {
      return MakeError(errors::kVirtualNodesWithDes, name);
    }
  }
  return std::nullopt;
}

json DefaultNetworkProfile() {
  return {{"networkPlugin", "kubenet"},
          {"podCidr", "10.244.0.0/16"},
          {"serviceCidr", "10.0.0.0/16"},
          {"dnsServiceIP", "10.0.0.10"},
          {"dockerBridgeCidr", "172.17.0.1/16"},
          {"outboundType", "loadBalancer"},
          {"loadBalancerSku", "Standard"},
          {"loadBalancerProfile", {{"managedOutboundIPs", {{"count", 1}}}}},
          {"podCidrs", json::array({"10.244.0.0/16"})},
          {"serviceCidrs", json::array({"10.0.0.0/16"})},
          {"ipFamilies", json::array({"IPv4"})}};
}

// `base` with the non-null members of `over` replacing its own.
json Overlay(json base, const json& over) {
  if (!over.is_object()) return base;
  for (const auto& [k, v] : over.items()) {
    if (!v.is_null()) base[k] = v;
  }
  return base;
}

json NetworkProfile(const json& requested) {
  json n = Overlay(DefaultNetworkProfile(), requested);
  // AKS spells the SKU "Standard"/"Basic" whatever the case sent ("standard" from the CLI).
  std::string sku = StringOf(n, "loadBalancerSku");
  if (EqualsIgnoreCase(sku, "standard")) n["loadBalancerSku"] = "Standard";
  if (EqualsIgnoreCase(sku, "basic")) n["loadBalancerSku"] = "Basic";
  if (n.contains("podCidr") && n["podCidr"].is_string())
    n["podCidrs"] = json::array({n["podCidr"]});
  if (n.contains("serviceCidr") && n["serviceCidr"].is_string()) {
    n["serviceCidrs"] = json::array({n["serviceCidr"]});
  }
  return n;
}

// The request's own properties (what byok does not compute), passed through.
json PassthroughProperties(const json& base, const json& props) {
  json out = base.is_object() ? base : json::object();
  if (!props.is_object()) return out;
  for (const auto& [k, v] : props.items()) {
    bool computed = false;
    for (std::string_view c : kClusterComputed) {
      if (k == c) computed = true;
    }
    if (!computed && !v.is_null()) out[k] = v;
  }
  return out;
}

}  // namespace

// ---- PUT ----

http::Response Provider::PutCluster(ArmRequest& r) {
  if (!r.body.is_object()) {
    return ArmError(MakeError(errors::kInvalidRequestContent, "the body must be a JSON object"));
  }
  std::optional<ClusterState> state;
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, r.path.id.ToString()));
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  return state ? UpdateCluster(r, *state) : CreateCluster(r);
}

std::optional<ApiError> Provider::CheckDes(const ArmRequest& r, const std::string& des_id,
                                           const std::string& location) {
  auto parsed = ResourceId::Parse(des_id);
  if (!parsed.ok() || parsed->kind() != ResourceId::Kind::kResource ||
      !EqualsIgnoreCase(parsed->ResourceType(), compute::kDesType)) {
    return MakeError(errors::kInvalidDesId, des_id);
  }
  auto allowed = d_.rbac->IsAllowed(r.caller.object_id, kDesReadAction, des_id);
  if (!allowed.ok()) return InternalError(allowed.status());
  if (!*allowed) {
    std::string client = r.caller.app_id.empty() ? r.caller.object_id : r.caller.app_id;
    return MakeError(errors::kLinkedAuthorizationFailed, client, r.caller.object_id,
                     kClusterWriteAction, r.path.id.ToString(), kDesReadAction, des_id);
  }
  std::optional<compute::DesRecord> des;
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(des, compute::FindDes(txn, des_id));
    return Status::Ok();
  });
  if (!s.ok()) return InternalError(s);
  if (!des) {
    return MakeError(errors::kResourceNotFound,
                     fmt::format("{}/{}", compute::kDesType, parsed->Name()),
                     parsed->resource_group());
  }
  if (des->location != location) {
    return MakeError(errors::kDesRegionMismatch, des->id, des->location, location);
  }
  return std::nullopt;
}

http::Response Provider::CreateCluster(ArmRequest& r) {
  const ResourceId& id = r.path.id;
  const std::string cluster_id = id.ToString();
  const std::string name = id.Name();
  const std::string rg = id.resource_group();
  const std::string sub = id.subscription_id();
  if (!ValidClusterName(name)) return ArmError(MakeError(errors::kInvalidClusterName, name));
  std::string location_in = StringOf(r.body, "location");
  if (location_in.empty()) return ArmError(MakeError(errors::kLocationRequired));
  const arm::Location* loc = arm::FindLocation(location_in);
  if (loc == nullptr) {
    return ArmError(MakeError(errors::kLocationNotAvailableForResourceType, location_in,
                              kClusterType, arm::LocationNames()));
  }
  const std::string location(loc->name);
  json tags = Member(r.body, "tags");
  if (auto e = CheckTags(tags)) return ArmError(*e);
  if (tags.is_null()) tags = json::object();
  std::string identity_type = StringOf(Member(r.body, "identity"), "type");
  if (!identity_type.empty() && !EqualsIgnoreCase(identity_type, "SystemAssigned")) {
    return ArmError(MakeError(errors::kUnsupportedIdentityType, identity_type));
  }
  const json& props = Member(r.body, "properties");
  if (!props.is_null() && !props.is_object()) {
    return ArmError(MakeError(errors::kInvalidRequestContent, "'properties' must be an object"));
  }
  std::string sp = StringOf(Member(props, "servicePrincipalProfile"), "clientId");
  if (!sp.empty() && !EqualsIgnoreCase(sp, "msi")) {
    return ArmError(MakeError(errors::kUnsupportedIdentityType, "ServicePrincipal"));
  }
  if (auto e = CheckUnsupportedFeatures(props)) return ArmError(*e);

  std::string version_in = StringOf(props, "kubernetesVersion");
  std::optional<std::string> version = ResolveKubernetesVersion(version_in);
  if (!version) return ArmError(MakeError(errors::kVersionNotSupported, version_in));

  std::string dns_prefix = StringOf(props, "dnsPrefix");
  if (dns_prefix.empty()) dns_prefix = DefaultDnsPrefix(name, rg, sub);
  if (!ValidDnsPrefix(dns_prefix))
    return ArmError(MakeError(errors::kInvalidDnsPrefix, dns_prefix));

  // Agent pools.
  const json& profiles = Member(props, "agentPoolProfiles");
  if (!profiles.is_array() || profiles.empty()) {
    return ArmError(MakeError(errors::kAgentPoolProfilesRequired));
  }
  PoolContext ctx{location, *version, "System"};
  std::vector<PoolSpec> pools;
  std::set<std::string> seen;
  bool has_system = false;
  for (const json& p : profiles) {
    std::string pool_name = StringOf(p, "name");
    ApiResult<PoolSpec> spec = ParseNewPool(pool_name, p, ctx);
    if (!spec.ok()) return ArmError(spec.error());
    if (!seen.insert(arm::AsciiLower(pool_name)).second) {
      return ArmError(MakeError(errors::kDuplicatePoolName, pool_name));
    }
    has_system = has_system || spec->mode == "System";
    pools.push_back(std::move(spec).value());
  }
  if (!has_system) return ArmError(MakeError(errors::kMustDefineSystemPool));

  // The disk encryption set and what it excludes.
  const std::string des_id = StringOf(props, "diskEncryptionSetID");
  if (!des_id.empty()) {
    if (auto e = CheckDes(r, des_id, location)) return ArmError(*e);
  }
  if (auto e = CheckAddons(Member(props, "addonProfiles"), des_id)) return ArmError(*e);

  std::string node_rg = StringOf(props, "nodeResourceGroup");
  if (node_rg.empty()) node_rg = DefaultNodeResourceGroup(rg, name, location);
  const std::string unique_id = d_.random->Uuid();
  const std::string kubelet_id = KubeletIdentityId(sub, node_rg, name);
  const std::string fqdn_label = fmt::format("{}-{}", dns_prefix, HexEncode(d_.random->Bytes(4)));
  const std::string power = "Running";

  json out = PassthroughProperties(json::object(), props);
  out["provisioningState"] = "Creating";
  out["powerState"] = {{"code", power}};
  out["kubernetesVersion"] = *version;
  out["currentKubernetesVersion"] = *version;
  out["dnsPrefix"] = dns_prefix;
  out["fqdn"] = fmt::format("{}.hcp.{}.azmk8s.io", fqdn_label, location);
  out["azurePortalFQDN"] = fmt::format("{}.portal.hcp.{}.azmk8s.io", fqdn_label, location);
  out["servicePrincipalProfile"] = {{"clientId", "msi"}};
  out["nodeResourceGroup"] = node_rg;
  out["enableRBAC"] = Member(props, "enableRBAC").is_boolean() ? props["enableRBAC"] : json(true);
  out["networkProfile"] = NetworkProfile(Member(props, "networkProfile"));
  out["maxAgentPools"] = 100;
  if (!out.contains("addonProfiles")) out["addonProfiles"] = json::object();
  if (!out.contains("disableLocalAccounts")) out["disableLocalAccounts"] = false;
  if (!out.contains("securityProfile")) out["securityProfile"] = json::object();
  if (!out.contains("storageProfile")) {
    out["storageProfile"] = {{"diskCSIDriver", {{"enabled", true}}},
                             {"fileCSIDriver", {{"enabled", true}}},
                             {"snapshotController", {{"enabled", true}}}};
  }
  if (!out.contains("oidcIssuerProfile")) out["oidcIssuerProfile"] = {{"enabled", false}};
  if (!des_id.empty()) out["diskEncryptionSetID"] = des_id;

  json sku = Member(r.body, "sku");
  if (!sku.is_object()) sku = {{"name", "Basic"}, {"tier", "Free"}};

  std::optional<ApiError> refused;
  ClusterState state;
  Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    // Tagged as AKS tags its node resource groups.
    auto group = gateway::CreateResourceGroup(
        txn, sub, node_rg, location, cluster_id,
        {{"aks-managed-cluster-name", name}, {"aks-managed-cluster-rg", rg}});
    if (!group.ok()) {
      if (group.status().Is(StatusCode::kAlreadyExists)) {
        refused = MakeError(errors::kNodeResourceGroupExists, node_rg, cluster_id);
      } else if (group.status().Is(StatusCode::kInvalidArgument)) {
        refused = MakeError(errors::kInvalidNodeResourceGroup, node_rg, group.status().message());
      }
      return group.status();
    }
    BYOK_ASSIGN_OR_RETURN(identity::Principal principal,
                          d_.directory->CreateManagedIdentity(txn, cluster_id));
    BYOK_ASSIGN_OR_RETURN(identity::Principal kubelet,
                          d_.directory->CreateManagedIdentity(txn, kubelet_id));
    BYOK_ASSIGN_OR_RETURN(std::string ca_pem,
                          CreateClusterCa(txn, unique_id, name, d_.clock->Now()));
    out["identityProfile"] = {{"kubeletidentity",
                               {{"resourceId", kubelet_id},
                                {"clientId", kubelet.app_id},
                                {"objectId", kubelet.object_id}}}};
    store::Resource cluster;
    cluster.id = cluster_id;
    cluster.type = kClusterType;
    cluster.parent_id = ResourceId::ResourceGroup(sub, rg).ToString();
    cluster.body = {{"id", cluster_id},
                    {"location", location},
                    {"name", name},
                    {"type", kClusterType},
                    {"tags", tags},
                    {"sku", sku},
                    {"identity",
                     {{"type", "SystemAssigned"},
                      {"principalId", principal.object_id},
                      {"tenantId", principal.tenant_id}}},
                    {"properties", out},
                    {"internal", {{"uniqueId", unique_id}, {"clientCaPem", ca_pem}}}};
    auto created = txn.Create(std::move(cluster));
    if (!created.ok()) {
      if (created.status().Is(StatusCode::kAlreadyExists)) {
        refused = MakeError(errors::kOperationNotAllowedInState, "create", name, "Creating");
      }
      return created.status();
    }
    state.cluster = std::move(created).value();
    for (const PoolSpec& p : pools) {
      store::Resource pool;
      pool.id = fmt::format("{}/agentPools/{}", cluster_id, p.name);
      pool.type = kAgentPoolType;
      pool.parent_id = cluster_id;
      pool.body = PoolDocument(pool.id, p, "Creating", power);
      BYOK_ASSIGN_OR_RETURN(store::Resource stored, txn.Create(std::move(pool)));
      state.pools.push_back(std::move(stored));
    }
    store::Resource index;
    index.id = ClusterIndexId(unique_id);
    index.type = kClusterIndexType;
    index.body = {{"id", cluster_id}};
    BYOK_ASSIGN_OR_RETURN(auto idx, txn.Create(std::move(index)));
    (void)idx;
    return Status::Ok();
  });
  if (refused) return ArmError(*refused);
  if (!s.ok()) return Internal(r, s);
  spdlog::info("creating managed cluster {} (Kubernetes {}, {} pool(s), node resource group {}{})",
               cluster_id, *version, pools.size(), node_rg,
               des_id.empty() ? "" : ", disk encryption set " + des_id);

  std::shared_ptr<Provider> self = shared_from_this();
  return d_.operations->Start(
      r, [self, cluster_id]() -> ApiResult<json> { return self->FinishCreateOrUpdate(cluster_id); },
      201, ClusterDocument(state));
}

http::Response Provider::UpdateCluster(ArmRequest& r, const ClusterState& state) {
  const ClusterRecord& cur = state.record;
  if (InProgress(cur.provisioning_state)) {
    return ArmError(
        MakeError(errors::kOperationNotAllowedInState, "update", cur.name, cur.provisioning_state));
  }
  std::string location_in = StringOf(r.body, "location");
  if (!location_in.empty()) {
    const arm::Location* loc = arm::FindLocation(location_in);
    if (loc == nullptr || loc->name != cur.location) {
      return ArmError(MakeError(arm::errors::kInvalidResourceLocation, cur.name, cur.location,
                                cur.resource_group, location_in));
    }
  }
  const json& tags = Member(r.body, "tags");
  if (auto e = CheckTags(tags)) return ArmError(*e);
  std::string identity_type = StringOf(Member(r.body, "identity"), "type");
  if (!identity_type.empty() && !EqualsIgnoreCase(identity_type, "SystemAssigned")) {
    return ArmError(MakeError(errors::kUnsupportedIdentityType, identity_type));
  }
  const json& props = Member(r.body, "properties");
  if (!props.is_null() && !props.is_object()) {
    return ArmError(MakeError(errors::kInvalidRequestContent, "'properties' must be an object"));
  }
  if (auto e = CheckUnsupportedFeatures(props)) return ArmError(*e);
  // OS-disk encryption is chosen at creation only.
  std::string des_id = StringOf(props, "diskEncryptionSetID");
  if (!des_id.empty() && !EqualsIgnoreCase(des_id, cur.des_id)) {
    return ArmError(MakeError(errors::kPropertyChangeNotAllowed, "diskEncryptionSetID"));
  }
  std::string version_in = StringOf(props, "kubernetesVersion");
  if (!version_in.empty()) {
    std::optional<std::string> v = ResolveKubernetesVersion(version_in);
    if (!v) return ArmError(MakeError(errors::kVersionNotSupported, version_in));
    if (*v != cur.kubernetes_version) {
      return ArmError(MakeError(errors::kUpgradeNotSupported, cur.kubernetes_version, *v));
    }
  }
  const json& stored_props = state.cluster.body.value("properties", json::object());
  std::string dns = StringOf(props, "dnsPrefix");
  if (!dns.empty() && dns != StringOf(stored_props, "dnsPrefix")) {
    return ArmError(MakeError(errors::kPropertyChangeNotAllowed, "dnsPrefix"));
  }
  std::string node_rg = StringOf(props, "nodeResourceGroup");
  if (!node_rg.empty() && !EqualsIgnoreCase(node_rg, cur.node_resource_group)) {
    return ArmError(MakeError(errors::kPropertyChangeNotAllowed, "nodeResourceGroup"));
  }
  const json& addons = Member(props, "addonProfiles");
  if (auto e = CheckAddons(addons.is_null() ? Member(stored_props, "addonProfiles") : addons,
                           cur.des_id)) {
    return ArmError(*e);
  }

  // Agent pools: existing ones scale / change mode, new ones are created.
  std::map<std::string, PoolSpec> updates;  // key: lower-case name
  std::map<std::string, std::string> modes;
  std::map<std::string, int> counts;
  for (const store::Resource& p : state.pools) {
    if (IsDeleting(p.body)) continue;  // going away: neither a System pool nor to be written back
    std::string n = arm::AsciiLower(StringOf(p.body, "name"));
    modes[n] = StringOf(p.body.value("properties", json::object()), "mode");
    counts[n] = p.body.value("properties", json::object()).value("count", 0);
  }
  bool scales = false;
  const json& profiles = Member(props, "agentPoolProfiles");
  if (!profiles.is_null() && !profiles.is_array()) {
    return ArmError(MakeError(errors::kInvalidRequestContent, "'agentPoolProfiles' is not a list"));
  }
  if (profiles.is_array()) {
    PoolContext ctx{cur.location, cur.kubernetes_version, "User"};
    for (const json& profile : profiles) {
      std::string pool_name = StringOf(profile, "name");
      std::string key = arm::AsciiLower(pool_name);
      if (updates.count(key) != 0) {
        return ArmError(MakeError(errors::kDuplicatePoolName, pool_name));
      }
      const store::Resource* existing = nullptr;
      for (const store::Resource& p : state.pools) {
        if (EqualsIgnoreCase(StringOf(p.body, "name"), pool_name)) existing = &p;
      }
      // The CLI's read-modify-write echoes a pool whose delete is queued: leave it to that delete.
      if (existing && IsDeleting(existing->body)) continue;
      ApiResult<PoolSpec> spec = existing ? ParsePoolUpdate(profile, existing->body, ctx)
                                          : ParseNewPool(pool_name, profile, ctx);
      if (!spec.ok()) return ArmError(spec.error());
      if (!existing || counts[key] != spec->count) scales = true;
      modes[key] = spec->mode;
      updates.emplace(key, std::move(spec).value());
    }
  }
  bool has_system = false;
  for (const auto& [n, m] : modes) has_system = has_system || m == "System";
  if (!has_system) return ArmError(MakeError(errors::kLastSystemPool));
  if (scales && cur.power_state == "Stopped") {
    return ArmError(MakeError(errors::kClusterStopped, "scale", cur.name));
  }

  store::Resource cluster = state.cluster;
  json& body = cluster.body;
  if (!tags.is_null()) body["tags"] = tags;
  body["properties"] = PassthroughProperties(stored_props, props);
  if (const json& net = Member(props, "networkProfile"); net.is_object()) {
    json merged = Overlay(Member(stored_props, "networkProfile"), net);
    // The network plugin and address ranges are fixed at creation.
    for (const char* fixed : {"networkPlugin", "podCidr", "serviceCidr", "dnsServiceIP", "podCidrs",
                              "serviceCidrs", "outboundType"}) {
      if (stored_props.value("networkProfile", json::object()).contains(fixed)) {
        merged[fixed] = stored_props["networkProfile"][fixed];
      }
    }
    body["properties"]["networkProfile"] = merged;
  }
  if (Member(props, "enableRBAC").is_boolean())
    body["properties"]["enableRBAC"] = props["enableRBAC"];
  body["properties"]["provisioningState"] = "Updating";
  const std::string power = cur.power_state.empty() ? "Running" : cur.power_state;
  const std::string cluster_id = state.cluster.id;

  ClusterState next;
  Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(next.cluster, txn.Put(cluster, state.cluster.etag));
    for (const auto& [key, spec] : updates) {
      store::Resource pool;
      pool.id = fmt::format("{}/agentPools/{}", cluster_id, spec.name);
      pool.type = kAgentPoolType;
      pool.parent_id = cluster_id;
      pool.body = PoolDocument(pool.id, spec, "Updating", power);
      BYOK_ASSIGN_OR_RETURN(auto stored, txn.Put(std::move(pool)));
      (void)stored;
    }
    BYOK_ASSIGN_OR_RETURN(auto loaded, Load(txn, cluster_id));
    if (loaded) next = std::move(*loaded);
    return Status::Ok();
  });
  if (s.Is(StatusCode::kAborted)) {
    return ArmError(MakeError(errors::kOperationNotAllowedInState, "update", cur.name, "Updating"));
  }
  if (!s.ok()) return Internal(r, s);
  spdlog::info("updating managed cluster {}", cluster_id);
  std::shared_ptr<Provider> self = shared_from_this();
  return d_.operations->Start(
      r, [self, cluster_id]() -> ApiResult<json> { return self->FinishCreateOrUpdate(cluster_id); },
      200, ClusterDocument(next));
}

// ---- PATCH (tags), GET, list ----

http::Response Provider::PatchCluster(ArmRequest& r) {
  if (!r.body.is_object()) {
    return ArmError(MakeError(errors::kInvalidRequestContent, "the body must be a JSON object"));
  }
  const json& tags = Member(r.body, "tags");
  if (auto e = CheckTags(tags)) return ArmError(*e);
  std::optional<ClusterState> state;
  Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, r.path.id.ToString()));
    if (!state) return Status::Ok();
    if (!tags.is_null()) {
      state->cluster.body["tags"] = tags;
      BYOK_ASSIGN_OR_RETURN(state->cluster, txn.Put(state->cluster));
    }
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (!state) return ClusterNotFound(r.path.id);
  return http::Response::Json(200, ClusterDocument(*state));
}

http::Response Provider::GetCluster(ArmRequest& r) {
  std::optional<ClusterState> state;
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, r.path.id.ToString()));
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (!state) return ClusterNotFound(r.path.id);
  return http::Response::Json(200, ClusterDocument(*state));
}

http::Response Provider::ListClusters(ArmRequest& r) {
  json value = json::array();
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto all, txn.ListByType(kClusterType, r.path.id.ToString()));
    for (const store::Resource& c : all) {
      BYOK_ASSIGN_OR_RETURN(auto state, Load(txn, c.id));
      if (state) value.push_back(ClusterDocument(*state));
    }
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  return http::Response::Json(200, {{"value", value}});
}

// ---- DELETE ----

http::Response Provider::DeleteCluster(ArmRequest& r) {
  std::string cluster_id;
  Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto state, Load(txn, r.path.id.ToString()));
    if (!state) return Status::Ok();
    cluster_id = state->cluster.id;
    state->cluster.body["properties"]["provisioningState"] = "Deleting";
    BYOK_ASSIGN_OR_RETURN(auto put, txn.Put(state->cluster));
    (void)put;
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (cluster_id.empty()) return http::Response::Empty(204);
  std::shared_ptr<Provider> self = shared_from_this();
  return d_.operations->Start(
      r, [self, cluster_id]() -> ApiResult<json> { return self->FinishDelete(cluster_id); });
}

// ---- Credentials ----

http::Response Provider::ListCredential(ArmRequest& r, CredentialKind kind) {
  std::optional<ClusterRecord> cluster;
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(cluster, FindCluster(txn, r.path.id.ToString()));
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (!cluster) return ClusterNotFound(r.path.id);
  KubeconfigOptions options;
  options.api_base_url = d_.api_base_url ? d_.api_base_url() : "https://localhost:8443";
  options.server_ca_pem = d_.server_ca_pem ? d_.server_ca_pem() : "";
  options.now = d_.clock->Now();
  auto kubeconfig = BuildKubeconfig(*d_.store, *cluster, kind, options);
  if (!kubeconfig.ok()) {
    spdlog::error("managed cluster {}: kubeconfig: {}", cluster->id,
                  kubeconfig.status().ToString());
    return ArmError(MakeError(errors::kCredentialsUnavailable, kubeconfig.status().message()));
  }
  const std::string& text = *kubeconfig;
  std::string value = Base64Encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  json entry = {{"name", kind == CredentialKind::kAdmin ? "clusterAdmin" : "clusterUser"},
                {"value", value}};
  return http::Response::Json(200, {{"kubeconfigs", json::array({entry})}});
}

// ---- stop / start ----

http::Response Provider::StopCluster(ArmRequest& r) { return ChangePower(r, /*stop=*/true); }
http::Response Provider::StartCluster(ArmRequest& r) { return ChangePower(r, /*stop=*/false); }

http::Response Provider::ChangePower(ArmRequest& r, bool stop) {
  const char* verb = stop ? "stop" : "start";
  std::optional<ClusterState> state;
  std::optional<ApiError> refused;
  Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, r.path.id.ToString()));
    if (!state) return Status::Ok();
    if (InProgress(state->record.provisioning_state)) {
      refused = MakeError(errors::kOperationNotAllowedInState, verb, state->record.name,
                          state->record.provisioning_state);
      return Status::Ok();
    }
    state->cluster.body["properties"]["provisioningState"] = stop ? "Stopping" : "Starting";
    BYOK_ASSIGN_OR_RETURN(auto put, txn.Put(state->cluster));
    (void)put;
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (!state) return ClusterNotFound(r.path.id);
  if (refused) return ArmError(*refused);
  std::shared_ptr<Provider> self = shared_from_this();
  std::string cluster_id = state->cluster.id, uid = state->record.unique_id;
  return d_.operations->Start(r, [self, cluster_id, uid, stop]() -> ApiResult<json> {
    return self->FinishPower(cluster_id, uid, stop);
  });
}

// ---- Kubernetes versions ----

http::Response Provider::ListOrchestrators(ArmRequest& r) {
  const arm::Location* loc = arm::FindLocation(r.path.id.Name());
  if (loc == nullptr) return ArmError(MakeError(errors::kUnknownLocation, r.path.id.Name()));
  return http::Response::Json(200, OrchestratorsDocument(r.path.id.subscription_id(), loc->name));
}

http::Response Provider::ListKubernetesVersions(ArmRequest& r) {
  const arm::Location* loc = arm::FindLocation(r.path.id.Name());
  if (loc == nullptr) return ArmError(MakeError(errors::kUnknownLocation, r.path.id.Name()));
  return http::Response::Json(200, KubernetesVersionsDocument());
}

}  // namespace byok::containerservice::internal
