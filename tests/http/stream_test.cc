// Streaming responses (Response::stream): chunked framing and order, the producer learns when the
// client goes away, Shutdown and stream_timeout end streams, a slow consumer is cut, HEAD and
// HTTP/1.0 behave, the access log line comes at the end.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/server.h"
#include "test_support.h"

namespace byok::http {
namespace {

using std::chrono::milliseconds;
using testing::BuildRequest;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::StartTestServer;
using testing::TestClient;

constexpr milliseconds kWait{5000};

// Hands the sink of the one streaming request to the test, and tells when the stream closed.
struct Producer {
  std::promise<std::shared_ptr<StreamSink>> sink_promise;
  std::shared_future<std::shared_ptr<StreamSink>> sink = sink_promise.get_future().share();
  std::promise<void> closed_promise;
  std::shared_future<void> closed = closed_promise.get_future().share();
  std::atomic<bool> closed_fired{false};

  std::shared_ptr<StreamSink> Sink() {
    if (sink.wait_for(kWait) != std::future_status::ready) return nullptr;
    return sink.get();
  }
  bool WaitClosed() { return closed.wait_for(kWait) == std::future_status::ready; }
};

Router StreamRouter(Producer& p, std::string first_body = "",
                    milliseconds timeout = milliseconds(0), int status = 200) {
  Router router;
  router.Add("GET", "*", "/stream", [&p, first_body, timeout, status](Request&) {
    Response r;
    r.status = status;
    r.headers.Set("Content-Type", "application/json");
    r.body = first_body;
    r.stream_timeout = timeout;
    r.stream = [&p](std::shared_ptr<StreamSink> sink) {
      sink->OnClose([&p] {
        if (!p.closed_fired.exchange(true)) p.closed_promise.set_value();
      });
      p.sink_promise.set_value(std::move(sink));
    };
    return r;
  });
  router.Add("GET", "*", "/fast", [](Request&) { return Response::Json(200, "fast"); });
  return router;
}

std::unique_ptr<TestClient> MustConnect(uint16_t port) {
  auto c = TestClient::Connect(port);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

TEST(StreamTest, ChunksArriveInOrderThenTheStreamEnds) {
  Producer p;
  auto server = StartTestServer(StreamRouter(p, "first"));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write(BuildRequest("GET", "/stream", {}, "")).ok());
  auto sink = p.Sink();
  ASSERT_NE(sink, nullptr);

  auto head = client->ReadUntil("5\r\nfirst\r\n", kWait);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_THAT(*head, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(*head, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(*head, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(*head, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(*head, Not(HasSubstr("Content-Length")));

  EXPECT_TRUE(sink->Write("one\n"));
  auto one = client->ReadUntil("one\n", kWait);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, "4\r\none\n\r\n");

  EXPECT_TRUE(sink->Write("two\n"));
  EXPECT_TRUE(sink->Write(""));  // ignored
  EXPECT_TRUE(sink->Write(std::string(300, 'x')));
  EXPECT_FALSE(sink->closed());
  sink->Close();
  EXPECT_TRUE(sink->closed());
  EXPECT_FALSE(sink->Write("late"));
  auto rest = client->ReadToClose(kWait);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(*rest, "4\r\ntwo\n\r\n12c\r\n" + std::string(300, 'x') + "\r\n0\r\n\r\n");
  EXPECT_TRUE(p.WaitClosed());

  // An OnClose registered after the end runs at once.
  bool ran = false;
  sink->OnClose([&ran] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(StreamTest, ClientDisconnectIsSignalledToTheProducer) {
  Producer p;
  auto server = StartTestServer(StreamRouter(p));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write(BuildRequest("GET", "/stream", {}, "")).ok());
  auto sink = p.Sink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(client->ReadUntil("\r\n\r\n", kWait).ok());
  EXPECT_FALSE(sink->closed());
  client.reset();  // the client goes away while the stream is idle
  ASSERT_TRUE(p.WaitClosed());
  EXPECT_TRUE(sink->closed());
  EXPECT_FALSE(sink->Write("nobody listens"));
  // The server is still fine.
  auto other = MustConnect(server->port());
  ASSERT_NE(other, nullptr);
  auto r = other->Send("GET", "/fast");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST(StreamTest, ShutdownEndsOpenStreamsWithinTheGracePeriod) {
  Producer p;
  auto server = StartTestServer(StreamRouter(p));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write(BuildRequest("GET", "/stream", {}, "")).ok());
  auto sink = p.Sink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write("event\n"));
  ASSERT_TRUE(client->ReadUntil("event\n", kWait).ok());

  auto start = std::chrono::steady_clock::now();
  server->Shutdown(milliseconds(30000));
  auto rest = client->ReadToClose(kWait);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_THAT(*rest, HasSubstr("0\r\n\r\n"));
  EXPECT_TRUE(p.WaitClosed());
  server->Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(10000));
  EXPECT_FALSE(sink->Write("after shutdown"));
}

TEST(StreamTest, StreamTimeoutEndsTheStream) {
  Producer p;
  auto server = StartTestServer(StreamRouter(p, "", milliseconds(50)));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write(BuildRequest("GET", "/stream", {}, "")).ok());
  auto rest = client->ReadToClose(kWait);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_THAT(*rest, HasSubstr("\r\n\r\n0\r\n\r\n"));
  EXPECT_TRUE(p.WaitClosed());
}

TEST(StreamTest, SlowConsumerOverTheQueueLimitIsCut) {
  Producer p;
  ServerOptions options = testing::TestServerOptions();
  options.max_stream_queue_bytes = 64 * 1024;
  auto server = StartTestServer(StreamRouter(p), std::move(options));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write(BuildRequest("GET", "/stream", {}, "")).ok());
  auto sink = p.Sink();
  ASSERT_NE(sink, nullptr);
  // The client reads nothing: socket buffers fill, then the queue, then the stream is cut.
  const std::string chunk(16 * 1024, 'y');
  size_t written = 0;
  bool cut = false;
  for (; written < 1024 * 1024 * 1024; written += chunk.size()) {
    if (!sink->Write(chunk)) {
      cut = true;
      break;
    }
  }
  EXPECT_TRUE(cut) << written;
  EXPECT_TRUE(sink->closed());
  EXPECT_TRUE(p.WaitClosed());
  auto rest = client->ReadToClose(kWait);  // what was sent, without the terminating chunk
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_THAT(rest->substr(rest->size() > 16 ? rest->size() - 16 : 0), Not(HasSubstr("0\r\n\r\n")));
}

TEST(StreamTest, HeadGetsTheHeadOnlyAndTheProducerAClosedSink) {
  Producer p;
  auto server = StartTestServer(StreamRouter(p));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("HEAD", "/stream");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Transfer-Encoding").value_or(""), "chunked");
  EXPECT_FALSE(r->Header("Content-Length").has_value());
  auto sink = p.Sink();
  ASSERT_NE(sink, nullptr);
  EXPECT_TRUE(sink->closed());
  EXPECT_TRUE(p.WaitClosed());
  // Keep-alive continues after a HEAD.
  auto fast = client->Send("GET", "/fast");
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ(fast->status, 200);
}

TEST(StreamTest, ErrorStatusIgnoresTheStream) {
  Producer p;
  auto server = StartTestServer(StreamRouter(p, "{\"no\":1}", milliseconds(0), 404));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("GET", "/stream");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "{\"no\":1}");
  auto sink = p.Sink();
  ASSERT_NE(sink, nullptr);
  EXPECT_TRUE(sink->closed());
}

TEST(StreamTest, Http10GetsACloseDelimitedBody) {
  Producer p;
  auto server = StartTestServer(StreamRouter(p, "first;"));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write("GET /stream HTTP/1.0\r\nHost: localhost\r\n\r\n").ok());
  auto sink = p.Sink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write("second;"));
  sink->Close();
  auto all = client->ReadToClose(kWait);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(*all, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(*all, Not(HasSubstr("Transfer-Encoding")));
  EXPECT_THAT(*all, Not(HasSubstr("Content-Length")));
  EXPECT_THAT(*all, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(all->substr(all->find("\r\n\r\n") + 4), "first;second;");
}

TEST(StreamTest, ProducerWritingFromManyThreadsKeepsEachChunkWhole) {
  Producer p;
  auto server = StartTestServer(StreamRouter(p));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write(BuildRequest("GET", "/stream", {}, "")).ok());
  auto sink = p.Sink();
  ASSERT_NE(sink, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&sink, t] {
      for (int i = 0; i < 50; ++i) sink->Write(std::string(10, static_cast<char>('a' + t)));
    });
  }
  for (auto& t : threads) t.join();
  sink->Close();
  auto all = client->ReadToClose(kWait);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  for (int t = 0; t < 4; ++t) {
    std::string framed = "a\r\n" + std::string(10, static_cast<char>('a' + t)) + "\r\n";
    size_t count = 0;
    for (size_t pos = all->find(framed); pos != std::string::npos;
         pos = all->find(framed, pos + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 50u) << t;
  }
  EXPECT_THAT(*all, HasSubstr("0\r\n\r\n"));
}

}  // namespace
}  // namespace byok::http
