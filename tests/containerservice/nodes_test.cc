// NodeManager (containerservice/nodes.h) over the compute test fixture: a real BlockStore and
// SQLite store in a temp dir, Key Vault's keys data plane with a VaultKeyWrapper calling it as the
// DES identity, compute's disk service, and a ManualClock. Revocation is real: the key is disabled
// or the DES identity's access policy removed; ProbeWrapper can also make the probes fail (a Key
// Vault outage) without touching Key Vault.
#include "containerservice/nodes.h"

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "compute/compute_test_helpers.h"
#include "compute/disk_store.h"

namespace byok::containerservice {
namespace {

using compute::test::kLocation;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kClusterUid[] = "2f0e5cb1-6d8e-4c59-9f6d-1f7f4a3c2b10";

// The probes' KeyWrapper: delegates to the VaultKeyWrapper unless told to fail.
class ProbeWrapper : public blockstore::KeyWrapper {
 public:
  explicit ProbeWrapper(blockstore::KeyWrapper* inner) : inner_(inner) {}
  Result<blockstore::WrappedDek> Wrap(const blockstore::KeyRef& key,
                                      std::span<const uint8_t> dek) override {
    return inner_->Wrap(key, dek);
  }
  Result<SecretBytes> Unwrap(const blockstore::WrappedDek& w) override {
    {
      std::lock_guard lock(mu_);
      if (!failure_.ok()) return failure_;
    }
    return inner_->Unwrap(w);
  }
  void Fail(Status s) {
    std::lock_guard lock(mu_);
    failure_ = std::move(s);
  }

 private:
  blockstore::KeyWrapper* inner_;
  std::mutex mu_;
  Status failure_;
};

class NodesTest : public compute::test::ComputeFixture {
 protected:
  void SetUp() override {
    ComputeFixture::SetUp();
    CreateGroup("rg");
    CreateGroup(kNodeGroup);
    CreateVault("rg", "kv1");
    kid_ = CreateKey("kv1", "cmk");
    json des = CreateDesWithAccess("rg", "des1", "kv1", kid_);
    des_principal_ = des["identity"].value("principalId", "");
    probes_ = std::make_unique<ProbeWrapper>(vault_keys_.get());
    nodes_ = NewManager();
  }

  void TearDown() override {
    nodes_.reset();
    ComputeFixture::TearDown();
  }

  std::unique_ptr<NodeManager> NewManager() {
    NodeDeps d;
    d.store = store_.get();
    d.clock = &clock_;
    d.random = &CryptoRandom();
    d.blocks = blocks_.get();
    d.disks = disks_.get();
    d.customer_keys = probes_.get();
    return std::make_unique<NodeManager>(d);
  }

  std::string ClusterId() const {
    return RgId("rg") + "/providers/Microsoft.ContainerService/managedClusters/c1";
  }

  NodeSpec Spec(const std::string& pool, OsDiskType type, bool with_des = true) {
    NodeSpec s;
    s.cluster_id = ClusterId();
    s.cluster_unique_id = kClusterUid;
    s.node_resource_group_id = RgId(kNodeGroup);
    s.location = kLocation;
    s.pool_name = pool;
    s.vm_size = "Standard_DS3_v2";
    s.os_disk_type = type;
    s.os_disk_size_gb = 128;
    s.des_id = with_des ? DesId("rg", "des1") : "";
    s.kubernetes_version = "1.24.9";
    return s;
  }

  std::vector<NodeInfo> Add(const NodeSpec& spec, int count) {
    auto added = nodes_->AddNodes(spec, count);
    EXPECT_TRUE(added.ok()) << added.error().code << ": " << added.error().message;
    return added.ok() ? *added : std::vector<NodeInfo>{};
  }

  std::vector<NodeInfo> List(const std::string& pool = "") {
    auto l = nodes_->List(kClusterUid, pool);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? *l : std::vector<NodeInfo>{};
  }

  NodeInfo Node(const std::string& name) {
    for (NodeInfo& n : List()) {
      if (n.name == name) return n;
    }
    ADD_FAILURE() << "no node " << name;
    return NodeInfo{};
  }

  std::vector<std::string> Names(const std::vector<NodeInfo>& nodes) {
    std::vector<std::string> out;
    for (const NodeInfo& n : nodes) out.push_back(n.name);
    return out;
  }

  // The boot record in sector 0 of a node's OS disk (the disk must be unlockable).
  json BootRecord(const NodeInfo& n) {
    auto vol = blocks_->Open(n.os_disk_unique_id);
    EXPECT_TRUE(vol.ok()) << vol.status().ToString();
    if (!vol.ok()) return json();
    std::vector<uint8_t> sector(blockstore::kSectorSize);
    EXPECT_TRUE((*vol)->Read(0, sector).ok());
    return json::parse(sector.begin(), sector.end(), nullptr, false);
  }

  void Check() {
    Status s = nodes_->CheckNodes(clock_.Now());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static constexpr char kNodeGroup[] = "MC_rg_c1_westeurope";
  std::string kid_;
  std::string des_principal_;
  std::unique_ptr<ProbeWrapper> probes_;
  std::unique_ptr<NodeManager> nodes_;
};

TEST_F(NodesTest, NamesAndManagedOsDisks) {
  auto added = Add(Spec("nodepool1", OsDiskType::kManaged), 2);
  ASSERT_EQ(added.size(), 2u);
  const NodeInfo& n0 = added[0];
  // aks-{pool}-{8 digits}-vmss{6 base-36 digits}
  ASSERT_EQ(n0.name.size(), std::string("aks-nodepool1-12345678-vmss000000").size()) << n0.name;
  EXPECT_EQ(n0.name.substr(0, 14), "aks-nodepool1-");
  for (char c : n0.name.substr(14, 8)) EXPECT_TRUE(c >= '0' && c <= '9') << n0.name;
  EXPECT_EQ(n0.vmss_name, n0.name.substr(0, 27));
  EXPECT_EQ(n0.name.substr(22), "-vmss000000");
  EXPECT_EQ(added[1].name, n0.vmss_name + "000001");
  EXPECT_EQ(n0.instance, 0);
  EXPECT_EQ(added[1].instance, 1);
  // The digits are stable per cluster and pool.
  auto other = Add(Spec("np2", OsDiskType::kManaged), 1);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].name.rfind("aks-np2-", 0), 0u);
  EXPECT_EQ(other[0].name.size(), 27u) << other[0].name;
  EXPECT_EQ(other[0].name.substr(16), "-vmss000000");

  EXPECT_EQ(n0.state, "Ready");
  EXPECT_EQ(n0.reason, "");
  EXPECT_EQ(n0.boot_count, 1);
  EXPECT_EQ(n0.os_disk_type, OsDiskType::kManaged);
  EXPECT_EQ(n0.key_url, kid_);
  EXPECT_EQ(n0.des_id, DesId("rg", "des1"));
  EXPECT_EQ(n0.kubernetes_version, "1.24.9");
  EXPECT_EQ(n0.cluster_id, ClusterId());

  // The OS disk is a real managed disk in the node resource group, attached to the instance.
  const std::string prefix =
      RgId(kNodeGroup) + "/providers/Microsoft.Compute/disks/" + n0.name + "_OsDisk_1_";
  ASSERT_EQ(n0.os_disk_id.rfind(prefix, 0), 0u) << n0.os_disk_id;
  EXPECT_EQ(n0.os_disk_id.size(), prefix.size() + 32);
  auto r = Arm("GET", n0.os_disk_id);
  ASSERT_EQ(r.status, 200) << r.body;
  json disk = Body(r);
  EXPECT_EQ(disk["properties"]["diskState"], "Attached");
  EXPECT_EQ(disk["managedBy"], RgId(kNodeGroup) +
                                   "/providers/Microsoft.Compute/virtualMachineScaleSets/" +
                                   n0.vmss_name + "/virtualMachines/0");
  EXPECT_EQ(disk["properties"]["diskSizeGB"], 128);
  EXPECT_EQ(disk["properties"]["osType"], "Linux");
  EXPECT_EQ(disk["sku"]["name"], "Premium_LRS");
  EXPECT_EQ(disk["properties"]["encryption"], json({{"type", "EncryptionAtRestWithCustomerKey"},
                                                    {"diskEncryptionSetId", DesId("rg", "des1")}}));
  EXPECT_EQ(disk["properties"]["uniqueId"], n0.os_disk_unique_id);
  auto header = blocks_->ReadHeader(n0.os_disk_unique_id);
  ASSERT_TRUE(header.ok());
  ASSERT_EQ(header->layers.size(), 1u);
  EXPECT_EQ(header->layers[0].key.key_id, kid_);

  // Stored records: List is sorted by name; ListAll has every cluster's.
  EXPECT_EQ(Names(List("nodepool1")), Names(added));
  auto all = nodes_->ListAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto round = NodeFromJson(ToJson(n0));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(ToJson(*round), ToJson(n0));
}

TEST_F(NodesTest, SizesWithoutPremiumStorageGetStandardDisks) {
  NodeSpec spec = Spec("np", OsDiskType::kManaged, /*with_des=*/false);
  spec.vm_size = "Standard_D2_v3";
  auto added = Add(spec, 1);
  ASSERT_EQ(added.size(), 1u);
  json disk = Body(Arm("GET", added[0].os_disk_id));
  EXPECT_EQ(disk["sku"]["name"], "Standard_LRS");
  EXPECT_EQ(disk["properties"]["encryption"]["type"], "EncryptionAtRestWithPlatformKey");
  EXPECT_EQ(added[0].key_url, "");
  EXPECT_EQ(added[0].des_id, "");
  EXPECT_EQ(added[0].state, "Ready");
  // A platform-key node has nothing to probe: it stays Ready.
  Check();
  EXPECT_EQ(Node(added[0].name).state, "Ready");
}

TEST_F(NodesTest, BootRecordWrittenOnceThenCounted) {
  auto added = Add(Spec("nodepool1", OsDiskType::kManaged), 1);
  ASSERT_EQ(added.size(), 1u);
  NodeInfo n = added[0];
  json rec = BootRecord(n);
  ASSERT_TRUE(rec.is_object()) << rec.dump();
  EXPECT_EQ(rec["node"], n.name);
  EXPECT_EQ(rec["cluster"], ClusterId());
  EXPECT_EQ(rec["pool"], "nodepool1");
  EXPECT_EQ(rec["created"], n.created);
  EXPECT_EQ(rec["bootCount"], 1);

  // az aks stop: Deallocated, the disk locked; az aks start: booted again.
  auto volume = blocks_->Open(n.os_disk_unique_id);
  ASSERT_TRUE(volume.ok());
  ASSERT_TRUE(nodes_->StopAll(kClusterUid).ok());
  EXPECT_TRUE((*volume)->locked());
  volume = Status::Internal("released");
  NodeInfo stopped = Node(n.name);
  EXPECT_EQ(stopped.state, "Deallocated");
  EXPECT_NE(stopped.reason, "");
  Check();  // a deallocated node is not probed nor booted
  EXPECT_EQ(Node(n.name).state, "Deallocated");
  ASSERT_TRUE(nodes_->StartAll(kClusterUid).ok());
  NodeInfo started = Node(n.name);
  EXPECT_EQ(started.state, "Ready");
  EXPECT_EQ(started.reason, "");
  EXPECT_EQ(started.boot_count, 2);
  rec = BootRecord(started);
  EXPECT_EQ(rec["bootCount"], 2);
  EXPECT_EQ(rec["created"], n.created);  // the record is kept, not rewritten
  // A second start does not reboot running nodes.
  ASSERT_TRUE(nodes_->StartAll(kClusterUid).ok());
  EXPECT_EQ(Node(n.name).boot_count, 2);
}

TEST_F(NodesTest, EphemeralOsDisksAreHostLocalFiles) {
  auto added = Add(Spec("eph", OsDiskType::kEphemeral), 2);
  ASSERT_EQ(added.size(), 2u);
  const NodeInfo& n = added[0];
  EXPECT_EQ(n.os_disk_type, OsDiskType::kEphemeral);
  EXPECT_EQ(n.os_disk_id, "");
  EXPECT_EQ(n.os_disk_unique_id.size(), 36u);
  EXPECT_TRUE(std::filesystem::exists(blocks_->PathOf(n.os_disk_unique_id)));
  EXPECT_EQ(n.state, "Ready");
  EXPECT_EQ(n.key_url, kid_);
  // No ARM disk in the node resource group.
  auto disks = Body(Arm("GET", RgId(kNodeGroup) + "/providers/Microsoft.Compute/disks"));
  EXPECT_EQ(disks["value"].size(), 0u);
  auto header = blocks_->ReadHeader(n.os_disk_unique_id);
  ASSERT_TRUE(header.ok());
  ASSERT_EQ(header->layers.size(), 1u);
  EXPECT_EQ(header->layers[0].key.layer, blockstore::Layer::kCustomer);
  EXPECT_EQ(header->layers[0].key.key_id, kid_);
  EXPECT_EQ(header->layers[0].key.des_id, DesId("rg", "des1"));
  EXPECT_EQ(header->size_bytes, 128ull << 30);
  EXPECT_EQ(BootRecord(n)["node"], n.name);

  // A double-encryption DES gives both layers.
  ASSERT_EQ(PutDes("rg", "des2", "kv1", kid_,
                   {{"encryptionType", "EncryptionAtRestWithPlatformAndCustomerKeys"}})
                .status,
            200);
  GrantKeys("rg", "kv1",
            Body(Arm("GET", DesId("rg", "des2"), nullptr, "", "2022-03-02"))["identity"].value(
                "principalId", ""));
  NodeSpec dbl = Spec("dbl", OsDiskType::kEphemeral);
  dbl.des_id = DesId("rg", "des2");
  auto d = Add(dbl, 1);
  ASSERT_EQ(d.size(), 1u);
  header = blocks_->ReadHeader(d[0].os_disk_unique_id);
  ASSERT_TRUE(header.ok());
  ASSERT_EQ(header->layers.size(), 2u);
  EXPECT_EQ(header->layers[1].key.layer, blockstore::Layer::kPlatform);

  // Removing the nodes removes the files.
  std::string path = blocks_->PathOf(n.os_disk_unique_id);
  ASSERT_TRUE(nodes_->RemoveAll(kClusterUid, "eph").ok());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(List("eph").empty());
  EXPECT_EQ(List("dbl").size(), 1u);
}

TEST_F(NodesTest, RemoveHighestNumberedAndNumberingContinues) {
  NodeSpec spec = Spec("nodepool1", OsDiskType::kManaged);
  auto added = Add(spec, 3);
  ASSERT_EQ(added.size(), 3u);
  const std::string vmss = added[0].vmss_name;
  auto removed = nodes_->RemoveNodes(kClusterUid, "nodepool1", 1);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(Names(List()), (std::vector<std::string>{vmss + "000000", vmss + "000001"}));
  EXPECT_EQ(Code(Arm("GET", added[2].os_disk_id)), "ResourceNotFound");
  EXPECT_FALSE(std::filesystem::exists(blocks_->PathOf(added[2].os_disk_unique_id)));

  // Scale up again: instance numbers only grow.
  auto more = Add(spec, 1);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].name, vmss + "000003");
  // Scale to 0 and back (the ephemeral rotation procedure), across a restart of the manager.
  removed = nodes_->RemoveNodes(kClusterUid, "nodepool1", 10);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 3);
  EXPECT_TRUE(List().empty());
  nodes_ = NewManager();
  more = Add(spec, 2);
  EXPECT_EQ(Names(more), (std::vector<std::string>{vmss + "000004", vmss + "000005"}));
  // Instance 36 is "vmss000010" in base 36.
  more = Add(spec, 31);
  ASSERT_EQ(more.size(), 31u);
  EXPECT_EQ(more.back().name, vmss + "000010");
  EXPECT_EQ(more.back().instance, 36);

  // Removing the cluster's nodes removes every OS disk; a new pool of that name starts over.
  ASSERT_TRUE(nodes_->RemoveAll(kClusterUid).ok());
  EXPECT_TRUE(List().empty());
  auto disks = Body(Arm("GET", RgId(kNodeGroup) + "/providers/Microsoft.Compute/disks"));
  EXPECT_EQ(disks["value"].size(), 0u);
  more = Add(spec, 1);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].name, vmss + "000000");
}

TEST_F(NodesTest, FailedOsDiskFailsTheCall) {
  // The DES identity loses its access: the disk service refuses the managed disk, and the
  // ephemeral disk cannot be wrapped either. Nothing is left behind.
  RevokeKeys("rg", "kv1", des_principal_);
  auto r = nodes_->AddNodes(Spec("nodepool1", OsDiskType::kManaged), 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "KeyVaultAccessForbidden");
  r = nodes_->AddNodes(Spec("eph", OsDiskType::kEphemeral), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "KeyVaultAccessForbidden") << r.error().message;
  EXPECT_TRUE(List().empty());
  NodeSpec bad = Spec("np", OsDiskType::kEphemeral);
  bad.des_id = DesId("rg", "nope");
  r = nodes_->AddNodes(bad, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ResourceNotFound");
}

TEST_F(NodesTest, DisabledKeyStopsNodesAfterTheGracePeriod) {
  auto managed = Add(Spec("nodepool1", OsDiskType::kManaged), 1);
  auto eph = Add(Spec("eph", OsDiskType::kEphemeral), 1);
  ASSERT_EQ(managed.size() + eph.size(), 2u);
  // The running node's Volume (Open returns the live one).
  auto volume = blocks_->Open(eph[0].os_disk_unique_id);
  ASSERT_TRUE(volume.ok());
  SetKeyEnabled(kid_, false);
  Check();
  EXPECT_FALSE((*volume)->locked());
  for (const NodeInfo& n : List()) {
    EXPECT_EQ(n.state, "Ready") << n.name;  // still running within the grace period
    EXPECT_EQ(n.key_unavailable_since, FormatAzureTime(clock_.Now())) << n.name;
  }
  const std::string since = FormatAzureTime(clock_.Now());
  clock_.Advance(59min);
  Check();
  for (const NodeInfo& n : List()) {
    EXPECT_EQ(n.state, "Ready") << n.name;
    EXPECT_EQ(n.key_unavailable_since, since);  // the first failure counts
  }
  clock_.Advance(1min);
  Check();
  for (const NodeInfo& n : List()) {
    EXPECT_EQ(n.state, "Stopped") << n.name;
    EXPECT_NE(n.reason.find(kid_), std::string::npos) << n.reason;
    EXPECT_NE(n.reason.find("des1"), std::string::npos) << n.reason;
    EXPECT_NE(n.reason.find("KeyDisabled"), std::string::npos) << n.reason;
    EXPECT_EQ(n.boot_count, 1);
  }
  EXPECT_TRUE((*volume)->locked());  // the stopped node's data key is wiped
  std::vector<uint8_t> sector(blockstore::kSectorSize);
  EXPECT_FALSE((*volume)->Read(0, sector).ok());
  volume = Status::Internal("released");
  // Survives a restart of the manager (state and since are stored).
  nodes_ = NewManager();
  clock_.Advance(1h);
  Check();
  EXPECT_EQ(List()[0].state, "Stopped");

  SetKeyEnabled(kid_, true);
  Check();
  for (const NodeInfo& n : List()) {
    EXPECT_EQ(n.state, "Ready") << n.name << ": " << n.reason;
    EXPECT_EQ(n.reason, "");
    EXPECT_EQ(n.key_unavailable_since, "");
    EXPECT_EQ(n.boot_count, 2);
    EXPECT_EQ(BootRecord(n)["bootCount"], 2);
  }
}

TEST_F(NodesTest, RemovedAccessPolicyStopsNodesAndRestoredStartsThem) {
  auto added = Add(Spec("nodepool1", OsDiskType::kManaged), 2);
  ASSERT_EQ(added.size(), 2u);
  RevokeKeys("rg", "kv1", des_principal_);
  Check();
  clock_.Advance(1h);
  Check();
  for (const NodeInfo& n : List()) {
    EXPECT_EQ(n.state, "Stopped") << n.name;
    EXPECT_NE(n.reason.find("Forbidden"), std::string::npos) << n.reason;
  }
  // Start with the key still unusable: NotReady, with the reason.
  ASSERT_TRUE(nodes_->StopAll(kClusterUid).ok());
  ASSERT_TRUE(nodes_->StartAll(kClusterUid).ok());
  for (const NodeInfo& n : List()) {
    EXPECT_EQ(n.state, "NotReady") << n.name;
    EXPECT_NE(n.reason.find("cannot be unlocked"), std::string::npos) << n.reason;
  }
  GrantKeys("rg", "kv1", des_principal_);
  Check();
  for (const NodeInfo& n : List()) EXPECT_EQ(n.state, "Ready") << n.name << ": " << n.reason;
}

TEST_F(NodesTest, KeyVaultOutageWithinTheGracePeriodDoesNotStopNodes) {
  auto added = Add(Spec("nodepool1", OsDiskType::kManaged), 1);
  ASSERT_EQ(added.size(), 1u);
  probes_->Fail(Status::Unavailable("KeyVaultUnavailable: no answer"));
  Check();
  clock_.Advance(30min);
  Check();
  EXPECT_EQ(Node(added[0].name).state, "Ready");
  EXPECT_NE(Node(added[0].name).key_unavailable_since, "");
  probes_->Fail(Status::Ok());
  Check();
  EXPECT_EQ(Node(added[0].name).key_unavailable_since, "");
  // The clock restarts: another 59 minutes of outage do not stop it.
  probes_->Fail(Status::Unavailable("KeyVaultUnavailable: no answer"));
  Check();
  clock_.Advance(59min);
  Check();
  EXPECT_EQ(Node(added[0].name).state, "Ready");
  clock_.Advance(1min);
  Check();
  EXPECT_EQ(Node(added[0].name).state, "Stopped");
  EXPECT_NE(Node(added[0].name).reason.find("KeyVaultUnavailable"), std::string::npos);
}

TEST_F(NodesTest, EphemeralNodesKeepTheOldKeyVersionUntilRecreated) {
  auto managed = Add(Spec("nodepool1", OsDiskType::kManaged), 1);
  auto eph = Add(Spec("eph", OsDiskType::kEphemeral), 2);
  ASSERT_EQ(eph.size(), 2u);
  std::string kid2 = RotateKey("kv1", "cmk");
  json update = Body(Arm("GET", DesId("rg", "des1"), nullptr, "", "2022-03-02"));
  update["properties"]["activeKey"]["keyUrl"] = kid2;
  auto r = Arm("PUT", DesId("rg", "des1"), update, "", "2022-03-02");
  ASSERT_TRUE(r.status == 200 || r.status == 202) << r.body;
  Drain();
  Check();
  EXPECT_EQ(Node(managed[0].name).key_url, kid2);  // managed OS disks are re-wrapped
  for (const NodeInfo& n : List("eph")) EXPECT_EQ(n.key_url, kid_) << n.name;
  // The documented procedure: scale to 0, then back up.
  auto removed = nodes_->RemoveNodes(kClusterUid, "eph", 2);
  ASSERT_TRUE(removed.ok());
  auto fresh = Add(Spec("eph", OsDiskType::kEphemeral), 2);
  ASSERT_EQ(fresh.size(), 2u);
  for (const NodeInfo& n : List("eph")) {
    EXPECT_EQ(n.key_url, kid2) << n.name;
    EXPECT_EQ(n.state, "Ready");
  }
  EXPECT_EQ(fresh[0].instance, 2);
}

}  // namespace
}  // namespace byok::containerservice
