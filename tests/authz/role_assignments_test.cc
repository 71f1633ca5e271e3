// The REST-facing role-assignment and role-definition operations: response shapes, errors,
// conflicts, idempotency and $filter handling.

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "arm/resource_id.h"
#include "authz/authz_test_helpers.h"
#include "authz/rbac.h"

namespace byok::authz::test {
namespace {

using json = nlohmann::json;
using RoleAssignmentsTest = RbacTest;

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

TEST_F(RoleAssignmentsTest, CreateAnswersAzuresShape) {
  const std::string name = "05c5a614-a7d6-4502-b150-c2fb455033ff";
  auto r = Create(RgScope("testrg"), kContributorRoleId, kAlice, name);
  ASSERT_API_OK(r);
  EXPECT_EQ(r->http_status, 201);
  const json& b = r->body;
  const std::string id =
      RgScope("testrg") + "/providers/Microsoft.Authorization/roleAssignments/" + name;
  EXPECT_EQ(b["id"], id);
  EXPECT_EQ(b["type"], "Microsoft.Authorization/roleAssignments");
  EXPECT_EQ(b["name"], name);
  const json& p = b["properties"];
  EXPECT_EQ(p["roleDefinitionId"], RoleDefId(kContributorRoleId));
  EXPECT_EQ(p["principalId"], kAlice);
  EXPECT_EQ(p["principalType"], "ServicePrincipal");
  EXPECT_EQ(p["scope"], RgScope("testrg"));
  EXPECT_EQ(p["createdOn"], "2024-01-02T03:04:05.0000000Z");
  EXPECT_EQ(p["updatedOn"], "2024-01-02T03:04:05.0000000Z");
  EXPECT_EQ(p["createdBy"], kCaller);
  EXPECT_EQ(p["updatedBy"], kCaller);
  for (const char* null_key :
       {"condition", "conditionVersion", "delegatedManagedIdentityResourceId", "description"}) {
    ASSERT_TRUE(p.contains(null_key)) << null_key;
    EXPECT_TRUE(p[null_key].is_null()) << null_key;
  }
  EXPECT_EQ(p.size(), 12u) << p.dump();

  // GET, by scope+name and by id, answers the same document.
  auto got = rbac_->GetRoleAssignment(RgScope("testrg"), name);
  ASSERT_API_OK(got);
  EXPECT_EQ(*got, b);
  auto by_id = rbac_->GetRoleAssignmentById(id);
  ASSERT_API_OK(by_id);
  EXPECT_EQ(*by_id, b);
}

TEST_F(RoleAssignmentsTest, TenantScopeAndDefaults) {
  json body = {
      {"properties",
       {{"roleDefinitionId", std::string("/providers/Microsoft.Authorization/roleDefinitions/") +
                                 std::string(kReaderRoleId)},
        {"principalId", kBob},
        {"description", "tenant readers"}}}};
  auto r = rbac_->CreateRoleAssignment("/", "0B1F64711BF04DDAAEC3CB9272F09590", body, kCaller);
  ASSERT_API_OK(r);
  EXPECT_EQ(r->http_status, 201);
  EXPECT_EQ(r->body["id"],
            "/providers/Microsoft.Authorization/roleAssignments/"
            "0b1f6471-1bf0-4dda-aec3-cb9272f09590");
  EXPECT_EQ(r->body["name"], "0b1f6471-1bf0-4dda-aec3-cb9272f09590");
  EXPECT_EQ(r->body["properties"]["scope"], "/");
  EXPECT_EQ(r->body["properties"]["principalType"], "ServicePrincipal");  // the default
  EXPECT_EQ(r->body["properties"]["description"], "tenant readers");
  EXPECT_TRUE(Allowed(kBob, "Microsoft.Compute/disks/read", RgScope("any")));
}

TEST_F(RoleAssignmentsTest, QuotedPrincipalIdIsTolerated) {
  json body =
      AssignmentBody(kKeyVaultCryptoServiceEncryptionUserRoleId, std::string("\"") + kCarol + "\"");
  auto r = rbac_->CreateRoleAssignment(VaultScope("rg1", "v1"), NewGuid(), body, kCaller);
  ASSERT_API_OK(r);
  EXPECT_EQ(r->body["properties"]["principalId"], kCarol);
  EXPECT_TRUE(Allowed(kCarol, "Microsoft.KeyVault/vaults/keys/unwrap/action",
                      KeyScope("rg1", "v1", "k"), true));
}

TEST_F(RoleAssignmentsTest, SamePrincipalRoleAndScopeConflicts) {
  Assign(RgScope("rg1"), kContributorRoleId, kAlice);
  // Another name, same triple (scope spelled differently): 409.
  auto dup = Create(std::string("/subscriptions/") + kSub + "/resourcegroups/RG1",
                    kContributorRoleId, "CE2CE14E-85D7-4629-BDBC-454D0519D987");
  EXPECT_API_ERROR(dup, 409, "RoleAssignmentExists");
  EXPECT_EQ(dup.error().message, "The role assignment already exists.");
  // Any one of the three differing is fine.
  EXPECT_API_OK_STATUS(Create(RgScope("rg1"), kReaderRoleId, kAlice), 201);
  EXPECT_API_OK_STATUS(Create(RgScope("rg2"), kContributorRoleId, kAlice), 201);
  EXPECT_API_OK_STATUS(Create(SubScope(), kContributorRoleId, kAlice), 201);
  EXPECT_API_OK_STATUS(Create(RgScope("rg1"), kContributorRoleId, kBob), 201);
  EXPECT_EQ(rbac_->assignment_count(), 5u);
}

TEST_F(RoleAssignmentsTest, PutIsIdempotentButCannotChangePrincipalOrRole) {
  const std::string name = NewGuid();
  auto first = Create(RgScope("rg1"), kReaderRoleId, kAlice, name);
  ASSERT_API_OK(first);
  EXPECT_EQ(first->http_status, 201);

  clock_.Advance(std::chrono::minutes(5));
  auto again = Create(RgScope("rg1"), kReaderRoleId, kAlice, name);
  ASSERT_API_OK(again);
  EXPECT_EQ(again->http_status, 200);
  EXPECT_EQ(again->body, first->body);  // nothing rewritten: same timestamps

  // Same name in another case and format is the same assignment.
  auto upper = Create(RgScope("rg1"), kReaderRoleId, kAlice, Upper(name));
  ASSERT_API_OK(upper);
  EXPECT_EQ(upper->http_status, 200);

  auto other_principal = Create(RgScope("rg1"), kReaderRoleId, kBob, name);
  EXPECT_API_ERROR(other_principal, 400, "RoleAssignmentUpdateNotPermitted");
  EXPECT_EQ(other_principal.error().message,
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.");
  auto other_role = Create(RgScope("rg1"), kContributorRoleId, kAlice, name);
  EXPECT_API_ERROR(other_role, 400, "RoleAssignmentUpdateNotPermitted");
  EXPECT_FALSE(
      Allowed(kAlice, "Microsoft.Resources/subscriptions/resourceGroups/write", RgScope("rg1")));

  // The description may change: 200, updatedOn moves, createdOn stays.
  json body = AssignmentBody(kReaderRoleId, kAlice);
  body["properties"]["description"] = "read-only access";
  auto described = rbac_->CreateRoleAssignment(RgScope("rg1"), name, body, kBob);
  ASSERT_API_OK(described);
  EXPECT_EQ(described->http_status, 200);
  EXPECT_EQ(described->body["properties"]["description"], "read-only access");
  EXPECT_EQ(described->body["properties"]["createdOn"], first->body["properties"]["createdOn"]);
  EXPECT_EQ(described->body["properties"]["updatedOn"], "2024-01-02T03:09:05.0000000Z");
  EXPECT_EQ(described->body["properties"]["updatedBy"], kBob);
  EXPECT_EQ(described->body["properties"]["createdBy"], kCaller);
  EXPECT_EQ(rbac_->assignment_count(), 1u);
  EXPECT_TRUE(
      Allowed(kAlice, "Microsoft.Resources/subscriptions/resourceGroups/read", RgScope("rg1")));
}

TEST_F(RoleAssignmentsTest, NamesMustBeGuids) {
  for (const char* bad : {"kv-role-assignement3", "", "1234", "05c5a614-a7d6-4502-b150",
                          "05c5a614-a7d6-4502-b150-c2fb455033ffff"}) {
    auto r = Create(RgScope("rg1"), kReaderRoleId, kAlice, bad[0] ? bad : "x");
    EXPECT_API_ERROR(r, 400, "InvalidRoleAssignmentId");
  }
  auto r = Create(RgScope("rg1"), kReaderRoleId, kAlice, "kv-role-assignement3");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "The role assignment ID 'kv-role-assignement3' is not valid. The role assignment ID "
            "must be a GUID.");
  EXPECT_API_ERROR(rbac_->GetRoleAssignment(RgScope("rg1"), "nope"), 400,
                   "InvalidRoleAssignmentId");
  EXPECT_API_ERROR(rbac_->DeleteRoleAssignment(RgScope("rg1"), "nope"), 400,
                   "InvalidRoleAssignmentId");
  EXPECT_EQ(rbac_->assignment_count(), 0u);
}

struct BodyCase {
  const char* what;
  json body;
  int status;
  const char* code;
};

TEST_F(RoleAssignmentsTest, RequestValidation) {
  const std::string unknown_role = "11111111-2222-3333-4444-555555555555";
  const std::vector<BodyCase> cases = {
      {"unknown role", AssignmentBody(unknown_role, kAlice), 400, "RoleDefinitionDoesNotExist"},
      {"unknown principal", AssignmentBody(kReaderRoleId, kStranger), 400, "PrincipalNotFound"},
      {"principal not a guid", AssignmentBody(kReaderRoleId, "User"), 400, "InvalidPrincipalId"},
      {"no principal",
       {{"properties", {{"roleDefinitionId", RoleDefId(kReaderRoleId)}}}},
       400,
       "InvalidPrincipalId"},
      {"principal a number",
       {{"properties", {{"roleDefinitionId", RoleDefId(kReaderRoleId)}, {"principalId", 7}}}},
       400,
       "InvalidPrincipalId"},
      {"no role", {{"properties", {{"principalId", kAlice}}}}, 400, "InvalidRoleDefinitionId"},
      {"role by name",
       {{"properties", {{"roleDefinitionId", "Contributor"}, {"principalId", kAlice}}}},
       400,
       "InvalidRoleDefinitionId"},
      {"bare role guid",
       {{"properties",
         {{"roleDefinitionId", std::string(kContributorRoleId)}, {"principalId", kAlice}}}},
       400,
       "InvalidRoleDefinitionId"},
      {"role id of another type",
       {{"properties",
         {{"roleDefinitionId", SubScope() + "/providers/Microsoft.Authorization/roleAssignments/" +
                                   std::string(kContributorRoleId)},
          {"principalId", kAlice}}}},
       400,
       "InvalidRoleDefinitionId"},
      {"role id with a non-guid name",
       {{"properties", {{"roleDefinitionId", RoleDefId("Contributor")}, {"principalId", kAlice}}}},
       400,
       "InvalidRoleDefinitionId"},
      {"null body", json(), 400, "BadRequestFormat"},
      {"array body", json::array(), 400, "BadRequestFormat"},
      {"no properties", {{"roleDefinitionId", RoleDefId(kReaderRoleId)}}, 400, "BadRequestFormat"},
      {"properties not an object", {{"properties", "x"}}, 400, "BadRequestFormat"},
      {"principalType a number",
       {{"properties",
         {{"roleDefinitionId", RoleDefId(kReaderRoleId)},
          {"principalId", kAlice},
          {"principalType", 3}}}},
       400,
       "BadRequestFormat"},
      {"description an object",
       {{"properties",
         {{"roleDefinitionId", RoleDefId(kReaderRoleId)},
          {"principalId", kAlice},
          {"description", json::object()}}}},
       400,
       "BadRequestFormat"},
  };
  for (const BodyCase& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = rbac_->CreateRoleAssignment(RgScope("rg1"), NewGuid(), c.body, kCaller);
    EXPECT_API_ERROR(r, c.status, c.code);
  }
  EXPECT_EQ(rbac_->assignment_count(), 0u);

  auto unknown = rbac_->CreateRoleAssignment(RgScope("rg1"), NewGuid(),
                                             AssignmentBody(unknown_role, kAlice), kCaller);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "The specified role definition with ID '" + unknown_role + "' does not exist.");
  auto stranger = rbac_->CreateRoleAssignment(RgScope("rg1"), NewGuid(),
                                              AssignmentBody(kReaderRoleId, kStranger), kCaller);
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.error().message.rfind(std::string("Principal ") + kStranger +
                                               " does not exist in the directory " + kTenant +
                                               ". Check that you have the correct principal ID.",
                                           0),
            0u)
      << stranger.error().message;
  auto bad_scope = rbac_->CreateRoleAssignment("/nope", NewGuid(),
                                               AssignmentBody(kReaderRoleId, kAlice), kCaller);
  EXPECT_API_ERROR(bad_scope, 400, "InvalidScope");
}

TEST_F(RoleAssignmentsTest, BatchIsAllOrNothing) {
  std::vector<RoleAssignmentRequest> requests = {
      {RgScope("rg1"), NewGuid(), AssignmentBody(kReaderRoleId, kAlice)},
      {RgScope("rg2"), NewGuid(), AssignmentBody(kReaderRoleId, kStranger)},  // fails
  };
  EXPECT_API_ERROR(rbac_->CreateRoleAssignments(requests, kCaller), 400, "PrincipalNotFound");
  requests[1].body = AssignmentBody(kReaderRoleId, kAlice);
  requests[1].scope = RgScope("rg1");  // same triple as the first: conflict inside the batch
  EXPECT_API_ERROR(rbac_->CreateRoleAssignments(requests, kCaller), 409, "RoleAssignmentExists");
  EXPECT_EQ(rbac_->assignment_count(), 0u);
  auto list = rbac_->ListRoleAssignments(SubScope(), "");
  ASSERT_API_OK(list);
  EXPECT_TRUE(list->at("value").empty());

  requests[1].scope = RgScope("rg2");
  auto ok = rbac_->CreateRoleAssignments(requests, kCaller);
  ASSERT_API_OK(ok);
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].http_status, 201);
  EXPECT_EQ(rbac_->assignment_count(), 2u);
  // Repeating the batch is idempotent.
  auto again = rbac_->CreateRoleAssignments(requests, kCaller);
  ASSERT_API_OK(again);
  EXPECT_EQ((*again)[1].http_status, 200);
  EXPECT_EQ(rbac_->assignment_count(), 2u);
}

TEST_F(RoleAssignmentsTest, GetAndDelete) {
  const std::string name = Assign(RgScope("rg1"), kReaderRoleId, kAlice);
  EXPECT_API_ERROR(rbac_->GetRoleAssignment(RgScope("rg1"), NewGuid()), 404,
                   "RoleAssignmentNotFound");
  EXPECT_API_ERROR(rbac_->GetRoleAssignment(RgScope("rg2"), name), 404, "RoleAssignmentNotFound");

  auto got = rbac_->GetRoleAssignment(RgScope("rg1"), name);
  ASSERT_API_OK(got);
  auto del = rbac_->DeleteRoleAssignment(RgScope("rg1"), Upper(name));
  ASSERT_API_OK(del);
  EXPECT_EQ(del->http_status, 200);
  EXPECT_EQ(del->body, *got);
  auto again = rbac_->DeleteRoleAssignment(RgScope("rg1"), name);
  ASSERT_API_OK(again);
  EXPECT_EQ(again->http_status, 204);
  EXPECT_TRUE(again->body.is_null());
  EXPECT_API_ERROR(rbac_->GetRoleAssignment(RgScope("rg1"), name), 404, "RoleAssignmentNotFound");

  // By full id (the CLI deletes by id); a name can be reused after its deletion.
  const std::string other = Assign(VaultScope("rg1", "v"), kReaderRoleId, kBob);
  const std::string id =
      VaultScope("rg1", "v") + "/providers/Microsoft.Authorization/roleAssignments/" + other;
  auto by_id = rbac_->DeleteRoleAssignmentById(id);
  ASSERT_API_OK(by_id);
  EXPECT_EQ(by_id->http_status, 200);
  EXPECT_EQ(by_id->body["id"], id);
  EXPECT_API_ERROR(rbac_->DeleteRoleAssignmentById("/subscriptions/x"), 400, "InvalidScope");
  auto recreated =
      rbac_->CreateRoleAssignmentById(id, AssignmentBody(kReaderRoleId, kCarol), kCaller);
  ASSERT_API_OK(recreated);
  EXPECT_EQ(recreated->http_status, 201);
  EXPECT_EQ(recreated->body["id"], id);
}

// The fixture of the list tests: who has what where.
class ListTest : public RbacTest {
 protected:
  void SetUp() override {
    RbacTest::SetUp();
    a_sub_ = Assign(SubScope(), kReaderRoleId, kAlice);
    a_rg1_ = Assign(RgScope("rg1"), kContributorRoleId, kAlice);
    b_rg1_ = Assign(RgScope("rg1"), kReaderRoleId, kBob);
    b_vault_ = Assign(VaultScope("rg1", "v1"), kKeyVaultAdministratorRoleId, kBob);
    c_rg10_ = Assign(RgScope("rg10"), kReaderRoleId, kCarol);
    c_tenant_ = Assign("/", kReaderRoleId, kCarol);
  }

  // The names a list answered, in order.
  std::vector<std::string> Names(std::string_view scope, std::string_view filter) {
    auto r = rbac_->ListRoleAssignments(scope, filter);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    std::vector<std::string> names;
    if (!r.ok()) return names;
    for (const json& a : r->at("value")) names.push_back(a["name"].get<std::string>());
    return names;
  }

  std::string a_sub_, a_rg1_, b_rg1_, b_vault_, c_rg10_, c_tenant_;
};

TEST_F(ListTest, FiltersTable) {
  const std::string alice = kAlice, bob = kBob, carol = kCarol;
  struct Case {
    std::string scope;
    std::string filter;
    std::set<std::string> names;
  };
  const std::vector<Case> cases = {
      // At, above and below rg1 (not rg10).
      {RgScope("rg1"), "", {c_tenant_, a_sub_, a_rg1_, b_rg1_, b_vault_}},
      // At and above only.
      {RgScope("rg1"), "atScope()", {c_tenant_, a_sub_, a_rg1_, b_rg1_}},
      {RgScope("rg1"), "principalId eq '" + bob + "'", {b_rg1_, b_vault_}},
      {RgScope("rg1"), "assignedTo('" + alice + "')", {a_sub_, a_rg1_}},
      {RgScope("rg1"), "atScope() and principalId eq '" + bob + "'", {b_rg1_}},
      {RgScope("rg1"), "principalId eq '" + bob + "' and atScope()", {b_rg1_}},
      {RgScope("rg1"), "atScope() and assignedTo('" + carol + "')", {c_tenant_}},
      {RgScope("rg1"), "principalId eq '\"" + bob + "\"'", {b_rg1_, b_vault_}},
      {RgScope("rg1"), "principalId eq '" + std::string(kStranger) + "'", {}},
      // The subscription: everything in it plus the tenant's.
      {SubScope(), "", {c_tenant_, a_sub_, a_rg1_, b_rg1_, b_vault_, c_rg10_}},
      {SubScope(), "atScope()", {c_tenant_, a_sub_}},
      {"/", "", {c_tenant_, a_sub_, a_rg1_, b_rg1_, b_vault_, c_rg10_}},
      {"/", "atScope()", {c_tenant_}},
      // A key inside the vault inherits from vault, rg1, subscription and tenant.
      {KeyScope("rg1", "v1", "k"), "atScope()", {c_tenant_, a_sub_, a_rg1_, b_rg1_, b_vault_}},
      {RgScope("rg10"), "", {c_tenant_, a_sub_, c_rg10_}},
      {std::string("/subscriptions/") + kOtherSub, "", {c_tenant_}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> got = Names(c.scope, c.filter);
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), c.names)
        << c.scope << " $filter=" << c.filter;
    EXPECT_EQ(got.size(), c.names.size()) << "duplicates: " << c.scope << " " << c.filter;
  }
}

TEST_F(ListTest, RgListIncludesInheritedSubscriptionAssignmentsFirst) {
  auto r = rbac_->ListRoleAssignments(RgScope("rg1"), "");
  ASSERT_API_OK(r);
  const json& v = r->at("value");
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0]["properties"]["scope"], "/");
  EXPECT_EQ(v[1]["properties"]["scope"], SubScope());
  EXPECT_EQ(v[1]["properties"]["roleDefinitionId"], RoleDefId(kReaderRoleId));
  EXPECT_EQ(v[1]["properties"]["principalId"], kAlice);
  for (const json& a : v) {
    EXPECT_EQ(a["type"], "Microsoft.Authorization/roleAssignments");
    EXPECT_TRUE(a["properties"].contains("createdOn"));
  }
}

TEST_F(ListTest, UnsupportedFiltersAndScopes) {
  for (const char* bad : {"principalId eq ''", "roleName eq 'Reader'", "atScope() or x"}) {
    auto r = rbac_->ListRoleAssignments(RgScope("rg1"), bad);
    EXPECT_API_ERROR(r, 400, "UnsupportedQuery");
  }
  auto r = rbac_->ListRoleAssignments(RgScope("rg1"), "principalId eq ''");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "The filter 'principalId eq ''' is not supported. Supported filters are either "
            "'atScope()' or 'principalId eq '{value}'' or 'assignedTo('{value}')'.");
  EXPECT_API_ERROR(rbac_->ListRoleAssignments("subscriptions", ""), 400, "InvalidScope");
}

TEST_F(RoleAssignmentsTest, RoleDefinitions) {
  auto by_name = rbac_->ListRoleDefinitions(SubScope(), "roleName eq 'Contributor'");
  ASSERT_API_OK(by_name);
  ASSERT_EQ(by_name->at("value").size(), 1u);
  const json& c = by_name->at("value")[0];
  EXPECT_EQ(c["id"], RoleDefId(kContributorRoleId));
  EXPECT_EQ(c["name"], kContributorRoleId);
  EXPECT_EQ(c["properties"]["roleName"], "Contributor");

  // Azure answers subscription-level ids below a subscription, tenant-level ids at "/".
  auto in_rg = rbac_->ListRoleDefinitions(RgScope("rg1"), "roleName eq 'reader'");
  ASSERT_API_OK(in_rg);
  ASSERT_EQ(in_rg->at("value").size(), 1u);
  EXPECT_EQ(in_rg->at("value")[0]["id"], RoleDefId(kReaderRoleId));
  auto tenant = rbac_->ListRoleDefinitions("/", "");
  ASSERT_API_OK(tenant);
  EXPECT_EQ(tenant->at("value").size(), 9u);
  EXPECT_EQ(tenant->at("value")[0]["id"].get<std::string>().rfind("/providers/", 0), 0u);

  auto cseu = rbac_->ListRoleDefinitions(SubScope(),
                                         "roleName eq 'Key Vault Crypto Service Encryption User'");
  ASSERT_API_OK(cseu);
  ASSERT_EQ(cseu->at("value").size(), 1u);
  EXPECT_EQ(cseu->at("value")[0]["name"], kKeyVaultCryptoServiceEncryptionUserRoleId);
  EXPECT_EQ(cseu->at("value")[0]["properties"]["permissions"][0]["dataActions"],
            json::array({"Microsoft.KeyVault/vaults/keys/read",
                         "Microsoft.KeyVault/vaults/keys/wrap/action",
                         "Microsoft.KeyVault/vaults/keys/unwrap/action"}));

  struct Case {
    const char* filter;
    size_t count;
  };
  for (const Case& k : {Case{"", 9}, Case{"type eq 'BuiltInRole'", 9},
                        Case{"type eq 'CustomRole'", 0}, Case{"roleName eq 'No Such Role'", 0},
                        Case{"type eq 'BuiltInRole' and roleName eq 'Owner'", 1}}) {
    auto r = rbac_->ListRoleDefinitions(SubScope(), k.filter);
    ASSERT_API_OK(r);
    EXPECT_EQ(r->at("value").size(), k.count) << k.filter;
  }
  EXPECT_API_ERROR(rbac_->ListRoleDefinitions(SubScope(), "atScope()"), 400, "UnsupportedQuery");

  auto owner = rbac_->GetRoleDefinition(SubScope(), "8E3AF657-A8FF-443C-A75C-2FE8C4BCB635");
  ASSERT_API_OK(owner);
  EXPECT_EQ(owner->at("properties")["roleName"], "Owner");
  auto owner_by_id = rbac_->GetRoleDefinitionById(RoleDefId(kOwnerRoleId));
  ASSERT_API_OK(owner_by_id);
  EXPECT_EQ(*owner_by_id, *owner);
  auto missing = rbac_->GetRoleDefinition(SubScope(), "11111111-2222-3333-4444-555555555555");
  EXPECT_API_ERROR(missing, 404, "RoleDefinitionDoesNotExist");
  EXPECT_EQ(missing.error().message,
            "The specified role definition with ID '11111111-2222-3333-4444-555555555555' does "
            "not exist.");
  EXPECT_API_ERROR(rbac_->GetRoleDefinition(SubScope(), "Owner"), 404,
                   "RoleDefinitionDoesNotExist");
}

}  // namespace
}  // namespace byok::authz::test
