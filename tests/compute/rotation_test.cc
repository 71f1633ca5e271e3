// Key rotation of disk encryption sets (manual and automatic) and the customer-layer key wrapper.
#include <gtest/gtest.h>

#include "compute/compute_test_helpers.h"
#include "compute/disk_store.h"

namespace byok::compute::test {
namespace {

using nlohmann::json;

class RotationTest : public ComputeFixture {
 protected:
  void SetUp() override {
    ComputeFixture::SetUp();
    CreateGroup("rg");
    CreateVault("rg", "kv1");
    kid_ = CreateKey("kv1", "cmk");
  }

  std::string Uid(const std::string& disk) {
    return Body(Arm("GET", DiskId("rg", disk)))["properties"].value("uniqueId", "");
  }
  void Write(const std::string& disk, uint64_t offset, uint8_t fill) {
    auto vol = blocks_->Open(Uid(disk));
    ASSERT_TRUE(vol.ok()) << vol.status().ToString();
    std::vector<uint8_t> data(blockstore::kSectorSize, fill);
    ASSERT_TRUE((*vol)->Write(offset, data, true).ok());
    (*vol)->Lock("test done");
  }
  void Expect(const std::string& disk, uint64_t offset, uint8_t fill) {
    auto vol = blocks_->Open(Uid(disk));
    ASSERT_TRUE(vol.ok()) << vol.status().ToString();
    if ((*vol)->locked()) {
      ASSERT_TRUE((*vol)->Unlock().ok());
    }
    std::vector<uint8_t> out(blockstore::kSectorSize);
    ASSERT_TRUE((*vol)->Read(offset, out).ok());
    EXPECT_EQ(out, std::vector<uint8_t>(blockstore::kSectorSize, fill));
  }
  std::string CustomerKeyOf(const std::string& disk) {
    for (const auto& l : HeaderOf(DiskId("rg", disk)).layers) {
      if (l.key.layer == blockstore::Layer::kCustomer) return l.key.key_id;
    }
    return "";
  }

  std::string kid_;
};

TEST_F(RotationTest, ManualRotationRewrapsEveryDiskThenClearsPreviousKeys) {
  json des = CreateDesWithAccess("rg", "des1", "kv1", kid_);
  ASSERT_EQ(PutDisk("rg", "a", 4, DesId("rg", "des1")).status, 200);
  ASSERT_EQ(PutDisk("rg", "b", 4, DesId("rg", "des1")).status, 200);
  Write("a", 0, 0xa1);
  Write("b", 4096 * 10, 0xb2);
  std::string before =
      Body(Arm("GET", DesId("rg", "des1")))["properties"].value("lastKeyRotationTimestamp", "");
  clock_.Advance(std::chrono::minutes(5));

  std::string kid2 = RotateKey("kv1", "cmk");
  ASSERT_NE(kid2, kid_);
  // `az disk-encryption-set update --key-url`: the GET document back with the new key URL.
  json update = Body(Arm("GET", DesId("rg", "des1"), nullptr, "", "2022-03-02"));
  update["properties"]["activeKey"]["keyUrl"] = kid2;
  auto r = Arm("PUT", DesId("rg", "des1"), update, "", "2022-03-02");
  ASSERT_EQ(r.status, 202) << r.body;  // long-running while disks are re-wrapped
  EXPECT_TRUE(r.headers.Get("Azure-AsyncOperation").has_value());
  json during = Body(r);
  EXPECT_EQ(during["properties"]["activeKey"]["keyUrl"], kid2);
  ASSERT_EQ(during["properties"]["previousKeys"].size(), 1u);
  EXPECT_EQ(during["properties"]["previousKeys"][0]["keyUrl"], kid_);
  EXPECT_NE(during["properties"].value("lastKeyRotationTimestamp", ""), before);
  Drain();

  json after = Body(Arm("GET", DesId("rg", "des1")));
  EXPECT_EQ(after["properties"]["previousKeys"], json::array());
  EXPECT_EQ(CustomerKeyOf("a"), kid2);
  EXPECT_EQ(CustomerKeyOf("b"), kid2);
  // Data intact; disabling the old version leaves the disks usable, the new one locks them.
  SetKeyEnabled(kid_, false);
  Expect("a", 0, 0xa1);
  Expect("b", 4096 * 10, 0xb2);
  SetKeyEnabled(kid2, false);
  auto h = blocks_->ReadHeader(Uid("a"));
  ASSERT_TRUE(h.ok());
  auto dek = vault_keys_->Unwrap(h->layers[0]);
  EXPECT_EQ(dek.status().code(), StatusCode::kFailedPrecondition) << dek.status().ToString();
}

TEST_F(RotationTest, RotationWithoutDisksHasNoPreviousKeys) {
  CreateDesWithAccess("rg", "des1", "kv1", kid_);
  std::string kid2 = RotateKey("kv1", "cmk");
  auto r = Arm("PATCH", DesId("rg", "des1"), {{"properties", {{"activeKey", {{"keyUrl", kid2}}}}}},
               "", "2022-03-02");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["previousKeys"], json::array());
  EXPECT_EQ(Body(r)["properties"]["activeKey"]["keyUrl"], kid2);
}

TEST_F(RotationTest, AutomaticRotationFollowsTheKeysCurrentVersion) {
  CreateDesWithAccess("rg", "des1", "kv1", kid_, {{"rotationToLatestKeyVersionEnabled", true}});
  ASSERT_EQ(PutDisk("rg", "a", 4, DesId("rg", "des1")).status, 200);
  Write("a", 0, 0x77);
  ASSERT_TRUE(des_->RunAutoKeyRotation(clock_.Now()).ok());  // nothing new: nothing happens
  EXPECT_EQ(CustomerKeyOf("a"), kid_);

  std::string kid2 = RotateKey("kv1", "cmk");
  clock_.Advance(std::chrono::minutes(30));
  ASSERT_TRUE(des_->RunAutoKeyRotation(clock_.Now()).ok());
  json des = Body(Arm("GET", DesId("rg", "des1")));
  EXPECT_EQ(des["properties"]["activeKey"]["keyUrl"], kid2);
  EXPECT_EQ(des["properties"]["previousKeys"], json::array());
  EXPECT_EQ(des["properties"]["lastKeyRotationTimestamp"], FormatAzureTime(clock_.Now()));
  EXPECT_FALSE(des["properties"].contains("autoKeyRotationError"));
  EXPECT_EQ(CustomerKeyOf("a"), kid2);
  Expect("a", 0, 0x77);
}

TEST_F(RotationTest, AutomaticRotationFailureIsRecordedAndClearedByAnUpdate) {
  json created =
      CreateDesWithAccess("rg", "des1", "kv1", kid_, {{"rotationToLatestKeyVersionEnabled", true}});
  ASSERT_EQ(PutDisk("rg", "a", 4, DesId("rg", "des1")).status, 200);
  std::string principal = created["identity"].value("principalId", "");
  RevokeKeys("rg", "kv1", principal);
  std::string kid2 = RotateKey("kv1", "cmk");
  ASSERT_TRUE(des_->RunAutoKeyRotation(clock_.Now()).ok());
  json des = Body(Arm("GET", DesId("rg", "des1")));
  EXPECT_EQ(des["properties"]["activeKey"]["keyUrl"], kid2);
  ASSERT_EQ(des["properties"]["previousKeys"].size(), 1u);
  EXPECT_EQ(des["properties"]["autoKeyRotationError"]["code"], "KeyVaultAccessForbidden") << des;
  EXPECT_EQ(CustomerKeyOf("a"), kid_);

  // Access restored: automatic rotation stays stopped until the DES is updated.
  GrantKeys("rg", "kv1", principal);
  ASSERT_TRUE(des_->RunAutoKeyRotation(clock_.Now()).ok());
  EXPECT_EQ(CustomerKeyOf("a"), kid_);
  auto r = Arm("PATCH", DesId("rg", "des1"), {{"tags", {{"fixed", "yes"}}}}, "", "2022-03-02");
  ASSERT_TRUE(r.status == 200 || r.status == 202) << r.body;
  Drain();
  des = Body(Arm("GET", DesId("rg", "des1")));
  EXPECT_FALSE(des["properties"].contains("autoKeyRotationError")) << des;
  EXPECT_EQ(des["properties"]["previousKeys"], json::array());
  EXPECT_EQ(CustomerKeyOf("a"), kid2);
}

TEST_F(RotationTest, WrapperErrorsMapToKeyWrapperClasses) {
  json des = CreateDesWithAccess("rg", "des1", "kv1", kid_);
  const std::string des_id = DesId("rg", "des1");
  EXPECT_TRUE(vault_keys_->CheckAccess(des_id, kid_).ok());
  std::vector<uint8_t> dek(64, 0x42);
  blockstore::KeyRef ref{blockstore::Layer::kCustomer, kid_, des_id};
  auto wrapped = vault_keys_->Wrap(ref, dek);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(wrapped->algorithm, "RSA-OAEP-256");
  auto plain = vault_keys_->Unwrap(*wrapped);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(std::vector<uint8_t>(plain->span().begin(), plain->span().end()), dek);

  // Corrupt wrapped bytes: DataLoss.
  blockstore::WrappedDek bad = *wrapped;
  bad.wrapped[10] ^= 0xff;
  EXPECT_EQ(vault_keys_->Unwrap(bad).status().code(), StatusCode::kDataLoss);
  // No permission: PermissionDenied with Key Vault's message inside.
  std::string principal = des["identity"].value("principalId", "");
  RevokeKeys("rg", "kv1", principal);
  auto denied = vault_keys_->Unwrap(*wrapped);
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("ForbiddenByPolicy"), std::string::npos)
      << denied.status().ToString();
  GrantKeys("rg", "kv1", principal);
  // Disabled key: FailedPrecondition (KeyDisabled).
  SetKeyEnabled(kid_, false);
  auto disabled = vault_keys_->Unwrap(*wrapped);
  EXPECT_EQ(disabled.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(disabled.status().message().find("KeyDisabled"), std::string::npos);
  SetKeyEnabled(kid_, true);
  // Soft-deleted key: FailedPrecondition; purged: NotFound.
  ASSERT_EQ(Keys("DELETE", "kv1", "/keys/cmk").status, 200);
  auto deleted = vault_keys_->Unwrap(*wrapped);
  EXPECT_EQ(deleted.status().code(), StatusCode::kFailedPrecondition)
      << deleted.status().ToString();
  ASSERT_TRUE(keys_->PurgeExpired(clock_.Now() + std::chrono::hours(24 * 91)).ok());
  auto purged = vault_keys_->Unwrap(*wrapped);
  EXPECT_EQ(purged.status().code(), StatusCode::kNotFound) << purged.status().ToString();
  // A DES without identity: PermissionDenied; platform refs and versionless URLs are refused.
  blockstore::WrappedDek orphan = *wrapped;
  orphan.key.des_id = DesId("rg", "gone");
  EXPECT_EQ(vault_keys_->Unwrap(orphan).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(
      vault_keys_->Wrap({blockstore::Layer::kPlatform, "platform:v1", ""}, dek).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(vault_keys_->CheckAccess(des_id, kid_.substr(0, kid_.rfind('/'))).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace byok::compute::test
