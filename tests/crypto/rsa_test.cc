#include "crypto/rsa.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "common/random.h"
#include "crypto/crypto_test_helpers.h"

namespace byok::crypto {
namespace {

using crypto_test::Bytes;
using crypto_test::HaveOpensslCli;
using crypto_test::ReadBytes;
using crypto_test::RunCommand;
using crypto_test::TempDir;
using crypto_test::TestEcKey;
using crypto_test::TestRsaKey;
using crypto_test::WriteBytes;
using crypto_test::WriteText;

constexpr RsaPadding kAllPaddings[] = {RsaPadding::kOaep, RsaPadding::kOaep256,
                                       RsaPadding::kPkcs1v15};

std::vector<uint8_t> ToVector(const SecretBytes& s) {
  return std::vector<uint8_t>(s.span().begin(), s.span().end());
}

// The pkeyutl options selecting the same padding.
std::string CliPadding(RsaPadding padding) {
  switch (padding) {
    case RsaPadding::kOaep:
      return "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1";
    case RsaPadding::kOaep256:
      return "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 "
             "-pkeyopt rsa_mgf1_md:sha256";
    case RsaPadding::kPkcs1v15:
      return "-pkeyopt rsa_padding_mode:pkcs1";
  }
  return "";
}

TEST(RsaTest, PaddingNames) {
  for (RsaPadding p : kAllPaddings) {
    Result<RsaPadding> parsed = ParseRsaPadding(RsaPaddingName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(ParseRsaPadding("RSA-OAEP-384").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRsaPadding("rsa-oaep").status().code(), StatusCode::kInvalidArgument);
}

TEST(RsaTest, MaxPlaintextSizes) {
  EXPECT_EQ(RsaMaxPlaintextSize(2048, RsaPadding::kOaep), 256u - 42);
  EXPECT_EQ(RsaMaxPlaintextSize(2048, RsaPadding::kOaep256), 256u - 66);
  EXPECT_EQ(RsaMaxPlaintextSize(4096, RsaPadding::kPkcs1v15), 512u - 11);
}

TEST(RsaTest, RoundTripAllPaddingsAndSizes) {
  for (int bits : {2048, 3072, 4096}) {
    const PrivateKey& key = TestRsaKey(bits);
    PublicKey pub = key.Public();
    for (RsaPadding padding : kAllPaddings) {
      size_t max = RsaMaxPlaintextSize(bits, padding);
      for (size_t size : {size_t{0}, size_t{1}, size_t{32}, max}) {
        std::vector<uint8_t> plaintext = CryptoRandom().Bytes(size);
        Result<std::vector<uint8_t>> ct = RsaEncrypt(pub, padding, plaintext);
        ASSERT_TRUE(ct.ok()) << ct.status().ToString();
        EXPECT_EQ(ct->size(), static_cast<size_t>(bits / 8));
        Result<SecretBytes> pt = RsaDecrypt(key, padding, *ct);
        ASSERT_TRUE(pt.ok()) << RsaPaddingName(padding) << " " << bits << " " << size;
        EXPECT_EQ(ToVector(*pt), plaintext);
      }
      std::vector<uint8_t> too_long(max + 1, 0x42);
      EXPECT_EQ(RsaEncrypt(pub, padding, too_long).status().code(), StatusCode::kInvalidArgument);
    }
  }
}

// Contexts come from the key's pool (crypto/ctx_pool.h), one slot per operation and padding: a
// context set up for one padding must never serve another, and a failed decryption must not leave
// a context behind that breaks the next call.
TEST(RsaTest, PooledContextsKeepTheirPaddingAndSurviveFailures) {
  const PrivateKey& key = TestRsaKey(2048);
  PublicKey pub = key.Public();
  const std::vector<uint8_t> plaintext = CryptoRandom().Bytes(32);
  for (int round = 0; round < 3; ++round) {
    for (RsaPadding padding : kAllPaddings) {
      Result<std::vector<uint8_t>> ct = RsaEncrypt(pub, padding, plaintext);
      ASSERT_TRUE(ct.ok()) << ct.status().ToString();
      Result<SecretBytes> pt = RsaDecrypt(key, padding, *ct);
      ASSERT_TRUE(pt.ok()) << RsaPaddingName(padding) << ": " << pt.status().ToString();
      EXPECT_EQ(ToVector(*pt), plaintext);
      // The OAEP variants differ only in their digests: decrypting one's ciphertext with the
      // other's (pooled) context must fail.
      if (padding != RsaPadding::kPkcs1v15) {
        RsaPadding other = padding == RsaPadding::kOaep ? RsaPadding::kOaep256 : RsaPadding::kOaep;
        EXPECT_EQ(RsaDecrypt(key, other, *ct).status().code(), StatusCode::kDataLoss);
        std::vector<uint8_t> garbage(256, 0x5a);
        EXPECT_EQ(RsaDecrypt(key, padding, garbage).status().code(), StatusCode::kDataLoss);
      }
    }
  }
}

TEST(RsaTest, ConcurrentCallsOnOneKey) {
  const PrivateKey& key = TestRsaKey(2048);
  PublicKey pub = key.Public();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      PrivateKey clone = key.Clone();  // clones share the pool
      for (int i = 0; i < 20; ++i) {
        RsaPadding padding = kAllPaddings[(t + i) % 3];
        std::vector<uint8_t> plaintext = CryptoRandom().Bytes(16 + static_cast<size_t>(i));
        Result<std::vector<uint8_t>> ct = RsaEncrypt(pub, padding, plaintext);
        Result<SecretBytes> pt = ct.ok() ? RsaDecrypt(i % 2 == 0 ? key : clone, padding, *ct)
                                         : Result<SecretBytes>(ct.status());
        if (!pt.ok() || ToVector(*pt) != plaintext) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(RsaTest, EncryptionIsRandomized) {
  PublicKey pub = TestRsaKey(2048).Public();
  std::vector<uint8_t> msg = Bytes("same message");
  for (RsaPadding padding : kAllPaddings) {
    EXPECT_NE(*RsaEncrypt(pub, padding, msg), *RsaEncrypt(pub, padding, msg));
  }
}

// A decryption that must not yield the original plaintext: an error (DataLoss), or, for PKCS#1
// v1.5 under OpenSSL's implicit rejection (3.2+), a different pseudo-random plaintext.
void ExpectNoPlaintext(const Result<SecretBytes>& result, RsaPadding padding,
                       const std::vector<uint8_t>& original, const std::string& what) {
  if (result.ok()) {
    EXPECT_EQ(padding, RsaPadding::kPkcs1v15) << what << ": decrypted without error";
    EXPECT_NE(ToVector(*result), original) << what;
  } else {
    EXPECT_EQ(result.status().code(), StatusCode::kDataLoss) << what;
    EXPECT_EQ(result.status().message(), "RSA decryption failed") << what;
  }
  EXPECT_EQ(ERR_peek_error(), 0u) << what << ": OpenSSL error queue not cleared";
}

TEST(RsaTest, HostileCiphertexts) {
  const PrivateKey& key = TestRsaKey(2048);
  const PrivateKey& other = TestRsaKey(3072);
  std::vector<uint8_t> secret = CryptoRandom().Bytes(32);
  for (RsaPadding padding : kAllPaddings) {
    std::string name(RsaPaddingName(padding));
    std::vector<uint8_t> ct = *RsaEncrypt(key.Public(), padding, secret);

    // A ciphertext for another (3072-bit) key has the wrong length.
    std::vector<uint8_t> ct_other = *RsaEncrypt(other.Public(), padding, secret);
    EXPECT_EQ(RsaDecrypt(key, padding, ct_other).status().code(), StatusCode::kInvalidArgument)
        << name << ": length mismatch";

    for (size_t i : {size_t{0}, size_t{100}, ct.size() - 1}) {
      std::vector<uint8_t> altered = ct;
      altered[i] ^= 0x01;
      ExpectNoPlaintext(RsaDecrypt(key, padding, altered), padding, secret,
                        name + " altered byte " + std::to_string(i));
    }
    std::vector<uint8_t> too_big(ct.size(), 0xFF);  // >= modulus
    ExpectNoPlaintext(RsaDecrypt(key, padding, too_big), padding, secret, name + " >= n");
    std::vector<uint8_t> zeros(ct.size(), 0);
    ExpectNoPlaintext(RsaDecrypt(key, padding, zeros), padding, secret, name + " zero");

    std::vector<uint8_t> truncated(ct.begin(), ct.end() - 1);
    EXPECT_EQ(RsaDecrypt(key, padding, truncated).status().code(), StatusCode::kInvalidArgument);
    std::vector<uint8_t> longer = ct;
    longer.push_back(0);
    EXPECT_EQ(RsaDecrypt(key, padding, longer).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(RsaDecrypt(key, padding, {}).status().code(), StatusCode::kInvalidArgument);
  }
  // Padding mismatch: OAEP-SHA1 ciphertext decrypted as OAEP-256 and as PKCS#1 v1.5.
  std::vector<uint8_t> oaep = *RsaEncrypt(key.Public(), RsaPadding::kOaep, secret);
  ExpectNoPlaintext(RsaDecrypt(key, RsaPadding::kOaep256, oaep), RsaPadding::kOaep256, secret,
                    "OAEP as OAEP-256");
  ExpectNoPlaintext(RsaDecrypt(key, RsaPadding::kPkcs1v15, oaep), RsaPadding::kPkcs1v15, secret,
                    "OAEP as PKCS1");
}

TEST(RsaTest, WrongKeyOfSameSize) {
  Result<PrivateKey> other = GenerateRsaKey(2048);
  ASSERT_TRUE(other.ok());
  std::vector<uint8_t> secret = CryptoRandom().Bytes(32);
  for (RsaPadding padding : kAllPaddings) {
    std::vector<uint8_t> ct = *RsaEncrypt(other->Public(), padding, secret);
    ExpectNoPlaintext(RsaDecrypt(TestRsaKey(2048), padding, ct), padding, secret,
                      std::string(RsaPaddingName(padding)) + " wrong key");
  }
}

TEST(RsaTest, RejectsEcKeys) {
  const PrivateKey& ec = TestEcKey(Curve::kP256);
  EXPECT_EQ(RsaEncrypt(ec.Public(), RsaPadding::kOaep, Bytes("x")).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<uint8_t> ct(256, 1);
  EXPECT_EQ(RsaDecrypt(ec, RsaPadding::kOaep, ct).status().code(), StatusCode::kInvalidArgument);
}

class RsaCliTest : public ::testing::TestWithParam<RsaPadding> {
 protected:
  void SetUp() override {
    if (!HaveOpensslCli()) GTEST_SKIP() << "openssl command line not installed";
  }
};

TEST_P(RsaCliTest, ByokEncryptsOpensslDecrypts) {
  RsaPadding padding = GetParam();
  TempDir dir;
  const PrivateKey& key = TestRsaKey(2048);
  WriteBytes(dir.File("key.pem"), key.ToPem()->span());
  std::vector<uint8_t> secret = CryptoRandom().Bytes(48);
  WriteBytes(dir.File("ct.bin"), *RsaEncrypt(key.Public(), padding, secret));
  crypto_test::CommandResult r =
      RunCommand("openssl pkeyutl -decrypt -inkey " + dir.File("key.pem") + " -in " +
                 dir.File("ct.bin") + " -out " + dir.File("pt.bin") + " " + CliPadding(padding));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadBytes(dir.File("pt.bin")), secret);
}

TEST_P(RsaCliTest, OpensslEncryptsByokDecrypts) {
  RsaPadding padding = GetParam();
  TempDir dir;
  const PrivateKey& key = TestRsaKey(3072);
  WriteText(dir.File("pub.pem"), *key.Public().ToPem());
  std::vector<uint8_t> secret = CryptoRandom().Bytes(32);
  WriteBytes(dir.File("pt.bin"), secret);
  crypto_test::CommandResult r =
      RunCommand("openssl pkeyutl -encrypt -pubin -inkey " + dir.File("pub.pem") + " -in " +
                 dir.File("pt.bin") + " -out " + dir.File("ct.bin") + " " + CliPadding(padding));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Result<SecretBytes> pt = RsaDecrypt(key, padding, ReadBytes(dir.File("ct.bin")));
  ASSERT_TRUE(pt.ok()) << pt.status().ToString();
  EXPECT_EQ(ToVector(*pt), secret);
}

INSTANTIATE_TEST_SUITE_P(AllPaddings, RsaCliTest, ::testing::ValuesIn(kAllPaddings),
                         [](const ::testing::TestParamInfo<RsaPadding>& info) {
                           switch (info.param) {
                             case RsaPadding::kOaep:
                               return std::string("Oaep");
                             case RsaPadding::kOaep256:
                               return std::string("Oaep256");
                             case RsaPadding::kPkcs1v15:
                               return std::string("Pkcs1v15");
                           }
                           return std::string("Unknown");
                         });

}  // namespace
}  // namespace byok::crypto
