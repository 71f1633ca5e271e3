// AttachmentManager: the disk data path's control side — which managed disks are attached, under
// which NBD export name, and whether their customer key still works.
//
// Attach(disk id, options): the disk must exist and be Unattached (409 OperationNotAllowed
// otherwise, naming the VM or endpoint it is attached to). The
// disk is unlocked first, which proves its keys are usable now: for a customer-key or
// double-encryption disk the customer layer's DEK is unwrapped through Key Vault as the disk
// encryption set's identity, so a disabled, expired, deleted or purged key, or a removed access
// policy, fails the attach at once with an error quoting Key Vault's answer. Then a new export
// name is drawn — 32 random bytes in base64url (43 characters, 256 bits: unguessable, and the only
// credential an NBD client presents) — the record
//   /byok/compute/attachments/{export}   type byok.compute/attachments
//   {"export", "diskId", "uniqueId", "created", "keyUnavailableSince"?, "keyError"?, "purged"?}
// is stored and the disk becomes diskState Attached, managedBy the NBD endpoint
// ("byok-nbd://HOST:PORT", or "byok-nbd+unix://PATH" without TCP) in one transaction — or, when
// AttachOptions::managed_by is set (`byok volume attach`: an AKS node), that id, as Azure reports
// a disk attached to a scale-set VM (".../virtualMachineScaleSets/{vmss}/virtualMachines/{n}").
// The NBD export works the same either way; the record then also keeps {"managedBy"}.
// Detach(disk id): removes the record, sets the disk Unattached and locks the open Volume (its
// in-flight I/O finishes, later requests of existing NBD connections fail with EIO); the export
// name is refused from then on, also after a later re-attach (which draws a new name).
// Records live in the store, so attachments survive a byokd restart; Volumes open lazily.
//
// Resolve(export) is the NBD server's ExportResolver. An unknown name (a guess, or detached) is
// NotFound "unknown export" (exact, case-sensitive match: the store's ids are case-insensitive).
// Otherwise every new connection re-checks the key (a real unwrap of the customer layer as the
// DES identity: a revoked key refuses new connections at once, naming the reason), then opens
// (unlocks) the Volume through the BlockStore and returns a device bound to this attachment.
//
// CheckKeys(now), a Scheduler task (every 30 s, and at once on `byok clock advance`): for every
// attachment of a disk with a customer layer it unwraps that layer as the DES identity.
//   failure  → keyUnavailableSince = now (persisted) unless set; once now - since ≥ the grace
//              period (1 hour of byokd's emulated clock) the Volume is locked with a reason
//              naming the key and Key Vault's error: NBD I/O then fails with EIO.
//   NotFound → the key (or its vault) was purged: locked at once, for good; the reason says the
//              data is unrecoverable (crypto-shredding).
//   success  → keyUnavailableSince is cleared and a Volume locked by revocation is unlocked: I/O
//              resumes.
// Rotation needs nothing here: the probe reads the disk header, which names the current wrapping
// key version.
//
// KeyStatus(disk) is what `byok disk inspect` reports about the keys (the same probe).
//
// Thread safety: thread-safe. Attach/Detach are serialized; Resolve and CheckKeys call Key Vault
// without holding locks other calls wait for. REQUIRES: every dependency outlives the manager,
// and the manager outlives the NBD server using Resolver().
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "blockstore/blockstore.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "compute/disk_store.h"
#include "store/store.h"

namespace byok::compute {

inline constexpr char kAttachmentPrefix[] = "/byok/compute/attachments/";
inline constexpr char kAttachmentType[] = "byok.compute/attachments";
// How long an attached disk keeps serving I/O after its customer key became unusable.
inline constexpr std::chrono::hours kKeyGracePeriod{1};

struct AttachmentDeps {
  store::Store* store = nullptr;
  const Clock* clock = nullptr;  // byokd's emulated clock (record timestamps)
  Random* random = nullptr;      // export names: a CSPRNG
  blockstore::BlockStore* blocks = nullptr;
  // Unwraps customer layers as the DES identity (the VaultKeyWrapper): the key probes.
  blockstore::KeyWrapper* customer_keys = nullptr;
  std::chrono::seconds grace_period = kKeyGracePeriod;
};

// Where byokd's NBD server listens (set once it has started).
struct NbdEndpoint {
  std::string tcp_host;  // "" = no TCP listener
  uint16_t tcp_port = 0;
  std::string unix_path;  // "" = no unix socket
};

struct AttachOptions {
  // The disk's managedBy while attached ("" = the NBD endpoint): e.g. an AKS node's scale-set
  // instance id.
  std::string managed_by;
};

struct Attachment {
  std::string export_name;
  std::string disk_id;     // ARM id, case as created
  std::string unique_id;   // blockstore disk id
  std::string created;     // RFC 3339
  std::string uri;         // nbd://HOST:PORT/EXPORT ("" without TCP)
  std::string socket_uri;  // nbd+unix:///EXPORT?socket=PATH ("" without a unix socket)
  std::string managed_by;  // as set on the disk
};

// What a probe of a disk's customer key found.
struct KeyProbe {
  bool has_customer_layer = false;
  bool usable = true;   // the customer layer unwraps now (true without a customer layer)
  bool purged = false;  // Key Vault says the key (or vault) does not exist
  std::string key_url;  // the customer layer's key (version) as the header names it
  std::string des_id;
  StatusCode code = StatusCode::kOk;  // the unwrap error's class (key_wrapper.h)
  std::string error;                  // its message ("" when usable)
};

// Probes the customer layer of the blockstore disk `unique_id`: reads its header and unwraps that
// layer's DEK through `customer_keys` (as the DES identity; the DEK is wiped at once). NotFound if
// there is no such file. Shared by the attachments' and the AKS nodes' revocation monitors.
Result<KeyProbe> ProbeCustomerKey(const blockstore::BlockStore& blocks,
                                  blockstore::KeyWrapper& customer_keys,
                                  const std::string& unique_id);
// Why a probe failed, naming the key, the disk encryption set and Key Vault's error (or that the
// key was purged and the data is unrecoverable).
std::string KeyProbeReason(const KeyProbe& probe);

class AttachmentManager {
 public:
  explicit AttachmentManager(AttachmentDeps deps);
  ~AttachmentManager();
  AttachmentManager(const AttachmentManager&) = delete;
  AttachmentManager& operator=(const AttachmentManager&) = delete;

  // Set once the NBD server listens, before any Attach (the URIs and managedBy use it).
  void SetEndpoint(NbdEndpoint endpoint);
  NbdEndpoint endpoint() const;

  // See the file comment. `caller` (an object id) is only logged.
  ApiResult<Attachment> Attach(std::string_view disk_id, std::string_view caller,
                               const AttachOptions& options = {});
  ApiResult<bool> Detach(std::string_view disk_id, std::string_view caller);
  // The attachment of a disk (any case), if it is attached.
  Result<std::optional<Attachment>> Find(std::string_view disk_id);

  // The nbd::ExportResolver.
  Result<std::shared_ptr<blockstore::BlockDevice>> Resolve(const std::string& export_name);

  // The revocation monitor (see the file comment). Per-attachment failures are logged; store
  // failures are returned.
  Status CheckKeys(TimePoint now);

  // Probes the customer layer of the blockstore disk `unique_id` (NotFound if no such file).
  Result<KeyProbe> ProbeKey(const std::string& unique_id);
  // For `byok disk inspect`: {"customerLayer", "usable", "status", "keyUrl"?, "error"?,
  // "attached", "keyUnavailableSince"?, "locked"?, "lockReason"?}. status: "usable",
  // "platform key only", "unusable: <error>", or "purged: data unrecoverable (<error>)".
  Result<nlohmann::json> KeyStatus(const DiskRecord& disk);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace byok::compute
