#include "compute/compute_test_helpers.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "authz/roles.h"
#include "common/json.h"
#include "compute/disks.h"
#include "gateway/resources_provider.h"
#include "identity/bootstrap.h"
#include "keyvault/backup.h"
#include "keyvault/vaults.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::compute::test {

using nlohmann::json;

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/byok-compute-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) std::abort();
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ComputeFixture::ComputeFixture() : clock_(TimePoint(std::chrono::seconds(1704164645))) {}

void ComputeFixture::SetUp() {
  std::vector<uint8_t> key_bytes(store::kRootKeySize, 7);
  root_key_ = SecretBytes(key_bytes);
  auto root = store::RootKey::FromBytes(key_bytes);
  ASSERT_TRUE(root.ok());
  auto backup_key = keyvault::DeriveBackupKey(root->bytes());
  ASSERT_TRUE(backup_key.ok());
  store::SqliteOptions so;
  so.data_dir = dir_.path();
  auto st = store::OpenSqliteStore(so, clock_, std::move(root).value());
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  store_ = std::move(st).value();

  identity::DirectoryOptions fast;
  fast.pbkdf2_iterations = identity::kMinPbkdf2Iterations;
  auto boot = identity::Bootstrap(*store_, clock_, CryptoRandom(), fast);
  ASSERT_TRUE(boot.ok()) << boot.status().ToString();
  subscription_ = boot->subscription_id;
  owner_ = boot->principal;
  identity::IdentityOptions io;
  io.server_base_urls = {"https://localhost:8443", "https://127.0.0.1:8443"};
  io.directory = fast;
  auto ids = identity::IdentityService::Open(*store_, clock_, CryptoRandom(), io);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  identity_ = std::move(ids).value();
  ASSERT_TRUE(
      gateway::EnsureSubscription(*store_, subscription_, boot->tenant_id, "byok subscription")
          .ok());

  authz::RbacOptions ro;
  ro.tenant_id = boot->tenant_id;
  auto rbac = authz::Rbac::Open(*store_, ro);
  ASSERT_TRUE(rbac.ok()) << rbac.status().ToString();
  rbac_ = std::move(rbac).value();
  AssignRole("/subscriptions/" + subscription_, authz::kOwnerRoleId, owner_.object_id);
  audit_ = audit::AuditLog::Open(*store_, clock_);

  keyvault::KeysServiceDeps kd;
  kd.store = store_.get();
  kd.clock = &clock_;
  kd.random = &CryptoRandom();
  kd.authenticator = &identity_->authenticator();
  kd.authorizer = rbac_.get();
  kd.audit = audit_.get();
  kd.backup_key = std::move(backup_key).value();
  kd.token_cache_ttl = std::chrono::milliseconds(0);
  keys_ = std::make_unique<keyvault::KeysService>(std::move(kd));
  keys_->AddRoutes(kv_router_);

  VaultKeyWrapperDeps vw;
  vw.router = &kv_router_;
  vw.identity = identity_.get();
  vw.store = store_.get();
  vw.random = &CryptoRandom();
  vault_keys_ = std::make_unique<VaultKeyWrapper>(vw);
  platform_ = std::make_unique<blockstore::PlatformKeyWrapper>(root_key_.span(), vault_keys_.get());
  blockstore::BlockStore::Options bo;
  bo.directory = dir_.path() + "/disks";
  bo.wrapper = platform_.get();
  bo.random = &CryptoRandom();
  bo.now_rfc3339 = [this] { return FormatAzureTime(clock_.Now()); };
  blocks_ = std::make_unique<blockstore::BlockStore>(std::move(bo));

  gateway::Frontend::Deps fd;
  fd.store = store_.get();
  fd.authorizer = rbac_.get();
  fd.clock = &clock_;
  identity::IdentityService* ids_ptr = identity_.get();
  fd.authenticate =
      [ids_ptr](const http::Request& req) -> std::variant<identity::Principal, http::Response> {
    auto h = req.headers.Get("authorization");
    if (!h || h->size() <= 7) {
      return http::Response::Error(ApiError{401, "AuthenticationFailed", "missing"});
    }
    auto p = ids_ptr->directory().FindByObjectId(h->substr(7));
    if (!p.ok()) return http::Response::Error(ApiError{401, "InvalidAuthenticationToken", "no"});
    return *p;
  };
  fe_ = std::make_unique<gateway::Frontend>(fd);
  ops_ = std::make_unique<gateway::Operations>(clock_, CryptoRandom());
  ops_->Register(*fe_);
  gateway::ResourcesDeps rd;
  rd.store = store_.get();
  rd.clock = &clock_;
  rd.operations = ops_.get();
  rd.frontend = fe_.get();
  rd.authenticate = fd.authenticate;
  rd.tenant_id = [ids_ptr] { return ids_ptr->tenant_id(); };
  resources_ = gateway::RegisterResourcesProvider(rd, arm_router_);
  keyvault::VaultsDeps vd;
  vd.store = store_.get();
  vd.clock = &clock_;
  vd.random = &CryptoRandom();
  vd.operations = ops_.get();
  vd.vault_dns_suffix = [] { return std::string(".vault.localhost:8443"); };
  keyvault::RegisterVaultsProvider(*fe_, vd);

  ComputeDeps cd;
  cd.store = store_.get();
  cd.clock = &clock_;
  cd.random = &CryptoRandom();
  cd.authorizer = rbac_.get();
  cd.directory = &identity_->directory();
  cd.blocks = blocks_.get();
  cd.vault_keys = vault_keys_.get();
  cd.operations = ops_.get();
  cd.des_users = [this](store::Transaction& txn,
                        std::string_view des_id) -> Result<std::vector<std::string>> {
    if (!des_users_) return std::vector<std::string>{};
    return des_users_(txn, des_id);
  };
  des_ = RegisterDiskEncryptionSetsProvider(*fe_, cd);
  disks_ = RegisterDisksProvider(*fe_, cd);
}

void ComputeFixture::TearDown() {
  if (ops_) ops_->Drain();
  ops_.reset();
  fe_.reset();
  des_.reset();
  disks_.reset();
  resources_.reset();
  blocks_.reset();
  audit_.reset();
}

http::Response ComputeFixture::Arm(const std::string& method, const std::string& path,
                                   const json& body, const std::string& who,
                                   const std::string& api_version) {
  http::Request req;
  req.method = method;
  req.path = path;
  req.target = path + "?api-version=" + api_version;
  req.query.push_back({"api-version", api_version});
  req.headers.Set("Authorization", "Bearer " + (who.empty() ? owner_.object_id : who));
  req.headers.Set("Host", "localhost:8443");
  if (!body.is_null()) req.body = body.dump();
  req.request_id = fmt::format("rid-{}", ++next_request_);
  return fe_->Handle(req);
}

json ComputeFixture::Body(const http::Response& r) {
  auto j = ParseJsonBody(r.body);
  return j.ok() ? *j : json();
}

std::string ComputeFixture::Code(const http::Response& r) {
  return Body(r).value("error", json::object()).value("code", "");
}

std::string ComputeFixture::Message(const http::Response& r) {
  return Body(r).value("error", json::object()).value("message", "");
}

std::string ComputeFixture::RgId(const std::string& rg) const {
  return fmt::format("/subscriptions/{}/resourceGroups/{}", subscription_, rg);
}
std::string ComputeFixture::VaultId(const std::string& rg, const std::string& name) const {
  return RgId(rg) + "/providers/Microsoft.KeyVault/vaults/" + name;
}
std::string ComputeFixture::DesId(const std::string& rg, const std::string& name) const {
  return RgId(rg) + "/providers/Microsoft.Compute/diskEncryptionSets/" + name;
}
std::string ComputeFixture::DiskId(const std::string& rg, const std::string& name) const {
  return RgId(rg) + "/providers/Microsoft.Compute/disks/" + name;
}

void ComputeFixture::CreateGroup(const std::string& rg, const std::string& location) {
  auto r = Arm("PUT", RgId(rg), {{"location", location}}, "", "2021-04-01");
  ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
}

void ComputeFixture::CreateVault(const std::string& rg, const std::string& name,
                                 bool purge_protection, const std::string& location, bool rbac) {
  json props = {{"tenantId", identity_->tenant_id()},
                {"sku", {{"family", "A"}, {"name", "standard"}}},
                {"enableRbacAuthorization", rbac},
                {"accessPolicies",
                 {{{"tenantId", identity_->tenant_id()},
                   {"objectId", owner_.object_id},
                   {"permissions",
                    {{"keys",
                      {"get", "list", "create", "update", "import", "delete", "recover", "purge",
                       "wrapKey", "unwrapKey", "rotate", "encrypt", "decrypt"}}}}}}}};
  if (purge_protection) props["enablePurgeProtection"] = true;
  auto r = Arm("PUT", VaultId(rg, name), {{"location", location}, {"properties", props}}, "",
               "2022-07-01");
  ASSERT_EQ(r.status, 200) << r.body;
}

http::Response ComputeFixture::Keys(const std::string& method, const std::string& vault,
                                    const std::string& path, const json& body,
                                    const identity::Principal* as) {
  http::Request req;
  req.method = method;
  req.path = path;
  req.target = path + "?api-version=7.4";
  req.query.push_back({"api-version", "7.4"});
  req.host = vault + ".vault.localhost";
  req.headers.Set("Host", vault + ".vault.localhost:8443");
  auto token = identity_->IssueToken(as ? *as : owner_, identity::Audience::kKeyVault);
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  req.headers.Set("Authorization", "Bearer " + (token.ok() ? token->access_token : ""));
  if (!body.is_null()) {
    req.body = body.dump();
    req.headers.Set("Content-Type", "application/json");
  }
  req.request_id = fmt::format("rid-{}", ++next_request_);
  req.remote_address = "127.0.0.1:1";
  auto m = kv_router_.Find(req.method, req.host, req.path);
  if (m.handler == nullptr) return http::Response::Empty(404);
  req.params = m.params;
  return (*m.handler)(req);
}

std::string ComputeFixture::CreateKey(const std::string& vault, const std::string& name,
                                      json body) {
  auto r = Keys("POST", vault, "/keys/" + name + "/create", body);
  EXPECT_EQ(r.status, 200) << r.body;
  return Body(r)["key"].value("kid", "");
}

std::string ComputeFixture::RotateKey(const std::string& vault, const std::string& name) {
  auto r = Keys("POST", vault, "/keys/" + name + "/rotate");
  EXPECT_EQ(r.status, 200) << r.body;
  return Body(r)["key"].value("kid", "");
}

void ComputeFixture::SetKeyEnabled(const std::string& kid, bool enabled) {
  // kid: https://{vault}.vault.localhost:8443/keys/{name}/{version}
  std::string rest = kid.substr(std::string("https://").size());
  std::string vault = rest.substr(0, rest.find('.'));
  std::string path = rest.substr(rest.find('/'));
  auto r = Keys("PATCH", vault, path, {{"attributes", {{"enabled", enabled}}}});
  ASSERT_EQ(r.status, 200) << r.body;
}

void ComputeFixture::GrantKeys(const std::string& rg, const std::string& vault,
                               const std::string& object_id, std::vector<std::string> perms) {
  json body = {{"properties",
                {{"accessPolicies",
                  {{{"tenantId", identity_->tenant_id()},
                    {"objectId", object_id},
                    {"permissions", {{"keys", perms}}}}}}}}};
  auto r = Arm("PUT", VaultId(rg, vault) + "/accessPolicies/add", body, "", "2022-07-01");
  ASSERT_EQ(r.status, 200) << r.body;
}

void ComputeFixture::RevokeKeys(const std::string& rg, const std::string& vault,
                                const std::string& object_id) {
  json body = {{"properties",
                {{"accessPolicies",
                  {{{"tenantId", identity_->tenant_id()},
                    {"objectId", object_id},
                    {"permissions", {{"keys", json::array()}}}}}}}}};
  auto r = Arm("PUT", VaultId(rg, vault) + "/accessPolicies/remove", body, "", "2022-07-01");
  ASSERT_EQ(r.status, 200) << r.body;
}

http::Response ComputeFixture::PutDes(const std::string& rg, const std::string& name,
                                      const std::string& vault, const std::string& key_url,
                                      json extra_props, const std::string& api_version) {
  json props = {
      {"activeKey", {{"sourceVault", {{"id", VaultId(rg, vault)}}}, {"keyUrl", key_url}}}};
  if (extra_props.is_object()) {
    for (const auto& [k, v] : extra_props.items()) props[k] = v;
  }
  return Arm(
      "PUT", DesId(rg, name),
      {{"location", kLocation}, {"identity", {{"type", "SystemAssigned"}}}, {"properties", props}},
      "", api_version);
}

json ComputeFixture::CreateDesWithAccess(const std::string& rg, const std::string& name,
                                         const std::string& vault, const std::string& key_url,
                                         json extra_props) {
  auto r = PutDes(rg, name, vault, key_url, std::move(extra_props));
  EXPECT_EQ(r.status, 200) << r.body;
  json des = Body(r);
  GrantKeys(rg, vault, des["identity"].value("principalId", ""));
  return des;
}

http::Response ComputeFixture::PutDisk(const std::string& rg, const std::string& name, int size_gb,
                                       const std::string& des_id,
                                       const std::string& encryption_type, const std::string& who,
                                       const std::string& sku) {
  json props = {{"creationData", {{"createOption", "Empty"}}}, {"diskSizeGB", size_gb}};
  if (!des_id.empty() || !encryption_type.empty()) {
    json enc = json::object();
    if (!des_id.empty()) enc["diskEncryptionSetId"] = des_id;
    if (!encryption_type.empty()) enc["type"] = encryption_type;
    props["encryption"] = enc;
  }
  return Arm("PUT", DiskId(rg, name),
             {{"location", kLocation}, {"sku", {{"name", sku}}}, {"properties", props}}, who);
}

blockstore::DiskHeader ComputeFixture::HeaderOf(const std::string& disk_id) {
  auto r = Arm("GET", disk_id);
  EXPECT_EQ(r.status, 200) << r.body;
  auto h = blocks_->ReadHeader(Body(r)["properties"].value("uniqueId", ""));
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? *h : blockstore::DiskHeader{};
}

identity::Principal ComputeFixture::NewPrincipal(const std::string& display_name) {
  auto c = identity_->directory().CreateServicePrincipal(display_name);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  auto p = identity_->directory().FindByAppId(c->app_id);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : identity::Principal{};
}

void ComputeFixture::AssignRole(const std::string& scope, std::string_view role_guid,
                                const std::string& oid) {
  json body = {
      {"properties",
       {{"roleDefinitionId", fmt::format("/subscriptions/{}/providers/Microsoft.Authorization/"
                                         "roleDefinitions/{}",
                                         subscription_, role_guid)},
        {"principalId", oid},
        {"principalType", "ServicePrincipal"}}}};
  auto r = rbac_->CreateRoleAssignment(scope, CryptoRandom().Uuid(), body, owner_.object_id);
  ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().message;
}

std::vector<audit::Record> ComputeFixture::AuditRecords() {
  EXPECT_TRUE(audit_->Flush().ok());
  audit::Query q;
  auto recs = audit_->List(q);
  EXPECT_TRUE(recs.ok()) << recs.status().ToString();
  return recs.ok() ? *recs : std::vector<audit::Record>{};
}

}  // namespace byok::compute::test
