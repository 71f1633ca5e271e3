#include "arm/resource_id.h"

#include <gtest/gtest.h>

namespace byok::arm {
namespace {

constexpr char kSub[] = "00000000-0000-0000-0000-000000000001";

TEST(ResourceIdTest, Subscription) {
  auto r = ResourceId::Parse(std::string("/subscriptions/") + kSub);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind(), ResourceId::Kind::kSubscription);
  EXPECT_EQ(r->subscription_id(), kSub);
  EXPECT_EQ(r->ResourceType(), "Microsoft.Resources/subscriptions");
}

TEST(ResourceIdTest, ResourceGroupKeywordCaseIsNormalizedNamesKept) {
  auto r = ResourceId::Parse(std::string("/SUBSCRIPTIONS/") + kSub + "/resourcegroups/MyRG");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind(), ResourceId::Kind::kResourceGroup);
  EXPECT_EQ(r->resource_group(), "MyRG");
  EXPECT_EQ(r->ToString(), std::string("/subscriptions/") + kSub + "/resourceGroups/MyRG");
  EXPECT_EQ(r->Normalized(), std::string("/subscriptions/") + kSub + "/resourcegroups/myrg");
}

TEST(ResourceIdTest, NestedResource) {
  std::string id = std::string("/subscriptions/") + kSub +
                   "/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v1/keys/k1";
  auto r = ResourceId::Parse(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind(), ResourceId::Kind::kResource);
  EXPECT_EQ(r->provider_namespace(), "Microsoft.KeyVault");
  EXPECT_EQ(r->ResourceType(), "Microsoft.KeyVault/vaults/keys");
  EXPECT_EQ(r->Name(), "k1");
  EXPECT_EQ(r->ToString(), id);
  ResourceId vault = r->Parent();
  EXPECT_EQ(vault.ResourceType(), "Microsoft.KeyVault/vaults");
  EXPECT_EQ(vault.Parent().kind(), ResourceId::Kind::kResourceGroup);
  EXPECT_EQ(vault.Parent().Parent().kind(), ResourceId::Kind::kSubscription);
  EXPECT_TRUE(r->IsWithin(vault));
  EXPECT_TRUE(r->IsWithin(vault.Parent()));
  EXPECT_FALSE(vault.IsWithin(*r));
}

TEST(ResourceIdTest, ExtensionResourceKeepsScope) {
  std::string vault = std::string("/subscriptions/") + kSub +
                      "/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v1";
  std::string id = vault + "/providers/Microsoft.Authorization/roleAssignments/ra1";
  auto r = ResourceId::Parse(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->scope(), vault);
  EXPECT_EQ(r->ResourceType(), "Microsoft.Authorization/roleAssignments");
  EXPECT_EQ(r->Parent().ToString(), vault);
  EXPECT_EQ(r->ToString(), id);
}

TEST(ResourceIdTest, TenantLevelProviderResource) {
  auto r = ResourceId::Parse(
      "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->scope(), "");
  EXPECT_EQ(r->subscription_id(), "");
  EXPECT_EQ(r->Parent().kind(), ResourceId::Kind::kTenant);
}

TEST(ResourceIdTest, PrefixMatchIsOnSegmentBoundary) {
  auto a = ResourceId::Parse(std::string("/subscriptions/") + kSub + "/resourceGroups/rg10");
  auto b = ResourceId::Parse(std::string("/subscriptions/") + kSub + "/resourceGroups/rg1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->IsWithin(*b));
}

TEST(ResourceIdTest, TrailingSlashTolerated) {
  auto r = ResourceId::Parse(std::string("/subscriptions/") + kSub + "/resourceGroups/rg/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resource_group(), "rg");
}

TEST(ResourceIdTest, RejectsMalformed) {
  const char* bad[] = {
      "",
      "subscriptions/x",
      "/",
      "//",
      "/subscriptions",
      "/subscriptions//resourceGroups/rg",
      "/subscriptions/s/resourceGroups",
      "/subscriptions/s/resourceGroups/rg/providers",
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault",
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults",
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/keys",
      "/subscriptions/s/resourceGroups/rg/foo/bar",
      "/subscriptions/s/resourceGroups/../x",
      "/subscriptions/s/resourceGroups/r\x01g",
      "/subscriptions/s/resourceGroups/r?g",
      "/foo/bar",
  };
  for (const char* id : bad) EXPECT_FALSE(ResourceId::Parse(id).ok()) << id;
  EXPECT_FALSE(ResourceId::Parse("/subscriptions/" + std::string(5000, 'a')).ok());
}

TEST(ResourceIdTest, BuildersMatchParse) {
  ResourceId rg = ResourceId::ResourceGroup(kSub, "RG");
  ResourceId des = ResourceId::Resource(rg, "Microsoft.Compute", {{"diskEncryptionSets", "d"}});
  auto parsed = ResourceId::Parse(des.ToString());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, des);
  EXPECT_EQ(parsed->resource_group(), "RG");
}

}  // namespace
}  // namespace byok::arm
