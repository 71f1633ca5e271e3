#include "containerservice/nodes.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/errors.h"
#include "arm/resource_id.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "compute/disk_store.h"
#include "compute/errors.h"
#include "containerservice/vm_sizes.h"

namespace byok::containerservice {
namespace {

using nlohmann::json;

// Per pool: the next scale-set instance number (instance numbers only grow).
constexpr char kPoolCounterPrefix[] = "/byok/containerservice/nodepools/";
constexpr char kPoolCounterType[] = "byok.containerservice/nodePools";

constexpr char kStateReady[] = "Ready";
constexpr char kStateNotReady[] = "NotReady";
constexpr char kStateStopped[] = "Stopped";
constexpr char kStateDeallocated[] = "Deallocated";
constexpr char kReasonProvisioning[] = "the node is being provisioned";
constexpr char kReasonDeallocated[] = "the cluster is stopped (az aks stop)";

std::string NodeRecordId(std::string_view cluster_uid, std::string_view name) {
  return fmt::format("{}{}/{}", kNodePrefix, cluster_uid, name);
}
std::string ClusterScope(std::string_view cluster_uid) {
  return fmt::format("{}{}", kNodePrefix, cluster_uid);
}
std::string PoolCounterId(std::string_view cluster_uid, std::string_view pool) {
  return fmt::format("{}{}/{}", kPoolCounterPrefix, cluster_uid, pool);
}

// The 8 digits AKS puts in a pool's scale-set name: stable per cluster and pool (FNV-1a).
uint32_t PoolDigits(std::string_view cluster_uid, std::string_view pool) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::string_view s) {
    for (char c : s) {
      h ^= static_cast<uint8_t>(std::tolower(static_cast<unsigned char>(c)));
      h *= 0x100000001b3ULL;
    }
  };
  mix(cluster_uid);
  mix("/");
  mix(pool);
  return static_cast<uint32_t>(h % 100000000ULL);
}

// A scale-set instance suffix: 6 base-36 digits, as VM scale sets name their instances.
std::string Base36(int64_t n) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out(6, '0');
  for (int i = 5; i >= 0 && n > 0; --i) {
    out[i] = kDigits[n % 36];
    n /= 36;
  }
  return out;
}

std::string VmssName(std::string_view cluster_uid, std::string_view pool) {
  return fmt::format("aks-{}-{:08d}-vmss", pool, PoolDigits(cluster_uid, pool));
}

// Whether a VM size takes premium disks: the catalogue's answer, else Azure's naming rule (an 's'
// in the size's name: "Standard_DS2_v2", "Standard_D4s_v3", "Standard_E8as_v5").
bool SupportsPremiumStorage(std::string_view vm_size) {
  if (const VmSize* size = FindVmSize(vm_size)) return size->premium_storage;
  std::string_view s = vm_size;
  if (s.size() > 9 && arm::EqualsIgnoreCase(s.substr(0, 9), "Standard_")) s.remove_prefix(9);
  s = s.substr(0, s.find('_'));
  size_t digits = s.find_first_of("0123456789");
  if (digits == std::string_view::npos) return false;
  std::string_view family = s.substr(0, digits);
  if (family.size() > 1 && (family.back() == 'S' || family.back() == 's')) return true;  // DS, GS
  std::string_view features = s.substr(digits);
  return features.find('s') != std::string_view::npos;
}

std::string StrOf(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t IntOf(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string LastSegment(std::string_view id) {
  size_t slash = id.rfind('/');
  return std::string(slash == std::string_view::npos ? id : id.substr(slash + 1));
}

ApiError InternalError(const Clock& clock, std::string_view what, const Status& s) {
  spdlog::error("nodes: cannot {}: {}", what, s.ToString());
  return MakeError(arm::errors::kInternalError, FormatAzureTime(clock.Now()), "");
}

Status ToStatus(const ApiError& e) {
  return Status::Internal(fmt::format("{}: {}", e.code, e.message));
}

// The boot record: JSON padded with spaces to one sector (so the whole sector parses).
std::vector<uint8_t> BootRecordSector(const nlohmann::ordered_json& record) {
  std::string text = record.dump();
  std::vector<uint8_t> sector(blockstore::kSectorSize, ' ');
  std::copy_n(text.begin(), std::min<size_t>(text.size(), sector.size()), sector.begin());
  return sector;
}

}  // namespace

std::string_view OsDiskTypeName(OsDiskType t) {
  return t == OsDiskType::kEphemeral ? "Ephemeral" : "Managed";
}

json ToJson(const NodeInfo& n) {
  return {{"name", n.name},
          {"clusterId", n.cluster_id},
          {"clusterUniqueId", n.cluster_unique_id},
          {"poolName", n.pool_name},
          {"instance", n.instance},
          {"vmssName", n.vmss_name},
          {"vmSize", n.vm_size},
          {"osDiskType", std::string(OsDiskTypeName(n.os_disk_type))},
          {"osDiskSizeGB", n.os_disk_size_gb},
          {"osDiskId", n.os_disk_id},
          {"osDiskUniqueId", n.os_disk_unique_id},
          {"diskEncryptionSetId", n.des_id},
          {"keyUrl", n.key_url},
          {"kubernetesVersion", n.kubernetes_version},
          {"state", n.state},
          {"reason", n.reason},
          {"bootCount", n.boot_count},
          {"created", n.created},
          {"keyUnavailableSince", n.key_unavailable_since}};
}

Result<NodeInfo> NodeFromJson(const json& j) {
  if (!j.is_object()) return Status::DataLoss("node record is not an object");
  NodeInfo n;
  n.name = StrOf(j, "name");
  n.cluster_id = StrOf(j, "clusterId");
  n.cluster_unique_id = StrOf(j, "clusterUniqueId");
  n.pool_name = StrOf(j, "poolName");
  n.instance = IntOf(j, "instance");
  n.vmss_name = StrOf(j, "vmssName");
  n.vm_size = StrOf(j, "vmSize");
  n.os_disk_type =
      StrOf(j, "osDiskType") == "Ephemeral" ? OsDiskType::kEphemeral : OsDiskType::kManaged;
  n.os_disk_size_gb = static_cast<int>(IntOf(j, "osDiskSizeGB"));
  n.os_disk_id = StrOf(j, "osDiskId");
  n.os_disk_unique_id = StrOf(j, "osDiskUniqueId");
  n.des_id = StrOf(j, "diskEncryptionSetId");
  n.key_url = StrOf(j, "keyUrl");
  n.kubernetes_version = StrOf(j, "kubernetesVersion");
  n.state = StrOf(j, "state");
  n.reason = StrOf(j, "reason");
  n.boot_count = IntOf(j, "bootCount");
  n.created = StrOf(j, "created");
  n.key_unavailable_since = StrOf(j, "keyUnavailableSince");
  if (n.name.empty() || n.cluster_unique_id.empty() || n.pool_name.empty()) {
    return Status::DataLoss("node record lacks name, clusterUniqueId or poolName");
  }
  return n;
}

class NodeManager::Impl {
 public:
  explicit Impl(NodeDeps deps) : d_(std::move(deps)) {}

  // ---- Store access ----

  static store::Resource NodeResource(const NodeInfo& n) {
    store::Resource res;
    res.id = NodeRecordId(n.cluster_unique_id, n.name);
    res.type = kNodeType;
    res.parent_id = ClusterScope(n.cluster_unique_id);
    res.body = ToJson(n);
    return res;
  }

  Status PutNode(const NodeInfo& n) {
    return store::RunInTransaction(
        *d_.store, [&](store::Transaction& txn) { return txn.Put(NodeResource(n)).status(); });
  }

  // Re-reads a node inside a write transaction, applies `change` and stores it; false if the
  // node is gone (removed meanwhile).
  Result<bool> UpdateNode(const NodeInfo& n, const std::function<void(NodeInfo&)>& change) {
    bool found = false;
    Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(NodeRecordId(n.cluster_unique_id, n.name)));
      if (!res) return Status::Ok();
      BYOK_ASSIGN_OR_RETURN(NodeInfo current, NodeFromJson(res->body));
      change(current);
      found = true;
      return txn.Put(NodeResource(current)).status();
    });
    if (!s.ok()) return s;
    return found;
  }

  static std::vector<NodeInfo> Parse(const std::vector<store::Resource>& all,
                                     std::string_view pool) {
    std::vector<NodeInfo> out;
    for (const store::Resource& res : all) {
      if (!arm::EqualsIgnoreCase(res.type, kNodeType)) continue;
      auto n = NodeFromJson(res.body);
      if (!n.ok()) {
        spdlog::error("nodes: skipping a bad record {}: {}", res.id, n.status().ToString());
        continue;
      }
      if (!pool.empty() && !arm::EqualsIgnoreCase(n->pool_name, pool)) continue;
      out.push_back(std::move(n).value());
    }
    std::sort(out.begin(), out.end(),
              [](const NodeInfo& a, const NodeInfo& b) { return a.name < b.name; });
    return out;
  }

  Result<std::vector<NodeInfo>> Load(std::string_view cluster_uid, std::string_view pool) {
    BYOK_ASSIGN_OR_RETURN(auto txn, d_.store->BeginRead());
    BYOK_ASSIGN_OR_RETURN(auto all, txn->ListByPrefix(ClusterScope(cluster_uid)));
    return Parse(all, pool);
  }

  Result<std::vector<NodeInfo>> LoadAll() {
    BYOK_ASSIGN_OR_RETURN(auto txn, d_.store->BeginRead());
    BYOK_ASSIGN_OR_RETURN(auto all, txn->ListByType(kNodeType));
    return Parse(all, "");
  }

  // The customer layer's key (version) as the OS disk's header names it now ("" without one).
  void RefreshKeyUrl(NodeInfo& n) const {
    auto header = d_.blocks->ReadHeader(n.os_disk_unique_id);
    if (!header.ok()) return;
    n.key_url.clear();
    for (const blockstore::WrappedDek& layer : header->layers) {
      if (layer.key.layer == blockstore::Layer::kCustomer) n.key_url = layer.key.key_id;
    }
  }

  Result<std::vector<NodeInfo>> List(std::string_view cluster_uid, std::string_view pool) {
    BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> nodes, Load(cluster_uid, pool));
    for (NodeInfo& n : nodes) RefreshKeyUrl(n);
    return nodes;
  }

  Result<std::vector<NodeInfo>> ListAll() {
    BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> nodes, LoadAll());
    for (NodeInfo& n : nodes) RefreshKeyUrl(n);
    return nodes;
  }

  // Reserves `count` instance numbers of a pool: the first one. Numbers never repeat: the
  // counter also stays above every instance a record still has.
  Result<int64_t> ReserveInstances(const NodeSpec& spec, int count) {
    BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> existing,
                          Load(spec.cluster_unique_id, spec.pool_name));
    int64_t first = 0;
    for (const NodeInfo& n : existing) first = std::max(first, n.instance + 1);
    Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      const std::string id = PoolCounterId(spec.cluster_unique_id, spec.pool_name);
      BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(id));
      if (res) first = std::max(first, IntOf(res->body, "nextInstance"));
      store::Resource counter;
      counter.id = id;
      counter.type = kPoolCounterType;
      counter.body = {{"clusterUniqueId", spec.cluster_unique_id},
                      {"poolName", spec.pool_name},
                      {"nextInstance", first + count}};
      return txn.Put(std::move(counter)).status();
    });
    if (!s.ok()) return s;
    return first;
  }

  // ---- Serialization per cluster ----

  std::shared_ptr<std::mutex> ClusterMutex(std::string_view cluster_uid) {
    std::lock_guard lock(mu_);
    auto& m = cluster_mu_[store::NormalizeId(cluster_uid)];
    if (!m) m = std::make_shared<std::mutex>();
    return m;
  }

  // ---- Volumes of running nodes ----

  void KeepVolume(const NodeInfo& n, std::shared_ptr<blockstore::Volume> v) {
    std::lock_guard lock(mu_);
    volumes_[NodeRecordId(n.cluster_unique_id, n.name)] = std::move(v);
  }

  // Locks (wipes the data keys of) the node's Volume, if it is open, and forgets it.
  void CloseVolume(const NodeInfo& n, const std::string& reason) {
    std::shared_ptr<blockstore::Volume> v;
    {
      std::lock_guard lock(mu_);
      auto it = volumes_.find(NodeRecordId(n.cluster_unique_id, n.name));
      if (it == volumes_.end()) return;
      v = std::move(it->second);
      volumes_.erase(it);
    }
    v->Lock(reason);
  }

  // ---- Boot ----

  // Unlocks the OS disk and reads (first boot: writes) the boot record; sets state, reason and
  // boot_count. Not stored here.
  void Boot(NodeInfo& n) {
    auto volume = d_.blocks->Open(n.os_disk_unique_id);
    if (!volume.ok()) {
      std::string why = volume.status().message();
      auto probe = compute::ProbeCustomerKey(*d_.blocks, *d_.customer_keys, n.os_disk_unique_id);
      if (probe.ok() && !probe->usable) why = compute::KeyProbeReason(*probe);
      NotReady(n, "the OS disk cannot be unlocked: " + why);
      return;
    }
    std::shared_ptr<blockstore::Volume> v = std::move(volume).value();
    std::vector<uint8_t> sector(blockstore::kSectorSize);
    if (Status s = v->Read(0, sector); !s.ok()) {
      v->Lock("boot failed");
      NotReady(n, "the boot record cannot be read: " + s.message());
      return;
    }
    nlohmann::ordered_json record;
    if (std::all_of(sector.begin(), sector.end(), [](uint8_t b) { return b == 0; })) {
      record = {{"node", n.name},
                {"cluster", n.cluster_id},
                {"pool", n.pool_name},
                {"created", n.created},
                {"bootCount", 0}};
    } else {
      record = nlohmann::ordered_json::parse(sector.begin(), sector.end(), nullptr, false);
      if (!record.is_object() || !record.contains("bootCount") ||
          !record["bootCount"].is_number_integer()) {
        v->Lock("boot failed");
        NotReady(n, "the boot record on the OS disk is unreadable");
        return;
      }
    }
    int64_t boots = record["bootCount"].get<int64_t>() + 1;
    record["bootCount"] = boots;
    std::vector<uint8_t> out = BootRecordSector(record);
    if (Status s = v->Write(0, out, /*fua=*/true); !s.ok()) {
      v->Lock("boot failed");
      NotReady(n, "the boot record cannot be written: " + s.message());
      return;
    }
    n.boot_count = boots;
    n.state = kStateReady;
    n.reason.clear();
    KeepVolume(n, std::move(v));
  }

  static void NotReady(NodeInfo& n, std::string reason) {
    n.state = kStateNotReady;
    n.reason = std::move(reason);
  }

  // ---- Add ----

  // The DES of a spec (nullopt without one), or the error creating a disk with it would give.
  ApiResult<std::optional<compute::DesRecord>> LoadDes(const std::string& des_id) {
    if (des_id.empty()) return std::optional<compute::DesRecord>();
    std::optional<compute::DesRecord> des;
    Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      BYOK_ASSIGN_OR_RETURN(des, compute::FindDes(txn, des_id));
      return Status::Ok();
    });
    if (!s.ok()) return InternalError(*d_.clock, "read the disk encryption set", s);
    if (!des) {
      auto parsed = arm::ResourceId::Parse(des_id);
      return MakeError(arm::errors::kResourceNotFound,
                       fmt::format("{}/{}", compute::kDesType, LastSegment(des_id)),
                       parsed.ok() ? parsed->resource_group() : std::string());
    }
    return des;
  }

  ApiResult<std::vector<NodeInfo>> AddNodes(const NodeSpec& spec, int count) {
    if (count < 0 || spec.cluster_unique_id.empty() || spec.pool_name.empty()) {
      return InternalError(*d_.clock, "add nodes",
                           Status::InvalidArgument("a node spec needs a cluster and a pool"));
    }
    std::shared_ptr<std::mutex> cluster_mu = ClusterMutex(spec.cluster_unique_id);
    std::lock_guard serial(*cluster_mu);
    ApiResult<std::optional<compute::DesRecord>> des = LoadDes(spec.des_id);
    if (!des.ok()) return des.error();
    auto first = ReserveInstances(spec, count);
    if (!first.ok()) return InternalError(*d_.clock, "reserve instance numbers", first.status());
    std::vector<NodeInfo> added;
    for (int i = 0; i < count; ++i) {
      ApiResult<NodeInfo> n = CreateNode(spec, des->has_value() ? &**des : nullptr, *first + i);
      if (!n.ok()) return n.error();
      added.push_back(std::move(n).value());
    }
    return added;
  }

  ApiResult<NodeInfo> CreateNode(const NodeSpec& spec, const compute::DesRecord* des,
                                 int64_t instance) {
    NodeInfo n;
    n.vmss_name = VmssName(spec.cluster_unique_id, spec.pool_name);
    n.name = n.vmss_name + Base36(instance);
    n.cluster_id = spec.cluster_id;
    n.cluster_unique_id = spec.cluster_unique_id;
    n.pool_name = spec.pool_name;
    n.instance = instance;
    n.vm_size = spec.vm_size;
    n.os_disk_type = spec.os_disk_type;
    n.os_disk_size_gb = spec.os_disk_size_gb;
    n.des_id = des ? des->id : "";
    n.kubernetes_version = spec.kubernetes_version;
    n.created = FormatAzureTime(d_.clock->Now());
    NotReady(n, kReasonProvisioning);
    if (spec.os_disk_type == OsDiskType::kManaged) {
      n.os_disk_id = fmt::format("{}/providers/{}/{}_OsDisk_1_{}", spec.node_resource_group_id,
                                 compute::kDiskType, n.name, HexEncode(d_.random->Bytes(16)));
    } else {
      n.os_disk_unique_id = d_.random->Uuid();
    }
    // The record first: whatever happens next, RemoveAll finds the disk.
    if (Status s = PutNode(n); !s.ok()) return InternalError(*d_.clock, "store the node", s);

    ApiResult<std::string> disk = spec.os_disk_type == OsDiskType::kManaged
                                      ? CreateManagedDisk(spec, des, n)
                                      : CreateEphemeralDisk(spec, des, n);
    if (!disk.ok()) {
      Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) {
        return txn.Delete(NodeRecordId(n.cluster_unique_id, n.name));
      });
      if (!s.ok()) spdlog::error("nodes: removing node {}: {}", n.name, s.ToString());
      return disk.error();
    }
    n.os_disk_unique_id = *disk;
    RefreshKeyUrl(n);
    Boot(n);
    if (Status s = PutNode(n); !s.ok()) return InternalError(*d_.clock, "store the node", s);
    spdlog::info("node {} of cluster {} ({} OS disk{}{}): {}{}", n.name, n.cluster_id,
                 OsDiskTypeName(n.os_disk_type), n.key_url.empty() ? "" : ", key ", n.key_url,
                 n.state, n.reason.empty() ? "" : " (" + n.reason + ")");
    return n;
  }

  // A managed OS disk through compute's disk service; its blockstore id.
  ApiResult<std::string> CreateManagedDisk(const NodeSpec& spec, const compute::DesRecord* des,
                                           const NodeInfo& n) {
    json props = {{"creationData", {{"createOption", "Empty"}}},
                  {"diskSizeGB", spec.os_disk_size_gb},
                  {"osType", "Linux"},
                  {"hyperVGeneration", "V2"}};
    if (des) {
      props["encryption"] = {
          {"type", std::string(compute::EncryptionTypeName(des->encryption_type))},
          {"diskEncryptionSetId", des->id}};
    }
    json body = {
        {"location", spec.location},
        {"sku", {{"name", SupportsPremiumStorage(spec.vm_size) ? "Premium_LRS" : "Standard_LRS"}}},
        {"properties", props}};
    const std::string managed_by =
        fmt::format("{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}/virtualMachines/{}",
                    spec.node_resource_group_id, n.vmss_name, n.instance);
    ApiResult<json> doc = d_.disks->Create(n.os_disk_id, body, managed_by);
    if (!doc.ok()) return doc.error();
    const json& props_out = doc->value("properties", json::object());
    return StrOf(props_out, "uniqueId");
  }

  // An ephemeral OS disk: a host-local blockstore file with the DES's layers.
  ApiResult<std::string> CreateEphemeralDisk(const NodeSpec& spec, const compute::DesRecord* des,
                                             const NodeInfo& n) {
    compute::EncryptionType type =
        des ? des->encryption_type : compute::EncryptionType::kPlatformKey;
    const uint64_t size = static_cast<uint64_t>(spec.os_disk_size_gb) << 30;
    Status s = d_.blocks->Create(n.os_disk_unique_id, size, compute::DiskLayers(type, des));
    if (!s.ok()) {
      if (Status del = d_.blocks->Delete(n.os_disk_unique_id); !del.ok()) {
        spdlog::error("nodes: removing the OS disk of {}: {}", n.name, del.ToString());
      }
      if (des && !s.Is(StatusCode::kInternal) && !s.Is(StatusCode::kInvalidArgument) &&
          !s.Is(StatusCode::kAlreadyExists)) {
        spdlog::info("node {}: the identity of {} cannot use {}: {}", n.name, des->id,
                     des->active_key_url, s.ToString());
        return compute::DesKeyAccessError(s, des->active_key_url, des->name);
      }
      spdlog::error("nodes: cannot create the ephemeral OS disk of {}: {}", n.name, s.ToString());
      return MakeError(compute::errors::kDiskStorageError, s.message());
    }
    spdlog::info("ephemeral OS disk {} of node {} ({} GiB, {})", n.os_disk_unique_id, n.name,
                 spec.os_disk_size_gb, compute::EncryptionTypeName(type));
    return n.os_disk_unique_id;
  }

  // ---- Remove ----

  // Stops the node, deletes its OS disk and its record.
  ApiResult<bool> DeleteNode(const NodeInfo& n) {
    CloseVolume(n, "the node was deleted");
    if (n.os_disk_type == OsDiskType::kManaged) {
      if (!n.os_disk_id.empty()) {
        ApiResult<bool> gone = d_.disks->Delete(n.os_disk_id);
        if (!gone.ok()) return gone.error();
      }
    } else if (!n.os_disk_unique_id.empty()) {
      if (Status s = d_.blocks->Delete(n.os_disk_unique_id); !s.ok()) {
        return InternalError(*d_.clock, "delete the ephemeral OS disk of " + n.name, s);
      }
    }
    Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      Status del = txn.Delete(NodeRecordId(n.cluster_unique_id, n.name));
      return del.Is(StatusCode::kNotFound) ? Status::Ok() : del;
    });
    if (!s.ok()) return InternalError(*d_.clock, "delete the node " + n.name, s);
    spdlog::info("node {} of cluster {} deleted with its {} OS disk", n.name, n.cluster_id,
                 OsDiskTypeName(n.os_disk_type));
    return true;
  }

  ApiResult<int> RemoveNodes(std::string_view cluster_uid, std::string_view pool, int count) {
    std::shared_ptr<std::mutex> cluster_mu = ClusterMutex(cluster_uid);
    std::lock_guard serial(*cluster_mu);
    auto nodes = Load(cluster_uid, pool);
    if (!nodes.ok()) return InternalError(*d_.clock, "list nodes", nodes.status());
    std::sort(nodes->begin(), nodes->end(),
              [](const NodeInfo& a, const NodeInfo& b) { return a.instance > b.instance; });
    int removed = 0;
    for (const NodeInfo& n : *nodes) {
      if (removed >= count) break;
      ApiResult<bool> done = DeleteNode(n);
      if (!done.ok()) return done.error();
      ++removed;
    }
    return removed;
  }

  Status RemoveAll(std::string_view cluster_uid, std::string_view pool) {
    std::shared_ptr<std::mutex> cluster_mu = ClusterMutex(cluster_uid);
    std::lock_guard serial(*cluster_mu);
    BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> nodes, Load(cluster_uid, pool));
    for (const NodeInfo& n : nodes) {
      ApiResult<bool> done = DeleteNode(n);
      if (!done.ok()) return ToStatus(done.error());
    }
    // The pool's (or every pool's) instance counter goes with it.
    return store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      if (pool.empty()) {
        std::string scope = std::string(kPoolCounterPrefix) + std::string(cluster_uid);
        BYOK_ASSIGN_OR_RETURN(auto counters, txn.ListByPrefix(scope));
        if (!counters.empty()) BYOK_TRY(txn.DeleteByPrefix(scope).status());
        return Status::Ok();
      }
      Status del = txn.Delete(PoolCounterId(cluster_uid, pool));
      return del.Is(StatusCode::kNotFound) ? Status::Ok() : del;
    });
  }

  // ---- Stop / start ----

  Status StopAll(std::string_view cluster_uid) {
    std::shared_ptr<std::mutex> cluster_mu = ClusterMutex(cluster_uid);
    std::lock_guard serial(*cluster_mu);
    BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> nodes, Load(cluster_uid, ""));
    for (const NodeInfo& n : nodes) {
      CloseVolume(n, "the node was deallocated");
      BYOK_TRY(UpdateNode(n, [](NodeInfo& c) {
                 c.state = kStateDeallocated;
                 c.reason = kReasonDeallocated;
                 c.key_unavailable_since.clear();
               }).status());
    }
    spdlog::info("nodes of cluster {} deallocated ({})", cluster_uid, nodes.size());
    return Status::Ok();
  }

  Status StartAll(std::string_view cluster_uid) {
    std::shared_ptr<std::mutex> cluster_mu = ClusterMutex(cluster_uid);
    std::lock_guard serial(*cluster_mu);
    BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> nodes, Load(cluster_uid, ""));
    for (NodeInfo& n : nodes) {
      if (n.state == kStateReady) continue;
      Boot(n);
      BYOK_TRY(UpdateNode(n, [&](NodeInfo& c) {
                 c.state = n.state;
                 c.reason = n.reason;
                 c.boot_count = n.boot_count;
               }).status());
    }
    spdlog::info("nodes of cluster {} started ({})", cluster_uid, nodes.size());
    return Status::Ok();
  }

  Status BootAfterRestart() {
    BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> all, LoadAll());
    std::vector<std::string> clusters;
    for (const NodeInfo& n : all) {
      if (std::find(clusters.begin(), clusters.end(), n.cluster_unique_id) == clusters.end()) {
        clusters.push_back(n.cluster_unique_id);
      }
    }
    int booted = 0;
    for (const std::string& uid : clusters) {
      std::shared_ptr<std::mutex> cluster_mu = ClusterMutex(uid);
      std::lock_guard serial(*cluster_mu);
      BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> nodes, Load(uid, ""));
      for (NodeInfo& n : nodes) {
        if (n.state != kStateReady || HasVolume(n)) continue;
        Boot(n);
        ++booted;
        BYOK_TRY(UpdateNode(n, [&](NodeInfo& c) {
                   c.state = n.state;
                   c.reason = n.reason;
                   c.boot_count = n.boot_count;
                 }).status());
        if (n.state != kStateReady) spdlog::warn("node {}: {}", n.name, n.reason);
      }
    }
    if (booted > 0) spdlog::info("nodes: {} node(s) booted again after a restart", booted);
    return Status::Ok();
  }

  bool HasVolume(const NodeInfo& n) {
    std::lock_guard lock(mu_);
    return volumes_.count(NodeRecordId(n.cluster_unique_id, n.name)) > 0;
  }

  // ---- Revocation monitor ----

  Status CheckNodes(TimePoint now) {
    BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> all, LoadAll());
    std::vector<std::string> clusters;
    for (const NodeInfo& n : all) {
      if (std::find(clusters.begin(), clusters.end(), n.cluster_unique_id) == clusters.end()) {
        clusters.push_back(n.cluster_unique_id);
      }
    }
    for (const std::string& uid : clusters) {
      std::shared_ptr<std::mutex> cluster_mu = ClusterMutex(uid);
      // A cluster whose nodes are being added or removed (a scale-up of 100 nodes takes a while)
      // is checked on the next run: the scheduler's other tasks and `byok clock advance` must
      // not wait for it.
      std::unique_lock serial(*cluster_mu, std::try_to_lock);
      if (!serial.owns_lock()) {
        spdlog::debug("nodes: cluster {} is busy; its key check waits for the next run", uid);
        continue;
      }
      BYOK_ASSIGN_OR_RETURN(std::vector<NodeInfo> nodes, Load(uid, ""));  // fresh, under the lock
      for (NodeInfo& n : nodes) {
        if (Status s = CheckOne(n, now); !s.ok()) {
          spdlog::error("nodes: key check of node {} failed: {}", n.name, s.ToString());
        }
      }
    }
    return Status::Ok();
  }

  Status CheckOne(NodeInfo& n, TimePoint now) {
    if (n.state == kStateDeallocated) return Status::Ok();
    auto probed = compute::ProbeCustomerKey(*d_.blocks, *d_.customer_keys, n.os_disk_unique_id);
    if (!probed.ok() && probed.status().Is(StatusCode::kNotFound) &&
        n.reason == kReasonProvisioning) {
      return Status::Ok();  // byokd stopped while creating its disk; RemoveNodes cleans it up
    }
    BYOK_ASSIGN_OR_RETURN(compute::KeyProbe probe, std::move(probed));
    const std::string key_url = probe.key_url;
    if (probe.usable) {
      const bool boot = n.state == kStateStopped || n.state == kStateNotReady;
      if (n.key_unavailable_since.empty() && !boot && n.key_url == key_url) return Status::Ok();
      if (!n.key_unavailable_since.empty()) {
        spdlog::info("node {}: the key of its OS disk is usable again", n.name);
      }
      if (boot) Boot(n);
      BYOK_TRY(UpdateNode(n, [&](NodeInfo& c) {
                 c.key_unavailable_since.clear();
                 c.key_url = key_url;
                 if (boot) {
                   c.state = n.state;
                   c.reason = n.reason;
                   c.boot_count = n.boot_count;
                 }
               }).status());
      if (boot) spdlog::info("node {} booted again: {} {}", n.name, n.state, n.reason);
      return Status::Ok();
    }

    std::string since_text = n.key_unavailable_since;
    TimePoint since = now;
    if (!since_text.empty()) {
      auto parsed = ParseTimestamp(since_text);
      if (parsed.ok()) since = *parsed;
    } else {
      since_text = FormatAzureTime(now);
      spdlog::warn("node {}: {}", n.name, compute::KeyProbeReason(probe));
    }
    const bool stop = n.state == kStateReady && (probe.purged || now - since >= d_.grace_period);
    std::string reason;
    if (stop) {
      reason = probe.purged ? compute::KeyProbeReason(probe)
                            : fmt::format(
                                  "{} (unusable since {}; the node starts again when the key is "
                                  "usable)",
                                  compute::KeyProbeReason(probe), since_text);
      CloseVolume(n, reason);
      spdlog::warn("node {} stopped: {}", n.name, reason);
    }
    if (!stop && n.key_unavailable_since == since_text && n.key_url == key_url) {
      return Status::Ok();
    }
    return UpdateNode(n,
                      [&](NodeInfo& c) {
                        c.key_unavailable_since = since_text;
                        c.key_url = key_url;
                        if (stop) {
                          c.state = kStateStopped;
                          c.reason = reason;
                        }
                      })
        .status();
  }

 private:
  NodeDeps d_;
  std::mutex mu_;  // guards cluster_mu_ and volumes_
  std::map<std::string, std::shared_ptr<std::mutex>> cluster_mu_;       // by normalized unique id
  std::map<std::string, std::shared_ptr<blockstore::Volume>> volumes_;  // by node record id
};

NodeManager::NodeManager(NodeDeps deps) : impl_(std::make_unique<Impl>(std::move(deps))) {}
NodeManager::~NodeManager() = default;

ApiResult<std::vector<NodeInfo>> NodeManager::AddNodes(const NodeSpec& spec, int count) {
  return impl_->AddNodes(spec, count);
}
ApiResult<int> NodeManager::RemoveNodes(std::string_view cluster_unique_id,
                                        std::string_view pool_name, int count) {
  return impl_->RemoveNodes(cluster_unique_id, pool_name, count);
}
Status NodeManager::RemoveAll(std::string_view cluster_unique_id, std::string_view pool_name) {
  return impl_->RemoveAll(cluster_unique_id, pool_name);
}
Result<std::vector<NodeInfo>> NodeManager::List(std::string_view cluster_unique_id,
                                                std::string_view pool_name) {
  return impl_->List(cluster_unique_id, pool_name);
}
Result<std::vector<NodeInfo>> NodeManager::ListAll() { return impl_->ListAll(); }
Status NodeManager::StopAll(std::string_view cluster_unique_id) {
  return impl_->StopAll(cluster_unique_id);
}
Status NodeManager::StartAll(std::string_view cluster_unique_id) {
  return impl_->StartAll(cluster_unique_id);
}
Status NodeManager::CheckNodes(TimePoint now) { return impl_->CheckNodes(now); }
Status NodeManager::BootAfterRestart() { return impl_->BootAfterRestart(); }

}  // namespace byok::containerservice
