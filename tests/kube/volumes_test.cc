// `byok volume attach|detach` (VolumeManager) over a real ObjectStore and Provisioner, with fake
// nodes, a recording ARM client and a recording attach/detach: cluster resolution, node choice,
// WaitForFirstConsumer claims provisioned by the attach, the VolumeAttachment (name as the CSI
// attacher computes it, LUN), the 409s, detach of a deleted claim's volume, and the provisioner
// refusing to delete a volume that is still attached.
#include "kube/volumes.h"

#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "containerservice/cluster_store.h"
#include "kube/kinds.h"
#include "kube/object_store.h"
#include "kube/provisioner.h"
#include "store_fixture_helpers.h"

namespace byok::kube {
namespace {

using containerservice::ClusterRecord;
using containerservice::NodeInfo;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kSub[] = "00000000-0000-0000-0000-000000000001";
constexpr char kUid[] = "fedcba9876543210fedcba9876543210";

class FakeArm : public ArmClient {
 public:
  Result<ArmReply> Call(const ClusterRecord&, std::string_view method, std::string_view path,
                        const json& body) override {
    calls.push_back(std::string(method) + " " + std::string(path.substr(0, path.find('?'))));
    if (method == "DELETE") return ArmReply{200, json()};
    json out = body;
    out["id"] = std::string(path.substr(0, path.find('?')));
    return ArmReply{200, out};
  }
  std::vector<std::string> calls;
};

TEST(VolumeAttachmentNameTest, IsTheAttachersHash) {
  // "csi-" + hex sha256("vol" "drv" "node"), as `printf '%s' voldrvnode | sha256sum` prints it.
  EXPECT_EQ(VolumeAttachmentName("vol", "drv", "node"),
            "csi-75c705103da62dcfbf1148483950b24857cb1ef40a66c9b95b65683f00dbc90a");
  EXPECT_NE(VolumeAttachmentName("vol", "drv", "node"), VolumeAttachmentName("vol", "drv", "n2"));
}

class VolumesTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    objects_ = std::make_unique<ObjectStore>(ObjectStoreDeps{store_.get(), &clock_, &random_});
    ProvisionerDeps pd;
    pd.objects = objects_.get();
    pd.store = store_.get();
    pd.clock = &clock_;
    pd.random = &random_;
    pd.arm = &arm_;
    prov_ = std::make_unique<Provisioner>(pd);
    VolumeDeps vd;
    vd.objects = objects_.get();
    vd.store = store_.get();
    vd.list_nodes = [this](std::string_view) { return Result<std::vector<NodeInfo>>(nodes_); };
    vd.attach = [this](const std::string& disk, const std::string& managed_by,
                       std::string_view) -> ApiResult<compute::Attachment> {
      if (attached_.count(disk) != 0) {
        return ApiError{409, "OperationNotAllowed",
                        "Disk is attached to VM '" + attached_[disk] + "'."};
      }
      attached_[disk] = managed_by;
      compute::Attachment a;
      a.disk_id = disk;
      a.export_name = "exp";
      a.uri = "nbd://127.0.0.1:10809/exp";
      a.managed_by = managed_by;
      return a;
    };
    vd.detach = [this](const std::string& disk, std::string_view) -> ApiResult<bool> {
      if (attached_.erase(disk) == 0) return ApiError{409, "OperationNotAllowed", "not attached"};
      return true;
    };
    vd.reconcile = [this](std::string_view uid) { return prov_->Reconcile(uid); };
    volumes_ = std::make_unique<VolumeManager>(vd);
    AddCluster();
    AddNode("aks-nodepool1-12345678-vmss000001", "Ready");
    AddNode("aks-nodepool1-12345678-vmss000000", "NotReady");
  }
  void TearDown() override {
    volumes_.reset();
    prov_.reset();
    objects_.reset();
    StoreFixture::TearDown();
  }

  void AddCluster() {
    cluster_id_ = fmt::format(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ContainerService/"
        "managedClusters/aks",
        kSub);
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    store::Resource r;
    r.id = cluster_id_;
    r.type = containerservice::kClusterType;
    json props = {{"kubernetesVersion", "1.25.5"},
                  {"currentKubernetesVersion", "1.25.5"},
                  {"nodeResourceGroup", "MC_rg_aks_eastus"},
                  {"provisioningState", "Succeeded"},
                  {"powerState", {{"code", "Running"}}}};
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

  void AddNode(const std::string& name, const std::string& state) {
    NodeInfo n;
    n.name = name;
    n.cluster_id = cluster_id_;
    n.cluster_unique_id = kUid;
    n.pool_name = "nodepool1";
    n.vmss_name = "aks-nodepool1-12345678-vmss";
    n.instance = name.back() - '0';
    n.state = state;
    if (state != "Ready") n.reason = "key disabled";
    nodes_.push_back(n);
  }

  const Kind& K(std::string_view group, std::string_view resource) {
    return *FindKind(group, "v1", resource);
  }

  void AddClass(const std::string& name, const std::string& mode) {
    json sc = {{"metadata", {{"name", name}}},
               {"provisioner", "disk.csi.azure.com"},
               {"parameters", {{"skuname", "StandardSSD_LRS"}}},
               {"reclaimPolicy", "Delete"},
               {"volumeBindingMode", mode}};
    ASSERT_TRUE(objects_->Create(kUid, K("storage.k8s.io", "storageclasses"), sc).ok());
  }

  void AddClaim(const std::string& name, const std::string& cls) {
    json pvc = {{"metadata", {{"name", name}, {"namespace", "default"}}},
                {"spec",
                 {{"accessModes", {"ReadWriteOnce"}},
                  {"storageClassName", cls},
                  {"resources", {{"requests", {{"storage", "2Gi"}}}}}}},
                {"status", {{"phase", "Pending"}}}};
    ASSERT_TRUE(objects_->Create(kUid, K("", "persistentvolumeclaims"), pvc).ok());
  }

  json Claim(const std::string& name) {
    auto r = objects_->Get(kUid, K("", "persistentvolumeclaims"), "default", name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : json();
  }

  std::vector<json> Attachments() {
    auto r = objects_->List(kUid, K("storage.k8s.io", "volumeattachments"));
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->items : std::vector<json>();
  }

  ClusterRecord Cluster() {
    auto c = volumes_->ResolveCluster("aks", "");
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : ClusterRecord();
  }

  std::unique_ptr<ObjectStore> objects_;
  FakeArm arm_;
  std::unique_ptr<Provisioner> prov_;
  std::unique_ptr<VolumeManager> volumes_;
  std::string cluster_id_;
  std::vector<NodeInfo> nodes_;
  std::map<std::string, std::string> attached_;  // disk → managedBy
};

TEST_F(VolumesTest, ResolvesClustersByNameOrId) {
  EXPECT_TRUE(volumes_->ResolveCluster("AKS", "RG").ok());
  EXPECT_TRUE(volumes_->ResolveCluster(cluster_id_, "").ok());
  auto missing = volumes_->ResolveCluster("aks", "other");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().http_status, 404);
  EXPECT_THAT(missing.error().message, HasSubstr("in resource group 'other'"));
  auto bad = volumes_->ResolveCluster("/subscriptions/x/resourceGroups/rg", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().http_status, 400);
}

TEST_F(VolumesTest, WaitForFirstConsumerClaimBindsOnAttach) {
  AddClaim("data", "default");  // the built-in class: WaitForFirstConsumer
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_EQ(Claim("data")["status"]["phase"], "Pending");
  auto events = objects_->List(kUid, K("", "events"), "default");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->items.size(), 1u);
  EXPECT_EQ(events->items[0]["reason"], "WaitForFirstConsumer");
  EXPECT_EQ(events->items[0]["type"], "Normal");
  EXPECT_TRUE(arm_.calls.empty());

  ClusterRecord c = Cluster();
  auto a = volumes_->Attach(c, "default", "data", "", "tester");
  ASSERT_TRUE(a.ok()) << a.error().message;
  const std::string node = "aks-nodepool1-12345678-vmss000001";  // the first Ready one
  EXPECT_EQ(a->node, node);
  json pvc = Claim("data");
  EXPECT_EQ(pvc["status"]["phase"], "Bound");
  EXPECT_EQ(pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"], node);
  const std::string disk = fmt::format(
      "/subscriptions/{}/resourceGroups/MC_rg_aks_eastus/providers/Microsoft.Compute/disks/{}",
      kSub, pvc["spec"]["volumeName"].get<std::string>());
  EXPECT_EQ(a->disk_id, disk);
  EXPECT_EQ(attached_[disk],
            fmt::format("/subscriptions/{}/resourceGroups/MC_rg_aks_eastus/providers/"
                        "Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/"
                        "virtualMachines/1",
                        kSub));
  auto vas = Attachments();
  ASSERT_EQ(vas.size(), 1u);
  EXPECT_EQ(vas[0]["metadata"]["name"], VolumeAttachmentName(disk, "disk.csi.azure.com", node));
  EXPECT_EQ(vas[0]["metadata"]["name"], a->volume_attachment);
  EXPECT_EQ(vas[0]["spec"]["attacher"], "disk.csi.azure.com");
  EXPECT_EQ(vas[0]["spec"]["nodeName"], node);
  EXPECT_EQ(vas[0]["spec"]["source"]["persistentVolumeName"], pvc["spec"]["volumeName"]);
  EXPECT_EQ(vas[0]["status"]["attached"], true);
  EXPECT_EQ(vas[0]["status"]["attachmentMetadata"]["LUN"], "0");
}

TEST_F(VolumesTest, AttachTwiceNamesTheNode) {
  AddClass("fast", "Immediate");
  AddClaim("data", "fast");
  ClusterRecord c = Cluster();
  ASSERT_TRUE(volumes_->Attach(c, "default", "data", "", "t").ok());
  auto again = volumes_->Attach(c, "default", "data", "", "t");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().http_status, 409);
  EXPECT_THAT(again.error().message, HasSubstr("already attached to node "
                                               "'aks-nodepool1-12345678-vmss000001'"));
}

TEST_F(VolumesTest, NodeChoiceIsChecked) {
  AddClass("fast", "Immediate");
  AddClaim("data", "fast");
  ClusterRecord c = Cluster();
  auto not_ready = volumes_->Attach(c, "default", "data", "aks-nodepool1-12345678-vmss000000", "t");
  ASSERT_FALSE(not_ready.ok());
  EXPECT_EQ(not_ready.error().code, "NodeNotReady");
  EXPECT_THAT(not_ready.error().message, HasSubstr("key disabled"));
  auto unknown = volumes_->Attach(c, "default", "data", "nope", "t");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().http_status, 404);
  EXPECT_THAT(unknown.error().message, HasSubstr("aks-nodepool1-12345678-vmss000001 (Ready)"));
  nodes_[0].state = "Stopped";
  auto none = volumes_->Attach(c, "default", "data", "", "t");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "NoReadyNode");
  auto claim = volumes_->Attach(c, "default", "nope", "", "t");
  ASSERT_FALSE(claim.ok());
  EXPECT_EQ(claim.error().message,
            "persistentvolumeclaims \"nope\" not found in namespace "
            "\"default\"");
}

TEST_F(VolumesTest, DeletedClaimsVolumeWaitsForTheDetach) {
  AddClass("fast", "Immediate");
  AddClaim("data", "fast");
  ClusterRecord c = Cluster();
  auto a = volumes_->Attach(c, "default", "data", "", "t");
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(objects_->Delete(kUid, K("", "persistentvolumeclaims"), "default", "data").ok());
  arm_.calls.clear();
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  EXPECT_TRUE(arm_.calls.empty());  // no DELETE of an attached disk
  auto events = objects_->List(kUid, K("", "events"), "default");
  ASSERT_TRUE(events.ok());
  bool refused = false;
  for (const json& e : events->items) {
    if (e["reason"] == "VolumeFailedDelete") {
      refused = true;
      EXPECT_EQ(e["type"], "Warning");
      EXPECT_EQ(e["message"], fmt::format("persistentvolume {} is still attached to node {}",
                                          a->persistent_volume, a->node));
    }
  }
  EXPECT_TRUE(refused);

  auto d = volumes_->Detach(c, "default", "data", "t");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->volume_attachments.size(), 1u);
  EXPECT_TRUE(Attachments().empty());
  EXPECT_TRUE(attached_.empty());
  // The detach reconciled: the disk and the volume are gone.
  EXPECT_THAT(arm_.calls, ::testing::Contains("DELETE " + a->disk_id));
  EXPECT_FALSE(objects_->Get(kUid, K("", "persistentvolumes"), "", a->persistent_volume).ok());
}

TEST_F(VolumesTest, DetachOfAnUnattachedClaimIsRefused) {
  AddClass("fast", "Immediate");
  AddClaim("data", "fast");
  ASSERT_TRUE(prov_->Reconcile(kUid).ok());
  auto d = volumes_->Detach(Cluster(), "default", "data", "t");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().http_status, 409);
  EXPECT_THAT(d.error().message, HasSubstr("is not attached"));
}

}  // namespace
}  // namespace byok::kube
