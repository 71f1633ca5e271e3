// The keys data plane through its routes: challenge, api-versions, every operation and rule.
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "authz/roles.h"
#include "common/encoding.h"
#include "crypto/jwk.h"
#include "crypto/rsa.h"
#include "crypto/sign.h"
#include "keyvault/backup.h"
#include "keyvault/keyvault_test_helpers.h"

namespace byok::keyvault {
namespace {

using nlohmann::json;
using test::BodyOf;
using test::ErrorCode;

constexpr char kV[] = "?api-version=7.4";

class KeysServiceTest : public test::KeysFixture {
 protected:
  void SetUp() override {
    KeysFixture::SetUp();
    vault_ = CreateVault("kv1");
  }
  std::string Kid(const std::string& name, const std::string& version) {
    return fmt::format("https://kv1.vault.localhost:8443/keys/{}/{}", name, version);
  }
  http::Response Op(const std::string& name, const std::string& version, const std::string& op,
                    const json& body, const identity::Principal* caller = nullptr) {
    return Call("POST", "kv1", fmt::format("/keys/{}/{}/{}{}", name, version, op, kV), body,
                caller);
  }
  VaultRecord vault_;
};

// ---- Challenge, authentication, vault lookup, api-version ----

TEST_F(KeysServiceTest, UnauthenticatedRequestGetsTheChallengeBeforeTheBodyIsParsed) {
  http::Request req = Request("POST", "kv1", "/keys/k/create?api-version=7.4", "{not json", nullptr,
                              /*anonymous=*/true);
  http::Response r = Send(std::move(req));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers.Get("WWW-Authenticate").value_or(""),
            fmt::format("Bearer authorization=\"https://localhost:8443/{}\", "
                        "resource=\"https://vault.localhost:8443\"",
                        vault_.tenant_id));
  EXPECT_EQ(ErrorCode(r), "Unauthorized");
  EXPECT_EQ(BodyOf(r)["error"]["message"], "AKV10000: Request is missing a Bearer or PoP token.");
  // Also without an api-version, for every route.
  r = Send(Request("GET", "kv1", "/keys", "", nullptr, true));
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.headers.Has("WWW-Authenticate"));
  EXPECT_TRUE(AuditRecords().empty()) << "challenges are not audited";
}

TEST_F(KeysServiceTest, BadTokensGet401WithTheChallenge) {
  http::Request req = Request("GET", "kv1", "/keys?api-version=7.4", "", nullptr, true);
  req.headers.Add("Authorization", "Bearer not.a.jwt");
  http::Response r = Send(std::move(req));
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.headers.Has("WWW-Authenticate"));
  // A token for ARM is not a Key Vault token.
  auto arm = identity_->tokens().Issue(owner_, "https://management.core.windows.net/",
                                       identity::AdfsIssuer("localhost:8443"),
                                       identity::TokenVersion::kV1);
  ASSERT_TRUE(arm.ok());
  req = Request("GET", "kv1", "/keys?api-version=7.4", "", nullptr, true);
  req.headers.Add("Authorization", "Bearer " + arm->access_token);
  r = Send(std::move(req));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(BodyOf(r)["error"]["message"].get<std::string>().find("AKV10022"), std::string::npos);
}

TEST_F(KeysServiceTest, ValidatedTokensAreCachedBriefly) {
  identity::Principal app = NewPrincipal("short-lived");
  SetAccessPolicies(
      "kv1", json::array({test::PolicyEntry(owner_, {"all"}), test::PolicyEntry(app, {"list"})}));
  http::Request req = Request("GET", "kv1", "/keys?api-version=7.4", "", &app);
  EXPECT_EQ(Send(req).status, 200);
  ASSERT_TRUE(identity_->directory().DeletePrincipal(app.object_id).ok());
  EXPECT_EQ(Send(req).status, 200) << "the same token within the cache TTL";
  // Without the cache, the deleted principal's token is refused at once.
  KeysServiceDeps deps;
  deps.store = store_.get();
  deps.clock = &clock_;
  deps.random = &CryptoRandom();
  deps.authenticator = &identity_->authenticator();
  deps.authorizer = rbac_.get();
  deps.token_cache_ttl = std::chrono::milliseconds(0);
  service_ = std::make_unique<KeysService>(std::move(deps));
  router_ = http::Router();
  service_->AddRoutes(router_);
  http::Response r = Send(req);
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.headers.Has("WWW-Authenticate"));
}

TEST_F(KeysServiceTest, UnknownOrDeletedVaultAnswersVaultNotFound) {
  http::Response r = Call("GET", "nosuchvault", "/keys?api-version=7.4");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "VaultNotFound");
  CreateVault("gone");
  EXPECT_EQ(Call("GET", "gone", "/keys?api-version=7.4").status, 200);
  DeleteVault("gone");
  r = Send(Request("GET", "gone", "/keys?api-version=7.4", "", nullptr, true));
  EXPECT_EQ(r.status, 404) << "a deleted vault's host answers nothing, not even a challenge";
}

TEST_F(KeysServiceTest, ApiVersions) {
  for (const std::string& v : KeysApiVersions()) {
    EXPECT_EQ(Call("GET", "kv1", "/keys?api-version=" + v).status, 200) << v;
  }
  http::Response r = Call("GET", "kv1", "/keys");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "BadParameter");
  r = Call("GET", "kv1", "/keys?api-version=2016-10-01");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(BodyOf(r)["error"]["message"],
            "The specified version (2016-10-01) is not recognized. Consider using the latest "
            "supported version (7.6).");
}

// ---- Create, get, list ----

TEST_F(KeysServiceTest, CreateRsaKeyAsTheCliDoes) {
  json b = CreateKey("kv1", "MyKey", {{"kty", "RSA"}, {"attributes", {{"enabled", true}}}});
  std::string version = VersionOf(b);
  EXPECT_EQ(version.size(), 32u);
  EXPECT_EQ(b["key"]["kid"], Kid("MyKey", version));
  EXPECT_EQ(b["key"]["kty"], "RSA");
  EXPECT_EQ(b["key"]["key_ops"],
            json({"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}));
  EXPECT_EQ(b["key"]["e"], "AQAB");
  EXPECT_EQ(Base64UrlDecode(b["key"]["n"].get<std::string>())->size(), 256u);
  EXPECT_FALSE(b["key"].contains("d")) << "no private material ever leaves";
  EXPECT_EQ(b["attributes"]["enabled"], true);
  EXPECT_EQ(b["attributes"]["created"], clock_.NowUnix());
  EXPECT_EQ(b["attributes"]["updated"], clock_.NowUnix());
  EXPECT_EQ(b["attributes"]["recoveryLevel"], "Recoverable+Purgeable");
  EXPECT_EQ(b["attributes"]["recoverableDays"], 90);

  // Latest version with a trailing slash (the CLI), by version, and case-insensitive names.
  http::Response r = Call("GET", "kv1", std::string("/keys/MyKey/") + kV);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r), b);
  r = Call("GET", "kv1", "/keys/mykey/" + version + kV);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["key"]["kid"], Kid("MyKey", version)) << "the name keeps its case";
  r = Call("GET", "kv1", "/KEYS/mykey/" + version + kV);
  EXPECT_EQ(r.status, 200);
}

TEST_F(KeysServiceTest, CreateEveryKeyType) {
  for (int bits : {2048, 3072, 4096}) {
    json b = CreateKey("kv1", fmt::format("rsa{}", bits), {{"kty", "RSA"}, {"key_size", bits}});
    EXPECT_EQ(Base64UrlDecode(b["key"]["n"].get<std::string>())->size() * 8,
              static_cast<size_t>(bits));
  }
  for (auto [crv, size] : {std::pair{"P-256", 32u}, {"P-384", 48u}, {"P-521", 66u}}) {
    json b = CreateKey("kv1", fmt::format("ec{}", size), {{"kty", "EC"}, {"crv", crv}});
    EXPECT_EQ(b["key"]["kty"], "EC");
    EXPECT_EQ(b["key"]["crv"], crv);
    EXPECT_EQ(b["key"]["key_ops"], json({"sign", "verify"}));
    EXPECT_EQ(Base64UrlDecode(b["key"]["x"].get<std::string>())->size(), size);
  }
  json ec = CreateKey("kv1", "ecdefault", {{"kty", "EC"}});
  EXPECT_EQ(ec["key"]["crv"], "P-256");
  json ops =
      CreateKey("kv1", "wraponly",
                {{"kty", "RSA"}, {"key_ops", {"WRAPKEY", "unwrapKey"}}, {"tags", {{"a", "b"}}}});
  EXPECT_EQ(ops["key"]["key_ops"], json({"wrapKey", "unwrapKey"}));
  EXPECT_EQ(ops["tags"], json({{"a", "b"}}));
}

TEST_F(KeysServiceTest, CreateValidation) {
  struct Case {
    std::string name;
    json body;
    std::string code;
  };
  std::vector<Case> cases = {
      {"bad_name", {{"kty", "RSA"}}, "BadParameter"},
      {"k", json::object(), "BadParameter"},
      {"k", {{"kty", "oct"}}, "BadParameter"},
      {"k", {{"kty", "RSA"}, {"key_size", 1024}}, "BadParameter"},
      {"k", {{"kty", "RSA"}, {"key_size", "2048"}}, "BadParameter"},
      {"k", {{"kty", "RSA"}, {"public_exponent", 3}}, "BadParameter"},
      {"k", {{"kty", "EC"}, {"crv", "P-256K"}}, "BadParameter"},
      {"k", {{"kty", "EC"}, {"key_ops", {"wrapKey"}}}, "BadParameter"},
      {"k", {{"kty", "RSA"}, {"key_ops", {"frobnicate"}}}, "BadParameter"},
      {"k", {{"kty", "RSA"}, {"attributes", {{"enabled", "yes"}}}}, "BadParameter"},
      {"k", {{"kty", "RSA"}, {"tags", {{"a", 1}}}}, "BadParameter"},
      {"k", {{"kty", "RSA-HSM"}}, "BadParameter"},
  };
  for (const Case& c : cases) {
    http::Response r = Call("POST", "kv1", fmt::format("/keys/{}/create{}", c.name, kV), c.body);
    EXPECT_EQ(r.status, 400) << c.body.dump();
    EXPECT_EQ(ErrorCode(r), c.code) << c.body.dump() << " " << r.body;
  }
  http::Request bad = Request("POST", "kv1", std::string("/keys/k/create") + kV, "{not json");
  EXPECT_EQ(ErrorCode(Send(std::move(bad))), "BadParameter");
  http::Response r = Call("POST", "kv1", std::string("/keys/k/create") + kV, {{"kty", "RSA-HSM"}});
  EXPECT_NE(BodyOf(r)["error"]["message"].get<std::string>().find("premium"), std::string::npos);
}

TEST_F(KeysServiceTest, HsmKeysOnPremiumVaults) {
  CreateVault("premiumkv", {.sku = "premium"});
  json b = CreateKey("premiumkv", "hsm", {{"kty", "RSA-HSM"}, {"key_size", 2048}});
  EXPECT_EQ(b["key"]["kty"], "RSA-HSM");
  json ec = CreateKey("premiumkv", "echsm", {{"kty", "EC-HSM"}, {"crv", "P-384"}});
  EXPECT_EQ(ec["key"]["kty"], "EC-HSM");
  http::Response r =
      Call("POST", "premiumkv", fmt::format("/keys/hsm/{}/wrapkey{}", VersionOf(b), kV),
           {{"alg", "RSA-OAEP-256"}, {"value", Base64UrlEncode(std::vector<uint8_t>(32, 7))}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(KeysServiceTest, UnknownKeysAndVersions) {
  http::Response r = Call("GET", "kv1", std::string("/keys/missing") + kV);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "KeyNotFound");
  EXPECT_EQ(BodyOf(r)["error"]["message"],
            "A key with (name/id) missing was not found in this key vault. If you recently "
            "deleted this key you may be able to recover it using the correct recovery command. "
            "For help resolving this issue, please see "
            "https://go.microsoft.com/fwlink/?linkid=2125182");
  CreateKey("kv1", "k");
  r = Call("GET", "kv1", "/keys/k/00000000000000000000000000000000" + std::string(kV));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(
      BodyOf(r)["error"]["message"].get<std::string>().find("k/00000000000000000000000000000000"),
      std::string::npos);
  EXPECT_EQ(Call("GET", "kv1", "/keys/k/notaversion" + std::string(kV)).status, 404);
  EXPECT_EQ(Call("GET", "kv1", "/keys/bad_name" + std::string(kV)).status, 400);
}

TEST_F(KeysServiceTest, ImportCreatesVersionsAndKeepsPrivateMaterialUsable) {
  auto local = crypto::GenerateRsaKey(2048);
  ASSERT_TRUE(local.ok());
  json jwk = *crypto::PrivateKeyToJwk(*local);
  jwk["key_ops"] = {"wrapKey", "unwrapKey", "sign"};
  http::Response r = Call("PUT", "kv1", std::string("/keys/imported") + kV,
                          {{"key", jwk}, {"tags", {{"src", "hsm"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  json b = BodyOf(r);
  EXPECT_EQ(b["key"]["n"], jwk["n"]);
  EXPECT_EQ(b["key"]["key_ops"], json({"wrapKey", "unwrapKey", "sign"}));
  EXPECT_FALSE(b["key"].contains("d"));
  // Data wrapped locally with the public key is unwrapped by the service.
  std::vector<uint8_t> dek(32, 0x42);
  auto wrapped = crypto::RsaEncrypt(local->Public(), crypto::RsaPadding::kOaep256, dek);
  r = Op("imported", VersionOf(b), "unwrapkey",
         {{"alg", "RSA-OAEP-256"}, {"value", Base64UrlEncode(*wrapped)}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*Base64UrlDecode(BodyOf(r)["value"].get<std::string>()), dek);
  // A second import is a new version.
  json jwk2 = *crypto::PrivateKeyToJwk(*crypto::GenerateEcKey(crypto::Curve::kP256));
  r = Call("PUT", "kv1", std::string("/keys/imported") + kV, {{"key", jwk2}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(VersionOf(BodyOf(r)), VersionOf(b));
  EXPECT_EQ(BodyOf(r)["key"]["kty"], "EC");
  r = Call("GET", "kv1", std::string("/keys/imported/versions") + kV);
  EXPECT_EQ(BodyOf(r)["value"].size(), 2u);

  // Public-only, malformed and unsupported keys are refused.
  json pub = *crypto::PublicKeyToJwk(local->Public());
  for (const json& body : {json{{"key", pub}}, json{{"key", {{"kty", "oct"}, {"k", "AAAA"}}}},
                           json{{"key", "x"}}, json::object(), json{{"key", jwk}, {"Hsm", true}}}) {
    r = Call("PUT", "kv1", std::string("/keys/imported2") + kV, body);
    EXPECT_EQ(r.status, 400) << body.dump();
  }
  json broken = jwk;
  broken["d"] = broken["e"];
  r = Call("PUT", "kv1", std::string("/keys/imported2") + kV, {{"key", broken}});
  EXPECT_EQ(r.status, 400);
}

TEST_F(KeysServiceTest, ListKeysAndVersionsWithPaging) {
  std::set<std::string> names;
  for (int i = 0; i < 5; ++i) {
    names.insert(fmt::format("key{}", i));
    CreateKey("kv1", fmt::format("key{}", i), {{"kty", "EC"}});
  }
  std::set<std::string> seen;
  std::string target = "/keys?api-version=7.4&maxresults=2";
  int pages = 0;
  while (!target.empty()) {
    http::Response r = Call("GET", "kv1", target);
    ASSERT_EQ(r.status, 200) << r.body;
    json b = BodyOf(r);
    EXPECT_LE(b["value"].size(), 2u);
    for (const json& item : b["value"]) {
      std::string kid = item["kid"];
      EXPECT_EQ(kid.rfind("https://kv1.vault.localhost:8443/keys/", 0), 0u) << kid;
      EXPECT_TRUE(item["attributes"].contains("enabled"));
      seen.insert(kid.substr(kid.rfind('/') + 1));
    }
    ++pages;
    if (b["nextLink"].is_null()) break;
    std::string next = b["nextLink"];
    ASSERT_EQ(next.rfind("https://kv1.vault.localhost:8443/keys?", 0), 0u) << next;
    target = next.substr(std::string("https://kv1.vault.localhost:8443").size());
  }
  EXPECT_EQ(seen, names);
  EXPECT_EQ(pages, 3);
  json all = BodyOf(Call("GET", "kv1", "/keys?api-version=7.4"));
  EXPECT_EQ(all["value"].size(), 5u);
  EXPECT_TRUE(all["nextLink"].is_null());
  EXPECT_EQ(Call("GET", "kv1", "/keys?api-version=7.4&maxresults=0").status, 400);
  EXPECT_EQ(Call("GET", "kv1", "/keys?api-version=7.4&maxresults=26").status, 400);
  EXPECT_EQ(Call("GET", "kv1", "/keys?api-version=7.4&$skiptoken=%%%").status, 400);

  for (int i = 0; i < 2; ++i) Call("POST", "kv1", std::string("/keys/key0/rotate") + kV);
  json versions = BodyOf(Call("GET", "kv1", "/keys/key0/versions?api-version=7.4&maxresults=2"));
  EXPECT_EQ(versions["value"].size(), 2u);
  EXPECT_FALSE(versions["nextLink"].is_null());
  std::string kid = versions["value"][0]["kid"];
  EXPECT_EQ(kid.rfind("https://kv1.vault.localhost:8443/keys/key0/", 0), 0u);
  EXPECT_EQ(kid.size(), std::string("https://kv1.vault.localhost:8443/keys/key0/").size() + 32);
  EXPECT_EQ(Call("GET", "kv1", std::string("/keys/nokey/versions") + kV).status, 404);
}

// ---- Update and the state rules ----

TEST_F(KeysServiceTest, DisabledKeysRefuseGetAndCrypto) {
  json b = CreateKey("kv1", "k");
  std::string v = VersionOf(b);
  http::Response r = Call("PATCH", "kv1", std::string("/keys/k/") + kV,
                          {{"attributes", {{"enabled", false}}}, {"tags", {{"env", "test"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["attributes"]["enabled"], false);
  EXPECT_EQ(BodyOf(r)["tags"]["env"], "test");
  r = Call("GET", "kv1", std::string("/keys/k") + kV);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "Forbidden/KeyDisabled");
  EXPECT_EQ(BodyOf(r)["error"]["message"], "Operation get is not allowed on a disabled key.");
  r = Op("k", v, "wrapkey", {{"alg", "RSA-OAEP"}, {"value", "AQID"}});
  EXPECT_EQ(ErrorCode(r), "Forbidden/KeyDisabled");
  EXPECT_EQ(BodyOf(r)["error"]["message"], "Operation wrapKey is not allowed on a disabled key.");
  r = Op("k", v, "unwrapkey", {{"alg", "RSA-OAEP"}, {"value", "AQID"}});
  EXPECT_EQ(ErrorCode(r), "Forbidden/KeyDisabled");
  // Listing still shows it; re-enabling by version works.
  EXPECT_EQ(
      BodyOf(Call("GET", "kv1", std::string("/keys") + kV))["value"][0]["attributes"]["enabled"],
      false);
  r = Call("PATCH", "kv1", "/keys/k/" + v + kV, {{"attributes", {{"enabled", true}}}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Call("GET", "kv1", std::string("/keys/k") + kV).status, 200);
}

// Crypto operations are served from an in-memory cache (store/generation_cache.h): every write
// (disable, re-enable, delete, vault access-policy change) must take effect on the next request.
TEST_F(KeysServiceTest, CachedCryptoSeesEveryWriteAtOnce) {
  json b = CreateKey("kv1", "k");
  std::string v = VersionOf(b);
  const json wrap = {{"alg", "RSA-OAEP"}, {"value", "AQID"}};
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Op("k", v, "wrapkey", wrap).status, 200);
  ASSERT_EQ(
      Call("PATCH", "kv1", "/keys/k/" + v + kV, {{"attributes", {{"enabled", false}}}}).status,
      200);
  EXPECT_EQ(ErrorCode(Op("k", v, "wrapkey", wrap)), "Forbidden/KeyDisabled");
  ASSERT_EQ(Call("PATCH", "kv1", "/keys/k/" + v + kV, {{"attributes", {{"enabled", true}}}}).status,
            200);
  EXPECT_EQ(Op("k", v, "wrapkey", wrap).status, 200);
  ASSERT_EQ(Call("DELETE", "kv1", std::string("/keys/k") + kV).status, 200);
  EXPECT_EQ(Op("k", v, "wrapkey", wrap).status, 404);
}

TEST_F(KeysServiceTest, KeyOpsRestrictOperations) {
  json b = CreateKey("kv1", "k", {{"kty", "RSA"}, {"key_ops", {"wrapKey"}}});
  http::Response r = Op("k", VersionOf(b), "decrypt", {{"alg", "RSA-OAEP"}, {"value", "AQID"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "Forbidden/KeyOperationForbidden");
  EXPECT_EQ(BodyOf(r)["error"]["message"], "Operation decrypt is not permitted on this key.");
  r = Call("PATCH", "kv1", "/keys/k/" + VersionOf(b) + kV, {{"key_ops", {"wrapKey", "decrypt"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = Op("k", VersionOf(b), "decrypt", {{"alg", "RSA-OAEP"}, {"value", "AQID"}});
  EXPECT_EQ(ErrorCode(r), "BadParameter") << "allowed now; the ciphertext is just wrong";
}

TEST_F(KeysServiceTest, ValidityPeriodBlocksEncryptWrapSignOnly) {
  json b = CreateKey("kv1", "k");
  std::string v = VersionOf(b);
  std::vector<uint8_t> dek(32, 1);
  http::Response r = Op("k", v, "wrapkey", {{"alg", "RSA-OAEP"}, {"value", Base64UrlEncode(dek)}});
  ASSERT_EQ(r.status, 200);
  std::string wrapped = BodyOf(r)["value"];
  int64_t now = clock_.NowUnix();
  ASSERT_EQ(Call("PATCH", "kv1", "/keys/k/" + v + kV, {{"attributes", {{"exp", now - 1}}}}).status,
            200);
  r = Op("k", v, "wrapkey", {{"alg", "RSA-OAEP"}, {"value", Base64UrlEncode(dek)}});
  EXPECT_EQ(ErrorCode(r), "Forbidden/KeyExpired");
  r = Op("k", v, "sign", {{"alg", "RS256"}, {"value", Base64UrlEncode(std::vector<uint8_t>(32))}});
  EXPECT_EQ(ErrorCode(r), "Forbidden/KeyExpired");
  r = Op("k", v, "unwrapkey", {{"alg", "RSA-OAEP"}, {"value", wrapped}});
  EXPECT_EQ(r.status, 200) << "an expired key still unwraps (Azure does not crypto-lock)";
  ASSERT_EQ(Call("PATCH", "kv1", "/keys/k/" + v + kV,
                 {{"attributes", {{"exp", nullptr}, {"nbf", now + 3600}}}})
                .status,
            200);
  r = Op("k", v, "encrypt", {{"alg", "RSA-OAEP"}, {"value", Base64UrlEncode(dek)}});
  EXPECT_EQ(ErrorCode(r), "Forbidden/KeyNotYetValid");
  clock_.Advance(std::chrono::hours(2));
  r = Op("k", v, "encrypt", {{"alg", "RSA-OAEP"}, {"value", Base64UrlEncode(dek)}});
  EXPECT_EQ(r.status, 200);
}

// ---- Cryptography ----

TEST_F(KeysServiceTest, WrapUnwrapEncryptDecryptEveryAlgorithm) {
  json b = CreateKey("kv1", "k");
  std::string v = VersionOf(b);
  auto pub = crypto::PublicKeyFromJwk(b["key"]);
  ASSERT_TRUE(pub.ok());
  for (const char* alg : {"RSA-OAEP", "RSA-OAEP-256", "RSA1_5"}) {
    for (auto [op, inverse] : {std::pair{"wrapkey", "unwrapkey"}, {"encrypt", "decrypt"}}) {
      std::vector<uint8_t> data = CryptoRandom().Bytes(32);
      http::Response r = Op("k", v, op, {{"alg", alg}, {"value", Base64UrlEncode(data)}});
      ASSERT_EQ(r.status, 200) << alg << " " << r.body;
      EXPECT_EQ(BodyOf(r)["kid"], Kid("k", v));
      std::string ct = BodyOf(r)["value"];
      EXPECT_EQ(Base64UrlDecode(ct)->size(), 256u);
      r = Op("k", v, inverse, {{"alg", alg}, {"value", ct}});
      ASSERT_EQ(r.status, 200) << alg << " " << r.body;
      EXPECT_EQ(*Base64UrlDecode(BodyOf(r)["value"].get<std::string>()), data) << alg;
    }
    // Interop: wrapped locally with the public JWK, unwrapped by the service.
    std::vector<uint8_t> dek = CryptoRandom().Bytes(32);
    auto local = crypto::RsaEncrypt(*pub, *crypto::ParseRsaPadding(alg), dek);
    http::Response r = Op("k", v, "unwrapkey", {{"alg", alg}, {"value", Base64UrlEncode(*local)}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(*Base64UrlDecode(BodyOf(r)["value"].get<std::string>()), dek);
  }
  // Too long, bad algorithms, garbage ciphertext, missing members.
  http::Response r =
      Op("k", v, "wrapkey",
         {{"alg", "RSA-OAEP-256"}, {"value", Base64UrlEncode(std::vector<uint8_t>(200))}});
  EXPECT_EQ(ErrorCode(r), "BadParameter");
  r = Op("k", v, "wrapkey", {{"alg", "A256KW"}, {"value", "AQID"}});
  EXPECT_EQ(ErrorCode(r), "BadParameter");
  r = Op("k", v, "unwrapkey",
         {{"alg", "RSA-OAEP"}, {"value", Base64UrlEncode(std::vector<uint8_t>(256, 9))}});
  EXPECT_EQ(r.status, 400);
  r = Op("k", v, "wrapkey", {{"value", "AQID"}});
  EXPECT_EQ(ErrorCode(r), "BadParameter");
  r = Op("k", v, "wrapkey", {{"alg", "RSA-OAEP"}, {"value", "!!"}});
  EXPECT_EQ(ErrorCode(r), "BadParameter");
  r = Op("k", "00000000000000000000000000000000", "wrapkey",
         {{"alg", "RSA-OAEP"}, {"value", "AQ"}});
  EXPECT_EQ(ErrorCode(r), "KeyNotFound");
}

TEST_F(KeysServiceTest, SignVerifyEveryAlgorithm) {
  json rsa = CreateKey("kv1", "rsa");
  auto rsa_pub = crypto::PublicKeyFromJwk(rsa["key"]);
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
    auto sa = *crypto::ParseSignatureAlgorithm(alg);
    auto digest = *crypto::Digest(sa, AsBytes("hello"));
    http::Response r =
        Op("rsa", VersionOf(rsa), "sign", {{"alg", alg}, {"value", Base64UrlEncode(digest)}});
    ASSERT_EQ(r.status, 200) << alg << r.body;
    std::string sig = BodyOf(r)["value"];
    EXPECT_TRUE(*crypto::VerifyDigest(*rsa_pub, sa, digest, *Base64UrlDecode(sig))) << alg;
    r = Op("rsa", VersionOf(rsa), "verify",
           {{"alg", alg}, {"digest", Base64UrlEncode(digest)}, {"value", sig}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(BodyOf(r), json({{"value", true}}));
    digest[0] ^= 1;
    r = Op("rsa", VersionOf(rsa), "verify",
           {{"alg", alg}, {"digest", Base64UrlEncode(digest)}, {"value", sig}});
    EXPECT_EQ(BodyOf(r), json({{"value", false}}));
  }
  for (auto [crv, alg] : {std::pair{"P-256", "ES256"}, {"P-384", "ES384"}, {"P-521", "ES512"}}) {
    json ec = CreateKey("kv1", std::string("ec") + alg, {{"kty", "EC"}, {"crv", crv}});
    auto pub = crypto::PublicKeyFromJwk(ec["key"]);
    auto sa = *crypto::ParseSignatureAlgorithm(alg);
    auto digest = *crypto::Digest(sa, AsBytes("hello"));
    http::Response r = Op(std::string("ec") + alg, VersionOf(ec), "sign",
                          {{"alg", alg}, {"value", Base64UrlEncode(digest)}});
    ASSERT_EQ(r.status, 200) << alg << r.body;
    auto sig = *Base64UrlDecode(BodyOf(r)["value"].get<std::string>());
    EXPECT_TRUE(*crypto::VerifyDigest(*pub, sa, digest, sig));
    r = Op(std::string("ec") + alg, VersionOf(ec), "verify",
           {{"alg", alg}, {"digest", Base64UrlEncode(digest)}, {"value", Base64UrlEncode(sig)}});
    EXPECT_EQ(BodyOf(r), json({{"value", true}}));
  }
  // Mismatches: RSA alg on EC, EC alg on RSA, wrong curve, wrong digest length, EC wrap.
  json ec = CreateKey("kv1", "ec", {{"kty", "EC"}});
  std::string d32 = Base64UrlEncode(std::vector<uint8_t>(32, 1));
  EXPECT_EQ(ErrorCode(Op("ec", VersionOf(ec), "sign", {{"alg", "RS256"}, {"value", d32}})),
            "BadParameter");
  EXPECT_EQ(ErrorCode(Op("rsa", VersionOf(rsa), "sign", {{"alg", "ES256"}, {"value", d32}})),
            "BadParameter");
  EXPECT_EQ(ErrorCode(Op("ec", VersionOf(ec), "sign",
                         {{"alg", "ES384"}, {"value", Base64UrlEncode(std::vector<uint8_t>(48))}})),
            "BadParameter");
  EXPECT_EQ(ErrorCode(Op("rsa", VersionOf(rsa), "sign", {{"alg", "RS384"}, {"value", d32}})),
            "BadParameter");
  EXPECT_EQ(ErrorCode(Op("rsa", VersionOf(rsa), "sign", {{"alg", "HS256"}, {"value", d32}})),
            "BadParameter");
  EXPECT_EQ(ErrorCode(Op("ec", VersionOf(ec), "wrapkey", {{"alg", "RSA-OAEP"}, {"value", d32}})),
            "Forbidden/KeyOperationForbidden");
}

TEST_F(KeysServiceTest, RandomBytes) {
  http::Response r = Call("POST", "kv1", std::string("/rng") + kV, {{"count", 128}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Base64UrlDecode(BodyOf(r)["value"].get<std::string>())->size(), 128u);
  EXPECT_EQ(
      Base64UrlDecode(BodyOf(Call("POST", "kv1", std::string("/rng") + kV, {{"count", 1}}))["value"]
                          .get<std::string>())
          ->size(),
      1u);
  for (json body :
       {json{{"count", 0}}, json{{"count", 129}}, json{{"count", "8"}}, json::object()}) {
    EXPECT_EQ(Call("POST", "kv1", std::string("/rng") + kV, body).status, 400) << body.dump();
  }
}

// ---- Soft delete, recover, purge ----

TEST_F(KeysServiceTest, SoftDeleteRecoverAndNameReuse) {
  json b = CreateKey("kv1", "k");
  http::Response r = Call("DELETE", "kv1", std::string("/keys/k") + kV);
  ASSERT_EQ(r.status, 200) << r.body;
  json d = BodyOf(r);
  EXPECT_EQ(d["recoveryId"], "https://kv1.vault.localhost:8443/deletedkeys/k");
  EXPECT_EQ(d["deletedDate"], clock_.NowUnix());
  EXPECT_EQ(d["scheduledPurgeDate"], clock_.NowUnix() + 90 * 86400);
  EXPECT_EQ(d["key"]["kid"], b["key"]["kid"]);

  EXPECT_EQ(ErrorCode(Call("GET", "kv1", std::string("/keys/k") + kV)), "KeyNotFound");
  EXPECT_EQ(ErrorCode(Op("k", VersionOf(b), "wrapkey", {{"alg", "RSA-OAEP"}, {"value", "AQ"}})),
            "KeyNotFound");
  EXPECT_EQ(Call("DELETE", "kv1", std::string("/keys/k") + kV).status, 404);
  EXPECT_TRUE(BodyOf(Call("GET", "kv1", std::string("/keys") + kV))["value"].empty());
  r = Call("POST", "kv1", std::string("/keys/k/create") + kV, {{"kty", "RSA"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrorCode(r), "Conflict/ObjectIsDeletedButRecoverable");
  EXPECT_EQ(BodyOf(r)["error"]["message"],
            "Key k is currently in a deleted but recoverable state, and its name cannot be "
            "reused; in this state, the key can only be recovered or purged.");
  EXPECT_EQ(Call("PUT", "kv1", std::string("/keys/K") + kV,
                 {{"key", *crypto::PrivateKeyToJwk(*crypto::GenerateEcKey(crypto::Curve::kP256))}})
                .status,
            409);

  json deleted = BodyOf(Call("GET", "kv1", std::string("/deletedkeys") + kV));
  ASSERT_EQ(deleted["value"].size(), 1u);
  EXPECT_EQ(deleted["value"][0]["kid"], "https://kv1.vault.localhost:8443/keys/k");
  EXPECT_EQ(deleted["value"][0]["recoveryId"], "https://kv1.vault.localhost:8443/deletedkeys/k");
  r = Call("GET", "kv1", std::string("/deletedkeys/k") + kV);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(BodyOf(r)["scheduledPurgeDate"], d["scheduledPurgeDate"]);
  r = Call("GET", "kv1", std::string("/deletedkeys/other") + kV);
  EXPECT_EQ(ErrorCode(r), "KeyNotFound");
  EXPECT_EQ(BodyOf(r)["error"]["message"], "Deleted Key not found: other");

  r = Call("POST", "kv1", std::string("/deletedkeys/k/recover") + kV);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["key"]["kid"], b["key"]["kid"]);
  EXPECT_EQ(Call("GET", "kv1", std::string("/keys/k") + kV).status, 200);
  EXPECT_EQ(Call("POST", "kv1", std::string("/deletedkeys/k/recover") + kV).status, 404);
  EXPECT_EQ(Call("GET", "kv1", std::string("/deletedkeys/k") + kV).status, 404);
}

TEST_F(KeysServiceTest, PurgeWithoutProtectionThenNameIsFree) {
  json b = CreateKey("kv1", "k");
  EXPECT_EQ(Call("DELETE", "kv1", std::string("/deletedkeys/k") + kV).status, 404)
      << "a live key cannot be purged";
  ASSERT_EQ(Call("DELETE", "kv1", std::string("/keys/k") + kV).status, 200);
  http::Response r = Call("DELETE", "kv1", std::string("/deletedkeys/k") + kV);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Call("GET", "kv1", std::string("/deletedkeys/k") + kV).status, 404);
  json again = CreateKey("kv1", "k");
  EXPECT_NE(VersionOf(again), VersionOf(b));
  EXPECT_EQ(BodyOf(Call("GET", "kv1", std::string("/keys/k/versions") + kV))["value"].size(), 1u);
}

TEST_F(KeysServiceTest, PurgeProtectionRefusesPurgeUntilRetentionEnds) {
  CreateVault("protected", {.purge_protection = true, .retention_days = 7});
  json b = CreateKey("protected", "k");
  EXPECT_EQ(b["attributes"]["recoveryLevel"], "CustomizedRecoverable");
  EXPECT_EQ(b["attributes"]["recoverableDays"], 7);
  ASSERT_EQ(Call("DELETE", "protected", std::string("/keys/k") + kV).status, 200);
  http::Response r = Call("DELETE", "protected", std::string("/deletedkeys/k") + kV);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "Forbidden");
  EXPECT_EQ(BodyOf(r)["error"]["message"],
            "Operation \"purge\" is not allowed because purge protection is enabled for this "
            "vault. Key Vault service will automatically purge it after the retention period has "
            "passed. Vault: protected;location=westeurope");
  // The scheduler purges it once the retention has passed.
  clock_.Advance(std::chrono::hours(24 * 6));
  ASSERT_TRUE(service_->PurgeExpired(clock_.Now()).ok());
  EXPECT_EQ(Call("GET", "protected", std::string("/deletedkeys/k") + kV).status, 200);
  clock_.Advance(std::chrono::hours(24 * 1));
  ASSERT_TRUE(service_->PurgeExpired(clock_.Now()).ok());
  EXPECT_EQ(Call("GET", "protected", std::string("/deletedkeys/k") + kV).status, 404);
  ASSERT_TRUE(service_->PurgeExpired(clock_.Now()).ok()) << "idempotent";
  CreateKey("protected", "k");
  bool purge_audited = false;
  for (const audit::Record& rec : AuditRecords()) {
    if (rec.operation == "KeyPurge" && rec.caller_object_id.empty() && rec.object == "k") {
      purge_audited = true;
    }
  }
  EXPECT_TRUE(purge_audited);
}

TEST_F(KeysServiceTest, NinetyOneDaysLaterTheDeletedKeyIsPurged) {
  CreateKey("kv1", "k");
  ASSERT_EQ(Call("DELETE", "kv1", std::string("/keys/k") + kV).status, 200);
  clock_.Advance(std::chrono::hours(24 * 91));
  ASSERT_TRUE(service_->PurgeExpired(clock_.Now()).ok());
  EXPECT_EQ(Call("GET", "kv1", std::string("/deletedkeys/k") + kV).status, 404);
  EXPECT_EQ(service_->key_store().cache().size(), 0u) << "purged material is dropped from memory";
  std::vector<std::string> secrets;
  ASSERT_TRUE(store::RunInReadTransaction(*store_, [&](store::Transaction& txn) -> Status {
                BYOK_ASSIGN_OR_RETURN(secrets, txn.ListSecrets("keyvault/"));
                return Status::Ok();
              }).ok());
  EXPECT_TRUE(secrets.empty());
}

// ---- Backup and restore ----

TEST_F(KeysServiceTest, BackupRestoreRoundTrip) {
  json b = CreateKey("kv1", "k");
  ASSERT_EQ(Call("POST", "kv1", std::string("/keys/k/rotate") + kV).status, 200);
  ASSERT_EQ(
      Call("PUT", "kv1", std::string("/keys/k/rotationpolicy") + kV,
           {{"lifetimeActions",
             {{{"trigger", {{"timeAfterCreate", "P30D"}}}, {"action", {{"type", "Rotate"}}}}}}})
          .status,
      200);
  std::vector<uint8_t> dek(32, 5);
  std::string wrapped = BodyOf(Op("k", VersionOf(b), "wrapkey",
                                  {{"alg", "RSA-OAEP"}, {"value", Base64UrlEncode(dek)}}))["value"];
  http::Response r = Call("POST", "kv1", std::string("/keys/k/backup") + kV);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string blob = BodyOf(r)["value"];
  EXPECT_GT(blob.size(), 1000u);

  r = Call("POST", "kv1", std::string("/keys/restore") + kV, {{"value", blob}});
  EXPECT_EQ(ErrorCode(r), "Conflict") << "the name is taken";
  ASSERT_EQ(Call("DELETE", "kv1", std::string("/keys/k") + kV).status, 200);
  r = Call("POST", "kv1", std::string("/keys/restore") + kV, {{"value", blob}});
  EXPECT_EQ(ErrorCode(r), "Conflict/ObjectIsDeletedButRecoverable");
  ASSERT_EQ(Call("DELETE", "kv1", std::string("/deletedkeys/k") + kV).status, 204);
  r = Call("POST", "kv1", std::string("/keys/restore") + kV, {{"value", blob}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(Call("GET", "kv1", std::string("/keys/k/versions") + kV))["value"].size(), 2u);
  r = Op("k", VersionOf(b), "unwrapkey", {{"alg", "RSA-OAEP"}, {"value", wrapped}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*Base64UrlDecode(BodyOf(r)["value"].get<std::string>()), dek);
  r = Call("GET", "kv1", std::string("/keys/k/rotationpolicy") + kV);
  EXPECT_EQ(BodyOf(r)["lifetimeActions"][0]["trigger"]["timeAfterCreate"], "P30D");

  // Into another vault of the same installation: allowed.
  CreateVault("kv2");
  r = Call("POST", "kv2", std::string("/keys/restore") + kV, {{"value", blob}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["key"]["kid"].get<std::string>().rfind("https://kv2.vault.localhost", 0), 0u);
  // Garbage.
  for (json body : {json{{"value", "AAAA"}}, json{{"value", 5}}, json::object()}) {
    EXPECT_EQ(Call("POST", "kv1", std::string("/keys/restore") + kV, body).status, 400);
  }
}

TEST_F(KeysServiceTest, BackupFromAnotherInstallationIsRefused) {
  CreateKey("kv1", "k");
  std::string blob = BodyOf(Call("POST", "kv1", std::string("/keys/k/backup") + kV))["value"];
  Open(/*root_key_seed=*/2);  // another data directory, another root key
  CreateVault("kv1");
  http::Response r = Call("POST", "kv1", std::string("/keys/restore") + kV, {{"value", blob}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "BadParameter");
  EXPECT_NE(BodyOf(r)["error"]["message"].get<std::string>().find("another byok installation"),
            std::string::npos);
}

// ---- Rotation and rotation policies ----

TEST_F(KeysServiceTest, RotateMakesANewVersionOfTheSameKind) {
  json b = CreateKey("kv1", "k",
                     {{"kty", "RSA"},
                      {"key_size", 3072},
                      {"key_ops", {"wrapKey", "unwrapKey"}},
                      {"tags", {{"t", "1"}}}});
  clock_.Advance(std::chrono::seconds(10));
  http::Response r = Call("POST", "kv1", std::string("/keys/k/rotate") + kV);
  ASSERT_EQ(r.status, 200) << r.body;
  json n = BodyOf(r);
  EXPECT_NE(VersionOf(n), VersionOf(b));
  EXPECT_EQ(n["key"]["kty"], "RSA");
  EXPECT_EQ(Base64UrlDecode(n["key"]["n"].get<std::string>())->size(), 384u);
  EXPECT_NE(n["key"]["n"], b["key"]["n"]);
  EXPECT_EQ(n["key"]["key_ops"], json({"wrapKey", "unwrapKey"}));
  EXPECT_EQ(n["tags"], json({{"t", "1"}}));
  EXPECT_EQ(n["attributes"]["created"], clock_.NowUnix());
  EXPECT_EQ(VersionOf(BodyOf(Call("GET", "kv1", std::string("/keys/k") + kV))), VersionOf(n));
  // The old version still works.
  EXPECT_EQ(Call("GET", "kv1", "/keys/k/" + VersionOf(b) + kV).status, 200);
  json ec = CreateKey("kv1", "ec", {{"kty", "EC"}, {"crv", "P-521"}});
  r = Call("POST", "kv1", std::string("/keys/ec/rotate") + kV);
  EXPECT_EQ(BodyOf(r)["key"]["crv"], "P-521");
  EXPECT_EQ(Call("POST", "kv1", std::string("/keys/none/rotate") + kV).status, 404);
}

TEST_F(KeysServiceTest, RotationPolicyGetPutAndValidation) {
  CreateKey("kv1", "k");
  http::Response r = Call("GET", "kv1", std::string("/keys/k/rotationpolicy") + kV);
  ASSERT_EQ(r.status, 200) << r.body;
  json def = BodyOf(r);
  EXPECT_EQ(def["id"], "https://kv1.vault.localhost:8443/keys/k/rotationpolicy");
  EXPECT_EQ(def["lifetimeActions"][0]["action"]["type"], "Notify");
  json policy = {{"lifetimeActions",
                  {{{"trigger", {{"timeAfterCreate", "P30D"}}}, {"action", {{"type", "rotate"}}}},
                   {{"trigger", {{"timeBeforeExpiry", "P7D"}}}, {"action", {{"type", "notify"}}}}}},
                 {"attributes", {{"expiryTime", "P90D"}}}};
  r = Call("PUT", "kv1", std::string("/keys/k/rotationpolicy") + kV, policy);
  ASSERT_EQ(r.status, 200) << r.body;
  json got = BodyOf(r);
  EXPECT_EQ(got["lifetimeActions"][0]["action"]["type"], "Rotate");
  EXPECT_EQ(got["attributes"]["expiryTime"], "P90D");
  EXPECT_EQ(got["attributes"]["created"], clock_.NowUnix());
  EXPECT_EQ(BodyOf(Call("GET", "kv1", std::string("/keys/k/rotationpolicy") + kV)), got);
  json bad = {{"lifetimeActions",
               {{{"trigger", {{"timeAfterCreate", "P1D"}}}, {"action", {{"type", "Rotate"}}}}}}};
  r = Call("PUT", "kv1", std::string("/keys/k/rotationpolicy") + kV, bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "BadParameter");
  EXPECT_EQ(Call("GET", "kv1", std::string("/keys/none/rotationpolicy") + kV).status, 404);
}

TEST_F(KeysServiceTest, RotationPolicyRotatesAfterThirtyDays) {
  json b = CreateKey("kv1", "k");
  ASSERT_EQ(
      Call("PUT", "kv1", std::string("/keys/k/rotationpolicy") + kV,
           {{"lifetimeActions",
             {{{"trigger", {{"timeAfterCreate", "P30D"}}}, {"action", {{"type", "Rotate"}}}}}},
            {"attributes", {{"expiryTime", "P90D"}}}})
          .status,
      200);
  clock_.Advance(std::chrono::hours(24 * 29));
  ASSERT_TRUE(service_->RunRotationPolicies(clock_.Now()).ok());
  EXPECT_EQ(BodyOf(Call("GET", "kv1", std::string("/keys/k/versions") + kV))["value"].size(), 1u);
  clock_.Advance(std::chrono::hours(24 * 2));
  ASSERT_TRUE(service_->RunRotationPolicies(clock_.Now()).ok());
  json versions = BodyOf(Call("GET", "kv1", std::string("/keys/k/versions") + kV));
  EXPECT_EQ(versions["value"].size(), 2u);
  json latest = BodyOf(Call("GET", "kv1", std::string("/keys/k") + kV));
  EXPECT_NE(VersionOf(latest), VersionOf(b));
  EXPECT_EQ(latest["attributes"]["created"], clock_.NowUnix());
  EXPECT_EQ(latest["attributes"]["exp"], clock_.NowUnix() + 90 * 86400) << "expiryTime applies";
  ASSERT_TRUE(service_->RunRotationPolicies(clock_.Now()).ok());
  EXPECT_EQ(BodyOf(Call("GET", "kv1", std::string("/keys/k/versions") + kV))["value"].size(), 2u)
      << "idempotent";
  // Deleted keys and keys of deleted vaults are not rotated.
  ASSERT_EQ(Call("DELETE", "kv1", std::string("/keys/k") + kV).status, 200);
  clock_.Advance(std::chrono::hours(24 * 31));
  ASSERT_TRUE(service_->RunRotationPolicies(clock_.Now()).ok());
  ASSERT_EQ(Call("POST", "kv1", std::string("/deletedkeys/k/recover") + kV).status, 200);
  EXPECT_EQ(BodyOf(Call("GET", "kv1", std::string("/keys/k/versions") + kV))["value"].size(), 2u);
  bool audited = false;
  for (const audit::Record& rec : AuditRecords()) {
    if (rec.operation == "KeyRotate" && rec.caller_object_id.empty()) audited = true;
  }
  EXPECT_TRUE(audited);
}

TEST_F(KeysServiceTest, TimeBeforeExpiryPolicyUsesTheVersionsExp) {
  json b = CreateKey("kv1", "k");
  int64_t exp = clock_.NowUnix() + 40 * 86400;
  ASSERT_EQ(
      Call("PATCH", "kv1", std::string("/keys/k") + kV, {{"attributes", {{"exp", exp}}}}).status,
      200);
  ASSERT_EQ(
      Call("PUT", "kv1", std::string("/keys/k/rotationpolicy") + kV,
           {{"lifetimeActions",
             {{{"trigger", {{"timeBeforeExpiry", "P10D"}}}, {"action", {{"type", "Rotate"}}}}}}})
          .status,
      200);
  clock_.Advance(std::chrono::hours(24 * 29));
  ASSERT_TRUE(service_->RunRotationPolicies(clock_.Now()).ok());
  EXPECT_EQ(VersionOf(BodyOf(Call("GET", "kv1", std::string("/keys/k") + kV))), VersionOf(b));
  clock_.Advance(std::chrono::hours(24 * 2));
  ASSERT_TRUE(service_->RunRotationPolicies(clock_.Now()).ok());
  EXPECT_NE(VersionOf(BodyOf(Call("GET", "kv1", std::string("/keys/k") + kV))), VersionOf(b));
}

// ---- Authorization and audit ----

TEST_F(KeysServiceTest, AccessPoliciesDecidePerPermission) {
  CreateKey("kv1", "k");
  identity::Principal reader = NewPrincipal("reader");
  http::Response r = Call("GET", "kv1", std::string("/keys/k") + kV, nullptr, &reader);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "Forbidden/ForbiddenByPolicy");
  std::string msg = BodyOf(r)["error"]["message"];
  EXPECT_NE(msg.find(fmt::format("'appid={};oid={};iss=https://localhost:8443/adfs'", reader.app_id,
                                 reader.object_id)),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("does not have keys get permission on key vault 'kv1;location=westeurope'"),
            std::string::npos)
      << msg;
  SetAccessPolicies("kv1",
                    json::array({test::PolicyEntry(owner_, {"all"}),
                                 test::PolicyEntry(reader, {"wrapKey", "unwrapKey", "get"})}));
  EXPECT_EQ(Call("GET", "kv1", std::string("/keys/k") + kV, nullptr, &reader).status, 200);
  r = Call("DELETE", "kv1", std::string("/keys/k") + kV, nullptr, &reader);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(BodyOf(r)["error"]["message"].get<std::string>().find("keys delete permission"),
            std::string::npos);
  EXPECT_EQ(Call("GET", "kv1", std::string("/keys") + kV, nullptr, &reader).status, 403);
  // Permission is checked before existence.
  EXPECT_EQ(Call("DELETE", "kv1", std::string("/keys/nokey") + kV, nullptr, &reader).status, 403);
}

TEST_F(KeysServiceTest, RbacVaultUsesRoleAssignments) {
  VaultRecord v = CreateVault("rbackv", {.rbac = true, .owner_policy = false});
  identity::Principal app = NewPrincipal("app");
  http::Response r = Call("POST", "rbackv", std::string("/keys/k/create") + kV, {{"kty", "RSA"}});
  EXPECT_EQ(ErrorCode(r), "Forbidden/ForbiddenByRbac") << "access policies do not apply";
  Assign(v.id, std::string(authz::kKeyVaultCryptoOfficerRoleId), owner_);
  json b = CreateKey("rbackv", "k");
  r = Call("POST", "rbackv", fmt::format("/keys/k/{}/wrapkey{}", VersionOf(b), kV),
           {{"alg", "RSA-OAEP"}, {"value", "AQID"}}, &app);
  EXPECT_EQ(ErrorCode(r), "Forbidden/ForbiddenByRbac");
  EXPECT_NE(BodyOf(r)["error"]["message"].get<std::string>().find(
                "Action: 'Microsoft.KeyVault/vaults/keys/wrap/action'"),
            std::string::npos);
  Assign(v.id, std::string(authz::kKeyVaultCryptoUserRoleId), app);
  r = Call("POST", "rbackv", fmt::format("/keys/k/{}/wrapkey{}", VersionOf(b), kV),
           {{"alg", "RSA-OAEP"}, {"value", "AQID"}}, &app);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ErrorCode(Call("DELETE", "rbackv", std::string("/keys/k") + kV, nullptr, &app)),
            "Forbidden/ForbiddenByRbac");
}

TEST_F(KeysServiceTest, ManagedIdentitiesAreCheckedLikeAnyPrincipal) {
  json b = CreateKey("kv1", "cmk");
  auto mi = identity_->directory().CreateManagedIdentity(
      "/subscriptions/" + std::string(test::kSubscription) +
      "/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/des1");
  ASSERT_TRUE(mi.ok()) << mi.status().ToString();
  std::string dek = Base64UrlEncode(std::vector<uint8_t>(32, 3));
  http::Response r =
      Op("cmk", VersionOf(b), "wrapkey", {{"alg", "RSA-OAEP"}, {"value", dek}}, &*mi);
  EXPECT_EQ(ErrorCode(r), "Forbidden/ForbiddenByPolicy");
  SetAccessPolicies("kv1", json::array({test::PolicyEntry(owner_, {"all"}),
                                        test::PolicyEntry(*mi, {"get", "wrapKey", "unwrapKey"})}));
  r = Op("cmk", VersionOf(b), "wrapkey", {{"alg", "RSA-OAEP"}, {"value", dek}}, &*mi);
  ASSERT_EQ(r.status, 200) << r.body;
  r = Op("cmk", VersionOf(b), "unwrapkey", {{"alg", "RSA-OAEP"}, {"value", BodyOf(r)["value"]}},
         &*mi);
  EXPECT_EQ(r.status, 200);
}

TEST_F(KeysServiceTest, EveryKeyOperationIsAudited) {
  json b = CreateKey("kv1", "k");
  identity::Principal other = NewPrincipal("other");
  Op("k", VersionOf(b), "wrapkey", {{"alg", "RSA-OAEP"}, {"value", "AQID"}});
  Op("k", VersionOf(b), "unwrapkey", {{"alg", "RSA-OAEP"}, {"value", "AQID"}}, &other);
  std::vector<audit::Record> records = AuditRecords();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].operation, "KeyCreate");
  EXPECT_EQ(records[0].caller_object_id, owner_.object_id);
  EXPECT_EQ(records[0].vault, "kv1");
  EXPECT_EQ(records[0].object, "k");
  EXPECT_EQ(records[0].version, VersionOf(b));
  EXPECT_EQ(records[0].status, 200);
  EXPECT_EQ(records[0].result, "Success");
  EXPECT_FALSE(records[0].request_id.empty());
  EXPECT_EQ(records[1].operation, "KeyWrap");
  EXPECT_EQ(records[2].operation, "KeyUnwrap");
  EXPECT_EQ(records[2].caller_object_id, other.object_id);
  EXPECT_EQ(records[2].status, 403);
  EXPECT_EQ(records[2].result, "ForbiddenByPolicy");
  EXPECT_EQ(records[2].client_ip, "127.0.0.1:50000");
}

TEST_F(KeysServiceTest, CachedMaterialIsUsedAfterReopen) {
  json b = CreateKey("kv1", "k");
  std::string ct = BodyOf(
      Op("k", VersionOf(b), "encrypt", {{"alg", "RSA-OAEP-256"}, {"value", "AQIDBA"}}))["value"];
  // A fresh service (empty cache) reads the sealed material from the store.
  KeysServiceDeps deps;
  deps.store = store_.get();
  deps.clock = &clock_;
  deps.random = &CryptoRandom();
  deps.authenticator = &identity_->authenticator();
  deps.authorizer = rbac_.get();
  std::vector<uint8_t> root(32, 1);
  deps.backup_key = std::move(DeriveBackupKey(root)).value();
  service_ = std::make_unique<KeysService>(std::move(deps));
  router_ = http::Router();
  service_->AddRoutes(router_);
  EXPECT_EQ(service_->key_store().cache().size(), 0u);
  http::Response r = Op("k", VersionOf(b), "decrypt", {{"alg", "RSA-OAEP-256"}, {"value", ct}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["value"], "AQIDBA");
  EXPECT_EQ(service_->key_store().cache().size(), 1u);
}

}  // namespace
}  // namespace byok::keyvault

namespace byok::keyvault {
namespace {

// Handler cost without TLS and HTTP: run with --gtest_also_run_disabled_tests.
TEST_F(KeysServiceTest, DISABLED_HandlerCostPerWrapAndUnwrap) {
  json b = CreateKey("kv1", "bench");
  std::string path = fmt::format("/keys/bench/{}/", VersionOf(b));
  std::string wrap_body =
      json({{"alg", "RSA-OAEP-256"}, {"value", Base64UrlEncode(std::vector<uint8_t>(32, 1))}})
          .dump();
  http::Response first = Send(Request("POST", "kv1", path + "wrapkey" + kV, wrap_body));
  std::string unwrap_body =
      json({{"alg", "RSA-OAEP-256"}, {"value", BodyOf(first)["value"]}}).dump();
  http::Request wrap = Request("POST", "kv1", path + "wrapkey" + kV, wrap_body);
  http::Request unwrap = Request("POST", "kv1", path + "unwrapkey" + kV, unwrap_body);
  for (auto [label, req] : {std::pair{"wrap", &wrap}, {"unwrap", &unwrap}}) {
    constexpr int kN = 2000;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kN; ++i) {
      http::Response r = Send(*req);
      ASSERT_EQ(r.status, 200);
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    std::printf("%s: %.1f us per request (handler only)\n", label, double(us) / kN);
  }
}

}  // namespace
}  // namespace byok::keyvault
