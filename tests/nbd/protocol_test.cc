#include "nbd/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace byok::nbd {
namespace {

TEST(NbdProtocolTest, RequestRoundTrip) {
  Request r{kCmdFlagFua, kCmdWrite, 0x0102030405060708ULL, 0x1122334455667788ULL, 0xdeadbeef};
  auto bytes = EncodeRequest(r);
  EXPECT_EQ(bytes[0], 0x25);
  EXPECT_EQ(bytes[3], 0x13);
  auto parsed = ParseRequest(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->flags, r.flags);
  EXPECT_EQ(parsed->type, r.type);
  EXPECT_EQ(parsed->cookie, r.cookie);
  EXPECT_EQ(parsed->offset, r.offset);
  EXPECT_EQ(parsed->length, r.length);
}

TEST(NbdProtocolTest, RequestRejectsBadMagicAndSize) {
  auto bytes = EncodeRequest({});
  bytes[0] ^= 1;
  EXPECT_TRUE(ParseRequest(bytes).status().Is(StatusCode::kInvalidArgument));
  std::vector<uint8_t> short_header(27);
  EXPECT_FALSE(ParseRequest(short_header).ok());
  std::vector<uint8_t> long_header(29);
  EXPECT_FALSE(ParseRequest(long_header).ok());
}

TEST(NbdProtocolTest, OptionHeader) {
  auto bytes = EncodeOptionHeader({kOptGo, 42});
  auto parsed = ParseOptionHeader(bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->option, kOptGo);
  EXPECT_EQ(parsed->length, 42u);
  EXPECT_FALSE(ParseOptionHeader(EncodeOptionHeader({kOptGo, kMaxOptionDataSize + 1})).ok());
  bytes[7] = 'X';  // IHAVEOPX
  EXPECT_FALSE(ParseOptionHeader(bytes).ok());
  EXPECT_FALSE(ParseOptionHeader(std::span(bytes).first(15)).ok());
}

TEST(NbdProtocolTest, GoOption) {
  GoOption go{"disk-abc", {kInfoBlockSize, kInfoName}};
  auto bytes = EncodeGoOption(go);
  ASSERT_EQ(bytes.size(), 4 + 8 + 2 + 4u);
  auto parsed = ParseGoOption(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->export_name, "disk-abc");
  EXPECT_EQ(parsed->info_requests, (std::vector<uint16_t>{kInfoBlockSize, kInfoName}));

  auto empty = ParseGoOption(EncodeGoOption({"", {}}));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->export_name, "");
}

TEST(NbdProtocolTest, GoOptionRejectsMalformedData) {
  auto bytes = EncodeGoOption({"name", {kInfoBlockSize}});
  EXPECT_FALSE(ParseGoOption(std::span(bytes).first(5)).ok());  // too short
  auto longer_name = bytes;
  StoreBe32(longer_name.data(), 100);  // name length past the data
  EXPECT_FALSE(ParseGoOption(longer_name).ok());
  auto extra = bytes;
  extra.push_back(0);  // one byte more than the info requests announce
  EXPECT_FALSE(ParseGoOption(extra).ok());
  auto missing = bytes;
  missing.pop_back();
  EXPECT_FALSE(ParseGoOption(missing).ok());
  EXPECT_FALSE(ParseGoOption(EncodeGoOption({std::string("a\0b", 3), {}})).ok());
  EXPECT_FALSE(ParseGoOption(EncodeGoOption({std::string(kMaxStringLength + 1, 'x'), {}})).ok());
  EXPECT_TRUE(ParseGoOption(EncodeGoOption({std::string(kMaxStringLength, 'x'), {}})).ok());
  // A name length near 2^32 must not wrap around.
  auto huge = bytes;
  StoreBe32(huge.data(), 0xfffffffe);
  EXPECT_FALSE(ParseGoOption(huge).ok());
}

TEST(NbdProtocolTest, ServerMessages) {
  auto hs = EncodeHandshake(kFlagFixedNewstyle | kFlagNoZeroes);
  EXPECT_EQ(std::string(hs.begin(), hs.begin() + 16), "NBDMAGICIHAVEOPT");
  EXPECT_EQ(hs[16], 0);
  EXPECT_EQ(hs[17], 3);
  auto reply = EncodeSimpleReply(kEIo, 7);
  EXPECT_EQ(LoadBe32(reply.data()), kSimpleReplyMagic);
  EXPECT_EQ(LoadBe32(reply.data() + 4), 5u);
  EXPECT_EQ(LoadBe64(reply.data() + 8), 7u);
  auto opt = EncodeOptionReplyHeader(kOptGo, kRepErrUnknown, 3);
  EXPECT_EQ(LoadBe64(opt.data()), 0x3e889045565a9ULL);
  EXPECT_EQ(LoadBe32(opt.data() + 12), 0x80000006u);
  auto info = EncodeInfoExport(1 << 20, 0x16d);
  EXPECT_EQ(LoadBe16(info.data()), 0);
  EXPECT_EQ(LoadBe64(info.data() + 2), 1u << 20);
  auto block = EncodeInfoBlockSize(1, 4096, 32 << 20);
  EXPECT_EQ(LoadBe16(block.data()), 3);
  EXPECT_EQ(LoadBe32(block.data() + 6), 4096u);
}

TEST(NbdProtocolTest, ErrorMapping) {
  EXPECT_EQ(ErrorForStatus(StatusCode::kFailedPrecondition), 5u);
  EXPECT_EQ(ErrorForStatus(StatusCode::kDataLoss), 5u);
  EXPECT_EQ(ErrorForStatus(StatusCode::kInternal), 5u);
  EXPECT_EQ(ErrorForStatus(StatusCode::kUnavailable), 5u);
  EXPECT_EQ(ErrorForStatus(StatusCode::kOutOfRange), 22u);
  EXPECT_EQ(ErrorForStatus(StatusCode::kInvalidArgument), 22u);
  EXPECT_EQ(ErrorForStatus(StatusCode::kOk), 0u);
}

}  // namespace
}  // namespace byok::nbd
