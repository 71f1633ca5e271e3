#include "identity/admin.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "identity/bootstrap.h"
#include "identity/identity_test_helpers.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;

class AdminTest : public ::testing::Test {
 protected:
  AdminTest() : clock_(test::TestEpoch()) {
    options_.data_dir = dir_.path() + "/data";
    options_.pbkdf2_iterations = kMinPbkdf2Iterations;
    options_.clock = &clock_;
  }

  // The store as byokd would have it open (same root key: <data_dir>/root.key).
  std::unique_ptr<store::Store> OpenLikeByokd() {
    store::RootKeyOptions rk;
    rk.data_dir = options_.data_dir;
    auto key = store::LoadOrCreateRootKey(rk);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    store::SqliteOptions so;
    so.data_dir = options_.data_dir;
    auto store = store::OpenSqliteStore(so, clock_, std::move(key).value());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }

  test::TempDir dir_;
  ManualClock clock_;
  AdminOptions options_;
};

TEST_F(AdminTest, RefusesADataDirectoryByokdNeverInitialized) {
  EXPECT_EQ(AdminCreateServicePrincipal(options_, "x").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(AdminListPrincipals(options_).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(FileExists(options_.data_dir)) << "nothing may be created";
  // A store that exists but was never bootstrapped: also refused, and left unbootstrapped.
  auto store = OpenLikeByokd();
  EXPECT_EQ(AdminCreateServicePrincipal(options_, "x").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadBootstrapIds(*store).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(AdminTest, CreateWorksAfterByokdsFirstStart) {
  std::string boot_password;
  {
    auto byokd = OpenLikeByokd();  // byokd's first start, then it stops
    ASSERT_OK_AND_ASSIGN(BootstrapResult boot, Bootstrap(*byokd, clock_, CryptoRandom()));
    boot_password = boot.password;
  }
  ASSERT_OK_AND_ASSIGN(json created, AdminCreateServicePrincipal(options_, "ci-pipeline"));
  ASSERT_EQ(created.size(), 5u);
  EXPECT_EQ(created["displayName"], "ci-pipeline");
  EXPECT_EQ(created["password"].get<std::string>().size(), kClientSecretLength);

  auto store = OpenLikeByokd();
  ASSERT_OK_AND_ASSIGN(BootstrapResult again, Bootstrap(*store, clock_, CryptoRandom()));
  EXPECT_FALSE(again.first_run);
  EXPECT_EQ(again.tenant_id, created["tenant"]);
  Directory d(*store, clock_, CryptoRandom(), again.tenant_id);
  EXPECT_TRUE(d.VerifyClientSecret(created["appId"].get<std::string>(),
                                   created["password"].get<std::string>())
                  .ok());
  EXPECT_TRUE(d.VerifyClientSecret(again.principal.app_id, boot_password).ok());
}

TEST_F(AdminTest, ListResetDeleteWhileByokdHasTheStoreOpen) {
  auto byokd = OpenLikeByokd();
  ASSERT_OK_AND_ASSIGN(BootstrapResult boot, Bootstrap(*byokd, clock_, CryptoRandom()));
  Directory byokd_directory(*byokd, clock_, CryptoRandom(), boot.tenant_id);
  ASSERT_OK_AND_ASSIGN(Principal mi, byokd_directory.CreateManagedIdentity(
                                         "/subscriptions/s/resourceGroups/rg/providers/"
                                         "Microsoft.Compute/diskEncryptionSets/des"));

  ASSERT_OK_AND_ASSIGN(json a, AdminCreateServicePrincipal(options_, "a"));
  ASSERT_OK_AND_ASSIGN(json list, AdminListPrincipals(options_));
  ASSERT_EQ(list.size(), 3u);
  int services = 0;
  for (const auto& e : list) {
    if (e["type"] == "ManagedIdentity") {
      EXPECT_EQ(e["objectId"], mi.object_id);
      EXPECT_EQ(e["resourceId"], mi.resource_id);
    } else {
      EXPECT_EQ(e["type"], "ServicePrincipal");
      EXPECT_FALSE(e.contains("password"));
      ++services;
    }
  }
  EXPECT_EQ(services, 2);

  std::string app_id = a["appId"];
  ASSERT_OK_AND_ASSIGN(json reset, AdminResetSecret(options_, app_id));
  EXPECT_EQ(reset["appId"], app_id);
  EXPECT_EQ(reset["objectId"], a["objectId"]);
  EXPECT_NE(reset["password"], a["password"]);
  EXPECT_FALSE(byokd_directory.VerifyClientSecret(app_id, a["password"].get<std::string>()).ok());
  EXPECT_TRUE(
      byokd_directory.VerifyClientSecret(app_id, reset["password"].get<std::string>()).ok());

  EXPECT_EQ(AdminResetSecret(options_, mi.app_id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(AdminDeletePrincipal(options_, mi.object_id).code(), StatusCode::kFailedPrecondition);

  ASSERT_OK(AdminDeletePrincipal(options_, a["objectId"].get<std::string>()));
  EXPECT_EQ(byokd_directory.FindByAppId(app_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(AdminDeletePrincipal(options_, app_id).code(), StatusCode::kNotFound);
  EXPECT_EQ(AdminResetSecret(options_, app_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(AdminCreateServicePrincipal(options_, "").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(AdminTest, WrongRootKeyIsRefused) {
  {
    auto byokd = OpenLikeByokd();
    ASSERT_OK(Bootstrap(*byokd, clock_, CryptoRandom()).status());
  }
  ASSERT_OK(AdminListPrincipals(options_).status());
  test::TempDir other;
  std::string key_file = other.File("root.key");
  ASSERT_OK(WriteFileAtomic(key_file, std::string(43, 'A') + "=\n", 0600));
  options_.root_key_file = key_file;
  EXPECT_EQ(AdminListPrincipals(options_).status().code(), StatusCode::kPermissionDenied);
  AdminOptions none;
  EXPECT_EQ(AdminListPrincipals(none).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace byok::identity
