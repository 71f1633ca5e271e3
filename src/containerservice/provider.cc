#include "containerservice/provider.h"

#include <cctype>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "authz/roles.h"
#include "containerservice/errors.h"
#include "gateway/resources_provider.h"

namespace byok::containerservice {

using arm::EqualsIgnoreCase;
using arm::ResourceId;
using gateway::ArmRequest;
using nlohmann::json;

const std::vector<std::string>& ContainerServiceApiVersions() {
  static const std::vector<std::string> kVersions = {
      "2025-10-01", "2025-08-01", "2025-07-01", "2025-05-01", "2025-04-01", "2025-03-01",
      "2025-02-01", "2025-01-01", "2024-10-01", "2024-09-01", "2024-08-01", "2024-07-01",
      "2024-06-01", "2024-05-01", "2024-02-01", "2024-01-01", "2023-11-01", "2023-10-01",
      "2023-09-01", "2023-08-01", "2023-07-01", "2023-06-01", "2023-05-01", "2023-04-01",
      "2023-03-01", "2023-02-01", "2023-01-01", "2022-11-01", "2022-09-01", "2022-08-01",
      "2022-07-01", "2022-06-01", "2022-04-01", "2022-03-01", "2022-02-01", "2022-01-01",
      "2021-10-01", "2021-09-01", "2021-08-01", "2021-07-01", "2021-05-01", "2021-03-01",
      "2021-02-01", "2020-12-01", "2020-11-01"};
  return kVersions;
}

const std::vector<std::string>& OrchestratorApiVersions() {
  static const std::vector<std::string> kVersions = {"2019-08-01", "2019-06-01", "2019-04-01",
                                                     "2017-09-30"};
  return kVersions;
}

std::shared_ptr<void> RegisterContainerServiceProviders(gateway::Frontend& frontend,
                                                        ContainerServiceDeps deps) {
  auto provider = std::make_shared<internal::Provider>(std::move(deps));
  provider->Register(frontend);
  if (Status s = provider->Resume(); !s.ok()) {
    spdlog::error("AKS: resuming the operations cut short by a restart: {}", s.ToString());
  }
  return provider;
}

namespace internal {

void Provider::Register(gateway::Frontend& fe) {
  std::shared_ptr<Provider> self = shared_from_this();
  gateway::ResourceTypeSpec mc;
  mc.type = kClusterType;
  mc.api_versions = ContainerServiceApiVersions();
  mc.put = [self](ArmRequest& r) { return self->PutCluster(r); };
  mc.patch = [self](ArmRequest& r) { return self->PatchCluster(r); };
  mc.get = [self](ArmRequest& r) { return self->GetCluster(r); };
  mc.del = [self](ArmRequest& r) { return self->DeleteCluster(r); };
  mc.list = [self](ArmRequest& r) { return self->ListClusters(r); };
  mc.actions["listclusterusercredential"] = [self](ArmRequest& r) {
    return self->ListCredential(r, CredentialKind::kUser);
  };
  mc.actions["listclusteradmincredential"] = [self](ArmRequest& r) {
    return self->ListCredential(r, CredentialKind::kAdmin);
  };
  mc.actions["stop"] = [self](ArmRequest& r) { return self->StopCluster(r); };
  mc.actions["start"] = [self](ArmRequest& r) { return self->StartCluster(r); };
  // A resource-group delete: the cluster goes with its nodes and node resource group first (node
  // work needs its own transactions); what is left for the cascade's transaction is only a
  // fallback for a cluster the first hook did not see.
  mc.before_cascade_delete = [self](const store::Resource& res) {
    return self->DeleteEverything(res.id);
  };
  mc.on_cascade_delete = [self](store::Transaction& txn, const store::Resource& res) -> Status {
    auto rec = ClusterRecordFromBody(res.body);
    if (!rec.ok()) return Status::Ok();
    BYOK_TRY(self->d_.directory->DeleteManagedIdentity(txn, rec->id));
    const std::string kubelet_id = StringOf(res.body.value("properties", json::object())
                                                .value("identityProfile", json::object())
                                                .value("kubeletidentity", json::object()),
                                            "resourceId");
    if (!kubelet_id.empty()) BYOK_TRY(self->d_.directory->DeleteManagedIdentity(txn, kubelet_id));
    // The node records go; files of Ephemeral OS disks would stay behind, but this path only
    // runs for a cluster the before_cascade_delete hook did not see.
    BYOK_ASSIGN_OR_RETURN(int nodes, txn.DeleteByPrefix(std::string(kNodePrefix) + rec->unique_id));
    (void)nodes;
    BYOK_TRY(DeleteClusterCa(txn, rec->unique_id));
    BYOK_TRY(DeleteKubeObjects(txn, rec->unique_id));
    if (Status s = txn.Delete(ClusterIndexId(rec->unique_id));
        !s.ok() && !s.Is(StatusCode::kNotFound)) {
      return s;
    }
    return Status::Ok();
  };
  mc.after_cascade_delete = [self](const store::Resource& res) {
    auto rec = ClusterRecordFromBody(res.body);
    if (rec.ok() && self->d_.on_cluster_deleted) self->d_.on_cluster_deleted(rec->unique_id);
  };
  fe.Register(std::move(mc));

  gateway::ResourceTypeSpec pools;
  pools.type = kAgentPoolType;
  pools.api_versions = ContainerServiceApiVersions();
  pools.put = [self](ArmRequest& r) { return self->PutPool(r); };
  pools.get = [self](ArmRequest& r) { return self->GetPool(r); };
  pools.del = [self](ArmRequest& r) { return self->DeletePool(r); };
  pools.list = [self](ArmRequest& r) { return self->ListPools(r); };
  fe.Register(std::move(pools));

  gateway::ResourceTypeSpec orchestrators;
  orchestrators.type = "Microsoft.ContainerService/locations/orchestrators";
  orchestrators.api_versions = OrchestratorApiVersions();
  orchestrators.list = [self](ArmRequest& r) { return self->ListOrchestrators(r); };
  fe.Register(std::move(orchestrators));

  gateway::ResourceTypeSpec versions;
  versions.type = "Microsoft.ContainerService/locations/kubernetesVersions";
  versions.api_versions = ContainerServiceApiVersions();
  versions.list = [self](ArmRequest& r) { return self->ListKubernetesVersions(r); };
  fe.Register(std::move(versions));
}

// ---- Records and documents ----

Result<std::optional<ClusterState>> Provider::Load(store::Transaction& txn,
                                                   std::string_view cluster_id) {
  BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(cluster_id));
  if (!res || !EqualsIgnoreCase(res->type, kClusterType)) return std::optional<ClusterState>();
  ClusterState state;
  BYOK_ASSIGN_OR_RETURN(state.record, ClusterRecordFromBody(res->body));
  BYOK_ASSIGN_OR_RETURN(state.pools, txn.ListChildren(res->id, std::string(kAgentPoolType)));
  state.cluster = std::move(*res);
  return std::optional<ClusterState>(std::move(state));
}

json Provider::ClusterDocument(const ClusterState& state) {
  json doc = state.cluster.body;
  doc.erase("internal");
  json profiles = json::array();
  for (const store::Resource& p : state.pools) profiles.push_back(ProfileOf(p.body));
  doc["properties"]["agentPoolProfiles"] = std::move(profiles);
  return doc;
}

Status Provider::SetStates(const std::string& cluster_id, const std::string& provisioning,
                           const std::string& power, bool pools, const std::string& only_pool,
                           bool deleting_op) {
  return store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto state, Load(txn, cluster_id));
    if (!state) return Status::Ok();
    if (!deleting_op && internal::IsDeleting(state->cluster.body)) return Status::Ok();
    if (only_pool.empty()) {
      store::Resource c = state->cluster;
      c.body["properties"]["provisioningState"] = provisioning;
      if (!power.empty()) c.body["properties"]["powerState"] = {{"code", power}};
      BYOK_ASSIGN_OR_RETURN(auto put, txn.Put(std::move(c)));
      (void)put;
    }
    if (!pools) return Status::Ok();
    for (store::Resource p : state->pools) {
      if (!only_pool.empty() && !EqualsIgnoreCase(StringOf(p.body, "name"), only_pool)) continue;
      // A pool being deleted stays so until its own operation removes it.
      if (StringOf(p.body.value("properties", json::object()), "provisioningState") == "Deleting") {
        continue;
      }
      p.body["properties"]["provisioningState"] = provisioning;
      if (!power.empty()) p.body["properties"]["powerState"] = {{"code", power}};
      BYOK_ASSIGN_OR_RETURN(auto put, txn.Put(std::move(p)));
      (void)put;
    }
    return Status::Ok();
  });
}

NodeSpec NodeSpecFor(const ClusterRecord& c, const json& pool_document) {
  const json& props = pool_document.value("properties", json::object());
  NodeSpec spec;
  spec.cluster_id = c.id;
  spec.cluster_unique_id = c.unique_id;
  spec.node_resource_group_id =
      ResourceId::ResourceGroup(c.subscription_id, c.node_resource_group).ToString();
  spec.location = c.location;
  spec.pool_name = StringOf(pool_document, "name");
  spec.vm_size = StringOf(props, "vmSize");
  spec.os_disk_type = EqualsIgnoreCase(StringOf(props, "osDiskType"), "Ephemeral")
                          ? OsDiskType::kEphemeral
                          : OsDiskType::kManaged;
  spec.os_disk_size_gb = props.value("osDiskSizeGB", 128);
  spec.des_id = c.des_id;
  spec.kubernetes_version = StringOf(props, "currentOrchestratorVersion");
  if (spec.kubernetes_version.empty()) spec.kubernetes_version = c.kubernetes_version;
  return spec;
}

ApiResult<bool> Provider::Reconcile(const std::string& cluster_id, const std::string& only_pool) {
  std::optional<ClusterState> state;
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, cluster_id));
    return Status::Ok();
  });
  if (!s.ok()) return InternalError(s);
  if (!state) {
    ResourceId id = ResourceId::Parse(cluster_id).value_or(ResourceId());
    return MakeError(errors::kResourceNotFound, fmt::format("{}/{}", kClusterType, id.Name()),
                     id.resource_group());
  }
  const ClusterRecord& c = state->record;
  for (const store::Resource& pool : state->pools) {
    std::string name = StringOf(pool.body, "name");
    if (!only_pool.empty() && !EqualsIgnoreCase(name, only_pool)) continue;
    const json& props = pool.body.value("properties", json::object());
    if (StringOf(props, "provisioningState") == "Deleting") continue;
    int want = props.value("count", 0);
    auto nodes = d_.nodes->List(c.unique_id, name);
    if (!nodes.ok()) return InternalError(nodes.status());
    int have = static_cast<int>(nodes->size());
    std::optional<ApiError> failed;
    if (want > have) {
      auto added = d_.nodes->AddNodes(NodeSpecFor(c, pool.body), want - have);
      if (!added.ok()) failed = added.error();
    } else if (want < have) {
      auto removed = d_.nodes->RemoveNodes(c.unique_id, name, have - want);
      if (!removed.ok()) failed = removed.error();
    }
    if (failed) {
      spdlog::warn("managed cluster {}: pool {} could not reach {} nodes: {} {}", c.id, name, want,
                   failed->code, failed->message);
      if (Status st = SetStates(cluster_id, "Failed", "", true, name); !st.ok()) {
        spdlog::error("managed cluster {}: {}", c.id, st.ToString());
      }
      if (only_pool.empty()) {
        if (Status st = SetStates(cluster_id, "Failed", "", false); !st.ok()) {
          spdlog::error("managed cluster {}: {}", c.id, st.ToString());
        }
      }
      return *failed;
    }
    spdlog::info("managed cluster {}: pool {} has {} nodes", c.id, name, want);
  }
  if (Status st = SetStates(cluster_id, "Succeeded", "", true, only_pool); !st.ok()) {
    return InternalError(st);
  }
  return true;
}

Status Provider::GrantNodeGroupContributor(const ClusterRecord& c) {
  std::string scope =
      ResourceId::ResourceGroup(c.subscription_id, c.node_resource_group).ToString();
  json body = {
      {"properties",
       {{"roleDefinitionId",
         fmt::format("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}",
                     c.subscription_id, authz::kContributorRoleId)},
        {"principalId", c.principal_id},
        {"principalType", "ServicePrincipal"},
        {"description",
         fmt::format("Managed cluster {} manages its node resource group", c.name)}}}};
  auto created = d_.rbac->CreateRoleAssignment(scope, d_.random->Uuid(), body, c.principal_id);
  if (!created.ok() && created.error().code != "RoleAssignmentExists") {
    return Status::Internal(fmt::format("cannot grant Contributor on {} to {}: {}: {}", scope,
                                        c.principal_id, created.error().code,
                                        created.error().message));
  }
  return Status::Ok();
}

Status Provider::DeleteEverything(const std::string& cluster_id) {
  std::optional<ClusterState> state;
  BYOK_TRY(store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, cluster_id));
    return Status::Ok();
  }));
  if (!state) return Status::Ok();
  const ClusterRecord& c = state->record;
  BYOK_TRY(d_.nodes->RemoveAll(c.unique_id));
  const std::string node_rg =
      ResourceId::ResourceGroup(c.subscription_id, c.node_resource_group).ToString();
  // The node resource group goes only if it is this cluster's.
  bool own_group = false;
  BYOK_TRY(store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto group, txn.Get(node_rg));
    own_group = group && EqualsIgnoreCase(StringOf(group->body, "managedBy"), c.id);
    return Status::Ok();
  }));
  if (own_group) BYOK_TRY(gateway::PrepareResourceGroupDelete(*d_.store, *d_.frontend, node_rg));
  const json& kubelet = state->cluster.body.value("properties", json::object())
                            .value("identityProfile", json::object())
                            .value("kubeletidentity", json::object());
  const std::string kubelet_id = StringOf(kubelet, "resourceId");
  std::vector<store::Resource> deleted;
  BYOK_TRY(store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    deleted.clear();  // a retried transaction starts over
    if (own_group) {
      auto n = gateway::DeleteResourceGroupCascade(txn, *d_.frontend, node_rg, &deleted);
      if (!n.ok() && !n.status().Is(StatusCode::kNotFound)) return n.status();
    }
    BYOK_TRY(d_.directory->DeleteManagedIdentity(txn, c.id));
    if (!kubelet_id.empty()) BYOK_TRY(d_.directory->DeleteManagedIdentity(txn, kubelet_id));
    BYOK_TRY(DeleteClusterCa(txn, c.unique_id));
    BYOK_TRY(DeleteKubeObjects(txn, c.unique_id));
    if (Status s = txn.Delete(ClusterIndexId(c.unique_id));
        !s.ok() && !s.Is(StatusCode::kNotFound)) {
      return s;
    }
    BYOK_ASSIGN_OR_RETURN(int n, txn.DeleteByPrefix(state->cluster.id));
    (void)n;
    return Status::Ok();
  }));
  gateway::FinishResourceGroupDelete(*d_.frontend, deleted);
  if (d_.on_cluster_deleted) d_.on_cluster_deleted(c.unique_id);
  spdlog::info("deleted managed cluster {} with its nodes and node resource group {}", c.id,
               c.node_resource_group);
  return Status::Ok();
}

// ---- The work of the long-running operations ----

namespace {

Result<std::optional<ClusterState>> LoadState(Provider& p, const std::string& cluster_id) {
  std::optional<ClusterState> st;
  BYOK_TRY(store::RunInReadTransaction(*p.d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(st, p.Load(txn, cluster_id));
    return Status::Ok();
  }));
  return st;
}

}  // namespace

// Creation and update (also what repairs a failed creation: the identity's Contributor grant).
ApiResult<json> Provider::FinishCreateOrUpdate(const std::string& cluster_id) {
  auto st = LoadState(*this, cluster_id);
  if (!st.ok()) return InternalError(st.status());
  if (!*st) return json();
  if (Status g = GrantNodeGroupContributor((*st)->record); !g.ok()) {
    (void)SetStates(cluster_id, "Failed", "", true);
    return InternalError(g);
  }
  ApiResult<bool> done = Reconcile(cluster_id);
  if (!done.ok()) return done.error();
  st = LoadState(*this, cluster_id);
  if (!st.ok()) return InternalError(st.status());
  return *st ? ClusterDocument(**st) : json();
}

ApiResult<json> Provider::FinishDelete(const std::string& cluster_id) {
  if (Status st = DeleteEverything(cluster_id); !st.ok()) {
    (void)SetStates(cluster_id, "Failed", "", false, "", /*deleting_op=*/true);
    return InternalError(st);
  }
  return json();
}

ApiResult<json> Provider::FinishPower(const std::string& cluster_id, const std::string& uid,
                                      bool stop) {
  Status changed = stop ? d_.nodes->StopAll(uid) : d_.nodes->StartAll(uid);
  if (!changed.ok()) {
    (void)SetStates(cluster_id, "Failed", "", false);
    return InternalError(changed);
  }
  if (Status st = SetStates(cluster_id, "Succeeded", stop ? "Stopped" : "Running", true);
      !st.ok()) {
    return InternalError(st);
  }
  spdlog::info("managed cluster {} {}", cluster_id, stop ? "stopped" : "started");
  return json();
}

ApiResult<json> Provider::FinishPoolDelete(const std::string& uid, const std::string& name,
                                           const std::string& pool_id) {
  if (Status st = d_.nodes->RemoveAll(uid, name); !st.ok()) return InternalError(st);
  Status st = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    Status d = txn.Delete(pool_id);
    return d.Is(StatusCode::kNotFound) ? Status::Ok() : d;
  });
  if (!st.ok()) return InternalError(st);
  spdlog::info("deleted agent pool {}", pool_id);
  return json();
}

Status Provider::Resume() {
  std::vector<std::string> cluster_ids;
  BYOK_TRY(store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto clusters, txn.ListByType(kClusterType));
    for (const store::Resource& c : clusters) cluster_ids.push_back(c.id);
    return Status::Ok();
  }));
  std::shared_ptr<Provider> self = shared_from_this();
  int resumed = 0;
  for (const std::string& id : cluster_ids) {
    auto st = LoadState(*this, id);
    if (!st.ok()) return st.status();
    if (!*st) continue;
    const ClusterRecord& c = (*st)->record;
    const std::string& state = c.provisioning_state;
    const std::string what = fmt::format("resuming '{}' of managed cluster {}", state, id);
    ++resumed;
    if (state == "Creating") {
      d_.operations->Enqueue(what, [self, id] { return self->FinishCreateOrUpdate(id); });
    } else if (state == "Updating" || state == "Scaling" || state == "Upgrading") {
      d_.operations->Enqueue(what, [self, id] { return self->FinishCreateOrUpdate(id); });
    } else if (state == "Deleting") {
      d_.operations->Enqueue(what, [self, id] { return self->FinishDelete(id); });
    } else if (state == "Stopping" || state == "Starting") {
      const bool stop = state == "Stopping";
      d_.operations->Enqueue(
          what, [self, id, uid = c.unique_id, stop] { return self->FinishPower(id, uid, stop); });
    } else {
      --resumed;
      for (const store::Resource& pool : (*st)->pools) {
        const std::string ps =
            StringOf(pool.body.value("properties", json::object()), "provisioningState");
        const std::string name = StringOf(pool.body, "name");
        const std::string pool_what = fmt::format("resuming '{}' of agent pool {}", ps, pool.id);
        if (ps == "Deleting") {
          d_.operations->Enqueue(pool_what, [self, uid = c.unique_id, name, pool_id = pool.id] {
            return self->FinishPoolDelete(uid, name, pool_id);
          });
          ++resumed;
        } else if (ps == "Creating" || ps == "Updating" || ps == "Scaling") {
          d_.operations->Enqueue(pool_what, [self, id, name]() -> ApiResult<json> {
            ApiResult<bool> done = self->Reconcile(id, name);
            if (!done.ok()) return done.error();
            return json();
          });
          ++resumed;
        }
      }
    }
  }
  // The nodes' VMs went down with byokd: boot the running ones again (behind the resumed work).
  d_.operations->Enqueue("booting the nodes again after a restart", [self]() -> ApiResult<json> {
    if (Status s = self->d_.nodes->BootAfterRestart(); !s.ok()) return self->InternalError(s);
    return json();
  });
  if (resumed > 0) spdlog::info("resuming {} AKS operations cut short by a restart", resumed);
  return Status::Ok();
}

// ---- Helpers ----

http::Response Provider::Internal(const ArmRequest& r, const Status& s) const {
  spdlog::error("{} {}: {}", r.http->method, r.http->path, s.ToString());
  return gateway::ArmError(
      MakeError(errors::kInternalError, FormatAzureTime(d_.clock->Now()), r.http->request_id));
}

ApiError Provider::InternalError(const Status& s) const {
  spdlog::error("containerservice: {}", s.ToString());
  return MakeError(errors::kInternalError, FormatAzureTime(d_.clock->Now()), "");
}

http::Response Provider::ClusterNotFound(const ResourceId& cluster_id) const {
  return gateway::ArmError(MakeError(errors::kResourceNotFound,
                                     fmt::format("{}/{}", kClusterType, cluster_id.Name()),
                                     cluster_id.resource_group()));
}

std::string DefaultNodeResourceGroup(std::string_view rg, std::string_view name,
                                     std::string_view location) {
  std::string out = fmt::format("MC_{}_{}_{}", rg, name, location);
  if (out.size() > 80) out.resize(80);
  return out;
}

std::string DefaultDnsPrefix(std::string_view name, std::string_view rg,
                             std::string_view subscription_id) {
  auto clean = [](std::string_view s, size_t max) {
    std::string out;
    for (char c : s) {
      if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-') out += c;
    }
    if (out.size() > max) out.resize(max);
    return out;
  };
  std::string name_part = clean(name, 10);
  if (name_part.empty() || std::isalpha(static_cast<unsigned char>(name_part[0])) == 0) {
    name_part = ("a" + name_part).substr(0, 10);
  }
  return fmt::format("{}-{}-{}", name_part, clean(rg, 16), subscription_id.substr(0, 6));
}

std::string KubeletIdentityId(std::string_view subscription_id, std::string_view node_rg,
                              std::string_view cluster_name) {
  return fmt::format(
      "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/"
      "userAssignedIdentities/{}-agentpool",
      subscription_id, node_rg, cluster_name);
}

}  // namespace internal
}  // namespace byok::containerservice
