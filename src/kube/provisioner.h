// The dynamic volume provisioner of every cluster's Kubernetes API: what AKS's azuredisk CSI
// driver (controller plugin + external-provisioner) and kube-controller-manager's
// persistentvolume-controller do for a PersistentVolumeClaim, on byok's stored objects
// (object_store.h), creating and deleting managed disks THROUGH ARM as the cluster's identity.
//
// For each Pending, unbound PVC of a cluster (Reconcile):
//   - no spec.storageClassName: the default class (annotation
//     storageclass.kubernetes.io/is-default-class "true") is written into it, as Kubernetes'
//     retroactive default assignment does; none → the PVC waits, no event;
//   - class missing → Warning ProvisioningFailed `storageclass.storage.k8s.io "x" not found`;
//   - provisioner neither disk.csi.azure.com nor kubernetes.io/azure-disk → Normal
//     ExternalProvisioning (persistentvolume-controller's wording), nothing else;
//   - volumeBindingMode WaitForFirstConsumer and no annotation volume.kubernetes.io/selected-node →
//     Normal WaitForFirstConsumer, nothing else (`byok volume attach` sets the annotation);
//   - otherwise: annotations volume.(beta.)kubernetes.io/storage-provisioner, Normal Provisioning,
//     the class parameters checked as azuredisk-csi-driver does (ParseDiskParameters; clusters
//     below Kubernetes 1.24 refuse diskEncryptionSetID), then
//       PUT {disk id}?api-version=2022-07-02 with DiskBody(...) as the cluster's system-assigned
//       identity (ArmClient). Disk "pvc-{pvc uid}" in the node resource group (or parameter
//       resourceGroup / subscriptionID / location / diskName); the DES defaults to the cluster's
//       diskEncryptionSetID (1.24+) when the class names none.
//     On 200/201 with provisioningState Succeeded (or none): PV "pvc-{uid}" (csi driver
//     disk.csi.azure.com, volumeHandle = the disk id,
//     claimRef, capacity in Gi, reclaim policy and mount options from the class, status Bound),
//     the PVC bound (spec.volumeName, bind annotations, status Bound with capacity and access
//     modes), Normal ProvisioningSucceeded. Otherwise Warning ProvisioningFailed with the driver's
//     message carrying ARM's error body (e.g. 403 LinkedAuthorizationFailed); the PVC stays
//     Pending and is retried, with a per-claim backoff (ClaimBackoff: 3 s doubling to 5 min on
//     byokd's clock, forgotten on success, when the claim or its class changes, and on every
//     `byok clock advance`, which calls ResetBackoff). A 202 Accepted, or a disk whose
//     provisioningState is not yet Succeeded, is not bound: later passes GET the disk until it is
//     Succeeded (then bind), Failed (a ProvisioningFailed event) or gone (PUT again).
//   - before any of that, static binding as the persistentvolume-controller does: a claim naming
//     spec.volumeName binds to that volume when its claimRef is empty or names the claim; any
//     other claim binds to the smallest Available volume with the same storageClassName, enough
//     capacity, the requested access modes, the same volumeMode, matching selector.matchLabels,
//     and no claimRef or one naming this claim (pre-bound volumes first). Volumes without a claim
//     are made Available. A claim with class "" and no match: Normal FailedBinding "no persistent
//     volumes available for this claim and no storage class is set". WaitForFirstConsumer
//     classes match only once the claim has a selected node.
// For each PV whose claim is gone (absent, or another uid): status Released; reclaim policy Delete
// on a PV this provisioner made → DELETE the disk through ARM (404 counts as gone), then the PV;
// a failure is a Warning VolumeFailedDelete event (namespace "default") and a retry later. A
// volume a VolumeAttachment still names (`byok volume attach`, kube/volumes.h) is not deleted:
// Warning VolumeFailedDelete "persistentvolume X is still attached to node N" (external-
// provisioner's check) and a retry; a disk attached otherwise is refused by ARM (409
// OperationNotAllowed "Disk 'x' is attached to VM '...'"), which is the event's message.
// WaitForFirstConsumer: `byok volume attach` is the first consumer — it sets the selected-node
// annotation and calls Reconcile itself, so the claim binds within that call.
// Events are core v1 Events in the claim's namespace, de-duplicated as Kubernetes' correlator
// does: the same (object, type, reason, message, source) bumps count and lastTimestamp.
//
// A stopped cluster (powerState Stopped) is skipped: it runs no controllers.
//
// Triggers (Start): a subscription to the ObjectStore feed (PVC, PV and StorageClass changes of a
// cluster queue it for a background worker; Event writes do not, so retries cannot spin), a
// resync of clusters left with pending work every `resync` of real time, and ReconcileAll, the
// scheduler task (byokd runs it every tick and on `byok clock advance`). Once started, passes run
// only on the worker thread: ReconcileAll queues every cluster, wakes the worker and waits (at
// most `settle_wait`) until a pass over each of them that began after the call has finished, so
// `byok clock advance` returns after the passes it triggered. Without Start nothing runs on its
// own: tests call Reconcile, and ReconcileAll runs the passes on the caller's thread.
// Events are named "{object}.{16 hex digits}", a hash of (object uid, type, reason, message,
// source), so the correlator's bump is one Get and one write.
// Stop: no ARM call starts once Stop has begun (a pass in flight stops before its next call and
// its claims stay pending); Reconcile and ReconcileAll do nothing afterwards, until Start.
//
// Thread safety: thread-safe; reconciles are serialized. REQUIRES: deps outlive the Provisioner.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "containerservice/cluster_store.h"
#include "identity/identity_service.h"
#include "kube/object_store.h"
#include "store/store.h"

namespace byok::kube {

inline constexpr char kCsiDiskDriver[] = "disk.csi.azure.com";
inline constexpr char kInTreeAzureDisk[] = "kubernetes.io/azure-disk";
inline constexpr char kDiskApiVersion[] = "2022-07-02";
inline constexpr char kSelectedNodeAnnotation[] = "volume.kubernetes.io/selected-node";

// The StorageClass parameters azuredisk-csi-driver understands, normalized.
struct DiskParameters {
  std::string sku = "StandardSSD_LRS";  // skuName / storageAccountType
  std::string caching_mode = "ReadOnly";
  std::string des_id;           // diskEncryptionSetID
  std::string encryption_type;  // diskEncryptionType ("" = by the DES: customer key)
  std::string resource_group;
  std::string subscription_id;
  std::string location;
  std::string disk_name;
  std::string fs_type;
  std::string network_access_policy = "AllowAll";
  std::map<std::string, std::string> tags;
};

// Parses StorageClass.parameters (an object of strings; names case-insensitive) with the driver's
// checks and messages. Error (kInvalidArgument): the message the driver returns, e.g.
// "rpc error: code = InvalidArgument desc = Failed parsing disk parameters: invalid parameter foo
// in storage class" or "... desc = AzureDisk - format of DiskEncryptionSetID(x) is incorrect,
// correct format: /subscriptions/{subs-id}/resourceGroups/{rg-name}/providers/Microsoft.Compute/
// diskEncryptionSets/{diskEncryptionSet-name}".
Result<DiskParameters> ParseDiskParameters(const nlohmann::json& parameters);

// A Kubernetes resource.Quantity ("10Gi", "5G", "1500M", "1e9", "0.5Ti") in bytes, rounded up.
// kInvalidArgument if malformed or negative.
Result<int64_t> ParseQuantity(std::string_view quantity);
// Bytes → GiB rounded up, at least 1 (the driver's minimum disk size).
int64_t RoundUpGiB(int64_t bytes);

// What the disk PUT needs besides the parameters.
struct DiskRequest {
  std::string pvc_namespace;
  std::string pvc_name;
  std::string pv_name;
  int64_t size_gib = 1;
  std::string location;  // used when the parameters name none
};
// The Microsoft.Compute/disks PUT body the driver sends: location, sku, tags (the class's tags,
// kubernetes.io-created-for-pvc-name/-namespace, kubernetes.io-created-for-pv-name,
// k8s-azure-created-by "kubernetes-azure-dd"), properties {creationData {createOption Empty},
// diskSizeGB, networkAccessPolicy, encryption {diskEncryptionSetId, type} when there is a DES}.
nlohmann::json DiskBody(const DiskParameters& params, const DiskRequest& request);

// The disk's ARM id for a provisioned PV.
std::string DiskId(const DiskParameters& params, const containerservice::ClusterRecord& cluster,
                   std::string_view disk_name);

// One ARM call as a cluster's identity.
struct ArmReply {
  int status = 0;
  nlohmann::json body;  // parsed JSON body, or null
};
class ArmClient {
 public:
  virtual ~ArmClient() = default;
  // path_and_query: "/subscriptions/...?api-version=..."; body null for none.
  virtual Result<ArmReply> Call(const containerservice::ClusterRecord& cluster,
                                std::string_view method, std::string_view path_and_query,
                                const nlohmann::json& body) = 0;
};

// The real ArmClient: http::HttpsRequest to byokd's own ARM endpoint with a Bearer token (audience
// ARM) the identity service mints for the cluster's system-assigned identity
// (Directory::FindManagedIdentity(cluster id)), cached until 5 minutes before expiry; a 401 is
// retried once with a new token. Tokens are never logged.
struct HttpsArmClientOptions {
  identity::IdentityService* identity = nullptr;
  std::function<std::string()> base_url;  // "https://127.0.0.1:8443" (resolved per call)
  std::string ca_file;                    // byokd's CA certificate (PEM file)
  std::chrono::milliseconds timeout{60000};
};
std::unique_ptr<ArmClient> NewHttpsArmClient(HttpsArmClientOptions options);
// The key of that client's token cache for a cluster: its unique id (internal.uniqueId), so a
// cluster deleted and created again under the same ARM id never reuses the old identity's token.
std::string ArmTokenCacheKey(const containerservice::ClusterRecord& cluster);

struct ProvisionerDeps {
  ObjectStore* objects = nullptr;
  store::Store* store = nullptr;  // cluster records
  const Clock* clock = nullptr;   // event timestamps (byokd's emulated clock)
  Random* random = nullptr;       // the provisioner's identity in event sources
  ArmClient* arm = nullptr;
  std::chrono::milliseconds resync{3000};  // real time between retries of pending work (Start)
  std::chrono::milliseconds settle_wait{30000};     // ReconcileAll's bound on waiting (Start)
  std::chrono::milliseconds backoff_initial{3000};  // first retry delay of a failed claim
  std::chrono::milliseconds backoff_max{300000};    // the longest delay
};

// The retry delays of claims whose provisioning failed: `initial` after the first failure,
// doubled after each further one, at most `max`. An attempt is due once the delay has passed on
// the given clock, or at once when the claim's fingerprint (its resourceVersion and its class's
// name and resourceVersion) differs from the failed attempt's. Thread-safe.
class ClaimBackoff {
 public:
  ClaimBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max) {}
  bool Due(const std::string& claim_uid, const std::string& fingerprint, TimePoint now) const;
  void Failed(const std::string& claim_uid, const std::string& fingerprint, TimePoint now);
  void Succeeded(const std::string& claim_uid);
  void Reset();  // every claim due at once
  // The claim's current delay (0 when it has not failed); for tests.
  std::chrono::milliseconds Delay(const std::string& claim_uid) const;

 private:
  struct Entry {
    int failures = 0;
    std::string fingerprint;
    TimePoint next;
    std::chrono::milliseconds delay{0};
  };
  const std::chrono::milliseconds initial_;
  const std::chrono::milliseconds max_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

class Provisioner {
 public:
  explicit Provisioner(ProvisionerDeps deps);
  ~Provisioner();  // Stop()
  Provisioner(const Provisioner&) = delete;
  Provisioner& operator=(const Provisioner&) = delete;

  // Subscribes to the object feed and starts the worker thread. Idempotent.
  void Start();
  void Stop();

  // One pass over a cluster's claims and volumes (see the file comment). Errors are those of the
  // store; provisioning failures are events, not errors.
  Status Reconcile(std::string_view cluster_uid);
  // Reconcile for every cluster (the scheduler task; see the file comment).
  Status ReconcileAll(TimePoint now);
  // Failed claims are retried at the next pass (byokd calls it on `byok clock advance`).
  void ResetBackoff() { backoff_.Reset(); }

  // The "source.component" of the driver's events: "disk.csi.azure.com_{host}_{uuid}".
  const std::string& component() const { return component_; }

 private:
  void Enqueue(std::string_view cluster_uid);
  void Loop();

  ProvisionerDeps deps_;
  std::string component_;
  std::mutex reconcile_mu_;  // one reconcile at a time
  std::mutex mu_;            // guards the fields below
  std::condition_variable cv_;
  std::set<std::string> queued_;   // clusters to reconcile now
  std::set<std::string> pending_;  // clusters left with work to retry
  uint64_t requested_ = 0;         // ReconcileAll tickets handed out
  uint64_t completed_ = 0;         // tickets whose passes have finished
  std::condition_variable done_cv_;
  std::atomic<bool> stopping_{false};  // no new ARM call once set (Stop)
  ClaimBackoff backoff_;
  std::map<std::string, std::string> creating_;  // claim uid → disk id accepted, not yet done
                                                 // (guarded by reconcile_mu_)
  bool stop_ = false;
  bool started_ = false;
  uint64_t subscription_ = 0;
  std::thread worker_;
};

}  // namespace byok::kube
