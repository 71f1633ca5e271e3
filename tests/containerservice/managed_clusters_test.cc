// The managedClusters / agentPools / orchestrators providers (containerservice/containerservice.h)
// through the ARM front end, over the compute test fixture (real store, Key Vault, RBAC, disk
// service and BlockStore) with a real NodeManager. Long-running operations are drained before
// looking at their results.
#include "containerservice/containerservice.h"

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "authz/roles.h"
#include "common/encoding.h"
#include "compute/compute_test_helpers.h"
#include "containerservice/cluster_store.h"
#include "gateway/authorization_provider.h"

namespace byok::containerservice {
namespace {

using compute::test::kLocation;
using nlohmann::json;

constexpr char kApi[] = "2022-11-01";

class ManagedClustersTest : public compute::test::ComputeFixture {
 protected:
  void SetUp() override {
    ComputeFixture::SetUp();
    CreateGroup("rg");
    CreateVault("rg", "kv1");
    kid_ = CreateKey("kv1", "cmk");
    CreateDesWithAccess("rg", "des1", "kv1", kid_);
    des_id_ = DesId("rg", "des1");
    NewNodeManager();
    gateway::RegisterAuthorizationProvider(*fe_, *rbac_);
    RegisterProvider();
    des_users_ = ClustersUsingDes;
  }

  // A second provider over the same store, as byokd registers it when it starts again (the first
  // one's operations are gone).
  void Restart() {
    Drain();
    RegisterProvider();
    Drain();
  }

  // A NodeManager with no open OS disks (byokd starting).
  void NewNodeManager() {
    NodeDeps nd;
    nd.store = store_.get();
    nd.clock = &clock_;
    nd.random = &CryptoRandom();
    nd.blocks = blocks_.get();
    nd.disks = disks_.get();
    nd.customer_keys = vault_keys_.get();
    nodes_ = std::make_unique<NodeManager>(nd);
  }

  // Registers the containerservice providers (again: byokd starting over the same store).
  void RegisterProvider() {
    ContainerServiceDeps cd;
    cd.store = store_.get();
    cd.clock = &clock_;
    cd.random = &CryptoRandom();
    cd.rbac = rbac_.get();
    cd.directory = &identity_->directory();
    cd.operations = ops_.get();
    cd.frontend = fe_.get();
    cd.nodes = nodes_.get();
    cd.api_base_url = [] { return std::string("https://localhost:8443"); };
    cd.server_ca_pem = [] { return std::string("-----BEGIN CERTIFICATE-----\n"); };
    cd.on_cluster_deleted = [this](std::string_view uid) {
      std::lock_guard<std::mutex> lock(deleted_mu_);
      deleted_uids_.emplace_back(uid);
    };
    provider_ = RegisterContainerServiceProviders(*fe_, cd);
  }

  void TearDown() override {
    if (ops_) ops_->Drain();
    provider_.reset();
    ComputeFixture::TearDown();
    nodes_.reset();
  }

  std::string ClusterId(const std::string& name, const std::string& rg = "rg") const {
    return RgId(rg) + "/providers/Microsoft.ContainerService/managedClusters/" + name;
  }

  // What Azure CLI 2.45 sends for `az aks create` (the parts byok reads).
  static json CreateBody(const std::string& des_id, const std::string& os_disk_type = "",
                         const std::string& vm_size = "Standard_DS2_v2", int count = 3) {
    json pool = {{"name", "nodepool1"},
                 {"count", count},
                 {"vmSize", vm_size},
                 {"osDiskSizeGB", 0},
                 {"osType", "Linux"},
                 {"type", "VirtualMachineScaleSets"},
                 {"mode", "System"},
                 {"enableNodePublicIP", false},
                 {"enableEncryptionAtHost", false},
                 {"enableUltraSSD", false},
                 {"enableFIPS", false}};
    if (!os_disk_type.empty()) pool["osDiskType"] = os_disk_type;
    json props = {{"kubernetesVersion", ""},
                  {"dnsPrefix", "c1-rg-abcdef"},
                  {"agentPoolProfiles", json::array({pool})},
                  {"linuxProfile",
                   {{"adminUsername", "azureuser"},
                    {"ssh", {{"publicKeys", json::array({{{"keyData", "ssh-rsa AAAA"}}})}}}}},
                  {"addonProfiles", json::object()},
                  {"enableRBAC", true},
                  {"networkProfile",
                   {{"networkPlugin", "kubenet"},
                    {"podCidr", "10.244.0.0/16"},
                    {"serviceCidr", "10.0.0.0/16"},
                    {"dnsServiceIP", "10.0.0.10"},
                    {"dockerBridgeCidr", "172.17.0.1/16"},
                    {"outboundType", "loadBalancer"},
                    {"loadBalancerSku", "standard"}}},
                  {"disableLocalAccounts", false}};
    if (!des_id.empty()) props["diskEncryptionSetID"] = des_id;
    return {
        {"location", kLocation}, {"identity", {{"type", "SystemAssigned"}}}, {"properties", props}};
  }

  http::Response Put(const std::string& id, const json& body, const std::string& who = "") {
    return Arm("PUT", id, body, who, kApi);
  }
  json Get(const std::string& id) {
    auto r = Arm("GET", id, nullptr, "", kApi);
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  }
  // PUT, expect `status` with Azure-AsyncOperation, wait for the operation; its final status.
  std::string PutAndWait(const std::string& id, const json& body, int status = 201) {
    auto r = Put(id, body);
    EXPECT_EQ(r.status, status) << r.body;
    if (r.status != status) return "";
    EXPECT_TRUE(r.headers.Get("Azure-AsyncOperation").has_value());
    EXPECT_EQ(r.headers.Get("Retry-After").value_or(""), "1");
    return WaitFor(r);
  }
  std::string WaitFor(const http::Response& r) {
    Drain();
    std::string url = r.headers.Get("Azure-AsyncOperation").value_or("");
    std::string path = url.substr(url.find("/subscriptions/"));
    path = path.substr(0, path.find('?'));
    auto st = Arm("GET", path, nullptr, "", kApi);
    EXPECT_EQ(st.status, 200) << st.body;
    json doc = Body(st);
    last_error_ = doc.value("error", json::object());
    return doc.value("status", "");
  }
  void CreateCluster(const std::string& name, const std::string& des = "",
                     const std::string& os_disk_type = "Managed",
                     const std::string& vm_size = "Standard_DS2_v2", int count = 2) {
    ASSERT_EQ(PutAndWait(ClusterId(name), CreateBody(des, os_disk_type, vm_size, count)),
              "Succeeded")
        << last_error_.dump();
  }
  std::vector<NodeInfo> Nodes(const std::string& cluster, const std::string& pool = "") {
    json c = Get(ClusterId(cluster));
    std::optional<ClusterRecord> rec;
    EXPECT_TRUE(store::RunInReadTransaction(*store_, [&](store::Transaction& txn) -> Status {
                  BYOK_ASSIGN_OR_RETURN(rec, FindCluster(txn, ClusterId(cluster)));
                  return Status::Ok();
                }).ok());
    if (!rec) return {};
    auto n = nodes_->List(rec->unique_id, pool);
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : std::vector<NodeInfo>{};
  }
  std::string PoolId(const std::string& cluster, const std::string& pool) const {
    return ClusterId(cluster) + "/agentPools/" + pool;
  }
  json PoolBody(int count, const std::string& os_disk_type = "", const std::string& vm_size = "",
                const std::string& mode = "User") {
    json props = {{"count", count}, {"mode", mode}, {"osDiskSizeGB", 0}};
    if (!os_disk_type.empty()) props["osDiskType"] = os_disk_type;
    if (!vm_size.empty()) props["vmSize"] = vm_size;
    return {{"properties", props}};
  }

  std::string kid_;
  std::string des_id_;
  json last_error_;
  std::unique_ptr<NodeManager> nodes_;
  std::shared_ptr<void> provider_;
  std::mutex deleted_mu_;
  std::vector<std::string> deleted_uids_;  // what on_cluster_deleted was called with
};

TEST_F(ManagedClustersTest, CreateWithDesAndManagedOsDisks) {
  auto r = Put(ClusterId("c1"), CreateBody(des_id_, "Managed"));
  ASSERT_EQ(r.status, 201) << r.body;
  json initial = Body(r);
  EXPECT_EQ(initial["properties"]["provisioningState"], "Creating");
  EXPECT_FALSE(initial.contains("internal"));
  ASSERT_EQ(WaitFor(r), "Succeeded") << last_error_.dump();

  json c = Get(ClusterId("c1"));
  const json& p = c["properties"];
  EXPECT_EQ(c["type"], "Microsoft.ContainerService/managedClusters");
  EXPECT_EQ(c["location"], kLocation);
  EXPECT_FALSE(c.contains("internal"));
  EXPECT_EQ(p["provisioningState"], "Succeeded");
  EXPECT_EQ(p["powerState"]["code"], "Running");
  EXPECT_EQ(p["kubernetesVersion"], "1.24.9");
  EXPECT_EQ(p["currentKubernetesVersion"], "1.24.9");
  EXPECT_EQ(p["diskEncryptionSetID"], des_id_);
  EXPECT_EQ(p["nodeResourceGroup"], "MC_rg_c1_westeurope");
  EXPECT_EQ(p["servicePrincipalProfile"]["clientId"], "msi");
  EXPECT_EQ(p["enableRBAC"], true);
  EXPECT_EQ(p["maxAgentPools"], 100);
  EXPECT_EQ(p["dnsPrefix"], "c1-rg-abcdef");
  std::string fqdn = p["fqdn"];
  EXPECT_EQ(fqdn.rfind("c1-rg-abcdef-", 0), 0u) << fqdn;
  EXPECT_EQ(fqdn.substr(fqdn.size() - 25), ".hcp.westeurope.azmk8s.io") << fqdn;
  EXPECT_EQ(fqdn.size(), std::string("c1-rg-abcdef-").size() + 8 + 25);
  EXPECT_EQ(p["networkProfile"]["loadBalancerSku"], "Standard");
  EXPECT_EQ(p["networkProfile"]["networkPlugin"], "kubenet");
  EXPECT_EQ(p["networkProfile"]["podCidr"], "10.244.0.0/16");
  EXPECT_EQ(p["linuxProfile"]["adminUsername"], "azureuser");
  // Identities.
  std::string principal = c["identity"]["principalId"];
  EXPECT_EQ(c["identity"]["type"], "SystemAssigned");
  EXPECT_EQ(c["identity"]["tenantId"], identity_->tenant_id());
  EXPECT_TRUE(identity_->directory().FindByObjectId(principal).ok());
  const json& kubelet = p["identityProfile"]["kubeletidentity"];
  EXPECT_EQ(kubelet["resourceId"],
            "/subscriptions/" + subscription_ +
                "/resourcegroups/MC_rg_c1_westeurope/providers/Microsoft.ManagedIdentity/"
                "userAssignedIdentities/c1-agentpool");
  auto kubelet_principal = identity_->directory().FindByObjectId(kubelet.value("objectId", ""));
  ASSERT_TRUE(kubelet_principal.ok());
  EXPECT_EQ(kubelet_principal->app_id, kubelet["clientId"]);
  // The pool, composed into the cluster.
  ASSERT_EQ(p["agentPoolProfiles"].size(), 1u);
  const json& pool = p["agentPoolProfiles"][0];
  EXPECT_EQ(pool["name"], "nodepool1");
  EXPECT_EQ(pool["count"], 3);
  EXPECT_EQ(pool["osDiskSizeGB"], 128);
  EXPECT_EQ(pool["osDiskType"], "Managed");
  EXPECT_EQ(pool["mode"], "System");
  EXPECT_EQ(pool["provisioningState"], "Succeeded");
  EXPECT_EQ(pool["orchestratorVersion"], "1.24.9");
  // The node resource group, managed by the cluster; Contributor for the cluster identity there.
  json group = Body(Arm("GET", RgId("MC_rg_c1_westeurope"), nullptr, "", "2021-04-01"));
  EXPECT_EQ(group["managedBy"], ClusterId("c1"));
  EXPECT_EQ(group["location"], kLocation);
  EXPECT_EQ(group["tags"],
            json({{"aks-managed-cluster-name", "c1"}, {"aks-managed-cluster-rg", "rg"}}));
  auto allowed =
      rbac_->IsAllowed(principal, "Microsoft.Compute/disks/write", RgId("MC_rg_c1_westeurope"));
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE(*allowed);
  allowed = rbac_->IsAllowed(principal, "Microsoft.Compute/disks/write", RgId("rg"));
  EXPECT_FALSE(*allowed);
  // Three nodes, each with a managed OS disk encrypted with the DES.
  auto nodes = Nodes("c1");
  ASSERT_EQ(nodes.size(), 3u);
  for (const NodeInfo& n : nodes) {
    EXPECT_EQ(n.state, "Ready") << n.reason;
    EXPECT_EQ(n.des_id, des_id_);
    EXPECT_EQ(n.key_url, kid_);
    json disk = Body(Arm("GET", n.os_disk_id));
    EXPECT_EQ(disk["properties"]["encryption"]["type"], "EncryptionAtRestWithCustomerKey");
  }
  // Lists.
  auto list = Arm("GET", RgId("rg") + "/providers/Microsoft.ContainerService/managedClusters",
                  nullptr, "", kApi);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Body(list)["value"].size(), 1u);
  EXPECT_EQ(Body(list)["value"][0]["properties"]["agentPoolProfiles"].size(), 1u);
  list = Arm(
      "GET",
      "/subscriptions/" + subscription_ + "/providers/Microsoft.ContainerService/managedClusters",
      nullptr, "", kApi);
  EXPECT_EQ(Body(list)["value"].size(), 1u);
  auto pools = Arm("GET", ClusterId("c1") + "/agentPools", nullptr, "", kApi);
  ASSERT_EQ(pools.status, 200);
  EXPECT_EQ(Body(pools)["value"][0]["id"], PoolId("c1", "nodepool1"));
  // The unique-id index.
  std::optional<ClusterRecord> by_uid;
  ASSERT_TRUE(store::RunInReadTransaction(*store_, [&](store::Transaction& txn) -> Status {
                BYOK_ASSIGN_OR_RETURN(auto rec, FindCluster(txn, ClusterId("c1")));
                BYOK_ASSIGN_OR_RETURN(by_uid, FindClusterByUniqueId(txn, rec->unique_id));
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(by_uid.has_value());
  EXPECT_EQ(by_uid->name, "c1");
  EXPECT_EQ(by_uid->des_id, des_id_);
  EXPECT_EQ(by_uid->principal_id, principal);
  EXPECT_FALSE(by_uid->client_ca_pem.empty());
}

TEST_F(ManagedClustersTest, DefaultsWithoutOsDiskType) {
  // Standard_DS2_v2 can't hold 128 GB ephemerally: Managed; Standard_DS3_v2 can: Ephemeral.
  CreateCluster("c1", "", "", "Standard_DS2_v2", 1);
  EXPECT_EQ(Get(ClusterId("c1"))["properties"]["agentPoolProfiles"][0]["osDiskType"], "Managed");
  json body = CreateBody("", "", "Standard_DS3_v2", 1);
  body["properties"]["kubernetesVersion"] = "1.25";
  body["properties"].erase("dnsPrefix");
  ASSERT_EQ(PutAndWait(ClusterId("c2"), body), "Succeeded") << last_error_.dump();
  json c2 = Get(ClusterId("c2"));
  EXPECT_EQ(c2["properties"]["agentPoolProfiles"][0]["osDiskType"], "Ephemeral");
  EXPECT_EQ(c2["properties"]["kubernetesVersion"], "1.25.5");
  EXPECT_EQ(c2["properties"]["dnsPrefix"], "c2-rg-" + subscription_.substr(0, 6));
  auto nodes = Nodes("c2");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].os_disk_type, OsDiskType::kEphemeral);
  EXPECT_EQ(nodes[0].des_id, "");
}

TEST_F(ManagedClustersTest, EphemeralOnTheDefaultSizeFails) {
  auto r = Put(ClusterId("c1"), CreateBody(des_id_, "Ephemeral"));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Code(r), "VMCacheSizeTooSmall");
  EXPECT_EQ(Message(r),
            "The virtual machine size Standard_DS2_v2 has a cache size of 92341796864 bytes, but "
            "the OS disk requires 137438953472 bytes. Use a VM size with larger cache or disable "
            "ephemeral OS.");
  // Nothing was created.
  EXPECT_EQ(Arm("GET", ClusterId("c1"), nullptr, "", kApi).status, 404);
  EXPECT_EQ(Arm("GET", RgId("MC_rg_c1_westeurope"), nullptr, "", "2021-04-01").status, 404);
  CreateCluster("c1", des_id_, "Ephemeral", "Standard_DS3_v2", 1);
  auto nodes = Nodes("c1");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].os_disk_type, OsDiskType::kEphemeral);
  EXPECT_EQ(nodes[0].key_url, kid_);
  EXPECT_EQ(nodes[0].state, "Ready") << nodes[0].reason;
}

TEST_F(ManagedClustersTest, RequestValidation) {
  auto code = [&](const std::string& name, const json& body) {
    return Code(Put(ClusterId(name), body));
  };
  json b = CreateBody("");
  b["properties"]["kubernetesVersion"] = "1.21.7";
  EXPECT_EQ(code("c1", b), "AgentPoolK8sVersionNotSupported");
  b = CreateBody("");
  b["properties"]["agentPoolProfiles"][0]["mode"] = "User";
  EXPECT_EQ(code("c1", b), "MustDefineAtLeastOneSystemPool");
  b = CreateBody("");
  b["properties"]["agentPoolProfiles"][0]["count"] = 0;
  EXPECT_EQ(code("c1", b), "InvalidParameter");
  b = CreateBody("");
  b["properties"]["agentPoolProfiles"] = json::array();
  EXPECT_EQ(code("c1", b), "InvalidParameter");
  b = CreateBody("");
  b["properties"]["agentPoolProfiles"].push_back(b["properties"]["agentPoolProfiles"][0]);
  EXPECT_EQ(code("c1", b), "InvalidParameter");
  b = CreateBody("");
  b["properties"]["agentPoolProfiles"][0]["vmSize"] = "Standard_X9";
  EXPECT_EQ(code("c1", b), "BadRequest");
  b = CreateBody("");
  b["identity"]["type"] = "UserAssigned";
  EXPECT_EQ(code("c1", b), "InvalidParameter");
  b = CreateBody("");
  b.erase("location");
  EXPECT_EQ(code("c1", b), "LocationRequired");
  EXPECT_EQ(code("-bad", CreateBody("")), "InvalidParameter");
  b = CreateBody("/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v");
  EXPECT_EQ(code("c1", b), "InvalidParameter");
  b = CreateBody(DesId("rg", "nope"));
  EXPECT_EQ(code("c1", b), "ResourceNotFound");
}

TEST_F(ManagedClustersTest, DesRules) {
  // The DES must be in the cluster's region.
  json b = CreateBody(des_id_);
  b["location"] = "eastus";
  auto r = Put(ClusterId("c1"), b);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "InvalidParameter");
  EXPECT_NE(Message(r).find("same region"), std::string::npos) << Message(r);
  // Virtual nodes are refused with a DES (and accepted without one).
  b = CreateBody(des_id_);
  b["properties"]["addonProfiles"] = {
      {"aciConnectorLinux", {{"enabled", true}, {"config", {{"SubnetName", "vn"}}}}}};
  r = Put(ClusterId("c1"), b);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "InvalidParameter");
  EXPECT_NE(Message(r).find("aciConnectorLinux"), std::string::npos);
  b["properties"]["addonProfiles"]["aciConnectorLinux"]["enabled"] = false;
  EXPECT_EQ(Put(ClusterId("c1"), b).status, 201);
  Drain();
  // A caller allowed to write clusters in rg2 but not to read the DES.
  CreateGroup("rg2");
  identity::Principal dev = NewPrincipal("dev");
  AssignRole(RgId("rg2"), authz::kContributorRoleId, dev.object_id);
  r = Put(ClusterId("c2", "rg2"), CreateBody(des_id_), dev.object_id);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Code(r), "LinkedAuthorizationFailed");
  EXPECT_NE(Message(r).find("Microsoft.Compute/diskEncryptionSets/read"), std::string::npos);
  EXPECT_NE(Message(r).find("Microsoft.ContainerService/managedClusters/write"), std::string::npos);
  AssignRole(des_id_, authz::kReaderRoleId, dev.object_id);
  r = Put(ClusterId("c2", "rg2"), CreateBody(des_id_), dev.object_id);
  EXPECT_EQ(r.status, 201) << r.body;
  Drain();
}

TEST_F(ManagedClustersTest, DesOnlyAtCreation) {
  CreateCluster("c1");  // no DES
  json c = Get(ClusterId("c1"));
  c["properties"]["diskEncryptionSetID"] = des_id_;
  auto r = Put(ClusterId("c1"), c);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "PropertyChangeNotAllowed");
  EXPECT_EQ(Message(r), "Changing property 'diskEncryptionSetID' is not allowed.");

  CreateCluster("c2", des_id_);
  json des2 = CreateDesWithAccess("rg", "des2", "kv1", kid_);
  c = Get(ClusterId("c2"));
  c["properties"]["diskEncryptionSetID"] = DesId("rg", "des2");
  EXPECT_EQ(Code(Put(ClusterId("c2"), c)), "PropertyChangeNotAllowed");
  // The same DES (another case) is no change; an update without it keeps it.
  c["properties"]["diskEncryptionSetID"] = des_id_;
  c["tags"] = {{"team", "a"}};
  EXPECT_EQ(PutAndWait(ClusterId("c2"), c, 200), "Succeeded");
  c = Get(ClusterId("c2"));
  EXPECT_EQ(c["tags"]["team"], "a");
  c["properties"].erase("diskEncryptionSetID");
  EXPECT_EQ(PutAndWait(ClusterId("c2"), c, 200), "Succeeded");
  EXPECT_EQ(Get(ClusterId("c2"))["properties"]["diskEncryptionSetID"], des_id_);
  // Virtual nodes can't be enabled later either.
  c = Get(ClusterId("c2"));
  c["properties"]["addonProfiles"] = {{"aciConnectorLinux", {{"enabled", true}}}};
  EXPECT_EQ(Code(Put(ClusterId("c2"), c)), "InvalidParameter");
  // Nor the version changed.
  c = Get(ClusterId("c2"));
  c["properties"]["kubernetesVersion"] = "1.25.5";
  EXPECT_EQ(Code(Put(ClusterId("c2"), c)), "OperationNotAllowed");
}

TEST_F(ManagedClustersTest, ScaleThroughTheClusterDocument) {
  // `az aks scale`: GET, change agentPoolProfiles[0].count, PUT.
  CreateCluster("c1", des_id_, "Managed", "Standard_DS2_v2", 1);
  json c = Get(ClusterId("c1"));
  c["properties"]["agentPoolProfiles"][0]["count"] = 3;
  ASSERT_EQ(PutAndWait(ClusterId("c1"), c, 200), "Succeeded") << last_error_.dump();
  EXPECT_EQ(Nodes("c1").size(), 3u);
  c = Get(ClusterId("c1"));
  EXPECT_EQ(c["properties"]["agentPoolProfiles"][0]["count"], 3);
  EXPECT_EQ(c["properties"]["provisioningState"], "Succeeded");
  c["properties"]["agentPoolProfiles"][0]["count"] = 2;
  ASSERT_EQ(PutAndWait(ClusterId("c1"), c, 200), "Succeeded");
  EXPECT_EQ(Nodes("c1").size(), 2u);
  c["properties"]["agentPoolProfiles"][0]["count"] = 0;
  EXPECT_EQ(Code(Put(ClusterId("c1"), c)), "InvalidParameter");
  c["properties"]["agentPoolProfiles"][0]["count"] = 2;
  c["properties"]["agentPoolProfiles"][0]["mode"] = "User";
  EXPECT_EQ(Code(Put(ClusterId("c1"), c)), "OperationNotAllowed");
  c["properties"]["agentPoolProfiles"][0]["mode"] = "System";
  c["properties"]["agentPoolProfiles"][0]["vmSize"] = "Standard_DS3_v2";
  EXPECT_EQ(Code(Put(ClusterId("c1"), c)), "PropertyChangeNotAllowed");
}

TEST_F(ManagedClustersTest, AgentPools) {
  CreateCluster("c1", des_id_, "Managed", "Standard_DS2_v2", 1);
  // Ephemeral on the default size: AKS's error; with Standard_DS3_v2 it works and inherits the
  // cluster's DES.
  auto r = Put(PoolId("c1", "np2"), PoolBody(2, "Ephemeral"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "VMCacheSizeTooSmall");
  ASSERT_EQ(PutAndWait(PoolId("c1", "np2"), PoolBody(2, "Ephemeral", "Standard_DS3_v2")),
            "Succeeded")
      << last_error_.dump();
  json pool = Get(PoolId("c1", "np2"));
  EXPECT_EQ(pool["properties"]["osDiskType"], "Ephemeral");
  EXPECT_EQ(pool["properties"]["mode"], "User");
  EXPECT_EQ(pool["properties"]["provisioningState"], "Succeeded");
  auto np2 = Nodes("c1", "np2");
  ASSERT_EQ(np2.size(), 2u);
  for (const NodeInfo& n : np2) {
    EXPECT_EQ(n.os_disk_type, OsDiskType::kEphemeral);
    EXPECT_EQ(n.des_id, des_id_);
    EXPECT_EQ(n.key_url, kid_);
  }
  EXPECT_EQ(Get(ClusterId("c1"))["properties"]["agentPoolProfiles"].size(), 2u);
  // `az aks nodepool scale --node-count 0` and back (a User pool).
  pool["properties"]["count"] = 0;
  ASSERT_EQ(PutAndWait(PoolId("c1", "np2"), pool, 200), "Succeeded");
  EXPECT_EQ(Nodes("c1", "np2").size(), 0u);
  pool["properties"]["count"] = 2;
  ASSERT_EQ(PutAndWait(PoolId("c1", "np2"), pool, 200), "Succeeded");
  EXPECT_EQ(Nodes("c1", "np2").size(), 2u);
  // A System pool refuses 0.
  json sys = Get(PoolId("c1", "nodepool1"));
  sys["properties"]["count"] = 0;
  r = Put(PoolId("c1", "nodepool1"), sys);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "InvalidParameter");
  EXPECT_EQ(Message(r),
            "The value of parameter agentPoolProfile.count is invalid. Please see "
            "https://aka.ms/aks-naming-rules for more details.");
  // The last System pool can't go, nor turn into a User pool.
  r = Arm("DELETE", PoolId("c1", "nodepool1"), nullptr, "", kApi);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Message(r), "There has to be at least one system agent pool.");
  sys["properties"]["count"] = 1;
  sys["properties"]["mode"] = "User";
  EXPECT_EQ(Code(Put(PoolId("c1", "nodepool1"), sys)), "OperationNotAllowed");
  // A second System pool makes the first one deletable.
  ASSERT_EQ(PutAndWait(PoolId("c1", "sys2"), PoolBody(1, "Managed", "", "System")), "Succeeded");
  r = Arm("DELETE", PoolId("c1", "nodepool1"), nullptr, "", kApi);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(WaitFor(r), "Succeeded");
  EXPECT_EQ(Arm("GET", PoolId("c1", "nodepool1"), nullptr, "", kApi).status, 404);
  EXPECT_EQ(Nodes("c1", "nodepool1").size(), 0u);
  // Deleting np2 removes its nodes.
  r = Arm("DELETE", PoolId("c1", "np2"), nullptr, "", kApi);
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(WaitFor(r), "Succeeded");
  EXPECT_EQ(Nodes("c1").size(), 1u);
  EXPECT_EQ(Arm("DELETE", PoolId("c1", "np2"), nullptr, "", kApi).status, 204);
  // Immutable properties.
  json s2 = Get(PoolId("c1", "sys2"));
  s2["properties"]["osDiskSizeGB"] = 256;
  EXPECT_EQ(Code(Put(PoolId("c1", "sys2"), s2)), "PropertyChangeNotAllowed");
  EXPECT_EQ(Arm("GET", PoolId("nope", "np"), nullptr, "", kApi).status, 404);
}

TEST_F(ManagedClustersTest, APoolBeingDeletedIsNoLongerASystemPool) {
  CreateCluster("c1", des_id_, "Managed", "Standard_DS2_v2", 1);
  ASSERT_EQ(PutAndWait(PoolId("c1", "sys2"), PoolBody(1, "Managed", "", "System")), "Succeeded");
  json cluster = Get(ClusterId("c1"));  // what a read-modify-write client holds
  // sys2's delete is queued (its operation has not run yet).
  ASSERT_TRUE(store::RunInTransaction(*store_, [&](store::Transaction& txn) -> Status {
                BYOK_ASSIGN_OR_RETURN(auto pool, txn.Get(PoolId("c1", "sys2")));
                if (!pool) return Status::NotFound("sys2");
                pool->body["properties"]["provisioningState"] = "Deleting";
                return txn.Put(std::move(*pool)).status();
              }).ok());
  // So nodepool1 is the last System pool: it can't go, nor turn into a User pool (also not
  // through the cluster document).
  auto r = Arm("DELETE", PoolId("c1", "nodepool1"), nullptr, "", kApi);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Message(r), "There has to be at least one system agent pool.");
  json sys = Get(PoolId("c1", "nodepool1"));
  sys["properties"]["mode"] = "User";
  EXPECT_EQ(Code(Put(PoolId("c1", "nodepool1"), sys)), "OperationNotAllowed");
  json as_user = cluster;
  for (json& p : as_user["properties"]["agentPoolProfiles"]) {
    if (p["name"] == "nodepool1") p["mode"] = "User";
  }
  EXPECT_EQ(Code(Put(ClusterId("c1"), as_user)), "OperationNotAllowed");
  // The CLI's read-modify-write PUT echoes sys2: it is not written back (its delete stands).
  cluster["tags"] = {{"team", "a"}};
  ASSERT_EQ(PutAndWait(ClusterId("c1"), cluster, 200), "Succeeded") << last_error_.dump();
  EXPECT_EQ(Get(PoolId("c1", "sys2"))["properties"]["provisioningState"], "Deleting");
}

TEST_F(ManagedClustersTest, StopStartAndCredentials) {
  CreateCluster("c1", des_id_, "Managed", "Standard_DS2_v2", 1);
  auto r = Arm("POST", ClusterId("c1") + "/stop", nullptr, "", kApi);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(WaitFor(r), "Succeeded");
  json c = Get(ClusterId("c1"));
  EXPECT_EQ(c["properties"]["powerState"]["code"], "Stopped");
  EXPECT_EQ(c["properties"]["agentPoolProfiles"][0]["powerState"]["code"], "Stopped");
  EXPECT_EQ(Nodes("c1")[0].state, "Deallocated");
  // Scaling a stopped cluster is refused.
  json pool = Get(PoolId("c1", "nodepool1"));
  pool["properties"]["count"] = 2;
  EXPECT_EQ(Put(PoolId("c1", "nodepool1"), pool).status, 409);
  r = Arm("POST", ClusterId("c1") + "/start", nullptr, "", kApi);
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(WaitFor(r), "Succeeded");
  EXPECT_EQ(Get(ClusterId("c1"))["properties"]["powerState"]["code"], "Running");
  EXPECT_EQ(Nodes("c1")[0].state, "Ready");

  for (const char* action : {"listClusterUserCredential", "listClusterAdminCredential"}) {
    r = Arm("POST", ClusterId("c1") + "/" + action, nullptr, "", kApi);
    ASSERT_EQ(r.status, 200) << r.body;
    json k = Body(r)["kubeconfigs"];
    ASSERT_EQ(k.size(), 1u);
    EXPECT_EQ(k[0]["name"],
              std::string(action) == "listClusterUserCredential" ? "clusterUser" : "clusterAdmin");
    auto raw = Base64Decode(k[0].value("value", ""));
    ASSERT_TRUE(raw.ok());
    std::string text(raw->begin(), raw->end());
    EXPECT_NE(text.find("server: https://localhost:8443/k8s/"), std::string::npos) << text;
    EXPECT_NE(text.find("client-certificate-data:"), std::string::npos);
  }
  EXPECT_EQ(Arm("POST", ClusterId("nope") + "/listClusterUserCredential", nullptr, "", kApi).status,
            404);
}

TEST_F(ManagedClustersTest, DeleteRemovesEverything) {
  CreateCluster("c1", des_id_, "Managed", "Standard_DS2_v2", 2);
  json c = Get(ClusterId("c1"));
  std::string principal = c["identity"]["principalId"];
  std::string kubelet = c["properties"]["identityProfile"]["kubeletidentity"]["objectId"];
  auto nodes = Nodes("c1");
  ASSERT_EQ(nodes.size(), 2u);
  std::string disk_file = blocks_->PathOf(nodes[0].os_disk_unique_id);
  EXPECT_TRUE(std::filesystem::exists(disk_file));
  std::string uid;
  ASSERT_TRUE(store::RunInReadTransaction(*store_, [&](store::Transaction& txn) -> Status {
                BYOK_ASSIGN_OR_RETURN(auto rec, FindCluster(txn, ClusterId("c1")));
                uid = rec->unique_id;
                return Status::Ok();
              }).ok());

  auto r = Arm("DELETE", ClusterId("c1"), nullptr, "", kApi);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(WaitFor(r), "Succeeded") << last_error_.dump();
  EXPECT_EQ(Arm("GET", ClusterId("c1"), nullptr, "", kApi).status, 404);
  EXPECT_EQ(Arm("GET", RgId("MC_rg_c1_westeurope"), nullptr, "", "2021-04-01").status, 404);
  EXPECT_EQ(Arm("GET", nodes[0].os_disk_id).status, 404);
  EXPECT_FALSE(std::filesystem::exists(disk_file));
  EXPECT_FALSE(identity_->directory().FindByObjectId(principal).ok());
  EXPECT_FALSE(identity_->directory().FindByObjectId(kubelet).ok());
  auto left = nodes_->List(uid);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  ASSERT_TRUE(store::RunInReadTransaction(*store_, [&](store::Transaction& txn) -> Status {
                BYOK_ASSIGN_OR_RETURN(auto by_uid, FindClusterByUniqueId(txn, uid));
                EXPECT_FALSE(by_uid.has_value());
                BYOK_ASSIGN_OR_RETURN(auto secrets,
                                      txn.ListSecrets("containerservice/clusters/" + uid));
                EXPECT_TRUE(secrets.empty());
                return Status::Ok();
              }).ok());
  {
    std::lock_guard<std::mutex> lock(deleted_mu_);
    EXPECT_EQ(deleted_uids_, std::vector<std::string>{uid});
  }
  EXPECT_EQ(Arm("DELETE", ClusterId("c1"), nullptr, "", kApi).status, 204);
  // The name can be used again.
  CreateCluster("c1", des_id_, "Managed", "Standard_DS2_v2", 1);
}

TEST_F(ManagedClustersTest, ResourceGroupDeleteTakesTheCluster) {
  CreateGroup("apps");
  ASSERT_EQ(
      PutAndWait(ClusterId("c9", "apps"), CreateBody(des_id_, "Managed", "Standard_DS2_v2", 1)),
      "Succeeded")
      << last_error_.dump();
  auto before = nodes_->ListAll();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->size(), 1u);
  auto r = Arm("DELETE", RgId("apps"), nullptr, "", "2021-04-01");
  ASSERT_EQ(r.status, 202) << r.body;
  Drain();
  EXPECT_EQ(Arm("GET", RgId("apps"), nullptr, "", "2021-04-01").status, 404);
  EXPECT_EQ(Arm("GET", RgId("MC_apps_c9_westeurope"), nullptr, "", "2021-04-01").status, 404);
  auto all = nodes_->ListAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  std::lock_guard<std::mutex> lock(deleted_mu_);
  ASSERT_FALSE(deleted_uids_.empty());
  for (const std::string& uid : deleted_uids_) EXPECT_EQ(uid, (*before)[0].cluster_unique_id);
}

TEST_F(ManagedClustersTest, DesInUseByAClusterIsNotDeleted) {
  CreateCluster("c1", des_id_, "Ephemeral", "Standard_DS3_v2", 1);
  auto r = Arm("DELETE", des_id_);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Body(r)["error"]["code"], "OperationNotAllowed");
  EXPECT_NE(r.body.find(ClusterId("c1")), std::string::npos) << r.body;
  // Deleting the DES's resource group is refused too (the cluster lives in the same group here,
  // so the group's cascade takes the cluster first and then the DES).
  r = Arm("DELETE", ClusterId("c1"), nullptr, "", kApi);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(WaitFor(r), "Succeeded") << last_error_.dump();
  EXPECT_EQ(Arm("DELETE", des_id_).status, 200);
}

TEST_F(ManagedClustersTest, UnenforceableFeaturesAreRefused) {
  for (const auto& [path, value] : std::vector<std::pair<std::string, json>>{
           {"/properties/disableLocalAccounts", true},
           {"/properties/aadProfile", {{"managed", true}}},
           {"/properties/apiServerAccessProfile", {{"authorizedIPRanges", {"1.2.3.4/32"}}}},
           {"/properties/apiServerAccessProfile", {{"enablePrivateCluster", true}}}}) {
    json body = CreateBody(des_id_, "Managed");
    body[json::json_pointer(path)] = value;
    auto r = Put(ClusterId("c1"), body);
    EXPECT_EQ(r.status, 400) << path << " " << r.body;
    EXPECT_NE(r.body.find("not supported by byok"), std::string::npos) << r.body;
  }
  CreateCluster("c1", des_id_, "Managed", "Standard_DS2_v2", 1);
  json update = Get(ClusterId("c1"));
  update["properties"]["disableLocalAccounts"] = true;
  EXPECT_EQ(Put(ClusterId("c1"), update).status, 400);
}

TEST_F(ManagedClustersTest, ARestartResumesCutShortOperationsAndBootsNodes) {
  CreateCluster("c1", des_id_, "Managed", "Standard_DS2_v2", 1);
  auto boots = [&] {
    auto n = Nodes("c1");
    return n.empty() ? int64_t{-1} : n[0].boot_count;
  };
  EXPECT_EQ(boots(), 1);
  // byokd stopped in the middle of a scale-up to 2: the record asks for 2, the state says
  // Updating, and no operation is left to finish it.
  ASSERT_TRUE(store::RunInTransaction(*store_, [&](store::Transaction& txn) -> Status {
                BYOK_ASSIGN_OR_RETURN(auto pool, txn.Get(PoolId("c1", "nodepool1")));
                pool->body["properties"]["count"] = 2;
                pool->body["properties"]["provisioningState"] = "Updating";
                BYOK_ASSIGN_OR_RETURN(auto put, txn.Put(*pool));
                BYOK_ASSIGN_OR_RETURN(auto cluster, txn.Get(ClusterId("c1")));
                cluster->body["properties"]["provisioningState"] = "Updating";
                BYOK_ASSIGN_OR_RETURN(auto put2, txn.Put(*cluster));
                return Status::Ok();
              }).ok());
  // A new NodeManager: the running nodes' open disks went with the old process.
  NewNodeManager();
  Restart();
  json c = Get(ClusterId("c1"));
  EXPECT_EQ(c["properties"]["provisioningState"], "Succeeded") << c.dump();
  EXPECT_EQ(c["properties"]["agentPoolProfiles"][0]["provisioningState"], "Succeeded");
  auto nodes = Nodes("c1");
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].state, "Ready");
  EXPECT_EQ(nodes[0].boot_count, 2) << "the node that was running boots again";
  EXPECT_EQ(nodes[1].state, "Ready");
  EXPECT_EQ(nodes[1].boot_count, 1);
}

TEST_F(ManagedClustersTest, GetVersions) {
  auto r = Arm("GET",
               "/subscriptions/" + subscription_ +
                   "/providers/Microsoft.ContainerService/locations/eastus/orchestrators",
               nullptr, "", "2019-04-01");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["properties"]["orchestrators"].size(), 7u);
  r = Arm("GET",
          "/subscriptions/" + subscription_ +
              "/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions",
          nullptr, "", "2023-11-01");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["values"].size(), 4u);
  r = Arm("GET",
          "/subscriptions/" + subscription_ +
              "/providers/Microsoft.ContainerService/locations/atlantis/orchestrators",
          nullptr, "", "2019-04-01");
  EXPECT_EQ(r.status, 400);
}

}  // namespace
}  // namespace byok::containerservice
