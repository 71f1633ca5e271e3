// The v1 Node projection of an agent-pool node.
#include "kube/node_objects.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace byok::kube {
namespace {

using nlohmann::json;

containerservice::ClusterRecord Cluster() {
  containerservice::ClusterRecord c;
  c.id =
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
      "Microsoft.ContainerService/managedClusters/aks1";
  c.name = "aks1";
  c.resource_group = "rg";
  c.subscription_id = "00000000-0000-0000-0000-000000000001";
  c.location = "eastus";
  c.unique_id = "0123456789abcdef0123456789abcdef";
  c.kubernetes_version = "1.25.5";
  c.node_resource_group = "MC_rg_aks1_eastus";
  return c;
}

containerservice::NodeInfo Node() {
  containerservice::NodeInfo n;
  n.name = "aks-nodepool1-12345678-vmss000002";
  n.cluster_unique_id = "0123456789abcdef0123456789abcdef";
  n.pool_name = "nodepool1";
  n.instance = 2;
  n.vmss_name = "aks-nodepool1-12345678-vmss";
  n.vm_size = "Standard_DS2_v2";
  n.os_disk_size_gb = 128;
  n.kubernetes_version = "1.25.5";
  n.state = "Ready";
  n.boot_count = 1;
  n.created = "2024-03-01T10:00:00.1234567Z";
  return n;
}

const json* FindCondition(const json& node, std::string_view type) {
  for (const auto& c : node["status"]["conditions"]) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}

TEST(NodeObjectsTest, ReadyNode) {
  json n = NodeObject(Node(), Cluster(), "System");
  EXPECT_EQ(n["kind"], "Node");
  EXPECT_EQ(n["apiVersion"], "v1");
  EXPECT_EQ(n["metadata"]["name"], "aks-nodepool1-12345678-vmss000002");
  EXPECT_EQ(n["metadata"]["creationTimestamp"], "2024-03-01T10:00:00Z");
  const json& labels = n["metadata"]["labels"];
  EXPECT_EQ(labels["agentpool"], "nodepool1");
  EXPECT_EQ(labels["kubernetes.azure.com/agentpool"], "nodepool1");
  EXPECT_EQ(labels["kubernetes.azure.com/mode"], "system");
  EXPECT_EQ(labels["kubernetes.io/os"], "linux");
  EXPECT_EQ(labels["kubernetes.io/hostname"], "aks-nodepool1-12345678-vmss000002");
  EXPECT_EQ(labels["node.kubernetes.io/instance-type"], "Standard_DS2_v2");
  EXPECT_EQ(labels["topology.kubernetes.io/region"], "eastus");
  EXPECT_EQ(labels["kubernetes.azure.com/cluster"], "MC_rg_aks1_eastus");
  EXPECT_EQ(labels["node-role.kubernetes.io/agent"], "");
  EXPECT_EQ(n["spec"]["providerID"],
            "azure:///subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/"
            "mc_rg_aks1_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/"
            "aks-nodepool1-12345678-vmss/virtualMachines/2");
  const json* ready = FindCondition(n, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["status"], "True");
  EXPECT_EQ((*ready)["reason"], "KubeletReady");
  EXPECT_EQ(n["status"]["nodeInfo"]["kubeletVersion"], "v1.25.5");
  EXPECT_EQ(n["status"]["nodeInfo"]["osImage"], "Ubuntu 22.04.1 LTS");
  EXPECT_EQ(n["status"]["capacity"]["cpu"], "2");
  EXPECT_EQ(n["status"]["allocatable"]["cpu"], "1900m");
  EXPECT_EQ(n["status"]["capacity"]["pods"], "110");
  EXPECT_THAT(n["status"]["capacity"]["memory"].get<std::string>(), ::testing::EndsWith("Ki"));
  EXPECT_EQ(n["status"]["addresses"][0], (json{{"type", "InternalIP"}, {"address", "10.224.0.6"}}));
  EXPECT_EQ(n["spec"]["podCIDR"], "10.244.2.0/24");
}

TEST(NodeObjectsTest, AllocatableMemoryBelowCapacity) {
  json n = NodeObject(Node(), Cluster());
  auto ki = [](const json& q) {
    std::string s = q.get<std::string>();
    return std::stoll(s.substr(0, s.size() - 2));
  };
  int64_t cap = ki(n["status"]["capacity"]["memory"]);
  int64_t alloc = ki(n["status"]["allocatable"]["memory"]);
  EXPECT_GT(cap, 6 * 1024 * 1024);  // 7 GiB nominal
  EXPECT_LT(alloc, cap - 750 * 1024);
  EXPECT_GT(alloc, cap / 2);
  EXPECT_FALSE(n["metadata"]["labels"].contains("kubernetes.azure.com/mode"));
}

TEST(NodeObjectsTest, StableUidAndChangingResourceVersion) {
  json a = NodeObject(Node(), Cluster());
  json b = NodeObject(Node(), Cluster());
  EXPECT_EQ(a, b);
  std::string uid = a["metadata"]["uid"];
  EXPECT_EQ(uid.size(), 36u);
  EXPECT_EQ(uid[14], '4');
  containerservice::NodeInfo changed = Node();
  changed.state = "NotReady";
  changed.reason = "the key is disabled";
  json c = NodeObject(changed, Cluster());
  EXPECT_EQ(c["metadata"]["uid"], uid);
  EXPECT_NE(c["metadata"]["resourceVersion"], a["metadata"]["resourceVersion"]);
  const json* ready = FindCondition(c, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["status"], "False");
  EXPECT_EQ((*ready)["reason"], "KubeletNotReady");
  EXPECT_EQ((*ready)["message"], "the key is disabled");
  containerservice::NodeInfo other = Node();
  other.name = "aks-nodepool1-12345678-vmss000003";
  EXPECT_NE(NodeObject(other, Cluster())["metadata"]["uid"], uid);
}

TEST(NodeObjectsTest, StoppedNodeIsUnknown) {
  containerservice::NodeInfo n = Node();
  n.state = "Deallocated";
  json o = NodeObject(n, Cluster());
  const json* ready = FindCondition(o, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["status"], "Unknown");
  EXPECT_EQ((*ready)["reason"], "NodeStatusUnknown");
  EXPECT_EQ((*FindCondition(o, "MemoryPressure"))["status"], "Unknown");
}

TEST(NodeObjectsTest, OlderVersionsRunUbuntu1804) {
  containerservice::NodeInfo n = Node();
  n.kubernetes_version = "1.24.9";
  json o = NodeObject(n, Cluster());
  EXPECT_EQ(o["status"]["nodeInfo"]["osImage"], "Ubuntu 18.04.6 LTS");
  EXPECT_EQ(o["status"]["nodeInfo"]["kubeletVersion"], "v1.24.9");
}

}  // namespace
}  // namespace byok::kube
