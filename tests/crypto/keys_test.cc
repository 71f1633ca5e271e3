#include "crypto/keys.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <string>

#include "common/encoding.h"
#include "crypto/crypto_test_helpers.h"

namespace byok::crypto {
namespace {

using crypto_test::TestData;
using crypto_test::TestEcKey;
using crypto_test::TestRsaKey;

std::string PemText(const SecretBytes& pem) { return ToString(pem.span()); }

TEST(KeysTest, CurveNames) {
  for (Curve c : {Curve::kP256, Curve::kP384, Curve::kP521}) {
    Result<Curve> parsed = ParseCurve(CurveName(c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_EQ(CurveByteSize(Curve::kP521), 66u);
  EXPECT_EQ(ParseCurve("P-256K").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCurve("p-256").status().code(), StatusCode::kInvalidArgument);
}

TEST(KeysTest, GenerateRsaRejectsOtherSizes) {
  for (int bits : {0, -1, 1024, 2047, 2049, 8192}) {
    EXPECT_EQ(GenerateRsaKey(bits).status().code(), StatusCode::kInvalidArgument) << bits;
  }
}

TEST(KeysTest, GenerateRsa2048) {
  Result<PrivateKey> key = GenerateRsaKey(2048);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->type(), KeyType::kRsa);
  EXPECT_EQ(key->bits(), 2048);
  EXPECT_FALSE(key->curve().has_value());
  PublicKey pub = key->Public();
  EXPECT_EQ(pub.type(), KeyType::kRsa);
  EXPECT_EQ(pub.bits(), 2048);
}

TEST(KeysTest, GenerateEcAllCurves) {
  for (Curve c : {Curve::kP256, Curve::kP384, Curve::kP521}) {
    Result<PrivateKey> key = GenerateEcKey(c);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(key->type(), KeyType::kEc);
    EXPECT_EQ(key->curve(), c);
    EXPECT_EQ(key->bits(), CurveBits(c));
    EXPECT_EQ(key->Public().curve(), c);
  }
}

TEST(KeysTest, LoadedTestKeysHaveExpectedShape) {
  for (int bits : {2048, 3072, 4096}) {
    EXPECT_EQ(TestRsaKey(bits).bits(), bits);
    EXPECT_EQ(TestRsaKey(bits).type(), KeyType::kRsa);
  }
  EXPECT_EQ(TestEcKey(Curve::kP384).curve(), Curve::kP384);
}

TEST(KeysTest, PrivatePemRoundTrip) {
  for (const PrivateKey* key :
       {&TestRsaKey(2048), &TestEcKey(Curve::kP256), &TestEcKey(Curve::kP521)}) {
    Result<SecretBytes> pem = key->ToPem();
    ASSERT_TRUE(pem.ok());
    std::string text = PemText(*pem);
    EXPECT_EQ(text.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << text.substr(0, 40);
    Result<PrivateKey> again = PrivateKey::FromPem(text);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(again->Public().Equals(key->Public()));
  }
}

TEST(KeysTest, AcceptsTraditionalPem) {
  Result<PrivateKey> rsa = PrivateKey::FromPem(TestData("rsa2048_traditional.pem"));
  ASSERT_TRUE(rsa.ok()) << rsa.status().ToString();
  EXPECT_TRUE(rsa->Public().Equals(TestRsaKey(2048).Public()));
  Result<PrivateKey> ec = PrivateKey::FromPem(TestData("ec_p256_traditional.pem"));
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
  EXPECT_TRUE(ec->Public().Equals(TestEcKey(Curve::kP256).Public()));
}

TEST(KeysTest, PublicPemAndDerRoundTrip) {
  for (const PrivateKey* key : {&TestRsaKey(3072), &TestEcKey(Curve::kP384)}) {
    PublicKey pub = key->Public();
    Result<std::string> pem = pub.ToPem();
    ASSERT_TRUE(pem.ok());
    EXPECT_EQ(pem->rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
    Result<PublicKey> from_pem = PublicKey::FromPem(*pem);
    ASSERT_TRUE(from_pem.ok()) << from_pem.status().ToString();
    EXPECT_TRUE(from_pem->Equals(pub));

    Result<std::vector<uint8_t>> der = pub.ToDer();
    ASSERT_TRUE(der.ok());
    Result<PublicKey> from_der = PublicKey::FromDer(*der);
    ASSERT_TRUE(from_der.ok()) << from_der.status().ToString();
    EXPECT_TRUE(from_der->Equals(pub));
    EXPECT_EQ(from_der->bits(), pub.bits());

    std::vector<uint8_t> trailing = *der;
    trailing.push_back(0);
    EXPECT_EQ(PublicKey::FromDer(trailing).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(KeysTest, PublicKeyHoldsNoPrivateMaterial) {
  PublicKey pub = TestRsaKey(2048).Public();
  BIGNUM* d = nullptr;
  EXPECT_NE(EVP_PKEY_get_bn_param(pub.get(), OSSL_PKEY_PARAM_RSA_D, &d), 1);
  BN_clear_free(d);
  ERR_clear_error();
  Result<std::string> pem = pub.ToPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(PrivateKey::FromPem(*pem).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeysTest, DifferentKeysAreNotEqual) {
  EXPECT_FALSE(TestRsaKey(2048).Public().Equals(TestRsaKey(3072).Public()));
  EXPECT_FALSE(TestEcKey(Curve::kP256).Public().Equals(TestRsaKey(2048).Public()));
}

TEST(KeysTest, CloneSharesKey) {
  PrivateKey clone = TestEcKey(Curve::kP256).Clone();
  ASSERT_TRUE(clone.valid());
  EXPECT_TRUE(clone.Public().Equals(TestEcKey(Curve::kP256).Public()));
}

TEST(KeysTest, MovedFromKeyIsEmptyNotCrashing) {
  PrivateKey key = TestEcKey(Curve::kP256).Clone();
  PrivateKey other = std::move(key);
  EXPECT_TRUE(other.valid());
  EXPECT_FALSE(key.valid());  // NOLINT(bugprone-use-after-move): testing the moved-from state
  EXPECT_EQ(key.ToPem().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(key.Public().valid());
}

struct BadPemCase {
  const char* name;
  std::string pem;
};

TEST(KeysTest, RejectsUnsupportedOrMalformedPrivateKeys) {
  std::string good = TestData("rsa2048.pem");
  std::string truncated = good.substr(0, good.size() / 2);
  std::string corrupted = good;
  corrupted[100] = corrupted[100] == 'A' ? 'B' : 'A';
  const BadPemCase cases[] = {
      {"empty", ""},
      {"garbage", "hello world"},
      {"header only", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"},
      {"bad base64", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"},
      {"truncated", truncated},
      {"corrupted", corrupted},
      {"rsa 1024", TestData("rsa1024.pem")},
      {"secp256k1", TestData("ec_secp256k1.pem")},
      {"ed25519", TestData("ed25519.pem")},
      {"rsa-pss", TestData("rsa_pss2048.pem")},
      {"encrypted pkcs8", TestData("rsa2048_encrypted.pem")},
      {"encrypted traditional", TestData("rsa2048_encrypted_traditional.pem")},
      {"too large", std::string(kMaxKeyEncodingSize + 1, 'A')},
  };
  for (const BadPemCase& c : cases) {
    Result<PrivateKey> key = PrivateKey::FromPem(c.pem);
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(ERR_peek_error(), 0u) << c.name << ": OpenSSL error queue not cleared";
  }
}

TEST(KeysTest, RejectsMalformedPublicKeys) {
  EXPECT_EQ(PublicKey::FromPem("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromPem("junk").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromPem(TestData("rsa2048.pem")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromDer({}).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> junk = {0x30, 0x82, 0x01, 0x22, 0x30};
  EXPECT_EQ(PublicKey::FromDer(junk).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace byok::crypto
