// BlockStore::Inspect: the header view and the at-rest proof.
#include <gtest/gtest.h>

#include <cstring>

#include "blockstore/blockstore.h"
#include "blockstore/blockstore_test_helpers.h"
#include "blockstore/format.h"
#include "common/encoding.h"

namespace byok::blockstore {
namespace {

using blockstore_test::CustomerKey;
using blockstore_test::DiskEnv;
using blockstore_test::kCustomerKeyV1;
using blockstore_test::PlatformKey;
using blockstore_test::RandomBytes;
using blockstore_test::WriteRaw;

constexpr uint64_t kSize = 32 * 1024 * 1024;
const std::string kPattern = "TOP-SECRET-PLAINTEXT-PATTERN";

std::vector<uint8_t> PatternData(size_t n) {
  std::vector<uint8_t> out;
  while (out.size() < n) out.insert(out.end(), kPattern.begin(), kPattern.end());
  out.resize(n);
  return out;
}

TEST(InspectTest, ShowsHeaderLayoutAndProof) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {CustomerKey(), PlatformKey()}).ok());
  {
    auto v = env.store->Open("d1");
    ASSERT_TRUE(v.ok());
    std::vector<uint8_t> data = PatternData(4 * 1024 * 1024);
    ASSERT_TRUE((*v)->Write(4096, data, true).ok());
  }
  InspectOptions options;
  options.pattern = kPattern;
  Result<nlohmann::json> j = env.store->Inspect("d1", options);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["disk_id"], "d1");
  EXPECT_EQ((*j)["path"], env.store->PathOf("d1"));
  EXPECT_EQ((*j)["format_version"], 1);
  EXPECT_EQ((*j)["generation"], 1);
  EXPECT_EQ((*j)["size_bytes"], kSize);
  EXPECT_EQ((*j)["sector_size"], 4096);
  EXPECT_EQ((*j)["sectors"], kSize / 4096);
  EXPECT_EQ((*j)["data_offset"], kDefaultDataOffset);
  EXPECT_EQ((*j)["cipher"], "AES-256-XTS");
  EXPECT_EQ((*j)["tweak"], "sector number, 128-bit little-endian");
  EXPECT_GE((*j)["allocated_bytes"].get<uint64_t>(), 4u * 1024 * 1024);
  EXPECT_LT((*j)["allocated_bytes"].get<uint64_t>(), kSize);
  EXPECT_EQ((*j)["header_slots"][0]["state"], "valid");
  EXPECT_EQ((*j)["header_slots"][0]["in_force"], true);
  EXPECT_EQ((*j)["header_slots"][1]["state"], "empty");
  const auto& layers = (*j)["layers"];
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0]["layer"], "customer");
  EXPECT_EQ(layers[0]["key_id"], kCustomerKeyV1);
  EXPECT_EQ(layers[0]["key_version"], "00000000000000000000000000000001");
  EXPECT_EQ(layers[0]["algorithm"], "RSA-OAEP-256");
  EXPECT_EQ(layers[1]["layer"], "platform");
  EXPECT_EQ(layers[1]["key_version"], "v1");
  Result<DiskHeader> h = env.store->ReadHeader("d1");
  EXPECT_EQ(layers[1]["wrapped"], Base64UrlEncode(h->layers[1].wrapped));
  const auto& proof = (*j)["proof"];
  EXPECT_EQ(proof["pattern"]["searched"], kPattern);
  EXPECT_EQ(proof["pattern"]["found"], false);
  EXPECT_EQ(proof["pattern"]["occurrences"], 0);
  EXPECT_GT(proof["entropy_bits_per_byte"].get<double>(), 7.99);
  EXPECT_EQ(proof["sampled_bytes"], 4 * 1024 * 1024);
  // Without a pattern.
  j = env.store->Inspect("d1", {});
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE((*j)["proof"]["pattern"].is_null());
  EXPECT_EQ((*j)["proof"]["sampled_bytes"], 4 * 1024 * 1024);
  EXPECT_TRUE(env.store->Inspect("nope", {}).status().Is(StatusCode::kNotFound));
}

TEST(InspectTest, PatternScanFindsPlaintextAnywhere) {
  // Plaintext planted in the raw file (as an unencrypted disk would have it) is found: across
  // the 1 MiB read chunks, next to holes, overlapping, and in the header area.
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {PlatformKey()}).ok());
  std::string path = env.store->PathOf("d1");
  std::vector<uint8_t> p(kPattern.begin(), kPattern.end());
  uint64_t at[] = {
      kDefaultDataOffset + 1024 * 1024 - 5,                    // spans a 1 MiB chunk boundary
      kDefaultDataOffset + 5 * 1024 * 1024,                    // alone in a hole-surrounded block
      kDefaultDataOffset + 9 * 1024 * 1024 - kPattern.size(),  // ends a block
      kSize + kDefaultDataOffset - kPattern.size(),            // the end of the file
      300 * 1024,                                              // header area
  };
  for (uint64_t off : at) WriteRaw(path, off, p);
  InspectOptions options;
  options.pattern = kPattern;
  Result<nlohmann::json> j = env.store->Inspect("d1", options);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["proof"]["pattern"]["occurrences"], 5);
  EXPECT_EQ((*j)["proof"]["pattern"]["found"], true);
  // Overlapping occurrences count separately.
  options.pattern = "~~";
  WriteRaw(path, kDefaultDataOffset + 20 * 1024 * 1024, std::vector<uint8_t>(4, '~'));
  j = env.store->Inspect("d1", options);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["proof"]["pattern"]["occurrences"], 3);
  // Patterns with zeros at an end match into holes: "~" at the start of a block after a hole,
  // and at the end of a block before one (plus the "~~~~" above, at the start of its block).
  WriteRaw(path, kDefaultDataOffset + 24 * 1024 * 1024, std::vector<uint8_t>{'~'});
  WriteRaw(path, kDefaultDataOffset + 25 * 1024 * 1024 - 1, std::vector<uint8_t>{'~'});
  options.pattern = std::string("\0\0", 2) + "~";
  j = env.store->Inspect("d1", options);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["proof"]["pattern"]["occurrences"], 3);
  options.pattern = "~" + std::string("\0\0", 2);
  j = env.store->Inspect("d1", options);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["proof"]["pattern"]["occurrences"], 3);
  // Patterns that prove nothing are refused.
  options.pattern = std::string(3, '\0');
  EXPECT_TRUE(env.store->Inspect("d1", options).status().Is(StatusCode::kInvalidArgument));
  options.pattern = "";
  EXPECT_TRUE(env.store->Inspect("d1", options).status().Is(StatusCode::kInvalidArgument));
}

TEST(InspectTest, EntropyOfPlaintextIsLow) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d1", kSize, {PlatformKey()}).ok());
  WriteRaw(env.store->PathOf("d1"), kDefaultDataOffset, PatternData(1024 * 1024));
  Result<nlohmann::json> j = env.store->Inspect("d1", {});
  ASSERT_TRUE(j.ok());
  EXPECT_LT((*j)["proof"]["entropy_bits_per_byte"].get<double>(), 5.0);
  EXPECT_EQ((*j)["proof"]["sampled_bytes"], 1024 * 1024);
}

}  // namespace
}  // namespace byok::blockstore
