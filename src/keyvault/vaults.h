// The Key Vault management plane (resource provider Microsoft.KeyVault) on the ARM front end:
//
//   PUT|PATCH|GET|DELETE {rg}/providers/Microsoft.KeyVault/vaults/{name}   create (createMode
//                        "default" or "recover"), update, read, soft delete
//   GET {rg or sub}/providers/Microsoft.KeyVault/vaults                     list
//   PUT .../vaults/{name}/accessPolicies/{add|replace|remove}               access policies
//   GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults       list soft-deleted
//   GET .../providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{n}  one soft-deleted
//   POST .../locations/{loc}/deletedVaults/{n}/purge                        purge (long-running)
//   POST /subscriptions/{s}/providers/Microsoft.KeyVault/checkNameAvailability
//   GET {rg or sub}/providers/Microsoft.KeyVault/managedHSMs, .../deletedManagedHSMs: always
//                        empty lists (the Azure CLI lists them beside vaults; byok has no HSMs)
//
// Rules enforced as Azure does (errors in vault_errors.h): vault names are global DNS labels
// (3-24 characters, letters, digits and hyphens, starting with a letter, ending with a letter or
// digit, no consecutive hyphens) and stay taken by a soft-deleted vault until it is purged; the
// location must be a known region and never changes; soft delete is always on; the retention
// (softDeleteRetentionInDays, 7-90, default 90) is fixed at creation; purge protection cannot be
// turned off, and a vault under purge protection cannot be purged before its scheduledPurgeDate.
// A resource-group cascade delete soft-deletes the vaults in it (recoverable), as Azure does.
// Times (deletionDate, scheduledPurgeDate, systemData) come from the injected clock.
//
// Storage: see vault_store.h. Thread-safe after registration (state lives in the store).
//
// Housekeeping: PurgeExpiredVaults purges the deleted vaults whose retention ended. byokd
// registers it on its Scheduler (common/scheduler.h), so `byok clock advance 91d` purges them.
#pragma once

#include <functional>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "gateway/frontend.h"
#include "gateway/operations.h"
#include "store/store.h"

namespace byok::keyvault {

// The api-versions of Microsoft.KeyVault/vaults byok accepts, newest first.
const std::vector<std::string>& VaultApiVersions();

struct VaultsDeps {
  store::Store* store = nullptr;
  const Clock* clock = nullptr;
  Random* random = nullptr;                   // vault guids
  gateway::Operations* operations = nullptr;  // purge is long-running
  // The DNS suffix of vault hosts, ".vault.localhost:8443": vaultUri is
  // "https://{lower-case name}{suffix}/". Called per request (the port is known only once the
  // server listens).
  std::function<std::string()> vault_dns_suffix;
};

// Registers every type above on `frontend`. REQUIRES: deps outlive the front end.
void RegisterVaultsProvider(gateway::Frontend& frontend, VaultsDeps deps);

// Purges every soft-deleted vault whose scheduledPurgeDate is at or before `now` (retention
// ended: purge protection does not apply). Idempotent; a Scheduler task.
Status PurgeExpiredVaults(store::Store& store, TimePoint now);

}  // namespace byok::keyvault
