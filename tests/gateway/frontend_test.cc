#include "gateway/frontend.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/json.h"
#include "gateway/operations.h"
#include "gateway/resources_provider.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::gateway {
namespace {

using nlohmann::json;

constexpr char kSub[] = "00000000-0000-0000-0000-00000000000a";
constexpr char kTenant[] = "00000000-0000-0000-0000-00000000000b";

// Allows exactly the (action, scope) pairs it is told about, for principal "good".
class FakeAuthorizer : public authz::Authorizer {
 public:
  Result<bool> IsAllowed(std::string_view principal, std::string_view action,
                         std::string_view scope, bool) override {
    last_action = std::string(action);
    last_scope = std::string(scope);
    return principal == "good";
  }
  std::string last_action, last_scope;
};

class FrontendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/byok-gw-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store::RootKeyOptions rk;
    rk.data_dir = dir_;
    rk.getenv = [](const char*) { return std::optional<std::string>(); };
    store::SqliteOptions so;
    so.data_dir = dir_;
    store_ =
        std::move(store::OpenSqliteStore(so, clock_, std::move(*store::LoadOrCreateRootKey(rk))))
            .value();
    ASSERT_TRUE(EnsureSubscription(*store_, kSub, kTenant, "sub").ok());

    Frontend::Deps d;
    d.store = store_.get();
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
    fe_ = std::make_unique<Frontend>(d);
    ops_ = std::make_unique<Operations>(clock_, random_);
    ops_->Register(*fe_);
    ResourcesDeps rd;
    rd.store = store_.get();
    rd.clock = &clock_;
    rd.operations = ops_.get();
    rd.frontend = fe_.get();
    rd.authenticate = d.authenticate;
    rd.tenant_id = [] { return std::string(kTenant); };
    keep_ = RegisterResourcesProvider(rd, router_);
  }
  void TearDown() override {
    ops_.reset();
    std::filesystem::remove_all(dir_);
  }

  http::Response Call(std::string method, std::string target, std::string who = "good",
                      std::string body = "") {
    http::Request req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string qs = target.substr(q + 1);
      size_t eq = qs.find('=');
      req.query.push_back({qs.substr(0, eq), qs.substr(eq + 1)});
    }
    if (!who.empty()) req.headers.Set("Authorization", "Bearer " + who);
    req.headers.Set("Host", "localhost:8443");
    req.body = body;
    req.request_id = "rid";
    return fe_->Handle(req);
  }
  static std::string Code(const http::Response& r) {
    auto j = ParseJsonBody(r.body);
    return j.ok() ? j->value("error", json::object()).value("code", "") : "";
  }

  std::string dir_;
  ManualClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  SeededRandom random_{7};
  std::unique_ptr<store::Store> store_;
  FakeAuthorizer authz_;
  std::unique_ptr<Frontend> fe_;
  std::unique_ptr<Operations> ops_;
  http::Router router_;
  std::shared_ptr<void> keep_;
};

TEST_F(FrontendTest, PipelineOrder) {
  std::string rg = std::string("/subscriptions/") + kSub + "/resourcegroups/rg1";
  EXPECT_EQ(Call("PUT", rg, "").status, 401);                      // authenticate first
  EXPECT_EQ(Code(Call("PUT", rg)), "MissingApiVersionParameter");  // then api-version
  auto bad = Call("PUT", rg + "?api-version=1999-01-01");
  EXPECT_EQ(Code(bad), "InvalidApiVersionParameter");
  EXPECT_NE(bad.body.find("2021-04-01"), std::string::npos);
  EXPECT_EQ(Code(Call("PUT", rg + "?api-version=2021-04-01", "good", "{not json")),
            "InvalidRequestContent");
  EXPECT_EQ(Code(Call("PUT", rg + "?api-version=2021-04-01", "evil", R"({"location":"eastus"})")),
            "AuthorizationFailed");
  EXPECT_EQ(authz_.last_action, "Microsoft.Resources/subscriptions/resourceGroups/write");
  EXPECT_EQ(Code(Call("PUT",
                      "/subscriptions/00000000-0000-0000-0000-0000000000ff/resourcegroups/x"
                      "?api-version=2021-04-01",
                      "good", R"({"location":"eastus"})")),
            "SubscriptionNotFound");
  EXPECT_EQ(Code(Call("GET", rg + "/providers/Microsoft.Nope/things/t?api-version=2021-04-01")),
            "InvalidResourceNamespace");
}

TEST_F(FrontendTest, AnswersNameTheAuthenticatedCallerForTheAccessLog) {
  std::string rg = std::string("/subscriptions/") + kSub + "/resourcegroups/rg1";
  EXPECT_EQ(Call("PUT", rg, "").log_principal, "");          // not authenticated: nobody to name
  EXPECT_EQ(Call("PUT", rg, "good").log_principal, "good");  // refused, but authenticated
  auto made = Call("PUT", rg + "?api-version=2021-04-01", "good", R"({"location":"eastus"})");
  EXPECT_LT(made.status, 300);
  EXPECT_EQ(made.log_principal, "good");
  EXPECT_EQ(made.headers.Get("oid"), std::nullopt);
  EXPECT_EQ(made.body.find("log_principal"), std::string::npos);
}

TEST_F(FrontendTest, ResourceGroupLifecycle) {
  std::string rg = std::string("/subscriptions/") + kSub + "/resourceGroups/MyRG";
  std::string v = "?api-version=2021-04-01";
  EXPECT_EQ(Code(Call("PUT", rg + v, "good", R"({})")), "LocationRequired");
  EXPECT_EQ(Code(Call("PUT", rg + v, "good", R"({"location":"moon"})")),
            "LocationNotAvailableForResourceGroup");
  auto created = Call("PUT", rg + v, "good", R"({"location":"East US","tags":{"a":"b"}})");
  EXPECT_EQ(created.status, 201) << created.body;
  auto j = *ParseJsonBody(created.body);
  EXPECT_EQ(j["location"], "eastus");
  EXPECT_EQ(j["name"], "MyRG");
  EXPECT_EQ(j["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(Call("PUT", rg + v, "good", R"({"location":"eastus"})").status, 200);
  EXPECT_EQ(Code(Call("PUT", rg + v, "good", R"({"location":"westus"})")),
            "InvalidResourceGroupLocation");
  EXPECT_EQ(Call("GET", std::string("/subscriptions/") + kSub + "/resourcegroups/myrg" + v).status,
            200);
  EXPECT_EQ(Call("HEAD", rg + v).status, 204);
  auto patched = Call("PATCH", rg + v, "good", R"({"tags":{"x":"y"}})");
  EXPECT_EQ((*ParseJsonBody(patched.body))["tags"], json({{"x", "y"}}));
  auto list = Call("GET", std::string("/subscriptions/") + kSub + "/resourcegroups" + v);
  EXPECT_EQ((*ParseJsonBody(list.body))["value"].size(), 1u);

  auto del = Call("DELETE", rg + v);
  EXPECT_EQ(del.status, 202);
  ASSERT_TRUE(del.headers.Has("Azure-AsyncOperation"));
  EXPECT_EQ(del.headers.Get("Retry-After"), "1");
  ops_->Drain();
  std::string loc = *del.headers.Get("Location");
  std::string path = loc.substr(loc.find("/subscriptions"));
  EXPECT_EQ(Call("GET", path).status, 204);
  std::string st = *del.headers.Get("Azure-AsyncOperation");
  auto status = Call("GET", st.substr(st.find("/subscriptions")));
  EXPECT_EQ((*ParseJsonBody(status.body))["status"], "Succeeded") << status.body;
  EXPECT_EQ(Call("HEAD", rg + v).status, 404);
  EXPECT_EQ(Code(Call("GET", rg + v)), "ResourceGroupNotFound");
}

TEST_F(FrontendTest, CascadeDeleteFailsClosed) {
  // A type whose resources refuse to be released (e.g. a vault that cannot be soft-deleted).
  ResourceTypeSpec spec;
  spec.type = "Microsoft.Test/things";
  spec.api_versions = {"*"};
  spec.on_cascade_delete = [](store::Transaction&, const store::Resource&) {
    return Status::Internal("cannot release");
  };
  fe_->Register(std::move(spec));
  std::string rg = std::string("/subscriptions/") + kSub + "/resourceGroups/keep";
  std::string v = "?api-version=2021-04-01";
  ASSERT_EQ(Call("PUT", rg + v, "good", R"({"location":"eastus"})").status, 201);
  std::string thing = rg + "/providers/Microsoft.Test/things/t1";
  ASSERT_TRUE(store::RunInTransaction(*store_, [&](store::Transaction& txn) {
                store::Resource r;
                r.id = thing;
                r.type = "Microsoft.Test/things";
                r.parent_id = rg;
                r.body = json::object();
                return txn.Put(std::move(r)).status();
              }).ok());

  auto del = Call("DELETE", rg + v);
  ASSERT_EQ(del.status, 202);
  ops_->Drain();
  std::string st = *del.headers.Get("Azure-AsyncOperation");
  auto status = Call("GET", st.substr(st.find("/subscriptions")));
  EXPECT_EQ((*ParseJsonBody(status.body))["status"], "Failed") << status.body;
  // Nothing was deleted: the group and the resource are still there.
  EXPECT_EQ(Call("HEAD", rg + v).status, 204);
  auto txn = std::move(store_->BeginRead()).value();
  EXPECT_TRUE(txn->Get(thing)->has_value());
}

TEST_F(FrontendTest, ResourceGroupNames) {
  std::string v = "?api-version=2021-04-01";
  std::string base = std::string("/subscriptions/") + kSub + "/resourceGroups/";
  EXPECT_EQ(Code(Call("PUT", base + "bad!name" + v, "good", R"({"location":"eastus"})")),
            "InvalidResourceGroupName");
  EXPECT_EQ(Code(Call("PUT", base + "ends." + v, "good", R"({"location":"eastus"})")),
            "InvalidResourceGroupName");
  EXPECT_EQ(Code(Call("PUT", base + std::string(91, 'a') + v, "good", R"({"location":"eastus"})")),
            "InvalidResourceGroupName");
}

TEST_F(FrontendTest, LocationsAndResources) {
  auto locs =
      Call("GET", std::string("/subscriptions/") + kSub + "/locations?api-version=2022-12-01");
  auto j = *ParseJsonBody(locs.body);
  bool eastus = false;
  for (const auto& l : j["value"]) eastus |= l["name"] == "eastus";
  EXPECT_TRUE(eastus);
  auto res =
      Call("GET", std::string("/subscriptions/") + kSub + "/resources?api-version=2021-04-01");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(Call("GET", "/subscriptions?api-version=2020-01-01", "nobody").status, 200);
}

}  // namespace
}  // namespace byok::gateway
