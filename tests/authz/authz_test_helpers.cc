#include "authz/authz_test_helpers.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::authz::test {

std::string SubScope() { return std::string("/subscriptions/") + kSub; }

std::string RgScope(std::string_view rg) {
  return SubScope() + "/resourceGroups/" + std::string(rg);
}

std::string VaultScope(std::string_view rg, std::string_view vault) {
  return RgScope(rg) + "/providers/Microsoft.KeyVault/vaults/" + std::string(vault);
}

std::string KeyScope(std::string_view rg, std::string_view vault, std::string_view key) {
  return VaultScope(rg, vault) + "/keys/" + std::string(key);
}

std::string RoleDefId(std::string_view guid) {
  return SubScope() + "/providers/Microsoft.Authorization/roleDefinitions/" + std::string(guid);
}

nlohmann::json AssignmentBody(std::string_view role_guid, std::string_view principal) {
  return {{"properties",
           {{"roleDefinitionId", RoleDefId(role_guid)},
            {"principalId", std::string(principal)},
            {"principalType", "ServicePrincipal"}}}};
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/byok-authz-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) std::abort();
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TimePoint TestEpoch() { return TimePoint(std::chrono::seconds(1704164645)); }

RbacTest::RbacTest() : clock_(TestEpoch()) {
  for (const char* p : {kAlice, kBob, kCarol, kCaller}) principals_.insert(p);
}

void RbacTest::SetUp() { Open(); }

void RbacTest::AddPrincipal(const std::string& id) {
  std::lock_guard<std::mutex> lock(principals_mu_);
  principals_.insert(id);
}

void RbacTest::Open() {
  store::RootKeyOptions key_options;
  key_options.data_dir = dir_.path();
  key_options.getenv = [](const char*) { return std::optional<std::string>(); };
  auto key = store::LoadOrCreateRootKey(key_options);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  store::SqliteOptions options;
  options.data_dir = dir_.path();
  auto st = store::OpenSqliteStore(options, clock_, std::move(key).value());
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  store_ = std::move(st).value();

  RbacOptions rbac_options;
  rbac_options.tenant_id = kTenant;
  rbac_options.principal_exists = [this](std::string_view id) {
    std::lock_guard<std::mutex> lock(principals_mu_);
    return principals_.count(std::string(id)) != 0;
  };
  auto rbac = Rbac::Open(*store_, std::move(rbac_options));
  ASSERT_TRUE(rbac.ok()) << rbac.status().ToString();
  rbac_ = std::move(rbac).value();
}

void RbacTest::Close() {
  rbac_.reset();
  store_.reset();
}

ApiResult<ApiResponse> RbacTest::Create(std::string_view scope, std::string_view role_guid,
                                        std::string_view principal, std::string name) {
  if (name.empty()) name = NewGuid();
  return rbac_->CreateRoleAssignment(scope, name, AssignmentBody(role_guid, principal), kCaller);
}

std::string RbacTest::Assign(std::string_view scope, std::string_view role_guid,
                             std::string_view principal) {
  std::string name = NewGuid();
  auto r = Create(scope, role_guid, principal, name);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code + ": " + r.error().message);
  if (r.ok()) {
    EXPECT_EQ(r.value().http_status, 201);
  }
  return name;
}

bool RbacTest::Allowed(std::string_view principal, std::string_view action, std::string_view scope,
                       bool data_action) {
  auto r = rbac_->IsAllowed(principal, action, scope, data_action);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() && *r;
}

}  // namespace byok::authz::test
