// ObjectStore: the stored Kubernetes objects of every managed cluster (every served kind but
// nodes, kinds.h), in byokd's metadata store, with the bookkeeping the kube-apiserver does:
// uid, creationTimestamp, resourceVersion, generation, and a change feed for watches and
// controllers (the provisioner).
//
// Storage (docs/ARCHITECTURE.md):
//   /byok/kube/{clusterUid}/{resource}.{group or "core"}/{namespace or "-"}/{name}
//       type "byok.kube/object", body = the object as clients see it.
//   meta "kube/{clusterUid}/resourceVersion": the cluster's last resourceVersion (decimal);
//   meta "kube/{clusterUid}/builtins": set once EnsureBuiltins created the built-in objects.
// Everything of a cluster is under containerservice::KubeObjectsPrefix(uid) ("/byok/kube/{uid}"),
// which the cluster's deletion removes. Names are case-sensitive in Kubernetes but the store keys
// are case-insensitive: an object whose name differs from an existing one only by case is refused
// (kAlreadyExists) — Kubernetes names of these kinds are DNS subdomains, lower case anyway.
//
// resourceVersion: one counter per cluster, advanced by every write (create, update, delete) in
// the same store transaction; an object carries the counter's value of its last write, a list
// the counter's current value. Compared as decimal integers.
//
// Each call runs in its own store transaction; after it commits, the change is published to the
// cluster's subscribers (Subscribe, Watch), in commit order, before the call returns (on the
// calling thread, or by a thread already delivering). A write made BY a subscriber (from inside its
// callback) is published after the current event reached every subscriber, i.e. after that write
// returned. Callers must not hold locks a subscriber takes.
//
// Also as the apiserver: an update that changes nothing writes nothing (same resourceVersion, no
// event); metadata.generateName without a name gets the name generateName + 5 random characters;
// events.k8s.io/v1 Events are stored as (and returned as) core v1 Events — callers convert.
//
// Errors: kNotFound (object absent), kAlreadyExists (create of an existing name), kAborted (the
// update's metadata.resourceVersion is set and is not the stored one: a conflict),
// kInvalidArgument (no metadata.name, or a namespace for a cluster-scoped kind / none for a
// namespaced one), store errors as they come.
//
// Thread safety: thread-safe. REQUIRES: deps outlive the ObjectStore.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "kube/kinds.h"
#include "store/store.h"

namespace byok::kube {

inline constexpr char kObjectType[] = "byok.kube/object";

struct ObjectStoreDeps {
  store::Store* store = nullptr;
  const Clock* clock = nullptr;  // creationTimestamp, deletionTimestamp (byokd's clock)
  Random* random = nullptr;      // uids (RFC 4122 v4)
};

struct WatchEvent {
  std::string type;  // "ADDED", "MODIFIED", "DELETED"
  const Kind* kind = nullptr;
  nlohmann::json
      object;  // after the change (DELETED: as it was, with the delete's resourceVersion)
  int64_t resource_version = 0;
  nlohmann::json old_object;  // MODIFIED: the object before the change; null otherwise
};

struct ListResult {
  std::vector<nlohmann::json> items;  // sorted by namespace, then name
  int64_t resource_version = 0;       // the cluster's counter when read
};

class ObjectStore {
 public:
  explicit ObjectStore(ObjectStoreDeps deps);
  ~ObjectStore();
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // ns is "" for cluster-scoped kinds.
  Result<nlohmann::json> Get(std::string_view cluster_uid, const Kind& kind, std::string_view ns,
                             std::string_view name);
  // Objects of a kind in one namespace, or in all namespaces when ns is "" (and always for
  // cluster-scoped kinds).
  Result<ListResult> List(std::string_view cluster_uid, const Kind& kind, std::string_view ns = "");

  // Stores a new object. Sets apiVersion/kind from `kind`, metadata.uid, creationTimestamp,
  // resourceVersion and generation (1); metadata.namespace must name an existing Namespace for
  // namespaced kinds (kNotFound otherwise, except when creating a Namespace). Returns the object.
  Result<nlohmann::json> Create(std::string_view cluster_uid, const Kind& kind,
                                nlohmann::json object);
  // Replaces an object (matched by metadata.namespace/name). uid and creationTimestamp are kept
  // from the stored one; generation is incremented when anything but metadata and status changed;
  // resourceVersion is new. Returns the object.
  Result<nlohmann::json> Update(std::string_view cluster_uid, const Kind& kind,
                                nlohmann::json object);
  // Read-modify-write with retry on conflict: `mutate` gets the current object and returns the
  // new one (or an error, returned as is). kNotFound when absent.
  Result<nlohmann::json> Modify(
      std::string_view cluster_uid, const Kind& kind, std::string_view ns, std::string_view name,
      const std::function<Result<nlohmann::json>(nlohmann::json)>& mutate);
  // Removes an object; returns it as it was (with the delete's resourceVersion). Deleting a
  // Namespace removes every namespaced object in it.
  Result<nlohmann::json> Delete(std::string_view cluster_uid, const Kind& kind, std::string_view ns,
                                std::string_view name);

  // Creates the objects every AKS cluster starts with, unless the cluster already has them:
  // namespaces default, kube-system, kube-public, kube-node-lease (status Active), and AKS's
  // built-in storage classes (labels addonmanager.kubernetes.io/mode EnsureExists,
  // kubernetes.io/cluster-service "true"; all Delete, allowVolumeExpansion true):
  //   default, managed-csi        disk.csi.azure.com, skuname StandardSSD_LRS
  //   managed-csi-premium         disk.csi.azure.com, skuname Premium_LRS
  //   managed / managed-premium   disk.csi.azure.com, kind Managed, cachingmode ReadOnly,
  //                               storageaccounttype StandardSSD_LRS / Premium_LRS
  //     (the disk classes WaitForFirstConsumer; "default" carries annotation
  //      storageclass.kubernetes.io/is-default-class "true")
  //   azurefile, azurefile-csi, azurefile-premium, azurefile-csi-premium
  //                               file.csi.azure.com, skuName Standard_LRS / Premium_LRS,
  //                               Immediate, mountOptions as AKS sets them.
  // Idempotent and cheap after the first call (a per-cluster marker; a deleted built-in is not
  // recreated).
  Status EnsureBuiltins(std::string_view cluster_uid);

  // The cluster's current resourceVersion (0 for a cluster with no objects yet).
  Result<int64_t> CurrentResourceVersion(std::string_view cluster_uid);

  // Change feed. `fn` is called after every committed write of the cluster (cluster_uid "" = every
  // cluster: fn gets the uid as its first argument). Returns a handle for Unsubscribe.
  // Callbacks run one at a time (never concurrently with each other) on the thread that
  // delivers; they must not throw and must not block on a thread that is writing objects.
  using Subscriber = std::function<void(std::string_view cluster_uid, const WatchEvent&)>;
  uint64_t Subscribe(std::string_view cluster_uid, Subscriber fn);

  // For watches that start at a resourceVersion (the kube-apiserver's watch semantics): subscribes
  // `fn` to the cluster's events with a resourceVersion greater than `after`, and returns the
  // already published ones it will not get (`replay`, oldest first, for the caller to send before
  // anything fn receives; fn may be called before Watch returns). The ObjectStore keeps the last
  // 1024 events of each cluster in memory (not across restarts): kOutOfRange ("too old resource
  // version: {after} ({oldest})", the apiserver's 410 Expired) when events after `after` are no
  // longer kept. `after` >= the current resourceVersion: nothing to replay.
  struct WatchStart {
    uint64_t handle = 0;  // for Unsubscribe
    std::vector<WatchEvent> replay;
    int64_t resource_version = 0;  // the cluster's counter when subscribed
  };
  Result<WatchStart> Watch(std::string_view cluster_uid, int64_t after, Subscriber fn);

  // Removes a subscription. After it returns fn is not called again: it waits for a call of fn in
  // progress on another thread (so the caller must not hold a lock fn takes); called from inside
  // fn itself it returns at once. Unknown handles are ignored.
  void Unsubscribe(uint64_t handle);

  // Drops the recent events (the watch replay, up to 1024 objects) kept in memory for a deleted
  // cluster. Call it after the transaction that deleted the cluster's objects committed. A watch of
  // the uid from an older resourceVersion then gets kOutOfRange, as after any restart. (The
  // cluster's built-ins marker, a few bytes, stays: a request racing the delete must not create
  // the built-ins of a cluster that is gone.)
  void ForgetCluster(std::string_view cluster_uid);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace byok::kube
