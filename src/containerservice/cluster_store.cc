#include "containerservice/cluster_store.h"

#include <fmt/format.h>

#include "arm/resource_id.h"

namespace byok::containerservice {
namespace {

using nlohmann::json;

std::string StringAt(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& ObjectAt(const json& obj, const char* key) {
  static const json kEmpty = json::object();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

}  // namespace

std::string ClusterIndexId(std::string_view unique_id) {
  return fmt::format("{}{}", kClusterIndexPrefix, unique_id);
}

Result<ClusterRecord> ClusterRecordFromBody(const json& body) {
  if (!body.is_object()) return Status::DataLoss("managed cluster document is not an object");
  ClusterRecord c;
  c.id = StringAt(body, "id");
  BYOK_ASSIGN_OR_RETURN(arm::ResourceId id, arm::ResourceId::Parse(c.id));
  c.name = id.Name();
  c.resource_group = id.resource_group();
  c.subscription_id = id.subscription_id();
  c.location = StringAt(body, "location");
  const json& props = ObjectAt(body, "properties");
  const json& internal = ObjectAt(body, "internal");
  c.unique_id = StringAt(internal, "uniqueId");
  c.client_ca_pem = StringAt(internal, "clientCaPem");
  if (c.unique_id.empty()) return Status::DataLoss("managed cluster " + c.id + " has no uniqueId");
  c.kubernetes_version = StringAt(props, "currentKubernetesVersion");
  if (c.kubernetes_version.empty()) c.kubernetes_version = StringAt(props, "kubernetesVersion");
  c.des_id = StringAt(props, "diskEncryptionSetID");
  c.node_resource_group = StringAt(props, "nodeResourceGroup");
  c.principal_id = StringAt(ObjectAt(body, "identity"), "principalId");
  c.fqdn = StringAt(props, "fqdn");
  c.power_state = StringAt(ObjectAt(props, "powerState"), "code");
  c.provisioning_state = StringAt(props, "provisioningState");
  return c;
}

Result<AgentPoolRecord> AgentPoolRecordFromBody(const json& body) {
  if (!body.is_object()) return Status::DataLoss("agent pool document is not an object");
  AgentPoolRecord p;
  p.id = StringAt(body, "id");
  BYOK_ASSIGN_OR_RETURN(arm::ResourceId id, arm::ResourceId::Parse(p.id));
  p.name = id.Name();
  p.cluster_id = id.Parent().ToString();
  const json& props = ObjectAt(body, "properties");
  if (auto it = props.find("count"); it != props.end() && it->is_number_integer()) {
    p.count = it->get<int>();
  }
  if (auto it = props.find("osDiskSizeGB"); it != props.end() && it->is_number_integer()) {
    p.os_disk_size_gb = it->get<int>();
  }
  p.vm_size = StringAt(props, "vmSize");
  p.os_disk_type = StringAt(props, "osDiskType");
  p.mode = StringAt(props, "mode");
  p.orchestrator_version = StringAt(props, "currentOrchestratorVersion");
  if (p.orchestrator_version.empty())
    p.orchestrator_version = StringAt(props, "orchestratorVersion");
  p.power_state = StringAt(ObjectAt(props, "powerState"), "code");
  p.provisioning_state = StringAt(props, "provisioningState");
  return p;
}

Result<std::optional<ClusterRecord>> FindCluster(store::Transaction& txn, std::string_view id) {
  BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(id));
  if (!res || !arm::EqualsIgnoreCase(res->type, kClusterType)) {
    return std::optional<ClusterRecord>();
  }
  BYOK_ASSIGN_OR_RETURN(ClusterRecord c, ClusterRecordFromBody(res->body));
  return std::optional<ClusterRecord>(std::move(c));
}

Result<std::optional<ClusterRecord>> FindClusterByUniqueId(store::Transaction& txn,
                                                           std::string_view unique_id) {
  if (unique_id.empty()) return std::optional<ClusterRecord>();
  BYOK_ASSIGN_OR_RETURN(auto index, txn.Get(ClusterIndexId(unique_id)));
  if (!index) return std::optional<ClusterRecord>();
  BYOK_ASSIGN_OR_RETURN(auto cluster, FindCluster(txn, StringAt(index->body, "id")));
  // An index left behind by an interrupted delete, or (never) one naming another cluster.
  if (cluster && cluster->unique_id != unique_id) return std::optional<ClusterRecord>();
  return cluster;
}

Result<std::vector<ClusterRecord>> ListClusterRecords(store::Transaction& txn) {
  BYOK_ASSIGN_OR_RETURN(auto rows, txn.ListByType(kClusterType));
  std::vector<ClusterRecord> out;
  out.reserve(rows.size());
  for (const store::Resource& r : rows) {
    auto rec = ClusterRecordFromBody(r.body);
    if (rec.ok()) out.push_back(std::move(rec).value());
  }
  return out;
}

Result<std::vector<AgentPoolRecord>> ListAgentPools(store::Transaction& txn,
                                                    std::string_view cluster_id) {
  BYOK_ASSIGN_OR_RETURN(auto rows, txn.ListChildren(cluster_id, std::string(kAgentPoolType)));
  std::vector<AgentPoolRecord> out;
  out.reserve(rows.size());
  for (const store::Resource& r : rows) {
    BYOK_ASSIGN_OR_RETURN(AgentPoolRecord p, AgentPoolRecordFromBody(r.body));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<std::string>> ClustersUsingDes(store::Transaction& txn,
                                                  std::string_view des_id) {
  std::vector<std::string> ids;
  if (des_id.empty()) return ids;
  BYOK_ASSIGN_OR_RETURN(auto clusters, txn.ListByType(kClusterType));
  for (const store::Resource& r : clusters) {
    auto rec = ClusterRecordFromBody(r.body);
    if (rec.ok() && store::NormalizeId(rec->des_id) == store::NormalizeId(des_id)) {
      ids.push_back(r.id);
    }
  }
  return ids;
}

std::string KubeObjectsPrefix(std::string_view unique_id) {
  return fmt::format("/byok/kube/{}", unique_id);
}

std::string KubeMetaPrefix(std::string_view unique_id) {
  return fmt::format("kube/{}/", unique_id);
}

Status DeleteKubeObjects(store::Transaction& txn, std::string_view unique_id) {
  if (unique_id.empty()) return Status::Ok();
  BYOK_ASSIGN_OR_RETURN(int n, txn.DeleteByPrefix(KubeObjectsPrefix(unique_id)));
  (void)n;
  if (Status s = txn.DeleteMeta(KubeMetaPrefix(unique_id) + "resourceVersion");
      !s.ok() && !s.Is(StatusCode::kNotFound)) {
    return s;
  }
  if (Status s = txn.DeleteMeta(KubeMetaPrefix(unique_id) + "builtins");
      !s.ok() && !s.Is(StatusCode::kNotFound)) {
    return s;
  }
  return Status::Ok();
}

std::string ApiPathPrefix(std::string_view unique_id) { return fmt::format("/k8s/{}", unique_id); }

}  // namespace byok::containerservice
