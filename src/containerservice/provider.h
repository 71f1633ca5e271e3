// The managedClusters / agentPools / orchestrators handlers (not a public interface of the
// module; containerservice.h states the contract). One object holds them all: clusters and pools
// share the node work (Reconcile), the deletion of a cluster, and the record reads.
//
// Files: provider.cc (registration, records, documents, node work, deletion), managed_clusters.cc
// (the managedClusters handlers), agent_pools.cc (the agentPools handlers).
//
// Thread safety: handlers are thread-safe; node work runs on the gateway::Operations worker.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arm/resource_id.h"
#include "common/api_error.h"
#include "containerservice/cluster_pki.h"
#include "containerservice/cluster_store.h"
#include "containerservice/containerservice.h"
#include "containerservice/pools.h"
#include "gateway/frontend.h"
#include "http/message.h"

namespace byok::containerservice::internal {

inline constexpr char kClusterWriteAction[] = "Microsoft.ContainerService/managedClusters/write";
inline constexpr char kDesReadAction[] = "Microsoft.Compute/diskEncryptionSets/read";

// A cluster's stored document with its pools.
struct ClusterState {
  store::Resource cluster;
  ClusterRecord record;
  std::vector<store::Resource> pools;  // sorted by name
};

class Provider : public std::enable_shared_from_this<Provider> {
 public:
  explicit Provider(ContainerServiceDeps deps) : d_(std::move(deps)) {}

  void Register(gateway::Frontend& fe);

 private:
  // ---- managed_clusters.cc ----
  http::Response PutCluster(gateway::ArmRequest& r);
  http::Response CreateCluster(gateway::ArmRequest& r);
  http::Response UpdateCluster(gateway::ArmRequest& r, const ClusterState& state);
  http::Response PatchCluster(gateway::ArmRequest& r);
  http::Response GetCluster(gateway::ArmRequest& r);
  http::Response ListClusters(gateway::ArmRequest& r);
  http::Response DeleteCluster(gateway::ArmRequest& r);
  http::Response ListCredential(gateway::ArmRequest& r, CredentialKind kind);
  http::Response StopCluster(gateway::ArmRequest& r);
  http::Response StartCluster(gateway::ArmRequest& r);
  // Both: mark the cluster Stopping/Starting, then lock or boot every node on the operation
  // worker and set powerState.
  http::Response ChangePower(gateway::ArmRequest& r, bool stop);
  http::Response ListOrchestrators(gateway::ArmRequest& r);
  http::Response ListKubernetesVersions(gateway::ArmRequest& r);
  // The DES checks of a cluster creation (containerservice.h), in Azure's order.
  std::optional<ApiError> CheckDes(const gateway::ArmRequest& r, const std::string& des_id,
                                   const std::string& location);

  // ---- agent_pools.cc ----
  http::Response PutPool(gateway::ArmRequest& r);
  http::Response GetPool(gateway::ArmRequest& r);
  http::Response ListPools(gateway::ArmRequest& r);
  http::Response DeletePool(gateway::ArmRequest& r);

  // ---- provider.cc ----
 public:
  // The cluster with this id and its pools, or nullopt.
  Result<std::optional<ClusterState>> Load(store::Transaction& txn, std::string_view cluster_id);
  // What clients see: the stored document without "internal", with agentPoolProfiles.
  static nlohmann::json ClusterDocument(const ClusterState& state);

  // Brings the node count of each pool (or of `only_pool`) to its record's count and marks the
  // pools (and, when they were in progress, the cluster) "Succeeded"; on a node failure marks
  // them "Failed" and returns the error. Runs on the operations worker.
  ApiResult<bool> Reconcile(const std::string& cluster_id, const std::string& only_pool = "");
  // Deletes the cluster with everything it owns (containerservice.h). OK if it is gone.
  Status DeleteEverything(const std::string& cluster_id);
  // Sets properties.provisioningState (and powerState when non-empty) of the cluster and, when
  // `pools` is set, of every pool (or only `only_pool`). A cluster being deleted is left alone
  // (an operation queued before the delete must not revive it) unless `deleting_op` (the delete
  // operation itself reporting its failure).
  Status SetStates(const std::string& cluster_id, const std::string& provisioning,
                   const std::string& power, bool pools, const std::string& only_pool = "",
                   bool deleting_op = false);
  // The work of the long-running operations, shared by their handlers and Resume.
  // Create and update: Contributor on the node resource group (again, for an update: it repairs a
  // failed creation), then the node counts (Reconcile); the cluster document.
  ApiResult<nlohmann::json> FinishCreateOrUpdate(const std::string& cluster_id);
  ApiResult<nlohmann::json> FinishDelete(const std::string& cluster_id);
  ApiResult<nlohmann::json> FinishPower(const std::string& cluster_id, const std::string& uid,
                                        bool stop);
  ApiResult<nlohmann::json> FinishPoolDelete(const std::string& uid, const std::string& name,
                                             const std::string& pool_id);
  // After a restart (operation state lives in memory): queues, on the operations worker, the
  // work of every operation the restart cut short, found by the provisioning states it left
  // (cluster Creating / Updating / Scaling / Deleting / Stopping / Starting; pool Creating /
  // Updating / Scaling / Deleting), then boots again the nodes that were Ready (their VMs went
  // down with byokd). Their clients' operation URLs are gone (OperationNotFound), as documented.
  Status Resume();

  // Contributor on the node resource group for the cluster identity (idempotent).
  Status GrantNodeGroupContributor(const ClusterRecord& c);

  http::Response Internal(const gateway::ArmRequest& r, const Status& s) const;
  ApiError InternalError(const Status& s) const;
  http::Response ClusterNotFound(const arm::ResourceId& cluster_id) const;

  ContainerServiceDeps d_;
};

// "MC_{rg}_{name}_{location}" (at most 80 characters, as AKS cuts it).
std::string DefaultNodeResourceGroup(std::string_view rg, std::string_view name,
                                     std::string_view location);
// The Azure CLI's default dnsPrefix: "{name[:10]}-{rg[:16]}-{subscription[:6]}".
std::string DefaultDnsPrefix(std::string_view name, std::string_view rg,
                             std::string_view subscription_id);
// ".../resourcegroups/{node rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/
// {name}-agentpool".
std::string KubeletIdentityId(std::string_view subscription_id, std::string_view node_rg,
                              std::string_view cluster_name);
NodeSpec NodeSpecFor(const ClusterRecord& c, const nlohmann::json& pool_document);

}  // namespace byok::containerservice::internal
