#include "crypto/sign.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <atomic>
#include <string>
#include <thread>

#include "common/encoding.h"
#include "crypto/crypto_test_helpers.h"
#include "crypto/jwk.h"

namespace byok::crypto {
namespace {

using crypto_test::Bytes;
using crypto_test::HaveOpensslCli;
using crypto_test::HavePythonCryptography;
using crypto_test::Hex;
using crypto_test::Python;
using crypto_test::ReadBytes;
using crypto_test::RunCommand;
using crypto_test::TempDir;
using crypto_test::TestData;
using crypto_test::TestEcKey;
using crypto_test::TestRsaKey;
using crypto_test::WriteBytes;
using crypto_test::WriteText;

constexpr SignatureAlgorithm kAll[] = {
    SignatureAlgorithm::kRS256, SignatureAlgorithm::kRS384, SignatureAlgorithm::kRS512,
    SignatureAlgorithm::kPS256, SignatureAlgorithm::kPS384, SignatureAlgorithm::kPS512,
    SignatureAlgorithm::kES256, SignatureAlgorithm::kES384, SignatureAlgorithm::kES512,
};

// A key that fits alg.
const PrivateKey& KeyFor(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kES256:
      return TestEcKey(Curve::kP256);
    case SignatureAlgorithm::kES384:
      return TestEcKey(Curve::kP384);
    case SignatureAlgorithm::kES512:
      return TestEcKey(Curve::kP521);
    case SignatureAlgorithm::kRS512:
    case SignatureAlgorithm::kPS512:
      return TestRsaKey(4096);
    case SignatureAlgorithm::kRS384:
    case SignatureAlgorithm::kPS384:
      return TestRsaKey(3072);
    default:
      return TestRsaKey(2048);
  }
}

TEST(SignTest, AlgorithmNames) {
  for (SignatureAlgorithm alg : kAll) {
    Result<SignatureAlgorithm> parsed = ParseSignatureAlgorithm(SignatureAlgorithmName(alg));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, alg);
  }
  for (const char* bad : {"rs256", "HS256", "none", "ES256K", "", "RS1"}) {
    EXPECT_EQ(ParseSignatureAlgorithm(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SignTest, DigestKnownAnswers) {
  // FIPS 180-2 appendix examples: "abc".
  EXPECT_EQ(*Digest(HashAlgorithm::kSha256, Bytes("abc")),
            Hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(*Digest(HashAlgorithm::kSha384, Bytes("abc")),
            Hex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                "8086072ba1e7cc2358baeca134c825a7"));
  EXPECT_EQ(*Digest(HashAlgorithm::kSha512, Bytes("abc")),
            Hex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"));
  EXPECT_EQ(*Digest(SignatureAlgorithm::kES256, {}),
            Hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

TEST(SignTest, RoundTripAllAlgorithms) {
  std::vector<uint8_t> message = Bytes("sign me, Key Vault");
  for (SignatureAlgorithm alg : kAll) {
    const PrivateKey& key = KeyFor(alg);
    std::string name(SignatureAlgorithmName(alg));
    Result<std::vector<uint8_t>> sig = SignMessage(key, alg, message);
    ASSERT_TRUE(sig.ok()) << name << ": " << sig.status().ToString();
    if (key.type() == KeyType::kEc) {
      EXPECT_EQ(sig->size(), 2 * CurveByteSize(*key.curve())) << name;
    } else {
      EXPECT_EQ(sig->size(), static_cast<size_t>(key.bits() / 8)) << name;
    }
    PublicKey pub = key.Public();
    EXPECT_TRUE(*VerifyMessage(pub, alg, message, *sig)) << name;

    // Sign the digest directly: same verification.
    std::vector<uint8_t> digest = *Digest(alg, message);
    Result<std::vector<uint8_t>> sig2 = SignDigest(key, alg, digest);
    ASSERT_TRUE(sig2.ok());
    EXPECT_TRUE(*VerifyDigest(pub, alg, digest, *sig2)) << name;
    EXPECT_TRUE(*VerifyMessage(pub, alg, message, *sig2)) << name;

    // Anything altered does not verify (false, not an error).
    std::vector<uint8_t> bad_sig = *sig;
    bad_sig[bad_sig.size() / 2] ^= 0x80;
    EXPECT_FALSE(*VerifyMessage(pub, alg, message, bad_sig)) << name;
    std::vector<uint8_t> bad_digest = digest;
    bad_digest[0] ^= 1;
    EXPECT_FALSE(*VerifyDigest(pub, alg, bad_digest, *sig)) << name;
    std::vector<uint8_t> short_sig(sig->begin(), sig->end() - 1);
    EXPECT_FALSE(*VerifyMessage(pub, alg, message, short_sig)) << name;
    EXPECT_FALSE(*VerifyMessage(pub, alg, message, {})) << name;
    std::vector<uint8_t> zeros(sig->size(), 0);
    EXPECT_FALSE(*VerifyMessage(pub, alg, message, zeros)) << name;
    EXPECT_EQ(ERR_peek_error(), 0u) << name;
  }
}

TEST(SignTest, WrongKeyDoesNotVerify) {
  std::vector<uint8_t> message = Bytes("m");
  std::vector<uint8_t> sig = *SignMessage(TestRsaKey(2048), SignatureAlgorithm::kPS256, message);
  Result<PrivateKey> other = GenerateRsaKey(2048);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*VerifyMessage(other->Public(), SignatureAlgorithm::kPS256, message, sig));
  Result<PrivateKey> other_ec = GenerateEcKey(Curve::kP256);
  std::vector<uint8_t> es =
      *SignMessage(TestEcKey(Curve::kP256), SignatureAlgorithm::kES256, message);
  EXPECT_FALSE(*VerifyMessage(other_ec->Public(), SignatureAlgorithm::kES256, message, es));
}

TEST(SignTest, Pkcs1IsDeterministicPssAndEcdsaAreNot) {
  std::vector<uint8_t> digest(32, 7);
  EXPECT_EQ(*SignDigest(TestRsaKey(2048), SignatureAlgorithm::kRS256, digest),
            *SignDigest(TestRsaKey(2048), SignatureAlgorithm::kRS256, digest));
  EXPECT_NE(*SignDigest(TestRsaKey(2048), SignatureAlgorithm::kPS256, digest),
            *SignDigest(TestRsaKey(2048), SignatureAlgorithm::kPS256, digest));
  EXPECT_NE(*SignDigest(TestEcKey(Curve::kP256), SignatureAlgorithm::kES256, digest),
            *SignDigest(TestEcKey(Curve::kP256), SignatureAlgorithm::kES256, digest));
}

TEST(SignTest, RejectsBadArguments) {
  std::vector<uint8_t> d32(32, 1), d48(48, 1), d64(64, 1);
  struct Case {
    const char* name;
    const PrivateKey* key;
    SignatureAlgorithm alg;
    std::vector<uint8_t> digest;
  };
  const Case cases[] = {
      {"RS256 short digest", &TestRsaKey(2048), SignatureAlgorithm::kRS256, d48},
      {"RS256 empty digest", &TestRsaKey(2048), SignatureAlgorithm::kRS256, {}},
      {"PS512 sha256-sized digest", &TestRsaKey(2048), SignatureAlgorithm::kPS512, d32},
      {"ES384 digest size", &TestEcKey(Curve::kP384), SignatureAlgorithm::kES384, d64},
      {"RS256 on EC key", &TestEcKey(Curve::kP256), SignatureAlgorithm::kRS256, d32},
      {"PS256 on EC key", &TestEcKey(Curve::kP256), SignatureAlgorithm::kPS256, d32},
      {"ES256 on RSA key", &TestRsaKey(2048), SignatureAlgorithm::kES256, d32},
      {"ES256 on P-384 key", &TestEcKey(Curve::kP384), SignatureAlgorithm::kES256, d32},
      {"ES512 on P-256 key", &TestEcKey(Curve::kP256), SignatureAlgorithm::kES512, d64},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SignDigest(*c.key, c.alg, c.digest).status().code(), StatusCode::kInvalidArgument)
        << c.name;
    std::vector<uint8_t> sig(64, 1);
    EXPECT_EQ(VerifyDigest(c.key->Public(), c.alg, c.digest, sig).status().code(),
              StatusCode::kInvalidArgument)
        << c.name;
  }
}

// Keys are immutable: several threads may sign and verify with the same key at once.
// Contexts come from the key's pool (crypto/ctx_pool.h), one slot per algorithm: a context set
// up for PKCS#1 v1.5 must never serve PSS (or another hash), and a failed verification must not
// leave a context behind that breaks the next call.
TEST(SignTest, PooledContextsKeepTheirAlgorithm) {
  const PrivateKey& key = TestRsaKey(2048);
  PublicKey pub = key.Public();
  std::vector<uint8_t> message = Bytes("pooled");
  std::vector<uint8_t> first_rs256;
  for (int round = 0; round < 3; ++round) {
    for (SignatureAlgorithm alg :
         {SignatureAlgorithm::kRS256, SignatureAlgorithm::kPS256, SignatureAlgorithm::kRS512}) {
      std::string name(SignatureAlgorithmName(alg));
      Result<std::vector<uint8_t>> sig = SignMessage(key, alg, message);
      ASSERT_TRUE(sig.ok()) << name << ": " << sig.status().ToString();
      if (alg == SignatureAlgorithm::kRS256) {
        if (round == 0) first_rs256 = *sig;
        EXPECT_EQ(*sig, first_rs256) << "PKCS#1 v1.5 is deterministic: a PSS context was reused";
      }
      std::vector<uint8_t> bad = *sig;
      bad[7] ^= 1;
      EXPECT_FALSE(*VerifyMessage(pub, alg, message, bad)) << name;
      EXPECT_TRUE(*VerifyMessage(pub, alg, message, *sig)) << name;
      for (SignatureAlgorithm other :
           {SignatureAlgorithm::kRS256, SignatureAlgorithm::kPS256, SignatureAlgorithm::kRS512}) {
        if (other != alg) {
          EXPECT_FALSE(*VerifyMessage(pub, other, message, *sig)) << name;
        }
      }
    }
  }
}

TEST(SignTest, ConcurrentUseOfOneKey) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      SignatureAlgorithm alg = t % 2 == 0 ? SignatureAlgorithm::kRS256 : SignatureAlgorithm::kES256;
      const PrivateKey& key = KeyFor(alg);
      PublicKey pub = key.Public();
      for (int i = 0; i < 25; ++i) {
        std::vector<uint8_t> msg = Bytes("message " + std::to_string(t * 100 + i));
        Result<std::vector<uint8_t>> sig = SignMessage(key, alg, msg);
        if (!sig.ok() || !VerifyMessage(pub, alg, msg, *sig).value_or(false)) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// RFC 7515 appendix A.2: RS256 is deterministic, so the RFC's signature is reproduced exactly.
TEST(SignTest, Rfc7515AppendixA2Rs256) {
  Result<PrivateKey> key =
      PrivateKeyFromJwk(nlohmann::json::parse(TestData("rfc7515_a2_rsa.jwk.json")));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string signing_input =
      "eyJhbGciOiJSUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnV"
      "lfQ";
  const std::string expected =
      "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
      "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
      "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
      "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
  Result<std::vector<uint8_t>> sig =
      SignMessage(*key, SignatureAlgorithm::kRS256, AsBytes(signing_input));
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(Base64UrlEncode(*sig), expected);
  EXPECT_TRUE(
      *VerifyMessage(key->Public(), SignatureAlgorithm::kRS256, AsBytes(signing_input), *sig));
}

// RFC 7515 appendix A.3: verifies the RFC's ES256 signature (JOSE r || s form).
TEST(SignTest, Rfc7515AppendixA3Es256) {
  Result<PublicKey> key =
      PublicKeyFromJwk(nlohmann::json::parse(TestData("rfc7515_a3_ec.jwk.json")));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string signing_input =
      "eyJhbGciOiJFUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnV"
      "lfQ";
  std::vector<uint8_t> sig = *Base64UrlDecode(
      "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q");
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(*VerifyMessage(*key, SignatureAlgorithm::kES256, AsBytes(signing_input), sig));
  sig[63] ^= 1;
  EXPECT_FALSE(*VerifyMessage(*key, SignatureAlgorithm::kES256, AsBytes(signing_input), sig));
}

// Cross-checks with the openssl command line: RS256 and PS256 (salt length 32) both ways.
class SignCliTest : public ::testing::TestWithParam<SignatureAlgorithm> {
 protected:
  void SetUp() override {
    if (!HaveOpensslCli()) GTEST_SKIP() << "openssl command line not installed";
    WriteBytes(dir_.File("key.pem"), key().ToPem()->span());
    WriteText(dir_.File("pub.pem"), *key().Public().ToPem());
    WriteBytes(dir_.File("msg.bin"), message_);
  }
  const PrivateKey& key() const { return TestRsaKey(2048); }
  std::string SigOpts() const {
    return GetParam() == SignatureAlgorithm::kPS256
               ? " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "
                 "-sigopt rsa_mgf1_md:sha256"
               : "";
  }
  TempDir dir_;
  std::vector<uint8_t> message_ = Bytes("a message signed by one and verified by the other");
};

TEST_P(SignCliTest, ByokSignsOpensslVerifies) {
  WriteBytes(dir_.File("sig.bin"), *SignMessage(key(), GetParam(), message_));
  crypto_test::CommandResult r =
      RunCommand("openssl dgst -sha256 -verify " + dir_.File("pub.pem") + SigOpts() +
                 " -signature " + dir_.File("sig.bin") + " " + dir_.File("msg.bin"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Verified OK"), std::string::npos) << r.output;
}

TEST_P(SignCliTest, OpensslSignsByokVerifies) {
  crypto_test::CommandResult r =
      RunCommand("openssl dgst -sha256 -sign " + dir_.File("key.pem") + SigOpts() + " -out " +
                 dir_.File("sig.bin") + " " + dir_.File("msg.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<uint8_t> sig = ReadBytes(dir_.File("sig.bin"));
  EXPECT_TRUE(*VerifyMessage(key().Public(), GetParam(), message_, sig));
  sig[10] ^= 4;
  EXPECT_FALSE(*VerifyMessage(key().Public(), GetParam(), message_, sig));
}

INSTANTIATE_TEST_SUITE_P(Rsa, SignCliTest,
                         ::testing::Values(SignatureAlgorithm::kRS256, SignatureAlgorithm::kPS256),
                         [](const ::testing::TestParamInfo<SignatureAlgorithm>& info) {
                           return std::string(SignatureAlgorithmName(info.param));
                         });

// Cross-checks ECDSA (all curves) with Python's cryptography package: r || s <-> DER.
TEST(SignPythonTest, EcdsaBothWays) {
  if (!HavePythonCryptography()) GTEST_SKIP() << "python3 cryptography not installed";
  TempDir dir;
  std::vector<uint8_t> message = Bytes("ecdsa cross-check");
  WriteBytes(dir.File("msg.bin"), message);
  for (SignatureAlgorithm alg :
       {SignatureAlgorithm::kES256, SignatureAlgorithm::kES384, SignatureAlgorithm::kES512}) {
    const PrivateKey& key = KeyFor(alg);
    std::string name(SignatureAlgorithmName(alg));
    WriteBytes(dir.File("key.pem"), key.ToPem()->span());
    WriteBytes(dir.File("byok.sig"), *SignMessage(key, alg, message));
    std::string hash = alg == SignatureAlgorithm::kES256   ? "SHA256"
                       : alg == SignatureAlgorithm::kES384 ? "SHA384"
                                                           : "SHA512";
    std::string script =
        "import sys\n"
        "from cryptography.hazmat.primitives import hashes, serialization\n"
        "from cryptography.hazmat.primitives.asymmetric import ec, utils\n"
        "d = sys.argv[1]\n"
        "key = serialization.load_pem_private_key(open(d + '/key.pem','rb').read(), None)\n"
        "n = (key.curve.key_size + 7) // 8\n"
        "msg = open(d + '/msg.bin','rb').read()\n"
        "h = hashes." +
        hash +
        "()\n"
        "sig = open(d + '/byok.sig','rb').read()\n"
        "assert len(sig) == 2 * n\n"
        "r, s = int.from_bytes(sig[:n], 'big'), int.from_bytes(sig[n:], 'big')\n"
        "key.public_key().verify(utils.encode_dss_signature(r, s), msg, ec.ECDSA(h))\n"
        "r, s = utils.decode_dss_signature(key.sign(msg, ec.ECDSA(h)))\n"
        "open(d + '/py.sig','wb').write(r.to_bytes(n, 'big') + s.to_bytes(n, 'big'))\n";
    WriteText(dir.File("check.py"), script);
    crypto_test::CommandResult r =
        RunCommand(Python() + " " + dir.File("check.py") + " " + dir.path());
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_TRUE(*VerifyMessage(key.Public(), alg, message, ReadBytes(dir.File("py.sig")))) << name;
  }
}

}  // namespace
}  // namespace byok::crypto
