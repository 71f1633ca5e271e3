// The v1 Node object of an AKS agent-pool node (containerservice::NodeInfo), as `kubectl get node
// -o yaml` shows one on AKS. Nodes are not stored in the object store: the REST handler projects
// them from the node records on every read, so they are read-only.
//
//   metadata.name           the node's name ("aks-nodepool1-12345678-vmss000000")
//   metadata.uid            stable per node: a v4-shaped UUID derived (SHA-256) from the cluster's
//                           unique id, the node's name and its creation time
//   metadata.resourceVersion a decimal derived from the node record (state, reason, bootCount,
//                           key, ...): it changes whenever the node changes
//   metadata.creationTimestamp the node's creation (RFC 3339, seconds)
//   metadata.labels         agentpool, kubernetes.azure.com/agentpool, kubernetes.azure.com/mode
//                           (pool mode, lower case: "system"/"user"), kubernetes.azure.com/role
//                           agent, kubernetes.io/role agent, node-role.kubernetes.io/agent "",
//                           kubernetes.azure.com/cluster (node resource group),
//                           kubernetes.azure.com/os-sku Ubuntu,
//                           kubernetes.azure.com/node-image-version,
//                           kubernetes.azure.com/kubelet-identity-client-id is NOT set (byok has
//                           no kubelet identity), beta.kubernetes.io/arch amd64,
//                           beta.kubernetes.io/os linux, kubernetes.io/arch amd64, kubernetes.io/os
//                           linux, kubernetes.io/hostname (node name),
//                           beta.kubernetes.io/instance-type and node.kubernetes.io/instance-type
//                           (VM size), failure-domain.beta.kubernetes.io/region and
//                           topology.kubernetes.io/region (location),
//                           failure-domain.beta.kubernetes.io/zone and topology.kubernetes.io/zone
//                           "0", storageprofile managed, storagetier Premium_LRS / Standard_LRS,
//                           topology.disk.csi.azure.com/zone "".
//   metadata.annotations    node.alpha.kubernetes.io/ttl "0",
//                           volumes.kubernetes.io/controller-managed-attach-detach "true"
//   spec.providerID         azure:///subscriptions/{s}/resourceGroups/{node rg lower
//   case}/providers/
//                           Microsoft.Compute/virtualMachineScaleSets/{vmss}/virtualMachines/{n}
//   spec.podCIDR(s)         10.244.{instance}.0/24 (kubenet's address plan)
//   status.conditions       MemoryPressure/DiskPressure/PIDPressure False (KubeletHas...), and
//                           Ready: True "KubeletReady" when state is Ready; False "KubeletNotReady"
//                           with the node's reason when NotReady; Unknown "NodeStatusUnknown"
//                           ("Kubelet stopped posting node status.") when Stopped/Deallocated.
//                           Times: the node's creation (byok keeps no transition history).
//   status.capacity / allocatable  cpu (vCPUs), memory (Ki), pods "110", ephemeral-storage;
//                           allocatable after AKS's reservations: kube-reserved CPU by core count
//                           (AKS's published table), memory minus the 750Mi eviction threshold
//                           and AKS's regressive kube-reserved memory (25% of the first 4 GiB,
//                           20% of the next 4, 10% of the next 8, 6% of the next 112, 2% above).
//   status.addresses        InternalIP 10.224.0.{4+instance}, Hostname
//   status.nodeInfo         kubeletVersion / kubeProxyVersion "v{kubernetes_version}", osImage
//                           "Ubuntu 22.04.1 LTS" (1.25+) or "Ubuntu 18.04.6 LTS" (below),
//                           kernelVersion, containerRuntimeVersion containerd://1.6.x,
//                           operatingSystem linux, architecture amd64, machineID/systemUUID/
//                           bootID derived from the node (bootID changes with bootCount).
//   status.daemonEndpoints.kubeletEndpoint.Port 10250
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "containerservice/cluster_store.h"
#include "containerservice/nodes.h"

namespace byok::kube {

// pool_mode: the agent pool's mode ("System", "User"), labelled in lower case; "" omits the
// kubernetes.azure.com/mode label.
nlohmann::json NodeObject(const containerservice::NodeInfo& node,
                          const containerservice::ClusterRecord& cluster,
                          std::string_view pool_mode = "");

}  // namespace byok::kube
