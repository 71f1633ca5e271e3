#include "authz/ids.h"

#include <gtest/gtest.h>

#include "authz/filter.h"

namespace byok::authz {
namespace {

TEST(CanonicalGuidTest, Table) {
  const std::pair<const char*, const char*> cases[] = {
      {"05c5a614-a7d6-4502-b150-c2fb455033ff", "05c5a614-a7d6-4502-b150-c2fb455033ff"},
      {"05C5A614-A7D6-4502-B150-C2FB455033FF", "05c5a614-a7d6-4502-b150-c2fb455033ff"},
      {"05c5a614a7d64502b150c2fb455033ff", "05c5a614-a7d6-4502-b150-c2fb455033ff"},
      {"{05c5a614-a7d6-4502-b150-c2fb455033ff}", "05c5a614-a7d6-4502-b150-c2fb455033ff"},
      {"(05c5a614-a7d6-4502-b150-c2fb455033ff)", "05c5a614-a7d6-4502-b150-c2fb455033ff"},
      {"", nullptr},
      {"not-a-guid", nullptr},
      {"05c5a614-a7d6-4502-b150-c2fb455033f", nullptr},    // short
      {"05c5a614-a7d6-4502-b150-c2fb455033ffa", nullptr},  // long
      {"05c5a614-a7d6-4502-b150_c2fb455033ff", nullptr},   // wrong separator
      {"05c5a614-a7d6-4502-b150-c2fb455033fg", nullptr},   // not hex
      {"05c5a614a7d6-4502-b150-c2fb455033ff-", nullptr},   // hyphens misplaced
      {"{05c5a614a7d64502b150c2fb455033ff}", nullptr},
      {"\"05c5a614-a7d6-4502-b150-c2fb455033ff\"", nullptr},  // quotes are the caller's business
  };
  for (const auto& [in, out] : cases) {
    std::optional<std::string> got = CanonicalGuid(in);
    if (out == nullptr) {
      EXPECT_FALSE(got.has_value()) << in;
    } else {
      EXPECT_EQ(got.value_or("<none>"), out) << in;
    }
  }
}

TEST(StripQuotesTest, Table) {
  EXPECT_EQ(StripQuotes("\"abc\""), "abc");
  EXPECT_EQ(StripQuotes(" \"\"abc\"\" \n"), "abc");
  EXPECT_EQ(StripQuotes("abc"), "abc");
  EXPECT_EQ(StripQuotes("\"abc"), "\"abc");
  EXPECT_EQ(StripQuotes("\"\""), "");
  EXPECT_EQ(StripQuotes(""), "");
}

TEST(ScopeTest, ParseAndChain) {
  auto tenant = ParseScope("/");
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(tenant->kind(), arm::ResourceId::Kind::kTenant);
  EXPECT_EQ(ScopeChain(*tenant).size(), 1u);

  for (const char* bad : {"", "subscriptions/s", "/foo/bar", "/subscriptions", "//", "/a b/../c"}) {
    EXPECT_FALSE(ParseScope(bad).ok()) << bad;
  }

  auto key =
      ParseScope("/subscriptions/S/resourcegroups/RG/providers/Microsoft.KeyVault/vaults/V/keys/K");
  ASSERT_TRUE(key.ok());
  std::vector<std::string> chain;
  for (const auto& s : ScopeChain(*key)) chain.push_back(s.ToString());
  const std::vector<std::string> expected = {
      "/subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/V/keys/K",
      "/subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/V",
      "/subscriptions/S/resourceGroups/RG",
      "/subscriptions/S",
      "/",
  };
  EXPECT_EQ(chain, expected);

  // An extension resource's chain passes through the resource it extends.
  auto ext = ParseScope(
      "/subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/V/providers/"
      "Microsoft.Authorization/roleAssignments/A");
  ASSERT_TRUE(ext.ok());
  auto ext_chain = ScopeChain(*ext);
  ASSERT_EQ(ext_chain.size(), 5u);
  EXPECT_EQ(ext_chain[1].ToString(),
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/V");
}

TEST(RoleAssignmentIdTest, BuildAndSplit) {
  auto rg = ParseScope("/subscriptions/S/resourceGroups/RG");
  ASSERT_TRUE(rg.ok());
  EXPECT_EQ(RoleAssignmentResourceId(*rg, "n"),
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Authorization/"
            "roleAssignments/n");
  EXPECT_EQ(RoleAssignmentResourceId(arm::ResourceId(), "n"),
            "/providers/Microsoft.Authorization/roleAssignments/n");

  auto parts = SplitRoleAssignmentId(
      "/subscriptions/S/resourcegroups/RG/providers/microsoft.authorization/roleassignments/N");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->scope.ToString(), "/subscriptions/S/resourceGroups/RG");
  EXPECT_EQ(parts->name, "N");

  auto tenant = SplitRoleAssignmentId("/providers/Microsoft.Authorization/roleAssignments/N");
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(tenant->scope.kind(), arm::ResourceId::Kind::kTenant);

  for (const char* bad :
       {"/subscriptions/S", "/subscriptions/S/providers/Microsoft.Authorization/roleDefinitions/N",
        "/subscriptions/S/providers/Microsoft.KeyVault/roleAssignments/N",
        "/subscriptions/S/providers/Microsoft.Authorization/roleAssignments/N/x/y", "nope"}) {
    EXPECT_FALSE(SplitRoleAssignmentId(bad).ok()) << bad;
  }

  auto def =
      SplitRoleDefinitionId("/subscriptions/S/providers/Microsoft.Authorization/roleDefinitions/G");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->scope.subscription_id(), "S");
  EXPECT_EQ(def->guid, "G");
  auto tdef = SplitRoleDefinitionId("/providers/Microsoft.Authorization/roleDefinitions/G");
  ASSERT_TRUE(tdef.ok());
  EXPECT_EQ(tdef->scope.kind(), arm::ResourceId::Kind::kTenant);
}

struct AssignmentFilterCase {
  const char* filter;
  bool ok;
  bool at_scope;
  const char* principal;  // nullptr: none
};

TEST(FilterTest, RoleAssignmentFilters) {
  const AssignmentFilterCase cases[] = {
      {"", true, false, nullptr},
      {"   ", true, false, nullptr},
      {"atScope()", true, true, nullptr},
      {"ATSCOPE( )", true, true, nullptr},
      {"principalId eq 'abc'", true, false, "abc"},
      {"principalid  EQ  'abc'", true, false, "abc"},
      {"principalId eq abc", true, false, "abc"},
      {"principalId eq '\"abc\"'", true, false, "\"abc\""},
      {"assignedTo('abc')", true, false, "abc"},
      {"assignedTo( 'abc' )", true, false, "abc"},
      {"atScope() and principalId eq 'abc'", true, true, "abc"},
      {"principalId eq 'abc' AND atScope()", true, true, "abc"},
      {"atScope() and assignedTo('abc')", true, true, "abc"},
      {"principalId eq 'abc' and assignedTo('abc')", true, false, "abc"},
      {"principalId eq 'a''b'", true, false, "a'b"},
      {"principalId eq 'a and b'", true, false, "a and b"},
      // Unsupported.
      {"principalId eq ''", false, false, nullptr},
      {"principalId eq", false, false, nullptr},
      {"principalId ne 'abc'", false, false, nullptr},
      {"principalId eq 'abc", false, false, nullptr},
      {"atScope() and", false, false, nullptr},
      {"and atScope()", false, false, nullptr},
      {"atScope() and atScope()", false, false, nullptr},
      {"atScope(x)", false, false, nullptr},
      {"principalId eq 'a' and principalId eq 'b'", false, false, nullptr},
      {"roleDefinitionId eq 'x'", false, false, nullptr},
      {"principalIdeq 'abc'", false, false, nullptr},
      {"atScope() or principalId eq 'abc'", false, false, nullptr},
  };
  for (const auto& c : cases) {
    std::optional<AssignmentFilter> f = ParseAssignmentFilter(c.filter);
    ASSERT_EQ(f.has_value(), c.ok) << c.filter;
    if (!f) continue;
    EXPECT_EQ(f->at_scope, c.at_scope) << c.filter;
    if (c.principal == nullptr) {
      EXPECT_FALSE(f->principal_id.has_value()) << c.filter;
    } else {
      EXPECT_EQ(f->principal_id.value_or("<none>"), c.principal) << c.filter;
    }
  }
}

TEST(FilterTest, RoleDefinitionFilters) {
  auto f = ParseDefinitionFilter("roleName eq 'Key Vault Crypto Service Encryption User'");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->role_name.value_or(""), "Key Vault Crypto Service Encryption User");
  EXPECT_FALSE(f->type.has_value());

  f = ParseDefinitionFilter("type eq 'BuiltInRole' and rolename eq 'Reader'");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->type.value_or(""), "BuiltInRole");
  EXPECT_EQ(f->role_name.value_or(""), "Reader");

  f = ParseDefinitionFilter("");
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->role_name || f->type);

  for (const char* bad : {"roleName eq ''", "roleName eq 'a' and roleName eq 'b'", "name eq 'x'",
                          "atScope()", "roleName eq 'x"}) {
    EXPECT_FALSE(ParseDefinitionFilter(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace byok::authz
