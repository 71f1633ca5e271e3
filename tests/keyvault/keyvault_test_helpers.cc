#include "keyvault/keyvault_test_helpers.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "authz/roles.h"
#include "identity/endpoints.h"
#include "keyvault/backup.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::keyvault::test {

using nlohmann::json;

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/byok-keyvault-test-XXXXXX";
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

json PolicyEntry(const identity::Principal& p, std::vector<std::string> key_permissions) {
  return {{"tenantId", p.tenant_id},
          {"objectId", p.object_id},
          {"permissions", {{"keys", key_permissions}, {"secrets", json::array()}}}};
}

void KeysFixture::SetUp() { Open(); }

void KeysFixture::TearDown() {
  service_.reset();
  if (audit_) audit_.reset();
}

void KeysFixture::Open(uint8_t root_key_seed) {
  service_.reset();
  audit_.reset();
  rbac_.reset();
  identity_.reset();
  store_.reset();
  router_ = http::Router();
  std::string dir = fmt::format("{}/data{}", dir_.path(), root_key_seed);
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> key_bytes(store::kRootKeySize, root_key_seed);
  auto root = store::RootKey::FromBytes(key_bytes);
  ASSERT_TRUE(root.ok());
  auto backup_key = DeriveBackupKey(root->bytes());
  ASSERT_TRUE(backup_key.ok());
  store::SqliteOptions so;
  so.data_dir = dir;
  auto st = store::OpenSqliteStore(so, clock_, std::move(root).value());
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  store_ = std::move(st).value();

  identity::DirectoryOptions fast;
  fast.pbkdf2_iterations = identity::kMinPbkdf2Iterations;
  auto boot = identity::Bootstrap(*store_, clock_, CryptoRandom(), fast);
  ASSERT_TRUE(boot.ok()) << boot.status().ToString();
  boot_ = std::move(boot).value();
  identity::IdentityOptions io;
  io.server_base_urls = {"https://localhost:8443", "https://127.0.0.1:8443"};
  io.directory = fast;
  auto ids = identity::IdentityService::Open(*store_, clock_, CryptoRandom(), io);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  identity_ = std::move(ids).value();
  owner_ = boot_.principal;

  authz::RbacOptions ro;
  ro.tenant_id = boot_.tenant_id;
  auto rbac = authz::Rbac::Open(*store_, ro);
  ASSERT_TRUE(rbac.ok()) << rbac.status().ToString();
  rbac_ = std::move(rbac).value();
  audit_ = audit::AuditLog::Open(*store_, clock_);

  KeysServiceDeps deps;
  deps.store = store_.get();
  deps.clock = &clock_;
  deps.random = &CryptoRandom();
  deps.authenticator = &identity_->authenticator();
  deps.authorizer = rbac_.get();
  deps.audit = audit_.get();
  deps.backup_key = std::move(backup_key).value();
  service_ = std::make_unique<KeysService>(std::move(deps));
  service_->AddRoutes(router_);
}

VaultRecord KeysFixture::CreateVault(const std::string& name, VaultOptions o) {
  std::string guid = CryptoRandom().Uuid();
  std::string id =
      fmt::format("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
                  kSubscription, o.resource_group, name);
  json policies = o.access_policies;
  if (o.owner_policy) {
    policies.push_back(PolicyEntry(
        owner_, {"get", "list", "create", "update", "import", "delete", "recover", "backup",
                 "restore", "purge", "wrapKey", "unwrapKey", "encrypt", "decrypt", "sign", "verify",
                 "rotate", "getrotationpolicy", "setrotationpolicy"}));
  }
  json body = {{"id", id},
               {"name", name},
               {"type", "Microsoft.KeyVault/vaults"},
               {"location", o.location},
               {"properties",
                {{"tenantId", boot_.tenant_id},
                 {"sku", {{"family", "A"}, {"name", o.sku}}},
                 {"accessPolicies", policies},
                 {"enableSoftDelete", true},
                 {"softDeleteRetentionInDays", o.retention_days},
                 {"enableRbacAuthorization", o.rbac},
                 {"vaultUri", fmt::format("https://{}.vault.localhost:{}/", name, kPort)}}},
               {"internal", {{"guid", guid}}}};
  if (o.purge_protection) body["properties"]["enablePurgeProtection"] = true;
  Status s = store::RunInTransaction(*store_, [&](store::Transaction& txn) -> Status {
    store::Resource vault;
    vault.id = id;
    vault.type = kVaultType;
    vault.parent_id =
        fmt::format("/subscriptions/{}/resourceGroups/{}", kSubscription, o.resource_group);
    vault.body = body;
    BYOK_ASSIGN_OR_RETURN(auto stored, txn.Put(vault));
    (void)stored;
    store::Resource index;
    index.id = NameIndexId(name);
    index.type = kNameIndexType;
    index.body = {{"guid", guid}, {"vault_id", id}, {"deleted", false}, {"deleted_id", ""}};
    BYOK_ASSIGN_OR_RETURN(auto stored_index, txn.Put(index));
    (void)stored_index;
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto rec = RecordFromVaultBody(body);
  EXPECT_TRUE(rec.ok());
  return rec.ok() ? *rec : VaultRecord{};
}

void KeysFixture::DeleteVault(const std::string& name) {
  Status s = store::RunInTransaction(*store_, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto rec, FindVaultByName(txn, name));
    if (!rec) return Status::NotFound(name);
    BYOK_ASSIGN_OR_RETURN(auto vault, txn.Get(rec->id));
    if (!vault) return Status::NotFound(rec->id);
    BYOK_ASSIGN_OR_RETURN(auto deleted, SoftDeleteVault(txn, *vault, clock_.Now()));
    (void)deleted;
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

void KeysFixture::SetAccessPolicies(const std::string& name, const json& policies) {
  Status s = store::RunInTransaction(*store_, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto rec, FindVaultByName(txn, name));
    if (!rec) return Status::NotFound(name);
    BYOK_ASSIGN_OR_RETURN(auto vault, txn.Get(rec->id));
    vault->body["properties"]["accessPolicies"] = policies;
    BYOK_ASSIGN_OR_RETURN(auto stored, txn.Put(*vault));
    (void)stored;
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

identity::Principal KeysFixture::NewPrincipal(const std::string& display_name) {
  auto c = identity_->directory().CreateServicePrincipal(display_name);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  auto p = identity_->directory().FindByAppId(c->app_id);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : identity::Principal{};
}

std::string KeysFixture::TokenFor(const identity::Principal& p) {
  auto t = identity_->tokens().Issue(p, fmt::format("https://vault.localhost:{}", kPort),
                                     identity::AdfsIssuer(fmt::format("localhost:{}", kPort)),
                                     identity::TokenVersion::kV1);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? t->access_token : "";
}

void KeysFixture::Assign(const std::string& scope, const std::string& role_guid,
                         const identity::Principal& p) {
  json body = {
      {"properties",
       {{"roleDefinitionId", fmt::format("/subscriptions/{}/providers/Microsoft.Authorization/"
                                         "roleDefinitions/{}",
                                         kSubscription, role_guid)},
        {"principalId", p.object_id},
        {"principalType", "ServicePrincipal"}}}};
  auto r = rbac_->CreateRoleAssignment(scope, CryptoRandom().Uuid(), body, owner_.object_id);
  ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().message;
}

http::Request KeysFixture::Request(const std::string& method, const std::string& vault,
                                   const std::string& target, const std::string& body,
                                   const identity::Principal* caller, bool anonymous) {
  http::Request req;
  req.method = method;
  req.target = target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      std::string pair =
          query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      size_t eq = pair.find('=');
      if (!pair.empty()) {
        req.query.emplace_back(pair.substr(0, eq),
                               eq == std::string::npos ? "" : pair.substr(eq + 1));
      }
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
  }
  req.host = vault + ".vault.localhost";
  req.headers.Add("Host", fmt::format("{}.vault.localhost:{}", vault, kPort));
  if (!anonymous) {
    req.headers.Add("Authorization", "Bearer " + TokenFor(caller ? *caller : owner_));
  }
  if (!body.empty()) req.headers.Add("Content-Type", "application/json");
  req.body = body;
  req.request_id = fmt::format("00000000-0000-0000-0000-{:012d}", ++next_request_);
  req.remote_address = "127.0.0.1:50000";
  return req;
}

http::Response KeysFixture::Send(http::Request req) {
  http::Router::Match m = router_.Find(req.method, req.host, req.path);
  if (m.handler == nullptr) return http::Response::Empty(m.path_matched_other_method ? 405 : 404);
  req.params = m.params;
  return (*m.handler)(req);
}

http::Response KeysFixture::Call(const std::string& method, const std::string& vault,
                                 const std::string& target, const json& body,
                                 const identity::Principal* caller) {
  return Send(Request(method, vault, target, body.is_null() ? "" : body.dump(), caller));
}

json KeysFixture::CreateKey(const std::string& vault, const std::string& name, json body) {
  http::Response r =
      Call("POST", vault, fmt::format("/keys/{}/create?api-version=7.4", name), body);
  EXPECT_EQ(r.status, 200) << r.body;
  return BodyOf(r);
}

std::string KeysFixture::VersionOf(const json& bundle) {
  std::string kid = bundle.at("key").at("kid").get<std::string>();
  return kid.substr(kid.rfind('/') + 1);
}

std::vector<audit::Record> KeysFixture::AuditRecords() {
  auto r = audit_->List(audit::Query{});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<audit::Record>{};
}

json BodyOf(const http::Response& r) {
  if (r.body.empty()) return nullptr;
  return json::parse(r.body, nullptr, false);
}

std::string ErrorCode(const http::Response& r) {
  json b = BodyOf(r);
  if (!b.is_object() || !b.contains("error")) return "<no error>";
  std::string code = b["error"].value("code", "");
  if (b["error"].contains("innererror")) code += "/" + b["error"]["innererror"].value("code", "");
  return code;
}

}  // namespace byok::keyvault::test
