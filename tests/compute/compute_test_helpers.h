// Test fixture for the compute providers: everything byokd wires for disks, in process — a
// temp-dir SQLite store on a ManualClock, the bootstrapped identity service (real tokens), Azure
// RBAC (the bootstrap principal is Owner of the subscription), the audit log, the Key Vault keys
// data plane on its own router, the ARM front end (bearer "<object id>" resolved through the
// directory, no JWTs on ARM) with Microsoft.Resources, Microsoft.KeyVault vaults and the compute
// providers, a VaultKeyWrapper and a real BlockStore under the temp dir.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "authz/rbac.h"
#include "blockstore/blockstore.h"
#include "common/clock.h"
#include "common/random.h"
#include "compute/disk_encryption_sets.h"
#include "compute/disks.h"
#include "compute/vault_key_wrapper.h"
#include "gateway/frontend.h"
#include "gateway/operations.h"
#include "http/message.h"
#include "http/router.h"
#include "identity/identity_service.h"
#include "keyvault/keys_service.h"
#include "store/store.h"

namespace byok::compute::test {

inline constexpr char kLocation[] = "westeurope";

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

class ComputeFixture : public ::testing::Test {
 protected:
  ComputeFixture();
  void SetUp() override;
  void TearDown() override;

  // ---- ARM ----
  // One ARM request as `who` (an object id; the owner when empty).
  http::Response Arm(const std::string& method, const std::string& path,
                     const nlohmann::json& body = nullptr, const std::string& who = "",
                     const std::string& api_version = "2022-07-02");
  static nlohmann::json Body(const http::Response& r);
  static std::string Code(const http::Response& r);
  static std::string Message(const http::Response& r);

  std::string RgId(const std::string& rg) const;
  std::string VaultId(const std::string& rg, const std::string& name) const;
  std::string DesId(const std::string& rg, const std::string& name) const;
  std::string DiskId(const std::string& rg, const std::string& name) const;
  void CreateGroup(const std::string& rg, const std::string& location = kLocation);
  // A vault via the management plane (purge protection unless told otherwise); owner has every
  // key permission.
  void CreateVault(const std::string& rg, const std::string& name, bool purge_protection = true,
                   const std::string& location = kLocation, bool rbac = false);

  // ---- Key Vault data plane (as the owner unless `as` is given) ----
  http::Response Keys(const std::string& method, const std::string& vault, const std::string& path,
                      const nlohmann::json& body = nullptr,
                      const identity::Principal* as = nullptr);
  // Creates a key; returns its kid (versioned URL).
  std::string CreateKey(const std::string& vault, const std::string& name,
                        nlohmann::json body = {{"kty", "RSA"}});
  std::string RotateKey(const std::string& vault, const std::string& name);  // new kid
  void SetKeyEnabled(const std::string& kid, bool enabled);
  // Adds an access policy entry (get, wrapKey, unwrapKey unless told) for `object_id`.
  void GrantKeys(const std::string& rg, const std::string& vault, const std::string& object_id,
                 std::vector<std::string> permissions = {"get", "wrapKey", "unwrapKey"});
  void RevokeKeys(const std::string& rg, const std::string& vault, const std::string& object_id);

  // ---- Compute ----
  // PUT a DES; returns the response.
  http::Response PutDes(const std::string& rg, const std::string& name, const std::string& vault,
                        const std::string& key_url, nlohmann::json extra_props = {},
                        const std::string& api_version = "2022-03-02");
  // Creates a DES (asserts 200) and grants its identity get/wrapKey/unwrapKey on the vault.
  nlohmann::json CreateDesWithAccess(const std::string& rg, const std::string& name,
                                     const std::string& vault, const std::string& key_url,
                                     nlohmann::json extra_props = {});
  http::Response PutDisk(const std::string& rg, const std::string& name, int size_gb,
                         const std::string& des_id = "", const std::string& encryption_type = "",
                         const std::string& who = "", const std::string& sku = "Premium_LRS");
  // The blockstore header of a disk resource.
  blockstore::DiskHeader HeaderOf(const std::string& disk_id);
  identity::Principal NewPrincipal(const std::string& display_name);
  void AssignRole(const std::string& scope, std::string_view role_guid, const std::string& oid);
  std::vector<audit::Record> AuditRecords();
  void Drain() { ops_->Drain(); }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  SecretBytes root_key_;
  std::string subscription_;
  identity::Principal owner_;
  std::unique_ptr<identity::IdentityService> identity_;
  std::unique_ptr<authz::Rbac> rbac_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<keyvault::KeysService> keys_;
  http::Router kv_router_;
  std::unique_ptr<VaultKeyWrapper> vault_keys_;
  std::unique_ptr<blockstore::PlatformKeyWrapper> platform_;
  std::unique_ptr<blockstore::BlockStore> blocks_;
  std::unique_ptr<gateway::Frontend> fe_;
  std::unique_ptr<gateway::Operations> ops_;
  http::Router arm_router_;
  std::shared_ptr<void> resources_;
  std::shared_ptr<DiskEncryptionSets> des_;
  // ComputeDeps::des_users of the providers (tests of other modules set it after SetUp).
  std::function<Result<std::vector<std::string>>(store::Transaction&, std::string_view)> des_users_;
  std::shared_ptr<DiskService> disks_;  // the disks provider's service
  int next_request_ = 0;
};

}  // namespace byok::compute::test
