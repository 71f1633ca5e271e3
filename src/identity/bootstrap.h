// First-start bootstrap of the identity world: one tenant, one subscription id and the service
// principal "byok-bootstrap" (which the ARM module makes Owner of that subscription).
//
// Bootstrap() is idempotent: the first call (on a store without identity metadata) creates the
// tenant, picks a subscription GUID, creates the principal and records the ids in store meta
// (keys kMetaTenantId, kMetaSubscriptionId, kMetaBootstrapObjectId), all in one write
// transaction, and returns the principal's password. Every later call — also from another process
// on the same data directory, also after a concurrent first call won — returns the same ids with
// an empty password. The password exists nowhere else: the daemon writes it once, with
// WriteCredentialsFile, to CredentialsFilePath(data_dir).
//
// Thread safety: stateless functions; concurrent calls are serialized by the store.
// REQUIRES: store, clock and random as for Directory.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "identity/directory.h"
#include "identity/principal.h"
#include "store/store.h"

namespace byok::identity {

inline constexpr char kBootstrapDisplayName[] = "byok-bootstrap";
inline constexpr char kCredentialsFileName[] = "credentials.json";
inline constexpr char kMetaTenantId[] = "identity.tenant_id";
inline constexpr char kMetaSubscriptionId[] = "identity.subscription_id";
inline constexpr char kMetaBootstrapObjectId[] = "identity.bootstrap_object_id";

struct BootstrapResult {
  std::string tenant_id;
  std::string subscription_id;
  // The bootstrap service principal. If an operator deleted it since, only object_id and
  // tenant_id are set.
  Principal principal;
  // Its client secret: only when this call created it (first_run); else empty. Never log it.
  std::string password;
  bool first_run = false;

  // {"tenant","subscription","appId","password","objectId","displayName"}
  nlohmann::json CredentialsJson() const;
};

// See the file comment.
Result<BootstrapResult> Bootstrap(store::Store& store, const Clock& clock, Random& random,
                                  const DirectoryOptions& options = {});

// The tenant and subscription ids recorded by Bootstrap. FailedPrecondition if Bootstrap never
// ran on this store.
struct BootstrapIds {
  std::string tenant_id;
  std::string subscription_id;
  std::string bootstrap_object_id;
};
Result<BootstrapIds> ReadBootstrapIds(store::Store& store);
Result<BootstrapIds> ReadBootstrapIds(store::Transaction& txn);

// <data_dir>/credentials.json
std::string CredentialsFilePath(std::string_view data_dir);

// Writes result.CredentialsJson() to `path` atomically with mode 0600. FailedPrecondition if
// result.password is empty (only a first run has a password; an existing file is left alone).
Status WriteCredentialsFile(const std::string& path, const BootstrapResult& result);

}  // namespace byok::identity
