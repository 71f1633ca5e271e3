// Shared fixtures for the Key Vault data-plane tests: a temp-dir SQLite store on a ManualClock,
// a bootstrapped identity service (tokens for the vault audience), Azure RBAC, the audit log and
// a KeysService whose routes are called directly (no TLS). Vaults are written in the management
// plane's storage format (vault_store.h), so the data plane is tested on its own.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "authz/rbac.h"
#include "common/clock.h"
#include "common/random.h"
#include "http/message.h"
#include "http/router.h"
#include "identity/bootstrap.h"
#include "identity/identity_service.h"
#include "keyvault/keys_service.h"
#include "keyvault/vault_store.h"
#include "store/store.h"

namespace byok::keyvault::test {

// A fresh directory from mkdtemp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// 2024-01-02T03:04:05Z.
TimePoint TestEpoch();

inline constexpr char kSubscription[] = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2";
inline constexpr char kPort[] = "8443";

struct VaultOptions {
  std::string sku = "standard";
  bool rbac = false;
  bool purge_protection = false;
  int retention_days = 90;
  std::string location = "westeurope";
  std::string resource_group = "rg";
  // Access policies; the fixture adds one granting every key permission to the owner unless
  // owner_policy is false.
  nlohmann::json access_policies = nlohmann::json::array();
  bool owner_policy = true;
};

// {"tenantId","objectId","permissions":{"keys":[...]}}
nlohmann::json PolicyEntry(const identity::Principal& p, std::vector<std::string> key_permissions);

class KeysFixture : public ::testing::Test {
 protected:
  KeysFixture() : clock_(TestEpoch()) {}
  void SetUp() override;
  void TearDown() override;

  // Opens the store, identity, RBAC, audit and the service (again after Reopen with another
  // root key: root_key_seed changes it).
  void Open(uint8_t root_key_seed = 1);

  // Writes a live vault as the management plane stores it.
  VaultRecord CreateVault(const std::string& name, VaultOptions o = {});
  // Soft-deletes it as the management plane does (vault_store.h SoftDeleteVault).
  void DeleteVault(const std::string& name);
  // Replaces the vault's access policies.
  void SetAccessPolicies(const std::string& name, const nlohmann::json& policies);

  identity::Principal NewPrincipal(const std::string& display_name);
  std::string TokenFor(const identity::Principal& p);
  // Assigns a built-in role (by GUID) to the principal at scope.
  void Assign(const std::string& scope, const std::string& role_guid, const identity::Principal& p);

  // A request to https://{vault}.vault.localhost:8443{target}, authorized as `caller` (the owner
  // when null; no Authorization header when anonymous).
  http::Request Request(const std::string& method, const std::string& vault,
                        const std::string& target, const std::string& body = "",
                        const identity::Principal* caller = nullptr, bool anonymous = false);
  http::Response Send(http::Request req);
  http::Response Call(const std::string& method, const std::string& vault,
                      const std::string& target, const nlohmann::json& body = nullptr,
                      const identity::Principal* caller = nullptr);

  // Shorthands (api-version 7.4) that fail the test unless the status is 200.
  nlohmann::json CreateKey(const std::string& vault, const std::string& name,
                           nlohmann::json body = {{"kty", "RSA"}});
  std::string VersionOf(const nlohmann::json& bundle);  // last segment of key.kid

  // The most recent audit records (flushes).
  std::vector<audit::Record> AuditRecords();

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  identity::BootstrapResult boot_;
  std::unique_ptr<identity::IdentityService> identity_;
  std::unique_ptr<authz::Rbac> rbac_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<KeysService> service_;
  http::Router router_;
  identity::Principal owner_;
  int next_request_ = 0;
};

nlohmann::json BodyOf(const http::Response& r);
// "code/innercode" of an error response ("code" when there is no inner error).
std::string ErrorCode(const http::Response& r);

}  // namespace byok::keyvault::test
