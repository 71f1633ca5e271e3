#include "blockstore/format.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "common/encoding.h"

namespace byok::blockstore {
namespace {

DiskHeader SampleHeader() {
  DiskHeader h;
  h.disk_id = "6f1c2b1e-8c1a-4c53-9b8e-4b5a3e6a1f00";
  h.size_bytes = uint64_t{4} << 30;
  h.data_offset = kDefaultDataOffset;
  h.generation = 3;
  h.created = "2024-05-01T12:00:00.0000000Z";
  h.layers.push_back(
      WrappedDek{KeyRef{Layer::kCustomer, "https://v.vault.localhost:8443/keys/k/abc", "/des"},
                 "RSA-OAEP-256", std::vector<uint8_t>(256, 0xa5)});
  h.layers.push_back(WrappedDek{KeyRef{Layer::kPlatform, "platform:v1", ""}, "A256KW",
                                std::vector<uint8_t>(72, 0x5a)});
  return h;
}

uint32_t LoadU32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// Re-frames a slot after its bytes were edited: new body length and checksum.
void Reseal(std::vector<uint8_t>& slot, std::string_view body) {
  slot.assign(kHeaderSlotSize, 0);
  std::memcpy(slot.data(), "BYOKDISK", 8);
  slot[8] = 1;
  uint32_t n = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) slot[12 + i] = static_cast<uint8_t>(n >> (8 * i));
  slot[16] = 1;
  std::memcpy(slot.data() + 32, body.data(), body.size());
  unsigned int len = 0;
  EVP_Digest(slot.data(), 32 + n, slot.data() + 32 + n, &len, EVP_sha256(), nullptr);
}

TEST(FormatTest, RoundTrip) {
  DiskHeader h = SampleHeader();
  Result<std::vector<uint8_t>> slot = EncodeHeaderSlot(h);
  ASSERT_TRUE(slot.ok()) << slot.status().ToString();
  EXPECT_EQ(slot->size(), kHeaderSlotSize);
  EXPECT_EQ(std::string(slot->begin(), slot->begin() + 8), "BYOKDISK");
  EXPECT_EQ(LoadU32(slot->data() + 8), 1u);
  Result<DiskHeader> back = ParseHeaderSlot(*slot);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->disk_id, h.disk_id);
  EXPECT_EQ(back->size_bytes, h.size_bytes);
  EXPECT_EQ(back->sector_size, 4096u);
  EXPECT_EQ(back->data_offset, kDefaultDataOffset);
  EXPECT_EQ(back->generation, 3u);
  EXPECT_EQ(back->created, h.created);
  ASSERT_EQ(back->layers.size(), 2u);
  EXPECT_EQ(back->layers[0].key.layer, Layer::kCustomer);
  EXPECT_EQ(back->layers[0].key.key_id, h.layers[0].key.key_id);
  EXPECT_EQ(back->layers[0].key.des_id, "/des");
  EXPECT_EQ(back->layers[0].algorithm, "RSA-OAEP-256");
  EXPECT_EQ(back->layers[0].wrapped, h.layers[0].wrapped);
  EXPECT_EQ(back->layers[1].key.layer, Layer::kPlatform);
  EXPECT_EQ(back->layers[1].wrapped, h.layers[1].wrapped);
}

TEST(FormatTest, ChecksumCoversEveryFramedByte) {
  Result<std::vector<uint8_t>> slot = EncodeHeaderSlot(SampleHeader());
  ASSERT_TRUE(slot.ok());
  uint32_t n = LoadU32(slot->data() + 12);
  for (size_t i : {size_t{9}, size_t{16}, size_t{20}, size_t{40}, size_t{32 + n - 1},
                   size_t{32 + n}, size_t{63 + n}}) {
    std::vector<uint8_t> bad = *slot;
    bad[i] ^= 0x01;
    Result<DiskHeader> h = ParseHeaderSlot(bad);
    EXPECT_TRUE(h.status().Is(StatusCode::kDataLoss)) << i << ": " << h.status().ToString();
  }
  // Padding after the checksum is not covered (and not needed).
  std::vector<uint8_t> padded = *slot;
  padded[100 + n] = 0xff;
  EXPECT_TRUE(ParseHeaderSlot(padded).ok());
  // Trailing padding may be absent.
  EXPECT_TRUE(ParseHeaderSlot(std::span<const uint8_t>(*slot).first(64 + n)).ok());
  EXPECT_FALSE(ParseHeaderSlot(std::span<const uint8_t>(*slot).first(63 + n)).ok());
}

TEST(FormatTest, EmptyTruncatedAndNewerVersion) {
  std::vector<uint8_t> zeros(kHeaderSlotSize, 0);
  EXPECT_TRUE(ParseHeaderSlot(zeros).status().Is(StatusCode::kNotFound));
  EXPECT_TRUE(ParseHeaderSlot(std::span<const uint8_t>()).status().Is(StatusCode::kDataLoss));

  Result<std::vector<uint8_t>> slot = EncodeHeaderSlot(SampleHeader());
  ASSERT_TRUE(slot.ok());
  std::vector<uint8_t> v2 = *slot;
  v2[8] = 2;
  // Version 2 with a stale checksum is just corrupt...
  EXPECT_TRUE(ParseHeaderSlot(v2).status().Is(StatusCode::kDataLoss));
  // ... and with a valid checksum it is a newer format.
  uint32_t n = LoadU32(v2.data() + 12);
  unsigned int len = 0;
  EVP_Digest(v2.data(), 32 + n, v2.data() + 32 + n, &len, EVP_sha256(), nullptr);
  Result<DiskHeader> h = ParseHeaderSlot(v2);
  EXPECT_TRUE(h.status().Is(StatusCode::kFailedPrecondition)) << h.status().ToString();
}

TEST(FormatTest, RejectsBadBodies) {
  const char* bodies[] = {
      "[]",
      "{}",
      R"({"disk_id":"d","size_bytes":4096,"sector_size":512,"data_offset":1048576,)"
      R"("cipher":"AES-256-XTS","created":"","layers":[{"layer":"platform","key_id":"p",)"
      R"("algorithm":"A256KW","wrapped":"AAAA"}]})",
      R"({"disk_id":"d","size_bytes":4097,"sector_size":4096,"data_offset":1048576,)"
      R"("cipher":"AES-256-XTS","created":"","layers":[{"layer":"platform","key_id":"p",)"
      R"("algorithm":"A256KW","wrapped":"AAAA"}]})",
      R"({"disk_id":"d","size_bytes":4096,"sector_size":4096,"data_offset":4096,)"
      R"("cipher":"AES-256-XTS","created":"","layers":[{"layer":"platform","key_id":"p",)"
      R"("algorithm":"A256KW","wrapped":"AAAA"}]})",
      R"({"disk_id":"d","size_bytes":4096,"sector_size":4096,"data_offset":1048576,)"
      R"("cipher":"AES-128-CBC","created":"","layers":[{"layer":"platform","key_id":"p",)"
      R"("algorithm":"A256KW","wrapped":"AAAA"}]})",
      R"({"disk_id":"d","size_bytes":4096,"sector_size":4096,"data_offset":1048576,)"
      R"("cipher":"AES-256-XTS","created":"","layers":[]})",
      R"({"disk_id":"../d","size_bytes":4096,"sector_size":4096,"data_offset":1048576,)"
      R"("cipher":"AES-256-XTS","created":"","layers":[{"layer":"platform","key_id":"p",)"
      R"("algorithm":"A256KW","wrapped":"AAAA"}]})",
      R"({"disk_id":"d","size_bytes":-4096,"sector_size":4096,"data_offset":1048576,)"
      R"("cipher":"AES-256-XTS","created":"","layers":[{"layer":"platform","key_id":"p",)"
      R"("algorithm":"A256KW","wrapped":"AAAA"}]})",
      R"({"disk_id":"d","size_bytes":4096,"sector_size":4096,"data_offset":1048576,)"
      R"("cipher":"AES-256-XTS","created":"","layers":[{"layer":"secret","key_id":"p",)"
      R"("algorithm":"A256KW","wrapped":"AAAA"}]})",
  };
  for (const char* body : bodies) {
    std::vector<uint8_t> slot;
    Reseal(slot, body);
    EXPECT_TRUE(ParseHeaderSlot(slot).status().Is(StatusCode::kDataLoss)) << body;
  }
  std::vector<uint8_t> good;
  Reseal(good, R"({"disk_id":"d","size_bytes":4096,"sector_size":4096,"data_offset":1048576,)"
               R"("cipher":"AES-256-XTS","created":"","layers":[{"layer":"platform","key_id":"p",)"
               R"("algorithm":"A256KW","wrapped":"AAAA"}],"future_field":true})");
  EXPECT_TRUE(ParseHeaderSlot(good).ok()) << "unknown fields are ignored";
}

TEST(FormatTest, EncodeValidates) {
  DiskHeader h = SampleHeader();
  std::swap(h.layers[0], h.layers[1]);
  EXPECT_TRUE(EncodeHeaderSlot(h).status().Is(StatusCode::kInvalidArgument));
  h = SampleHeader();
  h.size_bytes = 100;
  EXPECT_FALSE(EncodeHeaderSlot(h).ok());
  h = SampleHeader();
  h.disk_id = "a/b";
  EXPECT_FALSE(EncodeHeaderSlot(h).ok());
}

TEST(FormatTest, DiskIdsAndKeyVersions) {
  EXPECT_TRUE(ValidDiskId("6f1c2b1e-8c1a-4c53-9b8e-4b5a3e6a1f00"));
  EXPECT_TRUE(ValidDiskId("disk_1.a"));
  EXPECT_FALSE(ValidDiskId(""));
  EXPECT_FALSE(ValidDiskId(".hidden"));
  EXPECT_FALSE(ValidDiskId("a/b"));
  EXPECT_FALSE(ValidDiskId(std::string(129, 'a')));
  EXPECT_EQ(KeyVersionOf({Layer::kCustomer, "https://v.vault.localhost:1/keys/k/abc123", ""}),
            "abc123");
  EXPECT_EQ(KeyVersionOf({Layer::kPlatform, "platform:v1", ""}), "v1");
}

// The fuzz seeds were made by a Python script from the format description: the valid ones parse.
TEST(FormatTest, FuzzSeedsWrittenFromTheDocumentParse) {
  auto load = [](const std::string& name) {
    std::ifstream in(std::string(BYOK_SOURCE_DIR) + "/fuzz/corpus/disk_header/" + name,
                     std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    EXPECT_FALSE(bytes.empty()) << name;
    if (!bytes.empty()) bytes.erase(bytes.begin());  // the harness's mode byte
    return bytes;
  };
  for (const char* name : {"slot_platform", "slot_customer", "slot_double"}) {
    Result<DiskHeader> h = ParseHeaderSlot(load(name));
    EXPECT_TRUE(h.ok()) << name << ": " << h.status().ToString();
  }
  EXPECT_EQ(ParseHeaderSlot(load("slot_double"))->generation, uint64_t{1} << 63);
  for (const char* name : {"slot_bad_checksum", "slot_truncated", "slot_reserved"}) {
    EXPECT_TRUE(ParseHeaderSlot(load(name)).status().Is(StatusCode::kDataLoss)) << name;
  }
  EXPECT_TRUE(ParseHeaderSlot(load("slot_version2")).status().Is(StatusCode::kFailedPrecondition));
  for (const char* name : {"body_platform", "body_double", "body_extra_field"}) {
    auto slot = FrameHeaderSlot(load(name), 1);
    ASSERT_TRUE(slot.ok());
    EXPECT_TRUE(ParseHeaderSlot(*slot).ok()) << name;
  }
  for (const char* name : {"body_wrong_order", "body_not_json", "body_bad_size", "body_bad_b64",
                           "body_float_size", "body_deep"}) {
    auto slot = FrameHeaderSlot(load(name), 1);
    ASSERT_TRUE(slot.ok());
    EXPECT_TRUE(ParseHeaderSlot(*slot).status().Is(StatusCode::kDataLoss)) << name;
  }
}

}  // namespace
}  // namespace byok::blockstore
