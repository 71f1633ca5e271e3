// Limits and timeouts: body and header size, malformed requests, Expect, slow clients,
// connection limit, idle keep-alive.
#include <atomic>
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/server.h"
#include "test_support.h"

namespace byok::http {
namespace {

using std::chrono::milliseconds;
using testing::ErrorCode;
using ::testing::HasSubstr;
using testing::StartTestServer;
using testing::TestClient;
using testing::TestClientOptions;
using Clock = std::chrono::steady_clock;

Router SizeRouter() {
  Router router;
  router.Add("*", "*", "/size", [](Request& r) {
    return Response::Json(200, {{"size", r.body.size()}, {"method", r.method}});
  });
  return router;
}

std::unique_ptr<TestClient> MustConnect(uint16_t port, const TestClientOptions& o = {}) {
  auto c = TestClient::Connect(port, o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

void ExpectServes(uint16_t port) {
  auto client = MustConnect(port);
  ASSERT_NE(client, nullptr);
  auto r = client->Send("POST", "/size", {}, "abc");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"method":"POST","size":3})");
}

TEST(LimitsTest, TenMebibyteBodyGets413AndServerKeepsServing) {
  auto server = StartTestServer(SizeRouter());  // default limit: 8 MiB
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  // The client sends everything before reading, like a naive client would.
  std::string request =
      testing::BuildRequest("PUT", "/size", {}, std::string(10 * 1024 * 1024, 'x'));
  ASSERT_TRUE(client->Write(request).ok());
  auto r = client->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(ErrorCode(r->body), "RequestBodyTooLarge");
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(client->WaitForClose(milliseconds(3000)));
  ExpectServes(server->port());
}

TEST(LimitsTest, OversizedContentLengthIsRefusedBeforeTheBody) {
  auto options = testing::TestServerOptions();
  options.max_body_bytes = 1000;
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  // Header only: the answer must not wait for a body.
  ASSERT_TRUE(client->Write("PUT /size HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n").ok());
  auto r = client->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_THAT(r->body, HasSubstr("1000 bytes"));
}

TEST(LimitsTest, ChunkedBodyOverTheLimitGets413) {
  auto options = testing::TestServerOptions();
  options.max_body_bytes = 1000;
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  std::string chunks;
  for (int i = 0; i < 5; ++i) chunks += "190\r\n" + std::string(400, 'c') + "\r\n";
  chunks += "0\r\n\r\n";
  ASSERT_TRUE(
      client->Write("PUT /size HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
          .ok());
  auto r = client->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(client->WaitForClose(milliseconds(3000)));
  // Under the limit, chunked works.
  client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client
                  ->Write("PUT /size HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nabc\r\n0\r\n\r\n")
                  .ok());
  r = client->ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, R"({"method":"PUT","size":3})");
}

TEST(LimitsTest, OversizedHeadersGet431AndClose) {
  auto options = testing::TestServerOptions();
  options.max_header_bytes = 4096;
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("GET", "/size", {{"X-Big", std::string(8000, 'h')}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(ErrorCode(r->body), "RequestHeaderFieldsTooLarge");
  EXPECT_TRUE(r->Header("x-ms-request-id").has_value());
  EXPECT_TRUE(client->WaitForClose(milliseconds(3000)));
  // Many small headers count too.
  client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 300; ++i) many.emplace_back("X-H" + std::to_string(i), "0123456789");
  r = client->Send("GET", "/size", many);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 431);
  ExpectServes(server->port());
}

TEST(LimitsTest, MalformedRequestLineGets400AndClose) {
  auto server = StartTestServer(SizeRouter());
  ASSERT_NE(server, nullptr);
  for (std::string_view wire :
       {"GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\nHost: h\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", "GET / HTTP/1.1\r\n\r\n" /* no Host */}) {
    auto client = MustConnect(server->port());
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Write(wire).ok());
    auto r = client->ReadResponse();
    ASSERT_TRUE(r.ok()) << wire << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 400) << wire;
    EXPECT_EQ(ErrorCode(r->body), "BadRequest") << wire;
    EXPECT_EQ(r->Header("Connection"), "close");
    EXPECT_TRUE(client->WaitForClose(milliseconds(3000))) << wire;
  }
  ExpectServes(server->port());
}

TEST(LimitsTest, ExpectContinueGetsInterimResponse) {
  auto server = StartTestServer(SizeRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client
                  ->Write("PUT /size HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                          "Content-Length: 5\r\n\r\n")
                  .ok());
  auto interim = client->ReadResponse();
  ASSERT_TRUE(interim.ok()) << interim.status().ToString();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client->Write("hello").ok());
  auto r = client->ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"method":"PUT","size":5})");
  // Keep-alive continues after it.
  r = client->Send("POST", "/size", {}, "xy");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, R"({"method":"POST","size":2})");
}

TEST(LimitsTest, ExpectContinueOverTheLimitGets413InsteadOf100) {
  auto options = testing::TestServerOptions();
  options.max_body_bytes = 10;
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client
                  ->Write("PUT /size HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                          "Content-Length: 11\r\n\r\n")
                  .ok());
  auto r = client->ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 413);
}

TEST(LimitsTest, UnknownExpectationGets417) {
  auto server = StartTestServer(SizeRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("PUT", "/size", {{"Expect", "teapot"}}, "x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 417);
  EXPECT_EQ(ErrorCode(r->body), "ExpectationFailed");
}

TEST(LimitsTest, SlowLorisIsCutOffAfterHeaderTimeoutWhileOthersAreServed) {
  auto options = testing::TestServerOptions();
  options.header_timeout = milliseconds(400);
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  auto loris = MustConnect(server->port());
  ASSERT_NE(loris, nullptr);
  Result<milliseconds> cut = Status::Internal("not run");
  std::atomic<bool> loris_done{false};
  std::thread t([&] {
    // One byte every 40 ms: each byte arrives well within any per-read timeout.
    cut = loris->TrickleUntilClosed(
        "GET /size HTTP/1.1\r\nHost: h\r\nX-Slow: " + std::string(200, 's') + "\r\n\r\n",
        milliseconds(40), milliseconds(3000));
    loris_done = true;
  });
  std::this_thread::sleep_for(milliseconds(100));
  ExpectServes(server->port());
  EXPECT_FALSE(loris_done) << "the other client was only served after the slow one was cut";
  t.join();
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_GE(cut->count(), 300);
  EXPECT_LE(cut->count(), 1200);
}

TEST(LimitsTest, SlowBodyIsCutOffAfterBodyTimeout) {
  auto options = testing::TestServerOptions();
  options.body_timeout = milliseconds(300);
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write("PUT /size HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc").ok());
  auto start = Clock::now();
  EXPECT_TRUE(client->WaitForClose(milliseconds(2000)));
  EXPECT_GE(Clock::now() - start, milliseconds(200));
}

TEST(LimitsTest, SilentTcpClientIsCutOffAfterHandshakeTimeout) {
  auto options = testing::TestServerOptions();
  options.handshake_timeout = milliseconds(300);
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  TestClientOptions plain;
  plain.tls = false;
  auto client = MustConnect(server->port(), plain);
  ASSERT_NE(client, nullptr);
  auto start = Clock::now();
  EXPECT_TRUE(client->WaitForClose(milliseconds(2000)));
  EXPECT_GE(Clock::now() - start, milliseconds(200));
}

TEST(LimitsTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  auto options = testing::TestServerOptions();
  options.idle_timeout = milliseconds(300);
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("POST", "/size", {}, "a");
  ASSERT_TRUE(r.ok());
  auto start = Clock::now();
  EXPECT_TRUE(client->WaitForClose(milliseconds(2000)));
  auto idle = Clock::now() - start;
  EXPECT_GE(idle, milliseconds(250));
  EXPECT_LE(idle, milliseconds(1500));
}

TEST(LimitsTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  auto options = testing::TestServerOptions();
  options.max_connections = 2;
  auto server = StartTestServer(SizeRouter(), std::move(options));
  ASSERT_NE(server, nullptr);
  auto a = MustConnect(server->port());
  auto b = MustConnect(server->port());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  TestClientOptions quick;
  quick.timeout = milliseconds(1000);
  auto start = Clock::now();
  auto c = TestClient::Connect(server->port(), quick);
  EXPECT_FALSE(c.ok());
  EXPECT_LT(Clock::now() - start, milliseconds(900));  // closed, not timed out
  // The two admitted connections still work.
  EXPECT_TRUE(a->Send("POST", "/size", {}, "1").ok());
  // Once one goes away, a new one is admitted.
  b.reset();
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    auto d = TestClient::Connect(server->port(), quick);
    if (d.ok()) {
      auto r = (*d)->Send("POST", "/size", {}, "1");
      admitted = r.ok() && r->status == 200;
    }
    if (!admitted) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(admitted);
}

}  // namespace
}  // namespace byok::http
