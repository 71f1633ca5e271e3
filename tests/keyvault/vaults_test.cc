#include "keyvault/vaults.h"

#include <gtest/gtest.h>

#include "keyvault/mgmt_test_helpers.h"
#include "keyvault/vault_store.h"

namespace byok::keyvault::mgmt_test {
namespace {

using nlohmann::json;
using std::chrono::hours;

constexpr char kApi[] = "2022-07-01";

std::string DeletedPath(const std::string& loc, const std::string& name) {
  return std::string("/subscriptions/") + kSub + "/providers/Microsoft.KeyVault/locations/" + loc +
         "/deletedVaults/" + name;
}

class VaultsTest : public MgmtTest {
 protected:
  void SetUp() override {
    MgmtTest::SetUp();
    CreateGroup("rg1");
    CreateGroup("rg2");
  }
  // The stored vault record (live or deleted) by name.
  std::optional<VaultRecord> Record(const std::string& name) {
    auto txn = (**store_).BeginRead();
    EXPECT_TRUE(txn.ok());
    auto rec = FindVaultByName(**txn, name);
    EXPECT_TRUE(rec.ok()) << rec.status().ToString();
    return rec.ok() ? *rec : std::nullopt;
  }
  http::Response Purge(const std::string& name, const std::string& loc = "eastus") {
    return Call("POST", DeletedPath(loc, name) + "/purge");
  }
};

TEST_F(VaultsTest, CreateReturnsAzureShape) {
  json v = CreateVault("rg1", "MyVault-1");
  EXPECT_EQ(v["id"], VaultPath("rg1", "MyVault-1"));
  EXPECT_EQ(v["name"], "MyVault-1");
  EXPECT_EQ(v["type"], "Microsoft.KeyVault/vaults");
  EXPECT_EQ(v["location"], "eastus");
  EXPECT_EQ(v["tags"], json::object());
  EXPECT_FALSE(v.contains("internal"));
  const json& p = v["properties"];
  EXPECT_EQ(p["sku"], json({{"family", "A"}, {"name", "standard"}}));
  EXPECT_EQ(p["tenantId"], kTenant);
  EXPECT_EQ(p["vaultUri"], "https://myvault-1.vault.localhost:8443/");
  EXPECT_EQ(p["enableSoftDelete"], true);
  EXPECT_EQ(p["softDeleteRetentionInDays"], 90);
  EXPECT_EQ(p["enableRbacAuthorization"], false);
  EXPECT_FALSE(p.contains("enablePurgeProtection"));  // omitted when not set, as Azure
  EXPECT_EQ(p["enabledForDeployment"], false);
  EXPECT_EQ(p["enabledForDiskEncryption"], false);
  EXPECT_EQ(p["enabledForTemplateDeployment"], false);
  EXPECT_EQ(p["provisioningState"], "Succeeded");
  EXPECT_EQ(p["publicNetworkAccess"], "Enabled");
  ASSERT_EQ(p["accessPolicies"].size(), 1u);
  EXPECT_EQ(p["accessPolicies"][0]["permissions"], json({{"keys", {"all"}},
                                                         {"secrets", json::array()},
                                                         {"certificates", json::array()},
                                                         {"storage", json::array()}}));
  EXPECT_EQ(v["systemData"]["createdBy"], "app-good");
  EXPECT_EQ(v["systemData"]["createdByType"], "Application");
  EXPECT_EQ(authz_.actions.back(), "Microsoft.KeyVault/vaults/write");

  auto got = Call("GET", VaultPath("rg1", "myvault-1"));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Body(got), v);
  EXPECT_EQ(authz_.actions.back(), "Microsoft.KeyVault/vaults/read");

  auto rec = Record("MYVAULT-1");
  ASSERT_TRUE(rec.has_value());
  EXPECT_FALSE(rec->deleted);
  EXPECT_EQ(rec->name, "MyVault-1");
  EXPECT_EQ(rec->location, "eastus");
  EXPECT_EQ(rec->sku, "standard");
  EXPECT_EQ(rec->soft_delete_retention_days, 90);
  EXPECT_FALSE(rec->guid.empty());
}

TEST_F(VaultsTest, OptionsAndApiVersions) {
  json v =
      CreateVault("rg1", "kv-options",
                  {{"sku", {{"family", "A"}, {"name", "Premium"}}},
                   {"enablePurgeProtection", true},
                   {"softDeleteRetentionInDays", 7},
                   {"enabledForDiskEncryption", true},
                   {"publicNetworkAccess", "disabled"},
                   {"networkAcls", {{"bypass", "AzureServices"}, {"defaultAction", "Allow"}}}});
  EXPECT_EQ(v["properties"]["sku"]["name"], "premium");
  EXPECT_EQ(v["properties"]["enablePurgeProtection"], true);
  EXPECT_EQ(v["properties"]["softDeleteRetentionInDays"], 7);
  EXPECT_EQ(v["properties"]["enabledForDiskEncryption"], true);
  EXPECT_EQ(v["properties"]["publicNetworkAccess"], "Disabled");
  EXPECT_EQ(v["properties"]["networkAcls"]["defaultAction"], "Allow");

  // From 2026-02-01 a new vault defaults to RBAC authorization; before it, to access policies.
  for (const char* version :
       {"2023-02-01", "2023-07-01", "2024-11-01", "2024-12-01-preview", "2025-05-01"}) {
    std::string name =
        std::string("kv-") + std::string(version).substr(0, 4) + std::string(version).substr(5, 2);
    if (std::string(version).find("preview") != std::string::npos) name += "p";
    EXPECT_EQ(CreateVault("rg1", name, {}, version)["properties"]["enableRbacAuthorization"], false)
        << version;
  }
  EXPECT_EQ(
      CreateVault("rg1", "kv-2026", {}, "2026-02-01")["properties"]["enableRbacAuthorization"],
      true);
  EXPECT_EQ(CreateVault("rg1", "kv-2026b", {{"enableRbacAuthorization", false}},
                        "2026-02-01")["properties"]["enableRbacAuthorization"],
            false);
  EXPECT_EQ(Code(Call("GET", VaultPath("rg1", "kv-2026"), "2015-01-01")),
            "InvalidApiVersionParameter");
}

TEST_F(VaultsTest, UpdateAndPatch) {
  CreateVault("rg1", "kv-upd");
  // PUT again (as `az keyvault update` and `set-policy` do) updates in place.
  json body = VaultBody({{"enableRbacAuthorization", true}, {"softDeleteRetentionInDays", 90}});
  body["tags"] = {{"env", "test"}};
  auto put = Call("PUT", VaultPath("rg1", "kv-upd"), kApi, body);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Body(put)["properties"]["enableRbacAuthorization"], true);
  EXPECT_EQ(Body(put)["tags"], json({{"env", "test"}}));

  auto patch = Call("PATCH", VaultPath("rg1", "kv-upd"), kApi,
                    {{"properties", {{"enablePurgeProtection", true}}}});
  ASSERT_EQ(patch.status, 200) << patch.body;
  EXPECT_EQ(Body(patch)["properties"]["enablePurgeProtection"], true);
  EXPECT_EQ(Body(patch)["properties"]["enableRbacAuthorization"], true);  // unchanged
  EXPECT_EQ(Body(patch)["tags"], json({{"env", "test"}}));

  // Purge protection stays on: omitted in a PUT keeps it, false is refused.
  auto again = Call("PUT", VaultPath("rg1", "kv-upd"), kApi, VaultBody());
  EXPECT_EQ(Body(again)["properties"]["enablePurgeProtection"], true);
  auto off = Call("PATCH", VaultPath("rg1", "kv-upd"), kApi,
                  {{"properties", {{"enablePurgeProtection", false}}}});
  EXPECT_EQ(off.status, 400);
  EXPECT_EQ(Code(off), "BadRequest");
  EXPECT_NE(off.body.find("cannot be set to false"), std::string::npos) << off.body;

  // Retention is fixed at creation.
  auto ret = Call("PATCH", VaultPath("rg1", "kv-upd"), kApi,
                  {{"properties", {{"softDeleteRetentionInDays", 30}}}});
  EXPECT_EQ(Code(ret), "BadRequest");
  EXPECT_NE(ret.body.find("softDeleteRetentionInDays"), std::string::npos);
  // The location never changes.
  auto moved = Call("PUT", VaultPath("rg1", "kv-upd"), kApi, VaultBody({}, "westus"));
  EXPECT_EQ(moved.status, 409);
  EXPECT_EQ(Code(moved), "InvalidResourceLocation");

  EXPECT_EQ(Code(Call("PATCH", VaultPath("rg1", "nope"), kApi, {{"tags", json::object()}})),
            "ResourceNotFound");
}

TEST_F(VaultsTest, Lists) {
  CreateVault("rg1", "kv-a");
  CreateVault("rg2", "kv-b");
  auto rg1 = Call("GET", RgPath("rg1") + "/providers/Microsoft.KeyVault/vaults");
  ASSERT_EQ(rg1.status, 200) << rg1.body;
  ASSERT_EQ(Body(rg1)["value"].size(), 1u);
  EXPECT_EQ(Body(rg1)["value"][0]["name"], "kv-a");
  EXPECT_FALSE(Body(rg1)["value"][0].contains("internal"));
  std::string sub = std::string("/subscriptions/") + kSub;
  auto all = Call("GET", sub + "/providers/Microsoft.KeyVault/vaults");
  EXPECT_EQ(Body(all)["value"].size(), 2u);
  auto top = Call("GET", sub + "/providers/Microsoft.KeyVault/vaults", kApi, nullptr, "good",
                  {{"$top", "1"}});
  EXPECT_EQ(Body(top)["value"].size(), 1u);

  // The generic listing the Azure CLI uses to find a vault's group (`az keyvault show -n`).
  auto generic = Call("GET", sub + "/resources", "2015-11-01", nullptr, "good",
                      {{"$filter", "resourceType eq 'Microsoft.KeyVault/vaults'"}});
  ASSERT_EQ(generic.status, 200) << generic.body;
  json names = json::array();
  json listed = Body(generic);
  for (const auto& v : listed["value"]) names.push_back(v["name"]);
  EXPECT_EQ(names, json({"kv-a", "kv-b"})) << generic.body;

  // The CLI lists managed HSMs beside vaults: byok has none.
  auto hsms = Call("GET", sub + "/providers/Microsoft.KeyVault/managedHSMs");
  EXPECT_EQ(Body(hsms), json({{"value", json::array()}}));
  auto dhsms = Call("GET", sub + "/providers/Microsoft.KeyVault/deletedManagedHSMs");
  EXPECT_EQ(Body(dhsms), json({{"value", json::array()}}));
}

TEST_F(VaultsTest, NameRules) {
  for (const char* bad :
       {"ab", "a234567890123456789012345", "1vault", "vault-", "va--ult", "vault_1", "vau.lt"}) {
    auto r = Call("PUT", VaultPath("rg1", bad), kApi, VaultBody());
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(Code(r), "VaultNameNotValid") << bad;
    EXPECT_NE(r.body.find("3-24 alphanumeric characters"), std::string::npos);
  }
  CreateVault("rg1", "abc");
  CreateVault("rg1", "a23456789012345678901234");
  // Names are global: the same name in another group (any case) is taken.
  auto dup = Call("PUT", VaultPath("rg2", "ABC"), kApi, VaultBody());
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Code(dup), "VaultAlreadyExists");
  EXPECT_NE(dup.body.find("is already in use"), std::string::npos);
}

TEST_F(VaultsTest, ValidationErrors) {
  std::string p = VaultPath("rg1", "kv-val");
  auto expect = [&](json body, const std::string& code, int status = 400) {
    auto r = Call("PUT", p, kApi, body);
    EXPECT_EQ(r.status, status) << body.dump() << "\n" << r.body;
    EXPECT_EQ(Code(r), code) << body.dump() << "\n" << r.body;
  };
  json no_loc = VaultBody();
  no_loc.erase("location");
  expect(no_loc, "LocationRequired");
  expect(VaultBody({}, "moon"), "LocationNotAvailableForResourceType");
  expect({{"location", "eastus"}}, "BadRequest");
  json no_tenant = VaultBody();
  no_tenant["properties"].erase("tenantId");
  expect(no_tenant, "BadRequest");
  expect(VaultBody({{"tenantId", "not-a-guid"}}), "BadRequest");
  json no_sku = VaultBody();
  no_sku["properties"].erase("sku");
  expect(no_sku, "BadRequest");
  expect(VaultBody({{"sku", {{"family", "A"}, {"name", "gold"}}}}), "BadRequest");
  expect(VaultBody({{"sku", {{"family", "B"}, {"name", "standard"}}}}), "BadRequest");
  expect(VaultBody({{"enableSoftDelete", false}}), "BadRequest");
  expect(VaultBody({{"enablePurgeProtection", false}}), "BadRequest");
  expect(VaultBody({{"softDeleteRetentionInDays", 6}}), "BadRequest");
  expect(VaultBody({{"softDeleteRetentionInDays", 91}}), "BadRequest");
  expect(VaultBody({{"softDeleteRetentionInDays", "30"}}), "BadRequest");
  expect(VaultBody({{"createMode", "sideways"}}), "BadRequest");
  expect(VaultBody({{"publicNetworkAccess", "sometimes"}}), "BadRequest");
  expect(VaultBody({{"accessPolicies", json::array({{{"tenantId", kTenant},
                                                     {"objectId", kOid},
                                                     {"permissions", {{"keys", {"fly"}}}}}})}}),
         "BadRequest");
  expect(
      VaultBody({{"accessPolicies", json::array({{{"tenantId", kTenant}, {"permissions", {}}}})}}),
      "BadRequest");
  json tags = VaultBody();
  tags["tags"] = {{"a", 1}};
  expect(tags, "BadRequest");
  // Nothing was created by any of these.
  EXPECT_EQ(Call("GET", p).status, 404);
  EXPECT_FALSE(Record("kv-val").has_value());
  // Permissions are matched case-insensitively and answered in Azure's spelling.
  json ok = CreateVault(
      "rg1", "kv-val",
      {{"accessPolicies", json::array({{{"tenantId", kTenant},
                                        {"objectId", kOid},
                                        {"permissions",
                                         {{"keys", {"WRAPKEY", "unwrapkey", "get", "Get"}},
                                          {"secrets", {"set"}}}}}})}});
  EXPECT_EQ(ok["properties"]["accessPolicies"][0]["permissions"]["keys"],
            json({"wrapKey", "unwrapKey", "get"}));
}

TEST_F(VaultsTest, GetMissingVault) {
  auto r = Call("GET", VaultPath("rg1", "kv-missing"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "ResourceNotFound");
  EXPECT_NE(r.body.find("Microsoft.KeyVault/vaults/kv-missing"), std::string::npos);
  EXPECT_EQ(Code(Call("GET", RgPath("nogroup") + "/providers/Microsoft.KeyVault/vaults/kv")),
            "ResourceGroupNotFound");
  EXPECT_EQ(Call("DELETE", VaultPath("rg1", "kv-missing")).status, 204);
}

TEST_F(VaultsTest, SoftDeleteRecoverAndNameReuse) {
  CreateVault("rg1", "kv-del",
              {{"softDeleteRetentionInDays", 30}, {"enablePurgeProtection", true}});
  std::string guid = Record("kv-del")->guid;
  // Something of the data plane, to see it survive the soft delete and come back.
  ASSERT_TRUE(store::RunInTransaction(**store_, [&](store::Transaction& txn) {
                store::Resource k;
                k.id = VaultDataPrefix(guid) + "/keys/k1";
                k.type = "byok.keyvault.key";
                k.body = {{"name", "k1"}};
                return txn.Put(k).status();
              }).ok());

  TimePoint deleted_at = clock_.Now();
  auto del = Call("DELETE", VaultPath("rg1", "kv-del"));
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(authz_.actions.back(), "Microsoft.KeyVault/vaults/delete");
  EXPECT_EQ(Code(Call("GET", VaultPath("rg1", "kv-del"))), "ResourceNotFound");
  EXPECT_EQ(Body(Call("GET", RgPath("rg1") + "/providers/Microsoft.KeyVault/vaults"))["value"],
            json::array());
  auto rec = Record("kv-del");
  ASSERT_TRUE(rec.has_value());
  EXPECT_TRUE(rec->deleted);
  EXPECT_EQ(rec->guid, guid);

  auto list = Call(
      "GET", std::string("/subscriptions/") + kSub + "/providers/Microsoft.KeyVault/deletedVaults");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(authz_.actions.back(), "Microsoft.KeyVault/deletedVaults/read");
  ASSERT_EQ(Body(list)["value"].size(), 1u);
  json d = Body(list)["value"][0];
  EXPECT_EQ(d["id"], DeletedPath("eastus", "kv-del"));
  EXPECT_EQ(d["name"], "kv-del");
  EXPECT_EQ(d["type"], "Microsoft.KeyVault/deletedVaults");
  EXPECT_FALSE(d.contains("internal"));
  EXPECT_EQ(d["properties"]["vaultId"], VaultPath("rg1", "kv-del"));
  EXPECT_EQ(d["properties"]["location"], "eastus");
  EXPECT_EQ(d["properties"]["deletionDate"], FormatAzureTime(deleted_at));
  EXPECT_EQ(d["properties"]["scheduledPurgeDate"], FormatAzureTime(deleted_at + hours(24 * 30)));
  EXPECT_EQ(d["properties"]["purgeProtectionEnabled"], true);
  EXPECT_EQ(d["properties"]["tags"], json::object());

  auto one = Call("GET", DeletedPath("East US", "KV-DEL"));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Body(one), d);
  EXPECT_EQ(authz_.actions.back(), "Microsoft.KeyVault/locations/deletedVaults/read");
  EXPECT_EQ(Call("GET", DeletedPath("westus", "kv-del")).status, 404);

  // The name is held by the deleted vault, in any group.
  for (const char* rg : {"rg1", "rg2"}) {
    auto reuse = Call("PUT", VaultPath(rg, "kv-del"), kApi, VaultBody());
    EXPECT_EQ(reuse.status, 409);
    EXPECT_EQ(Code(reuse), "ConflictError");
    EXPECT_NE(reuse.body.find("already exists in deleted state"), std::string::npos);
  }
  auto avail = Call(
      "POST",
      std::string("/subscriptions/") + kSub + "/providers/Microsoft.KeyVault/checkNameAvailability",
      kApi, {{"name", "kv-del"}, {"type", "Microsoft.KeyVault/vaults"}});
  EXPECT_EQ(Body(avail)["nameAvailable"], false);
  EXPECT_EQ(Body(avail)["reason"], "AlreadyExists");

  // Recover (as `az keyvault recover` sends it): the vault comes back as it was.
  json recover = {{"location", "eastus"},
                  {"properties",
                   {{"tenantId", kTenant},
                    {"sku", {{"family", "A"}, {"name", "standard"}}},
                    {"createMode", "recover"}}}};
  clock_.Advance(hours(1));
  auto rec_r = Call("PUT", VaultPath("rg1", "kv-del"), kApi, recover);
  ASSERT_EQ(rec_r.status, 200) << rec_r.body;
  EXPECT_EQ(Body(rec_r)["properties"]["softDeleteRetentionInDays"], 30);
  EXPECT_EQ(Body(rec_r)["properties"]["enablePurgeProtection"], true);
  EXPECT_EQ(Body(rec_r)["properties"]["accessPolicies"].size(), 1u);
  rec = Record("kv-del");
  ASSERT_TRUE(rec.has_value());
  EXPECT_FALSE(rec->deleted);
  EXPECT_EQ(rec->guid, guid);
  EXPECT_EQ(Body(list = Call("GET", std::string("/subscriptions/") + kSub +
                                        "/providers/Microsoft.KeyVault/deletedVaults"))["value"],
            json::array());
  auto txn = (**store_).BeginRead();
  ASSERT_TRUE(txn.ok());
  auto key = (*txn)->Get(VaultDataPrefix(guid) + "/keys/k1");
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(key->has_value());

  // Recovering again: nothing deleted under that name.
  auto twice = Call("PUT", VaultPath("rg1", "kv-del"), kApi, recover);
  EXPECT_EQ(twice.status, 404);
  EXPECT_EQ(Code(twice), "SoftDeletedVaultDoesNotExist");
}

TEST_F(VaultsTest, PurgeProtectionRefusesPurgeUntilRetentionEnds) {
  CreateVault("rg1", "kv-pp", {{"softDeleteRetentionInDays", 7}, {"enablePurgeProtection", true}});
  ASSERT_EQ(Call("DELETE", VaultPath("rg1", "kv-pp")).status, 200);
  auto refused = Purge("kv-pp");
  EXPECT_EQ(refused.status, 405) << refused.body;
  EXPECT_EQ(Code(refused), "MethodNotAllowed");
  EXPECT_EQ(Body(refused)["error"]["message"], "Operation 'DeletedVaultPurge' is not allowed.");
  EXPECT_EQ(authz_.actions.back(), "Microsoft.KeyVault/locations/deletedVaults/purge/action");
  clock_.Advance(hours(24 * 7 - 1));
  EXPECT_EQ(Code(Purge("kv-pp")), "MethodNotAllowed");
  clock_.Advance(hours(1));
  auto ok = Purge("kv-pp");
  EXPECT_EQ(ok.status, 202) << ok.body;
  Drain();
  EXPECT_FALSE(Record("kv-pp").has_value());
}

TEST_F(VaultsTest, PurgeIsLongRunningAndRemovesEverything) {
  CreateVault("rg1", "kv-purge");
  std::string guid = Record("kv-purge")->guid;
  CreateVault("rg1", "kv-other");
  std::string other = Record("kv-other")->guid;
  for (const std::string& g : {guid, other}) {
    ASSERT_TRUE(store::RunInTransaction(**store_, [&](store::Transaction& txn) {
                  store::Resource k;
                  k.id = VaultDataPrefix(g) + "/keys/k1";
                  k.type = "byok.keyvault.key";
                  k.body = {{"name", "k1"}};
                  BYOK_TRY(txn.Put(k).status());
                  std::vector<uint8_t> der = {1, 2, 3};
                  return txn.PutSecret(VaultSecretPrefix(g) + "keys/k1/v1", der);
                }).ok());
  }
  ASSERT_EQ(Call("DELETE", VaultPath("rg1", "kv-purge")).status, 200);
  auto purge = Purge("kv-purge");
  ASSERT_EQ(purge.status, 202) << purge.body;
  ASSERT_TRUE(purge.headers.Has("Azure-AsyncOperation"));
  ASSERT_TRUE(purge.headers.Has("Location"));
  EXPECT_EQ(purge.headers.Get("Retry-After"), "1");
  Drain();
  std::string st = *purge.headers.Get("Azure-AsyncOperation");
  std::string status_path =
      st.substr(st.find("/subscriptions"), st.find('?') - st.find("/subscriptions"));
  auto status = Call("GET", status_path);
  EXPECT_EQ(Body(status)["status"], "Succeeded") << status.body;

  EXPECT_FALSE(Record("kv-purge").has_value());
  EXPECT_EQ(Call("GET", DeletedPath("eastus", "kv-purge")).status, 404);
  {
    auto txn = (**store_).BeginRead();
    ASSERT_TRUE(txn.ok());
    EXPECT_FALSE((*txn)->Get(VaultDataPrefix(guid) + "/keys/k1")->has_value());
    EXPECT_TRUE((*txn)->ListSecrets(VaultSecretPrefix(guid))->empty());
    // Another vault's data is untouched.
    EXPECT_TRUE((*txn)->Get(VaultDataPrefix(other) + "/keys/k1")->has_value());
    EXPECT_EQ((*txn)->ListSecrets(VaultSecretPrefix(other))->size(), 1u);
  }
  // The name is free again.
  CreateVault("rg2", "kv-purge");
  EXPECT_NE(Record("kv-purge")->guid, guid);
  EXPECT_EQ(Code(Purge("kv-nothing")), "ResourceNotFound");
}

TEST_F(VaultsTest, ScheduledPurgeAfterRetention) {
  CreateVault("rg1", "kv-sched",
              {{"softDeleteRetentionInDays", 7}, {"enablePurgeProtection", true}});
  CreateVault("rg1", "kv-long");  // 90 days
  ASSERT_EQ(Call("DELETE", VaultPath("rg1", "kv-sched")).status, 200);
  ASSERT_EQ(Call("DELETE", VaultPath("rg1", "kv-long")).status, 200);
  clock_.Advance(hours(24 * 7) - std::chrono::seconds(1));
  ASSERT_TRUE(PurgeExpiredVaults(**store_, clock_.Now()).ok());
  EXPECT_TRUE(Record("kv-sched").has_value());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(PurgeExpiredVaults(**store_, clock_.Now()).ok());
  EXPECT_FALSE(Record("kv-sched").has_value());  // purge protection does not outlive retention
  EXPECT_TRUE(Record("kv-long").has_value());
  ASSERT_TRUE(PurgeExpiredVaults(**store_, clock_.Now()).ok());  // idempotent
  clock_.Advance(hours(24 * 83));
  ASSERT_TRUE(PurgeExpiredVaults(**store_, clock_.Now()).ok());
  EXPECT_FALSE(Record("kv-long").has_value());
  CreateVault("rg1", "kv-sched");
}

TEST_F(VaultsTest, ResourceGroupDeleteSoftDeletesVaults) {
  CreateVault("rg2", "kv-cascade", {{"enablePurgeProtection", true}});
  std::string guid = Record("kv-cascade")->guid;
  auto del = Call("DELETE", RgPath("rg2"), "2021-04-01");
  ASSERT_EQ(del.status, 202) << del.body;
  Drain();
  EXPECT_EQ(Code(Call("GET", RgPath("rg2"), "2021-04-01")), "ResourceGroupNotFound");
  auto d = Call("GET", DeletedPath("eastus", "kv-cascade"));
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(Body(d)["properties"]["vaultId"], VaultPath("rg2", "kv-cascade"));
  EXPECT_EQ(Body(d)["properties"]["purgeProtectionEnabled"], true);
  EXPECT_EQ(Code(Call("PUT", VaultPath("rg1", "kv-cascade"), kApi, VaultBody())), "ConflictError");
  // Recoverable once the group exists again.
  CreateGroup("rg2");
  json recover = VaultBody({{"createMode", "recover"}});
  auto r = Call("PUT", VaultPath("rg2", "kv-cascade"), kApi, recover);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Record("kv-cascade")->guid, guid);
}

TEST_F(VaultsTest, AccessPolicyOperations) {
  CreateVault("rg1", "kv-ap");
  std::string base = VaultPath("rg1", "kv-ap") + "/accessPolicies/";
  const std::string other = "99999999-2222-3333-4444-555555555555";
  auto entry = [&](const std::string& oid, json keys) {
    return json{{"properties",
                 {{"accessPolicies", json::array({{{"tenantId", kTenant},
                                                   {"objectId", oid},
                                                   {"permissions", {{"keys", keys}}}}})}}}};
  };
  auto add = Call("PUT", base + "add", kApi, entry(other, {"get", "wrapKey"}));
  ASSERT_EQ(add.status, 200) << add.body;
  EXPECT_EQ(authz_.actions.back(), "Microsoft.KeyVault/vaults/accessPolicies/write");
  EXPECT_EQ(Body(add)["type"], "Microsoft.KeyVault/vaults/accessPolicies");
  EXPECT_EQ(Body(add)["name"], "add");
  ASSERT_EQ(Body(add)["properties"]["accessPolicies"].size(), 2u);
  // add merges into an existing entry.
  add = Call("PUT", base + "add", kApi, entry(other, {"unwrapKey", "get"}));
  EXPECT_EQ(Body(add)["properties"]["accessPolicies"][1]["permissions"]["keys"],
            json({"get", "wrapKey", "unwrapKey"}));
  // replace sets the entry's permissions.
  auto rep = Call("PUT", base + "replace", kApi, entry(other, {"sign"}));
  EXPECT_EQ(Body(rep)["properties"]["accessPolicies"][1]["permissions"]["keys"], json({"sign"}));
  // remove takes permissions away; an entry left with none goes.
  auto rem = Call("PUT", base + "remove", kApi, entry(kOid, {"all"}));
  ASSERT_EQ(rem.status, 200) << rem.body;
  ASSERT_EQ(Body(rem)["properties"]["accessPolicies"].size(), 1u);
  EXPECT_EQ(Body(rem)["properties"]["accessPolicies"][0]["objectId"], other);
  auto vault = Body(Call("GET", VaultPath("rg1", "kv-ap")));
  EXPECT_EQ(vault["properties"]["accessPolicies"], Body(rem)["properties"]["accessPolicies"]);

  EXPECT_EQ(Code(Call("PUT", base + "merge", kApi, entry(other, {"get"}))), "BadRequest");
  EXPECT_EQ(Code(Call("PUT", base + "add", kApi, entry(other, {"fly"}))), "BadRequest");
  EXPECT_EQ(Code(Call("PUT", VaultPath("rg1", "kv-none") + "/accessPolicies/add", kApi,
                      entry(other, {"get"}))),
            "ResourceNotFound");
}

TEST_F(VaultsTest, CheckNameAvailability) {
  std::string path =
      std::string("/subscriptions/") + kSub + "/providers/Microsoft.KeyVault/checkNameAvailability";
  auto free =
      Call("POST", path, kApi, {{"name", "kv-free"}, {"type", "Microsoft.KeyVault/vaults"}});
  ASSERT_EQ(free.status, 200) << free.body;
  EXPECT_EQ(Body(free), json({{"nameAvailable", true}}));
  EXPECT_EQ(authz_.actions.back(), "Microsoft.KeyVault/checkNameAvailability/read");
  auto bad = Call("POST", path, kApi, {{"name", "1bad"}, {"type", "Microsoft.KeyVault/vaults"}});
  EXPECT_EQ(Body(bad)["reason"], "AccountNameInvalid");
  CreateVault("rg1", "kv-taken");
  auto taken =
      Call("POST", path, kApi, {{"name", "KV-TAKEN"}, {"type", "Microsoft.KeyVault/vaults"}});
  EXPECT_EQ(Body(taken)["nameAvailable"], false);
  EXPECT_EQ(Body(taken)["reason"], "AlreadyExists");
  EXPECT_EQ(Code(Call("POST", path, kApi, {{"name", "x"}, {"type", "Microsoft.Storage/x"}})),
            "BadRequest");
}

TEST_F(VaultsTest, RbacDenied) {
  auto r = Call("PUT", VaultPath("rg1", "kv-rbac"), kApi, VaultBody(), "evil");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Code(r), "AuthorizationFailed");
  EXPECT_EQ(Call("GET", VaultPath("rg1", "kv-rbac"), kApi, nullptr, "").status, 401);
  EXPECT_EQ(Code(Call("GET",
                      std::string("/subscriptions/") + kSub +
                          "/providers/Microsoft.KeyVault/deletedVaults",
                      kApi, nullptr, "evil")),
            "AuthorizationFailed");
}

}  // namespace
}  // namespace byok::keyvault::mgmt_test
