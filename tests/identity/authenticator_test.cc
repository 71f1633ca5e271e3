#include "identity/authenticator.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "crypto/jwt.h"
#include "identity/identity_test_helpers.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;
using test::MakeRequest;

class AuthenticatorTest : public test::IdentityFixture {
 protected:
  void SetUp() override {
    IdentityFixture::SetUp();
    creds_ = NewServicePrincipal("caller");
    principal_ = PrincipalOf(creds_);
  }

  http::Request WithToken(const std::string& token, std::string host = "localhost:8443") {
    return MakeRequest("GET", "/subscriptions", std::move(host), "",
                       {{"Authorization", "Bearer " + token}});
  }
  ApiResult<Principal> Auth(const http::Request& req, Audience api = Audience::kArm) {
    return service_->authenticator().Authenticate(req, api);
  }
  // Authenticates and returns the error (fails the test if authentication succeeds).
  ApiError Refusal(const http::Request& req, Audience api = Audience::kArm) {
    auto r = Auth(req, api);
    EXPECT_FALSE(r.ok());
    return r.ok() ? ApiError{} : r.error();
  }

  // A token with these claims, signed by our key (claims as the real issuer would set them,
  // then `edit` applied).
  std::string CustomToken(const std::function<void(json&)>& edit) {
    int64_t now = clock_.NowUnix();
    json claims = {{"aud", "https://management.core.windows.net/"},
                   {"iss", "https://localhost:8443/adfs"},
                   {"iat", now},
                   {"nbf", now},
                   {"exp", now + 3600},
                   {"oid", principal_.object_id},
                   {"appid", principal_.app_id},
                   {"tid", service_->tenant_id()}};
    edit(claims);
    auto t = service_->signing_key().Sign(claims);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : "";
  }

  ServicePrincipalCredentials creds_;
  Principal principal_;
};

TEST_F(AuthenticatorTest, RoundTripPerAudience) {
  struct Case {
    Audience api;
    const char* resource;
  };
  for (const Case& c : std::vector<Case>{
           {Audience::kArm, "https://management.core.windows.net/"},
           {Audience::kArm, "https://management.core.windows.net"},
           {Audience::kArm, "https://management.azure.com"},
           {Audience::kArm, "https://management.azure.com/"},
           {Audience::kArm, "https://localhost:8443"},
           {Audience::kArm, "https://127.0.0.1:8443/"},
           {Audience::kKeyVault, "https://vault.azure.net"},
           {Audience::kKeyVault, "https://vault.localhost:8443"},
           {Audience::kKeyVault, "https://vault.localhost"},
           {Audience::kGraph, "https://graph.microsoft.com"},
           {Audience::kGraph, "https://graph.windows.net/"},
           {Audience::kGraph, "https://localhost:8443/graph/"},
           {Audience::kGraph, "https://127.0.0.1:8443/graph"},
       }) {
    auto p = Auth(WithToken(TokenFor(principal_, c.resource)), c.api);
    ASSERT_TRUE(p.ok()) << c.resource << ": " << p.error().message;
    EXPECT_EQ(p->object_id, principal_.object_id);
    EXPECT_EQ(p->app_id, principal_.app_id);
    EXPECT_EQ(p->tenant_id, service_->tenant_id());
    EXPECT_EQ(p->kind, PrincipalKind::kServicePrincipal);
  }
}

TEST_F(AuthenticatorTest, IssuersOfEveryEndpointFlavorAndHostAlias) {
  const std::string tid = service_->tenant_id();
  for (const std::string& iss :
       {AdfsIssuer("localhost:8443"), AdfsIssuer("127.0.0.1:8443"), V2Issuer("localhost:8443", tid),
        V1Issuer("127.0.0.1:8443", tid)}) {
    auto token = service_->tokens().Issue(principal_, "https://management.azure.com", iss,
                                          TokenVersion::kV2);
    ASSERT_TRUE(token.ok());
    EXPECT_TRUE(Auth(WithToken(token->access_token)).ok()) << iss;
  }
}

TEST_F(AuthenticatorTest, MissingHeader) {
  http::Request req = MakeRequest("GET", "/subscriptions", "localhost:8443");
  ApiError e = Refusal(req);
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(e.code, "AuthenticationFailed");
  EXPECT_EQ(e.message, "Authentication failed. The 'Authorization' header is missing.");
  http::Response r = service_->authenticator().ErrorResponse(req, Audience::kArm, e);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(
      json::parse(r.body),
      json({{"error",
             {{"code", "AuthenticationFailed"},
              {"message", "Authentication failed. The 'Authorization' header is missing."}}}}));
  EXPECT_EQ(r.headers.Get("WWW-Authenticate"),
            "Bearer authorization_uri=\"https://localhost:8443/adfs\", error=\"invalid_token\", "
            "error_description=\"The authentication failed because of missing 'Authorization' "
            "header.\"");
}

TEST_F(AuthenticatorTest, MalformedHeaders) {
  std::string good = TokenFor(principal_, "https://management.azure.com");
  for (const std::string& value :
       std::vector<std::string>{"Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b",
                                "Bearer" + good, "Token " + good}) {
    http::Request req = MakeRequest("GET", "/x", "localhost:8443", "", {{"Authorization", value}});
    ApiError e = Refusal(req);
    EXPECT_EQ(e.code, "AuthenticationFailed") << value;
    EXPECT_EQ(
        e.message,
        "Authentication failed. The 'Authorization' header is provided in an invalid format.");
  }
  // Two Authorization headers.
  http::Request two =
      MakeRequest("GET", "/x", "localhost:8443", "",
                  {{"Authorization", "Bearer " + good}, {"Authorization", "Bearer " + good}});
  EXPECT_EQ(Refusal(two).code, "AuthenticationFailed");
  // Scheme is case-insensitive.
  http::Request lower =
      MakeRequest("GET", "/x", "localhost:8443", "", {{"Authorization", "bearer " + good}});
  EXPECT_TRUE(Auth(lower).ok());
}

TEST_F(AuthenticatorTest, MalformedTokensAndAlgNone) {
  std::string good = TokenFor(principal_, "https://management.azure.com");
  std::string header_none = Base64UrlEncode(AsBytes(R"({"alg":"none","typ":"JWT"})"));
  std::string claims = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  std::string sig = good.substr(good.rfind('.') + 1);
  std::string header_hs = Base64UrlEncode(AsBytes(R"({"alg":"HS256","typ":"JWT"})"));
  for (const std::string& token :
       {std::string("garbage"), std::string("a.b.c"), header_none + "." + claims + ".",
        header_none + "." + claims + "." + sig, header_hs + "." + claims + "." + sig,
        good.substr(0, good.size() - 1) + (good.back() == 'A' ? "B" : "A")}) {
    ApiError e = Refusal(WithToken(token));
    EXPECT_EQ(e.http_status, 401) << token;
    EXPECT_EQ(e.code, "InvalidAuthenticationToken") << token;
  }
}

TEST_F(AuthenticatorTest, SignedByAnotherKey) {
  ASSERT_OK_AND_ASSIGN(crypto::PrivateKey other, crypto::GenerateRsaKey(2048));
  json claims = test::JwtClaims(TokenFor(principal_, "https://management.azure.com"));
  // Claiming our kid, and with its own.
  ASSERT_OK_AND_ASSIGN(std::string ours,
                       crypto::EncodeJwt({{"kid", service_->signing_key().kid()}}, claims, other));
  ASSERT_OK_AND_ASSIGN(std::string own, crypto::EncodeJwt({{"kid", "other"}}, claims, other));
  for (const auto& token : {ours, own}) {
    http::Request req = WithToken(token);
    ApiError e = Refusal(req);
    EXPECT_EQ(e.http_status, 401);
    EXPECT_EQ(e.code, "InvalidAuthenticationToken");
    EXPECT_EQ(e.message, "The access token has an invalid signature.");
    http::Response r = service_->authenticator().ErrorResponse(req, Audience::kArm, e);
    EXPECT_EQ(r.headers.Get("WWW-Authenticate"),
              "Bearer authorization_uri=\"https://localhost:8443/adfs\", error=\"invalid_token\", "
              "error_description=\"The access token has an invalid signature.\"");
  }
}

TEST_F(AuthenticatorTest, ExpiryWithFiveMinutesOfSkew) {
  std::string token = TokenFor(principal_, "https://management.azure.com");
  clock_.Advance(std::chrono::seconds(3600 + 299));
  EXPECT_TRUE(Auth(WithToken(token)).ok()) << "within the skew";
  clock_.Advance(std::chrono::seconds(2));
  ApiError e = Refusal(WithToken(token));
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(e.code, "ExpiredAuthenticationToken");
  // Issued 2024-01-02 03:04:05Z, expires one hour later; now is 3:09:06 AM + 1 h.
  EXPECT_EQ(e.message,
            "The access token expiry UTC time '1/2/2024 4:04:05 AM' is earlier than current UTC "
            "time '1/2/2024 4:09:06 AM'.");
}

TEST_F(AuthenticatorTest, NotYetValid) {
  std::string token = TokenFor(principal_, "https://management.azure.com");
  clock_.Set(test::TestEpoch() - std::chrono::seconds(299));
  EXPECT_TRUE(Auth(WithToken(token)).ok());
  clock_.Set(test::TestEpoch() - std::chrono::seconds(301));
  ApiError e = Refusal(WithToken(token));
  EXPECT_EQ(e.code, "InvalidAuthenticationToken");
  EXPECT_NE(e.message.find("is later than current UTC time"), std::string::npos) << e.message;
}

TEST_F(AuthenticatorTest, WrongAudience) {
  ApiError e = Refusal(WithToken(TokenFor(principal_, "https://vault.azure.net")));
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(e.code, "InvalidAuthenticationTokenAudience");
  EXPECT_EQ(e.message,
            "The access token has been obtained for wrong audience or resource "
            "'https://vault.azure.net'. It should exactly match with one of the allowed audiences "
            "'https://management.core.windows.net/','https://management.core.windows.net',"
            "'https://management.azure.com/','https://management.azure.com',"
            "'https://localhost:8443/','https://localhost:8443','https://127.0.0.1:8443/',"
            "'https://127.0.0.1:8443'.");
  // An ARM token at Key Vault and at Graph.
  std::string arm = TokenFor(principal_, "https://management.azure.com");
  ApiError kv = Refusal(WithToken(arm), Audience::kKeyVault);
  EXPECT_EQ(kv.code, "Unauthorized");
  EXPECT_TRUE(
      kv.message.starts_with("AKV10022: Invalid audience. Expected https://vault.azure.net"))
      << kv.message;
  EXPECT_TRUE(kv.message.ends_with("found: https://management.azure.com.")) << kv.message;
  ApiError graph = Refusal(WithToken(arm), Audience::kGraph);
  EXPECT_EQ(graph.code, "InvalidAuthenticationToken");
  EXPECT_EQ(graph.message, "Access token validation failure. Invalid audience.");
  // Non-string audience.
  ApiError arr = Refusal(WithToken(
      CustomToken([](json& c) { c["aud"] = json::array({"https://management.azure.com"}); })));
  EXPECT_EQ(arr.code, "InvalidAuthenticationToken");
}

TEST_F(AuthenticatorTest, WrongIssuerOrTenant) {
  for (auto edit : std::vector<std::function<void(json&)>>{
           [](json& c) { c["iss"] = "https://evil.example:8443/adfs"; },
           [](json& c) { c["iss"] = "https://localhost:9999/adfs"; },
           [](json& c) { c["iss"] = "http://localhost:8443/adfs"; },
           [](json& c) { c["iss"] = "https://localhost:8443/other"; },
           [](json& c) { c["iss"] = "https://localhost:8443/" + CryptoRandom().Uuid() + "/v2.0"; },
           [](json& c) { c["tid"] = CryptoRandom().Uuid(); },
           [](json& c) { c.erase("iss"); },
       }) {
    ApiError e = Refusal(WithToken(CustomToken(edit)));
    EXPECT_EQ(e.code, "InvalidAuthenticationTokenTenant") << e.message;
    EXPECT_NE(e.message.find("'https://localhost:8443/adfs'"), std::string::npos) << e.message;
  }
}

TEST_F(AuthenticatorTest, PrincipalDeletedAfterIssue) {
  std::string token = TokenFor(principal_, "https://management.azure.com");
  ASSERT_TRUE(Auth(WithToken(token)).ok());
  ASSERT_OK(service_->directory().DeletePrincipal(creds_.app_id));
  ApiError e = Refusal(WithToken(token));
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(e.code, "InvalidAuthenticationToken");
  EXPECT_NE(e.message.find("make sure service principal is properly created in the tenant"),
            std::string::npos);
  // Missing oid, or an appid that is not the principal's.
  EXPECT_EQ(Refusal(WithToken(CustomToken([](json& c) { c.erase("oid"); }))).code,
            "InvalidAuthenticationToken");
  auto other = NewServicePrincipal("other");
  EXPECT_EQ(Refusal(WithToken(CustomToken([&](json& c) {
              c["oid"] = other.object_id;
              c["appid"] = creds_.app_id;
            }))).code,
            "InvalidAuthenticationToken");
}

TEST_F(AuthenticatorTest, GraphFailureShape) {
  http::Request req =
      MakeRequest("GET", "/graph/v1.0/me", "127.0.0.1:8443", "", {{"client-request-id", "abc"}});
  ApiError e = Refusal(req, Audience::kGraph);
  EXPECT_EQ(e.code, "InvalidAuthenticationToken");
  EXPECT_EQ(e.message, "Access token is empty.");
  http::Response r = service_->authenticator().ErrorResponse(req, Audience::kGraph, e);
  EXPECT_EQ(r.status, 401);
  json body = json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "InvalidAuthenticationToken");
  EXPECT_EQ(body["error"]["innerError"]["request-id"], req.request_id);
  EXPECT_EQ(body["error"]["innerError"]["client-request-id"], "abc");
  EXPECT_EQ(body["error"]["innerError"]["date"], "2024-01-02T03:04:05");
  EXPECT_EQ(
      r.headers.Get("WWW-Authenticate"),
      "Bearer realm=\"\", authorization_uri=\"https://127.0.0.1:8443/adfs/oauth2/authorize\", "
      "client_id=\"00000003-0000-0000-c000-000000000000\"");
}

TEST_F(AuthenticatorTest, KeyVaultGenericFailureHasNoChallenge) {
  http::Request req = MakeRequest("POST", "/keys/k/create", "v1.vault.localhost:8443");
  ApiError e = Refusal(req, Audience::kKeyVault);
  EXPECT_EQ(e.code, "Unauthorized");
  EXPECT_EQ(e.message, "AKV10000: Request is missing a Bearer or PoP token.");
  http::Response r = service_->authenticator().ErrorResponse(req, Audience::kKeyVault, e);
  EXPECT_EQ(r.status, 401);
  EXPECT_FALSE(r.headers.Has("WWW-Authenticate"));
  clock_.Advance(std::chrono::hours(2));
  std::string token = TokenFor(principal_, "https://vault.azure.net");
  clock_.Advance(std::chrono::hours(2));
  EXPECT_EQ(Refusal(WithToken(token), Audience::kKeyVault).message,
            "[TokenExpired] Error validating token: 'S2S12086'.");
}

TEST_F(AuthenticatorTest, HeaderInjectionInChallengeIsNeutralized) {
  // The challenge quotes the Host; a hostile Host cannot break out of the quoted string.
  http::Request req = MakeRequest("GET", "/x", "");
  req.headers.Add("Host", "evil\"host");
  req.host = "evil";
  ApiError e = Refusal(req);
  std::string challenge = service_->authenticator().Challenge(req, Audience::kArm, e);
  EXPECT_EQ(challenge.find("evil\"host"), std::string::npos) << challenge;
  // Non-401 errors get no challenge.
  EXPECT_EQ(service_->authenticator().Challenge(req, Audience::kArm, ApiError{500, "x", "y"}), "");
}

TEST_F(AuthenticatorTest, ServerUrlsCanBeSetAfterStart) {
  std::string token = TokenFor(principal_, "https://localhost:9443", "localhost:9443");
  EXPECT_EQ(Refusal(WithToken(token)).code, "InvalidAuthenticationTokenTenant");
  service_->SetServerBaseUrls(DefaultServerBaseUrls("127.0.0.1", 9443));
  EXPECT_TRUE(Auth(WithToken(token)).ok());
  // Not configured at all: any https authority with our issuer shape.
  service_->SetServerBaseUrls({});
  EXPECT_TRUE(Auth(WithToken(TokenFor(principal_, "https://management.azure.com", "a.b:1"))).ok());
}

TEST_F(AuthenticatorTest, ManagedIdentityTokensForOwnServices) {
  ASSERT_OK_AND_ASSIGN(Principal mi, service_->directory().CreateManagedIdentity(
                                         "/subscriptions/s/resourceGroups/rg/providers/"
                                         "Microsoft.Compute/diskEncryptionSets/des"));
  ASSERT_OK_AND_ASSIGN(IssuedToken t, service_->IssueToken(mi, Audience::kKeyVault));
  json claims = test::JwtClaims(t.access_token);
  EXPECT_EQ(claims["aud"], "https://vault.azure.net");
  EXPECT_EQ(claims["iss"], "https://localhost:8443/adfs");
  EXPECT_EQ(claims["xms_mirid"], mi.resource_id);
  EXPECT_EQ(claims["appidacr"], "2");
  auto p = Auth(WithToken(t.access_token), Audience::kKeyVault);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kind, PrincipalKind::kManagedIdentity);
  EXPECT_EQ(p->resource_id, mi.resource_id);
  ASSERT_OK(service_->directory().DeleteManagedIdentity(mi.resource_id));
  EXPECT_FALSE(Auth(WithToken(t.access_token), Audience::kKeyVault).ok());
}

TEST(EndpointsTest, AudiencesAndIssuers) {
  std::vector<std::string> urls = DefaultServerBaseUrls("127.0.0.1", 8443);
  EXPECT_EQ(urls, (std::vector<std::string>{"https://localhost:8443", "https://127.0.0.1:8443",
                                            "https://[::1]:8443"}));
  EXPECT_EQ(DefaultServerBaseUrls("::1", 443).size(), 6u);
  EXPECT_EQ(DefaultServerBaseUrls("192.168.1.5", 1).back(), "https://192.168.1.5:1");
  EXPECT_EQ(DefaultServerBaseUrls("0.0.0.0", 1).size(), 3u);
  EXPECT_TRUE(IsAllowedAudience(Audience::kArm, "HTTPS://Management.Azure.com/", urls));
  EXPECT_FALSE(IsAllowedAudience(Audience::kArm, "https://management.azure.com.evil", urls));
  EXPECT_FALSE(IsAllowedAudience(Audience::kArm, "", urls));
  EXPECT_EQ(AudienceOfResource("https://[::1]:8443/graph/", urls), Audience::kGraph);
  EXPECT_EQ(AudienceOfResource("https://vault.localhost:8443", urls), Audience::kKeyVault);
  EXPECT_EQ(AudienceOfResource("https://example.com", urls), std::nullopt);

  ServerUrls s({"HTTPS://LocalHost:8443/", "http://x:1", "https://x/path", "https://"});
  EXPECT_EQ(s.Get(), std::vector<std::string>{"https://localhost:8443"});

  const std::string tid = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
  EXPECT_TRUE(IsAcceptedIssuer("https://localhost:8443/" + tid + "/v2.0", tid, urls));
  EXPECT_TRUE(IsAcceptedIssuer("https://127.0.0.1:8443/" + tid + "/", tid, urls));
  EXPECT_FALSE(IsAcceptedIssuer("https://127.0.0.1:8443/" + tid, tid, urls));
  EXPECT_FALSE(IsAcceptedIssuer("https://127.0.0.1:8443/adfs/", tid, urls));
  EXPECT_FALSE(IsAcceptedIssuer("https:///adfs", tid, {}));
}

}  // namespace
}  // namespace byok::identity
