// Managed-cluster and agent-pool records: what other modules (nodes, the kubeconfig, the
// Kubernetes API in src/kube, `byok node list`) need to know about Microsoft.ContainerService
// resources, read from the metadata store.
//
// Storage (docs/ARCHITECTURE.md):
//   /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{c}
//       type Microsoft.ContainerService/managedClusters; body = the ARM document clients see
//       (properties.agentPoolProfiles is NOT stored: GET composes it from the pools) plus a private
//       member "internal" {"uniqueId" (GUID), "clientCaPem"} stripped from every response.
//   .../managedClusters/{c}/agentPools/{p}
//       type Microsoft.ContainerService/managedClusters/agentPools; parent the cluster; body =
//       the AgentPool ARM document.
//   secret "containerservice/clusters/{uniqueId}/client-ca-key": the cluster's client-CA private
//       key (PKCS#8 PEM), sealed by the root key (cluster_pki.h).
//   /byok/containerservice/clusters/{uniqueId}
//       type byok.containerservice/clusterIndex; body {"id": the cluster's ARM id}: the index
//       FindClusterByUniqueId reads (written with the cluster, deleted with it).
// The cluster's Kubernetes API is served by byokd at "{ARM base URL}/k8s/{uniqueId}"
// (ApiPathPrefix).
//
// Thread safety: free functions over a caller-owned Transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "store/store.h"

namespace byok::containerservice {

inline constexpr char kClusterType[] = "Microsoft.ContainerService/managedClusters";
inline constexpr char kAgentPoolType[] = "Microsoft.ContainerService/managedClusters/agentPools";
inline constexpr char kClusterIndexPrefix[] = "/byok/containerservice/clusters/";
inline constexpr char kClusterIndexType[] = "byok.containerservice/clusterIndex";

struct ClusterRecord {
  std::string id;  // ARM id, case as created
  std::string name;
  std::string resource_group;
  std::string subscription_id;
  std::string location;  // canonical ("eastus")
  std::string unique_id;
  std::string kubernetes_version;   // "1.24.9"
  std::string des_id;               // properties.diskEncryptionSetID, "" if none
  std::string node_resource_group;  // "MC_{rg}_{c}_{loc}"
  std::string principal_id;         // identity.principalId (system-assigned)
  std::string fqdn;
  std::string power_state;  // "Running", "Stopped"
  std::string provisioning_state;
  std::string client_ca_pem;  // the cluster's client CA certificate
};

struct AgentPoolRecord {
  std::string id;
  std::string name;
  std::string cluster_id;
  int count = 0;
  std::string vm_size;
  std::string os_disk_type;  // "Managed", "Ephemeral"
  int os_disk_size_gb = 0;
  std::string mode;  // "System", "User"
  std::string orchestrator_version;
  std::string power_state;
  std::string provisioning_state;
};

Result<ClusterRecord> ClusterRecordFromBody(const nlohmann::json& body);
Result<AgentPoolRecord> AgentPoolRecordFromBody(const nlohmann::json& body);

// The cluster with this ARM id (any case) / unique id, or nullopt.
Result<std::optional<ClusterRecord>> FindCluster(store::Transaction& txn, std::string_view id);
Result<std::optional<ClusterRecord>> FindClusterByUniqueId(store::Transaction& txn,
                                                           std::string_view unique_id);
// Every cluster whose record parses, in store order.
Result<std::vector<ClusterRecord>> ListClusterRecords(store::Transaction& txn);
// The pools of a cluster, sorted by name.
Result<std::vector<AgentPoolRecord>> ListAgentPools(store::Transaction& txn,
                                                    std::string_view cluster_id);

// "/byok/containerservice/clusters/{uniqueId}": the unique-id index record of a cluster.
std::string ClusterIndexId(std::string_view unique_id);

// The ids of the clusters whose OS disks use the disk encryption set (properties.
// diskEncryptionSetID, any case), sorted: compute's ComputeDeps::des_users.
Result<std::vector<std::string>> ClustersUsingDes(store::Transaction& txn, std::string_view des_id);

// "/byok/kube/{uniqueId}": where the cluster's Kubernetes objects are stored (kube/object_store.h);
// meta "kube/{uniqueId}/..." holds their counters.
std::string KubeObjectsPrefix(std::string_view unique_id);
std::string KubeMetaPrefix(std::string_view unique_id);
// Removes the cluster's Kubernetes objects and counters (its deletion).
Status DeleteKubeObjects(store::Transaction& txn, std::string_view unique_id);

// "/k8s/{uniqueId}": the path prefix of the cluster's Kubernetes API on byokd's HTTPS port.
std::string ApiPathPrefix(std::string_view unique_id);

}  // namespace byok::containerservice
