// VolumeManager: `byok volume attach|detach` — putting data on a PersistentVolumeClaim's disk. It
// does what the attach/detach controller, the CSI external-attacher and azuredisk-csi-driver's
// ControllerPublishVolume do when a pod using the claim is scheduled on a node, minus the pod:
// the disk is attached to a node and exported over NBD (compute/attachments.h), and a
// VolumeAttachment records it.
//
// The cluster: ResolveCluster(name or ARM id, resource group): an ARM id (any case) names it
// directly; a name (case-insensitive) must match exactly one cluster (of the resource group, when
// given) — several → 409 AmbiguousClusterName listing their ids. A stopped cluster is refused.
//
// Attach(cluster, namespace, claim, node, caller):
//   1. the claim must exist (404 'persistentvolumeclaims "x" not found in namespace "ns"');
//   2. the node: `node` if given (404 listing the cluster's nodes if it is not one of them; 409
//      NodeNotReady if it is not Ready), else the claim's volume.kubernetes.io/selected-node
//      when that node is Ready, else the first Ready node in name order (409 NoReadyNode if none);
//   3. a claim not yet bound: attach is its first consumer. On a WaitForFirstConsumer class the
//      annotation volume.kubernetes.io/selected-node = the node is set (as the scheduler does),
//      then the provisioner reconciles the cluster at once (`reconcile`: synchronous, no resync
//      wait) — it creates the disk and binds. Still not Bound → 409 ClaimNotBound with the
//      claim's last Warning event (e.g. ProvisioningFailed with ARM's error) or why it waits.
//      Zones/topology: byok has none; the selected node is only recorded, the disk is regional.
//   4. the volume's managed disk: spec.csi.volumeHandle (driver disk.csi.azure.com) or the legacy
//      spec.azureDisk.diskURI;
//   5. a VolumeAttachment of that volume already exists → 409 naming its node;
//   6. `attach(disk, managedBy)` with managedBy the node's scale-set instance id
//      /subscriptions/{s}/resourceGroups/{nodeRG}/providers/Microsoft.Compute/
//      virtualMachineScaleSets/{vmss}/virtualMachines/{instance}, as Azure reports an AKS-attached
//      disk (a disk attached otherwise → compute's 409 OperationNotAllowed naming it);
//   7. the VolumeAttachment, as the external-attacher names and fills it:
//        name   "csi-" + hex(sha256(volumeHandle + "disk.csi.azure.com" + nodeName))
//        metadata.annotations csi.alpha.kubernetes.io/node-id: the node
//        spec   {attacher disk.csi.azure.com, nodeName, source.persistentVolumeName}
//        status {attached true, attachmentMetadata {"LUN": the lowest LUN not used by another
//                VolumeAttachment of the node, as a decimal string}}
//      If it cannot be stored the disk is detached again.
//   Returns the attachment (the NBD URIs), the node, the volume and the VolumeAttachment's name.
//
// Detach(cluster, namespace, claim, caller): the claim's volume — or, when the claim was deleted,
// the Released volume whose claimRef names it — is detached (`detach`; a disk that is no longer
// attached is not an error while a VolumeAttachment remains) and its VolumeAttachments deleted;
// then the provisioner reconciles (a Released volume with reclaim policy Delete, whose deletion
// waited for the detach, goes now). Neither attached nor recorded → 409 OperationNotAllowed.
//
// Errors: volume_errors.h; the attach/detach functions' ApiErrors pass through.
// Thread safety: thread-safe; attaches and detaches are serialized. REQUIRES: deps outlive it.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api_error.h"
#include "common/status.h"
#include "compute/attachments.h"
#include "containerservice/cluster_store.h"
#include "containerservice/nodes.h"
#include "kube/object_store.h"
#include "store/store.h"

namespace byok::kube {

inline constexpr char kAttachmentLunKey[] = "LUN";

// "csi-" + lower-case hex SHA-256 of volumeHandle + attacher + nodeName (the CSI attacher's
// VolumeAttachment name).
std::string VolumeAttachmentName(std::string_view volume_handle, std::string_view attacher,
                                 std::string_view node_name);

// The managed disk id a PersistentVolume names (csi volumeHandle of disk.csi.azure.com, or
// azureDisk.diskURI), or "" if none.
std::string VolumeDiskId(const nlohmann::json& pv);

// The scale-set instance id of an AKS node: the disk's managedBy while attached to it.
std::string NodeInstanceId(const containerservice::ClusterRecord& cluster,
                           const containerservice::NodeInfo& node);

struct VolumeDeps {
  ObjectStore* objects = nullptr;
  store::Store* store = nullptr;  // cluster records
  // The cluster's nodes, sorted by name (NodeManager::List).
  std::function<Result<std::vector<containerservice::NodeInfo>>(std::string_view cluster_uid)>
      list_nodes;
  // AttachmentManager::Attach with AttachOptions{managed_by} / Detach.
  std::function<ApiResult<compute::Attachment>(
      const std::string& disk_id, const std::string& managed_by, std::string_view caller)>
      attach;
  std::function<ApiResult<bool>(const std::string& disk_id, std::string_view caller)> detach;
  // Provisioner::Reconcile of one cluster (synchronous).
  std::function<Status(std::string_view cluster_uid)> reconcile;
};

struct VolumeAttachResult {
  compute::Attachment attachment;
  std::string node;
  std::string persistent_volume;
  std::string volume_attachment;
  std::string disk_id;
};

struct VolumeDetachResult {
  std::string disk_id;
  std::string persistent_volume;
  std::vector<std::string> volume_attachments;  // deleted
};

class VolumeManager {
 public:
  explicit VolumeManager(VolumeDeps deps);

  // `cluster`: a name or an ARM id; `resource_group` "" = any.
  ApiResult<containerservice::ClusterRecord> ResolveCluster(std::string_view cluster,
                                                            std::string_view resource_group);

  ApiResult<VolumeAttachResult> Attach(const containerservice::ClusterRecord& cluster,
                                       std::string_view ns, std::string_view claim,
                                       std::string_view node, std::string_view caller);
  ApiResult<VolumeDetachResult> Detach(const containerservice::ClusterRecord& cluster,
                                       std::string_view ns, std::string_view claim,
                                       std::string_view caller);

 private:
  VolumeDeps d_;
  std::mutex mu_;  // serializes Attach and Detach
};

}  // namespace byok::kube
