// NodeManager: the nodes of AKS agent pools. A node is one VM instance of its pool's scale set,
// named as AKS names them: "aks-{pool}-{8 digits}-vmss{6 base-36 digits}" (e.g.
// "aks-nodepool1-12345678-vmss000000"; the 8 digits are stable per pool, derived from the
// cluster's unique id and the pool name; instance numbers only grow, as in a VM scale set).
//
// OS disks:
//   Managed    a real Microsoft.Compute/disks resource in the node resource group, named
//              "{node}_OsDisk_1_{32 hex}", size osDiskSizeGB, sku Premium_LRS (Standard_LRS for
//              sizes without premium storage), encrypted with the cluster's DES
//              (EncryptionAtRestWithCustomerKey or ...PlatformAndCustomerKeys, after the DES's
//              type) or the platform key when the cluster has none; diskState Attached, managedBy
//              the scale-set instance id ".../virtualMachineScaleSets/{vmss}/virtualMachines/{n}".
//              Created through compute's disk service (compute/disks.h), so it is checked
//              (DES region, the DES identity's access to the key) and stored like any disk; the
//              DES read permission was checked on the cluster's creator.
//   Ephemeral  a host-local blockstore file (<data-dir>/disks/<guid>.disk, no ARM resource) with
//              the same layers: its data key is wrapped by the DES's active key version at the
//              moment the node is created. DES rotation does NOT re-wrap it (Azure can't rotate
//              an ephemeral OS disk in place): the node keeps reporting the old key version until
//              the pool is scaled to 0 and back up, which creates nodes on the current version.
//
// Boot: a node boots by unlocking its OS disk (BlockStore::Open: for a customer-key disk the data
// key is unwrapped through Key Vault as the DES identity) and reading its boot record (sector 0);
// on first boot it writes one: {"node", "cluster", "pool", "created", "bootCount"} as JSON padded
// to 4 KiB; each boot increments bootCount. A node is Ready only when that worked; otherwise it is
// NotReady with the reason (Key Vault's error).
//
// Records: /byok/containerservice/nodes/{cluster unique id}/{node name}, type
// byok.containerservice/nodes, body = NodeInfo as JSON (see ToJson).
//
// Revocation (CheckNodes, a Scheduler task, every 30 s and on `byok clock advance`): for every
// node whose OS disk has a customer layer, unwrap that layer as the DES identity. Failure → the
// node keeps running until the grace period (AttachmentDeps::grace_period, 1 hour of byokd's
// clock) has passed since the first failure (keyUnavailableSince, persisted), then it stops:
// state "Stopped", its Volume locked, reason naming the key and Key Vault's error (as a VM shut
// down by Azure when its key is revoked). Success → keyUnavailableSince cleared; a node stopped by
// revocation boots again (Ready, bootCount + 1). A cluster whose nodes are being added, removed,
// stopped or started at that moment is skipped until the next run (the check never waits for a
// long scale operation).
//
// Stop/Start (az aks stop/start): Stop locks every node's disk (state "Deallocated"); Start boots
// them again.
//
// Thread safety: thread-safe; calls for one cluster are serialized by the callers (the
// managedClusters/agentPools providers run them on the long-running-operation worker).
// REQUIRES: every dependency outlives the manager.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "blockstore/blockstore.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "compute/attachments.h"
#include "compute/disks.h"
#include "store/store.h"

namespace byok::containerservice {

inline constexpr char kNodePrefix[] = "/byok/containerservice/nodes/";
inline constexpr char kNodeType[] = "byok.containerservice/nodes";

enum class OsDiskType { kManaged, kEphemeral };
std::string_view OsDiskTypeName(OsDiskType t);  // "Managed", "Ephemeral"

// What a new node of a pool needs to know.
struct NodeSpec {
  std::string cluster_id;              // ARM id of the managed cluster
  std::string cluster_unique_id;       // the cluster's GUID (record paths, names)
  std::string node_resource_group_id;  // "/subscriptions/{s}/resourceGroups/MC_{rg}_{c}_{loc}"
  std::string location;                // canonical ("eastus")
  std::string pool_name;
  std::string vm_size;  // from the catalogue (vm_sizes.h)
  OsDiskType os_disk_type = OsDiskType::kManaged;
  int os_disk_size_gb = 128;
  std::string des_id;  // "" → platform key
  std::string kubernetes_version;
};

struct NodeInfo {
  std::string name;  // "aks-nodepool1-12345678-vmss000000"
  std::string cluster_id;
  std::string cluster_unique_id;
  std::string pool_name;
  int64_t instance = 0;   // scale-set instance number
  std::string vmss_name;  // "aks-nodepool1-12345678-vmss"
  std::string vm_size;
  OsDiskType os_disk_type = OsDiskType::kManaged;
  int os_disk_size_gb = 0;
  std::string os_disk_id;         // ARM id of the managed OS disk ("" for ephemeral)
  std::string os_disk_unique_id;  // blockstore disk id
  std::string des_id;             // "" for platform-key disks
  std::string key_url;  // the customer layer's key version as the disk header names it ("" none)
  std::string kubernetes_version;
  std::string state;   // "Ready", "NotReady", "Stopped", "Deallocated"
  std::string reason;  // why not Ready ("" when Ready)
  int64_t boot_count = 0;
  std::string created;                // RFC 3339 (byokd's clock)
  std::string key_unavailable_since;  // RFC 3339, "" when the key works
};

nlohmann::json ToJson(const NodeInfo& n);
Result<NodeInfo> NodeFromJson(const nlohmann::json& j);

struct NodeDeps {
  store::Store* store = nullptr;
  const Clock* clock = nullptr;
  Random* random = nullptr;
  blockstore::BlockStore* blocks = nullptr;
  compute::DiskService* disks = nullptr;            // managed OS disks
  blockstore::KeyWrapper* customer_keys = nullptr;  // probes (the VaultKeyWrapper)
  std::chrono::seconds grace_period = compute::kKeyGracePeriod;
};

class NodeManager {
 public:
  explicit NodeManager(NodeDeps deps);
  ~NodeManager();
  NodeManager(const NodeManager&) = delete;
  NodeManager& operator=(const NodeManager&) = delete;

  // Creates and boots `count` new nodes of the pool (instance numbers continue after the pool's
  // highest ever). A node whose OS disk can't be created fails the call with the disk service's
  // ARM error (nodes created before it stay); a node that can't boot is kept as NotReady.
  ApiResult<std::vector<NodeInfo>> AddNodes(const NodeSpec& spec, int count);
  // Removes the `count` highest-numbered nodes of the pool and their OS disks.
  ApiResult<int> RemoveNodes(std::string_view cluster_unique_id, std::string_view pool_name,
                             int count);
  // Removes every node of the pool (pool_name non-empty) or of the cluster, with their OS disks.
  Status RemoveAll(std::string_view cluster_unique_id, std::string_view pool_name = "");

  // Nodes of a cluster (and pool, if non-empty), sorted by name.
  Result<std::vector<NodeInfo>> List(std::string_view cluster_unique_id,
                                     std::string_view pool_name = "");
  // Every node of every cluster (byok node list).
  Result<std::vector<NodeInfo>> ListAll();

  // az aks stop / start (see the file comment).
  Status StopAll(std::string_view cluster_unique_id);
  Status StartAll(std::string_view cluster_unique_id);

  // After byokd restarted: every Ready node whose OS disk is not open (its VM went down with
  // byokd) boots again (unlock, boot record; boot count + 1) and stays Ready, or becomes NotReady
  // with the reason.
  Status BootAfterRestart();

  // The revocation monitor (see the file comment).
  Status CheckNodes(TimePoint now);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace byok::containerservice
