// The Microsoft.Compute resource provider of byok: what both of its resource types share.
//
//   disk_encryption_sets.h  Microsoft.Compute/diskEncryptionSets (+ associatedResources), key
//                           rotation (manual and automatic)
//   disks.h                 Microsoft.Compute/disks, backed by blockstore files
//   disk_store.h            the records other modules read (NBD attachments, byok disk ...)
//   vault_key_wrapper.h     the customer layer's KeyWrapper (Key Vault as the DES identity)
//
// ComputeDeps is what the providers need; every pointer must outlive the front end they are
// registered on (and the objects the register functions return).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "authz/authorizer.h"
#include "blockstore/blockstore.h"
#include "common/clock.h"
#include "common/random.h"
#include "compute/vault_key_wrapper.h"
#include "gateway/operations.h"
#include "identity/directory.h"
#include "store/store.h"

namespace byok::compute {

// The Disk RP api-versions byok accepts for disks and disk encryption sets, newest first: the
// current ones back to 2019-07-01 (the first with disk encryption sets). The Debian Azure CLI
// 2.45 sends 2022-07-02 for disks and 2022-03-02 for disk encryption sets.
const std::vector<std::string>& ComputeApiVersions();

struct ComputeDeps {
  store::Store* store = nullptr;
  const Clock* clock = nullptr;               // the server's emulated clock (timestamps, rotation)
  Random* random = nullptr;                   // disk unique ids
  authz::Authorizer* authorizer = nullptr;    // linked-scope checks (the caller's read on the DES)
  identity::Directory* directory = nullptr;   // DES system-assigned identities
  blockstore::BlockStore* blocks = nullptr;   // disk files
  VaultKeyWrapper* vault_keys = nullptr;      // CheckAccess at disk creation; token cache
  gateway::Operations* operations = nullptr;  // long-running key rotations
  // The ids of resources other than disks that use a DES (ids in any case; empty if none): AKS
  // clusters, whose Ephemeral OS disks have no disk resource. A DES is not deleted while any
  // disk or such resource uses it. Unset = none.
  std::function<Result<std::vector<std::string>>(store::Transaction&, std::string_view des_id)>
      des_users;
};

}  // namespace byok::compute
