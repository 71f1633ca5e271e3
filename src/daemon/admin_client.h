// The back end of `byok clock show|advance`, `byok audit`, `byok token`, `byok disk` and
// `byok node`
// (admin_routes.h is the server side).
//
// With a byokd running on the data directory (control.h: ProbeServer), these log in as the
// bootstrap service principal — its credentials file in the data directory
// (identity::CredentialsFilePath) — with a client-credentials request to the server's ADFS token
// endpoint over HTTPS (trusting the data directory's CA), then call /_byok/admin/... with the ARM
// token. The caller of the CLI therefore needs read access to the data directory, like an admin
// kubeconfig.
//
// Without a server: `clock show` and `audit` read the store directly (SQLite WAL allows it while
// a byokd starts); `clock advance` takes the data-directory lock first (DataDirLock), so a byokd
// cannot start — and load the old offset — while the offset changes, then updates the stored
// offset (emulated_clock.h); the next byokd starts at the new time. Housekeeping due at the new
// time (purges, rotations) runs when that byokd starts its scheduler. `token` needs a server
// (Unavailable otherwise).
//
// Errors: Unavailable (no server where one is needed, or it does not answer), FailedPrecondition
// (no data directory, a byokd is starting), InvalidArgument (a bad duration or timestamp; a
// negative advance), and the server's errors as Internal/PermissionDenied/... with its message.
//
// Thread safety: functions are independent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "daemon/data_dir.h"

namespace byok::daemon {

struct AdminClientOptions {
  std::string root_key_file;  // for direct store access: "" = $BYOK_ROOT_KEY or <dir>/root.key
};

// {"now","offsetSeconds","offset","server": true|false}
Result<nlohmann::json> ClockShow(const DataDir& dir, const AdminClientOptions& options = {});
// duration: common/duration.h syntax, not negative. Returns the new clock document.
Result<nlohmann::json> ClockAdvance(const DataDir& dir, const std::string& duration,
                                    const AdminClientOptions& options = {});

struct AuditFilter {
  std::optional<std::string> vault;
  std::optional<std::string> since;  // a timestamp, or a duration before now ("1h")
};
// Audit records (audit::ToJson documents), oldest first.
Result<std::vector<nlohmann::json>> AuditRecords(const DataDir& dir, const AuditFilter& filter,
                                                 const AdminClientOptions& options = {});
// A fixed-width table with a header line.
std::string FormatAuditTable(const std::vector<nlohmann::json>& records);

struct TokenRequest {
  std::optional<std::string> app_id;      // default: the bootstrap principal
  std::optional<std::string> resource;    // default: ARM
  std::optional<std::string> expires_in;  // duration, may be negative; default 1h
};
// The JWT (a secret: print it only where asked).
Result<std::string> MintToken(const DataDir& dir, const TokenRequest& request);

// `byok disk attach|detach|inspect` (need a server): the admin routes' documents
// (admin_routes.h). Attach: {"diskId","export","uri","socketUri"}; inspect: the inspect document.
Result<nlohmann::json> DiskAttach(const DataDir& dir, const std::string& disk_id);
Status DiskDetach(const DataDir& dir, const std::string& disk_id);
Result<nlohmann::json> DiskInspect(const DataDir& dir, const std::string& disk_id,
                                   const std::optional<std::string>& pattern);
// `byok volume attach|detach` (need a server): the admin routes' documents (admin_routes.h).
struct VolumeRequest {
  std::string cluster;         // a name or an ARM id
  std::string resource_group;  // "" = any (a name must then be unique)
  std::string ns = "default";
  std::string claim;
  std::string node;  // attach only; "" = the first Ready node
};
// {"clusterId","namespace","claim","persistentVolume","diskId","node","volumeAttachment",
//  "export","uri","socketUri","managedBy"}
Result<nlohmann::json> VolumeAttach(const DataDir& dir, const VolumeRequest& request);
// {"clusterId","namespace","claim","persistentVolume","diskId","detached","volumeAttachments"}
Result<nlohmann::json> VolumeDetach(const DataDir& dir, const VolumeRequest& request);
// `byok node list [--cluster ID]` (needs a server): the AKS nodes, as the admin route's documents
// (admin_routes.h: NodeInfo JSON plus "keyVersion"), of every cluster or of one (ARM id).
Result<std::vector<nlohmann::json>> NodeList(const DataDir& dir,
                                             const std::optional<std::string>& cluster_id);
// A fixed-width table: NAME POOL STATE OSDISK KEY-VERSION REASON (the cluster's name too when
// the nodes are of several clusters). KEY-VERSION is "platform" for platform-key OS disks.
std::string FormatNodeTable(const std::vector<nlohmann::json>& nodes);

// The inspect document as a human-readable report: the disk, key status, layers (key ids and
// versions, wrap algorithm, wrapped DEKs), file and sector layout, and the at-rest proof.
std::string FormatDiskInspect(const nlohmann::json& doc);

}  // namespace byok::daemon
