#include "crypto/ctx_pool.h"

#include <gtest/gtest.h>

#include "crypto/crypto_test_helpers.h"
#include "crypto/keys.h"

namespace byok::crypto::internal {
namespace {

using crypto_test::TestRsaKey;

PkeyCtxPtr NewCtx() {
  return PkeyCtxPtr(EVP_PKEY_CTX_new_from_pkey(nullptr, TestRsaKey(2048).get(), nullptr));
}

TEST(PkeyCtxPoolTest, TakeGivesBackWhatWasPutInTheSameSlotOnly) {
  PkeyCtxPool pool;
  EXPECT_EQ(pool.Take(0), nullptr);
  PkeyCtxPtr ctx = NewCtx();
  ASSERT_NE(ctx, nullptr);
  EVP_PKEY_CTX* raw = ctx.get();
  pool.Put(3, std::move(ctx));
  EXPECT_EQ(pool.Take(0), nullptr);
  EXPECT_EQ(pool.Take(4), nullptr);
  PkeyCtxPtr again = pool.Take(3);
  EXPECT_EQ(again.get(), raw);
  EXPECT_EQ(pool.Take(3), nullptr);
  pool.Put(3, nullptr);  // ignored
  EXPECT_EQ(pool.Take(3), nullptr);
}

TEST(PkeyCtxPoolTest, KeepsAtMostMaxIdlePerSlot) {
  PkeyCtxPool pool;
  for (size_t i = 0; i < PkeyCtxPool::kMaxIdle + 3; ++i) pool.Put(1, NewCtx());
  size_t taken = 0;
  while (pool.Take(1) != nullptr) ++taken;
  EXPECT_EQ(taken, PkeyCtxPool::kMaxIdle);
}

TEST(PkeyCtxPoolTest, ClonesShareTheirKeysPool) {
  const PrivateKey& key = TestRsaKey(2048);
  PrivateKey clone = key.Clone();
  EXPECT_EQ(&clone.ctx_pool(), &key.ctx_pool());
  PublicKey pub = key.Public();
  PublicKey pub2 = key.Public();
  EXPECT_EQ(&pub.ctx_pool(), &pub2.ctx_pool());
  EXPECT_NE(&pub.ctx_pool(), &key.ctx_pool()) << "public and private operations pool apart";
  EXPECT_NE(&TestRsaKey(3072).ctx_pool(), &key.ctx_pool());
}

}  // namespace
}  // namespace byok::crypto::internal
