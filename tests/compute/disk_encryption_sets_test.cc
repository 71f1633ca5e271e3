#include <gtest/gtest.h>

#include "compute/compute_test_helpers.h"
#include "compute/disk_store.h"

namespace byok::compute::test {
namespace {

using nlohmann::json;

class DesTest : public ComputeFixture {
 protected:
  void SetUp() override {
    ComputeFixture::SetUp();
    CreateGroup("rg");
    CreateVault("rg", "kv1");
    kid_ = CreateKey("kv1", "cmk");
  }
  std::string kid_;
};

TEST_F(DesTest, CreateMakesASystemAssignedIdentity) {
  auto r = PutDes("rg", "des1", "kv1", kid_);
  ASSERT_EQ(r.status, 200) << r.body;  // never 201 (Azure CLI 2.45 refuses it)
  json des = Body(r);
  EXPECT_EQ(des["id"], DesId("rg", "des1"));
  EXPECT_EQ(des["type"], "Microsoft.Compute/diskEncryptionSets");
  EXPECT_EQ(des["location"], kLocation);
  EXPECT_EQ(des["identity"]["type"], "SystemAssigned");
  std::string principal = des["identity"].value("principalId", "");
  EXPECT_EQ(des["identity"]["tenantId"], identity_->tenant_id());
  auto mi = identity_->directory().FindManagedIdentity(DesId("rg", "des1"));
  ASSERT_TRUE(mi.ok()) << mi.status().ToString();
  EXPECT_EQ(mi->object_id, principal);
  const json& p = des["properties"];
  EXPECT_EQ(p["activeKey"]["keyUrl"], kid_);
  EXPECT_EQ(p["activeKey"]["sourceVault"]["id"], VaultId("rg", "kv1"));
  EXPECT_EQ(p["encryptionType"], "EncryptionAtRestWithCustomerKey");
  EXPECT_EQ(p["previousKeys"], json::array());
  EXPECT_EQ(p["provisioningState"], "Succeeded");
  EXPECT_EQ(p["rotationToLatestKeyVersionEnabled"], false);
  EXPECT_TRUE(p.contains("lastKeyRotationTimestamp"));

  // GET, list by group and subscription, associatedResources (empty).
  EXPECT_EQ(Body(Arm("GET", DesId("rg", "des1")))["identity"]["principalId"], principal);
  EXPECT_EQ(
      Body(Arm("GET", RgId("rg") + "/providers/Microsoft.Compute/diskEncryptionSets"))["value"]
          .size(),
      1u);
  EXPECT_EQ(Body(Arm("GET", "/subscriptions/" + subscription_ +
                                "/providers/Microsoft.Compute/diskEncryptionSets"))["value"]
                .size(),
            1u);
  auto assoc = Arm("GET", DesId("rg", "des1") + "/associatedResources");
  ASSERT_EQ(assoc.status, 200) << assoc.body;
  EXPECT_EQ(Body(assoc)["value"], json::array());

  // An update PUT (what `az disk-encryption-set update` sends: the GET document back) keeps the
  // identity.
  json again = des;
  again["tags"] = {{"env", "test"}};
  auto u = Arm("PUT", DesId("rg", "des1"), again, "", "2022-03-02");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(Body(u)["identity"]["principalId"], principal);
  EXPECT_EQ(Body(u)["tags"]["env"], "test");

  // DELETE removes the identity.
  ASSERT_EQ(Arm("DELETE", DesId("rg", "des1")).status, 200);
  EXPECT_FALSE(identity_->directory().FindManagedIdentity(DesId("rg", "des1")).ok());
  EXPECT_EQ(Code(Arm("GET", DesId("rg", "des1"))), "ResourceNotFound");
  EXPECT_EQ(Arm("DELETE", DesId("rg", "des1")).status, 204);
}

TEST_F(DesTest, AcceptsEveryApiVersionOfTheRange) {
  for (const char* v : {"2019-07-01", "2021-12-01", "2022-03-02", "2022-07-02", "2023-01-02",
                        "2023-04-02", "2023-10-02", "2024-03-02"}) {
    EXPECT_EQ(
        Arm("GET", RgId("rg") + "/providers/Microsoft.Compute/diskEncryptionSets", nullptr, "", v)
            .status,
        200)
        << v;
  }
  EXPECT_EQ(Code(Arm("GET", RgId("rg") + "/providers/Microsoft.Compute/diskEncryptionSets", nullptr,
                     "", "2018-01-01")),
            "InvalidApiVersionParameter");
}

TEST_F(DesTest, ValidatesTheVaultAndTheKeyAsAzureDoes) {
  // Purge protection is required.
  CreateVault("rg", "kv-nopp", /*purge_protection=*/false);
  std::string nopp = CreateKey("kv-nopp", "k");
  auto r = PutDes("rg", "d1", "kv-nopp", nopp);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "InvalidParameter");
  EXPECT_NE(Message(r).find("purge protection"), std::string::npos) << r.body;

  // The vault must be in the DES's region.
  CreateVault("rg", "kv-east", true, "eastus");
  r = PutDes("rg", "d1", "kv-east", CreateKey("kv-east", "k"));
  EXPECT_EQ(Code(r), "InvalidParameter");
  EXPECT_NE(Message(r).find("same region"), std::string::npos) << r.body;

  // A versioned key URL, unless automatic rotation is on.
  std::string versionless = kid_.substr(0, kid_.rfind('/'));
  r = PutDes("rg", "d1", "kv1", versionless);
  EXPECT_EQ(Code(r), "InvalidParameter");
  EXPECT_NE(Message(r).find("does not name a key version"), std::string::npos) << r.body;
  r = PutDes("rg", "d1", "kv1", versionless, {{"rotationToLatestKeyVersionEnabled", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["activeKey"]["keyUrl"], kid_);  // resolved to the current one

  // Not a Key Vault key URL of this server.
  r = PutDes("rg", "d2", "kv1", "https://kv1.vault.azure.net/keys/cmk/abc");
  EXPECT_EQ(Code(r), "InvalidParameter");
  // A key that does not exist.
  r = PutDes("rg", "d2", "kv1",
             "https://kv1.vault.localhost:8443/keys/nope/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(Code(r), "KeyVaultKeyNotFound") << r.body;
  // sourceVault must be the key's vault.
  r = PutDes("rg", "d2", "kv-nopp", kid_);
  EXPECT_EQ(Code(r), "InvalidParameter");
  EXPECT_NE(Message(r).find("does not match"), std::string::npos) << r.body;
  // RSA 2048/3072/4096 only.
  std::string ec = CreateKey("kv1", "eck", {{"kty", "EC"}, {"crv", "P-256"}});
  r = PutDes("rg", "d2", "kv1", ec);
  EXPECT_EQ(Code(r), "InvalidParameter");
  EXPECT_NE(Message(r).find("has type 'EC'"), std::string::npos) << r.body;
  EXPECT_EQ(
      PutDes("rg", "d3", "kv1", CreateKey("kv1", "rsa3072", {{"kty", "RSA"}, {"key_size", 3072}}))
          .status,
      200);
  // A disabled key.
  std::string off = CreateKey("kv1", "off");
  SetKeyEnabled(off, false);
  r = PutDes("rg", "d2", "kv1", off);
  EXPECT_EQ(Code(r), "KeyVaultKeyNotEnabled") << r.body;
  EXPECT_NE(Message(r).find("used for disk encryption set 'd2' must be enabled"),
            std::string::npos);

  // Encryption types and identities.
  r = PutDes("rg", "d2", "kv1", kid_,
             {{"encryptionType", "ConfidentialVmEncryptedWithCustomerKey"}});
  EXPECT_EQ(Code(r), "InvalidParameter");
  r = PutDes("rg", "d2", "kv1", kid_, {{"encryptionType", "EncryptionAtRestWithPlatformKey"}});
  EXPECT_EQ(Code(r), "InvalidParameter");
  r = PutDes("rg", "d2", "kv1", kid_,
             {{"encryptionType", "EncryptionAtRestWithPlatformAndCustomerKeys"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["encryptionType"], "EncryptionAtRestWithPlatformAndCustomerKeys");
  r = Arm("PUT", DesId("rg", "d4"),
          {{"location", kLocation},
           {"identity", {{"type", "UserAssigned"}}},
           {"properties", {{"activeKey", {{"keyUrl", kid_}}}}}},
          "", "2022-03-02");
  EXPECT_EQ(Code(r), "InvalidParameter");
  // Without sourceVault the vault is found from the key URL.
  r = Arm("PUT", DesId("rg", "d5"),
          {{"location", "West Europe"},
           {"identity", {{"type", "systemassigned"}}},
           {"properties", {{"activeKey", {{"keyUrl", kid_}}}}}},
          "", "2022-03-02");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["activeKey"]["sourceVault"]["id"], VaultId("rg", "kv1"));
  EXPECT_EQ(Body(r)["location"], "westeurope");
}

TEST_F(DesTest, PatchUpdatesRotationFlagAndCannotMoveRegion) {
  ASSERT_EQ(PutDes("rg", "des1", "kv1", kid_).status, 200);
  auto r = Arm("PATCH", DesId("rg", "des1"),
               {{"properties", {{"rotationToLatestKeyVersionEnabled", true}}}}, "", "2022-03-02");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["rotationToLatestKeyVersionEnabled"], true);
  json moved = Body(r);
  moved["location"] = "eastus";
  EXPECT_EQ(Code(Arm("PUT", DesId("rg", "des1"), moved, "", "2022-03-02")),
            "InvalidResourceLocation");
  EXPECT_EQ(Code(Arm("PATCH", DesId("rg", "nope"), {{"tags", json::object()}}, "", "2022-03-02")),
            "ResourceNotFound");
}

TEST_F(DesTest, ResourceGroupCascadeDeletesTheIdentity) {
  ASSERT_EQ(PutDes("rg", "des1", "kv1", kid_).status, 200);
  ASSERT_TRUE(identity_->directory().FindManagedIdentity(DesId("rg", "des1")).ok());
  auto r = Arm("DELETE", RgId("rg"), nullptr, "", "2021-04-01");
  ASSERT_TRUE(r.status == 200 || r.status == 202) << r.body;
  Drain();
  EXPECT_FALSE(identity_->directory().FindManagedIdentity(DesId("rg", "des1")).ok());
}

}  // namespace
}  // namespace byok::compute::test
