#include "identity/client_secret.h"

#include <openssl/evp.h>

#include <set>

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "identity/identity_test_helpers.h"

namespace byok::identity {
namespace {

TEST(ClientSecretTest, GeneratedSecretsAreAzureLikeAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string s = GenerateClientSecret(CryptoRandom());
    ASSERT_EQ(s.size(), kClientSecretLength);
    EXPECT_NE(s.front(), '-') << "the CLI would read it as an option";
    for (char c : s) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << s;
    }
    EXPECT_TRUE(seen.insert(s).second);
  }
}

TEST(ClientSecretTest, NeverStartsWithDashEvenWhenTheRandomStreamWouldSaySo) {
  // 0xf8 → base64url "-" first; the seeded stream hits it regularly over many draws.
  SeededRandom random(7);
  for (int i = 0; i < 2000; ++i) EXPECT_NE(GenerateClientSecret(random).front(), '-');
}

TEST(ClientSecretTest, HashIsSaltedPbkdf2Sha256AndVerifies) {
  const std::string secret = "s3cr3t-Value_0123456789abcdefghijklmnopq";
  ASSERT_OK_AND_ASSIGN(SecretHash h,
                       HashClientSecret(secret, CryptoRandom(), kMinPbkdf2Iterations));
  EXPECT_EQ(h.algorithm, "PBKDF2-HMAC-SHA256");
  EXPECT_EQ(h.iterations, kMinPbkdf2Iterations);
  EXPECT_EQ(h.salt.size(), kSecretSaltSize);
  EXPECT_EQ(h.hash.size(), kSecretHashSize);

  // Independent computation with OpenSSL: PBKDF2-HMAC-SHA256(secret, salt, iterations, 32).
  std::vector<uint8_t> expected(32);
  ASSERT_EQ(PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), h.salt.data(),
                              static_cast<int>(h.salt.size()), h.iterations, EVP_sha256(), 32,
                              expected.data()),
            1);
  EXPECT_EQ(h.hash, expected);

  EXPECT_TRUE(VerifyClientSecretHash(h, secret));
  EXPECT_FALSE(VerifyClientSecretHash(h, secret + "x"));
  EXPECT_FALSE(VerifyClientSecretHash(h, ""));
  EXPECT_FALSE(VerifyClientSecretHash(h, secret.substr(0, 39)));

  // The stored form never contains the secret.
  std::string stored = h.ToJson().dump();
  EXPECT_EQ(stored.find(secret), std::string::npos);
  EXPECT_EQ(stored.find(Base64Encode(AsBytes(secret))), std::string::npos);
}

TEST(ClientSecretTest, SameSecretGetsDifferentSalts) {
  ASSERT_OK_AND_ASSIGN(SecretHash a, HashClientSecret("same", CryptoRandom(), 0));
  ASSERT_OK_AND_ASSIGN(SecretHash b, HashClientSecret("same", CryptoRandom(), 0));
  EXPECT_NE(a.salt, b.salt);
  EXPECT_NE(a.hash, b.hash);
  // Iterations below the floor are raised to it.
  EXPECT_EQ(a.iterations, kMinPbkdf2Iterations);
}

TEST(ClientSecretTest, OneFlippedBitAnywhereFails) {
  ASSERT_OK_AND_ASSIGN(SecretHash h, HashClientSecret("pw", CryptoRandom(), 0));
  for (size_t i : {size_t{0}, size_t{15}, size_t{31}}) {
    SecretHash t = h;
    t.hash[i] ^= 1;
    EXPECT_FALSE(VerifyClientSecretHash(t, "pw")) << i;
  }
  SecretHash salted = h;
  salted.salt[0] ^= 1;
  EXPECT_FALSE(VerifyClientSecretHash(salted, "pw"));
  SecretHash short_hash = h;
  short_hash.hash.pop_back();
  EXPECT_FALSE(VerifyClientSecretHash(short_hash, "pw"));
  SecretHash weak = h;
  weak.iterations = 1;
  EXPECT_FALSE(VerifyClientSecretHash(weak, "pw"));
}

TEST(ClientSecretTest, JsonRoundTripAndStrictParsing) {
  ASSERT_OK_AND_ASSIGN(SecretHash h, HashClientSecret("pw", CryptoRandom(), 0));
  nlohmann::json j = h.ToJson();
  ASSERT_OK_AND_ASSIGN(SecretHash back, SecretHash::FromJson(j));
  EXPECT_EQ(back.salt, h.salt);
  EXPECT_EQ(back.hash, h.hash);
  EXPECT_EQ(back.iterations, h.iterations);
  EXPECT_TRUE(VerifyClientSecretHash(back, "pw"));

  for (auto mutate : std::vector<std::function<void(nlohmann::json&)>>{
           [](auto& x) { x["algorithm"] = "MD5"; },
           [](auto& x) { x["iterations"] = 1000; },
           [](auto& x) { x["iterations"] = "100000"; },
           [](auto& x) { x["salt"] = "!!"; },
           [](auto& x) { x["hash"] = Base64Encode(std::vector<uint8_t>(31, 0)); },
           [](auto& x) { x.erase("salt"); },
           [](auto& x) { x = nlohmann::json::array(); },
       }) {
    nlohmann::json bad = j;
    mutate(bad);
    EXPECT_FALSE(SecretHash::FromJson(bad).ok()) << bad.dump();
  }
}

}  // namespace
}  // namespace byok::identity
