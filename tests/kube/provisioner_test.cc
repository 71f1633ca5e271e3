// The dynamic provisioner: the driver's parameter checks, quantities, the disk PUT body, and
// Reconcile over a real ObjectStore with a recording ARM client (binding, failure events and
// their de-duplication, WaitForFirstConsumer, the cluster's default DES, reclaim policies).
#include "kube/provisioner.h"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
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

TEST(ArmTokenCacheKeyTest, IsTheClustersUniqueIdNotItsArmId) {
  containerservice::ClusterRecord old_cluster, new_cluster;
  old_cluster.id = new_cluster.id =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c";
  old_cluster.unique_id = "uid-old";
  new_cluster.unique_id = "uid-new";  // deleted and created again under the same name
  EXPECT_NE(ArmTokenCacheKey(old_cluster), ArmTokenCacheKey(new_cluster));
  containerservice::ClusterRecord same = old_cluster;
  same.id =
      "/SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.containerservice/"
      "managedclusters/c";
  EXPECT_EQ(ArmTokenCacheKey(old_cluster), ArmTokenCacheKey(same));
}

// ---- Reconcile ----

struct Call {
  std::string method;
  std::string path;
  json body;
  std::string cluster_id;
  std::thread::id thread;
};

class RecordingArm : public ArmClient {
 public:
  Result<ArmReply> Call(const containerservice::ClusterRecord& cluster, std::string_view method,
                        std::string_view path, const json& body) override {
    calls.push_back(
        {std::string(method), std::string(path), body, cluster.id, std::this_thread::get_id()});
    if (hook) {
      if (std::optional<ArmReply> r = hook(method, path); r.has_value()) return *r;
    }
    if (method == "PUT" && put_status != 200) return ArmReply{put_status, put_error};
    if (method == "DELETE") return ArmReply{delete_status, json()};
    json out = body;
    out["id"] = std::string(path.substr(0, path.find('?')));
    return ArmReply{200, out};
  }
  std::vector<::byok::kube::Call> calls;
  // Answers a call instead of the defaults when it returns a reply.
  std::function<std::optional<ArmReply>(std::string_view method, std::string_view path)> hook;
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
  clock_.Advance(std::chrono::seconds(3));  // the first retry's backoff
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
  prov_->ResetBackoff();  // as `byok clock advance` does
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

// ---- Review fixes: shutdown, backoff, events by name, accepted PUTs, static binding ----

TEST_F(ProvisionerTest, NoArmCallOnceStopHasBegun) {
  AddCluster();
  AddClass("byok", {{"skuname", "Standard_LRS"}});
  AddClaim("a", "byok");
  AddClaim("b", "byok");
  // byokd shuts down while the pass makes its first call.
  arm_.hook = [&](std::string_view, std::string_view) -> std::optional<ArmReply> {
    prov_->Stop();
    return std::nullopt;
  };
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(arm_.calls.size(), 1u);  // the second claim's PUT never started
  arm_.hook = nullptr;
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  ASSERT_TRUE(prov_->ReconcileAll(clock_.Now()).ok());
  EXPECT_EQ(arm_.calls.size(), 1u);
}

TEST_F(ProvisionerTest, StartedReconcileAllWaitsForTheWorkersPass) {
  AddCluster();
  AddClass("byok", {{"skuname", "Standard_LRS"}});
  prov_->Start();
  AddClaim("data", "byok");
  // The scheduler task (and `byok clock advance`) only wakes the worker, and returns once the
  // pass it asked for is over.
  ASSERT_TRUE(prov_->ReconcileAll(clock_.Now()).ok());
  EXPECT_EQ(Claim("data")["status"]["phase"], "Bound");
  ASSERT_EQ(Puts(), 1);
  EXPECT_NE(arm_.calls[0].thread, std::this_thread::get_id());
  // Again with nothing to do: returns at once.
  ASSERT_TRUE(prov_->ReconcileAll(clock_.Now()).ok());
  EXPECT_EQ(Puts(), 1);
  prov_->Stop();
  AddClaim("later", "byok");
  ASSERT_TRUE(prov_->ReconcileAll(clock_.Now()).ok());  // stopped: nothing
  EXPECT_EQ(Puts(), 1);
}

TEST_F(ProvisionerTest, FailedClaimsBackOff) {
  AddCluster();
  AddClass("byok", {{"skuname", "Standard_LRS"}});
  arm_.put_status = 403;
  arm_.put_error = {{"error", {{"code", "AuthorizationFailed"}, {"message", "no"}}}};
  json pvc = AddClaim("data", "byok");
  const std::string uid = pvc["metadata"]["uid"];
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 1);
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());  // within 3 s: no new attempt
  EXPECT_EQ(Puts(), 1);
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 2);
  clock_.Advance(std::chrono::seconds(5));  // the second delay is 6 s
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 2);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 3);
  // `byok clock advance` retries at once.
  prov_->ResetBackoff();
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 4);
  // So does a change of the claim.
  ASSERT_TRUE(objects_
                  ->Modify(kUid, K("", "persistentvolumeclaims"), "default", "data",
                           [](json cur) {
                             cur["metadata"]["labels"]["x"] = "y";
                             return Result<json>(std::move(cur));
                           })
                  .ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Puts(), 5);
  arm_.put_status = 200;
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("data")["status"]["phase"], "Bound");

  ClaimBackoff b(std::chrono::seconds(3), std::chrono::minutes(5));
  TimePoint t = clock_.Now();
  for (int i = 0; i < 12; ++i) b.Failed("u", "f", t);
  EXPECT_EQ(b.Delay("u"), std::chrono::minutes(5));
  EXPECT_FALSE(b.Due("u", "f", t + std::chrono::minutes(4)));
  EXPECT_TRUE(b.Due("u", "g", t));  // changed
  EXPECT_TRUE(b.Due("u", "f", t + std::chrono::minutes(5)));
  b.Succeeded("u");
  EXPECT_EQ(b.Delay("u"), std::chrono::milliseconds(0));
}

TEST_F(ProvisionerTest, RepeatedEventsAreFoundByTheirName) {
  AddCluster();
  AddClaim("data", "missing");  // the PV controller's ProvisioningFailed, every pass
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  auto failed = EventsWithReason("ProvisioningFailed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["count"], 3);
  const std::string name = failed[0]["metadata"]["name"];
  ASSERT_EQ(name.size(), std::string("data.").size() + 16) << name;
  EXPECT_EQ(name.substr(0, 5), "data.");
  // The same key always gives the same name, whatever the time.
  ASSERT_TRUE(objects_->Delete(kUid, K("", "events"), "default", name).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  auto again = EventsWithReason("ProvisioningFailed");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["metadata"]["name"], name);
  EXPECT_EQ(again[0]["count"], 1);
}

TEST_F(ProvisionerTest, AcceptedDiskPutIsBoundOnlyOnceSucceeded) {
  AddCluster();
  AddClass("byok", {{"skuname", "Standard_LRS"}});
  json pvc = AddClaim("data", "byok");
  const std::string pv_name = "pvc-" + pvc["metadata"]["uid"].get<std::string>();
  std::string state = "Creating";
  int get_status = 200;
  arm_.hook = [&](std::string_view method, std::string_view path) -> std::optional<ArmReply> {
    std::string id(path.substr(0, path.find('?')));
    if (method == "PUT") return ArmReply{202, json()};
    if (method == "GET") {
      if (get_status != 200) return ArmReply{get_status, json()};
      return ArmReply{200, {{"id", id}, {"properties", {{"provisioningState", state}}}}};
    }
    return std::nullopt;
  };
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("data")["status"]["phase"], "Pending");
  EXPECT_FALSE(objects_->Get(kUid, K("", "persistentvolumes"), "", pv_name).ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());  // still Creating
  EXPECT_EQ(Claim("data")["status"]["phase"], "Pending");
  EXPECT_EQ(Puts(), 1);
  EXPECT_EQ(arm_.calls.back().method, "GET");
  state = "Succeeded";
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("data")["status"]["phase"], "Bound");
  EXPECT_TRUE(objects_->Get(kUid, K("", "persistentvolumes"), "", pv_name).ok());
  EXPECT_EQ(EventsWithReason("ProvisioningSucceeded").size(), 1u);
  EXPECT_EQ(Puts(), 1);

  // A disk that vanished while being created is created again.
  json other = AddClaim("other", "byok");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());  // PUT → 202
  get_status = 404;
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());  // GET → 404, PUT → 202 again
  EXPECT_EQ(Puts(), 3);
  get_status = 200;
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("other")["status"]["phase"], "Bound");
}

TEST_F(ProvisionerTest, AcceptedDiskThatFailsIsAProvisioningFailure) {
  AddCluster();
  AddClass("byok", {{"skuname", "Standard_LRS"}});
  AddClaim("data", "byok");
  arm_.hook = [&](std::string_view method, std::string_view) -> std::optional<ArmReply> {
    if (method == "PUT") {
      return ArmReply{201, {{"properties", {{"provisioningState", "Creating"}}}}};
    }
    if (method == "GET") return ArmReply{200, {{"properties", {{"provisioningState", "Failed"}}}}};
    return std::nullopt;
  };
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  auto failed = EventsWithReason("ProvisioningFailed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_THAT(failed[0]["message"].get<std::string>(), HasSubstr("provisioningState Failed"));
  EXPECT_EQ(Claim("data")["status"]["phase"], "Pending");
}

class StaticBindingTest : public ProvisionerTest {
 protected:
  json AddVolume(const std::string& name, const std::string& cls, const std::string& size,
                 json claim_ref = nullptr, json access_modes = json::array({"ReadWriteOnce"})) {
    json pv = {{"metadata", {{"name", name}}},
               {"spec",
                {{"accessModes", access_modes},
                 {"capacity", {{"storage", size}}},
                 {"storageClassName", cls},
                 {"persistentVolumeReclaimPolicy", "Retain"},
                 {"csi", {{"driver", "disk.csi.azure.com"}, {"volumeHandle", "/x/" + name}}}}},
               {"status", {{"phase", "Pending"}}}};
    if (!claim_ref.is_null()) pv["spec"]["claimRef"] = claim_ref;
    auto r = objects_->Create(kUid, K("", "persistentvolumes"), pv);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : json();
  }
  json Volume(const std::string& name) {
    auto r = objects_->Get(kUid, K("", "persistentvolumes"), "", name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : json();
  }
};

TEST_F(StaticBindingTest, ClaimBindsToTheSmallestMatchingAvailableVolume) {
  AddCluster();
  AddVolume("big", "manual", "20Gi");
  AddVolume("small", "manual", "10Gi");
  AddVolume("tiny", "manual", "1Gi");
  AddVolume("other-class", "fast", "5Gi");
  AddVolume("read-many", "manual", "6Gi", nullptr, json::array({"ReadOnlyMany"}));
  json pvc = AddClaim("data", "manual", "5Gi");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_TRUE(arm_.calls.empty());
  json claim = Claim("data");
  EXPECT_EQ(claim["status"]["phase"], "Bound");
  EXPECT_EQ(claim["spec"]["volumeName"], "small");
  EXPECT_EQ(claim["status"]["capacity"]["storage"], "10Gi");
  EXPECT_EQ(claim["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"], "yes");
  EXPECT_EQ(claim["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"], "yes");
  json pv = Volume("small");
  EXPECT_EQ(pv["status"]["phase"], "Bound");
  EXPECT_EQ(pv["spec"]["claimRef"]["uid"], pvc["metadata"]["uid"]);
  EXPECT_EQ(pv["spec"]["claimRef"]["name"], "data");
  EXPECT_EQ(pv["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"], "yes");
  // The others are Available (no longer Pending).
  EXPECT_EQ(Volume("big")["status"]["phase"], "Available");
  EXPECT_EQ(Volume("tiny")["status"]["phase"], "Available");
  // Bound stays bound.
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("data")["spec"]["volumeName"], "small");
}

TEST_F(StaticBindingTest, PreBoundVolumesAndClaims) {
  AddCluster();
  // A volume reserved for claim "b" is not given to "a".
  AddVolume("reserved", "", "5Gi", {{"name", "b"}, {"namespace", "default"}});
  json a = AddClaim("a", "", "1Gi");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("a")["status"]["phase"], "Pending");
  auto no_volumes = EventsWithReason("FailedBinding");
  ASSERT_EQ(no_volumes.size(), 1u);
  EXPECT_EQ(no_volumes[0]["message"],
            "no persistent volumes available for this claim and no storage class is set");
  json b = AddClaim("b", "", "1Gi");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("b")["spec"]["volumeName"], "reserved");
  EXPECT_EQ(Volume("reserved")["spec"]["claimRef"]["uid"], b["metadata"]["uid"]);
  EXPECT_FALSE(Volume("reserved")["metadata"].contains("annotations") &&
               Volume("reserved")["metadata"]["annotations"].contains(
                   "pv.kubernetes.io/bound-by-controller"));

  // A claim naming its volume: waits for it, refuses one too small, binds to a fitting one.
  json named = {{"metadata", {{"name", "named"}, {"namespace", "default"}}},
                {"spec",
                 {{"accessModes", {"ReadWriteOnce"}},
                  {"storageClassName", "slow"},
                  {"volumeName", "mine"},
                  {"resources", {{"requests", {{"storage", "8Gi"}}}}}}},
                {"status", {{"phase", "Pending"}}}};
  ASSERT_TRUE(objects_->Create(kUid, K("", "persistentvolumeclaims"), named).ok());
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("named")["status"]["phase"], "Pending");
  AddVolume("mine", "slow", "4Gi");  // ("a", of class "", can't take it)
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("named")["status"]["phase"], "Pending");
  auto mismatch = EventsWithReason("VolumeMismatch");
  ASSERT_EQ(mismatch.size(), 1u);
  EXPECT_EQ(mismatch[0]["message"],
            "Cannot bind to requested volume \"mine\": requested PV is too small");
  ASSERT_TRUE(objects_->Delete(kUid, K("", "persistentvolumes"), "", "mine").ok());
  AddVolume("mine", "slow", "8Gi");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  json bound = Claim("named");
  EXPECT_EQ(bound["status"]["phase"], "Bound");
  EXPECT_FALSE(bound["metadata"]["annotations"].contains("pv.kubernetes.io/bound-by-controller"));
  EXPECT_EQ(Volume("mine")["spec"]["claimRef"]["name"], "named");
  EXPECT_TRUE(arm_.calls.empty());
}

TEST_F(StaticBindingTest, StaticVolumeWinsOverProvisioning) {
  AddCluster();
  AddClass("byok", {{"skuname", "Standard_LRS"}});
  AddVolume("existing", "byok", "5Gi");
  AddClaim("data", "byok", "5Gi");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("data")["spec"]["volumeName"], "existing");
  EXPECT_EQ(Puts(), 0);
}

}  // namespace
}  // namespace byok::kube
