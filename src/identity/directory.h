// Directory: the tenant's security principals, kept as store resources.
//
// Layout in the store (ids are case-insensitive, stored lower-case GUIDs):
//   /byok/tenants/{tid}                              byok.identity/tenants
//   /byok/tenants/{tid}/principals/{objectId}        byok.identity/principals (parent: tenant)
//   /byok/tenants/{tid}/appids/{appId}               byok.identity/appIds: {"objectId"}
//   /byok/tenants/{tid}/managedidentities/{sha256}   byok.identity/managedIdentities:
//                                                    {"objectId","resourceId"}; sha256 = hex of
//                                                    the normalized resource id
// A principal document holds objectId, appId, displayName, kind, resourceId,
// servicePrincipalNames and passwordCredentials [{keyId, startDateTime, secretHash}]. Client
// secrets exist in plain text only in the value returned by CreateServicePrincipal/ResetSecret;
// the store keeps a salted PBKDF2 hash (client_secret.h).
//
// Service principals are what operators create (`byok sp create`, the bootstrap principal);
// managed identities are created for resources (a DiskEncryptionSet's system-assigned identity),
// one per resource id, and have no secret. Both are "ServicePrincipal" objects for Graph and RBAC.
//
// Errors: kNotFound for unknown ids (any string that is not a GUID is simply not found);
// kUnauthenticated from VerifyClientSecret for a wrong secret; kFailedPrecondition for operations
// that do not apply to a managed identity (DeletePrincipal, ResetSecret); the store's errors
// otherwise.
//
// Thread safety: thread-safe (every method runs its own store transaction, except the overloads
// taking a Transaction, which run in the caller's and follow its rules).
// REQUIRES: store, clock and random outlive the Directory; random is a CSPRNG in production
// (secrets and salts come from it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "identity/client_secret.h"
#include "identity/principal.h"
#include "store/store.h"

namespace byok::identity {

inline constexpr char kTenantResourceType[] = "byok.identity/tenants";
inline constexpr char kPrincipalResourceType[] = "byok.identity/principals";
inline constexpr char kAppIdIndexResourceType[] = "byok.identity/appIds";
inline constexpr char kManagedIdentityIndexResourceType[] = "byok.identity/managedIdentities";

// "/byok/tenants/{tid}" and "/byok/tenants/{tid}/principals/{oid}".
std::string TenantResourceId(std::string_view tenant_id);
std::string PrincipalResourceId(std::string_view tenant_id, std::string_view object_id);

// True for a canonical GUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits in any case).
bool IsGuid(std::string_view s);

// What `az ad sp create-for-rbac` prints. `password` is a secret: show it once, never log it.
struct ServicePrincipalCredentials {
  std::string app_id;
  std::string password;
  std::string tenant;
  std::string object_id;
  std::string display_name;

  // {"appId","password","tenant","objectId","displayName"}
  nlohmann::json ToJson() const;
};

struct PasswordCredentialInfo {
  std::string key_id;  // GUID
  TimePoint start;
};

// A principal with the attributes Graph shows.
struct PrincipalInfo {
  Principal principal;
  std::vector<std::string> service_principal_names;          // [appId] (+ nothing else for now)
  std::vector<PasswordCredentialInfo> password_credentials;  // metadata only; empty for MIs
  TimePoint created;
};

struct DirectoryOptions {
  // PBKDF2 iterations for new secret hashes; raised to kMinPbkdf2Iterations if lower.
  int pbkdf2_iterations = kDefaultPbkdf2Iterations;
};

class Directory {
 public:
  Directory(store::Store& store, const Clock& clock, Random& random, std::string tenant_id,
            DirectoryOptions options = {});

  const std::string& tenant_id() const { return tenant_id_; }

  // Creates the tenant resource if missing (idempotent).
  Status EnsureTenant(store::Transaction& txn);

  // ---- Service principals ----

  // A new service principal (new appId and objectId, servicePrincipalNames [appId]) with one
  // new secret. display_name must be non-empty (InvalidArgument).
  Result<ServicePrincipalCredentials> CreateServicePrincipal(std::string_view display_name);
  Result<ServicePrincipalCredentials> CreateServicePrincipal(store::Transaction& txn,
                                                             std::string_view display_name);
  // Replaces every secret of the principal (by appId or objectId) with one new secret.
  Result<ServicePrincipalCredentials> ResetSecret(std::string_view app_or_object_id);
  // Deletes a service principal (by appId or objectId). Tokens already issued to it are refused
  // from then on (the Authenticator looks the principal up).
  Status DeletePrincipal(std::string_view app_or_object_id);
  // NotFound if the app is unknown; Unauthenticated if the secret does not match (or the
  // principal has none); else the principal.
  Result<Principal> VerifyClientSecret(std::string_view app_id, std::string_view secret);

  // ---- Lookups (both kinds) ----

  Result<Principal> FindByObjectId(std::string_view object_id);
  Result<Principal> FindByObjectId(store::Transaction& txn, std::string_view object_id);
  Result<Principal> FindByAppId(std::string_view app_id);
  Result<Principal> FindByAppId(store::Transaction& txn, std::string_view app_id);
  // By objectId, with Graph's attributes.
  Result<PrincipalInfo> Describe(std::string_view object_id);
  // Every principal of the tenant, sorted by objectId.
  Result<std::vector<PrincipalInfo>> ListPrincipals();

  // ---- Managed identities ----

  // The system-assigned identity of `resource_id` (an ARM resource id, any case): created on
  // the first call, the same principal afterwards. display_name is the resource's name.
  Result<Principal> CreateManagedIdentity(std::string_view resource_id);
  Result<Principal> CreateManagedIdentity(store::Transaction& txn, std::string_view resource_id);
  // NotFound if the resource has no identity.
  Result<Principal> FindManagedIdentity(std::string_view resource_id);
  Result<Principal> FindManagedIdentity(store::Transaction& txn, std::string_view resource_id);
  // Deletes the resource's identity; OK if it has none (idempotent, for cascade deletes).
  Status DeleteManagedIdentity(std::string_view resource_id);
  Status DeleteManagedIdentity(store::Transaction& txn, std::string_view resource_id);

 private:
  struct NewSecret;
  Result<NewSecret> MakeSecret();
  Result<ServicePrincipalCredentials> InsertServicePrincipal(store::Transaction& txn,
                                                             std::string_view display_name,
                                                             NewSecret secret);
  Result<std::optional<store::Resource>> GetPrincipalDoc(store::Transaction& txn,
                                                         std::string_view app_or_object_id);
  Result<std::optional<store::Resource>> GetDocByAppId(store::Transaction& txn,
                                                       std::string_view app_id);
  std::string AppIdIndexId(std::string_view app_id) const;
  std::string ManagedIdentityIndexId(std::string_view resource_id) const;

  store::Store& store_;
  const Clock& clock_;
  Random& random_;
  const std::string tenant_id_;
  const DirectoryOptions options_;
};

}  // namespace byok::identity
