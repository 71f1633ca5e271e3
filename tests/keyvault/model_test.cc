// Pure parts of the keys data plane: names, recovery levels, ISO-8601 durations, rotation policy
// validation and scheduling, backup blobs, key material encoding and the key cache.
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "crypto/keys.h"
#include "keyvault/backup.h"
#include "keyvault/key_material.h"
#include "keyvault/key_model.h"
#include "keyvault/rotation_policy.h"

namespace byok::keyvault {
namespace {

using nlohmann::json;

TEST(KeyModelTest, NamesAndVersions) {
  EXPECT_TRUE(IsValidKeyName("my-Key-1"));
  EXPECT_TRUE(IsValidKeyName(std::string(127, 'a')));
  EXPECT_FALSE(IsValidKeyName(""));
  EXPECT_FALSE(IsValidKeyName(std::string(128, 'a')));
  EXPECT_FALSE(IsValidKeyName("my_key"));
  EXPECT_FALSE(IsValidKeyName("my.key"));
  EXPECT_FALSE(IsValidKeyName("kéy"));
  std::string v = NewVersionId(CryptoRandom());
  EXPECT_EQ(v.size(), 32u);
  EXPECT_TRUE(IsValidVersion(v));
  EXPECT_TRUE(IsValidVersion("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(IsValidVersion("0123456789abcdef0123456789abcde"));
  EXPECT_FALSE(IsValidVersion("0123456789abcdef0123456789abcdeg"));
  EXPECT_EQ(KeyResourceId("g", "MyKey"), "/byok/keyvault/vaults/g/keys/mykey");
  EXPECT_EQ(VersionResourceId("g", "MyKey", "AB"),
            "/byok/keyvault/vaults/g/keys/mykey/versions/ab");
  EXPECT_EQ(KeySecretName("g", "MyKey", "ab"), "keyvault/g/keys/mykey/ab");
}

TEST(KeyModelTest, RecoveryLevelsAsAzureReportsThem) {
  VaultRecord v;
  v.soft_delete_retention_days = 90;
  EXPECT_EQ(RecoveryLevel(v), "Recoverable+Purgeable");
  v.enable_purge_protection = true;
  EXPECT_EQ(RecoveryLevel(v), "Recoverable");
  v.soft_delete_retention_days = 7;
  EXPECT_EQ(RecoveryLevel(v), "CustomizedRecoverable");
  v.enable_purge_protection = false;
  EXPECT_EQ(RecoveryLevel(v), "CustomizedRecoverable+Purgeable");
  KeyAttributes a;
  a.created = 10;
  a.updated = 11;
  json j = RenderAttributes(a, v);
  EXPECT_EQ(j["recoverableDays"], 7);
  EXPECT_EQ(j["enabled"], true);
  EXPECT_FALSE(j.contains("exp"));
}

TEST(KeyModelTest, DocumentsRoundTrip) {
  VaultRecord vault;
  KeyDoc k;
  k.name = "Key";
  k.vault = "kv";
  k.current_version = "v1";
  k.next_seq = 3;
  k.deleted = DeletedInfo{1, 2, "https://x/deletedkeys/Key"};
  k.rotation_policy = {{"lifetimeActions", json::array()}};
  auto back = KeyDoc::FromJson(k.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "Key");
  EXPECT_EQ(back->next_seq, 3);
  ASSERT_TRUE(back->deleted);
  EXPECT_EQ(back->deleted->scheduled_purge_date, 2);
  EXPECT_TRUE(back->rotation_policy.is_object());
  VersionDoc v;
  v.version = "ab";
  v.kty = "RSA";
  v.key_ops = {"wrapKey"};
  v.jwk = {{"n", "AQ"}, {"e", "AQAB"}};
  v.attributes.enabled = false;
  v.attributes.exp = 99;
  v.tags = {{"a", "b"}};
  auto vb = VersionDoc::FromJson("ab", v.ToJson(vault));
  ASSERT_TRUE(vb.ok());
  EXPECT_FALSE(vb->attributes.enabled);
  EXPECT_EQ(vb->attributes.exp, 99);
  EXPECT_FALSE(vb->attributes.nbf);
  EXPECT_EQ(vb->tags["a"], "b");
  EXPECT_FALSE(KeyDoc::FromJson(json::array()).ok());
  EXPECT_FALSE(VersionDoc::FromJson("x", {{"kty", "RSA"}}).ok());
}

TEST(IsoDurationTest, ParsesWhatKeyVaultAccepts) {
  EXPECT_EQ(*ParseIsoDuration("P90D"), 90 * 86400);
  EXPECT_EQ(*ParseIsoDuration("P1Y"), 365 * 86400);
  EXPECT_EQ(*ParseIsoDuration("P2M"), 60 * 86400);
  EXPECT_EQ(*ParseIsoDuration("P1W"), 7 * 86400);
  EXPECT_EQ(*ParseIsoDuration("P1DT12H"), 86400 + 12 * 3600);
  EXPECT_EQ(*ParseIsoDuration("PT30M"), 1800);
  EXPECT_EQ(*ParseIsoDuration("p1y2m3d"), (365 + 60 + 3) * 86400);
  for (const char* bad : {"", "P", "PT", "90D", "P1", "P1H", "PT1D", "P-1D", "P1.5D", "P1DT",
                          "PTT1H", "P99999999999999D"}) {
    EXPECT_FALSE(ParseIsoDuration(bad).ok()) << bad;
  }
}

json Policy(json actions, json attributes = json::object()) {
  return {{"lifetimeActions", std::move(actions)}, {"attributes", std::move(attributes)}};
}
json Action(const char* trigger, const char* duration, const char* type) {
  return {{"trigger", {{trigger, duration}}}, {"action", {{"type", type}}}};
}

TEST(RotationPolicyTest, ValidPoliciesAreNormalized) {
  auto p = ValidateRotationPolicy(Policy({Action("timeAfterCreate", "P30D", "rotate"),
                                          Action("timeBeforeExpiry", "P10D", "NOTIFY")},
                                         {{"expiryTime", "P90D"}}),
                                  1000, nullptr);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ((*p)["lifetimeActions"][0]["action"]["type"], "Rotate");
  EXPECT_EQ((*p)["lifetimeActions"][1]["action"]["type"], "Notify");
  EXPECT_EQ((*p)["attributes"]["expiryTime"], "P90D");
  EXPECT_EQ((*p)["attributes"]["created"], 1000);
  EXPECT_EQ((*p)["attributes"]["updated"], 1000);
  // An update keeps the created time.
  auto again =
      ValidateRotationPolicy(Policy({Action("timeAfterCreate", "P7D", "Rotate")}), 2000, *p);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["attributes"]["created"], 1000);
  EXPECT_EQ((*again)["attributes"]["updated"], 2000);
  EXPECT_FALSE((*again)["attributes"].contains("expiryTime"));
  json rendered = RenderRotationPolicy("https://kv.vault.localhost:8443", "k", *again);
  EXPECT_EQ(rendered["id"], "https://kv.vault.localhost:8443/keys/k/rotationpolicy");
  EXPECT_EQ(rendered["lifetimeActions"].size(), 1u);
}

TEST(RotationPolicyTest, AzureMinimumsAreEnforced) {
  struct Case {
    json body;
    const char* why;
  };
  std::vector<Case> cases = {
      {Policy({Action("timeAfterCreate", "P6D", "Rotate")}), "trigger under 7 days"},
      {Policy({Action("timeBeforeExpiry", "PT1H", "Notify")}), "notify under 7 days"},
      {Policy({}, {{"expiryTime", "P27D"}}), "expiry under 28 days"},
      {Policy({Action("timeAfterCreate", "P25D", "Rotate")}, {{"expiryTime", "P30D"}}),
       "rotation less than 7 days before expiry"},
      {Policy({Action("timeBeforeExpiry", "P24D", "Rotate")}, {{"expiryTime", "P30D"}}),
       "timeBeforeExpiry too close to expiryTime"},
      {Policy({Action("timeAfterCreate", "P30D", "Notify")}), "notify with timeAfterCreate"},
      {Policy({Action("timeAfterCreate", "P30D", "Rotate"),
               Action("timeAfterCreate", "P60D", "Rotate")}),
       "two rotate actions"},
      {Policy({Action("timeAfterCreate", "P30D", "Delete")}), "unknown action"},
      {Policy({{{"trigger", {{"timeAfterCreate", "P30D"}, {"timeBeforeExpiry", "P30D"}}},
                {"action", {{"type", "Rotate"}}}}}),
       "two triggers"},
      {Policy({{{"action", {{"type", "Rotate"}}}}}), "no trigger"},
      {Policy({Action("timeAfterCreate", "30 days", "Rotate")}), "not a duration"},
      {Policy({}, {{"expiryTime", "never"}}), "bad expiry"},
      {json::array(), "not an object"},
      {{{"lifetimeActions", "x"}}, "actions not an array"},
  };
  for (const Case& c : cases) {
    auto r = ValidateRotationPolicy(c.body, 1, nullptr);
    ASSERT_FALSE(r.ok()) << c.why;
    EXPECT_EQ(r.error().http_status, 400) << c.why;
    EXPECT_EQ(r.error().code, "BadParameter") << c.why;
  }
}

TEST(RotationPolicyTest, DueTimes) {
  json policy =
      *ValidateRotationPolicy(Policy({Action("timeAfterCreate", "P30D", "Rotate")}), 0, nullptr);
  KeyAttributes a;
  a.created = 1000;
  EXPECT_EQ(RotationDueTime(policy, a), 1000 + 30 * 86400);
  json before = *ValidateRotationPolicy(
      Policy({Action("timeBeforeExpiry", "P10D", "Rotate")}, {{"expiryTime", "P60D"}}), 0, nullptr);
  EXPECT_FALSE(RotationDueTime(before, a)) << "no exp: never due";
  a.exp = 5000000;
  EXPECT_EQ(RotationDueTime(before, a), 5000000 - 10 * 86400);
  EXPECT_EQ(PolicyExpirySeconds(before), 60 * 86400);
  json notify_only =
      *ValidateRotationPolicy(Policy({Action("timeBeforeExpiry", "P10D", "Notify")}), 0, nullptr);
  EXPECT_FALSE(RotationDueTime(notify_only, a));
  EXPECT_FALSE(RotationDueTime(nullptr, a));
  json def = RenderRotationPolicy("https://b", "k", nullptr);
  EXPECT_EQ(def["lifetimeActions"][0]["action"]["type"], "Notify");
  EXPECT_EQ(def["lifetimeActions"][0]["trigger"]["timeBeforeExpiry"], "P30D");
}

TEST(BackupBlobTest, SealsForThisInstallationOnly) {
  std::vector<uint8_t> root1(32, 1), root2(32, 2);
  auto k1 = DeriveBackupKey(root1);
  auto k2 = DeriveBackupKey(root2);
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_EQ(k1->size(), kBackupKeySize);
  EXPECT_FALSE(*k1 == *k2);
  auto k1again = DeriveBackupKey(root1);
  EXPECT_TRUE(*k1 == *k1again);
  json payload = {{"format", 1}, {"name", "k"}, {"versions", json::array()}};
  auto blob = SealBackup(k1->span(), payload);
  ASSERT_TRUE(blob.ok());
  auto opened = OpenBackup(k1->span(), *blob);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)["name"], "k");
  auto other = OpenBackup(k2->span(), *blob);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kDataLoss);
  std::string tampered = *blob;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(OpenBackup(k1->span(), tampered).ok());
  EXPECT_EQ(OpenBackup(k1->span(), "not base64!").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenBackup(k1->span(), Base64UrlEncode(AsBytes("BYOKKB\x02xxxxxxxxxxxxxxxxxxxxxxx")))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(OpenBackup(k1->span(), "").ok());
  EXPECT_FALSE(DeriveBackupKey({}).ok());
}

TEST(KeyMaterialTest, DerRoundTripAndCache) {
  auto rsa = crypto::GenerateRsaKey(2048);
  ASSERT_TRUE(rsa.ok());
  auto der = PrivateKeyToDer(*rsa);
  ASSERT_TRUE(der.ok());
  auto back = PrivateKeyFromDer(der->span());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->Public().Equals(rsa->Public()));
  auto ec = crypto::GenerateEcKey(crypto::Curve::kP384);
  auto ec_back = PrivateKeyFromDer(PrivateKeyToDer(*ec)->span());
  ASSERT_TRUE(ec_back.ok());
  EXPECT_EQ(ec_back->curve(), crypto::Curve::kP384);
  std::vector<uint8_t> junk = {0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_FALSE(PrivateKeyFromDer(junk).ok());
  EXPECT_FALSE(PrivateKeyFromDer({}).ok());

  KeyCache cache(4);
  auto entry = std::make_shared<const CachedKey>(CachedKey{rsa->Clone(), rsa->Public()});
  for (int i = 0; i < 10; ++i) cache.Insert("g/k/" + std::to_string(i), entry);
  EXPECT_LE(cache.size(), 4u);
  EXPECT_NE(cache.Find("g/k/9"), nullptr);
  cache.Insert("g/k2/1", entry);
  cache.ForgetPrefix("g/k/");
  EXPECT_EQ(cache.Find("g/k/9"), nullptr);
  EXPECT_NE(cache.Find("g/k2/1"), nullptr);
}

}  // namespace
}  // namespace byok::keyvault
