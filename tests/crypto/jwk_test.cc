#include "crypto/jwk.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>

#include "common/encoding.h"
#include "crypto/crypto_test_helpers.h"

namespace byok::crypto {
namespace {

using json = nlohmann::json;
using crypto_test::TestData;
using crypto_test::TestEcKey;
using crypto_test::TestRsaKey;

std::vector<uint8_t> Member(const json& jwk, const char* name) {
  Result<std::vector<uint8_t>> bytes = Base64UrlDecode(jwk.at(name).get<std::string>());
  EXPECT_TRUE(bytes.ok()) << name;
  return bytes.value_or({});
}

json RfcRsaJwk() { return json::parse(TestData("rfc7515_a2_rsa.jwk.json")); }
json RfcEcJwk() { return json::parse(TestData("rfc7515_a3_ec.jwk.json")); }

TEST(JwkTest, RsaPublicExport) {
  Result<json> jwk = PublicKeyToJwk(TestRsaKey(2048).Public());
  ASSERT_TRUE(jwk.ok());
  EXPECT_EQ((*jwk)["kty"], "RSA");
  EXPECT_EQ((*jwk)["e"], "AQAB");
  std::vector<uint8_t> n = Member(*jwk, "n");
  ASSERT_EQ(n.size(), 256u);
  EXPECT_NE(n[0], 0);  // no leading zero byte
  EXPECT_FALSE(jwk->contains("d"));
}

TEST(JwkTest, RsaPrivateRoundTrip) {
  for (int bits : {2048, 3072}) {
    const PrivateKey& key = TestRsaKey(bits);
    Result<json> jwk = PrivateKeyToJwk(key);
    ASSERT_TRUE(jwk.ok());
    for (const char* m : {"n", "e", "d", "p", "q", "dp", "dq", "qi"}) {
      ASSERT_TRUE(jwk->contains(m)) << m;
      std::vector<uint8_t> bytes = Member(*jwk, m);
      ASSERT_FALSE(bytes.empty()) << m;
      EXPECT_NE(bytes[0], 0) << m << " has a leading zero byte";
    }
    Result<PrivateKey> back = PrivateKeyFromJwk(*jwk);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(back->Public().Equals(key.Public()));
    Result<PublicKey> pub = PublicKeyFromJwk(*jwk);  // private members ignored
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    EXPECT_TRUE(pub->Equals(key.Public()));
  }
}

TEST(JwkTest, EcRoundTripAllCurves) {
  for (Curve c : {Curve::kP256, Curve::kP384, Curve::kP521}) {
    const PrivateKey& key = TestEcKey(c);
    Result<json> jwk = PrivateKeyToJwk(key);
    ASSERT_TRUE(jwk.ok());
    EXPECT_EQ((*jwk)["kty"], "EC");
    EXPECT_EQ((*jwk)["crv"], std::string(CurveName(c)));
    for (const char* m : {"x", "y", "d"}) {
      EXPECT_EQ(Member(*jwk, m).size(), CurveByteSize(c)) << m;  // full size, even if leading 0
    }
    Result<PrivateKey> back = PrivateKeyFromJwk(*jwk);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(back->Public().Equals(key.Public()));
    Result<json> pub_jwk = PublicKeyToJwk(key.Public());
    ASSERT_TRUE(pub_jwk.ok());
    EXPECT_FALSE(pub_jwk->contains("d"));
    Result<PublicKey> pub = PublicKeyFromJwk(*pub_jwk);
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    EXPECT_TRUE(pub->Equals(key.Public()));
  }
}

TEST(JwkTest, ImportsRfc7515Keys) {
  Result<PrivateKey> rsa = PrivateKeyFromJwk(RfcRsaJwk());
  ASSERT_TRUE(rsa.ok()) << rsa.status().ToString();
  EXPECT_EQ(rsa->bits(), 2048);
  // Export reproduces the RFC's members exactly.
  Result<json> again = PrivateKeyToJwk(*rsa);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, RfcRsaJwk());

  Result<PrivateKey> ec = PrivateKeyFromJwk(RfcEcJwk());
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
  EXPECT_EQ(ec->curve(), Curve::kP256);
  Result<json> ec_again = PrivateKeyToJwk(*ec);
  ASSERT_TRUE(ec_again.ok());
  EXPECT_EQ(*ec_again, RfcEcJwk());
}

TEST(JwkTest, AcceptsKeyVaultHsmKtyAndIgnoresExtraMembers) {
  json jwk = RfcRsaJwk();
  jwk["kty"] = "RSA-HSM";
  jwk["kid"] = "https://vault.localhost/keys/k/1";
  jwk["key_ops"] = {"encrypt", "decrypt"};
  EXPECT_TRUE(PrivateKeyFromJwk(jwk).ok());
  json ec = RfcEcJwk();
  ec["kty"] = "EC-HSM";
  EXPECT_TRUE(PublicKeyFromJwk(ec).ok());
}

struct BadJwkCase {
  std::string name;
  json jwk;
  bool is_private;
};

// Replaces a member's base64url value with a modified byte string.
json WithBytes(json jwk, const char* member, std::vector<uint8_t> bytes) {
  jwk[member] = Base64UrlEncode(bytes);
  return jwk;
}

std::vector<BadJwkCase> BadJwks() {
  std::vector<BadJwkCase> cases;
  const json rsa = RfcRsaJwk();
  const json ec = RfcEcJwk();
  cases.push_back({"not an object", json::array({1, 2}), true});
  cases.push_back({"null", json(), false});
  cases.push_back({"no kty", json{{"n", "AQAB"}}, false});
  cases.push_back({"kty oct", json{{"kty", "oct"}, {"k", "AAAA"}}, true});
  cases.push_back({"kty number", json{{"kty", 1}}, true});
  for (const char* m : {"n", "e", "d", "p", "q", "dp", "dq", "qi"}) {
    json j = rsa;
    j.erase(m);
    cases.push_back({std::string("rsa missing ") + m, j, true});
    json k = rsa;
    k[m] = 12345;
    cases.push_back({std::string("rsa non-string ") + m, k, true});
  }
  for (const char* m : {"crv", "x", "y", "d"}) {
    json j = ec;
    j.erase(m);
    cases.push_back({std::string("ec missing ") + m, j, true});
  }
  {
    json j = rsa;
    j["n"] = j["n"].get<std::string>() + "=";
    cases.push_back({"padding", j, false});
    json k = rsa;
    std::string n = k["n"].get<std::string>();
    n[10] = '+';
    k["n"] = n;
    cases.push_back({"base64 not url", k, false});
    json l = rsa;
    l["e"] = "AQAC";  // 'C' leaves a set unused bit: non-canonical
    cases.push_back({"non-canonical base64url", l, false});
    json m = rsa;
    m["n"] = "";
    cases.push_back({"empty n", m, false});
  }
  {
    json j = rsa;
    j["oth"] = json::array();
    cases.push_back({"multi-prime", j, true});
  }
  {
    // Inconsistent private keys: alter one CRT value, swap in another key's d.
    std::vector<uint8_t> qi = Member(rsa, "qi");
    qi[5] ^= 1;
    cases.push_back({"altered qi", WithBytes(rsa, "qi", qi), true});
    std::vector<uint8_t> p = Member(rsa, "p");
    p.back() ^= 2;
    cases.push_back({"altered p", WithBytes(rsa, "p", p), true});
    Result<json> other = PrivateKeyToJwk(crypto_test::TestRsaKey(2048));
    json j = rsa;
    j["d"] = (*other)["d"];
    cases.push_back({"other key's d", j, true});
    std::vector<uint8_t> e = {0x01};
    cases.push_back({"e = 1", WithBytes(rsa, "e", e), false});
    std::vector<uint8_t> even_n = Member(rsa, "n");
    even_n.back() &= 0xFE;
    cases.push_back({"even modulus", WithBytes(rsa, "n", even_n), false});
  }
  {
    std::vector<uint8_t> n(128, 0xC3);
    n.back() = 0xC5;
    json j = {{"kty", "RSA"}, {"n", Base64UrlEncode(n)}, {"e", "AQAB"}};
    cases.push_back({"1024-bit modulus", j, false});
    std::vector<uint8_t> huge(1100, 0xC3);
    json k = {{"kty", "RSA"}, {"n", Base64UrlEncode(huge)}, {"e", "AQAB"}};
    cases.push_back({"8800-bit modulus", k, false});
  }
  {
    json j = ec;
    j["crv"] = "P-256K";
    cases.push_back({"secp256k1", j, false});
    json k = ec;
    k["crv"] = "P-384";
    cases.push_back({"crv mismatch with sizes", k, false});
    std::vector<uint8_t> x = Member(ec, "x");
    x.erase(x.begin());
    cases.push_back({"short x", WithBytes(ec, "x", x), false});
    std::vector<uint8_t> y = Member(ec, "y");
    y.insert(y.begin(), 0);
    cases.push_back({"long y", WithBytes(ec, "y", y), false});
    std::vector<uint8_t> bad_y = Member(ec, "y");
    bad_y[7] ^= 0x10;
    cases.push_back({"point not on curve", WithBytes(ec, "y", bad_y), false});
    std::vector<uint8_t> d = Member(ec, "d");
    d[3] ^= 1;
    cases.push_back({"d does not match", WithBytes(ec, "d", d), true});
    std::vector<uint8_t> zero(32, 0);
    cases.push_back({"d zero", WithBytes(ec, "d", zero), true});
    std::vector<uint8_t> order_like(32, 0xFF);
    cases.push_back({"d >= order", WithBytes(ec, "d", order_like), true});
  }
  return cases;
}

TEST(JwkTest, RejectsMalformedJwks) {
  for (const BadJwkCase& c : BadJwks()) {
    if (c.is_private) {
      Result<PrivateKey> key = PrivateKeyFromJwk(c.jwk);
      EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument)
          << c.name << ": " << key.status().ToString();
    } else {
      Result<PublicKey> key = PublicKeyFromJwk(c.jwk);
      EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument)
          << c.name << ": " << key.status().ToString();
      Result<PrivateKey> priv = PrivateKeyFromJwk(c.jwk);
      EXPECT_EQ(priv.status().code(), StatusCode::kInvalidArgument) << c.name << " (private)";
    }
    EXPECT_EQ(ERR_peek_error(), 0u) << c.name << ": OpenSSL error queue not cleared";
  }
}

}  // namespace
}  // namespace byok::crypto
