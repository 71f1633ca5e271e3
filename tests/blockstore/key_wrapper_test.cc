#include <gtest/gtest.h>

#include "blockstore/blockstore.h"
#include "blockstore/blockstore_test_helpers.h"

namespace byok::blockstore {
namespace {

using blockstore_test::CustomerKey;
using blockstore_test::FakeCustomerWrapper;
using blockstore_test::IndependentAesUnwrap;
using blockstore_test::IndependentPlatformKek;
using blockstore_test::PlatformKey;
using blockstore_test::RandomBytes;

TEST(KeyWrapperTest, LayerNames) {
  EXPECT_STREQ(LayerName(Layer::kPlatform), "platform");
  EXPECT_STREQ(LayerName(Layer::kCustomer), "customer");
}

TEST(PlatformKeyWrapperTest, WrapsWithHkdfDerivedKekAsDocumented) {
  std::vector<uint8_t> root = RandomBytes(32, 7);
  PlatformKeyWrapper wrapper(root, nullptr);
  std::vector<uint8_t> dek = RandomBytes(64, 8);
  Result<WrappedDek> w = wrapper.Wrap(PlatformKey(), dek);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->algorithm, "A256KW");
  EXPECT_EQ(w->key.key_id, "platform:v1");
  EXPECT_EQ(w->wrapped.size(), 72u);
  // Independently: HKDF-SHA256(root, info) then RFC 3394 unwrap.
  EXPECT_EQ(IndependentAesUnwrap(IndependentPlatformKek(root), w->wrapped), dek);
  Result<SecretBytes> back = wrapper.Unwrap(*w);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::vector<uint8_t>(back->span().begin(), back->span().end()), dek);
}

TEST(PlatformKeyWrapperTest, OtherRootKeyOrTamperingIsDataLoss) {
  PlatformKeyWrapper a(RandomBytes(32, 1), nullptr);
  PlatformKeyWrapper b(RandomBytes(32, 2), nullptr);
  Result<WrappedDek> w = a.Wrap(PlatformKey(), RandomBytes(64, 3));
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(b.Unwrap(*w).status().Is(StatusCode::kDataLoss));
  WrappedDek bad = *w;
  bad.wrapped[10] ^= 1;
  EXPECT_TRUE(a.Unwrap(bad).status().Is(StatusCode::kDataLoss));
  bad = *w;
  bad.algorithm = "A128KW";
  EXPECT_TRUE(a.Unwrap(bad).status().Is(StatusCode::kDataLoss));
}

TEST(PlatformKeyWrapperTest, UnknownPlatformKeyAndMissingCustomerWrapper) {
  PlatformKeyWrapper w(RandomBytes(32, 1), nullptr);
  KeyRef other{Layer::kPlatform, "platform:v9", ""};
  EXPECT_TRUE(w.Wrap(other, RandomBytes(64, 1)).status().Is(StatusCode::kNotFound));
  EXPECT_TRUE(
      w.Wrap(CustomerKey(), RandomBytes(64, 1)).status().Is(StatusCode::kFailedPrecondition));
  WrappedDek customer{CustomerKey(), "RSA-OAEP-256", {1, 2, 3}};
  EXPECT_TRUE(w.Unwrap(customer).status().Is(StatusCode::kFailedPrecondition));
}

TEST(PlatformKeyWrapperTest, DelegatesCustomerLayers) {
  FakeCustomerWrapper fake;
  PlatformKeyWrapper w(RandomBytes(32, 1), &fake);
  std::vector<uint8_t> dek = RandomBytes(64, 5);
  Result<WrappedDek> wrapped = w.Wrap(CustomerKey(), dek);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->algorithm, "RSA-OAEP-256");
  EXPECT_EQ(fake.wraps(), 1);
  Result<SecretBytes> back = w.Unwrap(*wrapped);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(fake.unwraps(), 1);
  fake.SetState(blockstore_test::kCustomerKeyV1, FakeCustomerWrapper::KeyState::kForbidden);
  EXPECT_TRUE(w.Unwrap(*wrapped).status().Is(StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace byok::blockstore
