#include "keyvault/access.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "authz/roles.h"
#include "keyvault/keyvault_test_helpers.h"

namespace byok::keyvault {
namespace {

using nlohmann::json;

// Records the questions asked; answers from `allowed`.
class FakeAuthorizer : public authz::Authorizer {
 public:
  Result<bool> IsAllowed(std::string_view principal, std::string_view action,
                         std::string_view scope, bool data_action) override {
    asked.push_back(std::string(principal) + "|" + std::string(action) + "|" + std::string(scope) +
                    (data_action ? "|data" : ""));
    if (fail) return Status::Internal("boom");
    return allowed;
  }
  bool allowed = false;
  bool fail = false;
  std::vector<std::string> asked;
};

identity::Principal Alice() {
  identity::Principal p;
  p.object_id = "ce2ce14e-85d7-4629-bdbc-454d0519d987";
  p.app_id = "6b1d2c4a-0f6e-4c55-9a0e-2f5c7a1d9e01";
  p.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  return p;
}

VaultRecord PolicyVault(json policies) {
  VaultRecord v;
  v.guid = "g";
  v.id = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/kv1";
  v.name = "kv1";
  v.location = "westeurope";
  v.tenant_id = Alice().tenant_id;
  v.access_policies = std::move(policies);
  return v;
}

json Entry(const identity::Principal& p, json keys) {
  return {{"tenantId", p.tenant_id}, {"objectId", p.object_id}, {"permissions", {{"keys", keys}}}};
}

TEST(KeyPermissionTest, NamesAndDataActionsFollowAzure) {
  EXPECT_EQ(PermissionName(KeyPermission::kWrapKey), "wrapKey");
  EXPECT_EQ(PermissionName(KeyPermission::kUnwrapKey), "unwrapKey");
  EXPECT_EQ(PermissionName(KeyPermission::kGetRotationPolicy), "getrotationpolicy");
  EXPECT_EQ(DataAction(KeyPermission::kGet), "Microsoft.KeyVault/vaults/keys/read");
  EXPECT_EQ(DataAction(KeyPermission::kList), "Microsoft.KeyVault/vaults/keys/read");
  EXPECT_EQ(DataAction(KeyPermission::kWrapKey), "Microsoft.KeyVault/vaults/keys/wrap/action");
  EXPECT_EQ(DataAction(KeyPermission::kUnwrapKey), "Microsoft.KeyVault/vaults/keys/unwrap/action");
  EXPECT_EQ(DataAction(KeyPermission::kCreate), "Microsoft.KeyVault/vaults/keys/create/action");
  EXPECT_EQ(DataAction(KeyPermission::kDelete), "Microsoft.KeyVault/vaults/keys/delete");
  EXPECT_EQ(DataAction(KeyPermission::kPurge), "Microsoft.KeyVault/vaults/keys/purge/action");
  EXPECT_EQ(DataAction(KeyPermission::kSetRotationPolicy),
            "Microsoft.KeyVault/vaults/keyrotationpolicies/write");
}

TEST(AccessPolicyTest, GrantsOnlyListedPermissionsCaseInsensitively) {
  FakeAuthorizer authz;
  VaultRecord v = PolicyVault(json::array({Entry(Alice(), {"GET", "wrapkey"})}));
  EXPECT_FALSE(CheckKeyPermission(v, Alice(), KeyPermission::kGet, authz, "k"));
  EXPECT_FALSE(CheckKeyPermission(v, Alice(), KeyPermission::kWrapKey, authz, "k"));
  auto denied = CheckKeyPermission(v, Alice(), KeyPermission::kUnwrapKey, authz, "k",
                                   "https://localhost:8443/adfs");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->http_status, 403);
  EXPECT_EQ(denied->code, "Forbidden");
  EXPECT_EQ(denied->inner_code, "ForbiddenByPolicy");
  EXPECT_EQ(denied->message,
            "The user, group or application 'appid=6b1d2c4a-0f6e-4c55-9a0e-2f5c7a1d9e01;"
            "oid=ce2ce14e-85d7-4629-bdbc-454d0519d987;iss=https://localhost:8443/adfs' does not "
            "have keys unwrapKey permission on key vault 'kv1;location=westeurope'. For help "
            "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287");
  EXPECT_TRUE(authz.asked.empty()) << "access-policy vaults never ask RBAC";
}

TEST(AccessPolicyTest, AllGrantsEverything) {
  FakeAuthorizer authz;
  VaultRecord v = PolicyVault(json::array({Entry(Alice(), {"all"})}));
  EXPECT_FALSE(CheckKeyPermission(v, Alice(), KeyPermission::kPurge, authz, "k"));
  EXPECT_FALSE(CheckKeyPermission(v, Alice(), KeyPermission::kSetRotationPolicy, authz, "k"));
}

TEST(AccessPolicyTest, OtherPrincipalsTenantsAndApplicationsDoNotMatch) {
  FakeAuthorizer authz;
  identity::Principal bob = Alice();
  bob.object_id = "46c5a1d8-d5ac-453b-a00c-87ae59271eab";
  json other_tenant = Entry(Alice(), {"get"});
  other_tenant["tenantId"] = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
  json other_app = Entry(Alice(), {"list"});
  other_app["applicationId"] = "11111111-1111-1111-1111-111111111111";
  VaultRecord v = PolicyVault(json::array({Entry(bob, {"all"}), other_tenant, other_app}));
  EXPECT_TRUE(CheckKeyPermission(v, Alice(), KeyPermission::kGet, authz, "k"));
  EXPECT_TRUE(CheckKeyPermission(v, Alice(), KeyPermission::kList, authz, ""));
  EXPECT_FALSE(CheckKeyPermission(v, bob, KeyPermission::kGet, authz, "k"));
  // Several entries for one principal are united; case of the object id does not matter.
  json upper = Entry(Alice(), {"decrypt"});
  upper["objectId"] = "CE2CE14E-85D7-4629-BDBC-454D0519D987";
  v.access_policies.push_back(Entry(Alice(), {"encrypt"}));
  v.access_policies.push_back(upper);
  EXPECT_FALSE(CheckKeyPermission(v, Alice(), KeyPermission::kEncrypt, authz, "k"));
  EXPECT_FALSE(CheckKeyPermission(v, Alice(), KeyPermission::kDecrypt, authz, "k"));
}

TEST(AccessPolicyTest, MalformedEntriesGrantNothing) {
  FakeAuthorizer authz;
  VaultRecord v =
      PolicyVault(json::array({42,
                               json::object(),
                               {{"objectId", Alice().object_id}, {"tenantId", Alice().tenant_id}},
                               {{"objectId", Alice().object_id},
                                {"tenantId", Alice().tenant_id},
                                {"permissions", {{"keys", "all"}}}}}));
  EXPECT_TRUE(CheckKeyPermission(v, Alice(), KeyPermission::kGet, authz, "k"));
}

TEST(RbacDecisionTest, AsksTheDataActionAtTheKeyScope) {
  FakeAuthorizer authz;
  VaultRecord v = PolicyVault(json::array({Entry(Alice(), {"all"})}));
  v.enable_rbac_authorization = true;
  authz.allowed = true;
  EXPECT_FALSE(CheckKeyPermission(v, Alice(), KeyPermission::kUnwrapKey, authz, "MyKey"));
  ASSERT_EQ(authz.asked.size(), 1u);
  EXPECT_EQ(authz.asked[0], Alice().object_id + "|Microsoft.KeyVault/vaults/keys/unwrap/action|" +
                                v.id + "/keys/MyKey|data");
  EXPECT_FALSE(CheckKeyPermission(v, Alice(), KeyPermission::kList, authz, ""));
  EXPECT_EQ(authz.asked[1],
            Alice().object_id + "|Microsoft.KeyVault/vaults/keys/read|" + v.id + "|data");
}

TEST(RbacDecisionTest, DeniedIsForbiddenByRbacEvenWithAccessPolicies) {
  FakeAuthorizer authz;
  VaultRecord v = PolicyVault(json::array({Entry(Alice(), {"all"})}));
  v.enable_rbac_authorization = true;
  auto denied = CheckKeyPermission(v, Alice(), KeyPermission::kGet, authz, "k",
                                   "https://localhost:8443/adfs");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->http_status, 403);
  EXPECT_EQ(denied->code, "Forbidden");
  EXPECT_EQ(denied->inner_code, "ForbiddenByRbac");
  EXPECT_NE(denied->message.find("Caller is not authorized to perform action on resource."),
            std::string::npos);
  EXPECT_NE(denied->message.find("Action: 'Microsoft.KeyVault/vaults/keys/read'"),
            std::string::npos);
  EXPECT_NE(denied->message.find("Resource: '/subscriptions/s/resourcegroups/rg/providers/"
                                 "microsoft.keyvault/vaults/kv1/keys/k'"),
            std::string::npos);
  EXPECT_NE(denied->message.find("Assignment: (not found)"), std::string::npos);
  EXPECT_NE(denied->message.find("Vault: kv1;location=westeurope"), std::string::npos);
  authz.fail = true;
  auto failed = CheckKeyPermission(v, Alice(), KeyPermission::kGet, authz, "k");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->http_status, 500);
}

// Real RBAC with Azure's built-in roles.
class RbacAccessTest : public test::KeysFixture {};

TEST_F(RbacAccessTest, BuiltInRolesGrantTheirDataActions) {
  VaultRecord v = CreateVault("rbackv", {.rbac = true});
  identity::Principal user = NewPrincipal("crypto-user");
  identity::Principal des = NewPrincipal("des-identity");
  EXPECT_TRUE(CheckKeyPermission(v, user, KeyPermission::kWrapKey, *rbac_, "k"));
  Assign(v.id, std::string(authz::kKeyVaultCryptoUserRoleId), user);
  EXPECT_FALSE(CheckKeyPermission(v, user, KeyPermission::kWrapKey, *rbac_, "k"));
  EXPECT_FALSE(CheckKeyPermission(v, user, KeyPermission::kGet, *rbac_, "k"));
  EXPECT_TRUE(CheckKeyPermission(v, user, KeyPermission::kCreate, *rbac_, "k"));
  EXPECT_TRUE(CheckKeyPermission(v, user, KeyPermission::kPurge, *rbac_, "k"));
  // Crypto Service Encryption User at one key's scope: get/wrap/unwrap of that key only.
  Assign(v.id + "/keys/cmk", std::string(authz::kKeyVaultCryptoServiceEncryptionUserRoleId), des);
  EXPECT_FALSE(CheckKeyPermission(v, des, KeyPermission::kUnwrapKey, *rbac_, "cmk"));
  EXPECT_TRUE(CheckKeyPermission(v, des, KeyPermission::kUnwrapKey, *rbac_, "other"));
  EXPECT_TRUE(CheckKeyPermission(v, des, KeyPermission::kSign, *rbac_, "cmk"));
  // Crypto Officer manages keys and rotation policies.
  identity::Principal officer = NewPrincipal("officer");
  Assign(v.id, std::string(authz::kKeyVaultCryptoOfficerRoleId), officer);
  EXPECT_FALSE(CheckKeyPermission(v, officer, KeyPermission::kPurge, *rbac_, "k"));
  EXPECT_FALSE(CheckKeyPermission(v, officer, KeyPermission::kSetRotationPolicy, *rbac_, "k"));
}

}  // namespace
}  // namespace byok::keyvault
