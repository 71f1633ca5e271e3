// Kubernetes versions (containerservice/versions.h).
#include "containerservice/versions.h"

#include <gtest/gtest.h>

namespace byok::containerservice {
namespace {

using nlohmann::json;

TEST(VersionsTest, Resolution) {
  EXPECT_EQ(DefaultKubernetesVersion(), "1.24.9");
  EXPECT_EQ(ResolveKubernetesVersion(""), "1.24.9");
  EXPECT_EQ(ResolveKubernetesVersion("1.24"), "1.24.9");
  EXPECT_EQ(ResolveKubernetesVersion("1.23"), "1.23.15");
  EXPECT_EQ(ResolveKubernetesVersion("1.25"), "1.25.5");
  EXPECT_EQ(ResolveKubernetesVersion("1.26"), "1.26.0");  // preview only
  EXPECT_EQ(ResolveKubernetesVersion("1.24.6"), "1.24.6");
  EXPECT_EQ(ResolveKubernetesVersion("1.23.12"), "1.23.12");
  for (const char* bad : {"1.22", "1.24.7", "1.27.0", "1", "1.24.9.1", "v1.24.9", "1..2", "1.24.",
                          "latest", "1.24.x"}) {
    EXPECT_EQ(ResolveKubernetesVersion(bad), std::nullopt) << bad;
  }
}

TEST(VersionsTest, Compare) {
  EXPECT_LT(CompareVersions("1.24.9", "1.24.10"), 0);
  EXPECT_GT(CompareVersions("1.25.0", "1.24.10"), 0);
  EXPECT_EQ(CompareVersions("1.24", "1.24.0"), 0);
  EXPECT_EQ(MinorOf("1.24.9"), "1.24");
  EXPECT_EQ(NodeImageVersion("1.24.9"), "AKSUbuntu-1804gen2containerd-2023.02.15");
  EXPECT_EQ(NodeImageVersion("1.25.5"), "AKSUbuntu-2204gen2containerd-2023.02.15");
}

TEST(VersionsTest, OrchestratorsDocument) {
  json doc = OrchestratorsDocument("sub", "eastus");
  EXPECT_EQ(
      doc["id"],
      "/subscriptions/sub/providers/Microsoft.ContainerService/locations/eastus/orchestrators");
  const json& list = doc["properties"]["orchestrators"];
  ASSERT_EQ(list.size(), KubernetesVersions().size());
  int defaults = 0;
  for (const json& o : list) {
    EXPECT_EQ(o["orchestratorType"], "Kubernetes");
    if (o.value("default", false)) {
      ++defaults;
      EXPECT_EQ(o["orchestratorVersion"], "1.24.9");
      // Later patches of 1.24 (none) and the 1.25 patches.
      ASSERT_EQ(o["upgrades"].size(), 2u);
      EXPECT_EQ(o["upgrades"][0]["orchestratorVersion"], "1.25.4");
    }
    if (o["orchestratorVersion"] == "1.26.0") {
      EXPECT_TRUE(o.value("isPreview", false));
      EXPECT_FALSE(o.contains("upgrades"));
    }
    if (o["orchestratorVersion"] == "1.25.5") {
      ASSERT_EQ(o["upgrades"].size(), 1u);
      EXPECT_EQ(o["upgrades"][0]["isPreview"], true);
    }
  }
  EXPECT_EQ(defaults, 1);
}

TEST(VersionsTest, KubernetesVersionsDocument) {
  json doc = KubernetesVersionsDocument();
  const json& values = doc["values"];
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[1]["version"], "1.24");
  EXPECT_EQ(values[1]["isDefault"], true);
  EXPECT_EQ(values[1]["patchVersions"]["1.24.6"]["upgrades"], json({"1.24.9", "1.25.4", "1.25.5"}));
  EXPECT_EQ(values[3]["isPreview"], true);
  EXPECT_EQ(values[0]["capabilities"]["supportPlan"], json({"KubernetesOfficial"}));
}

}  // namespace
}  // namespace byok::containerservice
