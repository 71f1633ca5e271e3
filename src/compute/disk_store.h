// Disk and disk-encryption-set records: what other modules (the daemon's NBD attachments,
// `byok disk ...`) need to know about Microsoft.Compute resources, read from and written to the
// metadata store.
//
// Storage (docs/ARCHITECTURE.md): both are plain ARM resources, their body the document clients
// see (no private members):
//   /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}
//       properties.uniqueId = the blockstore disk id (a GUID; file <data-dir>/disks/<id>.disk),
//       properties.diskSizeBytes, properties.encryption {type, diskEncryptionSetId},
//       properties.diskState, managedBy
//   /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/diskEncryptionSets/{name}
//       identity.principalId (its system-assigned managed identity), properties.activeKey
//       {sourceVault.id, keyUrl}, properties.encryptionType, properties.previousKeys
// The customer layer of a disk's file is wrapped by its DES's active key (or, while a rotation
// is in progress, a previous key: the file header says which).
//
// Thread safety: free functions over a caller-owned Transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "blockstore/key_wrapper.h"
#include "common/status.h"
#include "store/store.h"

namespace byok::compute {

inline constexpr char kDiskType[] = "Microsoft.Compute/disks";
inline constexpr char kDesType[] = "Microsoft.Compute/diskEncryptionSets";

enum class EncryptionType { kPlatformKey, kCustomerKey, kPlatformAndCustomerKeys };
// "EncryptionAtRestWithPlatformKey", "EncryptionAtRestWithCustomerKey",
// "EncryptionAtRestWithPlatformAndCustomerKeys".
std::string_view EncryptionTypeName(EncryptionType type);
// Case-insensitive; nullopt for anything else.
std::optional<EncryptionType> ParseEncryptionType(std::string_view name);

enum class DiskState { kUnattached, kAttached, kReserved };
std::string_view DiskStateName(DiskState state);  // "Unattached", "Attached", "Reserved"
std::optional<DiskState> ParseDiskState(std::string_view name);

struct DiskRecord {
  std::string id;  // ARM id, case as created
  std::string name;
  std::string location;
  std::string unique_id;  // the blockstore disk id
  uint64_t size_bytes = 0;
  EncryptionType encryption = EncryptionType::kPlatformKey;
  std::string des_id;  // "" for platform-key disks
  DiskState state = DiskState::kUnattached;
  std::string managed_by;  // "" unless attached/reserved
};

struct DesRecord {
  std::string id;  // ARM id, case as created
  std::string name;
  std::string location;
  std::string principal_id;  // the system-assigned identity's object id
  std::string tenant_id;
  std::string source_vault_id;
  std::string active_key_url;  // versioned
  EncryptionType encryption_type = EncryptionType::kCustomerKey;
  std::vector<std::string> previous_key_urls;  // non-empty while a rotation is in progress
  bool rotation_to_latest = false;
  bool has_auto_rotation_error = false;
};

Result<DiskRecord> DiskRecordFromBody(const nlohmann::json& body);
Result<DesRecord> DesRecordFromBody(const nlohmann::json& body);

// The disk / DES with this ARM id (any case), or nullopt.
Result<std::optional<DiskRecord>> FindDisk(store::Transaction& txn, std::string_view id);
Result<std::optional<DesRecord>> FindDes(store::Transaction& txn, std::string_view id);
// Every disk (of any subscription) encrypted with the DES `des_id` (any case), sorted by id.
Result<std::vector<DiskRecord>> ListDisksOfDes(store::Transaction& txn, std::string_view des_id);

// Sets diskState and managedBy of a disk (NotFound if there is none). kUnattached clears
// managedBy; kAttached and kReserved need a non-empty managed_by (InvalidArgument).
Status SetDiskState(store::Transaction& txn, std::string_view id, DiskState state,
                    std::string_view managed_by);

// The blockstore layers of a disk of `type` encrypted with `des` (its active key; null for
// platform-key disks), in application order: platform → {platform}; customer → {customer};
// double → {customer, platform}.
std::vector<blockstore::KeyRef> DiskLayers(EncryptionType type, const DesRecord* des);

// The platform layer's key id.
inline constexpr char kPlatformKeyId[] = "platform:v1";

}  // namespace byok::compute
