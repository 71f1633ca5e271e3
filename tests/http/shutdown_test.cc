// Graceful shutdown: in-flight requests finish, idle connections close, the grace period is
// enforced, and repeated calls are harmless.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/server.h"
#include "test_support.h"

namespace byok::http {
namespace {

using std::chrono::milliseconds;
using testing::ErrorCode;
using testing::StartTestServer;
using testing::TestClient;
using Clock = std::chrono::steady_clock;

struct SlowRoute {
  std::promise<void> entered;
  std::atomic<bool> signalled{false};
  milliseconds delay{300};
};

Router SlowRouter(SlowRoute& slow) {
  Router router;
  router.Add("GET", "*", "/slow", [&slow](Request&) {
    if (!slow.signalled.exchange(true)) slow.entered.set_value();
    std::this_thread::sleep_for(slow.delay);
    return Response::Json(200, "finished");
  });
  router.Add("GET", "*", "/fast", [](Request&) { return Response::Json(200, "fast"); });
  return router;
}

std::unique_ptr<TestClient> MustConnect(uint16_t port) {
  auto c = TestClient::Connect(port);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

TEST(ShutdownTest, InFlightRequestFinishesIdleConnectionsClose) {
  SlowRoute slow;
  auto server = StartTestServer(SlowRouter(slow));
  ASSERT_NE(server, nullptr);
  uint16_t port = server->port();
  auto idle = MustConnect(port);
  ASSERT_NE(idle, nullptr);
  ASSERT_TRUE(idle->Send("GET", "/fast").ok());  // now an idle keep-alive connection
  auto busy = MustConnect(port);
  ASSERT_NE(busy, nullptr);
  ASSERT_TRUE(busy->Write(testing::BuildRequest("GET", "/slow", {}, "")).ok());
  slow.entered.get_future().wait();

  auto start = Clock::now();
  server->Shutdown(milliseconds(5000));
  EXPECT_LT(Clock::now() - start, milliseconds(100));  // non-blocking

  EXPECT_TRUE(idle->WaitForClose(milliseconds(1000)));
  auto r = busy->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "\"finished\"");
  EXPECT_EQ(r->Header("Connection"), "close");
  busy.reset();
  server->Wait();
  EXPECT_LT(Clock::now() - start, milliseconds(2500));
  EXPECT_FALSE(TestClient::Connect(port).ok());  // no longer listening
  server->Shutdown(milliseconds(0));             // idempotent
  server->Wait();
}

TEST(ShutdownTest, GraceExpiryClosesRemainingConnections) {
  SlowRoute slow;
  slow.delay = milliseconds(500);
  auto server = StartTestServer(SlowRouter(slow));
  ASSERT_NE(server, nullptr);
  auto busy = MustConnect(server->port());
  ASSERT_NE(busy, nullptr);
  ASSERT_TRUE(busy->Write(testing::BuildRequest("GET", "/slow", {}, "")).ok());
  slow.entered.get_future().wait();
  auto start = Clock::now();
  server->Shutdown(milliseconds(100));
  EXPECT_TRUE(busy->WaitForClose(milliseconds(380)));  // cut at ~100 ms, no response
  EXPECT_LT(Clock::now() - start, milliseconds(400));
  server->Wait();  // returns once the handler has returned
  EXPECT_GE(Clock::now() - start, milliseconds(400));
}

TEST(ShutdownTest, LaterCallShortensGrace) {
  SlowRoute slow;
  slow.delay = milliseconds(600);
  auto server = StartTestServer(SlowRouter(slow));
  ASSERT_NE(server, nullptr);
  auto busy = MustConnect(server->port());
  ASSERT_NE(busy, nullptr);
  ASSERT_TRUE(busy->Write(testing::BuildRequest("GET", "/slow", {}, "")).ok());
  slow.entered.get_future().wait();
  server->Shutdown(milliseconds(10000));
  server->Shutdown(milliseconds(50));
  auto start = Clock::now();
  EXPECT_TRUE(busy->WaitForClose(milliseconds(500)));
  EXPECT_LT(Clock::now() - start, milliseconds(500));
}

TEST(ShutdownTest, RequestCompletedDuringShutdownGets503) {
  SlowRoute slow;
  auto server = StartTestServer(SlowRouter(slow));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write("GET /fast HTTP/1.1\r\n").ok());  // header started...
  std::this_thread::sleep_for(milliseconds(100));
  server->Shutdown(milliseconds(2000));
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(client->Write("Host: h\r\n\r\n").ok());  // ...and completed afterwards
  auto r = client->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(ErrorCode(r->body), "ServiceUnavailable");
  EXPECT_EQ(r->Header("Connection"), "close");
}

TEST(ShutdownTest, DestructorShutsDownWithOpenConnections) {
  SlowRoute slow;
  auto server = StartTestServer(SlowRouter(slow));
  ASSERT_NE(server, nullptr);
  auto idle = MustConnect(server->port());
  ASSERT_NE(idle, nullptr);
  ASSERT_TRUE(idle->Send("GET", "/fast").ok());
  auto fresh = MustConnect(server->port());  // handshaken, no request yet
  ASSERT_NE(fresh, nullptr);
  auto start = Clock::now();
  server.reset();
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_TRUE(idle->WaitForClose(milliseconds(500)));
  EXPECT_TRUE(fresh->WaitForClose(milliseconds(500)));
}

TEST(ShutdownTest, WaitFromSeveralThreads) {
  SlowRoute slow;
  auto server = StartTestServer(SlowRouter(slow));
  ASSERT_NE(server, nullptr);
  std::thread a([&] { server->Wait(); });
  std::thread b([&] { server->Wait(); });
  std::this_thread::sleep_for(milliseconds(50));
  server->Shutdown(milliseconds(100));
  a.join();
  b.join();
}

}  // namespace
}  // namespace byok::http
