#include "crypto/aes_kw.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>

#include "common/encoding.h"
#include "common/random.h"
#include "crypto/crypto_test_helpers.h"

namespace byok::crypto {
namespace {

using crypto_test::HavePythonCryptography;
using crypto_test::Hex;
using crypto_test::Python;
using crypto_test::ReadBytes;
using crypto_test::RunCommand;
using crypto_test::TempDir;
using crypto_test::WriteBytes;
using crypto_test::WriteText;

std::vector<uint8_t> ToVector(const SecretBytes& s) {
  return std::vector<uint8_t>(s.span().begin(), s.span().end());
}

struct WrapVector {
  const char* name;
  const char* kek;
  const char* key;
  const char* wrapped;
};

constexpr const char* kKek128 = "000102030405060708090A0B0C0D0E0F";
constexpr const char* kKek192 = "000102030405060708090A0B0C0D0E0F1011121314151617";
constexpr const char* kKek256 = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
constexpr const char* kKey128 = "00112233445566778899AABBCCDDEEFF";
constexpr const char* kKey192 = "00112233445566778899AABBCCDDEEFF0001020304050607";
constexpr const char* kKey256 = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F";

// RFC 3394 section 4 (4.1 to 4.6).
constexpr WrapVector kRfc3394[] = {
    {"4.1 128-bit KEK, 128-bit key", kKek128, kKey128,
     "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5"},
    {"4.2 192-bit KEK, 128-bit key", kKek192, kKey128,
     "96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D"},
    {"4.3 256-bit KEK, 128-bit key", kKek256, kKey128,
     "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7"},
    {"4.4 192-bit KEK, 192-bit key", kKek192, kKey192,
     "031D33264E15D332 68F24EC260743EDC E1C6C7DDEE725A93 6BA814915C6762D2"},
    {"4.5 256-bit KEK, 192-bit key", kKek256, kKey192,
     "A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895 8CD5D17D6B254DA1"},
    {"4.6 256-bit KEK, 256-bit key", kKek256, kKey256,
     "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21"},
};

// RFC 5649 section 6.
constexpr WrapVector kRfc5649[] = {
    {"6 20-octet key", "5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8",
     "c37b7e6492584340 bed1220780894115 5068f738",
     "138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a"},
    {"6 7-octet key", "5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8", "466f7250617369",
     "afbeb0f07dfbf541 9200f2ccb50bb24f"},
};

TEST(AesKwTest, Rfc3394KnownAnswers) {
  for (const WrapVector& v : kRfc3394) {
    Result<std::vector<uint8_t>> wrapped = AesKeyWrap(Hex(v.kek), Hex(v.key));
    ASSERT_TRUE(wrapped.ok()) << v.name << ": " << wrapped.status().ToString();
    EXPECT_EQ(*wrapped, Hex(v.wrapped)) << v.name;
    Result<SecretBytes> unwrapped = AesKeyUnwrap(Hex(v.kek), Hex(v.wrapped));
    ASSERT_TRUE(unwrapped.ok()) << v.name << ": " << unwrapped.status().ToString();
    EXPECT_EQ(ToVector(*unwrapped), Hex(v.key)) << v.name;
  }
}

TEST(AesKwTest, Rfc5649KnownAnswers) {
  for (const WrapVector& v : kRfc5649) {
    Result<std::vector<uint8_t>> wrapped = AesKeyWrapPad(Hex(v.kek), Hex(v.key));
    ASSERT_TRUE(wrapped.ok()) << v.name << ": " << wrapped.status().ToString();
    EXPECT_EQ(*wrapped, Hex(v.wrapped)) << v.name;
    Result<SecretBytes> unwrapped = AesKeyUnwrapPad(Hex(v.kek), Hex(v.wrapped));
    ASSERT_TRUE(unwrapped.ok()) << v.name << ": " << unwrapped.status().ToString();
    EXPECT_EQ(ToVector(*unwrapped), Hex(v.key)) << v.name;
  }
}

TEST(AesKwTest, IntegrityFailuresAreDataLoss) {
  for (const WrapVector& v : kRfc3394) {
    std::vector<uint8_t> wrapped = Hex(v.wrapped);
    std::vector<uint8_t> wrong_kek = Hex(v.kek);
    wrong_kek[0] ^= 1;
    EXPECT_EQ(AesKeyUnwrap(wrong_kek, wrapped).status().code(), StatusCode::kDataLoss) << v.name;
    for (size_t i : {size_t{0}, size_t{8}, wrapped.size() - 1}) {
      std::vector<uint8_t> altered = wrapped;
      altered[i] ^= 0x20;
      EXPECT_EQ(AesKeyUnwrap(Hex(v.kek), altered).status().code(), StatusCode::kDataLoss)
          << v.name << " byte " << i;
    }
    // Dropping the last 8-byte block keeps a valid length but breaks the integrity check.
    std::vector<uint8_t> shorter(wrapped.begin(), wrapped.end() - 8);
    if (shorter.size() >= 24) {
      EXPECT_EQ(AesKeyUnwrap(Hex(v.kek), shorter).status().code(), StatusCode::kDataLoss);
    }
    EXPECT_EQ(ERR_peek_error(), 0u) << v.name;
  }
  for (const WrapVector& v : kRfc5649) {
    std::vector<uint8_t> altered = Hex(v.wrapped);
    altered[3] ^= 1;
    EXPECT_EQ(AesKeyUnwrapPad(Hex(v.kek), altered).status().code(), StatusCode::kDataLoss);
  }
  // An RFC 3394 blob is not an RFC 5649 blob (different IV).
  EXPECT_EQ(AesKeyUnwrapPad(Hex(kKek256), Hex(kRfc3394[5].wrapped)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(AesKwTest, MalformedSizesAreInvalidArgument) {
  std::vector<uint8_t> kek = Hex(kKek256);
  std::vector<uint8_t> key16(16, 1);
  for (size_t kek_size : {size_t{0}, size_t{15}, size_t{17}, size_t{31}, size_t{33}, size_t{64}}) {
    std::vector<uint8_t> bad_kek(kek_size, 7);
    EXPECT_EQ(AesKeyWrap(bad_kek, key16).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(AesKeyUnwrap(bad_kek, std::vector<uint8_t>(24, 0)).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(AesKeyWrapPad(bad_kek, key16).status().code(), StatusCode::kInvalidArgument);
  }
  for (size_t size : {size_t{0}, size_t{8}, size_t{15}, size_t{17}, size_t{23}}) {
    EXPECT_EQ(AesKeyWrap(kek, std::vector<uint8_t>(size, 1)).status().code(),
              StatusCode::kInvalidArgument)
        << size;
  }
  for (size_t size : {size_t{0}, size_t{8}, size_t{16}, size_t{25}, size_t{31}}) {
    EXPECT_EQ(AesKeyUnwrap(kek, std::vector<uint8_t>(size, 1)).status().code(),
              StatusCode::kInvalidArgument)
        << size;
  }
  EXPECT_EQ(AesKeyWrapPad(kek, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AesKeyUnwrapPad(kek, std::vector<uint8_t>(8, 1)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AesKeyUnwrapPad(kek, std::vector<uint8_t>(20, 1)).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<uint8_t> huge(kMaxKeyWrapInput + 8, 1);
  EXPECT_EQ(AesKeyWrap(kek, huge).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AesKeyWrapPad(kek, huge).status().code(), StatusCode::kInvalidArgument);
}

TEST(AesKwTest, RoundTripRandomSizes) {
  for (size_t kek_size : {16, 24, 32}) {
    std::vector<uint8_t> kek = CryptoRandom().Bytes(kek_size);
    for (size_t size : {16, 24, 32, 64, 520}) {
      std::vector<uint8_t> key = CryptoRandom().Bytes(size);
      EXPECT_EQ(ToVector(*AesKeyUnwrap(kek, *AesKeyWrap(kek, key))), key);
    }
    for (size_t size : {1, 7, 8, 9, 31, 32, 33, 515}) {
      std::vector<uint8_t> key = CryptoRandom().Bytes(size);
      std::vector<uint8_t> wrapped = *AesKeyWrapPad(kek, key);
      EXPECT_EQ(wrapped.size(), (size + 7) / 8 * 8 + 8);
      EXPECT_EQ(ToVector(*AesKeyUnwrapPad(kek, wrapped)), key);
    }
  }
}

TEST(AesKwPythonTest, AgreesWithPythonCryptography) {
  if (!HavePythonCryptography()) GTEST_SKIP() << "python3 cryptography not installed";
  TempDir dir;
  std::vector<uint8_t> kek = CryptoRandom().Bytes(32);
  std::vector<uint8_t> key = CryptoRandom().Bytes(40);
  std::vector<uint8_t> odd_key = CryptoRandom().Bytes(21);
  WriteBytes(dir.File("kek"), kek);
  WriteBytes(dir.File("key"), key);
  WriteBytes(dir.File("odd"), odd_key);
  WriteText(
      dir.File("wrap.py"),
      "import sys\n"
      "from cryptography.hazmat.primitives import keywrap\n"
      "d = sys.argv[1]\n"
      "r = lambda n: open(d + '/' + n, 'rb').read()\n"
      "open(d + '/kw', 'wb').write(keywrap.aes_key_wrap(r('kek'), r('key')))\n"
      "open(d + '/kwp', 'wb').write(keywrap.aes_key_wrap_with_padding(r('kek'), r('odd')))\n");
  crypto_test::CommandResult r =
      RunCommand(Python() + " " + dir.File("wrap.py") + " " + dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(*AesKeyWrap(kek, key), ReadBytes(dir.File("kw")));
  EXPECT_EQ(*AesKeyWrapPad(kek, odd_key), ReadBytes(dir.File("kwp")));
}

}  // namespace
}  // namespace byok::crypto
