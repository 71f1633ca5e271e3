// Rbac's decision (IsAllowed): inheritance, wildcards, notActions, data actions, the index's
// persistence and scale, and concurrency.

#include "authz/rbac.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "authz/authz_test_helpers.h"
#include "authz/ids.h"

namespace byok::authz::test {
namespace {

constexpr char kRgWrite[] = "Microsoft.Resources/subscriptions/resourceGroups/write";
constexpr char kRgRead[] = "Microsoft.Resources/subscriptions/resourceGroups/read";
constexpr char kVaultWrite[] = "Microsoft.KeyVault/vaults/write";
constexpr char kVaultRead[] = "Microsoft.KeyVault/vaults/read";
constexpr char kRaWrite[] = "Microsoft.Authorization/roleAssignments/write";
constexpr char kRaDelete[] = "Microsoft.Authorization/roleAssignments/delete";
constexpr char kKeyRead[] = "Microsoft.KeyVault/vaults/keys/read";
constexpr char kKeyWrap[] = "Microsoft.KeyVault/vaults/keys/wrap/action";
constexpr char kKeyUnwrap[] = "Microsoft.KeyVault/vaults/keys/unwrap/action";
constexpr char kKeyDelete[] = "Microsoft.KeyVault/vaults/keys/delete";

struct Check {
  const char* principal;
  const char* action;
  std::string scope;
  bool data_action;
  bool allowed;
};

void RunChecks(RbacTest* t, const std::vector<Check>& checks) {
  for (const Check& c : checks) {
    EXPECT_EQ(t->Allowed(c.principal, c.action, c.scope, c.data_action), c.allowed)
        << c.principal << " " << c.action << (c.data_action ? " (data)" : "") << " at " << c.scope;
  }
}

using IsAllowedTest = RbacTest;

TEST_F(IsAllowedTest, ScopeInheritance) {
  Assign(SubScope(), kContributorRoleId, kAlice);    // subscription → everything below
  Assign(RgScope("rg1"), kContributorRoleId, kBob);  // rg1 only
  Assign(VaultScope("rg1", "v1"), kKeyVaultCryptoUserRoleId, kCarol);  // one vault

  RunChecks(
      this,
      {
          {kAlice, kRgWrite, SubScope(), false, true},
          {kAlice, kRgWrite, RgScope("rg1"), false, true},
          {kAlice, kVaultWrite, VaultScope("rg7", "v9"), false, true},
          {kAlice, kVaultRead, KeyScope("rg1", "v1", "k1"), false, true},
          {kAlice, kRgWrite, std::string("/subscriptions/") + kOtherSub, false, false},
          {kAlice, kRgWrite, "/", false, false},
          // rg1 does not leak to rg10 (a string prefix), to rg2 or up to the subscription.
          {kBob, kRgWrite, RgScope("rg1"), false, true},
          {kBob, kVaultWrite, VaultScope("rg1", "v1"), false, true},
          {kBob, kVaultRead, KeyScope("rg1", "v1", "k1"), false, true},
          {kBob, kRgWrite, RgScope("rg10"), false, false},
          {kBob, kVaultWrite, VaultScope("rg10", "v1"), false, false},
          {kBob, kRgWrite, RgScope("rg2"), false, false},
          {kBob, kRgRead, SubScope(), false, false},
          // Scopes compare case-insensitively; the resourcegroups keyword in any case.
          {kBob, kRgWrite, std::string("/SUBSCRIPTIONS/") + kSub + "/resourcegroups/RG1", false,
           true},
          // A vault-level assignment covers the vault's keys but not a sibling vault (v1 vs v10).
          {kCarol, kKeyWrap, KeyScope("rg1", "v1", "k1"), true, true},
          {kCarol, kKeyWrap, VaultScope("rg1", "v1"), true, true},
          {kCarol, kKeyWrap, KeyScope("rg1", "v10", "k1"), true, false},
          {kCarol, kKeyWrap, RgScope("rg1"), true, false},
          // Nobody else.
          {kStranger, kRgRead, SubScope(), false, false},
      });
}

TEST_F(IsAllowedTest, TenantLevelAssignmentAppliesEverywhere) {
  Assign("/", kReaderRoleId, kAlice);
  RunChecks(this, {
                      {kAlice, kRgRead, RgScope("rg1"), false, true},
                      {kAlice, kVaultRead,
                       std::string("/subscriptions/") + kOtherSub +
                           "/resourceGroups/x/providers/Microsoft.KeyVault/vaults/y",
                       false, true},
                      {kAlice, kRgRead, "/", false, true},
                      {kAlice, kRgWrite, RgScope("rg1"), false, false},
                  });
}

TEST_F(IsAllowedTest, WildcardActions) {
  Assign(SubScope(), kReaderRoleId, kAlice);                 // */read
  Assign(SubScope(), kUserAccessAdministratorRoleId, kBob);  // Microsoft.Authorization/*
  Assign(SubScope(), kKeyVaultAdministratorRoleId, kCarol);  // vaults/* (data)
  RunChecks(
      this,
      {
          {kAlice, kRgRead, RgScope("rg1"), false, true},
          {kAlice, "microsoft.keyvault/VAULTS/read", VaultScope("rg1", "v"), false, true},
          {kAlice, kVaultWrite, VaultScope("rg1", "v"), false, false},
          {kAlice, kKeyRead, KeyScope("rg1", "v", "k"), true,
           false},  // */read is not a data action
          {kBob, kRaWrite, RgScope("rg1"), false, true},
          {kBob, kRaDelete, RgScope("rg1"), false, true},
          {kBob, "Microsoft.Authorization/policyAssignments/write", RgScope("rg1"), false, true},
          {kBob, kVaultWrite, VaultScope("rg1", "v"), false, false},
          {kCarol, kKeyDelete, KeyScope("rg1", "v", "k"), true, true},
          {kCarol, "Microsoft.KeyVault/vaults/secrets/getSecret/action", VaultScope("rg1", "v"),
           true, true},
          {kCarol, kVaultWrite, VaultScope("rg1", "v"), false, false},
      });
}

TEST_F(IsAllowedTest, NotActionsKeepContributorFromGrantingAccess) {
  Assign(SubScope(), kContributorRoleId, kAlice);
  Assign(SubScope(), kOwnerRoleId, kBob);
  RunChecks(this, {
                      {kAlice, kRaWrite, RgScope("rg1"), false, false},
                      {kAlice, kRaDelete, RgScope("rg1"), false, false},
                      {kAlice, "Microsoft.Authorization/roleAssignments/read", RgScope("rg1"),
                       false, true},
                      {kAlice, kRgWrite, RgScope("rg1"), false, true},
                      {kBob, kRaWrite, RgScope("rg1"), false, true},
                      {kBob, kRaDelete, SubScope(), false, true},
                  });
  // NotActions subtract from their own role only: Contributor plus User Access Administrator
  // may write role assignments.
  Assign(RgScope("rg1"), kUserAccessAdministratorRoleId, kAlice);
  EXPECT_TRUE(Allowed(kAlice, kRaWrite, RgScope("rg1")));
  EXPECT_FALSE(Allowed(kAlice, kRaWrite, RgScope("rg2")));
}

TEST_F(IsAllowedTest, DataActionsOfCryptoServiceEncryptionUser) {
  Assign(VaultScope("rg1", "v1"), kKeyVaultCryptoServiceEncryptionUserRoleId, kAlice);
  Assign(SubScope(), kOwnerRoleId, kBob);
  const std::string key = KeyScope("rg1", "v1", "disk-key");
  RunChecks(this, {
                      {kAlice, kKeyWrap, key, true, true},
                      {kAlice, kKeyUnwrap, key, true, true},
                      {kAlice, kKeyRead, key, true, true},
                      {kAlice, kKeyDelete, key, true, false},
                      {kAlice, "Microsoft.KeyVault/vaults/keys/decrypt/action", key, true, false},
                      {kAlice, kKeyWrap, key, false,
                       false},  // a data action is not a control-plane action
                      {kAlice, "Microsoft.EventGrid/eventSubscriptions/read",
                       VaultScope("rg1", "v1"), false, true},
                      // Owner manages everything but holds no data actions.
                      {kBob, kKeyUnwrap, key, true, false},
                      {kBob, kVaultWrite, VaultScope("rg1", "v1"), false, true},
                  });
}

TEST_F(IsAllowedTest, ConditionalAssignmentsGrantNothing) {
  nlohmann::json body = AssignmentBody(kKeyVaultCryptoUserRoleId, kAlice);
  body["properties"]["condition"] =
      "@Resource[Microsoft.KeyVault/vaults/keys:KeyName] "
      "StringEquals 'k1'";
  auto r = rbac_->CreateRoleAssignment(VaultScope("rg1", "v1"), NewGuid(), body, kCaller);
  ASSERT_API_OK(r);
  EXPECT_EQ(r->body["properties"]["conditionVersion"], "2.0");
  EXPECT_FALSE(Allowed(kAlice, kKeyWrap, KeyScope("rg1", "v1", "k1"), true));
}

TEST_F(IsAllowedTest, BadInputs) {
  Assign(SubScope(), kOwnerRoleId, kAlice);
  for (const char* scope : {"", "subscriptions/x", "/subscriptions", "/nope/x",
                            "/subscriptions/x/resourceGroups", "/subscriptions/x/providers/A"}) {
    auto r = rbac_->IsAllowed(kAlice, kRgRead, scope);
    ASSERT_FALSE(r.ok()) << scope;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << scope;
  }
  auto empty = rbac_->IsAllowed(kAlice, "", SubScope());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  // Principal ids compare as GUIDs: any case, N format, quoted.
  EXPECT_TRUE(Allowed("CE2CE14E-85D7-4629-BDBC-454D0519D987", kRgRead, SubScope()));
  EXPECT_TRUE(Allowed("ce2ce14e85d74629bdbc454d0519d987", kRgRead, SubScope()));
  EXPECT_TRUE(Allowed("\"ce2ce14e-85d7-4629-bdbc-454d0519d987\"", kRgRead, SubScope()));
  EXPECT_FALSE(Allowed("", kRgRead, SubScope()));
  // A trailing slash on the scope is tolerated.
  EXPECT_TRUE(Allowed(kAlice, kRgRead, SubScope() + "/"));
}

TEST_F(IsAllowedTest, DeleteRevokes) {
  const std::string name = Assign(RgScope("rg1"), kContributorRoleId, kAlice);
  EXPECT_TRUE(Allowed(kAlice, kRgWrite, RgScope("rg1")));
  auto del = rbac_->DeleteRoleAssignment(RgScope("rg1"), name);
  ASSERT_API_OK(del);
  EXPECT_FALSE(Allowed(kAlice, kRgWrite, RgScope("rg1")));
  EXPECT_EQ(rbac_->assignment_count(), 0u);
}

TEST_F(IsAllowedTest, IndexSurvivesReopen) {
  Assign(SubScope(), kReaderRoleId, kAlice);
  const std::string gone = Assign(RgScope("rg1"), kContributorRoleId, kBob);
  Assign(VaultScope("rg1", "v1"), kKeyVaultCryptoServiceEncryptionUserRoleId, kCarol);
  ASSERT_API_OK(rbac_->DeleteRoleAssignment(RgScope("rg1"), gone));
  Reopen();
  EXPECT_EQ(rbac_->assignment_count(), 2u);
  RunChecks(this, {
                      {kAlice, kRgRead, RgScope("rg1"), false, true},
                      {kBob, kRgWrite, RgScope("rg1"), false, false},
                      {kCarol, kKeyUnwrap, KeyScope("rg1", "v1", "k"), true, true},
                  });
}

TEST_F(IsAllowedTest, ReloadAndForgetAfterDeletesBehindRbacsBack) {
  const std::string a = Assign(RgScope("rg1"), kContributorRoleId, kAlice);
  Assign(RgScope("rg2"), kContributorRoleId, kBob);
  // A cascade delete of rg1 done by someone else directly in the store.
  ASSERT_TRUE(store::RunInTransaction(*store_, [&](store::Transaction& txn) -> Status {
                auto n = txn.DeleteByPrefix(RgScope("rg1"));
                return n.ok() ? Status::Ok() : n.status();
              }).ok());
  EXPECT_TRUE(Allowed(kAlice, kRgWrite, RgScope("rg1")));  // the index does not know yet
  ASSERT_TRUE(rbac_->Reload().ok());
  EXPECT_FALSE(Allowed(kAlice, kRgWrite, RgScope("rg1")));
  EXPECT_TRUE(Allowed(kBob, kRgWrite, RgScope("rg2")));

  auto parsed = ParseScope(RgScope("rg2"));
  ASSERT_TRUE(parsed.ok());
  auto list = rbac_->ListRoleAssignments(RgScope("rg2"), "atScope()");
  ASSERT_API_OK(list);
  ASSERT_EQ(list->at("value").size(), 1u);
  rbac_->ForgetRoleAssignment(arm::AsciiLower(list->at("value")[0]["id"].get<std::string>()));
  EXPECT_FALSE(Allowed(kBob, kRgWrite, RgScope("rg2")));
}

// 10,000 assignments over 1,000 principals (and 2,000 for one principal), created in one
// transaction; IsAllowed must stay exact, before and after reopening.
TEST_F(IsAllowedTest, TenThousandAssignments) {
  constexpr int kPrincipals = 1000;
  constexpr int kRgs = 100;
  std::vector<std::string> principals;
  for (int i = 0; i < kPrincipals; ++i) {
    principals.push_back(NewGuid());
    AddPrincipal(principals.back());
  }
  const std::string_view roles[] = {kReaderRoleId, kContributorRoleId,
                                    kKeyVaultCryptoServiceEncryptionUserRoleId};
  std::vector<RoleAssignmentRequest> requests;
  // Principal i: role (i+j)%3 at rg (i*7+j)%100 for j in 0..7: 8,000 assignments.
  auto rg_of = [&](int i, int j) { return "rg" + std::to_string((i * 7 + j) % kRgs); };
  for (int i = 0; i < kPrincipals; ++i) {
    for (int j = 0; j < 8; ++j) {
      requests.push_back(
          {RgScope(rg_of(i, j)), NewGuid(), AssignmentBody(roles[(i + j) % 3], principals[i])});
    }
  }
  // One busy principal: Reader on 2,000 vaults.
  const std::string busy = principals[0];
  for (int v = 0; v < 2000; ++v) {
    requests.push_back({VaultScope("busy", "v" + std::to_string(v)), NewGuid(),
                        AssignmentBody(kKeyVaultReaderRoleId, busy)});
  }
  ASSERT_EQ(requests.size(), 10000u);
  auto created = rbac_->CreateRoleAssignments(requests, kCaller);
  ASSERT_API_OK(created);
  ASSERT_EQ(created->size(), 10000u);
  EXPECT_EQ(rbac_->assignment_count(), 10000u);

  auto verify = [&] {
    for (int i = 0; i < kPrincipals; i += 37) {
      for (int j = 0; j < 8; ++j) {
        const std::string rg = rg_of(i, j);
        const bool contributor = roles[(i + j) % 3] == kContributorRoleId;
        // Another role at the same rg may add the write; compute the expectation exactly.
        bool can_write = false;
        for (int jj = 0; jj < 8; ++jj) {
          if (rg_of(i, jj) == rg && roles[(i + jj) % 3] == kContributorRoleId) can_write = true;
        }
        EXPECT_EQ(Allowed(principals[i], kVaultWrite, VaultScope(rg, "x")), can_write) << i;
        if (contributor) {
          EXPECT_TRUE(can_write);
        }
      }
      // An rg the principal has nothing on: (i*7+50)%100 is not (i*7+j)%100 for j < 8.
      const std::string other = "rg" + std::to_string((i * 7 + 50) % kRgs);
      EXPECT_FALSE(Allowed(principals[i], kRgRead, RgScope(other))) << i;
      EXPECT_FALSE(Allowed(principals[i], kRgRead, SubScope())) << i;
    }
    EXPECT_TRUE(Allowed(busy, kKeyRead, KeyScope("busy", "v1999", "k"), true));
    EXPECT_TRUE(Allowed(busy, kKeyRead, KeyScope("busy", "v0", "k"), true));
    EXPECT_FALSE(Allowed(busy, kKeyRead, KeyScope("busy", "v2000", "k"), true));
    EXPECT_FALSE(Allowed(busy, kKeyUnwrap, KeyScope("busy", "v5", "k"), true));
    EXPECT_FALSE(Allowed(kStranger, kRgRead, RgScope("rg1")));
  };
  verify();
  Reopen();
  EXPECT_EQ(rbac_->assignment_count(), 10000u);
  verify();
}

TEST_F(IsAllowedTest, ConcurrentReadersAndWriters) {
  Assign(SubScope(), kReaderRoleId, kAlice);
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto r = rbac_->IsAllowed(kAlice, kRgRead, RgScope("rg1"));
        if (!r.ok() || !*r) ++wrong;
        (void)rbac_->IsAllowed(kBob, kRgWrite, RgScope("rg1"));
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    const std::string name = Assign(RgScope("rg1"), kContributorRoleId, kBob);
    EXPECT_TRUE(Allowed(kBob, kRgWrite, RgScope("rg1")));
    ASSERT_API_OK(rbac_->DeleteRoleAssignment(RgScope("rg1"), name));
    EXPECT_FALSE(Allowed(kBob, kRgWrite, RgScope("rg1")));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(DenialTest, AzuresMessage) {
  ApiError e =
      Denial("24bd450f-6acd-4c09-8eba-9a43207e2bdc", "24bd450f-6acd-4c09-8eba-9a43207e2bdc",
             "Microsoft.Authorization/roleAssignments/write", "/subscriptions/s/resourceGroups/rg");
  EXPECT_EQ(e.http_status, 403);
  EXPECT_EQ(e.code, "AuthorizationFailed");
  EXPECT_EQ(e.message,
            "The client '24bd450f-6acd-4c09-8eba-9a43207e2bdc' with object id "
            "'24bd450f-6acd-4c09-8eba-9a43207e2bdc' does not have authorization to perform action "
            "'Microsoft.Authorization/roleAssignments/write' over scope "
            "'/subscriptions/s/resourceGroups/rg' or the scope is invalid. If access was recently "
            "granted, please refresh your credentials.");
  EXPECT_EQ(e.ToJson()["error"]["code"], "AuthorizationFailed");
}

}  // namespace
}  // namespace byok::authz::test
