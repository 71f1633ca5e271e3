// Agent-pool validation and defaults (containerservice/pools.h).
#include "containerservice/pools.h"

#include <gtest/gtest.h>

namespace byok::containerservice::internal {
namespace {

using nlohmann::json;

const PoolContext kCtx{"eastus", "1.24.9", "System"};

TEST(PoolsTest, DefaultsAsAks) {
  // What Azure CLI 2.45 sends for `az aks create` without size flags.
  auto p = ParseNewPool("nodepool1",
                        {{"count", 3},
                         {"vmSize", "Standard_DS2_v2"},
                         {"osDiskSizeGB", 0},
                         {"mode", "System"},
                         {"type", "VirtualMachineScaleSets"}},
                        kCtx);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->count, 3);
  EXPECT_EQ(p->os_disk_size_gb, 128);
  // 128 GB does not fit Standard_DS2_v2's 86 GiB cache: Managed.
  EXPECT_EQ(p->os_disk_type, OsDiskType::kManaged);
  EXPECT_EQ(p->orchestrator_version, "1.24.9");
  EXPECT_EQ(p->mode, "System");

  auto q = ParseNewPool("np2", {{"vmSize", "Standard_DS3_v2"}}, {"eastus", "1.24.9", "User"});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->os_disk_type, OsDiskType::kEphemeral);  // fits the 172 GiB cache
  EXPECT_EQ(q->mode, "User");
  EXPECT_EQ(q->count, 1);

  auto r = ParseNewPool("np3", json::object(), kCtx);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->vm_size, "Standard_DS2_v2");
  EXPECT_EQ(r->os_disk_type, OsDiskType::kManaged);

  auto s = ParseNewPool("np4", {{"vmSize", "standard_ds2_v2"}, {"osDiskSizeGB", 60}}, kCtx);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->vm_size, "Standard_DS2_v2");
  EXPECT_EQ(s->os_disk_type, OsDiskType::kEphemeral);
}

TEST(PoolsTest, EphemeralThatDoesNotFit) {
  auto p = ParseNewPool("np2", {{"osDiskType", "Ephemeral"}, {"vmSize", "Standard_DS2_v2"}}, kCtx);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "VMCacheSizeTooSmall");
  EXPECT_EQ(p.error().http_status, 400);
  EXPECT_EQ(p.error().message,
            "The virtual machine size Standard_DS2_v2 has a cache size of 92341796864 bytes, but "
            "the OS disk requires 137438953472 bytes. Use a VM size with larger cache or disable "
            "ephemeral OS.");
  EXPECT_TRUE(
      ParseNewPool("np2", {{"osDiskType", "Ephemeral"}, {"vmSize", "Standard_DS3_v2"}}, kCtx).ok());
  auto b = ParseNewPool(
      "np2", {{"osDiskType", "Ephemeral"}, {"vmSize", "Standard_B2s"}, {"osDiskSizeGB", 30}}, kCtx);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("cache size of 0 bytes"), std::string::npos);
}

TEST(PoolsTest, Validation) {
  auto code = [](const ApiResult<PoolSpec>& r) { return r.ok() ? "" : r.error().code; };
  EXPECT_EQ(code(ParseNewPool("Pool1", json::object(), kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("1pool", json::object(), kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("abcdefghijklm", json::object(), kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("", json::object(), kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"count", 0}}, kCtx)), "InvalidParameter");  // System
  EXPECT_EQ(code(ParseNewPool("np", {{"count", 0}, {"mode", "User"}}, kCtx)), "");
  EXPECT_EQ(code(ParseNewPool("np", {{"count", 1001}, {"mode", "User"}}, kCtx)),
            "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"count", -1}, {"mode", "User"}}, kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"count", "3"}}, kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"mode", "Gateway"}}, kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"vmSize", "Standard_A0"}}, kCtx)), "BadRequest");
  EXPECT_EQ(code(ParseNewPool("np", {{"osDiskSizeGB", 10}}, kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"osDiskSizeGB", 4096}}, kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"osDiskType", "Local"}}, kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"osType", "Windows"}}, kCtx)), "InvalidParameter");
  EXPECT_EQ(code(ParseNewPool("np", {{"orchestratorVersion", "1.21.2"}}, kCtx)),
            "AgentPoolK8sVersionNotSupported");
  EXPECT_EQ(code(ParseNewPool("np", {{"orchestratorVersion", "1.25"}}, kCtx)), "InvalidParameter");
  auto older = ParseNewPool("np", {{"orchestratorVersion", "1.23"}}, kCtx);
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(older->orchestrator_version, "1.23.15");
  auto size = ParseNewPool("np", {{"vmSize", "Standard_A0"}}, kCtx);
  EXPECT_NE(size.error().message.find("AgentPoolProfile:np is not allowed in your subscription in "
                                      "location 'eastus'"),
            std::string::npos);
}

TEST(PoolsTest, DocumentAndProfile) {
  auto p = ParseNewPool("nodepool1",
                        {{"count", 2},
                         {"vmSize", "Standard_DS3_v2"},
                         {"maxPods", 30},
                         {"provisioningState", "Bogus"},
                         {"nodeLabels", {{"a", "b"}}}},
                        kCtx);
  ASSERT_TRUE(p.ok());
  json doc = PoolDocument("/x/agentPools/nodepool1", *p, "Succeeded", "Running");
  EXPECT_EQ(doc["type"], "Microsoft.ContainerService/managedClusters/agentPools");
  const json& props = doc["properties"];
  EXPECT_EQ(props["count"], 2);
  EXPECT_EQ(props["osDiskType"], "Ephemeral");
  EXPECT_EQ(props["osDiskSizeGB"], 128);
  EXPECT_EQ(props["maxPods"], 30);
  EXPECT_EQ(props["nodeLabels"]["a"], "b");
  EXPECT_EQ(props["provisioningState"], "Succeeded");
  EXPECT_EQ(props["powerState"]["code"], "Running");
  EXPECT_EQ(props["currentOrchestratorVersion"], "1.24.9");
  EXPECT_EQ(props["kubeletDiskType"], "OS");
  EXPECT_EQ(props["type"], "VirtualMachineScaleSets");
  json profile = ProfileOf(doc);
  EXPECT_EQ(profile["name"], "nodepool1");
  EXPECT_EQ(profile["vmSize"], "Standard_DS3_v2");
  EXPECT_FALSE(profile.contains("properties"));
}

TEST(PoolsTest, Updates) {
  auto p =
      ParseNewPool("np2", {{"count", 2}, {"vmSize", "Standard_DS3_v2"}, {"mode", "User"}}, kCtx);
  ASSERT_TRUE(p.ok());
  json stored = PoolDocument("/x/agentPools/np2", *p, "Succeeded", "Running");
  // The CLI's read-modify-write: the stored properties with another count.
  json props = stored["properties"];
  props["count"] = 0;
  auto scaled = ParsePoolUpdate(props, stored, kCtx);
  ASSERT_TRUE(scaled.ok()) << scaled.error().message;
  EXPECT_EQ(scaled->count, 0);
  EXPECT_EQ(scaled->os_disk_type, OsDiskType::kEphemeral);
  EXPECT_EQ(scaled->name, "np2");
  // Only the count given: the rest stays.
  auto partial = ParsePoolUpdate({{"count", 5}}, stored, kCtx);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->vm_size, "Standard_DS3_v2");
  EXPECT_EQ(partial->mode, "User");
  auto code = [&](json change) {
    auto r = ParsePoolUpdate(change, stored, kCtx);
    return r.ok() ? std::string() : r.error().code;
  };
  EXPECT_EQ(code({{"vmSize", "Standard_DS2_v2"}}), "PropertyChangeNotAllowed");
  EXPECT_EQ(code({{"osDiskSizeGB", 64}}), "PropertyChangeNotAllowed");
  EXPECT_EQ(code({{"osDiskType", "Managed"}}), "PropertyChangeNotAllowed");
  EXPECT_EQ(code({{"orchestratorVersion", "1.25.5"}}), "OperationNotAllowed");
  EXPECT_EQ(code({{"orchestratorVersion", "1.24"}}), "");
  EXPECT_EQ(code({{"mode", "System"}, {"count", 0}}), "InvalidParameter");
  EXPECT_EQ(code({{"vmSize", "standard_ds3_v2"}, {"osDiskSizeGB", 0}}), "");
}

}  // namespace
}  // namespace byok::containerservice::internal
