// Sealed secrets: round trips, listing, plaintext never on disk, blobs bound to their names,
// tamper detection, root-key mismatch detection.

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "store/store_test_helpers.h"

namespace byok::store::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using SecretsTest = StoreTest;

std::string Str(const SecretBytes& b) { return ToString(b.span()); }

TEST_F(SecretsTest, PutGetReplaceDelete) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK(txn->PutSecret("keys/v/k/1", AsBytes("first")));
  ASSERT_OK_AND_ASSIGN(SecretBytes v1, txn->GetSecret("keys/v/k/1"));
  EXPECT_EQ(Str(v1), "first");
  ASSERT_OK(txn->PutSecret("keys/v/k/1", AsBytes("second")));
  ASSERT_OK(txn->Commit());

  ASSERT_OK_AND_ASSIGN(auto txn2, store_->Begin());
  ASSERT_OK_AND_ASSIGN(SecretBytes v2, txn2->GetSecret("keys/v/k/1"));
  EXPECT_EQ(Str(v2), "second");
  EXPECT_TRUE(txn2->GetSecret("keys/V/k/1").status().Is(StatusCode::kNotFound));  // exact names
  ASSERT_OK(txn2->DeleteSecret("keys/v/k/1"));
  EXPECT_TRUE(txn2->GetSecret("keys/v/k/1").status().Is(StatusCode::kNotFound));
  EXPECT_TRUE(txn2->DeleteSecret("keys/v/k/1").Is(StatusCode::kNotFound));
}

TEST_F(SecretsTest, EmptyAndBinarySecretsRoundTrip) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  ASSERT_OK(txn->PutSecret("empty", {}));
  std::vector<uint8_t> bin(4096);
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<uint8_t>(i);
  ASSERT_OK(txn->PutSecret("bin", bin));
  ASSERT_OK(txn->Commit());
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(SecretBytes empty, read->GetSecret("empty"));
  EXPECT_TRUE(empty.empty());
  ASSERT_OK_AND_ASSIGN(SecretBytes got, read->GetSecret("bin"));
  EXPECT_TRUE(got == SecretBytes(bin));
}

TEST_F(SecretsTest, RejectsBadNames) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  EXPECT_TRUE(txn->PutSecret("", AsBytes("x")).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(
      txn->PutSecret(std::string("a\0b", 3), AsBytes("x")).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn->GetSecret("").status().Is(StatusCode::kInvalidArgument));
}

TEST_F(SecretsTest, ListSecretsByPrefixWithPagination) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
  for (const char* name : {"keys/a/2", "keys/a/1", "keys/b/1", "keysX", "sp/client", "keys/a/10"}) {
    ASSERT_OK(txn->PutSecret(name, AsBytes("v")));
  }
  ASSERT_OK_AND_ASSIGN(auto a, txn->ListSecrets("keys/a/"));
  EXPECT_THAT(a, ElementsAre("keys/a/1", "keys/a/10", "keys/a/2"));
  ASSERT_OK_AND_ASSIGN(auto keys, txn->ListSecrets("keys"));
  EXPECT_THAT(keys, ElementsAre("keys/a/1", "keys/a/10", "keys/a/2", "keys/b/1", "keysX"));
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListSecrets(""));
  EXPECT_EQ(all.size(), 6u);
  ASSERT_OK_AND_ASSIGN(auto page1, txn->ListSecrets("keys", {.limit = 2, .after = ""}));
  EXPECT_THAT(page1, ElementsAre("keys/a/1", "keys/a/10"));
  ASSERT_OK_AND_ASSIGN(auto page2, txn->ListSecrets("keys", {.limit = 2, .after = page1.back()}));
  EXPECT_THAT(page2, ElementsAre("keys/a/2", "keys/b/1"));
  ASSERT_OK_AND_ASSIGN(auto high, txn->ListSecrets("\xff"));
  EXPECT_TRUE(high.empty());
}

// Counts occurrences of marker in bytes that are not part of "CONTROL-" + marker.
int BareOccurrences(const std::string& bytes, const std::string& marker) {
  int bare = 0;
  for (size_t pos = bytes.find(marker); pos != std::string::npos;
       pos = bytes.find(marker, pos + 1)) {
    if (pos < 8 || bytes.compare(pos - 8, 8, "CONTROL-") != 0) ++bare;
  }
  return bare;
}

// Reads byok.db and its WAL/SHM companions as raw bytes.
std::string AllDbBytes(const std::string& db) {
  return ReadFileOrEmpty(db) + ReadFileOrEmpty(db + "-wal") + ReadFileOrEmpty(db + "-shm") +
         ReadFileOrEmpty(db + "-journal");
}

TEST_F(SecretsTest, PlaintextNeverReachesTheDatabaseFiles) {
  const std::string marker = "PLAINTEXT-MARKER-5f3c2a9e-do-not-store-me-in-clear";
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    for (int i = 0; i < 50; ++i) {
      ASSERT_OK(txn->PutSecret("secret/" + std::to_string(i), AsBytes(marker)));
    }
    // A control: the same marker in a resource body is found, so the scan itself works.
    ASSERT_OK(txn->Put(MakeResource("/control", "t", "", {{"m", "CONTROL-" + marker}})));
    ASSERT_OK(txn->Commit());
  }
  {
    // While open (the data sits in the WAL).
    std::string bytes = AllDbBytes(DbPath());
    ASSERT_FALSE(bytes.empty());
    EXPECT_TRUE(Contains(bytes, "CONTROL-" + marker));
    EXPECT_EQ(BareOccurrences(bytes, marker), 0) << "sealed secret plaintext on disk";
    EXPECT_FALSE(Contains(bytes, Base64Encode(AsBytes(marker)).substr(0, 40)));
    RootKey key = TestRootKey();
    EXPECT_FALSE(Contains(bytes, ToString(key.bytes())));
    EXPECT_FALSE(Contains(bytes, Base64Encode(key.bytes())));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->Delete("/control"));
    ASSERT_OK(txn->Commit());
  }
  store_.reset();  // checkpoints the WAL into byok.db
  ASSERT_FALSE(ReadFileOrEmpty(DbPath()).empty());
  std::string bytes = AllDbBytes(DbPath());
  // The deleted control may linger in free pages; the secrets never appear outside it.
  EXPECT_EQ(BareOccurrences(bytes, marker), 0) << "sealed secret plaintext on disk";
  Open();
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(SecretBytes v, read->GetSecret("secret/7"));
  EXPECT_EQ(Str(v), marker);
}

TEST_F(SecretsTest, SealedBlobCopiedToAnotherNameDoesNotOpen) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->PutSecret("victim", AsBytes("top secret")));
    ASSERT_OK(txn->Commit());
  }
  {
    RawDb raw(DbPath());
    ASSERT_EQ(raw.Exec("INSERT INTO secrets (name, sealed, created_ns, updated_ns) "
                       "SELECT 'attacker', sealed, created_ns, updated_ns FROM secrets "
                       "WHERE name = 'victim'"),
              SQLITE_OK);
  }
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  Result<SecretBytes> moved = read->GetSecret("attacker");
  EXPECT_TRUE(moved.status().Is(StatusCode::kDataLoss)) << moved.status().ToString();
  EXPECT_THAT(moved.status().message(), HasSubstr("attacker"));
  ASSERT_OK_AND_ASSIGN(SecretBytes original, read->GetSecret("victim"));
  EXPECT_EQ(Str(original), "top secret");
}

TEST_F(SecretsTest, TamperedOrTruncatedBlobIsDataLoss) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->PutSecret("a", AsBytes("payload-a")));
    ASSERT_OK(txn->PutSecret("b", AsBytes("payload-b")));
    ASSERT_OK(txn->Commit());
  }
  {
    RawDb raw(DbPath());
    // Flip one ciphertext byte of "a"; truncate "b" below the seal overhead.
    ASSERT_EQ(raw.Exec("UPDATE secrets SET sealed = substr(sealed, 1, 14) || "
                       "(CASE WHEN substr(sealed, 15, 1) = x'00' THEN x'01' ELSE x'00' END) || "
                       "substr(sealed, 16) WHERE name = 'a'"),
              SQLITE_OK);
    ASSERT_EQ(raw.Exec("UPDATE secrets SET sealed = substr(sealed, 1, 10) WHERE name = 'b'"),
              SQLITE_OK);
  }
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  EXPECT_TRUE(read->GetSecret("a").status().Is(StatusCode::kDataLoss));
  EXPECT_TRUE(read->GetSecret("b").status().Is(StatusCode::kDataLoss));
}

TEST_F(SecretsTest, DifferentRootKeyIsRefusedAtOpen) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->PutSecret("s", AsBytes("v")));
    ASSERT_OK(txn->Commit());
  }
  store_.reset();
  Result<std::unique_ptr<Store>> wrong = OpenSqliteStore(Options(), clock_, TestRootKey(2));
  EXPECT_TRUE(wrong.status().Is(StatusCode::kPermissionDenied)) << wrong.status().ToString();
  EXPECT_THAT(wrong.status().message(), HasSubstr("root key does not match this data directory"));
  // The right key still works afterwards: the failed open changed nothing.
  Open();
  ASSERT_OK_AND_ASSIGN(auto read, store_->BeginRead());
  ASSERT_OK_AND_ASSIGN(SecretBytes v, read->GetSecret("s"));
  EXPECT_EQ(Str(v), "v");
}

TEST_F(SecretsTest, DifferentRootKeyIsRefusedEvenWithoutSecrets) {
  store_.reset();
  Result<std::unique_ptr<Store>> wrong = OpenSqliteStore(Options(), clock_, TestRootKey(3));
  EXPECT_TRUE(wrong.status().Is(StatusCode::kPermissionDenied)) << wrong.status().ToString();
}

TEST_F(SecretsTest, MissingCanaryWithSecretsIsDataLoss) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin());
    ASSERT_OK(txn->PutSecret("s", AsBytes("v")));
    ASSERT_OK(txn->Commit());
  }
  store_.reset();
  {
    RawDb raw(DbPath());
    ASSERT_EQ(raw.Exec("DELETE FROM meta WHERE key = 'store.root_key_canary'"), SQLITE_OK);
  }
  Result<std::unique_ptr<Store>> reopened = OpenSqliteStore(Options(), clock_, TestRootKey(2));
  EXPECT_TRUE(reopened.status().Is(StatusCode::kDataLoss)) << reopened.status().ToString();
}

}  // namespace
}  // namespace byok::store::test
