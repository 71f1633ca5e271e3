// The Microsoft Graph subset, through the registered route handlers.
#include <gtest/gtest.h>

#include "identity/identity_test_helpers.h"
#include "identity/internal/graph_filter.h"
#include "identity/internal/util.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;
using test::MakeRequest;

constexpr char kDesId[] =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/"
    "Microsoft.Compute/diskEncryptionSets/des1";

class GraphRoutesTest : public test::IdentityFixture {
 protected:
  void SetUp() override {
    IdentityFixture::SetUp();
    caller_ = NewServicePrincipal("caller");
    other_ = NewServicePrincipal("Other App");
    auto mi = service_->directory().CreateManagedIdentity(kDesId);
    ASSERT_TRUE(mi.ok());
    mi_ = *mi;
    token_ = TokenFor(PrincipalOf(caller_), "https://localhost:8443/graph/");
  }

  // GET/POST with the caller's Graph token; target is the raw request-target.
  http::Response Graph(std::string method, std::string target, std::string body = "") {
    return Call(MakeRequest(std::move(method), std::move(target), "localhost:8443", std::move(body),
                            {{"Authorization", "Bearer " + token_}}));
  }
  // The ids in a {"value":[...]} response.
  std::vector<std::string> Ids(const http::Response& r) {
    std::vector<std::string> out;
    EXPECT_EQ(r.status, 200) << r.body;
    json body = json::parse(r.body);
    for (const auto& v : body["value"]) out.push_back(v["id"]);
    return out;
  }
  static std::string Filter(std::string_view filter) {
    return "/graph/v1.0/servicePrincipals?%24filter=" +
           test::FormBody({{"x", std::string(filter)}}).substr(2);
  }

  ServicePrincipalCredentials caller_;
  ServicePrincipalCredentials other_;
  Principal mi_;
  std::string token_;
};

TEST_F(GraphRoutesTest, MeWithAppOnlyTokenIsBadRequest) {
  http::Response r = Graph("GET", "/graph/v1.0/me");
  EXPECT_EQ(r.status, 400);
  json body = json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "BadRequest");
  EXPECT_EQ(body["error"]["message"],
            "/me request is only valid with delegated authentication flow.");
  EXPECT_TRUE(body["error"]["innerError"].contains("request-id"));
}

TEST_F(GraphRoutesTest, NeedsAGraphToken) {
  http::Response none = Call(MakeRequest("GET", "/graph/v1.0/me", "localhost:8443"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body)["error"]["code"], "InvalidAuthenticationToken");
  EXPECT_TRUE(none.headers.Has("WWW-Authenticate"));
  token_ = TokenFor(PrincipalOf(caller_), "https://management.azure.com");
  http::Response arm = Graph("GET", "/graph/v1.0/servicePrincipals");
  EXPECT_EQ(arm.status, 401);
  EXPECT_EQ(json::parse(arm.body)["error"]["message"],
            "Access token validation failure. Invalid audience.");
}

TEST_F(GraphRoutesTest, FilterByServicePrincipalNames) {
  // What `az keyvault create` / `az role assignment create --assignee <appId>` send.
  http::Response r =
      Graph("GET", Filter("servicePrincipalNames/any(c:c eq '" + caller_.app_id + "')"));
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["@odata.context"],
            "https://localhost:8443/graph/v1.0/$metadata#servicePrincipals");
  ASSERT_EQ(body["value"].size(), 1u);
  const json& sp = body["value"][0];
  EXPECT_EQ(sp["id"], caller_.object_id);
  EXPECT_EQ(sp["appId"], caller_.app_id);
  EXPECT_EQ(sp["displayName"], "caller");
  EXPECT_EQ(sp["servicePrincipalNames"], json::array({caller_.app_id}));
  EXPECT_EQ(sp["servicePrincipalType"], "Application");
  EXPECT_EQ(sp["appOwnerOrganizationId"], service_->tenant_id());
  EXPECT_EQ(sp["passwordCredentials"].size(), 1u);
  EXPECT_TRUE(sp["passwordCredentials"][0]["secretText"].is_null());
  EXPECT_EQ(r.body.find(caller_.password), std::string::npos);

  // By object id, upper-case, with spaces and another lambda variable.
  std::string upper = other_.object_id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Ids(Graph("GET", Filter("servicePrincipalNames/any( x : x eq '" + upper + "' )"))),
            std::vector<std::string>{other_.object_id});
  // No match.
  EXPECT_TRUE(
      Ids(Graph("GET", Filter("servicePrincipalNames/any(c:c eq '" + CryptoRandom().Uuid() + "')")))
          .empty());
}

TEST_F(GraphRoutesTest, QuotedGuidFromTheSeedWalkthrough) {
  // aksIdentity=$(az aks show ... --query identity.principalId) keeps the JSON quotes.
  std::string quoted = "\"" + mi_.object_id + "\"";
  http::Response r = Graph("GET", Filter("servicePrincipalNames/any(c:c eq '" + quoted + "')"));
  ASSERT_EQ(r.status, 200) << r.body;
  json value = json::parse(r.body)["value"];
  ASSERT_EQ(value.size(), 1u);
  EXPECT_EQ(value[0]["id"], mi_.object_id);
  EXPECT_EQ(value[0]["servicePrincipalType"], "ManagedIdentity");
  EXPECT_EQ(value[0]["displayName"], "des1");
  EXPECT_EQ(value[0]["alternativeNames"], json::array({"isExplicit=False", kDesId}));
  EXPECT_EQ(Ids(Graph("GET", Filter("id eq '" + quoted + "'"))),
            std::vector<std::string>{mi_.object_id});
}

TEST_F(GraphRoutesTest, OtherFilters) {
  EXPECT_EQ(Ids(Graph("GET", Filter("id eq '" + other_.object_id + "'"))),
            std::vector<std::string>{other_.object_id});
  EXPECT_EQ(Ids(Graph("GET", Filter("appId eq '" + other_.app_id + "'"))),
            std::vector<std::string>{other_.object_id});
  EXPECT_EQ(Ids(Graph("GET", Filter("displayName eq 'other app'"))),
            std::vector<std::string>{other_.object_id});
  EXPECT_EQ(Ids(Graph("GET", Filter("startswith(displayName,'Oth')"))),
            std::vector<std::string>{other_.object_id});
  EXPECT_EQ(Ids(Graph("GET", Filter("servicePrincipalType eq 'ManagedIdentity'"))),
            std::vector<std::string>{mi_.object_id});
  // No filter: everyone (bootstrap principal, caller, other, managed identity).
  EXPECT_EQ(Ids(Graph("GET", "/graph/v1.0/servicePrincipals")).size(), 4u);

  http::Response bad = Graph("GET", Filter("id eq "));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["code"], "BadRequest");
  http::Response unsupported = Graph("GET", Filter("homepage eq 'x'"));
  EXPECT_EQ(unsupported.status, 400);
  EXPECT_EQ(json::parse(unsupported.body)["error"]["code"], "Request_UnsupportedQuery");
}

TEST_F(GraphRoutesTest, GetById) {
  http::Response r = Graph("GET", "/graph/v1.0/servicePrincipals/" + other_.object_id);
  ASSERT_EQ(r.status, 200);
  json sp = json::parse(r.body);
  EXPECT_EQ(sp["id"], other_.object_id);
  EXPECT_EQ(sp["@odata.context"],
            "https://localhost:8443/graph/v1.0/$metadata#servicePrincipals/$entity");
  http::Response missing = Graph("GET", "/graph/v1.0/servicePrincipals/" + CryptoRandom().Uuid());
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["error"]["code"], "Request_ResourceNotFound");
}

TEST_F(GraphRoutesTest, GetByIds) {
  // What `az role assignment create --assignee <objectId>` posts.
  json req = {{"ids", {other_.object_id, CryptoRandom().Uuid(), mi_.object_id}},
              {"types", {"user", "group", "servicePrincipal", "directoryObjectPartnerReference"}}};
  http::Response r = Graph("POST", "/graph/v1.0/directoryObjects/getByIds", req.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["@odata.context"], "https://localhost:8443/graph/v1.0/$metadata#directoryObjects");
  ASSERT_EQ(body["value"].size(), 2u);
  EXPECT_EQ(body["value"][0]["@odata.type"], "#microsoft.graph.servicePrincipal");
  EXPECT_EQ(body["value"][0]["id"], other_.object_id);
  EXPECT_EQ(body["value"][0]["appId"], other_.app_id);
  EXPECT_EQ(body["value"][1]["id"], mi_.object_id);

  json users_only = {{"ids", {other_.object_id}}, {"types", {"user"}}};
  EXPECT_TRUE(
      Ids(Graph("POST", "/graph/v1.0/directoryObjects/getByIds", users_only.dump())).empty());
  json no_types = {{"ids", {other_.object_id}}};
  EXPECT_EQ(Ids(Graph("POST", "/graph/v1.0/directoryObjects/getByIds", no_types.dump())).size(),
            1u);

  for (const std::string& bad :
       {std::string("not json"), std::string("[]"), json({{"ids", "x"}}).dump(),
        json({{"ids", {1}}}).dump(), json({{"types", {"user"}}}).dump()}) {
    http::Response e = Graph("POST", "/graph/v1.0/directoryObjects/getByIds", bad);
    EXPECT_EQ(e.status, 400) << bad;
  }
}

TEST(GraphFilterTest, Parsing) {
  using internal::GraphFilter;
  using internal::ParseGraphFilter;
  auto ok = [](std::string_view text) {
    auto f = ParseGraphFilter(text);
    EXPECT_TRUE(f.ok()) << text << ": " << (f.ok() ? "" : f.error().message);
    return f.ok() ? *f : GraphFilter{};
  };
  EXPECT_EQ(ok("").kind, GraphFilter::Kind::kAll);
  GraphFilter spn = ok("servicePrincipalNames/any(c:c eq 'it''s')");
  EXPECT_EQ(spn.kind, GraphFilter::Kind::kServicePrincipalNamesAny);
  EXPECT_EQ(spn.value, "it's");
  EXPECT_EQ(ok("SERVICEPRINCIPALNAMES/ANY(c:c EQ '\"v\"')").value, "v");
  EXPECT_EQ(ok("appId eq 'a'").property, "appid");
  EXPECT_EQ(ok("  startswith( displayName , 'ab' )  ").kind, GraphFilter::Kind::kStartsWith);

  for (std::string_view bad :
       {"servicePrincipalNames/any(c:d eq 'x')", "servicePrincipalNames/any(c:c eq 'x'",
        "id eq 'unterminated", "id eq 'x' and appId eq 'y'", "id ne 'x'", "'x'", "id eq x",
        "startswith(displayName,'x'", "servicePrincipalNames/all(c:c eq 'x')"}) {
    auto f = ParseGraphFilter(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.error().code, "BadRequest") << bad;
  }
  for (std::string_view unsupported : {"mail eq 'x'", "startswith(appId,'x')"}) {
    auto f = ParseGraphFilter(unsupported);
    ASSERT_FALSE(f.ok()) << unsupported;
    EXPECT_EQ(f.error().code, "Request_UnsupportedQuery") << unsupported;
  }
}

}  // namespace
}  // namespace byok::identity
