#include "keyvault/mgmt_test_helpers.h"

#include <stdlib.h>

#include <filesystem>

#include "common/json.h"
#include "gateway/resources_provider.h"
#include "keyvault/vaults.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::keyvault::mgmt_test {

using nlohmann::json;

Result<bool> RecordingAuthorizer::IsAllowed(std::string_view principal, std::string_view action,
                                            std::string_view scope, bool) {
  actions.emplace_back(action);
  last_scope = std::string(scope);
  return principal == "good";
}

TempStore::TempStore(const Clock& clock) {
  char tmpl[] = "/tmp/byok-kvmgmt-XXXXXX";
  dir_ = mkdtemp(tmpl);
  store::RootKeyOptions rk;
  rk.data_dir = dir_;
  rk.getenv = [](const char*) { return std::optional<std::string>(); };
  store::SqliteOptions so;
  so.data_dir = dir_;
  store_ = std::move(store::OpenSqliteStore(so, clock, std::move(*store::LoadOrCreateRootKey(rk))))
               .value();
}

TempStore::~TempStore() {
  store_.reset();
  std::filesystem::remove_all(dir_);
}

void MgmtTest::SetUp() {
  store_ = std::make_unique<TempStore>(clock_);
  ASSERT_TRUE(gateway::EnsureSubscription(**store_, kSub, kTenant, "sub").ok());

  gateway::Frontend::Deps d;
  d.store = store_->get();
  d.authorizer = &authz_;
  d.clock = &clock_;
  d.authenticate =
      [](const http::Request& req) -> std::variant<identity::Principal, http::Response> {
    auto h = req.headers.Get("authorization");
    if (!h) return http::Response::Error(ApiError{401, "AuthenticationFailed", "missing"});
    identity::Principal p;
    p.object_id = h->substr(7);  // "Bearer <oid>"
    p.app_id = "app-" + p.object_id;
    p.tenant_id = kTenant;
    return p;
  };
  fe_ = std::make_unique<gateway::Frontend>(d);
  ops_ = std::make_unique<gateway::Operations>(clock_, random_);
  ops_->Register(*fe_);
  gateway::ResourcesDeps rd;
  rd.store = store_->get();
  rd.clock = &clock_;
  rd.operations = ops_.get();
  rd.frontend = fe_.get();
  rd.authenticate = d.authenticate;
  rd.tenant_id = [] { return std::string(kTenant); };
  resources_ = gateway::RegisterResourcesProvider(rd, router_);

  VaultsDeps vd;
  vd.store = store_->get();
  vd.clock = &clock_;
  vd.random = &random_;
  vd.operations = ops_.get();
  vd.vault_dns_suffix = [] { return std::string(".vault.localhost:8443"); };
  RegisterVaultsProvider(*fe_, vd);
}

void MgmtTest::TearDown() {
  ops_.reset();  // waits for running operations
  fe_.reset();
  resources_.reset();
  store_.reset();
}

http::Response MgmtTest::Call(const std::string& method, const std::string& path,
                              const std::string& api_version, const json& body,
                              const std::string& who,
                              const std::vector<std::pair<std::string, std::string>>& query) {
  http::Request req;
  req.method = method;
  req.path = path;
  req.target = path + "?api-version=" + api_version;
  if (!api_version.empty()) req.query.push_back({"api-version", api_version});
  for (const auto& q : query) req.query.push_back(q);
  if (!who.empty()) req.headers.Set("Authorization", "Bearer " + who);
  req.headers.Set("Host", "localhost:8443");
  if (!body.is_null()) req.body = body.dump();
  req.request_id = "rid";
  return fe_->Handle(req);
}

std::string MgmtTest::Code(const http::Response& r) {
  auto j = ParseJsonBody(r.body);
  return j.ok() ? j->value("error", json::object()).value("code", "") : "";
}

json MgmtTest::Body(const http::Response& r) {
  auto j = ParseJsonBody(r.body);
  return j.ok() ? *j : json();
}

std::string MgmtTest::RgPath(const std::string& rg) const {
  return std::string("/subscriptions/") + kSub + "/resourceGroups/" + rg;
}

std::string MgmtTest::VaultPath(const std::string& rg, const std::string& name) const {
  return RgPath(rg) + "/providers/Microsoft.KeyVault/vaults/" + name;
}

void MgmtTest::CreateGroup(const std::string& rg) {
  auto r = Call("PUT", RgPath(rg), "2021-04-01", {{"location", "eastus"}});
  ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
}

json MgmtTest::VaultBody(const json& extra, const std::string& location) {
  json props = {
      {"tenantId", kTenant},
      {"sku", {{"family", "A"}, {"name", "standard"}}},
      {"accessPolicies", json::array({{{"tenantId", kTenant},
                                       {"objectId", kOid},
                                       {"permissions", {{"keys", json::array({"all"})}}}}})}};
  for (const auto& [k, v] : extra.items()) props[k] = v;
  return {{"location", location}, {"properties", props}};
}

json MgmtTest::CreateVault(const std::string& rg, const std::string& name, const json& extra,
                           const std::string& api_version) {
  auto r = Call("PUT", VaultPath(rg, name), api_version, VaultBody(extra));
  EXPECT_EQ(r.status, 200) << r.body;
  return Body(r);
}

}  // namespace byok::keyvault::mgmt_test
