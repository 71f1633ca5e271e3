#include <filesystem>

#include <gtest/gtest.h>

#include "authz/roles.h"
#include "compute/attachments.h"
#include "compute/compute_test_helpers.h"
#include "compute/disk_store.h"
#include "compute/disks.h"

namespace byok::compute::test {
namespace {

using nlohmann::json;

class DisksTest : public ComputeFixture {
 protected:
  void SetUp() override {
    ComputeFixture::SetUp();
    CreateGroup("rg");
    CreateVault("rg", "kv1");
    kid_ = CreateKey("kv1", "cmk");
  }

  // Reads and writes through the blockstore (the data path NBD serves).
  void WriteAndCheck(const std::string& disk_id, uint8_t fill) {
    auto uid = Body(Arm("GET", disk_id))["properties"].value("uniqueId", "");
    auto vol = blocks_->Open(uid);
    ASSERT_TRUE(vol.ok()) << vol.status().ToString();
    std::vector<uint8_t> data(blockstore::kSectorSize, fill), out(blockstore::kSectorSize);
    std::vector<uint8_t> copy = data;
    ASSERT_TRUE((*vol)->Write(8192, copy, true).ok());
    ASSERT_TRUE((*vol)->Read(8192, out).ok());
    EXPECT_EQ(out, data);
  }

  std::string kid_;
};

TEST_F(DisksTest, PlatformKeyDisk) {
  auto r = PutDisk("rg", "d1", 4, "", "", "", "Premium_LRS");
  ASSERT_EQ(r.status, 200) << r.body;
  json d = Body(r);
  const json& p = d["properties"];
  EXPECT_EQ(p["diskSizeGB"], 4);
  EXPECT_EQ(p["diskSizeBytes"], 4ull << 30);
  EXPECT_EQ(p["diskState"], "Unattached");
  EXPECT_EQ(p["provisioningState"], "Succeeded");
  EXPECT_EQ(p["encryption"], json({{"type", "EncryptionAtRestWithPlatformKey"}}));
  EXPECT_EQ(p["tier"], "P1");
  EXPECT_EQ(p["diskIOPSReadWrite"], 120);
  EXPECT_EQ(p["diskMBpsReadWrite"], 25);
  EXPECT_EQ(d["sku"], json({{"name", "Premium_LRS"}, {"tier", "Premium"}}));
  EXPECT_FALSE(d.contains("managedBy"));
  std::string uid = p.value("uniqueId", "");
  EXPECT_EQ(uid.size(), 36u);
  EXPECT_TRUE(std::filesystem::exists(blocks_->PathOf(uid)));
  auto h = HeaderOf(DiskId("rg", "d1"));
  ASSERT_EQ(h.layers.size(), 1u);
  EXPECT_EQ(h.layers[0].key.layer, blockstore::Layer::kPlatform);
  EXPECT_EQ(h.size_bytes, 4ull << 30);
  WriteAndCheck(DiskId("rg", "d1"), 0x5a);

  EXPECT_EQ(Body(Arm("GET", RgId("rg") + "/providers/Microsoft.Compute/disks"))["value"].size(),
            1u);
  ASSERT_EQ(Arm("DELETE", DiskId("rg", "d1")).status, 200);
  EXPECT_FALSE(std::filesystem::exists(blocks_->PathOf(uid)));
  EXPECT_EQ(Arm("DELETE", DiskId("rg", "d1")).status, 204);
}

TEST_F(DisksTest, RequestValidation) {
  EXPECT_EQ(Code(PutDisk("rg", "d", 0)), "InvalidParameter");
  EXPECT_EQ(Code(PutDisk("rg", "d", 32768)), "InvalidParameter");
  EXPECT_EQ(Code(PutDisk("rg", "d", 4, "", "", "", "Gold_LRS")), "InvalidParameter");
  EXPECT_EQ(Code(PutDisk("rg", "d", 4, "", "EncryptionAtRestWithCustomerKey")), "InvalidParameter");
  EXPECT_EQ(Code(PutDisk("rg", "d", 4, "", "Bogus")), "InvalidParameter");
  auto r = Arm("PUT", DiskId("rg", "d"),
               {{"location", kLocation},
                {"properties", {{"creationData", {{"createOption", "Copy"}}}, {"diskSizeGB", 4}}}});
  EXPECT_EQ(Code(r), "InvalidParameter");
  r = Arm("PUT", DiskId("rg", "d"),
          {{"properties", {{"creationData", {{"createOption", "Empty"}}}, {"diskSizeGB", 4}}}});
  EXPECT_EQ(Code(r), "LocationRequired");
  EXPECT_EQ(Arm("GET", RgId("rg") + "/providers/Microsoft.Compute/disks").status, 200);
  EXPECT_EQ(Code(Arm("GET", DiskId("rg", "d"))), "ResourceNotFound");
  EXPECT_EQ(PerformanceOf("StandardSSD_LRS", 4).iops, 500);
  EXPECT_EQ(PerformanceOf("Premium_LRS", 128).tier, "P10");
  EXPECT_EQ(PerformanceOf("UltraSSD_LRS", 4).iops, 1200);
}

TEST_F(DisksTest, CustomerKeyDiskNeedsTheDesIdentityAccess) {
  auto des = Body(PutDes("rg", "des1", "kv1", kid_));
  std::string principal = des["identity"].value("principalId", "");
  ASSERT_FALSE(principal.empty());

  // No access policy for the DES identity yet: Azure's KeyVaultAccessForbidden (400).
  auto r = PutDisk("rg", "d1", 4, DesId("rg", "des1"), "EncryptionAtRestWithCustomerKey");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Code(r), "KeyVaultAccessForbidden");
  EXPECT_EQ(Message(r), "Unable to access key vault resource '" + kid_ +
                            "' to enable encryption at rest. Please grant get, wrap and unwrap key "
                            "permissions to disk encryption set 'des1'. Please visit "
                            "https://aka.ms/keyvaultaccessssecmk for more information.");
  EXPECT_EQ(Code(Arm("GET", DiskId("rg", "d1"))), "ResourceNotFound");

  // get without wrapKey is not enough either.
  GrantKeys("rg", "kv1", principal, {"get"});
  EXPECT_EQ(Code(PutDisk("rg", "d1", 4, DesId("rg", "des1"))), "KeyVaultAccessForbidden");
  GrantKeys("rg", "kv1", principal);
  r = PutDisk("rg", "d1", 4, DesId("rg", "des1"));  // type defaults to customer key with a DES
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["encryption"],
            json({{"type", "EncryptionAtRestWithCustomerKey"},
                  {"diskEncryptionSetId", DesId("rg", "des1")}}));
  auto h = HeaderOf(DiskId("rg", "d1"));
  ASSERT_EQ(h.layers.size(), 1u);
  EXPECT_EQ(h.layers[0].key.layer, blockstore::Layer::kCustomer);
  EXPECT_EQ(h.layers[0].key.key_id, kid_);
  EXPECT_EQ(h.layers[0].key.des_id, DesId("rg", "des1"));
  EXPECT_EQ(h.layers[0].algorithm, "RSA-OAEP-256");
  WriteAndCheck(DiskId("rg", "d1"), 0x11);

  // The DES principal's wrapKey/unwrapKey calls are in the audit log.
  bool wrap = false, unwrap = false;
  for (const audit::Record& rec : AuditRecords()) {
    if (rec.caller_object_id != principal || rec.result != "Success") continue;
    wrap |= rec.operation == "KeyWrap";
    unwrap |= rec.operation == "KeyUnwrap";
  }
  EXPECT_TRUE(wrap && unwrap);

  // associatedResources lists the disk; the DES cannot be deleted while it is used.
  EXPECT_EQ(Body(Arm("GET", DesId("rg", "des1") + "/associatedResources"))["value"],
            json::array({DiskId("rg", "d1")}));
  r = Arm("DELETE", DesId("rg", "des1"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Code(r), "OperationNotAllowed");
  ASSERT_EQ(Arm("DELETE", DiskId("rg", "d1")).status, 200);
  EXPECT_EQ(Arm("DELETE", DesId("rg", "des1")).status, 200);
}

TEST_F(DisksTest, DisabledKeyAndDoubleEncryption) {
  CreateDesWithAccess("rg", "des2", "kv1", kid_,
                      {{"encryptionType", "EncryptionAtRestWithPlatformAndCustomerKeys"}});
  // A customer-key disk cannot use a double-encryption DES (and vice versa).
  EXPECT_EQ(Code(PutDisk("rg", "d0", 4, DesId("rg", "des2"), "EncryptionAtRestWithCustomerKey")),
            "InvalidParameter");
  auto r = PutDisk("rg", "d2", 8, DesId("rg", "des2"),
                   "EncryptionAtRestWithPlatformAndCustomerKeys", "", "StandardSSD_LRS");
  ASSERT_EQ(r.status, 200) << r.body;
  auto h = HeaderOf(DiskId("rg", "d2"));
  ASSERT_EQ(h.layers.size(), 2u);
  EXPECT_EQ(h.layers[0].key.layer, blockstore::Layer::kCustomer);
  EXPECT_EQ(h.layers[1].key.layer, blockstore::Layer::kPlatform);
  WriteAndCheck(DiskId("rg", "d2"), 0x22);

  SetKeyEnabled(kid_, false);
  r = PutDisk("rg", "d3", 4, DesId("rg", "des2"), "EncryptionAtRestWithPlatformAndCustomerKeys");
  EXPECT_EQ(Code(r), "KeyVaultKeyNotEnabled") << r.body;
}

TEST_F(DisksTest, CallerNeedsReadOnTheDes) {
  CreateDesWithAccess("rg", "des1", "kv1", kid_);
  CreateGroup("rg-user");
  identity::Principal user = NewPrincipal("disk-user");
  AssignRole(RgId("rg-user"), authz::kContributorRoleId, user.object_id);
  auto r = PutDisk("rg-user", "d1", 4, DesId("rg", "des1"), "", user.object_id);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Code(r), "LinkedAuthorizationFailed");
  EXPECT_NE(Message(r).find("does not have permission to perform action(s) "
                            "'Microsoft.Compute/diskEncryptionSets/read' on the linked scope(s) '" +
                            DesId("rg", "des1") + "'"),
            std::string::npos)
      << r.body;
  AssignRole(DesId("rg", "des1"), authz::kReaderRoleId, user.object_id);
  r = PutDisk("rg-user", "d1", 4, DesId("rg", "des1"), "", user.object_id);
  EXPECT_EQ(r.status, 200) << r.body;
  // A DES that does not exist.
  r = PutDisk("rg-user", "d2", 4, DesId("rg", "nope"));
  EXPECT_EQ(Code(r), "ResourceNotFound") << r.body;
}

TEST_F(DisksTest, ResizeStatesAndEncryptionChanges) {
  CreateDesWithAccess("rg", "des1", "kv1", kid_);
  ASSERT_EQ(PutDisk("rg", "d1", 4, DesId("rg", "des1")).status, 200);
  json disk = Body(Arm("GET", DiskId("rg", "d1")));

  // Grow through a PATCH and through the CLI's read-modify-write PUT.
  auto r = Arm("PATCH", DiskId("rg", "d1"), {{"properties", {{"diskSizeGB", 8}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["diskSizeGB"], 8);
  EXPECT_EQ(Body(r)["properties"]["tier"], "P2");
  EXPECT_EQ(HeaderOf(DiskId("rg", "d1")).size_bytes, 8ull << 30);
  disk = Body(r);
  disk["properties"]["diskSizeGB"] = 16;
  r = Arm("PUT", DiskId("rg", "d1"), disk);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["uniqueId"], disk["properties"]["uniqueId"]);
  // Shrinking is refused.
  r = Arm("PATCH", DiskId("rg", "d1"), {{"properties", {{"diskSizeGB", 4}}}});
  EXPECT_EQ(Code(r), "OperationNotAllowed") << r.body;
  // Changing the encryption type is refused (byok would have to re-encrypt the data).
  r = Arm("PATCH", DiskId("rg", "d1"),
          {{"properties", {{"encryption", {{"type", "EncryptionAtRestWithPlatformKey"}}}}}});
  EXPECT_EQ(Code(r), "OperationNotAllowed") << r.body;
  // Location never changes.
  disk = Body(Arm("GET", DiskId("rg", "d1")));
  disk["location"] = "eastus";
  EXPECT_EQ(Code(Arm("PUT", DiskId("rg", "d1"), disk)), "InvalidResourceLocation");

  // Attached: no delete, no resize, no encryption change.
  Status s = store::RunInTransaction(*store_, [&](store::Transaction& txn) {
    return SetDiskState(txn, DiskId("rg", "d1"), DiskState::kAttached, "byok-nbd");
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  disk = Body(Arm("GET", DiskId("rg", "d1")));
  EXPECT_EQ(disk["properties"]["diskState"], "Attached");
  EXPECT_EQ(disk["managedBy"], "byok-nbd");
  r = Arm("DELETE", DiskId("rg", "d1"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Message(r), "Disk 'd1' is attached to VM 'byok-nbd'.");
  EXPECT_EQ(Code(Arm("PATCH", DiskId("rg", "d1"), {{"properties", {{"diskSizeGB", 32}}}})),
            "OperationNotAllowed");
  // The resource group cannot be deleted with an attached disk in it.
  r = Arm("DELETE", RgId("rg"), nullptr, "", "2021-04-01");
  Drain();
  EXPECT_EQ(Arm("GET", DiskId("rg", "d1")).status, 200);
  s = store::RunInTransaction(*store_, [&](store::Transaction& txn) {
    return SetDiskState(txn, DiskId("rg", "d1"), DiskState::kUnattached, "");
  });
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(Body(Arm("GET", DiskId("rg", "d1"))).contains("managedBy"));

  // Moving to another DES of the same type re-wraps the customer layer under its key.
  std::string kid2 = CreateKey("kv1", "cmk2");
  json des2 = CreateDesWithAccess("rg", "des2", "kv1", kid2);
  r = Arm("PATCH", DiskId("rg", "d1"),
          {{"properties",
            {{"encryption",
              {{"type", "EncryptionAtRestWithCustomerKey"},
               {"diskEncryptionSetId", DesId("rg", "des2")}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto h = HeaderOf(DiskId("rg", "d1"));
  ASSERT_EQ(h.layers.size(), 1u);
  EXPECT_EQ(h.layers[0].key.key_id, kid2);
  EXPECT_EQ(h.layers[0].key.des_id, DesId("rg", "des2"));
  WriteAndCheck(DiskId("rg", "d1"), 0x33);

  // Deleting the resource group deletes the disk file and the DES identities.
  std::string uid = Body(Arm("GET", DiskId("rg", "d1")))["properties"].value("uniqueId", "");
  r = Arm("DELETE", RgId("rg"), nullptr, "", "2021-04-01");
  ASSERT_TRUE(r.status == 200 || r.status == 202) << r.body;
  Drain();
  EXPECT_FALSE(std::filesystem::exists(blocks_->PathOf(uid)));
  EXPECT_FALSE(identity_->directory().FindManagedIdentity(DesId("rg", "des2")).ok());
}

// DiskService: the ARM create path without a caller (no linked-scope check), optionally Attached,
// and a delete that does not refuse attached disks.
json ServiceDiskBody(const std::string& des_id, int size_gb = 4) {
  json props = {
      {"creationData", {{"createOption", "Empty"}}}, {"diskSizeGB", size_gb}, {"osType", "Linux"}};
  if (!des_id.empty()) {
    props["encryption"] = {{"type", "EncryptionAtRestWithCustomerKey"},
                           {"diskEncryptionSetId", des_id}};
  }
  return {{"location", kLocation}, {"sku", {{"name", "Premium_LRS"}}}, {"properties", props}};
}

TEST_F(DisksTest, ServiceCreatesAttachedDisksAndDeletesThem) {
  CreateDesWithAccess("rg", "des1", "kv1", kid_);
  const std::string vm = RgId("rg") +
                         "/providers/Microsoft.Compute/virtualMachineScaleSets/vmss/"
                         "virtualMachines/0";
  auto created = disks_->Create(DiskId("rg", "os1"), ServiceDiskBody(DesId("rg", "des1")), vm);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ((*created)["properties"]["diskState"], "Attached");
  EXPECT_EQ((*created)["managedBy"], vm);
  EXPECT_EQ((*created)["properties"]["osType"], "Linux");
  EXPECT_EQ((*created)["properties"]["encryption"]["type"], "EncryptionAtRestWithCustomerKey");
  // Stored like any disk: ARM GET shows the same document.
  json got = Body(Arm("GET", DiskId("rg", "os1")));
  EXPECT_EQ(got["properties"]["uniqueId"], (*created)["properties"]["uniqueId"]);
  EXPECT_EQ(got["managedBy"], vm);
  auto h = HeaderOf(DiskId("rg", "os1"));
  ASSERT_EQ(h.layers.size(), 1u);
  EXPECT_EQ(h.layers[0].key.key_id, kid_);
  WriteAndCheck(DiskId("rg", "os1"), 0x44);

  // ARM DELETE refuses an attached disk; the service deletes it, and its file.
  auto r = Arm("DELETE", DiskId("rg", "os1"));
  EXPECT_EQ(r.status, 409) << r.body;
  std::string uid = got["properties"].value("uniqueId", "");
  auto deleted = disks_->Delete(DiskId("rg", "os1"));
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(std::filesystem::exists(blocks_->PathOf(uid)));
  EXPECT_EQ(Code(Arm("GET", DiskId("rg", "os1"))), "ResourceNotFound");
  deleted = disks_->Delete(DiskId("rg", "os1"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);

  // Unattached without managed_by.
  created = disks_->Create(DiskId("rg", "plain"), ServiceDiskBody(""), "");
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ((*created)["properties"]["diskState"], "Unattached");
  EXPECT_FALSE(created->contains("managedBy"));
  EXPECT_EQ((*created)["properties"]["encryption"]["type"], "EncryptionAtRestWithPlatformKey");
}

TEST_F(DisksTest, ServiceValidatesAsArmDoes) {
  CreateDesWithAccess("rg", "des1", "kv1", kid_);
  // No linked-scope check (there is no caller), but the same validation and key checks.
  EXPECT_EQ(disks_->Create(DiskId("rg", "d"), ServiceDiskBody("", 0), "").error().code,
            "InvalidParameter");
  EXPECT_EQ(
      disks_->Create(DiskId("rg", "d"), ServiceDiskBody(DesId("rg", "nope")), "").error().code,
      "ResourceNotFound");
  auto des2 = Body(PutDes("rg", "des2", "kv1", kid_));  // its identity has no access
  ASSERT_TRUE(des2.contains("identity"));
  auto r = disks_->Create(DiskId("rg", "d"), ServiceDiskBody(DesId("rg", "des2")), "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "KeyVaultAccessForbidden");
  EXPECT_EQ(r.error().http_status, 400);
  // The name exists: 409 Conflict (an ARM PUT would update instead).
  ASSERT_EQ(PutDisk("rg", "taken", 4).status, 200);
  r = disks_->Create(DiskId("rg", "taken"), ServiceDiskBody(""), "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Conflict");
  EXPECT_EQ(r.error().http_status, 409);
  // The resource group must exist; the id must be a disk id.
  r = disks_->Create(DiskId("nogroup", "d"), ServiceDiskBody(""), "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ResourceGroupNotFound");
  EXPECT_EQ(disks_->Create(DesId("rg", "x"), ServiceDiskBody(""), "").error().code,
            "InvalidParameter");
  // Nothing was left behind: only "taken" exists, and only its file.
  EXPECT_EQ(Body(Arm("GET", RgId("rg") + "/providers/Microsoft.Compute/disks"))["value"].size(),
            1u);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() + "/disks")) {
    files += e.path().extension() == ".disk";
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(DisksTest, ServiceDeleteEndsAnNbdAttachment) {
  ASSERT_EQ(PutDisk("rg", "d1", 4).status, 200);
  AttachmentDeps ad;
  ad.store = store_.get();
  ad.clock = &clock_;
  ad.random = &CryptoRandom();
  ad.blocks = blocks_.get();
  ad.customer_keys = vault_keys_.get();
  AttachmentManager attachments(ad);
  attachments.SetEndpoint(NbdEndpoint{"127.0.0.1", 10809, ""});
  auto a = attachments.Attach(DiskId("rg", "d1"), "test");
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(attachments.Resolve(a->export_name).ok());
  auto deleted = disks_->Delete(DiskId("rg", "d1"));
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_TRUE(*deleted);
  auto found = attachments.Find(DiskId("rg", "d1"));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

}  // namespace
}  // namespace byok::compute::test
