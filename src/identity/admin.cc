#include "identity/admin.h"

#include <functional>
#include <memory>

#include "common/files.h"
#include "identity/bootstrap.h"
#include "identity/directory.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::identity {
namespace {

// Opens the data directory's store and runs fn with its Directory.
template <typename T>
Result<T> WithDirectory(const AdminOptions& options,
                        const std::function<Result<T>(Directory&)>& fn) {
  if (options.data_dir.empty()) return Status::InvalidArgument("no data directory given");
  // Never create a data directory here: a typo would silently start a new world, and byokd's
  // first start (which makes the bootstrap principal Owner) must be the one that bootstraps.
  if (!FileExists(store::SqliteDbPath(options.data_dir))) {
    return Status::FailedPrecondition("no byok data directory at " + options.data_dir +
                                      " (start byokd once to create it)");
  }
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  Random& random = options.random != nullptr ? *options.random : CryptoRandom();
  store::RootKeyOptions rk;
  rk.data_dir = options.data_dir;
  rk.key_file = options.root_key_file;
  BYOK_ASSIGN_OR_RETURN(store::RootKey root_key, store::LoadOrCreateRootKey(rk));
  store::SqliteOptions so;
  so.data_dir = options.data_dir;
  BYOK_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                        store::OpenSqliteStore(so, clock, std::move(root_key)));
  BYOK_ASSIGN_OR_RETURN(BootstrapIds ids, ReadBootstrapIds(*store));
  DirectoryOptions dopts;
  dopts.pbkdf2_iterations = options.pbkdf2_iterations;
  Directory directory(*store, clock, random, ids.tenant_id, dopts);
  return fn(directory);
}

}  // namespace

Result<nlohmann::json> AdminCreateServicePrincipal(const AdminOptions& options,
                                                   std::string_view display_name) {
  return WithDirectory<nlohmann::json>(options, [&](Directory& d) -> Result<nlohmann::json> {
    BYOK_ASSIGN_OR_RETURN(ServicePrincipalCredentials c, d.CreateServicePrincipal(display_name));
    return c.ToJson();
  });
}

Result<nlohmann::json> AdminListPrincipals(const AdminOptions& options) {
  return WithDirectory<nlohmann::json>(options, [&](Directory& d) -> Result<nlohmann::json> {
    BYOK_ASSIGN_OR_RETURN(auto all, d.ListPrincipals());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& info : all) {
      const Principal& p = info.principal;
      nlohmann::json entry = {
          {"appId", p.app_id}, {"objectId", p.object_id}, {"displayName", p.display_name}};
      if (p.kind == PrincipalKind::kManagedIdentity) {
        entry["type"] = "ManagedIdentity";
        entry["resourceId"] = p.resource_id;
      } else {
        entry["type"] = "ServicePrincipal";
      }
      out.push_back(std::move(entry));
    }
    return out;
  });
}

Status AdminDeletePrincipal(const AdminOptions& options, std::string_view app_or_object_id) {
  return WithDirectory<bool>(options,
                             [&](Directory& d) -> Result<bool> {
                               BYOK_TRY(d.DeletePrincipal(app_or_object_id));
                               return true;
                             })
      .status();
}

Result<nlohmann::json> AdminResetSecret(const AdminOptions& options,
                                        std::string_view app_or_object_id) {
  return WithDirectory<nlohmann::json>(options, [&](Directory& d) -> Result<nlohmann::json> {
    BYOK_ASSIGN_OR_RETURN(ServicePrincipalCredentials c, d.ResetSecret(app_or_object_id));
    return c.ToJson();
  });
}

}  // namespace byok::identity
