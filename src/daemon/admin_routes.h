// byokd's admin API: the emulated clock, the audit log, test tokens and disk attachments, for
// `byok clock`, `byok audit`, `byok token` and `byok disk` (daemon/admin_client.h) and for tests.
//
// Routes (host "*", on byokd's TLS port; JSON in and out):
//   GET  /_byok/admin/clock          {"now": Azure time, "offsetSeconds": N, "offset": "91d"}
//   POST /_byok/admin/clock/advance  body {"duration": "91d" | "P91D" | ...} (common/duration.h;
//                                    negative → 400 ClockCannotMoveBackwards). Adds the duration
//                                    to the persisted offset (daemon/emulated_clock.h), moves the
//                                    clock (after AdminDeps::before_clock_advance observed the
//                                    time before), then runs Scheduler::RunNow() before answering
//                                    with the clock document (plus "housekeepingError" if a task
//                                    failed), so every purge or rotation due is done on return.
//   GET  /_byok/admin/audit?vault=V&since=T
//                                    flushes the audit log, answers {"value": [record...]}
//                                    (audit::ToJson, oldest first). since: a timestamp or a
//                                    duration meaning "that long before the server's now".
//   POST /_byok/admin/token          body {"appId"?: default the bootstrap principal,
//                                    "resource"?: default ARM, "expiresIn"?: duration, default
//                                    1h, at most 24h, may be negative (an already expired token)}
//                                    → {"token_type","access_token","expires_in","expires_on",
//                                    "resource"}: a token as the token endpoint would issue, for
//                                    testing clients' handling of expired tokens.
//   POST /_byok/admin/disks/attach   body {"diskId"} → {"diskId","export","uri","socketUri"}:
//                                    attaches the managed disk (compute/attachments.h); uri is
//                                    nbd://HOST:PORT/EXPORT, socketUri nbd+unix:///EXPORT?socket=
//                                    PATH ("" when that listener is off).
//   POST /_byok/admin/disks/detach   body {"diskId"} → {"diskId","detached":true}.
//   GET  /_byok/admin/disks/inspect?diskId=ID&pattern=TEXT
//                                    BlockStore::Inspect's document (blockstore.h) plus "disk"
//                                    (the ARM record: id, name, location, sizeBytes, encryption,
//                                    diskEncryptionSetId, diskState, managedBy) and "keyStatus"
//                                    (AttachmentManager::KeyStatus: can the customer layer be
//                                    unwrapped now; a purged key says "purged: data
//                                    unrecoverable").
//   GET  /_byok/admin/nodes?cluster=ID
//                                    the AKS nodes (containerservice/nodes.h) of every cluster,
//                                    or of the managed cluster ID (404 ResourceNotFound if there
//                                    is none): {"value": [node...]}, each node the NodeInfo
//                                    document (containerservice::ToJson) plus "keyVersion" (the
//                                    version of its OS disk's customer key, "" without one),
//                                    sorted by cluster, then name.
//   POST /_byok/admin/volumes/attach body {"cluster": name or ARM id, "resourceGroup"?,
//                                    "namespace", "claim", "node"?} → {"clusterId","namespace",
//                                    "claim","persistentVolume","diskId","node",
//                                    "volumeAttachment","export","uri","socketUri","managedBy"}:
//                                    kube::VolumeManager::Attach (kube/volumes.h; a
//                                    WaitForFirstConsumer claim is provisioned and bound first).
//   POST /_byok/admin/volumes/detach body {"cluster","resourceGroup"?,"namespace","claim"} →
//                                    {"clusterId","namespace","claim","persistentVolume",
//                                    "diskId","detached":true,"volumeAttachments":[names]}.
// Authentication and authorization: an ARM-audience bearer token (401 as ARM answers it, with
// WWW-Authenticate) whose principal may perform Microsoft.Authorization/roleAssignments/write on
// the bootstrap subscription (Owner, User Access Administrator); else 403 AuthorizationFailed.
// The disk routes instead need, on the disk, Microsoft.Compute/disks/beginGetAccess/action
// (attach, detach: the right to read the disk's data) or Microsoft.Compute/disks/read (inspect);
// GET /_byok/admin/nodes?cluster=ID needs Microsoft.ContainerService/managedClusters/read on the
// cluster; the volume routes need Microsoft.ContainerService/managedClusters/
// listClusterAdminCredential/action on the cluster (what its admin kubeconfig needs) — errors
// kube/volume_errors.h, compute's for the disk. Other errors: daemon/errors.h; the disk routes'
// from compute/errors.h (ResourceNotFound, OperationNotAllowed, KeyVaultAccessForbidden,
// KeyVaultKeyNotFound).
//
// Thread safety: handlers are thread-safe; clock advances are serialized.
// REQUIRES: every pointer in AdminDeps outlives the router's server.
#pragma once

#include <functional>
#include <string>

#include "audit/audit.h"
#include "authz/authorizer.h"
#include "blockstore/blockstore.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "compute/attachments.h"
#include "containerservice/nodes.h"
#include "http/router.h"
#include "identity/identity_service.h"
#include "kube/volumes.h"
#include "store/store.h"

namespace byok::daemon {

inline constexpr char kAdminAction[] = "Microsoft.Authorization/roleAssignments/write";
inline constexpr char kDiskAccessAction[] = "Microsoft.Compute/disks/beginGetAccess/action";
inline constexpr char kDiskReadAction[] = "Microsoft.Compute/disks/read";
inline constexpr char kClusterReadAction[] = "Microsoft.ContainerService/managedClusters/read";
inline constexpr char kClusterAdminAction[] =
    "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action";

struct AdminDeps {
  store::Store* store = nullptr;
  OffsetClock* clock = nullptr;  // the emulated clock
  Scheduler* scheduler = nullptr;
  audit::AuditLog* audit = nullptr;
  identity::IdentityService* identity = nullptr;
  authz::Authorizer* authorizer = nullptr;
  std::string subscription_id;      // the bootstrap subscription: the admin scope
  std::string bootstrap_object_id;  // default principal of POST /_byok/admin/token
  // The disk routes (registered only when both are set).
  compute::AttachmentManager* attachments = nullptr;
  blockstore::BlockStore* blocks = nullptr;
  // The AKS nodes route (registered only when set).
  containerservice::NodeManager* nodes = nullptr;
  // The volume routes (registered only when set).
  kube::VolumeManager* volumes = nullptr;
  // Optional: runs at the current time just before a clock advance moves the clock — what a
  // polling monitor (the disks' revocation monitor) would have observed while time passed.
  std::function<Status(TimePoint)> before_clock_advance;
};

void AddAdminRoutes(http::Router& router, AdminDeps deps);

}  // namespace byok::daemon
