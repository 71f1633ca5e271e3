#include "authz/roles.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace byok::authz {
namespace {

struct MatchCase {
  const char* pattern;
  const char* action;
  bool matches;
};

TEST(ActionMatchesTest, Table) {
  const MatchCase cases[] = {
      {"*", "Microsoft.Resources/subscriptions/resourceGroups/write", true},
      {"*", "", true},
      {"*/read", "Microsoft.KeyVault/vaults/read", true},
      {"*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", true},
      {"*/read", "Microsoft.KeyVault/vaults/write", false},
      {"*/read", "Microsoft.KeyVault/vaults/readers/write", false},
      {"Microsoft.KeyVault/vaults/*", "Microsoft.KeyVault/vaults/write", true},
      {"Microsoft.KeyVault/vaults/*", "Microsoft.KeyVault/vaults/keys/wrap/action", true},
      {"Microsoft.KeyVault/vaults/*", "Microsoft.KeyVault/vaultsX/write", false},
      {"Microsoft.KeyVault/vaults/*", "Microsoft.KeyVault/vaults", false},
      {"Microsoft.KeyVault/vaults/*", "Microsoft.Compute/disks/write", false},
      {"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/roleAssignments/delete", true},
      {"Microsoft.Authorization/*/Write", "microsoft.authorization/roleassignments/WRITE", true},
      {"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/read", false},
      {"Microsoft.Authorization/*/Write", "Microsoft.Authorizations/x/write", false},
      {"Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/keys/read", true},
      {"Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/read", false},
      {"Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/locations/x/y/read", true},
      {"Microsoft.Support/*", "Microsoft.Support/supportTickets/write", true},
      {"Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/read", true},
      {"Microsoft.KeyVault/vaults/keys/read", "MICROSOFT.KEYVAULT/VAULTS/KEYS/READ", true},
      {"Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/readx", false},
      {"Microsoft.*Vault/*s/k*/read", "Microsoft.KeyVault/vaults/keys/read", true},
      {"a*b*c", "aXXbYYbZZc", true},
      {"a*b*c", "aXXbYYbZZ", false},
      {"**", "anything", true},
      {"", "", true},
      {"", "x", false},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(ActionMatches(c.pattern, c.action), c.matches)
        << "pattern '" << c.pattern << "' action '" << c.action << "'";
  }
}

struct GrantCase {
  std::string_view role;
  const char* action;
  bool data_action;
  bool granted;
};

TEST(RoleGrantsTest, Table) {
  const GrantCase cases[] = {
      // Owner: everything on the control plane, no data actions.
      {kOwnerRoleId, "Microsoft.Authorization/roleAssignments/write", false, true},
      {kOwnerRoleId, "Microsoft.Resources/subscriptions/resourceGroups/delete", false, true},
      {kOwnerRoleId, "Microsoft.KeyVault/vaults/keys/unwrap/action", true, false},
      // Contributor: everything but authorization writes/deletes (its NotActions).
      {kContributorRoleId, "Microsoft.Resources/subscriptions/resourceGroups/write", false, true},
      {kContributorRoleId, "Microsoft.Authorization/roleAssignments/write", false, false},
      {kContributorRoleId, "Microsoft.Authorization/roleAssignments/delete", false, false},
      {kContributorRoleId, "Microsoft.Authorization/roleAssignments/read", false, true},
      {kContributorRoleId, "Microsoft.Authorization/elevateAccess/action", false, false},
      {kContributorRoleId, "Microsoft.KeyVault/vaults/keys/read", true, false},
      // Reader.
      {kReaderRoleId, "Microsoft.Resources/subscriptions/resourceGroups/read", false, true},
      {kReaderRoleId, "Microsoft.Resources/subscriptions/resourceGroups/write", false, false},
      // User Access Administrator.
      {kUserAccessAdministratorRoleId, "Microsoft.Authorization/roleAssignments/write", false,
       true},
      {kUserAccessAdministratorRoleId, "Microsoft.Compute/disks/read", false, true},
      {kUserAccessAdministratorRoleId, "Microsoft.Compute/disks/write", false, false},
      // Key Vault Administrator: all vault data, control-plane reads only.
      {kKeyVaultAdministratorRoleId, "Microsoft.KeyVault/vaults/secrets/getSecret/action", true,
       true},
      {kKeyVaultAdministratorRoleId, "Microsoft.KeyVault/vaults/keys/delete", true, true},
      {kKeyVaultAdministratorRoleId, "Microsoft.KeyVault/vaults/write", false, false},
      {kKeyVaultAdministratorRoleId, "Microsoft.KeyVault/vaults/read", false, false},
      {kKeyVaultAdministratorRoleId, "Microsoft.KeyVault/vaults/accessPolicies/read", false, true},
      // Crypto Officer: keys, not secrets.
      {kKeyVaultCryptoOfficerRoleId, "Microsoft.KeyVault/vaults/keys/create/action", true, true},
      {kKeyVaultCryptoOfficerRoleId, "Microsoft.KeyVault/vaults/keys/delete", true, true},
      {kKeyVaultCryptoOfficerRoleId, "Microsoft.KeyVault/vaults/secrets/getSecret/action", true,
       false},
      // Crypto User: use keys, not delete them.
      {kKeyVaultCryptoUserRoleId, "Microsoft.KeyVault/vaults/keys/encrypt/action", true, true},
      {kKeyVaultCryptoUserRoleId, "Microsoft.KeyVault/vaults/keys/delete", true, false},
      // Crypto Service Encryption User: read, wrap, unwrap only.
      {kKeyVaultCryptoServiceEncryptionUserRoleId, "Microsoft.KeyVault/vaults/keys/read", true,
       true},
      {kKeyVaultCryptoServiceEncryptionUserRoleId, "Microsoft.KeyVault/vaults/keys/wrap/action",
       true, true},
      {kKeyVaultCryptoServiceEncryptionUserRoleId, "Microsoft.KeyVault/vaults/keys/unwrap/action",
       true, true},
      {kKeyVaultCryptoServiceEncryptionUserRoleId, "Microsoft.KeyVault/vaults/keys/delete", true,
       false},
      {kKeyVaultCryptoServiceEncryptionUserRoleId, "Microsoft.KeyVault/vaults/keys/decrypt/action",
       true, false},
      {kKeyVaultCryptoServiceEncryptionUserRoleId, "Microsoft.KeyVault/vaults/keys/wrap/action",
       false, false},
      // Key Vault Reader: metadata only.
      {kKeyVaultReaderRoleId, "Microsoft.KeyVault/vaults/keys/read", true, true},
      {kKeyVaultReaderRoleId, "Microsoft.KeyVault/vaults/secrets/readMetadata/action", true, true},
      {kKeyVaultReaderRoleId, "Microsoft.KeyVault/vaults/secrets/getSecret/action", true, false},
      {kKeyVaultReaderRoleId, "Microsoft.KeyVault/vaults/keys/unwrap/action", true, false},
  };
  for (const GrantCase& c : cases) {
    const RoleDefinition* role = FindBuiltInRole(c.role);
    ASSERT_NE(role, nullptr) << c.role;
    EXPECT_EQ(RoleGrants(*role, c.action, c.data_action), c.granted)
        << role->role_name << " " << c.action << (c.data_action ? " (data)" : "");
  }
}

TEST(BuiltInRolesTest, IdsAndNamesAreAzures) {
  const std::pair<std::string_view, std::string_view> expected[] = {
      {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"},
      {"b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"},
      {"acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader"},
      {"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"},
      {"00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator"},
      {"14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "Key Vault Crypto Officer"},
      {"12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User"},
      {"e147488a-f6f5-4113-8e2d-b22465e65bf6", "Key Vault Crypto Service Encryption User"},
      {"21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader"},
  };
  ASSERT_EQ(BuiltInRoles().size(), std::size(expected));
  std::set<std::string_view> guids;
  for (const auto& [guid, name] : expected) {
    const RoleDefinition* by_id = FindBuiltInRole(guid);
    ASSERT_NE(by_id, nullptr) << guid;
    EXPECT_EQ(by_id->role_name, name);
    EXPECT_EQ(FindBuiltInRoleByName(name), by_id);
    guids.insert(by_id->guid);
  }
  EXPECT_EQ(guids.size(), std::size(expected));
  EXPECT_NE(FindBuiltInRole("8E3AF657-A8FF-443C-A75C-2FE8C4BCB635"), nullptr);
  EXPECT_NE(FindBuiltInRoleByName("key vault crypto service encryption user"), nullptr);
  EXPECT_EQ(FindBuiltInRole("00000000-0000-0000-0000-000000000000"), nullptr);
  EXPECT_EQ(FindBuiltInRoleByName("Storage Blob Data Reader"), nullptr);
}

TEST(RoleDefinitionToJsonTest, ShapeMatchesTheSpec) {
  const RoleDefinition* role = FindBuiltInRole(kContributorRoleId);
  ASSERT_NE(role, nullptr);
  nlohmann::json j = RoleDefinitionToJson(*role, "sub-1");
  EXPECT_EQ(j["id"],
            "/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/"
            "b24988ac-6180-42a0-ab88-20f7382dd24c");
  EXPECT_EQ(j["type"], "Microsoft.Authorization/roleDefinitions");
  EXPECT_EQ(j["name"], "b24988ac-6180-42a0-ab88-20f7382dd24c");
  const nlohmann::json& p = j["properties"];
  EXPECT_EQ(p["roleName"], "Contributor");
  EXPECT_EQ(p["type"], "BuiltInRole");
  EXPECT_EQ(p["assignableScopes"], nlohmann::json::array({"/"}));
  ASSERT_EQ(p["permissions"].size(), 1u);
  EXPECT_EQ(p["permissions"][0]["actions"], nlohmann::json::array({"*"}));
  EXPECT_EQ(p["permissions"][0]["notActions"][1], "Microsoft.Authorization/*/Write");
  EXPECT_TRUE(p["permissions"][0]["dataActions"].empty());
  EXPECT_TRUE(p["permissions"][0]["notDataActions"].is_array());
  for (const char* key : {"description", "createdOn", "updatedOn"}) {
    EXPECT_TRUE(p[key].is_string()) << key;
  }
  EXPECT_TRUE(p.contains("createdBy"));
  EXPECT_TRUE(p.contains("updatedBy"));

  EXPECT_EQ(RoleDefinitionToJson(*role, "")["id"],
            "/providers/Microsoft.Authorization/roleDefinitions/"
            "b24988ac-6180-42a0-ab88-20f7382dd24c");
}

}  // namespace
}  // namespace byok::authz
