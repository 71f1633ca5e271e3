// Microsoft.Compute/diskEncryptionSets on the ARM front end (api-versions: ComputeApiVersions()):
//
//   PUT|PATCH|GET|DELETE {rg}/providers/Microsoft.Compute/diskEncryptionSets/{name}
//   GET {rg or sub}/providers/Microsoft.Compute/diskEncryptionSets           list
//   GET .../diskEncryptionSets/{name}/associatedResources                   ids of its disks
//
// Create: identity.type must be "SystemAssigned"; the DES gets its own managed identity
// (identity::Directory::CreateManagedIdentity(des id)), shown as identity.principalId/tenantId;
// it is deleted with the DES (DELETE or resource-group cascade). encryptionType
// EncryptionAtRestWithCustomerKey (default) or EncryptionAtRestWithPlatformAndCustomerKeys
// (ConfidentialVmEncryptedWithCustomerKey is refused).
// activeKey {sourceVault.id?, keyUrl} is validated as Azure does (errors.h): a key URL of this
// server's Key Vault naming a version (a versionless URL is accepted only with
// rotationToLatestKeyVersionEnabled, and then resolved to the key's current version), the vault
// exists (and is the sourceVault when given), has purge protection (soft delete is always on),
// is in the DES's region; the key (version) exists, is enabled, not expired, RSA or RSA-HSM of
// 2048, 3072 or 4096 bits. These are read from the store as the disk service (not the DES
// identity, which has no permission yet when the DES is created). The identity's own access is
// verified when a disk is created (disks.h).
// Replies are 200 (or 202 with Azure-AsyncOperation while a key rotation re-wraps disks); never
// 201, which Azure CLI 2.45 refuses. DELETE is refused (409 OperationNotAllowed) while disks use
// the DES.
//
// Key rotation. When activeKey.keyUrl changes to another version (PUT or PATCH), the old key is
// appended to previousKeys and lastKeyRotationTimestamp is set; then every disk of the DES has
// its customer layer re-wrapped (blockstore Rewrap: unwrap under the old version, wrap under the
// new, as the DES identity; data is not rewritten) on the long-running-operation worker, and
// previousKeys is emptied once every disk is done. A failure leaves previousKeys in place (the
// operation reports the error) and RunAutoKeyRotation retries it.
// Automatic rotation (rotationToLatestKeyVersionEnabled): RunAutoKeyRotation(now), a Scheduler
// task (every 30 s of real time and on `byok clock advance`, well within Azure's "within one
// hour"), moves activeKey to the key's current version when it changed and re-wraps the same
// way; a failure is recorded in autoKeyRotationError ({code, message}) and automatic rotation of
// that DES stops until the DES is updated (any PUT/PATCH clears the error), as Azure documents.
//
// Thread safety: thread-safe; rotations are serialized.
#pragma once

#include <memory>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "compute/compute.h"
#include "gateway/frontend.h"

namespace byok::compute {

class DiskEncryptionSets {
 public:
  explicit DiskEncryptionSets(ComputeDeps deps);
  ~DiskEncryptionSets();
  DiskEncryptionSets(const DiskEncryptionSets&) = delete;
  DiskEncryptionSets& operator=(const DiskEncryptionSets&) = delete;

  // The Scheduler task (see the file comment). Per-DES failures are recorded (or logged) and do
  // not fail the task; store failures do.
  Status RunAutoKeyRotation(TimePoint now);

  // Re-wraps every disk of the DES under its active key and empties previousKeys when all are
  // done (idempotent; OK if there is nothing to do). The first failure is returned.
  Status CompleteRotation(std::string_view des_id);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
  friend std::shared_ptr<DiskEncryptionSets> RegisterDiskEncryptionSetsProvider(
      gateway::Frontend& frontend, ComputeDeps deps);
};

// Registers diskEncryptionSets and diskEncryptionSets/associatedResources on `frontend`.
// REQUIRES: deps outlive the front end.
std::shared_ptr<DiskEncryptionSets> RegisterDiskEncryptionSetsProvider(gateway::Frontend& frontend,
                                                                       ComputeDeps deps);

}  // namespace byok::compute
