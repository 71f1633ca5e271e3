#include "gateway/arm_path.h"

#include <gtest/gtest.h>

namespace byok::gateway {
namespace {

using Kind = ArmPath::Kind;

struct Case {
  const char* path;
  bool post;
  Kind kind;
  const char* type;
  const char* id;      // ResourceId::ToString() of path.id
  const char* action;  // "" unless an action / provider namespace / operation id
};

TEST(ArmPathTest, Classifies) {
  const Case cases[] = {
      {"/subscriptions", false, Kind::kCollection, "Microsoft.Resources/subscriptions", "/", ""},
      {"/subscriptions/s1", false, Kind::kResource, "Microsoft.Resources/subscriptions",
       "/subscriptions/s1", ""},
      {"/subscriptions/s1/resourcegroups", false, Kind::kCollection,
       "Microsoft.Resources/resourceGroups", "/subscriptions/s1", ""},
      {"/subscriptions/s1/resourceGroups/RG", false, Kind::kResource,
       "Microsoft.Resources/resourceGroups", "/subscriptions/s1/resourceGroups/RG", ""},
      {"/subscriptions/s1/locations", false, Kind::kCollection, "Microsoft.Resources/locations",
       "/subscriptions/s1", ""},
      {"/subscriptions/s1/resources", false, Kind::kCollection, "Microsoft.Resources/resources",
       "/subscriptions/s1", ""},
      {"/subscriptions/s1/resourceGroups/rg/resources", false, Kind::kCollection,
       "Microsoft.Resources/resources", "/subscriptions/s1/resourceGroups/rg", ""},
      {"/subscriptions/s1/providers", false, Kind::kCollection, "Microsoft.Resources/providers",
       "/subscriptions/s1", ""},
      {"/subscriptions/s1/providers/Microsoft.KeyVault", false, Kind::kResource,
       "Microsoft.Resources/providers", "/subscriptions/s1", "Microsoft.KeyVault"},
      {"/subscriptions/s1/providers/Microsoft.KeyVault/register", true, Kind::kAction,
       "Microsoft.Resources/providers", "/subscriptions/s1", "Microsoft.KeyVault/register"},
      {"/subscriptions/s1/operationresults/op1", false, Kind::kResource,
       "Microsoft.Resources/operationResults", "/subscriptions/s1", "op1"},
      {"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v", false,
       Kind::kResource, "Microsoft.KeyVault/vaults",
       "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v", ""},
      {"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults", false,
       Kind::kCollection, "Microsoft.KeyVault/vaults", "/subscriptions/s1/resourceGroups/rg", ""},
      {"/subscriptions/s1/providers/Microsoft.KeyVault/vaults", false, Kind::kCollection,
       "Microsoft.KeyVault/vaults", "/subscriptions/s1", ""},
      {"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/accessPolicies/"
       "add",
       false, Kind::kResource, "Microsoft.KeyVault/vaults/accessPolicies",
       "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/accessPolicies/"
       "add",
       ""},
      {"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/"
       "listClusterUserCredential",
       true, Kind::kAction, "Microsoft.ContainerService/managedClusters",
       "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
       "listClusterUserCredential"},
      {"/subscriptions/s1/providers/Microsoft.KeyVault/checkNameAvailability", true, Kind::kAction,
       "Microsoft.KeyVault", "/subscriptions/s1", "checkNameAvailability"},
      {"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/ra",
       false, Kind::kResource, "Microsoft.Authorization/roleAssignments",
       "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/ra",
       ""},
      {"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/d/"
       "providers/Microsoft.Authorization/roleAssignments",
       false, Kind::kCollection, "Microsoft.Authorization/roleAssignments",
       "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/d", ""},
      {"/providers/Microsoft.Authorization/roleDefinitions", false, Kind::kCollection,
       "Microsoft.Authorization/roleDefinitions", "/", ""},
      {"/subscriptions/s1/providers/Microsoft.Resources/operationStatuses/op", false,
       Kind::kResource, "Microsoft.Resources/operationStatuses",
       "/subscriptions/s1/providers/Microsoft.Resources/operationStatuses/op", ""},
  };
  for (const Case& c : cases) {
    auto p = ParseArmPath(c.path, c.post);
    ASSERT_TRUE(p.ok()) << c.path << ": " << p.status().ToString();
    EXPECT_EQ(p->kind, c.kind) << c.path;
    EXPECT_EQ(p->type, c.type) << c.path;
    EXPECT_EQ(p->id.ToString(), c.id) << c.path;
    EXPECT_EQ(p->action, c.action) << c.path;
  }
}

TEST(ArmPathTest, RejectsMalformed) {
  for (const char* bad :
       {"", "/", "/foo", "/subscriptions//x", "/subscriptions/s/bogus",
        "/subscriptions/s/providers/Microsoft.KeyVault/vaults/v/../x",
        "/subscriptions/s/resourceGroups/rg/providers", "/subscriptions/s/resourceGroups/r\x01g"}) {
    EXPECT_FALSE(ParseArmPath(bad, false).ok()) << bad;
  }
  EXPECT_FALSE(ParseArmPath("/subscriptions/" + std::string(5000, 'a'), false).ok());
}

}  // namespace
}  // namespace byok::gateway
