#include "identity/directory.h"

#include <set>

#include <gtest/gtest.h>

#include "identity/identity_test_helpers.h"

namespace byok::identity {
namespace {

using test::ReadFileOrEmpty;

class DirectoryTest : public test::StoreFixture {
 protected:
  DirectoryTest() : tenant_(CryptoRandom().Uuid()) {}
  void SetUp() override {
    StoreFixture::SetUp();
    DirectoryOptions o;
    o.pbkdf2_iterations = kMinPbkdf2Iterations;
    directory_ = std::make_unique<Directory>(*store_, clock_, CryptoRandom(), tenant_, o);
  }

  std::string tenant_;
  std::unique_ptr<Directory> directory_;
};

TEST_F(DirectoryTest, CreateServicePrincipalHasCreateForRbacShape) {
  ASSERT_OK_AND_ASSIGN(auto c, directory_->CreateServicePrincipal("my-app"));
  EXPECT_TRUE(IsGuid(c.app_id));
  EXPECT_TRUE(IsGuid(c.object_id));
  EXPECT_NE(c.app_id, c.object_id);
  EXPECT_EQ(c.tenant, tenant_);
  EXPECT_EQ(c.display_name, "my-app");
  EXPECT_EQ(c.password.size(), kClientSecretLength);
  nlohmann::json j = c.ToJson();
  EXPECT_EQ(j.size(), 5u);
  for (const char* k : {"appId", "password", "tenant", "objectId", "displayName"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }

  ASSERT_OK_AND_ASSIGN(Principal by_app, directory_->FindByAppId(c.app_id));
  ASSERT_OK_AND_ASSIGN(Principal by_oid, directory_->FindByObjectId(c.object_id));
  EXPECT_EQ(by_app.object_id, c.object_id);
  EXPECT_EQ(by_oid.app_id, c.app_id);
  EXPECT_EQ(by_oid.tenant_id, tenant_);
  EXPECT_EQ(by_oid.display_name, "my-app");
  EXPECT_EQ(by_oid.kind, PrincipalKind::kServicePrincipal);
  EXPECT_TRUE(by_oid.resource_id.empty());

  ASSERT_OK_AND_ASSIGN(PrincipalInfo info, directory_->Describe(c.object_id));
  EXPECT_EQ(info.service_principal_names, std::vector<std::string>{c.app_id});
  ASSERT_EQ(info.password_credentials.size(), 1u);
  EXPECT_TRUE(IsGuid(info.password_credentials[0].key_id));
  EXPECT_EQ(info.password_credentials[0].start, test::TestEpoch());
  EXPECT_EQ(info.created, test::TestEpoch());

  // Upper-case ids are the same principal.
  std::string upper = c.app_id;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(directory_->FindByAppId(upper).ok());
}

TEST_F(DirectoryTest, EmptyDisplayNameRefused) {
  EXPECT_EQ(directory_->CreateServicePrincipal("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DirectoryTest, VerifyClientSecret) {
  ASSERT_OK_AND_ASSIGN(auto c, directory_->CreateServicePrincipal("app"));
  ASSERT_OK_AND_ASSIGN(Principal p, directory_->VerifyClientSecret(c.app_id, c.password));
  EXPECT_EQ(p.object_id, c.object_id);
  EXPECT_EQ(directory_->VerifyClientSecret(c.app_id, c.password + "x").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(directory_->VerifyClientSecret(c.app_id, "").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(directory_->VerifyClientSecret(CryptoRandom().Uuid(), c.password).status().code(),
            StatusCode::kNotFound);
  // The object id is not a client id.
  EXPECT_EQ(directory_->VerifyClientSecret(c.object_id, c.password).status().code(),
            StatusCode::kNotFound);
}

TEST_F(DirectoryTest, TheStoreNeverHoldsTheSecret) {
  ASSERT_OK_AND_ASSIGN(auto c, directory_->CreateServicePrincipal("app"));
  ASSERT_OK_AND_ASSIGN(auto r, directory_->ResetSecret(c.app_id));
  store_.reset();  // checkpoint-independent: look at the database and its WAL
  std::string db =
      ReadFileOrEmpty(dir_.File("byok.db")) + ReadFileOrEmpty(dir_.File("byok.db-wal"));
  ASSERT_FALSE(db.empty());
  EXPECT_EQ(db.find(c.password), std::string::npos);
  EXPECT_EQ(db.find(r.password), std::string::npos);
  EXPECT_NE(db.find(c.app_id), std::string::npos);  // sanity: we did read the data
}

TEST_F(DirectoryTest, ResetSecretReplacesTheOldOne) {
  ASSERT_OK_AND_ASSIGN(auto c, directory_->CreateServicePrincipal("app"));
  clock_.Advance(std::chrono::hours(1));
  ASSERT_OK_AND_ASSIGN(auto r, directory_->ResetSecret(c.app_id));
  EXPECT_EQ(r.app_id, c.app_id);
  EXPECT_EQ(r.object_id, c.object_id);
  EXPECT_EQ(r.display_name, "app");
  EXPECT_EQ(r.tenant, tenant_);
  EXPECT_NE(r.password, c.password);
  EXPECT_FALSE(directory_->VerifyClientSecret(c.app_id, c.password).ok());
  EXPECT_TRUE(directory_->VerifyClientSecret(c.app_id, r.password).ok());
  // By object id too.
  ASSERT_OK_AND_ASSIGN(auto r2, directory_->ResetSecret(c.object_id));
  EXPECT_TRUE(directory_->VerifyClientSecret(c.app_id, r2.password).ok());
  ASSERT_OK_AND_ASSIGN(PrincipalInfo info, directory_->Describe(c.object_id));
  ASSERT_EQ(info.password_credentials.size(), 1u);
  EXPECT_EQ(info.password_credentials[0].start, test::TestEpoch() + std::chrono::hours(1));
  EXPECT_EQ(directory_->ResetSecret(CryptoRandom().Uuid()).status().code(), StatusCode::kNotFound);
}

TEST_F(DirectoryTest, DeleteByAppIdOrObjectId) {
  ASSERT_OK_AND_ASSIGN(auto a, directory_->CreateServicePrincipal("a"));
  ASSERT_OK_AND_ASSIGN(auto b, directory_->CreateServicePrincipal("b"));
  ASSERT_OK(directory_->DeletePrincipal(a.app_id));
  ASSERT_OK(directory_->DeletePrincipal(b.object_id));
  for (const auto& c : {a, b}) {
    EXPECT_EQ(directory_->FindByAppId(c.app_id).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(directory_->FindByObjectId(c.object_id).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(directory_->VerifyClientSecret(c.app_id, c.password).status().code(),
              StatusCode::kNotFound);
  }
  EXPECT_EQ(directory_->DeletePrincipal(a.app_id).code(), StatusCode::kNotFound);
}

TEST_F(DirectoryTest, ListPrincipalsSortedByObjectId) {
  ASSERT_OK_AND_ASSIGN(auto a, directory_->CreateServicePrincipal("a"));
  ASSERT_OK_AND_ASSIGN(auto b, directory_->CreateServicePrincipal("b"));
  ASSERT_OK_AND_ASSIGN(Principal mi, directory_->CreateManagedIdentity(
                                         "/subscriptions/s/resourceGroups/rg/providers/"
                                         "Microsoft.Compute/diskEncryptionSets/des1"));
  ASSERT_OK_AND_ASSIGN(auto all, directory_->ListPrincipals());
  ASSERT_EQ(all.size(), 3u);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].principal.object_id, all[i].principal.object_id);
  }
  std::set<std::string> ids;
  for (const auto& i : all) ids.insert(i.principal.object_id);
  EXPECT_EQ(ids, (std::set<std::string>{a.object_id, b.object_id, mi.object_id}));
}

TEST_F(DirectoryTest, NonGuidIdsAreSimplyNotFound) {
  for (std::string_view id :
       {"", "x", "../../etc", "/byok/tenants", "00000000-0000-0000-0000-0000"}) {
    EXPECT_EQ(directory_->FindByAppId(id).status().code(), StatusCode::kNotFound) << id;
    EXPECT_EQ(directory_->FindByObjectId(id).status().code(), StatusCode::kNotFound) << id;
    EXPECT_EQ(directory_->DeletePrincipal(id).code(), StatusCode::kNotFound) << id;
  }
  EXPECT_TRUE(IsGuid("0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5B"));
  EXPECT_FALSE(IsGuid("0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5"));
  EXPECT_FALSE(IsGuid("0f1e2d3c04b5a-6978-8a9b-0c1d2e3f4a5b"));
  EXPECT_FALSE(IsGuid("0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5g"));
}

constexpr char kDesId[] =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/"
    "Microsoft.Compute/diskEncryptionSets/myDES";

TEST_F(DirectoryTest, ManagedIdentityOnePerResource) {
  ASSERT_OK_AND_ASSIGN(Principal mi, directory_->CreateManagedIdentity(kDesId));
  EXPECT_EQ(mi.kind, PrincipalKind::kManagedIdentity);
  EXPECT_EQ(mi.resource_id, kDesId);
  EXPECT_EQ(mi.display_name, "myDES");
  EXPECT_EQ(mi.tenant_id, tenant_);
  EXPECT_TRUE(IsGuid(mi.object_id));
  EXPECT_TRUE(IsGuid(mi.app_id));

  // Same resource in another case (ARM ids are case-insensitive): the same identity.
  std::string lower = store::NormalizeId(kDesId);
  ASSERT_OK_AND_ASSIGN(Principal again, directory_->CreateManagedIdentity(lower));
  EXPECT_EQ(again.object_id, mi.object_id);
  ASSERT_OK_AND_ASSIGN(Principal found, directory_->FindManagedIdentity(lower));
  EXPECT_EQ(found.object_id, mi.object_id);
  ASSERT_OK_AND_ASSIGN(Principal by_oid, directory_->FindByObjectId(mi.object_id));
  EXPECT_EQ(by_oid.resource_id, kDesId);
  ASSERT_OK_AND_ASSIGN(Principal by_app, directory_->FindByAppId(mi.app_id));
  EXPECT_EQ(by_app.object_id, mi.object_id);

  // No secret, no sp delete/reset.
  EXPECT_EQ(directory_->VerifyClientSecret(mi.app_id, "anything").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(directory_->DeletePrincipal(mi.object_id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(directory_->ResetSecret(mi.app_id).status().code(), StatusCode::kFailedPrecondition);

  ASSERT_OK(directory_->DeleteManagedIdentity(kDesId));
  EXPECT_EQ(directory_->FindManagedIdentity(kDesId).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(directory_->FindByObjectId(mi.object_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(directory_->FindByAppId(mi.app_id).status().code(), StatusCode::kNotFound);
  EXPECT_OK(directory_->DeleteManagedIdentity(kDesId));  // idempotent

  // A new identity afterwards is a new principal.
  ASSERT_OK_AND_ASSIGN(Principal fresh, directory_->CreateManagedIdentity(kDesId));
  EXPECT_NE(fresh.object_id, mi.object_id);
  EXPECT_EQ(directory_->CreateManagedIdentity("not-a-resource-id").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(DirectoryTest, ManagedIdentityInTheCallersTransaction) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK_AND_ASSIGN(Principal mi, directory_->CreateManagedIdentity(*txn, kDesId));
    ASSERT_OK_AND_ASSIGN(Principal seen, directory_->FindManagedIdentity(*txn, kDesId));
    EXPECT_EQ(seen.object_id, mi.object_id);
    txn->Rollback();
  }
  EXPECT_EQ(directory_->FindManagedIdentity(kDesId).status().code(), StatusCode::kNotFound);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(directory_->CreateManagedIdentity(*txn, kDesId).status());
    ASSERT_OK(txn->Commit());
  }
  EXPECT_TRUE(directory_->FindManagedIdentity(kDesId).ok());
}

TEST_F(DirectoryTest, SurvivesReopen) {
  ASSERT_OK_AND_ASSIGN(auto c, directory_->CreateServicePrincipal("app"));
  directory_.reset();
  ReopenStore();
  DirectoryOptions o;
  o.pbkdf2_iterations = kMinPbkdf2Iterations;
  Directory d(*store_, clock_, CryptoRandom(), tenant_, o);
  EXPECT_TRUE(d.VerifyClientSecret(c.app_id, c.password).ok());
}

}  // namespace
}  // namespace byok::identity
