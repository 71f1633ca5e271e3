#include "common/encoding.h"

#include <gtest/gtest.h>

namespace byok {
namespace {

// RFC 4648 section 10 test vectors.
TEST(EncodingTest, Base64Rfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, enc] : cases) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), enc);
    auto dec = Base64Decode(enc);
    ASSERT_TRUE(dec.ok()) << enc;
    EXPECT_EQ(ToString(*dec), plain);
  }
}

TEST(EncodingTest, Base64RejectsMalformed) {
  for (const char* bad : {"Zg=", "Z===", "Zg=a", "Zm9v!", "Zg==Zg==", " Zg=", "=Zg="}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
}

TEST(EncodingTest, Base64UrlRoundTrip) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  std::string enc = Base64UrlEncode(all);
  EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
  auto dec = Base64UrlDecode(enc);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, all);
  EXPECT_EQ(ToString(*Base64UrlDecode("Zm9vYg")), "foob");
  EXPECT_EQ(ToString(*Base64UrlDecode("Zm9vYg==")), "foob");
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm+v").ok());
}

TEST(EncodingTest, Hex) {
  std::vector<uint8_t> b = {0x00, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "00abff");
  EXPECT_EQ(*HexDecode("00ABff"), b);
  EXPECT_FALSE(HexDecode("0").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

}  // namespace
}  // namespace byok
