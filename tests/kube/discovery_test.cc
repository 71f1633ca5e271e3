// Discovery documents: aggregated (APIGroupDiscoveryList) and legacy, and Accept negotiation.
#include "kube/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace byok::kube {
namespace {

using nlohmann::json;

// What kubectl 1.30-1.33 sends for /api and /apis.
constexpr char kKubectlAccept[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/"
    "json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

const json* FindResource(const json& group, std::string_view resource) {
  for (const auto& r : group["versions"][0]["resources"]) {
    if (r["resource"] == resource) return &r;
  }
  return nullptr;
}

TEST(DiscoveryTest, AcceptNegotiation) {
  EXPECT_TRUE(WantsAggregatedDiscovery(kKubectlAccept));
  EXPECT_EQ(AggregatedDiscoveryVersion(kKubectlAccept), "v2");
  EXPECT_EQ(AggregatedDiscoveryVersion(
                "application/json; as=APIGroupDiscoveryList ;v=v2beta1; g=apidiscovery.k8s.io"),
            "v2beta1");
  EXPECT_FALSE(WantsAggregatedDiscovery("application/json"));
  EXPECT_FALSE(WantsAggregatedDiscovery("*/*"));
  EXPECT_FALSE(WantsAggregatedDiscovery(""));
  EXPECT_FALSE(WantsAggregatedDiscovery(
      "application/json;g=apidiscovery.k8s.io;v=v1;as=APIGroupDiscoveryList"));
  EXPECT_EQ(AggregatedDiscoveryContentType("v2"), kAggregatedDiscoveryContentType);
  EXPECT_EQ(AggregatedDiscoveryContentType("v2beta1"),
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
}

TEST(DiscoveryTest, AggregatedCore) {
  json d = AggregatedDiscovery(true);
  EXPECT_EQ(d["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(d["apiVersion"], "apidiscovery.k8s.io/v2");
  ASSERT_EQ(d["items"].size(), 1u);
  const json& core = d["items"][0];
  EXPECT_FALSE(core["metadata"].contains("name"));
  EXPECT_EQ(core["versions"][0]["version"], "v1");
  EXPECT_EQ(core["versions"][0]["freshness"], "Current");
  const json* pvc = FindResource(core, "persistentvolumeclaims");
  ASSERT_NE(pvc, nullptr);
  EXPECT_EQ((*pvc)["responseKind"],
            (json{{"group", ""}, {"version", "v1"}, {"kind", "PersistentVolumeClaim"}}));
  EXPECT_EQ((*pvc)["scope"], "Namespaced");
  EXPECT_EQ((*pvc)["shortNames"], json::array({"pvc"}));
  EXPECT_EQ((*pvc)["singularResource"], "persistentvolumeclaim");
  EXPECT_EQ((*pvc)["subresources"][0]["subresource"], "status");
  EXPECT_EQ((*pvc)["subresources"][0]["verbs"], json({"get", "patch", "update"}));
  const json* nodes = FindResource(core, "nodes");
  ASSERT_NE(nodes, nullptr);
  EXPECT_EQ((*nodes)["scope"], "Cluster");
  EXPECT_EQ((*nodes)["verbs"], json({"get", "list", "watch"}));
  EXPECT_EQ(FindResource(core, "storageclasses"), nullptr);
  EXPECT_EQ(AggregatedDiscovery(true, "v2beta1")["apiVersion"], "apidiscovery.k8s.io/v2beta1");
}

TEST(DiscoveryTest, AggregatedGroups) {
  json d = AggregatedDiscovery(false);
  ASSERT_EQ(d["items"].size(), 2u);
  EXPECT_EQ(d["items"][0]["metadata"]["name"], "storage.k8s.io");
  EXPECT_EQ(d["items"][1]["metadata"]["name"], "events.k8s.io");
  const json* sc = FindResource(d["items"][0], "storageclasses");
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ((*sc)["responseKind"]["group"], "storage.k8s.io");
  EXPECT_EQ((*sc)["shortNames"], json::array({"sc"}));
  EXPECT_FALSE((*sc).contains("subresources"));
  const json* va = FindResource(d["items"][0], "volumeattachments");
  ASSERT_NE(va, nullptr);
  EXPECT_FALSE((*va).contains("shortNames"));
}

TEST(DiscoveryTest, Legacy) {
  EXPECT_EQ(ApiVersions(), (json{{"kind", "APIVersions"}, {"versions", {"v1"}}}));
  json groups = ApiGroupList();
  EXPECT_EQ(groups["kind"], "APIGroupList");
  ASSERT_EQ(groups["groups"].size(), 2u);
  EXPECT_EQ(groups["groups"][0]["name"], "storage.k8s.io");
  EXPECT_EQ(groups["groups"][0]["preferredVersion"],
            (json{{"groupVersion", "storage.k8s.io/v1"}, {"version", "v1"}}));

  auto core = ApiResourceList("v1");
  ASSERT_TRUE(core.has_value());
  EXPECT_EQ((*core)["kind"], "APIResourceList");
  EXPECT_FALSE(core->contains("apiVersion"));
  EXPECT_EQ((*core)["groupVersion"], "v1");
  std::vector<std::string> names;
  for (const auto& r : (*core)["resources"]) names.push_back(r["name"]);
  EXPECT_THAT(names, ::testing::ElementsAre("namespaces", "namespaces/status", "nodes",
                                            "nodes/status", "persistentvolumes",
                                            "persistentvolumes/status", "persistentvolumeclaims",
                                            "persistentvolumeclaims/status", "pods", "events"));
  EXPECT_EQ((*core)["resources"][0]["shortNames"], json::array({"ns"}));
  EXPECT_EQ((*core)["resources"][0]["namespaced"], false);

  auto storage = ApiResourceList("storage.k8s.io/v1");
  ASSERT_TRUE(storage.has_value());
  EXPECT_EQ((*storage)["apiVersion"], "v1");
  EXPECT_EQ((*storage)["resources"][0]["kind"], "StorageClass");

  EXPECT_FALSE(ApiResourceList("apps/v1").has_value());
  EXPECT_FALSE(ApiResourceList("storage.k8s.io/v1beta1").has_value());
}

}  // namespace
}  // namespace byok::kube
