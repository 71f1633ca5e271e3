#include "keyvault/vault_store.h"

#include <gtest/gtest.h>

#include "keyvault/mgmt_test_helpers.h"

namespace byok::keyvault::mgmt_test {
namespace {

using nlohmann::json;

constexpr char kVaultId[] =
    "/subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/RG/providers/"
    "Microsoft.KeyVault/vaults/MyVault";

class VaultStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<TempStore>(clock_);
    // A live vault as the management plane stores it, with its name index entry.
    ASSERT_TRUE(Write([](store::Transaction& txn) -> Status {
                  store::Resource v;
                  v.id = kVaultId;
                  v.type = kVaultType;
                  v.body = {{"id", kVaultId},
                            {"name", "MyVault"},
                            {"type", kVaultType},
                            {"location", "westeurope"},
                            {"tags", {{"a", "b"}}},
                            {"properties",
                             {{"tenantId", kTenant},
                              {"sku", {{"family", "A"}, {"name", "premium"}}},
                              {"enableRbacAuthorization", true},
                              {"enablePurgeProtection", true},
                              {"softDeleteRetentionInDays", 10},
                              {"accessPolicies", json::array({{{"objectId", kOid}}})}}},
                            {"internal", {{"guid", "g-1"}}}};
                  BYOK_TRY(txn.Put(v).status());
                  store::Resource idx;
                  idx.id = NameIndexId("MyVault");
                  idx.type = kNameIndexType;
                  idx.body = {{"guid", "g-1"}, {"vault_id", kVaultId}, {"deleted", false}};
                  return txn.Put(idx).status();
                }).ok());
  }

  Status Write(const std::function<Status(store::Transaction&)>& fn) {
    return store::RunInTransaction(**store_, fn);
  }
  std::unique_ptr<store::Transaction> Read() { return std::move((**store_).BeginRead()).value(); }

  ManualClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<TempStore> store_;
};

TEST_F(VaultStoreTest, Paths) {
  EXPECT_EQ(VaultDataPrefix("g-1"), "/byok/keyvault/vaults/g-1");
  EXPECT_EQ(VaultSecretPrefix("g-1"), "keyvault/g-1/");
  EXPECT_EQ(NameIndexId("MyVault"), "/byok/keyvault/names/myvault");
  EXPECT_EQ(DeletedVaultId("s", "eastus", "v"),
            "/subscriptions/s/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/v");
}

TEST_F(VaultStoreTest, FindLiveVault) {
  auto txn = Read();
  auto by_name = FindVaultByName(*txn, "MYVAULT");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  ASSERT_TRUE(by_name->has_value());
  const VaultRecord& v = **by_name;
  EXPECT_EQ(v.guid, "g-1");
  EXPECT_EQ(v.id, kVaultId);
  EXPECT_EQ(v.name, "MyVault");
  EXPECT_EQ(v.location, "westeurope");
  EXPECT_EQ(v.tenant_id, kTenant);
  EXPECT_EQ(v.sku, "premium");
  EXPECT_TRUE(v.enable_rbac_authorization);
  EXPECT_TRUE(v.enable_purge_protection);
  EXPECT_EQ(v.soft_delete_retention_days, 10);
  EXPECT_EQ(v.access_policies.size(), 1u);
  EXPECT_FALSE(v.deleted);

  auto by_id = FindVaultById(*txn, arm::AsciiLower(kVaultId));
  ASSERT_TRUE(by_id.ok());
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->guid, "g-1");
  EXPECT_FALSE(FindVaultByName(*txn, "other")->has_value());
  EXPECT_FALSE(FindVaultById(*txn, "/subscriptions/x/resourceGroups/y")->has_value());
}

TEST_F(VaultStoreTest, SoftDeleteAndPurge) {
  ASSERT_TRUE(Write([&](store::Transaction& txn) -> Status {
                store::Resource k;
                k.id = VaultDataPrefix("g-1") + "/keys/k";
                k.type = "byok.keyvault.key";
                k.body = json::object();
                BYOK_TRY(txn.Put(k).status());
                std::vector<uint8_t> der = {1, 2, 3};
                BYOK_TRY(txn.PutSecret(VaultSecretPrefix("g-1") + "keys/k/v1", der));
                BYOK_TRY(txn.PutSecret("keyvault/g-10/keys/k/v1", der));  // another vault
                auto vault = txn.Get(kVaultId);
                BYOK_TRY(vault.status());
                return SoftDeleteVault(txn, **vault, clock_.Now()).status();
              }).ok());
  {
    auto txn = Read();
    EXPECT_FALSE(FindVaultById(*txn, kVaultId)->has_value());  // live lookups miss it
    auto rec = FindVaultByName(*txn, "myvault");
    ASSERT_TRUE(rec.ok() && rec->has_value());
    EXPECT_TRUE((*rec)->deleted);
    EXPECT_EQ((*rec)->guid, "g-1");
    auto d =
        txn->Get(DeletedVaultId("00000000-0000-0000-0000-00000000000a", "westeurope", "MyVault"));
    ASSERT_TRUE(d.ok() && d->has_value());
    EXPECT_EQ((*d)->body["properties"]["tags"], json({{"a", "b"}}));
    EXPECT_EQ(*ScheduledPurgeTime(**d), clock_.Now() + std::chrono::hours(24 * 10));
  }
  ASSERT_TRUE(Write([&](store::Transaction& txn) -> Status {
                auto d = txn.Get(DeletedVaultId("00000000-0000-0000-0000-00000000000a",
                                                "westeurope", "MyVault"));
                BYOK_TRY(d.status());
                return PurgeDeletedVault(txn, **d);
              }).ok());
  auto txn = Read();
  EXPECT_FALSE(FindVaultByName(*txn, "MyVault")->has_value());
  EXPECT_FALSE(txn->Get(VaultDataPrefix("g-1") + "/keys/k")->has_value());
  EXPECT_TRUE(txn->ListSecrets("keyvault/g-1/")->empty());
  EXPECT_EQ(txn->ListSecrets("keyvault/g-10/")->size(), 1u);
}

TEST_F(VaultStoreTest, PurgeVaultDataManySecrets) {
  ASSERT_TRUE(Write([&](store::Transaction& txn) -> Status {
                std::vector<uint8_t> der = {7};
                for (int i = 0; i < 1203; ++i) {
                  BYOK_TRY(txn.PutSecret(VaultSecretPrefix("g-1") + std::to_string(i), der));
                }
                return PurgeVaultData(txn, "g-1");
              }).ok());
  EXPECT_TRUE(Read()->ListSecrets("keyvault/g-1/")->empty());
  EXPECT_FALSE(Write([](store::Transaction& txn) { return PurgeVaultData(txn, ""); }).ok());
}

}  // namespace
}  // namespace byok::keyvault::mgmt_test
