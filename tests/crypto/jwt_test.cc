#include "crypto/jwt.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>

#include "common/encoding.h"
#include "common/random.h"
#include "crypto/crypto_test_helpers.h"
#include "crypto/jwk.h"

namespace byok::crypto {
namespace {

using json = nlohmann::json;
using crypto_test::TestData;
using crypto_test::TestEcKey;
using crypto_test::TestRsaKey;

// RFC 7515 appendix A.2.
constexpr const char* kRfcToken =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
    "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

std::string B64(std::string_view text) { return Base64UrlEncode(AsBytes(text)); }

// A token from raw parts (no signing): header JSON text, claims JSON text, signature part.
std::string Token(std::string_view header, std::string_view claims, std::string_view sig_b64) {
  return B64(header) + "." + B64(claims) + "." + std::string(sig_b64);
}

const std::string kSig = Base64UrlEncode(std::vector<uint8_t>(256, 0x11));

TEST(JwtTest, EncodeParseVerifyRoundTrip) {
  const PrivateKey& key = TestRsaKey(2048);
  json claims = {{"iss", "https://login.localhost/tenant/"},
                 {"aud", "https://vault.localhost"},
                 {"exp", 2000000000},
                 {"oid", "0f1e2d3c"},
                 {"nested", {{"a", {1, 2, 3}}}}};
  Result<std::string> token = EncodeJwt({{"kid", "key-1"}}, claims, key);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  Result<ParsedJwt> jwt = ParseJwt(*token);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  EXPECT_EQ(jwt->header["alg"], "RS256");
  EXPECT_EQ(jwt->header["typ"], "JWT");
  EXPECT_EQ(jwt->header["kid"], "key-1");
  EXPECT_EQ(jwt->claims, claims);
  EXPECT_EQ(jwt->signature.size(), 256u);
  EXPECT_EQ(jwt->signing_input, token->substr(0, token->rfind('.')));
  EXPECT_TRUE(VerifyJwtSignature(*jwt, key.Public()).ok());

  // Null header_extra is fine too.
  Result<std::string> plain = EncodeJwt(nullptr, {{"sub", "x"}}, TestRsaKey(3072));
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(VerifyJwtSignature(*ParseJwt(*plain), TestRsaKey(3072).Public()).ok());
}

TEST(JwtTest, Rfc7515AppendixA2Token) {
  Result<ParsedJwt> jwt = ParseJwt(kRfcToken);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  EXPECT_EQ(jwt->header, json({{"alg", "RS256"}}));
  EXPECT_EQ(jwt->claims["iss"], "joe");
  EXPECT_EQ(jwt->claims["exp"], 1300819380);
  EXPECT_EQ(jwt->claims["http://example.com/is_root"], true);
  Result<PublicKey> key = PublicKeyFromJwk(json::parse(TestData("rfc7515_a2_rsa.jwk.json")));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(VerifyJwtSignature(*jwt, *key).ok());
  EXPECT_EQ(VerifyJwtSignature(*jwt, TestRsaKey(2048).Public()).code(),
            StatusCode::kUnauthenticated);
  // Expired long ago.
  EXPECT_EQ(ValidateTimeClaims(jwt->claims, 1700000000, 300).code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(ValidateTimeClaims(jwt->claims, 1300819380 - 10, 0).ok());
}

TEST(JwtTest, EncodeRejectsBadInput) {
  const PrivateKey& key = TestRsaKey(2048);
  EXPECT_EQ(EncodeJwt(nullptr, {{"a", 1}}, TestEcKey(Curve::kP256)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJwt(nullptr, json::array(), key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJwt(nullptr, "claims", key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJwt({{"alg", "HS256"}}, {{"a", 1}}, key).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJwt({{"alg", "none"}}, {{"a", 1}}, key).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJwt({{"crit", {"exp"}}}, {{"a", 1}}, key).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJwt(json::array(), {{"a", 1}}, key).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJwt(nullptr, {{"bad", std::string("\xff\xfe")}}, key).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJwt(nullptr, {{"big", std::string(kMaxJwtSize, 'a')}}, key).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(EncodeJwt({{"alg", "RS256"}}, {{"a", 1}}, key).ok());
}

struct BadToken {
  std::string name;
  std::string token;
};

std::vector<BadToken> BadTokens() {
  const std::string header = R"({"alg":"RS256","typ":"JWT"})";
  const std::string claims = R"({"sub":"x","exp":2000000000})";
  const std::string good = Token(header, claims, kSig);
  std::string deep_array = std::string(17, '[') + std::string(17, ']');
  std::string deep_claims = R"({"a":)" + deep_array + "}";
  std::vector<BadToken> t = {
      {"empty", ""},
      {"too large", good + std::string(kMaxJwtSize, 'A')},
      {"one part", B64(header)},
      {"two parts", B64(header) + "." + B64(claims)},
      {"four parts", good + ".abc"},
      {"empty header", "." + B64(claims) + "." + kSig},
      {"empty claims", B64(header) + ".." + kSig},
      {"empty signature (alg none style)", B64(header) + "." + B64(claims) + "."},
      {"only dots", ".."},
      {"padding", B64(header) + "=." + B64(claims) + "." + kSig},
      {"std base64 alphabet",
       B64(header) + "." + B64(claims) + "." + kSig.substr(0, 8) + "+/" + kSig.substr(10)},
      {"space", B64(header) + " ." + B64(claims) + "." + kSig},
      {"newline", B64(header) + ".\n" + B64(claims) + "." + kSig},
      {"non-canonical base64url", B64(header) + "." + B64(claims) + "." + "AB"},
      {"bad base64url length", B64(header) + "." + B64(claims) + "." + "ABCDE"},
      {"header not JSON", Token("alg=RS256", claims, kSig)},
      {"header array", Token(R"(["RS256"])", claims, kSig)},
      {"header string", Token(R"("RS256")", claims, kSig)},
      {"alg none", Token(R"({"alg":"none"})", claims, kSig)},
      {"alg none, no signature", B64(R"({"alg":"none"})") + "." + B64(claims) + "."},
      {"alg HS256", Token(R"({"alg":"HS256"})", claims, kSig)},
      {"alg RS512", Token(R"({"alg":"RS512"})", claims, kSig)},
      {"alg lower case", Token(R"({"alg":"rs256"})", claims, kSig)},
      {"alg missing", Token(R"({"typ":"JWT"})", claims, kSig)},
      {"alg number", Token(R"({"alg":256})", claims, kSig)},
      {"crit", Token(R"({"alg":"RS256","crit":["exp"],"exp":1})", claims, kSig)},
      {"kid not string", Token(R"({"alg":"RS256","kid":7})", claims, kSig)},
      {"typ not string", Token(R"({"alg":"RS256","typ":{}})", claims, kSig)},
      {"duplicate alg", Token(R"({"alg":"none","alg":"RS256"})", claims, kSig)},
      {"duplicate alg reversed", Token(R"({"alg":"RS256","alg":"none"})", claims, kSig)},
      {"duplicate claim", Token(header, R"({"sub":"a","sub":"b"})", kSig)},
      {"duplicate nested claim", Token(header, R"({"x":{"k":1,"k":2}})", kSig)},
      {"claims array", Token(header, "[1,2]", kSig)},
      {"claims number", Token(header, "42", kSig)},
      {"claims trailing garbage", Token(header, claims + "x", kSig)},
      {"claims two objects", Token(header, claims + claims, kSig)},
      {"claims comment", Token(header, R"({/*c*/"a":1})", kSig)},
      {"claims invalid UTF-8", Token(header, "{\"a\":\"\xc3\x28\"}", kSig)},
      {"claims nested too deep", Token(header, deep_claims, kSig)},
      {"header nested too deep", Token(R"({"alg":"RS256","x":)" + deep_array + "}", claims, kSig)},
      {"signature too long",
       B64(header) + "." + B64(claims) + "." + Base64UrlEncode(std::vector<uint8_t>(1025, 1))},
      {"NUL byte", B64(header) + std::string(1, '\0') + "." + B64(claims) + "." + kSig},
  };
  return t;
}

TEST(JwtTest, ParseRejectsHostileTokens) {
  for (const BadToken& c : BadTokens()) {
    Result<ParsedJwt> jwt = ParseJwt(c.token);
    EXPECT_EQ(jwt.status().code(), StatusCode::kInvalidArgument)
        << c.name << ": " << jwt.status().ToString();
  }
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(JwtTest, ParseAcceptsNestingAtTheLimit) {
  std::string nested = std::string(15, '[') + std::string(15, ']');  // depth 16 with the object
  Result<ParsedJwt> jwt = ParseJwt(Token(R"({"alg":"RS256"})", R"({"a":)" + nested + "}", kSig));
  EXPECT_TRUE(jwt.ok()) << jwt.status().ToString();
  // Brackets inside strings don't count.
  Result<ParsedJwt> in_string =
      ParseJwt(Token(R"({"alg":"RS256"})", R"({"a":"[[[[[[[[[[[[[[[[[[[[\"[[[[["})", kSig));
  EXPECT_TRUE(in_string.ok()) << in_string.status().ToString();
}

TEST(JwtTest, VerifyRejectsTampering) {
  const PrivateKey& key = TestRsaKey(2048);
  std::string token = *EncodeJwt(nullptr, {{"sub", "alice"}, {"exp", 2000000000}}, key);
  Result<ParsedJwt> jwt = ParseJwt(token);
  ASSERT_TRUE(jwt.ok());

  // Claims swapped, original signature kept.
  std::string forged = B64(R"({"alg":"RS256","typ":"JWT"})") + "." +
                       B64(R"({"sub":"admin","exp":2000000000})") + token.substr(token.rfind('.'));
  Result<ParsedJwt> forged_jwt = ParseJwt(forged);
  ASSERT_TRUE(forged_jwt.ok());
  EXPECT_EQ(VerifyJwtSignature(*forged_jwt, key.Public()).code(), StatusCode::kUnauthenticated);

  ParsedJwt altered = *jwt;
  altered.signature[3] ^= 1;
  EXPECT_EQ(VerifyJwtSignature(altered, key.Public()).code(), StatusCode::kUnauthenticated);
  ParsedJwt truncated = *jwt;
  truncated.signature.pop_back();
  EXPECT_EQ(VerifyJwtSignature(truncated, key.Public()).code(), StatusCode::kUnauthenticated);

  EXPECT_EQ(VerifyJwtSignature(*jwt, TestRsaKey(3072).Public()).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyJwtSignature(*jwt, TestEcKey(Curve::kP256).Public()).code(),
            StatusCode::kInvalidArgument);
  ParsedJwt none = *jwt;
  none.header["alg"] = "none";
  EXPECT_EQ(VerifyJwtSignature(none, key.Public()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// Deterministic mutation fuzzing: flips, truncations and insertions of a valid token never crash
// and never yield anything but a parsed token or InvalidArgument; a mutated token that still
// parses does not verify unless it is byte-identical in its signed content and signature.
TEST(JwtTest, MutationsAreHandledCleanly) {
  const PrivateKey& key = TestRsaKey(2048);
  const std::string token = *EncodeJwt({{"kid", "k"}}, {{"sub", "s"}, {"n", {1, 2}}}, key);
  PublicKey pub = key.Public();
  SeededRandom rng(12345);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string t = token;
    std::vector<uint8_t> r = rng.Bytes(4);
    size_t pos = (static_cast<size_t>(r[0]) << 8 | r[1]) % t.size();
    switch (r[2] % 4) {
      case 0:
        t[pos] = static_cast<char>(t[pos] ^ (1 << (r[3] % 8)));
        break;
      case 1:
        t.resize(pos);
        break;
      case 2:
        t.insert(pos, 1, static_cast<char>(r[3]));
        break;
      default:
        t.erase(pos, 1);
        break;
    }
    Result<ParsedJwt> jwt = ParseJwt(t);
    if (!jwt.ok()) {
      ASSERT_EQ(jwt.status().code(), StatusCode::kInvalidArgument) << t;
      continue;
    }
    ++parsed;
    Status verified = VerifyJwtSignature(*jwt, pub);
    if (t != token) {
      EXPECT_FALSE(verified.ok()) << "mutated token verified: " << t;
    }
  }
  EXPECT_EQ(ERR_peek_error(), 0u);
  RecordProperty("mutations_that_parsed", parsed);
}

TEST(JwtTest, TimeClaims) {
  const int64_t now = 1700000000;
  struct Case {
    const char* name;
    json claims;
    int64_t skew;
    StatusCode expected;
  };
  const Case cases[] = {
      {"valid", {{"exp", now + 60}}, 0, StatusCode::kOk},
      {"valid with nbf/iat",
       {{"exp", now + 60}, {"nbf", now}, {"iat", now - 5}},
       0,
       StatusCode::kOk},
      {"float exp", {{"exp", now + 0.5}}, 0, StatusCode::kOk},
      {"expired", {{"exp", now - 1}}, 0, StatusCode::kUnauthenticated},
      {"exp == now", {{"exp", now}}, 0, StatusCode::kUnauthenticated},
      {"expired within skew", {{"exp", now - 100}}, 300, StatusCode::kOk},
      {"expired beyond skew", {{"exp", now - 301}}, 300, StatusCode::kUnauthenticated},
      {"not yet valid", {{"exp", now + 600}, {"nbf", now + 100}}, 0, StatusCode::kUnauthenticated},
      {"nbf within skew", {{"exp", now + 600}, {"nbf", now + 100}}, 300, StatusCode::kOk},
      {"iat in future",
       {{"exp", now + 600}, {"iat", now + 400}},
       300,
       StatusCode::kUnauthenticated},
      {"missing exp", {{"nbf", now}}, 0, StatusCode::kInvalidArgument},
      {"string exp", {{"exp", "1700000060"}}, 0, StatusCode::kInvalidArgument},
      {"bool nbf", {{"exp", now + 60}, {"nbf", true}}, 0, StatusCode::kInvalidArgument},
      {"null iat", {{"exp", now + 60}, {"iat", nullptr}}, 0, StatusCode::kInvalidArgument},
      {"not an object", json::array({1}), 0, StatusCode::kInvalidArgument},
      {"negative skew", {{"exp", now + 60}}, -1, StatusCode::kInvalidArgument},
      {"huge exp", {{"exp", 1e300}}, 0, StatusCode::kOk},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ValidateTimeClaims(c.claims, now, c.skew).code(), c.expected) << c.name;
  }
}

}  // namespace
}  // namespace byok::crypto
