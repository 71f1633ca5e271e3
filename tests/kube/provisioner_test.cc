// The dynamic provisioner: the driver's parameter checks, quantities, the disk PUT body, and
// Reconcile over a real ObjectStore with a recording ARM client (binding, failure events and
// their de-duplication, WaitForFirstConsumer, the cluster's default DES, reclaim policies).
#include "kube/provisioner.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "containerservice/cluster_store.h"
#include "kube/kinds.h"
#include "kube/object_store.h"
#include "store_fixture_helpers.h"

namespace byok::kube {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kSub[] = "00000000-0000-0000-0000-000000000001";
constexpr char kUid[] = "0123456789abcdef0123456789abcdef";

std::string DesId(const std::string& rg = "desrg") {
  return fmt::format(
      "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/diskEncryptionSets/des",
      kSub, rg);
}

// ---- Parameters ----

TEST(ParseDiskParametersTest, SeedParametersAreAccepted) {
  auto p = ParseDiskParameters(
      {{"skuname", "StandardSSD_LRS"}, {"kind", "managed"}, {"diskEncryptionSetID", DesId()}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->sku, "StandardSSD_LRS");
  EXPECT_EQ(p->des_id, DesId());
  EXPECT_EQ(p->caching_mode, "ReadOnly");
  auto defaults = ParseDiskParameters(json());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->sku, "StandardSSD_LRS");
  auto alias = ParseDiskParameters({{"StorageAccountType", "Premium_LRS"},
                                    {"resourceGroup", "other"},
                                    {"tags", "a=1, b = 2"},
                                    {"csi.storage.k8s.io/fstype", "xfs"}});
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_EQ(alias->sku, "Premium_LRS");
  EXPECT_EQ(alias->resource_group, "other");
  EXPECT_EQ(alias->tags.at("a"), "1");
  EXPECT_EQ(alias->tags.at("b"), "2");
}

TEST(ParseDiskParametersTest, DriverMessages) {
  auto msg = [](const json& params) {
    auto p = ParseDiskParameters(params);
    EXPECT_FALSE(p.ok());
    return p.ok() ? std::string() : p.status().message();
  };
  EXPECT_EQ(msg({{"foo", "bar"}}),
            "rpc error: code = InvalidArgument desc = Failed parsing disk parameters: invalid "
            "parameter foo in storage class");
  EXPECT_EQ(msg({{"skuname", "Gold_LRS"}}),
            "rpc error: code = InvalidArgument desc = azureDisk - Gold_LRS is not supported "
            "sku/storageaccounttype. Supported values are [Premium_LRS Premium_ZRS Standard_LRS "
            "StandardSSD_LRS StandardSSD_ZRS UltraSSD_LRS PremiumV2_LRS]");
  EXPECT_THAT(msg({{"cachingMode", "Sometimes"}}),
              HasSubstr("azureDisk - Sometimes is not supported cachingmode"));
  EXPECT_EQ(msg({{"diskEncryptionType", "Rot13"}, {"diskEncryptionSetID", DesId()}}),
            "rpc error: code = InvalidArgument desc = DiskEncryptionType(Rot13) is not supported");
  EXPECT_EQ(msg({{"diskEncryptionSetID", "des"}}),
            "rpc error: code = Internal desc = AzureDisk - format of DiskEncryptionSetID(des) is "
            "incorrect, correct format: /subscriptions/{subs-id}/resourceGroups/{rg-name}/"
            "providers/Microsoft.Compute/diskEncryptionSets/{diskEncryptionSet-name}");
  EXPECT_THAT(
      msg({{"diskEncryptionSetID", fmt::format("/subscriptions/{}/resourceGroups/rg/providers/"
                                               "Microsoft.Compute/disks/d",
                                               kSub)}}),
      HasSubstr("format of DiskEncryptionSetID"));
  EXPECT_THAT(msg({{"tags", "a=1,b"}}),
              HasSubstr("Tags 'a=1,b' are invalid, the format should like: "
                        "'key1=value1,key2=value2'"));
  EXPECT_THAT(msg({{"kind", "shared"}}), HasSubstr("kind shared is not supported"));
  EXPECT_THAT(msg({{"diskIOPSReadWrite", "100"}}),
              HasSubstr("DiskIOPSReadWrite parameter is only applicable in UltraSSD_LRS"));
  EXPECT_TRUE(
      ParseDiskParameters({{"skuname", "UltraSSD_LRS"}, {"diskIOPSReadWrite", "100"}}).ok());
}

TEST(ParseDiskParametersTest, PathParametersAreArmNames) {
  for (const char* key : {"resourceGroup", "subscriptionID", "diskName"}) {
    for (const char* bad : {"rg/../../x", "a?api-version=1", "..", "a#b", "a%2fb"}) {
      auto p = ParseDiskParameters({{key, bad}});
      ASSERT_FALSE(p.ok()) << key << "=" << bad;
      EXPECT_THAT(p.status().message(), HasSubstr("of parameter " + std::string(key)));
    }
  }
  EXPECT_TRUE(ParseDiskParameters({{"resourceGroup", "my-RG_1.(x)"}}).ok());
}

TEST(QuantityTest, ParsesKubernetesQuantities) {
  EXPECT_EQ(*ParseQuantity("10Gi"), int64_t{10} << 30);
  EXPECT_EQ(*ParseQuantity("1G"), 1000000000);
  EXPECT_EQ(*ParseQuantity("1500M"), 1500000000);
  EXPECT_EQ(*ParseQuantity("0.5Ti"), int64_t{512} << 30);
  EXPECT_EQ(*ParseQuantity("1e9"), 1000000000);
  EXPECT_EQ(*ParseQuantity("4096"), 4096);
  EXPECT_FALSE(ParseQuantity("ten").ok());
  EXPECT_FALSE(ParseQuantity("10Gb").ok());
  EXPECT_FALSE(ParseQuantity("").ok());
  EXPECT_EQ(RoundUpGiB(*ParseQuantity("1G")), 1);
  EXPECT_EQ(RoundUpGiB(*ParseQuantity("1500M")), 2);
  EXPECT_EQ(RoundUpGiB(0), 1);
  EXPECT_EQ(RoundUpGiB(int64_t{5} << 30), 5);
}

TEST(DiskBodyTest, AsTheDriverSendsIt) {
  auto p =
      ParseDiskParameters({{"skuname", "Premium_LRS"},
                           {"diskEncryptionSetID", DesId()},
                           {"diskEncryptionType", "EncryptionAtRestWithPlatformAndCustomerKeys"},
                           {"tags", "team=storage"}});
  ASSERT_TRUE(p.ok());
  json body = DiskBody(*p, DiskRequest{"default", "data", "pvc-1", 5, "eastus"});
  EXPECT_EQ(body["location"], "eastus");
  EXPECT_EQ(body["sku"]["name"], "Premium_LRS");
  EXPECT_EQ(body["properties"]["diskSizeGB"], 5);
  EXPECT_EQ(body["properties"]["creationData"]["createOption"], "Empty");
  EXPECT_EQ(body["properties"]["encryption"]["diskEncryptionSetId"], DesId());
  EXPECT_EQ(body["properties"]["encryption"]["type"],
            "EncryptionAtRestWithPlatformAndCustomerKeys");
  EXPECT_EQ(body["tags"]["kubernetes.io-created-for-pvc-name"], "data");
  EXPECT_EQ(body["tags"]["kubernetes.io-created-for-pvc-namespace"], "default");
  EXPECT_EQ(body["tags"]["kubernetes.io-created-for-pv-name"], "pvc-1");
  EXPECT_EQ(body["tags"]["k8s-azure-created-by"], "kubernetes-azure-dd");
  EXPECT_EQ(body["tags"]["team"], "storage");

  auto plain = ParseDiskParameters(json::object());
  json no_des = DiskBody(*plain, DiskRequest{"ns", "c", "pvc-2", 1, "westus"});
  EXPECT_FALSE(no_des["properties"].contains("encryption"));
  EXPECT_EQ(no_des["sku"]["name"], "StandardSSD_LRS");
}

// ---- Reconcile ----

struct Call {
  std::string method;
  std::string path;
  json body;
  std::string cluster_id;
};

class RecordingArm : public ArmClient {
 public:
  Result<ArmReply> Call(const containerservice::ClusterRecord& cluster, std::string_view method,
                        std::string_view path, const json& body) override {
    calls.push_back({std::string(method), std::string(path), body, cluster.id});
    if (method == "PUT" && put_status != 200) return ArmReply{put_status, put_error};
    if (method == "DELETE") return ArmReply{delete_status, json()};
    json out = body;
    out["id"] = std::string(path.substr(0, path.find('?')));
    return ArmReply{200, out};
  }
  std::vector<::byok::kube::Call> calls;
  int put_status = 200;
  json put_error;
  int delete_status = 200;
};

class ProvisionerTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    objects_ = std::make_unique<ObjectStore>(ObjectStoreDeps{store_.get(), &clock_, &random_});
    ProvisionerDeps d;
    d.objects = objects_.get();
    d.store = store_.get();
    d.clock = &clock_;
    d.random = &random_;
    d.arm = &arm_;
    prov_ = std::make_unique<Provisioner>(d);
  }
  void TearDown() override {
    prov_.reset();
    objects_.reset();
    StoreFixture::TearDown();
  }

  void AddCluster(const std::string& version = "1.24.9", const std::string& cluster_des = "") {
    cluster_id_ = fmt::format(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ContainerService/"
        "managedClusters/aks",
        kSub);
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    store::Resource r;
    r.id = cluster_id_;
    r.type = containerservice::kClusterType;
    json props = {{"kubernetesVersion", version},
                  {"currentKubernetesVersion", version},
                  {"nodeResourceGroup", "MC_rg_aks_eastus"},
                  {"provisioningState", "Succeeded"},
                  {"powerState", {{"code", "Running"}}}};
    if (!cluster_des.empty()) props["diskEncryptionSetID"] = cluster_des;
    r.body = {{"id", cluster_id_},
              {"name", "aks"},
              {"location", "eastus"},
              {"properties", props},
              {"internal", {{"uniqueId", kUid}}}};
    ASSERT_TRUE((*txn)->Put(std::move(r)).ok());
    store::Resource index;
    index.id = containerservice::ClusterIndexId(kUid);
    index.type = containerservice::kClusterIndexType;
    index.body = {{"id", cluster_id_}};
    ASSERT_TRUE((*txn)->Put(std::move(index)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
    ASSERT_TRUE(objects_->EnsureBuiltins(kUid).ok());
  }

  const Kind& K(std::string_view group, std::string_view resource) {
    return *FindKind(group, "v1", resource);
  }

  void AddClass(const std::string& name, const json& params, const std::string& mode = "Immediate",
                const std::string& reclaim = "Delete") {
    json sc = {{"metadata", {{"name", name}}},
               {"provisioner", "disk.csi.azure.com"},
               {"parameters", params},
               {"reclaimPolicy", reclaim},
               {"volumeBindingMode", mode}};
    auto r = objects_->Create(kUid, K("storage.k8s.io", "storageclasses"), sc);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  json AddClaim(const std::string& name, const std::string& cls, const std::string& size = "5Gi") {
    json pvc = {{"metadata", {{"name", name}, {"namespace", "default"}}},
                {"spec",
                 {{"accessModes", {"ReadWriteOnce"}},
                  {"storageClassName", cls},
                  {"resources", {{"requests", {{"storage", size}}}}}}},
                {"status", {{"phase", "Pending"}}}};
    auto r = objects_->Create(kUid, K("", "persistentvolumeclaims"), pvc);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : json();
  }

  json Claim(const std::string& name) {
    auto r = objects_->Get(kUid, K("", "persistentvolumeclaims"), "default", name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : json();
  }

  std::vector<json> Events() {
    auto r = objects_->List(kUid, K("", "events"), "default");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->items : std::vector<json>();
  }
  std::vector<json> EventsWithReason(const std::string& reason) {
    std::vector<json> out;
    for (json& e : Events()) {
      if (e.value("reason", "") == reason) out.push_back(e);
    }
    return out;
  }
  int Puts() const {
    int n = 0;
    for (const auto& c : arm_.calls) n += c.method == "PUT";
    return n;
  }

  std::unique_ptr<ObjectStore> objects_;
  RecordingArm arm_;
  std::unique_ptr<Provisioner> prov_;
  std::string cluster_id_;
};

TEST_F(ProvisionerTest, ImmediateClaimBecomesBoundToANewDisk) {
  AddCluster();
  AddClass("byok",
           {{"skuname", "StandardSSD_LRS"}, {"kind", "managed"}, {"diskEncryptionSetID", DesId()}});
  json pvc = AddClaim("data", "byok", "5Gi");
  const std::string uid = pvc["metadata"]["uid"];
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());

  ASSERT_EQ(arm_.calls.size(), 1u);
  const std::string disk_id = fmt::format(
      "/subscriptions/{}/resourceGroups/MC_rg_aks_eastus/providers/"
      "Microsoft.Compute/disks/pvc-{}",
      kSub, uid);
  EXPECT_EQ(arm_.calls[0].method, "PUT");
  EXPECT_EQ(arm_.calls[0].path, disk_id + "?api-version=2022-07-02");
  EXPECT_EQ(arm_.calls[0].cluster_id, cluster_id_);
  EXPECT_EQ(arm_.calls[0].body["properties"]["diskSizeGB"], 5);
  EXPECT_EQ(arm_.calls[0].body["properties"]["encryption"]["diskEncryptionSetId"], DesId());
  EXPECT_EQ(arm_.calls[0].body["location"], "eastus");

  auto pv = objects_->Get(kUid, K("", "persistentvolumes"), "", "pvc-" + uid);
  ASSERT_TRUE(pv.ok()) << pv.status().ToString();
  EXPECT_EQ((*pv)["spec"]["csi"]["driver"], "disk.csi.azure.com");
  EXPECT_EQ((*pv)["spec"]["csi"]["volumeHandle"], disk_id);
  EXPECT_EQ((*pv)["spec"]["capacity"]["storage"], "5Gi");
  EXPECT_EQ((*pv)["spec"]["claimRef"]["uid"], uid);
  EXPECT_EQ((*pv)["spec"]["claimRef"]["name"], "data");
  EXPECT_EQ((*pv)["spec"]["storageClassName"], "byok");
  EXPECT_EQ((*pv)["spec"]["persistentVolumeReclaimPolicy"], "Delete");
  EXPECT_EQ((*pv)["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"],
            "disk.csi.azure.com");
  EXPECT_EQ((*pv)["status"]["phase"], "Bound");

  json bound = Claim("data");
  EXPECT_EQ(bound["spec"]["volumeName"], "pvc-" + uid);
  EXPECT_EQ(bound["status"]["phase"], "Bound");
  EXPECT_EQ(bound["status"]["capacity"]["storage"], "5Gi");
  EXPECT_EQ(bound["status"]["accessModes"], json::array({"ReadWriteOnce"}));
  const json& a = bound["metadata"]["annotations"];
  EXPECT_EQ(a["pv.kubernetes.io/bind-completed"], "yes");
  EXPECT_EQ(a["pv.kubernetes.io/bound-by-controller"], "yes");
  EXPECT_EQ(a["volume.kubernetes.io/storage-provisioner"], "disk.csi.azure.com");
  EXPECT_EQ(a["volume.beta.kubernetes.io/storage-provisioner"], "disk.csi.azure.com");

  auto ok = EventsWithReason("ProvisioningSucceeded");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0]["type"], "Normal");
  EXPECT_EQ(ok[0]["message"], "Successfully provisioned volume pvc-" + uid);
  EXPECT_EQ(ok[0]["involvedObject"]["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(ok[0]["involvedObject"]["uid"], uid);
  EXPECT_EQ(ok[0]["source"]["component"], prov_->component());
  EXPECT_THAT(prov_->component(), HasSubstr("disk.csi.azure.com_"));
  auto provisioning = EventsWithReason("Provisioning");
  ASSERT_EQ(provisioning.size(), 1u);
  EXPECT_EQ(provisioning[0]["message"],
            "External provisioner is provisioning volume for claim \"default/data\"");

  // Nothing more to do: a second pass calls nothing.
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(arm_.calls.size(), 1u);
}

TEST_F(ProvisionerTest, ArmRefusalIsAWarningEventAndRetried) {
  AddCluster();
  AddClass("byok", {{"skuname", "StandardSSD_LRS"}, {"diskEncryptionSetID", DesId()}});
  arm_.put_status = 403;
  arm_.put_error = {{"error",
                     {{"code", "LinkedAuthorizationFailed"},
                      {"message", "The client has permission ... on the linked scope(s)"}}}};
  AddClaim("data", "byok");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 2);
  json pvc = Claim("data");
  EXPECT_EQ(pvc["status"]["phase"], "Pending");
  EXPECT_FALSE(pvc["spec"].contains("volumeName"));
  auto failed = EventsWithReason("ProvisioningFailed");
  ASSERT_EQ(failed.size(), 1u);  // de-duplicated
  EXPECT_EQ(failed[0]["type"], "Warning");
  EXPECT_EQ(failed[0]["count"], 2);
  const std::string msg = failed[0]["message"];
  EXPECT_THAT(msg, HasSubstr("failed to provision volume with StorageClass \"byok\": rpc error: "
                             "code = Internal desc = Retriable: false, RetryAfter: 0s, "
                             "HTTPStatusCode: 403, RawError: "));
  EXPECT_THAT(msg, HasSubstr("LinkedAuthorizationFailed"));

  arm_.put_status = 200;
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("data")["status"]["phase"], "Bound");
}

TEST_F(ProvisionerTest, BadParametersFailWithTheDriversMessage) {
  AddCluster();
  AddClass("bad", {{"skuname", "StandardSSD_LRS"}, {"color", "blue"}});
  AddClaim("data", "bad");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 0);
  auto failed = EventsWithReason("ProvisioningFailed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["message"],
            "failed to provision volume with StorageClass \"bad\": rpc error: code = "
            "InvalidArgument desc = Failed parsing disk parameters: invalid parameter color in "
            "storage class");
}

TEST_F(ProvisionerTest, MissingClassIsReportedByThePvController) {
  AddCluster();
  AddClaim("data", "nope");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  auto failed = EventsWithReason("ProvisioningFailed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["message"], "storageclass.storage.k8s.io \"nope\" not found");
  EXPECT_EQ(failed[0]["source"]["component"], "persistentvolume-controller");
}

TEST_F(ProvisionerTest, OldClustersRefuseDesParameters) {
  AddCluster("1.23.12");
  AddClass("byok", {{"diskEncryptionSetID", DesId()}});
  AddClaim("data", "byok");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 0);
  auto failed = EventsWithReason("ProvisioningFailed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_THAT(failed[0]["message"].get<std::string>(),
              HasSubstr("diskEncryptionSetID requires Kubernetes 1.24 or later"));
}

TEST_F(ProvisionerTest, WaitForFirstConsumerWaitsForTheSelectedNodeAndUsesTheClusterDes) {
  AddCluster("1.25.6", DesId("rg"));
  AddClaim("data", "managed-csi");  // built-in: WaitForFirstConsumer, no DES parameter
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 0);
  EXPECT_EQ(EventsWithReason("WaitForFirstConsumer").size(), 1u);
  EXPECT_EQ(Claim("data")["status"]["phase"], "Pending");

  auto annotated =
      objects_->Modify(kUid, K("", "persistentvolumeclaims"), "default", "data", [](json cur) {
        cur["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] =
            "aks-nodepool1-12345678-vmss000000";
        return Result<json>(std::move(cur));
      });
  ASSERT_TRUE(annotated.ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  ASSERT_EQ(Puts(), 1);
  EXPECT_EQ(arm_.calls[0].body["properties"]["encryption"]["diskEncryptionSetId"], DesId("rg"));
  EXPECT_EQ(arm_.calls[0].body["properties"]["encryption"]["type"],
            "EncryptionAtRestWithCustomerKey");
  EXPECT_EQ(Claim("data")["status"]["phase"], "Bound");
}

TEST_F(ProvisionerTest, DefaultClassIsAssignedToClaimsWithoutOne) {
  AddCluster();
  json pvc = {
      {"metadata", {{"name", "noclass"}, {"namespace", "default"}}},
      {"spec",
       {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  ASSERT_TRUE(objects_->Create(kUid, K("", "persistentvolumeclaims"), pvc).ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("noclass")["spec"]["storageClassName"], "default");
}

TEST_F(ProvisionerTest, DeletedClaimReleasesAndDeletesTheDisk) {
  AddCluster();
  AddClass("byok", {{"diskEncryptionSetID", DesId()}});
  json pvc = AddClaim("data", "byok");
  const std::string pv_name = "pvc-" + pvc["metadata"]["uid"].get<std::string>();
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  ASSERT_TRUE(objects_->Delete(kUid, K("", "persistentvolumeclaims"), "default", "data").ok());

  arm_.delete_status = 500;
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  auto pv = objects_->Get(kUid, K("", "persistentvolumes"), "", pv_name);
  ASSERT_TRUE(pv.ok());
  EXPECT_EQ((*pv)["status"]["phase"], "Released");
  EXPECT_EQ(EventsWithReason("VolumeFailedDelete").size(), 1u);

  arm_.delete_status = 200;
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  ASSERT_EQ(arm_.calls.back().method, "DELETE");
  EXPECT_EQ(arm_.calls.back().path,
            (*pv)["spec"]["csi"]["volumeHandle"].get<std::string>() + "?api-version=2022-07-02");
  EXPECT_TRUE(objects_->Get(kUid, K("", "persistentvolumes"), "", pv_name)
                  .status()
                  .Is(StatusCode::kNotFound));
}

TEST_F(ProvisionerTest, OnlyItsOwnVolumesAreReclaimed) {
  AddCluster();
  AddClass("byok", {{"diskEncryptionSetID", DesId()}});
  auto volume = [&](const std::string& name, const std::string& handle, const json& claim_ref) {
    json pv = {{"metadata",
                {{"name", name},
                 {"annotations", {{"pv.kubernetes.io/provisioned-by", "disk.csi.azure.com"}}}}},
               {"spec",
                {{"capacity", {{"storage", "1Gi"}}},
                 {"accessModes", json::array({"ReadWriteOnce"})},
                 {"persistentVolumeReclaimPolicy", "Delete"},
                 {"claimRef", claim_ref},
                 {"csi", {{"driver", "disk.csi.azure.com"}, {"volumeHandle", handle}}}}}};
    ASSERT_TRUE(objects_->Create(kUid, K("", "persistentvolumes"), pv).ok());
  };
  // A volume written by a cluster user, pointing the DELETE at the disk encryption set.
  volume("pvc-11111111-1111-1111-1111-111111111111", DesId(),
         {{"namespace", "default"},
          {"name", "gone"},
          {"uid", "11111111-1111-1111-1111-111111111111"}});
  // A disk id with a query smuggled into its name.
  volume("pvc-22222222-2222-2222-2222-222222222222",
         "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d?api-version=1",
         {{"namespace", "default"},
          {"name", "gone2"},
          {"uid", "22222222-2222-2222-2222-222222222222"}});
  // A disk volume not named after its claim.
  volume("static-disk", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
         {{"namespace", "default"}, {"name", "gone3"}, {"uid", "33333333"}});
  // A volume pre-bound to a claim that does not exist yet (no uid): it waits.
  volume("pvc-prebound", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/p",
         {{"namespace", "default"}, {"name", "later"}});
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  for (const auto& call : arm_.calls) EXPECT_NE(call.method, "DELETE") << call.path;
  auto prebound = objects_->Get(kUid, K("", "persistentvolumes"), "", "pvc-prebound");
  ASSERT_TRUE(prebound.ok());
  EXPECT_NE(prebound->value(json::json_pointer("/status/phase"), std::string()), "Released");
}

TEST_F(ProvisionerTest, RetainKeepsTheReleasedVolumeAndItsDisk) {
  AddCluster();
  AddClass("keep", {{"skuname", "Premium_LRS"}}, "Immediate", "Retain");
  json pvc = AddClaim("data", "keep");
  const std::string pv_name = "pvc-" + pvc["metadata"]["uid"].get<std::string>();
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  ASSERT_TRUE(objects_->Delete(kUid, K("", "persistentvolumeclaims"), "default", "data").ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(arm_.calls.size(), 1u);  // the PUT only
  auto pv = objects_->Get(kUid, K("", "persistentvolumes"), "", pv_name);
  ASSERT_TRUE(pv.ok());
  EXPECT_EQ((*pv)["status"]["phase"], "Released");
  EXPECT_EQ((*pv)["spec"]["persistentVolumeReclaimPolicy"], "Retain");
}

TEST_F(ProvisionerTest, ReconcileAllVisitsEveryCluster) {
  AddCluster();
  AddClass("byok", {{"skuname", "Standard_LRS"}});
  AddClaim("data", "byok");
  ASSERT_TRUE(prov_->ReconcileAll(clock_.Now()).ok());
  EXPECT_EQ(Claim("data")["status"]["phase"], "Bound");
}

}  // namespace
}  // namespace byok::kube
