// The token endpoints, OpenID configuration and JWKS, through the registered route handlers.
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "crypto/jwk.h"
#include "identity/identity_test_helpers.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;
using test::FormBody;
using test::JwtClaims;
using test::MakeRequest;

class TokenRoutesTest : public test::IdentityFixture {
 protected:
  void SetUp() override {
    IdentityFixture::SetUp();
    creds_ = NewServicePrincipal("cli");
  }

  http::Response PostToken(const std::string& path,
                           std::vector<std::pair<std::string, std::string>> fields,
                           std::string host = "localhost:8443",
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return Call(MakeRequest("POST", path, std::move(host), FormBody(fields), std::move(headers)));
  }
  std::vector<std::pair<std::string, std::string>> ClientCredentials(std::string scope) {
    return {{"grant_type", "client_credentials"},
            {"client_id", creds_.app_id},
            {"client_secret", creds_.password},
            {"scope", std::move(scope)}};
  }
  // Expects an Entra error body and returns it.
  json ExpectEntraError(const http::Response& r, int status, const std::string& error,
                        int64_t code) {
    EXPECT_EQ(r.status, status) << r.body;
    json body = json::parse(r.body);
    EXPECT_EQ(body["error"], error) << r.body;
    EXPECT_EQ(body["error_codes"], json::array({code})) << r.body;
    EXPECT_TRUE(body["error_description"].get<std::string>().starts_with(
        "AADSTS" + std::to_string(code) + ": "))
        << r.body;
    EXPECT_EQ(body["trace_id"], "11111111-2222-3333-4444-555555555555");
    EXPECT_EQ(body["timestamp"], "2024-01-02 03:04:05Z");
    EXPECT_TRUE(body.contains("correlation_id"));
    return body;
  }

  ServicePrincipalCredentials creds_;
};

TEST_F(TokenRoutesTest, AdfsOpenIdConfigurationFollowsTheHost) {
  http::Response r =
      Call(MakeRequest("GET", "/adfs/.well-known/openid-configuration", "localhost:8443"));
  ASSERT_EQ(r.status, 200);
  json doc = json::parse(r.body);
  EXPECT_EQ(doc["issuer"], "https://localhost:8443/adfs");
  EXPECT_EQ(doc["authorization_endpoint"], "https://localhost:8443/adfs/oauth2/authorize");
  EXPECT_EQ(doc["token_endpoint"], "https://localhost:8443/adfs/oauth2/token");
  EXPECT_EQ(doc["jwks_uri"], "https://localhost:8443/adfs/discovery/keys");
  EXPECT_EQ(doc["access_token_issuer"], "https://localhost:8443/adfs");
  for (const char* field :
       {"response_types_supported", "subject_types_supported",
        "id_token_signing_alg_values_supported", "token_endpoint_auth_methods_supported",
        "grant_types_supported", "scopes_supported"}) {
    EXPECT_TRUE(doc[field].is_array() && !doc[field].empty()) << field;
  }
  EXPECT_EQ(doc["id_token_signing_alg_values_supported"], json::array({"RS256"}));

  json other = json::parse(
      Call(MakeRequest("GET", "/adfs/.well-known/openid-configuration", "127.0.0.1:8443")).body);
  EXPECT_EQ(other["issuer"], "https://127.0.0.1:8443/adfs");
  EXPECT_EQ(other["token_endpoint"], "https://127.0.0.1:8443/adfs/oauth2/token");
}

TEST_F(TokenRoutesTest, V2OpenIdConfiguration) {
  const std::string tid = service_->tenant_id();
  for (const std::string& tenant : {tid, std::string("organizations"), std::string("common")}) {
    http::Response r = Call(MakeRequest(
        "GET", "/" + tenant + "/v2.0/.well-known/openid-configuration", "127.0.0.1:8443"));
    ASSERT_EQ(r.status, 200) << tenant;
    json doc = json::parse(r.body);
    EXPECT_EQ(doc["issuer"], "https://127.0.0.1:8443/" + tid + "/v2.0");
    EXPECT_EQ(doc["token_endpoint"], "https://127.0.0.1:8443/" + tid + "/oauth2/v2.0/token");
    EXPECT_EQ(doc["jwks_uri"], "https://127.0.0.1:8443/" + tid + "/discovery/v2.0/keys");
  }
  // v1 and "adfs" as the tenant segment.
  json v1 = json::parse(
      Call(MakeRequest("GET", "/" + tid + "/.well-known/openid-configuration", "localhost:8443"))
          .body);
  EXPECT_EQ(v1["issuer"], "https://localhost:8443/" + tid + "/");
  json adfs = json::parse(
      Call(MakeRequest("GET", "/adfs/v2.0/.well-known/openid-configuration", "localhost:8443"))
          .body);
  EXPECT_EQ(adfs["issuer"], "https://localhost:8443/adfs");

  http::Response unknown = Call(
      MakeRequest("GET", "/" + CryptoRandom().Uuid() + "/v2.0/.well-known/openid-configuration",
                  "localhost:8443"));
  ExpectEntraError(unknown, 400, "invalid_request", 90002);
}

TEST_F(TokenRoutesTest, JwksMatchesTheSigningKey) {
  for (const std::string& path :
       {std::string("/adfs/discovery/keys"), "/" + service_->tenant_id() + "/discovery/v2.0/keys",
        std::string("/organizations/discovery/keys")}) {
    http::Response r = Call(MakeRequest("GET", path, "localhost:8443"));
    ASSERT_EQ(r.status, 200) << path;
    json jwks = json::parse(r.body);
    ASSERT_EQ(jwks["keys"].size(), 1u);
    EXPECT_EQ(jwks["keys"][0]["kid"], service_->signing_key().kid());
    ASSERT_OK_AND_ASSIGN(crypto::PublicKey pub, crypto::PublicKeyFromJwk(jwks["keys"][0]));
    EXPECT_TRUE(pub.Equals(service_->signing_key().public_key()));
  }
}

TEST_F(TokenRoutesTest, AzureCliLoginScopeWithDoubleSlashAndClaims) {
  auto fields = ClientCredentials(
      "https://management.core.windows.net//.default offline_access "
      "openid profile");
  fields.emplace_back("claims", R"({"access_token":{"xms_cc":{"values":["cp1"]}}})");
  fields.emplace_back("client_info", "1");
  http::Response r =
      PostToken("/adfs/oauth2/token", fields, "localhost:8443", {{"client-request-id", "req-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3599);
  EXPECT_EQ(body["ext_expires_in"], 3599);
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store, no-cache");
  EXPECT_EQ(r.headers.Get("client-request-id"), "req-1");
  std::string token = body["access_token"];
  json claims = JwtClaims(token);
  EXPECT_EQ(claims["aud"], "https://management.core.windows.net/");
  EXPECT_EQ(claims["iss"], "https://localhost:8443/adfs");
  EXPECT_EQ(claims["ver"], "1.0");
  EXPECT_EQ(claims["appid"], creds_.app_id);
  EXPECT_EQ(claims["appidacr"], "1");
  EXPECT_EQ(claims["oid"], creds_.object_id);
  EXPECT_EQ(claims["sub"], creds_.object_id);
  EXPECT_EQ(claims["tid"], service_->tenant_id());
  EXPECT_EQ(claims["idtyp"], "app");
  EXPECT_EQ(claims["iat"], test::TestEpochUnix());
  EXPECT_EQ(claims["nbf"], test::TestEpochUnix());
  EXPECT_EQ(claims["exp"], test::TestEpochUnix() + 3600);

  // And ARM accepts it.
  http::Request arm = MakeRequest("GET", "/subscriptions", "localhost:8443", "",
                                  {{"Authorization", "Bearer " + token}});
  auto p = service_->authenticator().Authenticate(arm, Audience::kArm);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->object_id, creds_.object_id);
}

TEST_F(TokenRoutesTest, IssuerFollowsTheHostTheClientUsed) {
  http::Response a =
      PostToken("/adfs/oauth2/token", ClientCredentials("https://management.azure.com/.default"),
                "127.0.0.1:8443");
  ASSERT_EQ(a.status, 200) << a.body;
  json claims = JwtClaims(json::parse(a.body)["access_token"]);
  EXPECT_EQ(claims["iss"], "https://127.0.0.1:8443/adfs");
  EXPECT_EQ(claims["aud"], "https://management.azure.com");

  http::Response v2 =
      PostToken("/" + service_->tenant_id() + "/oauth2/v2.0/token",
                ClientCredentials("https://localhost:8443/.default"), "LOCALHOST:8443");
  ASSERT_EQ(v2.status, 200) << v2.body;
  json c2 = JwtClaims(json::parse(v2.body)["access_token"]);
  EXPECT_EQ(c2["iss"], "https://localhost:8443/" + service_->tenant_id() + "/v2.0");
  EXPECT_EQ(c2["aud"], "https://localhost:8443");
  EXPECT_EQ(c2["ver"], "2.0");
  EXPECT_EQ(c2["azp"], creds_.app_id);
  EXPECT_FALSE(json::parse(v2.body).contains("resource"));
}

TEST_F(TokenRoutesTest, V1ResourceField) {
  http::Response r = PostToken("/" + service_->tenant_id() + "/oauth2/token",
                               {{"grant_type", "client_credentials"},
                                {"client_id", creds_.app_id},
                                {"client_secret", creds_.password},
                                {"resource", "https://vault.localhost:8443"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["resource"], "https://vault.localhost:8443");
  EXPECT_EQ(body["expires_on"], std::to_string(test::TestEpochUnix() + 3600));
  EXPECT_EQ(body["not_before"], std::to_string(test::TestEpochUnix()));
  json claims = JwtClaims(body["access_token"]);
  EXPECT_EQ(claims["aud"], "https://vault.localhost:8443");
  EXPECT_EQ(claims["iss"], "https://localhost:8443/" + service_->tenant_id() + "/");
  http::Request kv =
      MakeRequest("GET", "/keys", "v.vault.localhost:8443", "",
                  {{"Authorization", "Bearer " + body["access_token"].get<std::string>()}});
  EXPECT_TRUE(service_->authenticator().Authenticate(kv, Audience::kKeyVault).ok());
}

TEST_F(TokenRoutesTest, GraphResourceAsGuidScope) {
  http::Response r = PostToken("/organizations/oauth2/v2.0/token",
                               ClientCredentials("00000003-0000-0000-c000-000000000000/.default"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JwtClaims(json::parse(r.body)["access_token"])["aud"],
            "00000003-0000-0000-c000-000000000000");
}

TEST_F(TokenRoutesTest, HttpBasicClientAuthentication) {
  std::string basic = Base64Encode(AsBytes(creds_.app_id + ":" + creds_.password));
  http::Response r = PostToken(
      "/adfs/oauth2/token",
      {{"grant_type", "client_credentials"}, {"scope", "https://management.azure.com/.default"}},
      "localhost:8443", {{"Authorization", "Basic " + basic}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(TokenRoutesTest, BadSecretIsInvalidClient401) {
  auto fields = ClientCredentials("https://management.azure.com/.default");
  fields[2].second = "wrong-secret";
  http::Response r =
      PostToken("/adfs/oauth2/token", fields, "localhost:8443", {{"client-request-id", "corr-9"}});
  json body = ExpectEntraError(r, 401, "invalid_client", 7000215);
  std::string description = body["error_description"];
  EXPECT_NE(description.find("Invalid client secret provided."), std::string::npos);
  EXPECT_NE(description.find("'" + creds_.app_id + "'"), std::string::npos);
  EXPECT_NE(description.find("\r\nTrace ID: "), std::string::npos);
  EXPECT_EQ(body["correlation_id"], "corr-9");
  EXPECT_EQ(body.dump().find("wrong-secret"), std::string::npos);
}

TEST_F(TokenRoutesTest, ErrorCases) {
  auto with = [&](std::function<void(std::vector<std::pair<std::string, std::string>>&)> edit) {
    auto fields = ClientCredentials("https://management.azure.com/.default");
    edit(fields);
    return PostToken("/adfs/oauth2/token", fields);
  };
  auto erase = [](std::vector<std::pair<std::string, std::string>>& f, const std::string& name) {
    std::erase_if(f, [&](const auto& p) { return p.first == name; });
  };

  ExpectEntraError(with([&](auto& f) { f[1].second = CryptoRandom().Uuid(); }), 400,
                   "unauthorized_client", 700016);
  ExpectEntraError(with([&](auto& f) { f[1].second = "not-a-guid"; }), 400, "unauthorized_client",
                   700016);
  ExpectEntraError(with([&](auto& f) { f[0].second = "password"; }), 400, "unsupported_grant_type",
                   70003);
  ExpectEntraError(with([&](auto& f) { erase(f, "grant_type"); }), 400, "invalid_request", 900144);
  ExpectEntraError(with([&](auto& f) { erase(f, "client_id"); }), 400, "invalid_request", 900144);
  json no_scope =
      ExpectEntraError(with([&](auto& f) { erase(f, "scope"); }), 400, "invalid_request", 900144);
  EXPECT_NE(no_scope["error_description"].get<std::string>().find("'scope'"), std::string::npos);
  ExpectEntraError(with([&](auto& f) { erase(f, "client_secret"); }), 401, "invalid_client",
                   7000216);
  for (const char* scope :
       {"https://management.azure.com", "https://management.azure.com/user_impersonation",
        "https://management.azure.com/.default https://vault.azure.net/.default", "/.default",
        "openid profile"}) {
    ExpectEntraError(with([&](auto& f) { f[3].second = scope; }), 400, "invalid_scope", 70011);
  }
  ExpectEntraError(with([&](auto& f) { f[3].second = "https://storage.azure.com/.default"; }), 400,
                   "invalid_resource", 500011);

  // Unknown tenant in the path; an empty body.
  http::Response tenant = PostToken("/" + CryptoRandom().Uuid() + "/oauth2/v2.0/token",
                                    ClientCredentials("https://management.azure.com/.default"));
  ExpectEntraError(tenant, 400, "invalid_request", 90002);
  ExpectEntraError(Call(MakeRequest("POST", "/adfs/oauth2/token", "localhost:8443")), 400,
                   "invalid_request", 900144);
  // A bad %-escape is as good as no body.
  ExpectEntraError(Call(MakeRequest("POST", "/adfs/oauth2/token", "localhost:8443", "%zz=1")), 400,
                   "invalid_request", 900144);
  // GET on the token endpoint: the router's 405.
  EXPECT_EQ(Call(MakeRequest("GET", "/adfs/oauth2/token", "localhost:8443")).status, 405);
}

TEST_F(TokenRoutesTest, SecretsWithReservedCharactersAreFormDecoded) {
  // A reset may produce '-' and '_'; the form encoder percent-encodes everything else. Check a
  // '+'-as-space decoding does not corrupt secrets containing none.
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(auto reset, service_->directory().ResetSecret(creds_.app_id));
    creds_.password = reset.password;
    EXPECT_EQ(
        PostToken("/adfs/oauth2/token", ClientCredentials("https://management.azure.com/.default"))
            .status,
        200);
  }
}

TEST_F(TokenRoutesTest, DeletedClientGetsNoToken) {
  ASSERT_OK(service_->directory().DeletePrincipal(creds_.object_id));
  ExpectEntraError(
      PostToken("/adfs/oauth2/token", ClientCredentials("https://management.azure.com/.default")),
      400, "unauthorized_client", 700016);
}

}  // namespace
}  // namespace byok::identity
