#include "kube/volumes.h"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/errors.h"
#include "arm/resource_id.h"
#include "common/encoding.h"
#include "crypto/sign.h"
#include "kube/internal/object_access.h"
#include "kube/kinds.h"
#include "kube/provisioner.h"
#include "kube/volume_errors.h"

namespace byok::kube {
namespace {

using containerservice::ClusterRecord;
using containerservice::NodeInfo;
using nlohmann::json;
namespace verrors = volume_errors;

using internal::Str;

using internal::KindOf;

ApiError Internal(std::string_view what, const Status& s) {
  spdlog::error("volumes: cannot {}: {}", what, s.ToString());
  return MakeError(verrors::kInternal);
}

// A managed-disk ARM id, normalized, or "".
std::string ManagedDiskId(std::string_view text) {
  auto id = arm::ResourceId::Parse(text);
  if (!id.ok() || id->kind() != arm::ResourceId::Kind::kResource ||
      !arm::EqualsIgnoreCase(id->ResourceType(), "Microsoft.Compute/disks")) {
    return "";
  }
  return id->ToString();
}

std::string NodeList(const std::vector<NodeInfo>& nodes) {
  if (nodes.empty()) return "none";
  std::string out;
  for (const NodeInfo& n : nodes) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} ({})", n.name, n.state);
  }
  return out;
}

// A claim's persistent volume and the managed disk behind it: kVolumeNotFound when the volume
// is gone, kNotAzureDisk when it is not backed by an Azure disk.
struct ClaimVolume {
  json pv;
  std::string disk_id;
};

ApiResult<ClaimVolume> LoadVolume(ObjectStore& objects, const std::string& uid,
                                  const std::string& pv_name, std::string_view ns,
                                  std::string_view claim) {
  auto pv = objects.Get(uid, KindOf("", "persistentvolumes"), "", pv_name);
  if (!pv.ok()) {
    if (pv.status().Is(StatusCode::kNotFound)) return MakeError(verrors::kVolumeNotFound, pv_name);
    return Internal("read the volume", pv.status());
  }
  ClaimVolume out;
  out.disk_id = VolumeDiskId(*pv);
  if (out.disk_id.empty()) return MakeError(verrors::kNotAzureDisk, pv_name, ns, claim);
  out.pv = std::move(pv).value();
  return out;
}

}  // namespace

std::string VolumeAttachmentName(std::string_view volume_handle, std::string_view attacher,
                                 std::string_view node_name) {
  std::string text = std::string(volume_handle) + std::string(attacher) + std::string(node_name);
  auto digest = crypto::Digest(crypto::HashAlgorithm::kSha256, AsBytes(text));
  if (!digest.ok()) {
    spdlog::critical("sha256 failed: {}", digest.status().ToString());
    std::abort();
  }
  return "csi-" + HexEncode(*digest);
}

std::string VolumeDiskId(const json& pv) {
  if (Str(pv, {"spec", "csi", "driver"}) == kCsiDiskDriver) {
    return ManagedDiskId(Str(pv, {"spec", "csi", "volumeHandle"}));
  }
  return ManagedDiskId(Str(pv, {"spec", "azureDisk", "diskURI"}));
}

std::string NodeInstanceId(const ClusterRecord& cluster, const NodeInfo& node) {
  return fmt::format(
      "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}/"
      "virtualMachines/{}",
      cluster.subscription_id, cluster.node_resource_group, node.vmss_name, node.instance);
}

VolumeManager::VolumeManager(VolumeDeps deps) : d_(std::move(deps)) {}

ApiResult<ClusterRecord> VolumeManager::ResolveCluster(std::string_view cluster,
                                                       std::string_view resource_group) {
  if (cluster.empty()) return MakeError(verrors::kInvalidCluster, cluster);
  std::vector<ClusterRecord> matches;
  bool by_id = cluster.front() == '/';
  Status read = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    if (by_id) {
      BYOK_ASSIGN_OR_RETURN(auto c, containerservice::FindCluster(txn, cluster));
      if (c) matches.push_back(std::move(*c));
      return Status::Ok();
    }
    BYOK_ASSIGN_OR_RETURN(auto all, containerservice::ListClusterRecords(txn));
    for (ClusterRecord& c : all) {
      if (!arm::EqualsIgnoreCase(c.name, cluster)) continue;
      if (!resource_group.empty() && !arm::EqualsIgnoreCase(c.resource_group, resource_group)) {
        continue;
      }
      matches.push_back(std::move(c));
    }
    return Status::Ok();
  });
  if (!read.ok()) return Internal("read the clusters", read);
  if (by_id) {
    if (matches.empty()) {
      auto id = arm::ResourceId::Parse(cluster);
      if (!id.ok() || id->kind() != arm::ResourceId::Kind::kResource ||
          !arm::EqualsIgnoreCase(id->ResourceType(), containerservice::kClusterType)) {
        return MakeError(verrors::kInvalidCluster, cluster);
      }
      return MakeError(arm::errors::kResourceNotFound,
                       std::string(containerservice::kClusterType) + "/" + id->Name(),
                       id->resource_group());
    }
  } else if (matches.empty()) {
    return MakeError(verrors::kClusterNotFound, cluster,
                     resource_group.empty()
                         ? std::string()
                         : fmt::format(" in resource group '{}'", resource_group));
  } else if (matches.size() > 1) {
    std::sort(matches.begin(), matches.end(),
              [](const ClusterRecord& a, const ClusterRecord& b) { return a.id < b.id; });
    std::string ids;
    for (const ClusterRecord& c : matches) ids += (ids.empty() ? "" : ", ") + c.id;
    return MakeError(verrors::kAmbiguousCluster, cluster, ids);
  }
  ClusterRecord c = std::move(matches.front());
  if (c.power_state == "Stopped") return MakeError(verrors::kClusterStopped, c.name);
  return c;
}

ApiResult<VolumeAttachResult> VolumeManager::Attach(const ClusterRecord& cluster,
                                                    std::string_view ns, std::string_view claim,
                                                    std::string_view node_name,
                                                    std::string_view caller) {
  std::lock_guard<std::mutex> serial(mu_);
  const Kind& pvcs = KindOf("", "persistentvolumeclaims");
  const Kind& vas = KindOf("storage.k8s.io", "volumeattachments");
  const Kind& classes = KindOf("storage.k8s.io", "storageclasses");
  const std::string& uid = cluster.unique_id;
  if (Status s = d_.objects->EnsureBuiltins(uid); !s.ok()) return Internal("create built-ins", s);

  auto pvc = d_.objects->Get(uid, pvcs, ns, claim);
  if (!pvc.ok()) {
    if (pvc.status().Is(StatusCode::kNotFound)) {
      return MakeError(verrors::kClaimNotFound, claim, ns);
    }
    return Internal("read the claim", pvc.status());
  }

  // The node.
  auto nodes = d_.list_nodes(uid);
  if (!nodes.ok()) return Internal("list the nodes", nodes.status());
  std::sort(nodes->begin(), nodes->end(),
            [](const NodeInfo& a, const NodeInfo& b) { return a.name < b.name; });
  const NodeInfo* node = nullptr;
  if (!node_name.empty()) {
    for (const NodeInfo& n : *nodes) {
      if (n.name == node_name) node = &n;
    }
    if (node == nullptr) {
      return MakeError(verrors::kNodeNotFound, node_name, cluster.name, NodeList(*nodes));
    }
    if (node->state != "Ready") {
      return MakeError(verrors::kNodeNotReady, node->name, node->state,
                       node->reason.empty() ? std::string() : " (" + node->reason + ")");
    }
  } else {
    std::string selected = Str(*pvc, {"metadata", "annotations", kSelectedNodeAnnotation});
    for (const NodeInfo& n : *nodes) {
      if (n.name == selected && n.state == "Ready") node = &n;
    }
    for (const NodeInfo& n : *nodes) {
      if (node == nullptr && n.state == "Ready") node = &n;
    }
    if (node == nullptr) return MakeError(verrors::kNoReadyNode, cluster.name, NodeList(*nodes));
  }

  // A claim not bound yet: this attach is its first consumer.
  if (Str(*pvc, {"status", "phase"}) != "Bound") {
    std::string class_name = Str(*pvc, {"spec", "storageClassName"});
    auto sc = class_name.empty() ? Result<json>(Status::NotFound(""))
                                 : d_.objects->Get(uid, classes, "", class_name);
    bool wffc = sc.ok() && Str(*sc, {"volumeBindingMode"}) == "WaitForFirstConsumer";
    if (wffc && Str(*pvc, {"metadata", "annotations", kSelectedNodeAnnotation}).empty()) {
      const std::string chosen = node->name;
      auto annotated = d_.objects->Modify(uid, pvcs, ns, claim, [&](json cur) {
        json& a = cur["metadata"]["annotations"];
        if (!a.is_object()) a = json::object();
        a[kSelectedNodeAnnotation] = chosen;
        return Result<json>(std::move(cur));
      });
      if (!annotated.ok()) return Internal("annotate the claim", annotated.status());
    }
    if (Status s = d_.reconcile(uid); !s.ok()) return Internal("provision the claim", s);
    pvc = d_.objects->Get(uid, pvcs, ns, claim);
    if (!pvc.ok()) {
      if (pvc.status().Is(StatusCode::kNotFound)) {
        return MakeError(verrors::kClaimNotFound, claim, ns);
      }
      return Internal("read the claim", pvc.status());
    }
    if (Str(*pvc, {"status", "phase"}) != "Bound") {
      // Why: the claim's latest Warning event, else its latest event.
      std::string why = "no volume was provisioned for it";
      auto events = d_.objects->List(uid, KindOf("", "events"), ns);
      if (events.ok()) {
        const std::string claim_uid = Str(*pvc, {"metadata", "uid"});
        std::string best_time;
        bool best_warning = false;
        for (const json& e : events->items) {
          if (Str(e, {"involvedObject", "uid"}) != claim_uid) continue;
          bool warning = Str(e, {"type"}) == "Warning";
          std::string t = Str(e, {"lastTimestamp"});
          if ((warning && !best_warning) || (warning == best_warning && t >= best_time)) {
            best_warning = warning;
            best_time = t;
            why =
                fmt::format("{} {}: {}", Str(e, {"type"}), Str(e, {"reason"}), Str(e, {"message"}));
          }
        }
      }
      std::string phase = Str(*pvc, {"status", "phase"});
      return MakeError(verrors::kClaimNotBound, ns, claim, phase.empty() ? "Pending" : phase, why);
    }
  }

  const std::string pv_name = Str(*pvc, {"spec", "volumeName"});
  auto volume = LoadVolume(*d_.objects, uid, pv_name, ns, claim);
  if (!volume.ok()) return volume.error();
  const std::string& disk_id = volume->disk_id;
  std::string handle = Str(volume->pv, {"spec", "csi", "volumeHandle"});
  if (handle.empty()) handle = Str(volume->pv, {"spec", "azureDisk", "diskURI"});

  auto existing = d_.objects->List(uid, vas);
  if (!existing.ok()) return Internal("list volume attachments", existing.status());
  std::set<int> luns;
  for (const json& va : existing->items) {
    if (Str(va, {"spec", "source", "persistentVolumeName"}) == pv_name) {
      return MakeError(verrors::kAlreadyAttached, ns, claim, pv_name, Str(va, {"spec", "nodeName"}),
                       Str(va, {"metadata", "name"}));
    }
    if (Str(va, {"spec", "nodeName"}) == node->name) {
      std::string lun = Str(va, {"status", "attachmentMetadata", kAttachmentLunKey});
      if (!lun.empty() && lun.size() < 4 &&
          std::all_of(lun.begin(), lun.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        luns.insert(std::stoi(lun));
      }
    }
  }
  int lun = 0;
  while (luns.count(lun) != 0) ++lun;

  auto attached = d_.attach(disk_id, NodeInstanceId(cluster, *node), caller);
  if (!attached.ok()) return attached.error();

  const std::string va_name = VolumeAttachmentName(handle, kCsiDiskDriver, node->name);
  json va = {
      {"apiVersion", "storage.k8s.io/v1"},
      {"kind", "VolumeAttachment"},
      {"metadata",
       {{"name", va_name}, {"annotations", {{"csi.alpha.kubernetes.io/node-id", node->name}}}}},
      {"spec",
       {{"attacher", kCsiDiskDriver},
        {"nodeName", node->name},
        {"source", {{"persistentVolumeName", pv_name}}}}},
      {"status",
       {{"attached", true}, {"attachmentMetadata", {{kAttachmentLunKey, std::to_string(lun)}}}}}};
  auto created = d_.objects->Create(uid, vas, va);
  if (!created.ok()) {
    auto undone = d_.detach(disk_id, caller);
    if (!undone.ok()) {
      spdlog::error("volumes: cannot detach {} after a failed attach: {}", disk_id,
                    undone.error().message);
    }
    return Internal("store the volume attachment", created.status());
  }
  spdlog::info("volume {} (claim {}/{} of cluster {}) attached to node {} by {}", pv_name, ns,
               claim, cluster.id, node->name, caller);
  VolumeAttachResult out;
  out.attachment = std::move(attached).value();
  out.node = node->name;
  out.persistent_volume = pv_name;
  out.volume_attachment = va_name;
  out.disk_id = disk_id;
  return out;
}

ApiResult<VolumeDetachResult> VolumeManager::Detach(const ClusterRecord& cluster,
                                                    std::string_view ns, std::string_view claim,
                                                    std::string_view caller) {
  std::lock_guard<std::mutex> serial(mu_);
  const Kind& pvcs = KindOf("", "persistentvolumeclaims");
  const Kind& pvs = KindOf("", "persistentvolumes");
  const Kind& vas = KindOf("storage.k8s.io", "volumeattachments");
  const std::string& uid = cluster.unique_id;

  std::string pv_name;
  auto pvc = d_.objects->Get(uid, pvcs, ns, claim);
  if (pvc.ok()) {
    pv_name = Str(*pvc, {"spec", "volumeName"});
    if (pv_name.empty()) return MakeError(verrors::kNotAttached, ns, claim, "none");
  } else if (pvc.status().Is(StatusCode::kNotFound)) {
    // A deleted claim: its Released volume still names it.
    auto all = d_.objects->List(uid, pvs);
    if (!all.ok()) return Internal("list volumes", all.status());
    for (const json& v : all->items) {
      if (Str(v, {"spec", "claimRef", "namespace"}) == ns &&
          Str(v, {"spec", "claimRef", "name"}) == claim) {
        pv_name = Str(v, {"metadata", "name"});
      }
    }
    if (pv_name.empty()) return MakeError(verrors::kClaimNotFound, claim, ns);
  } else {
    return Internal("read the claim", pvc.status());
  }
  auto volume = LoadVolume(*d_.objects, uid, pv_name, ns, claim);
  if (!volume.ok()) return volume.error();
  const std::string disk_id = std::move(volume->disk_id);

  auto existing = d_.objects->List(uid, vas);
  if (!existing.ok()) return Internal("list volume attachments", existing.status());
  std::vector<std::string> names;
  for (const json& va : existing->items) {
    if (Str(va, {"spec", "source", "persistentVolumeName"}) == pv_name) {
      names.push_back(Str(va, {"metadata", "name"}));
    }
  }
  auto detached = d_.detach(disk_id, caller);
  if (!detached.ok()) {
    // Not attached any more (`byok disk detach`): only the record is left to remove.
    bool not_attached = detached.error().http_status == 409 || detached.error().http_status == 404;
    if (!not_attached || names.empty()) {
      if (not_attached) return MakeError(verrors::kNotAttached, ns, claim, pv_name);
      return detached.error();
    }
  }
  for (const std::string& name : names) {
    auto deleted = d_.objects->Delete(uid, vas, "", name);
    if (!deleted.ok() && !deleted.status().Is(StatusCode::kNotFound)) {
      return Internal("delete the volume attachment", deleted.status());
    }
  }
  spdlog::info("volume {} (claim {}/{} of cluster {}) detached by {}", pv_name, ns, claim,
               cluster.id, caller);
  // A Released volume whose deletion waited for the detach goes now.
  if (Status s = d_.reconcile(uid); !s.ok()) {
    spdlog::warn("volumes: reconcile after detach: {}", s.ToString());
  }
  VolumeDetachResult out;
  out.disk_id = disk_id;
  out.persistent_volume = pv_name;
  out.volume_attachments = std::move(names);
  return out;
}

}  // namespace byok::kube
