// Transaction semantics: CRUD, etags and If-Match, case-insensitive ids, listing, pagination,
// cascade deletes, rollback, read snapshots, meta, concurrency.

#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store_test_helpers.h"

namespace byok::store::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kVaultType[] = "Microsoft.KeyVault/vaults";
constexpr char kKeyType[] = "Microsoft.KeyVault/vaults/keys";
constexpr char kDesType[] = "Microsoft.Compute/diskEncryptionSets";
constexpr char kRg[] = "/subscriptions/S1/resourceGroups/RG";

std::string VaultId(std::string_view rg, std::string_view name) {
  return std::string(rg) + "/providers/Microsoft.KeyVault/vaults/" + std::string(name);
}

std::vector<std::string> Ids(const std::vector<Resource>& rs) {
  std::vector<std::string> ids;
  for (const Resource& r : rs) ids.push_back(r.id);
  return ids;
}

using TransactionTest = StoreTest;

TEST(NormalizeIdTest, LowerCasesAsciiOnly) {
  EXPECT_EQ(NormalizeId("/Subscriptions/ABC/resourceGroups/Rg-1"),
            "/subscriptions/abc/resourcegroups/rg-1");
  EXPECT_EQ(NormalizeId("\xC3\x84Z"), "\xC3\x84z");  // non-ASCII bytes untouched
  EXPECT_EQ(NormalizeId(""), "");
}

TEST_F(TransactionTest, CreateThenGetRoundTrips) {
  const std::string id = VaultId(kRg, "MyVault");
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK_AND_ASSIGN(Resource created, txn->Create(MakeResource(id, kVaultType, kRg,
                                                                  {{"location", "westeurope"}})));
  EXPECT_EQ(created.id, id);
  EXPECT_FALSE(created.etag.empty());
  EXPECT_EQ(created.created, TestEpoch());
  EXPECT_EQ(created.updated, TestEpoch());
  ASSERT_OK(txn->Commit());

  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(std::optional<Resource> got, read->Get(id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, id);
  EXPECT_EQ(got->type, kVaultType);
  EXPECT_EQ(got->parent_id, kRg);
  EXPECT_EQ(got->etag, created.etag);
  EXPECT_EQ(got->created, TestEpoch());
  EXPECT_EQ(got->updated, TestEpoch());
  EXPECT_EQ(got->body, (nlohmann::json{{"location", "westeurope"}}));
}

TEST_F(TransactionTest, GetOfMissingResourceIsNullopt) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(std::optional<Resource> got, txn->Get(VaultId(kRg, "nope")));
  EXPECT_FALSE(got.has_value());
}

TEST_F(TransactionTest, CreateOfExistingResourceFailsInAnyCase) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK(txn->Create(MakeResource(VaultId(kRg, "v"), kVaultType, kRg)));
  Result<Resource> again =
      txn->Create(MakeResource(NormalizeId(VaultId(kRg, "V")), kVaultType, kRg));
  EXPECT_TRUE(again.status().Is(StatusCode::kAlreadyExists)) << again.status().ToString();
}

TEST_F(TransactionTest, PutReplacesKeepingCreatedAndOriginalCase) {
  const std::string id = VaultId(kRg, "MixedCase");
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK_AND_ASSIGN(Resource v1, txn->Put(MakeResource(id, kVaultType, kRg, {{"v", 1}})));
  clock_.Advance(std::chrono::minutes(5));
  ASSERT_OK_AND_ASSIGN(Resource v2,
                       txn->Put(MakeResource(NormalizeId(id), "microsoft.keyvault/VAULTS",
                                             NormalizeId(kRg), {{"v", 2}})));
  EXPECT_EQ(v2.id, id);
  EXPECT_EQ(v2.type, kVaultType);
  EXPECT_EQ(v2.parent_id, kRg);
  EXPECT_EQ(v2.created, TestEpoch());
  EXPECT_EQ(v2.updated, TestEpoch() + std::chrono::minutes(5));
  EXPECT_NE(v2.etag, v1.etag);
  ASSERT_OK(txn->Commit());

  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto got, read->Get(id));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->body["v"], 2);
  EXPECT_EQ(got->etag, v2.etag);
  EXPECT_EQ(got->id, id);
}

TEST_F(TransactionTest, EtagChangesOnEveryWrite) {
  const std::string id = VaultId(kRg, "v");
  std::set<std::string> etags;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK_AND_ASSIGN(Resource r, txn->Put(MakeResource(id, kVaultType, kRg, {{"same", true}})));
    etags.insert(r.etag);
    ASSERT_OK(txn->Commit());
  }
  EXPECT_EQ(etags.size(), 20u);
}

TEST_F(TransactionTest, IfMatchOnPut) {
  const std::string id = VaultId(kRg, "v");
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  // If-Match on a missing resource: precondition failed, for "*" too.
  EXPECT_TRUE(txn->Put(MakeResource(id, kVaultType, kRg), "*").status().Is(StatusCode::kAborted));
  EXPECT_TRUE(
      txn->Put(MakeResource(id, kVaultType, kRg), "some-etag").status().Is(StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(Resource r1, txn->Put(MakeResource(id, kVaultType, kRg, {{"n", 1}})));

  Result<Resource> stale = txn->Put(MakeResource(id, kVaultType, kRg, {{"n", 2}}), "stale");
  EXPECT_TRUE(stale.status().Is(StatusCode::kAborted));
  EXPECT_THAT(stale.status().message(), HasSubstr("precondition failed"));

  ASSERT_OK_AND_ASSIGN(Resource r2,
                       txn->Put(MakeResource(id, kVaultType, kRg, {{"n", 2}}), r1.etag));
  // r1's etag is now stale.
  EXPECT_TRUE(txn->Put(MakeResource(id, kVaultType, kRg, {{"n", 3}}), r1.etag)
                  .status()
                  .Is(StatusCode::kAborted));
  ASSERT_OK(txn->Put(MakeResource(id, kVaultType, kRg, {{"n", 3}}), "*"));
  ASSERT_OK_AND_ASSIGN(auto got, txn->Get(id));
  EXPECT_EQ(got->body["n"], 3);
  (void)r2;
}

TEST_F(TransactionTest, IfMatchOnDelete) {
  const std::string id = VaultId(kRg, "v");
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  EXPECT_TRUE(txn->Delete(id).Is(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Resource r, txn->Put(MakeResource(id, kVaultType, kRg)));
  EXPECT_TRUE(txn->Delete(id, "wrong").Is(StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(auto still, txn->Get(id));
  EXPECT_TRUE(still.has_value());
  ASSERT_OK(txn->Delete(NormalizeId(id), r.etag));
  ASSERT_OK_AND_ASSIGN(auto gone, txn->Get(id));
  EXPECT_FALSE(gone.has_value());
  EXPECT_TRUE(txn->Delete(id).Is(StatusCode::kNotFound));
}

TEST_F(TransactionTest, TypeOfExistingResourceCannotChange) {
  const std::string id = VaultId(kRg, "v");
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK(txn->Put(MakeResource(id, kVaultType, kRg)));
  EXPECT_TRUE(txn->Put(MakeResource(id, kDesType, kRg)).status().Is(StatusCode::kInvalidArgument));
}

TEST_F(TransactionTest, LookupIsCaseInsensitiveAndCasePreserving) {
  const std::string id = "/subscriptions/AbC/resourceGroups/My-RG";
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(
        txn->Create(MakeResource(id, "Microsoft.Resources/resourceGroups", "/subscriptions/AbC")));
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  for (std::string probe :
       {id, NormalizeId(id), std::string("/SUBSCRIPTIONS/ABC/RESOURCEGROUPS/MY-RG")}) {
    ASSERT_OK_AND_ASSIGN(auto got, txn->Get(probe));
    ASSERT_TRUE(got.has_value()) << probe;
    EXPECT_EQ(got->id, id);
    EXPECT_EQ(got->parent_id, "/subscriptions/AbC");
  }
  ASSERT_OK_AND_ASSIGN(auto children, txn->ListChildren("/Subscriptions/abc"));
  EXPECT_THAT(Ids(children), ElementsAre(id));
}

TEST_F(TransactionTest, RejectsMalformedInput) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  EXPECT_TRUE(
      txn->Put(MakeResource("", kVaultType, kRg)).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(
      txn->Put(MakeResource(VaultId(kRg, "v"), "", kRg)).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn->Get("").status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn->ListByType("").status().Is(StatusCode::kInvalidArgument));
  // A body that is not valid UTF-8 cannot be serialized: an error, not an exception.
  Result<Resource> bad =
      txn->Put(MakeResource(VaultId(kRg, "v"), kVaultType, kRg, {{"name", "\xff\xfe"}}));
  EXPECT_TRUE(bad.status().Is(StatusCode::kInvalidArgument)) << bad.status().ToString();
}

TEST_F(TransactionTest, IdsWithSqlMetacharactersAreJustData) {
  const std::string id = VaultId(kRg, "x'); DROP TABLE resources; --%_");
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK(txn->Create(MakeResource(id, kVaultType, kRg)));
  ASSERT_OK(txn->Create(MakeResource(VaultId(kRg, "plain"), kVaultType, kRg)));
  ASSERT_OK_AND_ASSIGN(auto got, txn->Get(id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, id);
  // '%' and '_' are not wildcards in prefix listing.
  ASSERT_OK_AND_ASSIGN(auto under, txn->ListByPrefix(VaultId(kRg, "%")));
  EXPECT_TRUE(under.empty());
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListByType(kVaultType));
  EXPECT_EQ(all.size(), 2u);
}

class ListTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    for (const char* rg :
         {"/subscriptions/S1/resourceGroups/RG", "/subscriptions/S1/resourceGroups/RG2",
          "/subscriptions/S2/resourceGroups/RG"}) {
      ASSERT_OK(txn->Create(
          MakeResource(rg, "Microsoft.Resources/resourceGroups",
                       std::string(rg).substr(0, std::string(rg).find("/resourceGroups")))));
      for (const char* v : {"b-vault", "A-vault"}) {
        std::string vault = VaultId(rg, v);
        ASSERT_OK(txn->Create(MakeResource(vault, kVaultType, rg)));
        ASSERT_OK(txn->Create(MakeResource(vault + "/keys/k1", kKeyType, vault)));
      }
      ASSERT_OK(txn->Create(MakeResource(
          std::string(rg) + "/providers/Microsoft.Compute/diskEncryptionSets/des", kDesType, rg)));
    }
    ASSERT_OK(txn->Commit());
  }
};

TEST_F(ListTest, ListChildrenSortedAndFilteredByType) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto children, txn->ListChildren("/subscriptions/s1/resourcegroups/rg"));
  EXPECT_THAT(Ids(children),
              ElementsAre(kRg + std::string("/providers/Microsoft.Compute/diskEncryptionSets/des"),
                          VaultId(kRg, "A-vault"), VaultId(kRg, "b-vault")));
  ASSERT_OK_AND_ASSIGN(auto vaults,
                       txn->ListChildren(kRg, std::string("MICROSOFT.KEYVAULT/VAULTS")));
  EXPECT_THAT(Ids(vaults), ElementsAre(VaultId(kRg, "A-vault"), VaultId(kRg, "b-vault")));
  ASSERT_OK_AND_ASSIGN(auto keys, txn->ListChildren(VaultId(kRg, "a-VAULT")));
  EXPECT_THAT(Ids(keys), ElementsAre(VaultId(kRg, "A-vault") + "/keys/k1"));
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListChildren(VaultId(kRg, "missing")));
  EXPECT_TRUE(none.empty());
}

TEST_F(ListTest, ListByTypeWithScope) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListByType("microsoft.keyvault/vaults"));
  EXPECT_EQ(all.size(), 6u);
  ASSERT_OK_AND_ASSIGN(auto s1, txn->ListByType(kVaultType, std::string("/subscriptions/S1")));
  EXPECT_EQ(s1.size(), 4u);
  // Scopes match whole segments: RG does not match RG2.
  ASSERT_OK_AND_ASSIGN(auto rg, txn->ListByType(kVaultType, std::string(kRg) + "/"));
  EXPECT_THAT(Ids(rg), ElementsAre(VaultId(kRg, "A-vault"), VaultId(kRg, "b-vault")));
  ASSERT_OK_AND_ASSIGN(auto everywhere, txn->ListByType(kVaultType, std::string("")));
  EXPECT_EQ(everywhere.size(), 6u);
}

TEST_F(ListTest, ListByPrefixMatchesWholeSegments) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto rg, txn->ListByPrefix("/SUBSCRIPTIONS/s1/resourceGroups/rg"));
  EXPECT_EQ(rg.size(), 6u);  // the group itself, 2 vaults, 2 keys, 1 DES; not RG2
  EXPECT_EQ(rg.front().id, kRg);
  for (const Resource& r : rg) EXPECT_FALSE(Contains(r.id, "RG2")) << r.id;
  ASSERT_OK_AND_ASSIGN(auto everything, txn->ListByPrefix("/"));
  EXPECT_EQ(everything.size(), 18u);
  ASSERT_OK_AND_ASSIGN(auto vault, txn->ListByPrefix(VaultId(kRg, "A-vault")));
  EXPECT_EQ(vault.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto partial, txn->ListByPrefix(VaultId(kRg, "A-vau")));
  EXPECT_TRUE(partial.empty());
}

TEST_F(ListTest, DeleteByPrefixCascades) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK_AND_ASSIGN(int n, txn->DeleteByPrefix("/subscriptions/s1/resourcegroups/RG/"));
  EXPECT_EQ(n, 6);
  ASSERT_OK_AND_ASSIGN(auto left, txn->ListByPrefix(""));
  EXPECT_EQ(left.size(), 12u);
  ASSERT_OK_AND_ASSIGN(auto rg2, txn->Get("/subscriptions/S1/resourceGroups/RG2"));
  EXPECT_TRUE(rg2.has_value());
  EXPECT_TRUE(txn->DeleteByPrefix("").status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn->DeleteByPrefix("/").status().Is(StatusCode::kInvalidArgument));
  ASSERT_OK(txn->Commit());

  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto gone, read->ListByPrefix(kRg));
  EXPECT_TRUE(gone.empty());
}

TEST_F(ListTest, PaginatesWithAfterCursor) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListByPrefix(""));
  std::vector<std::string> paged;
  ListOptions page{.limit = 4, .after = ""};
  int pages = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(auto rs, txn->ListByPrefix("", page));
    ++pages;
    for (const Resource& r : rs) paged.push_back(r.id);
    if (rs.size() < page.limit) break;
    page.after = rs.back().id;  // any case works as a cursor
  }
  EXPECT_EQ(paged, Ids(all));
  EXPECT_EQ(pages, 5);  // 18 = 4+4+4+4+2
  ASSERT_OK_AND_ASSIGN(
      auto after_upper,
      txn->ListChildren(
          kRg, std::nullopt,
          {.limit = 0,
           .after =
               "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/A-VAULT"}));
  EXPECT_THAT(Ids(after_upper), ElementsAre(VaultId(kRg, "b-vault")));
}

TEST_F(TransactionTest, DestroyingWithoutCommitRollsBack) {
  const std::string id = VaultId(kRg, "v");
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource(id, kVaultType, kRg)));
    ASSERT_OK(txn->PutSecret("s", AsBytes("value")));
    ASSERT_OK(txn->PutMeta("k", "v"));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource(id, kVaultType, kRg)));
    txn->Rollback();
    txn->Rollback();  // idempotent
    EXPECT_TRUE(txn->Get(id).status().Is(StatusCode::kFailedPrecondition));
  }
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto got, read->Get(id));
  EXPECT_FALSE(got.has_value());
  EXPECT_TRUE(read->GetSecret("s").status().Is(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto meta, read->GetMeta("k"));
  EXPECT_FALSE(meta.has_value());
}

TEST_F(TransactionTest, FinishedTransactionRejectsEverything) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK(txn->Commit());
  EXPECT_TRUE(txn->Commit().Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(txn->Get(kRg).status().Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(txn->Put(MakeResource(kRg, "t", "")).status().Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(txn->ListSecrets("").status().Is(StatusCode::kFailedPrecondition));
}

TEST_F(TransactionTest, ReadTransactionIsASnapshotAndRejectsWrites) {
  const std::string id = VaultId(kRg, "v");
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource(id, kVaultType, kRg, {{"n", 1}})));
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto snapshot, store_->BeginRead());
  EXPECT_TRUE(snapshot->read_only());
  EXPECT_TRUE(snapshot->Put(MakeResource(id, kVaultType, kRg))
                  .status()
                  .Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(snapshot->Delete(id).Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(snapshot->PutSecret("s", AsBytes("x")).Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(snapshot->PutMeta("k", "v").Is(StatusCode::kFailedPrecondition));
  {
    // A writer is not blocked by the open reader.
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource(id, kVaultType, kRg, {{"n", 2}})));
    ASSERT_OK(txn->Put(MakeResource(VaultId(kRg, "w"), kVaultType, kRg)));
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto old, snapshot->Get(id));
  EXPECT_EQ(old->body["n"], 1);
  ASSERT_OK_AND_ASSIGN(auto old_list, snapshot->ListChildren(kRg));
  EXPECT_EQ(old_list.size(), 1u);
  ASSERT_OK(snapshot->Commit());

  ASSERT_OK_AND_ASSIGN(auto fresh, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto now, fresh->Get(id));
  EXPECT_EQ(now->body["n"], 2);
}

TEST_F(TransactionTest, MetaValues) {
  const std::string binary("a\0b\xff", 4);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->PutMeta("clock.offset_ns", "12345"));
    ASSERT_OK(txn->PutMeta("bin", binary));
    ASSERT_OK(txn->PutMeta("empty", ""));
    EXPECT_TRUE(txn->PutMeta("store.anything", "x").Is(StatusCode::kInvalidArgument));
    EXPECT_TRUE(txn->PutMeta("", "x").Is(StatusCode::kInvalidArgument));
    EXPECT_TRUE(txn->DeleteMeta("store.root_key_canary").Is(StatusCode::kInvalidArgument));
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK_AND_ASSIGN(auto v, txn->GetMeta("clock.offset_ns"));
  EXPECT_EQ(v, std::optional<std::string>("12345"));
  ASSERT_OK_AND_ASSIGN(auto b, txn->GetMeta("bin"));
  EXPECT_EQ(b, std::optional<std::string>(binary));
  ASSERT_OK_AND_ASSIGN(auto e, txn->GetMeta("empty"));
  EXPECT_EQ(e, std::optional<std::string>(""));
  ASSERT_OK(txn->PutMeta("clock.offset_ns", "99"));
  ASSERT_OK_AND_ASSIGN(auto v2, txn->GetMeta("clock.offset_ns"));
  EXPECT_EQ(v2, std::optional<std::string>("99"));
  ASSERT_OK(txn->DeleteMeta("clock.offset_ns"));
  EXPECT_TRUE(txn->DeleteMeta("clock.offset_ns").Is(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto canary, txn->GetMeta("store.root_key_canary"));
  EXPECT_TRUE(canary.has_value());  // readable, not writable
}

TEST_F(TransactionTest, ConcurrentWritersLoseNoUpdate) {
  const std::string id = VaultId(kRg, "counter");
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Put(MakeResource(id, kVaultType, kRg, {{"n", 0}})));
    ASSERT_OK(txn->Commit());
  }
  constexpr int kPerThread = 50;
  auto worker = [&](std::vector<Status>* errors) {
    for (int i = 0; i < kPerThread; ++i) {
      Status s = RunInTransaction(*store_, [&](Transaction& txn) -> Status {
        BYOK_ASSIGN_OR_RETURN(std::optional<Resource> r, txn.Get(id));
        if (!r) return Status::Internal("counter vanished");
        std::string etag = r->etag;
        r->body["n"] = r->body["n"].get<int>() + 1;
        return txn.Put(std::move(*r), etag).status();
      });
      if (!s.ok()) errors->push_back(s);
    }
  };
  std::vector<Status> errors_a, errors_b;
  std::thread a(worker, &errors_a);
  std::thread b(worker, &errors_b);
  a.join();
  b.join();
  for (const Status& s : errors_a) ADD_FAILURE() << s.ToString();
  for (const Status& s : errors_b) ADD_FAILURE() << s.ToString();
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto counter, read->Get(id));
  EXPECT_EQ(counter->body["n"], 2 * kPerThread);
}

TEST_F(TransactionTest, SecondWriterTimesOutAsUnavailable) {
  busy_timeout_ms_ = 100;
  Reopen();
  ASSERT_OK_AND_ASSIGN(auto first, store_->Begin());
  Status second;
  std::thread t([&] { second = store_->Begin().status(); });
  t.join();
  EXPECT_TRUE(second.Is(StatusCode::kUnavailable)) << second.ToString();
  // Readers are not blocked by the writer.
  ASSERT_OK(store_->BeginRead());
  first.reset();  // rolls back, frees the writer slot
  ASSERT_OK(store_->Begin());
}

TEST_F(TransactionTest, ForeignLockHolderMapsToUnavailable) {
  busy_timeout_ms_ = 100;
  Reopen();
  RawDb other(DbPath());  // like another process holding the write lock
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  Result<std::unique_ptr<Transaction>> txn = store_->Begin();
  EXPECT_TRUE(txn.status().Is(StatusCode::kUnavailable)) << txn.status().ToString();
  ASSERT_EQ(other.Exec("ROLLBACK"), SQLITE_OK);
  ASSERT_OK(store_->Begin());
}

TEST_F(TransactionTest, RunInTransactionRollsBackOnError) {
  const std::string id = VaultId(kRg, "v");
  Status s = RunInTransaction(*store_, [&](Transaction& txn) -> Status {
    BYOK_TRY(txn.Put(MakeResource(id, kVaultType, kRg)).status());
    return Status::Aborted("changed my mind");
  });
  EXPECT_TRUE(s.Is(StatusCode::kAborted));
  Status r = RunInReadTransaction(*store_, [&](Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto got, txn.Get(id));
    return got ? Status::Internal("should have been rolled back") : Status::Ok();
  });
  EXPECT_OK(r);
}

TEST_F(TransactionTest, TransactionMayOutliveStoreObject) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK(txn->Put(MakeResource(VaultId(kRg, "v"), kVaultType, kRg)));
  store_.reset();
  ASSERT_OK(txn->Commit());
  txn.reset();
  Open();
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto got, read->Get(VaultId(kRg, "V")));
  EXPECT_TRUE(got.has_value());
}

}  // namespace
}  // namespace byok::store::test
