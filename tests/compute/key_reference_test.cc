#include "compute/key_reference.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "compute/disk_store.h"
#include "compute/errors.h"

namespace byok::compute {
namespace {

constexpr char kVersion[] = "0123456789abcdef0123456789abcdef";

TEST(KeyUrlTest, ParsesVersionedAndVersionlessUrls) {
  auto u = KeyUrl::Parse(std::string("https://KV1.vault.localhost:8443/keys/Cmk/") + kVersion);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->vault, "kv1");
  EXPECT_EQ(u->authority, "kv1.vault.localhost:8443");
  EXPECT_EQ(u->name, "Cmk");
  EXPECT_EQ(u->version, kVersion);
  EXPECT_EQ(u->ToString(), std::string("https://kv1.vault.localhost:8443/keys/Cmk/") + kVersion);
  EXPECT_EQ(u->Versionless(), "https://kv1.vault.localhost:8443/keys/Cmk");

  auto v = KeyUrl::Parse("https://kv1.vault.localhost/keys/cmk/");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version, "");
  EXPECT_TRUE(v->SameKey(*u));  // key names compare case-insensitively; ports do not matter
  EXPECT_FALSE(v->SameVersion(*u));
  EXPECT_TRUE(u->SameVersion(
      *KeyUrl::Parse(std::string("https://kv1.vault.localhost:9999/keys/cmk/") + kVersion)));
  EXPECT_EQ(v->WithVersion("ABCDEF0123456789ABCDEF0123456789").version,
            "abcdef0123456789abcdef0123456789");
}

TEST(KeyUrlTest, RejectsOtherShapes) {
  for (const char* bad : {
           "http://kv.vault.localhost:8443/keys/k",           // not https
           "https://kv.vault.azure.net/keys/k",               // not this server's Key Vault
           "https://vault.localhost/keys/k",                  // no vault label
           "https://a.b.vault.localhost/keys/k",              // two labels
           "https://kv.vault.localhost:84x3/keys/k",          // bad port
           "https://kv.vault.localhost:8443/secrets/k",       // not a key
           "https://kv.vault.localhost:8443/keys/",           // no name
           "https://kv.vault.localhost:8443/keys/k_1",        // invalid name
           "https://kv.vault.localhost:8443/keys/k/1234",     // invalid version
           "https://kv.vault.localhost:8443/keys/k/v/extra",  // too many segments
           "kv.vault.localhost/keys/k",
           "",
       }) {
    EXPECT_FALSE(KeyUrl::Parse(bad)) << bad;
  }
}

TEST(KeyReferenceTest, RsaKeyBitsFromTheModulus) {
  keyvault::VersionDoc v;
  std::vector<uint8_t> n(256, 0xff);
  v.jwk = {{"n", Base64UrlEncode(n)}};
  EXPECT_EQ(RsaKeyBits(v), 2048);
  n.insert(n.begin(), 0);  // a leading zero octet does not count
  n[1] = 0x01;             // top byte 0x01: 2041 bits
  v.jwk = {{"n", Base64UrlEncode(n)}};
  EXPECT_EQ(RsaKeyBits(v), 2041);
  v.jwk = nlohmann::json::object();
  EXPECT_EQ(RsaKeyBits(v), 0);
}

TEST(DiskStoreTest, NamesAndLayers) {
  EXPECT_EQ(ParseEncryptionType("encryptionatrestwithcustomerkey"), EncryptionType::kCustomerKey);
  EXPECT_FALSE(ParseEncryptionType("ConfidentialVmEncryptedWithCustomerKey"));
  EXPECT_EQ(ParseDiskState("attached"), DiskState::kAttached);
  EXPECT_EQ(DiskStateName(DiskState::kReserved), "Reserved");

  DesRecord des;
  des.id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/d";
  des.active_key_url = std::string("https://kv.vault.localhost:8443/keys/k/") + kVersion;
  auto platform = DiskLayers(EncryptionType::kPlatformKey, nullptr);
  ASSERT_EQ(platform.size(), 1u);
  EXPECT_EQ(platform[0].layer, blockstore::Layer::kPlatform);
  EXPECT_EQ(platform[0].key_id, kPlatformKeyId);
  auto customer = DiskLayers(EncryptionType::kCustomerKey, &des);
  ASSERT_EQ(customer.size(), 1u);
  EXPECT_EQ(customer[0].layer, blockstore::Layer::kCustomer);
  EXPECT_EQ(customer[0].key_id, des.active_key_url);
  EXPECT_EQ(customer[0].des_id, des.id);
  auto both = DiskLayers(EncryptionType::kPlatformAndCustomerKeys, &des);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].layer, blockstore::Layer::kCustomer);  // customer first, then platform
  EXPECT_EQ(both[1].layer, blockstore::Layer::kPlatform);
}

TEST(ComputeErrorsTest, TemplatesFormat) {
  auto e = MakeError(errors::kKeyVaultAccessForbidden, "https://kv/keys/k/v", "des1");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "KeyVaultAccessForbidden");
  EXPECT_EQ(e.message,
            "Unable to access key vault resource 'https://kv/keys/k/v' to enable encryption at "
            "rest. Please grant get, wrap and unwrap key permissions to disk encryption set "
            "'des1'. Please visit https://aka.ms/keyvaultaccessssecmk for more information.");
  EXPECT_NE(MakeError(errors::kInvalidKeyUrl, "x").message.find("/keys/{name}/{version}"),
            std::string::npos);
  EXPECT_EQ(MakeError(errors::kDiskAttached, "d", "vm").message,
            "Disk 'd' is attached to VM 'vm'.");
}

}  // namespace
}  // namespace byok::compute
