// The back end of `byok sp create|list|delete|reset-secret --data-dir DIR`: managing service
// principals directly in a data directory's store, whether or not byokd is running (SQLite WAL
// lets both processes use the database; byokd sees the changes on its next request).
//
// Each function opens the store the way byokd does (store::LoadOrCreateRootKey with the data dir
// and optional --root-key-file / $BYOK_ROOT_KEY, then store::OpenSqliteStore). The data directory
// must exist and be bootstrapped — byokd's first start does that (and makes the bootstrap
// principal Owner); otherwise FailedPrecondition, and nothing is created (a mistyped --data-dir
// does not start a new world).
//
// Output JSON:
//   create, reset-secret: {"appId","password","tenant","objectId","displayName"} (the shape of
//                         `az ad sp create-for-rbac`; print it on stdout, never log it)
//   list:                 [{"appId","objectId","displayName","type","resourceId"}] where type is
//                         "ServicePrincipal" or "ManagedIdentity" (resourceId only for the latter)
// Errors: NotFound (unknown appId/objectId), FailedPrecondition (no bootstrapped data directory;
// or a managed identity: it is deleted with its resource and has no secret), InvalidArgument (empty
// display name), and the store's errors (PermissionDenied for a wrong root key, ...).
//
// Thread safety: the functions may run concurrently (also in several processes).
// REQUIRES: options.data_dir is non-empty.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "identity/client_secret.h"

namespace byok::identity {

struct AdminOptions {
  std::string data_dir;
  std::string root_key_file;  // "" = $BYOK_ROOT_KEY or <data_dir>/root.key
  int pbkdf2_iterations = kDefaultPbkdf2Iterations;
  const Clock* clock = nullptr;  // nullptr = SystemClock
  Random* random = nullptr;      // nullptr = CryptoRandom()
};

Result<nlohmann::json> AdminCreateServicePrincipal(const AdminOptions& options,
                                                   std::string_view display_name);
Result<nlohmann::json> AdminListPrincipals(const AdminOptions& options);
// By appId or objectId.
Status AdminDeletePrincipal(const AdminOptions& options, std::string_view app_or_object_id);
// By appId or objectId. Replaces every secret of the principal with one new secret.
Result<nlohmann::json> AdminResetSecret(const AdminOptions& options,
                                        std::string_view app_or_object_id);

}  // namespace byok::identity
