#include "nbd/server.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "nbd/nbd_test_helpers.h"
#include "nbd/protocol.h"

namespace byok::nbd {
namespace {

using test::ExportInfo;
using test::MemoryDevice;
using test::Pattern;
using test::Reply;
using test::TestClient;

constexpr uint64_t kDiskSize = 16 << 20;
constexpr const char* kName = "disk-1.s3cr3t-export-name";
constexpr uint16_t kExpectedFlags = kTransHasFlags | kTransSendFlush | kTransSendFua |
                                    kTransSendTrim | kTransSendWriteZeroes | kTransCanMultiConn;

class NbdServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = std::make_shared<MemoryDevice>(kDiskSize);
    server_.AddExport(kName, device_);
  }

  std::unique_ptr<TestClient> Connect() {
    auto c = TestClient::ConnectTcp(server_.port());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *std::move(c) : nullptr;
  }

  std::unique_ptr<TestClient> Open(const std::string& name = kName) {
    auto c = Connect();
    if (!c) return nullptr;
    auto info = c->Open(name);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? std::move(c) : nullptr;
  }

  test::TestServer server_;
  std::shared_ptr<MemoryDevice> device_;
};

// --- Handshake ---

TEST_F(NbdServerTest, GoAdvertisesExportAndBlockSizes) {
  auto c = Connect();
  ASSERT_TRUE(c);
  auto flags = c->ReadGreeting();
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(*flags, kFlagFixedNewstyle | kFlagNoZeroes);
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle | kClientFlagNoZeroes).ok());
  auto info = c->Go(kName);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, kDiskSize);
  EXPECT_EQ(info->flags, kExpectedFlags);
  EXPECT_EQ(info->minimum, 1u);
  EXPECT_EQ(info->preferred, 4096u);
  EXPECT_EQ(info->maximum, 32u << 20);
  EXPECT_EQ(info->info_replies, 2);

  auto data = Pattern(8192, 1);
  auto w = c->Write(4096, data);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->error, 0u);
  auto r = c->Read(4096, 8192);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->error, 0u);
  EXPECT_EQ(r->data, data);
}

TEST_F(NbdServerTest, InfoThenGo) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle).ok());
  auto info = c->Go(kName, kOptInfo);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, kDiskSize);
  auto go = c->Go(kName);
  ASSERT_TRUE(go.ok()) << go.status().ToString();
  auto r = c->Read(0, 512);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, std::vector<uint8_t>(512, 0));
}

void ExportNameHandshake(TestClient& c, bool no_zeroes) {
  ASSERT_TRUE(c.ReadGreeting().ok());
  ASSERT_TRUE(
      c.SendClientFlags(kClientFlagFixedNewstyle | (no_zeroes ? kClientFlagNoZeroes : 0)).ok());
  std::string name = kName;
  ASSERT_TRUE(
      c.SendOption(kOptExportName, {reinterpret_cast<const uint8_t*>(name.data()), name.size()})
          .ok());
  std::vector<uint8_t> reply(10 + (no_zeroes ? 0 : 124));
  ASSERT_TRUE(c.ReadBytes(reply).ok());
  EXPECT_EQ(LoadBe64(reply.data()), kDiskSize);
  EXPECT_EQ(LoadBe16(reply.data() + 8), kExpectedFlags);
  for (size_t i = 10; i < reply.size(); ++i) ASSERT_EQ(reply[i], 0) << i;
}

TEST_F(NbdServerTest, ExportNameWithZeroes) {
  auto c = Connect();
  ExportNameHandshake(*c, /*no_zeroes=*/false);
  // The stream is aligned: the next message is a reply to our request.
  auto r = c->Read(0, 4096);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->error, 0u);
}

TEST_F(NbdServerTest, ExportNameWithoutZeroes) {
  auto c = Connect();
  ExportNameHandshake(*c, /*no_zeroes=*/true);
  auto r = c->Read(0, 4096);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->error, 0u);
}

TEST_F(NbdServerTest, ExportNameUnknownClosesTheSession) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle).ok());
  std::string name = "guessed";
  ASSERT_TRUE(
      c->SendOption(kOptExportName, {reinterpret_cast<const uint8_t*>(name.data()), name.size()})
          .ok());
  EXPECT_TRUE(c->WaitClosed());
}

TEST_F(NbdServerTest, UnknownExportIsRefusedWithTheResolverMessage) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle | kClientFlagNoZeroes).ok());
  auto go = c->Go("disk-1.guess");
  ASSERT_FALSE(go.ok());
  EXPECT_EQ(go.status().message(), std::string("0x80000006: ") + test::TestServer::kUnknownMessage);
  // Negotiation goes on: the right name still works.
  ASSERT_TRUE(c->Go(kName).ok());
}

TEST_F(NbdServerTest, DetachedExportIsRefused) {
  auto first = Open();
  ASSERT_TRUE(first);
  server_.RemoveExport(kName);
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle).ok());
  EXPECT_FALSE(c->Go(kName).ok());
}

TEST_F(NbdServerTest, ListShowsNothing) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle).ok());
  ASSERT_TRUE(c->SendOption(kOptList).ok());
  auto r = c->ReadOptionReply();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->option, kOptList);
  EXPECT_EQ(r->type, kRepAck);
  uint8_t junk[3] = {1, 2, 3};
  ASSERT_TRUE(c->SendOption(kOptList, junk).ok());
  r = c->ReadOptionReply();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, kRepErrInvalid);
}

TEST_F(NbdServerTest, AbortIsAcknowledgedAndCloses) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle).ok());
  ASSERT_TRUE(c->SendOption(kOptAbort).ok());
  auto r = c->ReadOptionReply();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, kRepAck);
  EXPECT_TRUE(c->WaitClosed());
}

TEST_F(NbdServerTest, UnsupportedOptionsGetErrUnsup) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle).ok());
  for (uint32_t option : {kOptStructuredReply, kOptStartTls, kOptSetMetaContext, 4u, 99u}) {
    uint8_t data[5] = {0, 0, 0, 1, 'x'};
    ASSERT_TRUE(c->SendOption(option, data).ok());
    auto r = c->ReadOptionReply();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->option, option);
    EXPECT_EQ(r->type, kRepErrUnsup);
  }
  ASSERT_TRUE(c->Go(kName).ok());
}

TEST_F(NbdServerTest, MalformedGoIsInvalid) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle).ok());
  uint8_t data[7] = {0, 0, 0, 50, 'a', 0, 0};  // name length past the data
  ASSERT_TRUE(c->SendOption(kOptGo, data).ok());
  auto r = c->ReadOptionReply();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, kRepErrInvalid);
  EXPECT_FALSE(r->data.empty());
}

TEST_F(NbdServerTest, UnknownClientFlagsClose) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle | 0x100).ok());
  EXPECT_TRUE(c->WaitClosed());
}

TEST_F(NbdServerTest, OversizedOptionCloses) {
  auto c = Connect();
  ASSERT_TRUE(c->ReadGreeting().ok());
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle).ok());
  ASSERT_TRUE(c->WriteBytes(EncodeOptionHeader({kOptGo, 1u << 30})).ok());
  EXPECT_TRUE(c->WaitClosed());
}

// --- Transmission ---

TEST_F(NbdServerTest, CommandsReachTheDevice) {
  auto c = Open();
  ASSERT_TRUE(c);
  auto data = Pattern(65536, 2);
  auto w = c->Write(1 << 20, data, kCmdFlagFua, 10);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->error, 0u);
  EXPECT_EQ(device_->writes, 1);
  EXPECT_EQ(device_->fua_writes, 1);
  EXPECT_EQ(device_->Contents(1 << 20, data.size()), data);

  // Unaligned write and read: the device does read-modify-write, the server passes bytes.
  auto small = Pattern(100, 3);
  ASSERT_EQ(c->Write(12345, small, 0, 11)->error, 0u);
  EXPECT_EQ(device_->fua_writes, 1);
  EXPECT_EQ(c->Read(12345, 100, 12)->data, small);

  auto f = c->Call({0, kCmdFlush, 13, 0, 0});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->error, 0u);
  EXPECT_EQ(device_->flushes, 1);

  auto t = c->Call({kCmdFlagFua, kCmdTrim, 14, 1 << 20, 4096});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->error, 0u);
  EXPECT_EQ(device_->trims, 1);
  EXPECT_EQ(device_->fua_other, 1);
  EXPECT_EQ(device_->Contents(1 << 20, 4096), std::vector<uint8_t>(4096, 0));

  auto z = c->Call({kCmdFlagNoHole, kCmdWriteZeroes, 15, (1 << 20) + 4096, 8192});
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->error, 0u);
  EXPECT_EQ(device_->zeroes, 1);
  auto r = c->Read(1 << 20, 65536, 16);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> expected = data;
  std::fill_n(expected.begin(), 12288, 0);
  EXPECT_EQ(r->data, expected);
}

TEST_F(NbdServerTest, ZeroLengthRequestsSucceedWithoutTheDevice) {
  auto c = Open();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->Read(0, 0)->error, 0u);
  EXPECT_EQ(c->Write(0, {})->error, 0u);
  EXPECT_EQ(device_->reads + device_->writes, 0);
}

TEST_F(NbdServerTest, DeviceErrorsBecomeNbdErrorsAndTheConnectionStays) {
  auto c = Open();
  ASSERT_TRUE(c);
  device_->SetFailure(Status::FailedPrecondition("the disk is locked"));
  auto r = c->Read(0, 4096, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, kEIo);
  EXPECT_TRUE(r->data.empty());
  auto data = Pattern(4096, 4);
  auto w = c->Write(0, data, 0, 2);  // the payload is consumed even though the write fails
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->error, kEIo);
  EXPECT_EQ(c->Call({0, kCmdFlush, 3, 0, 0})->error, kEIo);
  device_->SetFailure(Status::DataLoss("sector checksum"));
  EXPECT_EQ(c->Read(0, 4096, 4)->error, kEIo);
  device_->SetFailure(Status::OutOfRange("past the end"));
  EXPECT_EQ(c->Read(0, 4096, 5)->error, kEInval);
  device_->SetFailure(std::nullopt);
  ASSERT_EQ(c->Write(0, data, 0, 6)->error, 0u);
  EXPECT_EQ(c->Read(0, 4096, 7)->data, data);
}

TEST_F(NbdServerTest, OutOfRangeAndInvalidRequestsGetEinval) {
  auto c = Open();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->Read(kDiskSize - 4096, 8192, 1)->error, kEInval);
  EXPECT_EQ(c->Read(kDiskSize, 1, 2)->error, kEInval);
  auto data = Pattern(8192, 5);
  EXPECT_EQ(c->Write(kDiskSize - 4096, data, 0, 3)->error, kEInval);
  EXPECT_EQ(c->Call({0, kCmdTrim, 4, kDiskSize, 4096})->error, kEInval);
  EXPECT_EQ(c->Call({0, kCmdWriteZeroes, 5, ~0ULL - 10, 4096})->error, kEInval);  // overflow
  EXPECT_EQ(c->Call({0, kCmdCache, 6, 0, 4096})->error, kEInval);
  EXPECT_EQ(c->Call({0, kCmdBlockStatus, 7, 0, 4096})->error, kEInval);
  EXPECT_EQ(c->Call({0, 42, 8, 0, 4096})->error, kEInval);
  EXPECT_EQ(c->Call({kCmdFlagDf, kCmdRead, 9, 0, 4096})->error, kEInval);
  EXPECT_EQ(c->Call({kCmdFlagNoHole, kCmdWrite, 10, 0, 4096}, std::span(data).first(4096))->error,
            kEInval);
  EXPECT_EQ(device_->reads + device_->writes + device_->trims + device_->zeroes, 0);
  // Still in sync after all the refused payloads.
  ASSERT_EQ(c->Write(0, std::span(data).first(4096), 0, 11)->error, 0u);
  EXPECT_EQ(c->Read(0, 4096, 12)->data, std::vector<uint8_t>(data.begin(), data.begin() + 4096));
}

TEST_F(NbdServerTest, OversizedReadClosesTheConnection) {
  auto c = Open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send({0, kCmdRead, 1, 0, (32u << 20) + 1}).ok());
  EXPECT_TRUE(c->WaitClosed());
}

TEST_F(NbdServerTest, OversizedWriteClosesTheConnection) {
  auto c = Open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send({0, kCmdWrite, 1, 0, 0xffffffff}).ok());
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_EQ(device_->writes, 0);
}

TEST_F(NbdServerTest, BadRequestMagicClosesTheConnection) {
  auto c = Open();
  ASSERT_TRUE(c);
  auto bytes = EncodeRequest({0, kCmdRead, 1, 0, 4096});
  bytes[1] ^= 0xff;
  ASSERT_TRUE(c->WriteBytes(bytes).ok());
  EXPECT_TRUE(c->WaitClosed());
}

TEST_F(NbdServerTest, LargestRequestIsServed) {
  auto big = std::make_shared<MemoryDevice>(64 << 20);
  server_.AddExport("big", big);
  auto c = Open("big");
  ASSERT_TRUE(c);
  auto data = Pattern(32 << 20, 6);
  ASSERT_EQ(c->Write(1 << 20, data)->error, 0u);
  auto r = c->Read(1 << 20, 32 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->data == data);
}

TEST_F(NbdServerTest, DiscFinishesInFlightRequestsThenCloses) {
  auto c = Open();
  ASSERT_TRUE(c);
  test::Gate gate;
  gate.Close();
  device_->SetGate(&gate);
  auto data = Pattern(4096, 7);
  ASSERT_TRUE(c->Send({0, kCmdWrite, 77, 8192, 4096}, data).ok());
  ASSERT_TRUE(c->Send({0, kCmdDisc, 78, 0, 0}).ok());
  ASSERT_TRUE(gate.WaitForHeld(1));
  gate.Open();
  auto reply = c->ReadReply();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->cookie, 77u);
  EXPECT_EQ(reply->error, 0u);
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_EQ(device_->Contents(8192, 4096), data);
}

TEST_F(NbdServerTest, PipelinedRequestsCompleteOutOfOrder) {
  auto c = Open();
  ASSERT_TRUE(c);
  constexpr int kCount = 64;
  for (int i = 1; i < kCount; ++i) {
    device_->Fill(uint64_t(i) * 65536, Pattern(4096, static_cast<uint8_t>(i)));
  }
  test::Gate gate;
  gate.Close();
  device_->SetGate(&gate, /*offset=*/0);  // the first read waits
  ASSERT_TRUE(c->Send({0, kCmdRead, 1000, 0, 4096}).ok());
  ASSERT_TRUE(gate.WaitForHeld(1));
  auto payload = Pattern(4096, 200);
  for (int i = 1; i < kCount; ++i) {
    uint64_t cookie = 1000 + i;
    if (i % 2) {
      ASSERT_TRUE(c->Send({0, kCmdRead, cookie, uint64_t(i) * 65536, 4096}).ok());
    } else {
      ASSERT_TRUE(c->Send({0, kCmdWrite, cookie, uint64_t(i) * 65536 + 8192, 4096}, payload).ok());
    }
  }
  std::set<uint64_t> seen;
  for (int i = 1; i < kCount; ++i) {
    auto r = c->ReadReply();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_NE(r->cookie, 1000u);  // the held read has not answered yet
    ASSERT_EQ(r->error, 0u);
    int index = static_cast<int>(r->cookie - 1000);
    if (index % 2) {
      EXPECT_EQ(r->data, Pattern(4096, static_cast<uint8_t>(index)));
    }
    seen.insert(r->cookie);
  }
  EXPECT_EQ(seen.size(), size_t{kCount - 1});
  gate.Open();
  auto first = c->ReadReply();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->cookie, 1000u);
  EXPECT_EQ(first->data, std::vector<uint8_t>(4096, 0));
}

TEST_F(NbdServerTest, ManyRequestsInFlightKeepTheirPayloads) {
  auto c = Open();
  ASSERT_TRUE(c);
  constexpr int kCount = 300;  // beyond the per-connection in-flight limit
  for (int i = 0; i < kCount; ++i) {
    auto data = Pattern(8192, static_cast<uint8_t>(i));
    ASSERT_TRUE(c->Send({0, kCmdWrite, uint64_t(i), uint64_t(i) * 8192, 8192}, data).ok());
  }
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(c->ReadReply()->error, 0u);
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(c->Send({0, kCmdRead, uint64_t(i), uint64_t(i) * 8192, 8192}).ok());
  }
  for (int i = 0; i < kCount; ++i) {
    auto r = c->ReadReply();
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->data, Pattern(8192, static_cast<uint8_t>(r->cookie)));
  }
}

TEST_F(NbdServerTest, SlowDeviceDoesNotBlockAnotherConnection) {
  auto slow = std::make_shared<MemoryDevice>(kDiskSize);
  server_.AddExport("slow", slow);
  test::Gate gate;
  gate.Close();
  slow->SetGate(&gate);
  auto a = Open("slow");
  ASSERT_TRUE(a);
  // More held requests than there are core workers (2).
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(a->Send({0, kCmdRead, i, i * 4096, 4096}).ok());
  ASSERT_TRUE(gate.WaitForHeld(2));

  auto b = Open();
  ASSERT_TRUE(b);
  auto data = Pattern(4096, 9);
  for (uint64_t i = 0; i < 8; ++i) {
    auto w = b->Write(i * 4096, data, 0, 100 + i);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(w->error, 0u);
    auto r = b->Read(i * 4096, 4096, 200 + i);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->data, data);
  }
  gate.Open();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a->ReadReply()->error, 0u);
}

TEST_F(NbdServerTest, TwoConnectionsToOneExport) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  auto data = Pattern(4096, 10);
  ASSERT_EQ(a->Write(0, data, kCmdFlagFua)->error, 0u);
  EXPECT_EQ(b->Read(0, 4096)->data, data);
}

TEST_F(NbdServerTest, UnixSocket) {
  auto c = TestClient::ConnectUnix(server_.unix_path());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto info = (*c)->Open(kName);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, kDiskSize);
  auto data = Pattern(1 << 20, 11);
  ASSERT_EQ((*c)->Write(0, data)->error, 0u);
  EXPECT_EQ((*c)->Read(0, 1 << 20)->data, data);
}

TEST_F(NbdServerTest, StopClosesOpenConnections) {
  auto a = Open();
  auto b = TestClient::ConnectUnix(server_.unix_path());
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->Open(kName).ok());
  auto handshaking = Connect();  // never sends its client flags
  ASSERT_TRUE(handshaking->ReadGreeting().ok());

  // An in-flight request still gets its reply.
  test::Gate gate;
  gate.Close();
  device_->SetGate(&gate);
  ASSERT_TRUE(a->Send({0, kCmdRead, 5, 0, 4096}).ok());
  ASSERT_TRUE(gate.WaitForHeld(1));
  std::thread stopper([&] { server_.server().Stop(); });
  std::thread opener([&] { gate.Open(); });
  opener.join();
  auto r = a->ReadReply();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->cookie, 5u);
  stopper.join();
  EXPECT_TRUE(a->WaitClosed());
  EXPECT_TRUE((*b)->WaitClosed());
  EXPECT_TRUE(handshaking->WaitClosed());
  EXPECT_FALSE(TestClient::ConnectTcp(server_.port()).ok());
  EXPECT_FALSE(TestClient::ConnectUnix(server_.unix_path()).ok());
}

ServerOptions Tcp(const std::string& host, uint16_t port) {
  ServerOptions o;
  o.tcp_host = host;
  o.tcp_port = port;
  return o;
}

TEST(NbdServerStartTest, BindErrors) {
  Server bad_host(Tcp("203.0.113.1", 0), nullptr);  // not an address of this machine
  EXPECT_FALSE(bad_host.Start().ok());
  ServerOptions bad_path;
  bad_path.unix_path = "/nonexistent-dir/x/nbd.sock";
  EXPECT_FALSE(Server(bad_path, nullptr).Start().ok());
  Server taken(Tcp("127.0.0.1", 0), nullptr);
  ASSERT_TRUE(taken.Start().ok());
  Server again(Tcp("127.0.0.1", taken.tcp_port()), nullptr);
  EXPECT_FALSE(again.Start().ok());
}

}  // namespace
}  // namespace byok::nbd
