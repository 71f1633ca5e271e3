#include "identity/signing_key.h"

#include <gtest/gtest.h>

#include "crypto/jwk.h"
#include "crypto/jwt.h"
#include "identity/identity_test_helpers.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;

TEST(SigningKeyThumbprintTest, Rfc7638Example) {
  // RFC 7638 section 3.1.
  json jwk = {{"kty", "RSA"},
              {"n",
               "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6"
               "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5"
               "v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbIS"
               "D08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEg"
               "U8awapJzKnqDKgw"},
              {"e", "AQAB"},
              {"alg", "RS256"},
              {"kid", "2011-04-29"}};
  ASSERT_OK_AND_ASSIGN(crypto::PublicKey key, crypto::PublicKeyFromJwk(jwk));
  ASSERT_OK_AND_ASSIGN(std::string tp, SigningKey::Thumbprint(key));
  EXPECT_EQ(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

class SigningKeyTest : public test::StoreFixture {};

TEST_F(SigningKeyTest, CreatedOnceSealedAndReloaded) {
  ASSERT_OK_AND_ASSIGN(auto key, SigningKey::LoadOrCreate(*store_));
  EXPECT_EQ(key->public_key().type(), crypto::KeyType::kRsa);
  EXPECT_EQ(key->public_key().bits(), 2048);
  ASSERT_OK_AND_ASSIGN(std::string tp, SigningKey::Thumbprint(key->public_key()));
  EXPECT_EQ(key->kid(), tp);

  ASSERT_OK_AND_ASSIGN(auto again, SigningKey::LoadOrCreate(*store_));
  EXPECT_EQ(again->kid(), key->kid());
  ReopenStore();
  ASSERT_OK_AND_ASSIGN(auto reloaded, SigningKey::LoadOrCreate(*store_));
  EXPECT_EQ(reloaded->kid(), key->kid());
  EXPECT_TRUE(reloaded->public_key().Equals(key->public_key()));

  // Sealed in the store under its kid; recorded in meta.
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto names, txn->ListSecrets(kSigningKeySecretPrefix));
  EXPECT_EQ(names, std::vector<std::string>{kSigningKeySecretPrefix + key->kid()});
  ASSERT_OK_AND_ASSIGN(auto kid, txn->GetMeta(kMetaSigningKid));
  EXPECT_EQ(kid, key->kid());
  // No PEM in the database file.
  txn.reset();
  store_.reset();
  std::string db =
      test::ReadFileOrEmpty(dir_.File("byok.db")) + test::ReadFileOrEmpty(dir_.File("byok.db-wal"));
  EXPECT_EQ(db.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(SigningKeyTest, JwksPublishesThePublicKey) {
  ASSERT_OK_AND_ASSIGN(auto key, SigningKey::LoadOrCreate(*store_));
  const json& jwks = key->Jwks();
  ASSERT_EQ(jwks["keys"].size(), 1u);
  const json& k = jwks["keys"][0];
  EXPECT_EQ(k["kty"], "RSA");
  EXPECT_EQ(k["use"], "sig");
  EXPECT_EQ(k["alg"], "RS256");
  EXPECT_EQ(k["kid"], key->kid());
  EXPECT_FALSE(k.contains("d"));
  ASSERT_OK_AND_ASSIGN(crypto::PublicKey pub, crypto::PublicKeyFromJwk(k));
  EXPECT_TRUE(pub.Equals(key->public_key()));
}

TEST_F(SigningKeyTest, SignAndVerify) {
  ASSERT_OK_AND_ASSIGN(auto key, SigningKey::LoadOrCreate(*store_));
  ASSERT_OK_AND_ASSIGN(std::string token, key->Sign({{"sub", "x"}, {"exp", 1}}));
  ASSERT_OK_AND_ASSIGN(crypto::ParsedJwt jwt, crypto::ParseJwt(token));
  EXPECT_EQ(jwt.header["kid"], key->kid());
  EXPECT_OK(key->Verify(jwt));

  // Another key, claiming our kid or its own: refused.
  ASSERT_OK_AND_ASSIGN(crypto::PrivateKey other_pk, crypto::GenerateRsaKey(2048));
  ASSERT_OK_AND_ASSIGN(auto other, SigningKey::FromKey(other_pk.Clone()));
  ASSERT_OK_AND_ASSIGN(std::string forged_own_kid, other->Sign({{"sub", "x"}}));
  EXPECT_EQ(key->Verify(*crypto::ParseJwt(forged_own_kid)).code(), StatusCode::kUnauthenticated);
  ASSERT_OK_AND_ASSIGN(std::string forged_our_kid,
                       crypto::EncodeJwt({{"kid", key->kid()}}, {{"sub", "x"}}, other_pk));
  EXPECT_EQ(key->Verify(*crypto::ParseJwt(forged_our_kid)).code(), StatusCode::kUnauthenticated);
  // No kid at all: still checked against our key.
  ASSERT_OK_AND_ASSIGN(std::string no_kid, crypto::EncodeJwt(nullptr, {{"sub", "x"}}, other_pk));
  EXPECT_EQ(key->Verify(*crypto::ParseJwt(no_kid)).code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace byok::identity
