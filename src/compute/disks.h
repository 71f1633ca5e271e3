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
// DELETE removes the resource and then its file; refused (409 OperationNotAllowed) while the disk
// is Attached or Reserved. A resource-group cascade delete removes the files of its disks (and
// fails, rolling back, if one is attached). diskState/managedBy are set by attachments
// (disk_store.h SetDiskState).
// All replies are synchronous 200s (never 201: Azure CLI 2.45 refuses it).
//
// Thread safety: thread-safe.
#pragma once

#include "compute/compute.h"
#include "gateway/frontend.h"

namespace byok::compute {

// Registers Microsoft.Compute/disks. REQUIRES: deps outlive the front end.
void RegisterDisksProvider(gateway::Frontend& frontend, ComputeDeps deps);

// The baseline performance of a disk: tier ("P10"; "" when the sku has none), IOPS and MBps.
struct DiskPerformance {
  std::string tier;
  int64_t iops = 0;
  int64_t mbps = 0;
};
DiskPerformance PerformanceOf(std::string_view sku, int64_t size_gb);

}  // namespace byok::compute
