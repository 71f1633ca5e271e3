#include "crypto/gcm.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>

#include "common/random.h"
#include "crypto/crypto_test_helpers.h"

namespace byok::crypto {
namespace {

using crypto_test::Bytes;

std::vector<uint8_t> ToVector(const SecretBytes& s) {
  return std::vector<uint8_t>(s.span().begin(), s.span().end());
}

TEST(GcmTest, RoundTrip) {
  std::vector<uint8_t> key = CryptoRandom().Bytes(kGcmKeySize);
  for (size_t size : {0, 1, 16, 1000}) {
    std::vector<uint8_t> secret = CryptoRandom().Bytes(size);
    Result<std::vector<uint8_t>> sealed = GcmSeal(key, secret, Bytes("secret/name"));
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(sealed->size(), size + kSealOverhead);
    EXPECT_EQ((*sealed)[0], 1);
    Result<SecretBytes> opened = GcmOpen(key, *sealed, Bytes("secret/name"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(ToVector(*opened), secret);
  }
}

TEST(GcmTest, TamperingIsDataLoss) {
  std::vector<uint8_t> key = CryptoRandom().Bytes(kGcmKeySize);
  std::vector<uint8_t> sealed = *GcmSeal(key, Bytes("hunter2"), Bytes("a"));
  std::vector<uint8_t> other_key = key;
  other_key[0] ^= 1;
  EXPECT_EQ(GcmOpen(other_key, sealed, Bytes("a")).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(GcmOpen(key, sealed, Bytes("b")).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(GcmOpen(key, sealed, {}).status().code(), StatusCode::kDataLoss);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::vector<uint8_t> altered = sealed;
    altered[i] ^= 0x04;
    EXPECT_EQ(GcmOpen(key, altered, Bytes("a")).status().code(), StatusCode::kDataLoss) << i;
  }
  std::vector<uint8_t> truncated(sealed.begin(), sealed.end() - 1);
  EXPECT_EQ(GcmOpen(key, truncated, Bytes("a")).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(GcmOpen(key, std::vector<uint8_t>(5, 1), Bytes("a")).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(GcmTest, BadKeySizes) {
  std::vector<uint8_t> short_key(16, 1);
  EXPECT_EQ(GcmSeal(short_key, Bytes("x"), {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GcmOpen(short_key, std::vector<uint8_t>(40, 1), {}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace byok::crypto
