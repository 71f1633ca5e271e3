// The Microsoft.ContainerService resource provider of byok (AKS) on the ARM front end:
//
//   PUT|PATCH|GET|DELETE {rg}/providers/Microsoft.ContainerService/managedClusters/{c}
//   GET {rg or sub}/providers/Microsoft.ContainerService/managedClusters               list
//   POST {cluster}/listClusterUserCredential | listClusterAdminCredential | stop | start
//   PUT|GET|DELETE {cluster}/agentPools/{p};  GET {cluster}/agentPools
//   GET /subscriptions/{s}/providers/Microsoft.ContainerService/locations/{l}/orchestrators
//   GET /subscriptions/{s}/providers/Microsoft.ContainerService/locations/{l}/kubernetesVersions
//
// Managed clusters (PUT of a new name, AKS's defaults for what the CLI leaves out or sends empty:
// kubernetesVersion "" → the default (versions.h), osDiskSizeGB 0 → 128, osDiskType unset →
// Ephemeral when the OS disk fits the VM size's cache or temp disk, else Managed (vm_sizes.h)).
// Checks, in this order: names, location, identity (SystemAssigned only), Kubernetes versions,
// agent pools (sizes from the catalogue, counts, OS disks, at least one System pool), then the
// disk encryption set: the caller needs Microsoft.Compute/diskEncryptionSets/read on it (403
// LinkedAuthorizationFailed), it exists (404) and is in the cluster's region (400); virtual nodes
// (the aciConnectorLinux addon) are refused with a DES. Then, in one transaction: the node
// resource group "MC_{rg}_{name}_{location}" (managedBy the cluster), the cluster's
// system-assigned identity, the kubelet identity (a managed identity named after
// ".../MC_.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}-agentpool"; no
// resource is stored for it), the client CA (cluster_pki.h), the cluster and pool records
// (cluster_store.h) with provisioningState "Creating". The reply is 201 with Azure-AsyncOperation
// (gateway::Operations; Azure CLI 2.45 accepts 200/201 for this PUT, not 202); the operation
// grants the cluster identity Contributor on the node resource group (as AKS does) and creates
// the nodes (NodeManager::AddNodes) with the cluster's DES, then marks everything "Succeeded"
// (or "Failed" with the node's error).
// Updates (PUT of an existing name: the CLI's read-modify-write for `az aks scale` / `update`):
// diskEncryptionSetID may not be added or changed (400 PropertyChangeNotAllowed: OS-disk
// encryption is chosen at creation only), nor dnsPrefix or nodeResourceGroup; the Kubernetes
// version stays (upgrades are not supported); agentPoolProfiles scale existing pools (count),
// change modes and add pools (pools left out of the request stay as they are); tags and addons
// change.
// Agent pools: PUT creates (inherits the cluster's DES; mode defaults to User) or scales (count;
// vmSize, osDiskSizeGB, osDiskType never change; 0 only for User pools; a cluster keeps at least
// one System pool); DELETE removes the pool's nodes (refused for the last System pool). Both are
// long-running (200/201 resp. 202 + Azure-AsyncOperation, Retry-After 1). The operations set the
// node count of each pool to the count its record asks for (NodeManager::AddNodes/RemoveNodes),
// so queued scalings end at the last one asked.
// DELETE of a cluster is long-running (202): its nodes and their disks (NodeManager::RemoveAll),
// the node resource group with everything in it, both identities, the client-CA key, the pools
// and the cluster go. A resource-group delete does the same for every cluster in the group
// (before_cascade_delete). stop/start (202) stop and boot every node (powerState Stopped /
// Running). listCluster{User,Admin}Credential answer {"kubeconfigs":[{"name":"clusterUser" |
// "clusterAdmin","value": base64 kubeconfig}]} (cluster_pki.h BuildKubeconfig).
// Every reply body is the ARM document (properties.agentPoolProfiles composed from the pools;
// the private member "internal" never leaves). Errors: errors.h.
//
// Thread safety: thread-safe. Every change of nodes runs on the gateway::Operations worker, so the
// NodeManager calls are serialized.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "authz/rbac.h"
#include "common/clock.h"
#include "common/random.h"
#include "containerservice/nodes.h"
#include "gateway/frontend.h"
#include "gateway/operations.h"
#include "identity/directory.h"
#include "store/store.h"

namespace byok::containerservice {

// The AKS api-versions byok accepts for managedClusters and agentPools, newest first (Azure CLI
// 2.45 sends 2022-11-01); every version answers with the 2022-11-01 / 2023-01-01 shapes.
const std::vector<std::string>& ContainerServiceApiVersions();
// For locations/orchestrators (Azure CLI 2.45: 2019-04-01) and locations/kubernetesVersions.
const std::vector<std::string>& OrchestratorApiVersions();

struct ContainerServiceDeps {
  store::Store* store = nullptr;
  const Clock* clock = nullptr;  // the server's emulated clock
  Random* random = nullptr;      // unique ids, fqdn suffixes, role-assignment names
  authz::Rbac* rbac = nullptr;   // the DES read check; Contributor on the node resource group
  identity::Directory* directory = nullptr;  // the cluster and kubelet identities
  gateway::Operations* operations = nullptr;
  gateway::Frontend* frontend = nullptr;  // cascade hooks of what the node resource group holds
  NodeManager* nodes = nullptr;
  // "https://localhost:PORT": the base of the clusters' API server URLs in kubeconfigs.
  std::function<std::string()> api_base_url;
  // The PEM of the CA of byokd's TLS certificate (the kubeconfigs' certificate-authority-data).
  std::function<std::string()> server_ca_pem;
  // Called with a cluster's unique id after the transaction that deleted it (and its Kubernetes
  // objects) committed, so the owner of in-memory state about the cluster can drop it; may be
  // empty.
  std::function<void(std::string_view unique_id)> on_cluster_deleted;
};

// Registers the types above on `frontend`. The returned handle owns the handlers' state: keep it
// alive as long as the front end. REQUIRES: deps outlive the front end and the handle.
std::shared_ptr<void> RegisterContainerServiceProviders(gateway::Frontend& frontend,
                                                        ContainerServiceDeps deps);

}  // namespace byok::containerservice
