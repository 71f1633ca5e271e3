// Vault records shared by the Key Vault management plane (vaults.h) and data plane (keys).
//
// Storage model (all in the metadata store; see docs/ARCHITECTURE.md):
//   - A live vault is the ARM resource
//       /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}
//     (type Microsoft.KeyVault/vaults). Its body is the ARM document returned to clients plus a
//     private member "internal" ({"guid": ...}) that responses never show.
//   - Vault names are global (they are DNS labels): the index resource
//       /byok/keyvault/names/{lower-case name}        (type byok.keyvault.name)
//     holds {"guid", "vault_id", "deleted": bool, "deleted_id"} for a live or soft-deleted vault;
//     it is removed only by a purge.
//   - A soft-deleted vault is the resource
//       /subscriptions/{s}/providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{name}
//     (type Microsoft.KeyVault/deletedVaults) whose body is the ARM deletedVault document plus
//     "internal": {"guid", "vault": <the full vault resource body at deletion>}.
//   - Everything of the data plane lives under /byok/keyvault/vaults/{guid}/... (keys, versions,
//     rotation policies) and sealed secrets named "keyvault/{guid}/..." (key material). These do
//     not sit under the vault's ARM id, so a resource-group cascade delete (which soft-deletes
//     the vault, as Azure does) leaves them in place for a recover; only PurgeVaultData removes
//     them.
//
// Thread safety: free functions over a caller-owned Transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace byok::keyvault {

// What the data plane needs to know about a vault.
struct VaultRecord {
  std::string guid;       // internal id, stable across soft delete and recover
  std::string id;         // ARM id as created (case preserved)
  std::string name;       // as created
  std::string location;   // e.g. "eastus"
  std::string tenant_id;  // properties.tenantId
  std::string sku;        // "standard" | "premium"
  bool enable_rbac_authorization = false;
  bool enable_purge_protection = false;
  int soft_delete_retention_days = 90;
  nlohmann::json access_policies = nlohmann::json::array();  // properties.accessPolicies
  bool deleted = false;  // soft-deleted: the data plane answers as Azure does for a missing host
};

// The vault named `name` (any case), live or soft-deleted, or nullopt.
Result<std::optional<VaultRecord>> FindVaultByName(store::Transaction& txn, std::string_view name);

// The vault with this ARM id (any case), live only, or nullopt.
Result<std::optional<VaultRecord>> FindVaultById(store::Transaction& txn, std::string_view id);

// The store prefix of a vault's data-plane objects: "/byok/keyvault/vaults/{guid}".
std::string VaultDataPrefix(std::string_view guid);
// The sealed-secret name prefix of a vault's key material: "keyvault/{guid}/".
std::string VaultSecretPrefix(std::string_view guid);

// Removes every data-plane object and sealed secret of the vault (used by vault purge).
Status PurgeVaultData(store::Transaction& txn, std::string_view guid);

// ---- Used by the management plane (vaults.h); the data plane needs only the functions above. ----

inline constexpr char kVaultType[] = "Microsoft.KeyVault/vaults";
inline constexpr char kDeletedVaultType[] = "Microsoft.KeyVault/deletedVaults";
inline constexpr char kNameIndexType[] = "byok.keyvault.name";

// "/byok/keyvault/names/{lower-case name}".
std::string NameIndexId(std::string_view name);
// "/subscriptions/{s}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}".
std::string DeletedVaultId(std::string_view subscription_id, std::string_view location,
                           std::string_view name);

// The record of a stored live vault body (the ARM document plus "internal").
Result<VaultRecord> RecordFromVaultBody(const nlohmann::json& body);

// Soft-deletes the live vault resource `vault` at `now`, as Azure does on DELETE and on a
// resource-group cascade delete: writes the deletedVaults resource (deletionDate = now,
// scheduledPurgeDate = now + softDeleteRetentionInDays, purgeProtectionEnabled), marks the name
// index deleted and removes the vault resource. Data-plane objects stay for a recover.
// Returns the deletedVaults resource.
Result<store::Resource> SoftDeleteVault(store::Transaction& txn, const store::Resource& vault,
                                        TimePoint now);

// When a soft-deleted vault's retention ends (its scheduledPurgeDate).
Result<TimePoint> ScheduledPurgeTime(const store::Resource& deleted);

// Purges the soft-deleted vault `deleted` (a deletedVaults resource) for good: its data-plane
// objects and key material (PurgeVaultData), the deletedVaults resource and the name index, so
// the name can be used again. Does not check purge protection (callers do).
Status PurgeDeletedVault(store::Transaction& txn, const store::Resource& deleted);

}  // namespace byok::keyvault
