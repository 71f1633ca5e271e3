#include "identity/bootstrap.h"

#include <sys/stat.h>

#include <thread>

#include <gtest/gtest.h>

#include "identity/identity_test_helpers.h"

namespace byok::identity {
namespace {

class BootstrapTest : public test::StoreFixture {
 protected:
  DirectoryOptions Fast() const {
    DirectoryOptions o;
    o.pbkdf2_iterations = kMinPbkdf2Iterations;
    return o;
  }
};

TEST_F(BootstrapTest, NotBootstrappedYet) {
  EXPECT_EQ(ReadBootstrapIds(*store_).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(IdentityService::Open(*store_, clock_, CryptoRandom()).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(BootstrapTest, FirstRunCreatesEverythingLaterRunsReturnTheSameIds) {
  ASSERT_OK_AND_ASSIGN(BootstrapResult first, Bootstrap(*store_, clock_, CryptoRandom(), Fast()));
  EXPECT_TRUE(first.first_run);
  EXPECT_TRUE(IsGuid(first.tenant_id));
  EXPECT_TRUE(IsGuid(first.subscription_id));
  EXPECT_NE(first.tenant_id, first.subscription_id);
  EXPECT_EQ(first.principal.display_name, kBootstrapDisplayName);
  EXPECT_EQ(first.principal.tenant_id, first.tenant_id);
  EXPECT_EQ(first.principal.kind, PrincipalKind::kServicePrincipal);
  EXPECT_EQ(first.password.size(), kClientSecretLength);

  Directory directory(*store_, clock_, CryptoRandom(), first.tenant_id, Fast());
  EXPECT_TRUE(directory.VerifyClientSecret(first.principal.app_id, first.password).ok());
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto tenant, txn->Get(TenantResourceId(first.tenant_id)));
  ASSERT_TRUE(tenant.has_value());
  EXPECT_EQ(tenant->type, kTenantResourceType);
  txn.reset();

  ASSERT_OK_AND_ASSIGN(BootstrapResult second, Bootstrap(*store_, clock_, CryptoRandom(), Fast()));
  EXPECT_FALSE(second.first_run);
  EXPECT_TRUE(second.password.empty());
  EXPECT_EQ(second.tenant_id, first.tenant_id);
  EXPECT_EQ(second.subscription_id, first.subscription_id);
  EXPECT_EQ(second.principal.object_id, first.principal.object_id);
  EXPECT_EQ(second.principal.app_id, first.principal.app_id);
  // The original password still works (not rotated by a restart).
  EXPECT_TRUE(directory.VerifyClientSecret(first.principal.app_id, first.password).ok());

  ReopenStore();
  ASSERT_OK_AND_ASSIGN(BootstrapResult third, Bootstrap(*store_, clock_, CryptoRandom(), Fast()));
  EXPECT_EQ(third.tenant_id, first.tenant_id);
  EXPECT_EQ(third.subscription_id, first.subscription_id);
  EXPECT_TRUE(third.password.empty());
  ASSERT_OK_AND_ASSIGN(BootstrapIds ids, ReadBootstrapIds(*store_));
  EXPECT_EQ(ids.tenant_id, first.tenant_id);
  EXPECT_EQ(ids.subscription_id, first.subscription_id);
  EXPECT_EQ(ids.bootstrap_object_id, first.principal.object_id);

  Directory reopened(*store_, clock_, CryptoRandom(), first.tenant_id, Fast());
  ASSERT_OK_AND_ASSIGN(auto all, reopened.ListPrincipals());
  EXPECT_EQ(all.size(), 1u) << "bootstrapping again must not add principals";
}

TEST_F(BootstrapTest, BootstrapPrincipalDeletedLater) {
  ASSERT_OK_AND_ASSIGN(BootstrapResult first, Bootstrap(*store_, clock_, CryptoRandom(), Fast()));
  Directory directory(*store_, clock_, CryptoRandom(), first.tenant_id, Fast());
  ASSERT_OK(directory.DeletePrincipal(first.principal.app_id));
  ASSERT_OK_AND_ASSIGN(BootstrapResult again, Bootstrap(*store_, clock_, CryptoRandom(), Fast()));
  EXPECT_EQ(again.tenant_id, first.tenant_id);
  EXPECT_EQ(again.principal.object_id, first.principal.object_id);
  EXPECT_TRUE(again.principal.app_id.empty());
}

TEST_F(BootstrapTest, CredentialsFileIsPrivateJson) {
  ASSERT_OK_AND_ASSIGN(BootstrapResult boot, Bootstrap(*store_, clock_, CryptoRandom(), Fast()));
  std::string path = CredentialsFilePath(dir_.path());
  EXPECT_EQ(path, dir_.path() + "/credentials.json");
  ASSERT_OK(WriteCredentialsFile(path, boot));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  nlohmann::json j = nlohmann::json::parse(test::ReadFileOrEmpty(path));
  EXPECT_EQ(j["tenant"], boot.tenant_id);
  EXPECT_EQ(j["subscription"], boot.subscription_id);
  EXPECT_EQ(j["appId"], boot.principal.app_id);
  EXPECT_EQ(j["password"], boot.password);
  EXPECT_EQ(j["objectId"], boot.principal.object_id);
  EXPECT_EQ(j["displayName"], kBootstrapDisplayName);

  // A later start has no password: the file is not overwritten.
  ASSERT_OK_AND_ASSIGN(BootstrapResult later, Bootstrap(*store_, clock_, CryptoRandom(), Fast()));
  EXPECT_EQ(WriteCredentialsFile(path, later).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(nlohmann::json::parse(test::ReadFileOrEmpty(path))["password"], boot.password);
}

TEST_F(BootstrapTest, ConcurrentFirstStartsAgree) {
  std::vector<BootstrapResult> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&] {
      auto b = Bootstrap(*store_, clock_, CryptoRandom(), Fast());
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      r = std::move(b).value();
    });
  }
  for (auto& t : threads) t.join();
  int first_runs = 0;
  for (const auto& r : results) {
    EXPECT_EQ(r.tenant_id, results[0].tenant_id);
    EXPECT_EQ(r.principal.object_id, results[0].principal.object_id);
    first_runs += r.first_run ? 1 : 0;
    EXPECT_EQ(r.first_run, !r.password.empty());
  }
  EXPECT_EQ(first_runs, 1);
}

}  // namespace
}  // namespace byok::identity
