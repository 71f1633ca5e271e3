// Microsoft.Compute/disks on the ARM front end (api-versions: ComputeApiVersions()), each disk
// backed by one blockstore file (<data-dir>/disks/<uniqueId>.disk):
//
//   PUT|PATCH|GET|DELETE {rg}/providers/Microsoft.Compute/disks/{name}
//   GET {rg or sub}/providers/Microsoft.Compute/disks                        list
//
// Create (PUT of a new name): creationData.createOption "Empty" only; diskSizeGB 1..32767
// (required); sku Standard_LRS (default), Premium_LRS, StandardSSD_LRS, UltraSSD_LRS,
// Premium_ZRS, StandardSSD_ZRS, PremiumV2_LRS; encryption {type, diskEncryptionSetId}:
// EncryptionAtRestWithPlatformKey (default; no DES) → one platform layer,
// EncryptionAtRestWithCustomerKey → one customer layer (a DES of that type),
// EncryptionAtRestWithPlatformAndCustomerKeys → customer then platform layer (a DES of that
// type); a DES id without a type means EncryptionAtRestWithCustomerKey. With a DES, in Azure's
// order: the caller needs Microsoft.Compute/diskEncryptionSets/read on it (403
// LinkedAuthorizationFailed), it must exist (404) and be in the disk's region and of the matching
// type (400 InvalidParameter), and its identity must be able to get, wrapKey and unwrapKey the
// active key (VaultKeyWrapper::CheckAccess; 400 KeyVaultAccessForbidden, KeyVaultKeyNotEnabled,
// ...). Then the file is created (its DEK wrapped through Key Vault as the DES identity) and the
// resource written: uniqueId = the blockstore id (a new GUID), diskSizeBytes, timeCreated,
// diskState Unattached, provisioningState Succeeded, sku.tier, tier (Premium SSD only) and
// diskIOPSReadWrite/diskMBpsReadWrite from the size's performance tier (settable for
// UltraSSD_LRS/PremiumV2_LRS only; ignored for other skus, which is how the CLI's
// read-modify-write updates echo them).
//
// Update (PUT of an existing name, as `az disk update` does, or PATCH): diskSizeGB may only grow
// (blockstore Resize), and only while Unattached; the DES may change for another of the same
// encryption type while Unattached (the customer layer is re-wrapped under the new DES's key,
// after the same checks as at creation); changing the encryption type is refused (409
// OperationNotAllowed; byok would have to re-encrypt the data); location and createOption never
// change; sku and tags may.
// Create goes through one code path whether it comes from an ARM PUT or from DiskService::Create
// (below). DELETE removes the resource and then its file; refused (409 OperationNotAllowed) while
// the disk is Attached or Reserved (DiskService::Delete is not refused). A resource-group cascade
// delete removes the files of its disks (and fails, rolling back, if one is attached).
// diskState/managedBy are set by attachments (disk_store.h SetDiskState). All replies are
// synchronous 200s (never 201: Azure CLI 2.45 refuses it).
//
// Thread safety: thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/api_error.h"
#include "compute/compute.h"
#include "gateway/frontend.h"

namespace byok::compute {

// Disk operations for other modules (AKS node OS disks; later the Kubernetes provisioner goes
// through ARM itself), with the validation, storage and errors of the ARM handlers above.
class DiskService {
 public:
  virtual ~DiskService() = default;
  // Creates disk `id` (an ARM disk id; its resource group must exist) from an ARM request body,
  // as a PUT of a new name would, except that no caller's linked-scope permission on the DES is
  // checked (the platform acts; the DES identity's access to the key still is). A non-empty
  // `managed_by` creates it Attached to that resource id. Returns the stored document.
  // 409 Conflict (errors.h) if the name exists.
  virtual ApiResult<nlohmann::json> Create(std::string_view id, const nlohmann::json& body,
                                           std::string_view managed_by) = 0;
  // Deletes disk `id` and its file, attached or not (an NBD attachment of it ends: its record
  // goes, its Volume is locked). Returns false if there was none.
  virtual ApiResult<bool> Delete(std::string_view id) = 0;
};

// The ARM error disk creation answers when a disk encryption set's key cannot be used through its
// identity (a VaultKeyWrapper or BlockStore error, vault_key_wrapper.h): KeyVaultAccessForbidden,
// KeyVaultKeyNotEnabled, the expired-key error, KeyVaultKeyNotFound, KeyVaultUnavailable. For
// modules that create disk files themselves (AKS ephemeral OS disks).
ApiError DesKeyAccessError(const Status& s, const std::string& key_url,
                           const std::string& des_name);

// Registers Microsoft.Compute/disks and returns the disk service behind it.
// REQUIRES: deps outlive the front end and the returned service.
std::shared_ptr<DiskService> RegisterDisksProvider(gateway::Frontend& frontend, ComputeDeps deps);

// The baseline performance of a disk: tier ("P10"; "" when the sku has none), IOPS and MBps.
struct DiskPerformance {
  std::string tier;
  int64_t iops = 0;
  int64_t mbps = 0;
};
DiskPerformance PerformanceOf(std::string_view sku, int64_t size_gb);

}  // namespace byok::compute
