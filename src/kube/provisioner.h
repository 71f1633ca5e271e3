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
//     On 200/201: PV "pvc-{uid}" (csi driver disk.csi.azure.com, volumeHandle = the disk id,
//     claimRef, capacity in Gi, reclaim policy and mount options from the class, status Bound),
//     the PVC bound (spec.volumeName, bind annotations, status Bound with capacity and access
//     modes), Normal ProvisioningSucceeded. Otherwise Warning ProvisioningFailed with the driver's
//     message carrying ARM's error body (e.g. 403 LinkedAuthorizationFailed); the PVC stays
//     Pending and is retried on the next Reconcile.
// For each PV whose claim is gone (absent, or another uid): status Released; reclaim policy Delete
// on a PV this provisioner made → DELETE the disk through ARM (404 counts as gone), then the PV;
// a failure is a Warning VolumeFailedDelete event (namespace "default") and a retry later.
// Events are core v1 Events in the claim's namespace, de-duplicated as Kubernetes' correlator
// does: the same (object, type, reason, message, source) bumps count and lastTimestamp.
//
// A stopped cluster (powerState Stopped) is skipped: it runs no controllers.
//
// Triggers (Start): a subscription to the ObjectStore feed (PVC, PV and StorageClass changes of a
// cluster queue it for a background worker; Event writes do not, so retries cannot spin), a
// resync of clusters left with pending work every `resync` of real time, and ReconcileAll, the
// scheduler task (byokd runs it every tick and on `byok clock advance`). Without Start nothing
// runs on its own: tests call Reconcile.
//
// Thread safety: thread-safe; reconciles are serialized. REQUIRES: deps outlive the Provisioner.
#pragma once

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

struct ProvisionerDeps {
  ObjectStore* objects = nullptr;
  store::Store* store = nullptr;  // cluster records
  const Clock* clock = nullptr;   // event timestamps (byokd's emulated clock)
  Random* random = nullptr;       // the provisioner's identity in event sources
  ArmClient* arm = nullptr;
  std::chrono::milliseconds resync{3000};  // real time between retries of pending work (Start)
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
  // Reconcile for every cluster (the scheduler task).
  Status ReconcileAll(TimePoint now);

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
  bool stop_ = false;
  bool started_ = false;
  uint64_t subscription_ = 0;
  std::thread worker_;
};

}  // namespace byok::kube
