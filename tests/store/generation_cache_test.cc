// Store::change_generation() and GenerationCache: which commits invalidate cached documents.

#include "store/generation_cache.h"

#include <gtest/gtest.h>

#include "store/store_test_helpers.h"

namespace byok::store::test {
namespace {

constexpr char kType[] = "Microsoft.KeyVault/vaults";
constexpr char kRg[] = "/subscriptions/S1/resourceGroups/RG";
const std::string kId = std::string(kRg) + "/providers/Microsoft.KeyVault/vaults/v";

using GenerationTest = StoreTest;

TEST_F(GenerationTest, CommittedWritesAdvanceTheGenerationAndNothingElseDoes) {
  const uint64_t g0 = store_->change_generation();
  {
    ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
    ASSERT_OK(read->Get(kId));
    ASSERT_OK(read->Commit());
  }
  EXPECT_EQ(store_->change_generation(), g0) << "a read transaction";
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Commit());
  }
  EXPECT_EQ(store_->change_generation(), g0) << "a write transaction that wrote nothing";
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource(kId, kType, kRg)));
    txn->Rollback();
  }
  EXPECT_EQ(store_->change_generation(), g0) << "a rolled-back write";
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource(kId, kType, kRg)));
    ASSERT_OK(txn->Commit());
  }
  const uint64_t g1 = store_->change_generation();
  EXPECT_GT(g1, g0) << "a committed write";
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->PutMeta("k", "v"));
    ASSERT_OK(txn->Commit());
  }
  const uint64_t g2 = store_->change_generation();
  EXPECT_GT(g2, g1) << "meta writes count";
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    txn->MarkCacheNeutral();
    ASSERT_OK(txn->Put(MakeResource(kId + "x", kType, kRg)));
    ASSERT_OK(txn->Commit());
  }
  EXPECT_EQ(store_->change_generation(), g2) << "a cache-neutral write (audit records)";
}

TEST_F(GenerationTest, CacheEntriesLiveExactlyAsLongAsTheirGeneration) {
  GenerationCache<int> cache;
  const uint64_t g = store_->change_generation();
  cache.Insert("a", g, std::make_shared<const int>(1));
  ASSERT_NE(cache.Find("a", store_->change_generation()), nullptr);
  EXPECT_EQ(*cache.Find("a", g), 1);
  EXPECT_EQ(cache.Find("b", g), nullptr);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource(kId, kType, kRg)));
    ASSERT_OK(txn->Commit());
  }
  EXPECT_EQ(cache.Find("a", store_->change_generation()), nullptr);
}

TEST(GenerationCacheTest, DisabledGenerationNeverCachesAndCapacityIsBounded) {
  GenerationCache<int> cache(2);
  cache.Insert("a", Store::kNoChangeGeneration, std::make_shared<const int>(1));
  EXPECT_EQ(cache.Find("a", Store::kNoChangeGeneration), nullptr);
  cache.Insert("a", 1, std::make_shared<const int>(1));
  cache.Insert("b", 2, std::make_shared<const int>(2));
  cache.Insert("c", 2, std::make_shared<const int>(3));  // full: the stale "a" goes
  EXPECT_EQ(cache.Find("a", 1), nullptr);
  EXPECT_EQ(*cache.Find("b", 2), 2);
  EXPECT_EQ(*cache.Find("c", 2), 3);
  cache.Insert("d", 2, std::make_shared<const int>(4));  // full of current entries: all go
  EXPECT_EQ(cache.Find("b", 2), nullptr);
  EXPECT_EQ(*cache.Find("d", 2), 4);
}

}  // namespace
}  // namespace byok::store::test
