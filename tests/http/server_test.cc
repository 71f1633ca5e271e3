// The server end to end over TLS: routing, standard headers, keep-alive, HTTP/1.0, HEAD, error
// envelopes, handler exceptions, worker dispatch, access log, start-up errors.
#include "http/server.h"

#include <atomic>
#include <future>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "test_support.h"

namespace byok::http {
namespace {

using testing::ErrorCode;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::StartTestServer;
using testing::TestClient;
using testing::TestClientOptions;

// (No std::regex: GCC 12 warns falsely inside <regex> under -fsanitize, and -Werror is on.)
bool IsUuid4(std::string_view s) {
  if (s.size() != 36 || s[14] != '4') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash != (c == '-')) return false;
    if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT": letters, digits and separators where IMF-fixdate has them.
bool IsImfFixdate(std::string_view s) {
  constexpr std::string_view kShape = "Aaa, 00 Aaa 0000 00:00:00 GMT";
  if (s.size() != kShape.size() || !s.ends_with(" GMT")) return false;
  for (size_t i = 0; i + 4 < s.size(); ++i) {
    char want = kShape[i];
    char c = s[i];
    if (want == '0' && !(c >= '0' && c <= '9')) return false;
    if (want == 'A' && !(c >= 'A' && c <= 'Z')) return false;
    if (want == 'a' && !(c >= 'a' && c <= 'z')) return false;
    if ((want == ',' || want == ' ' || want == ':') && c != want) return false;
  }
  return true;
}

// A handler that describes the request it got.
Response Echo(Request& r) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : r.params) params[k] = v;
  return Response::Json(200, {{"method", r.method},
                              {"path", r.path},
                              {"host", r.host},
                              {"params", params},
                              {"request_id", r.request_id},
                              {"remote", r.remote_address},
                              {"body", r.body},
                              {"api_version", r.Query("api-version").value_or("")}});
}

Router EchoRouter() {
  Router router;
  router.Add("*", "*", "/echo/{*rest}", Echo);
  router.Add("PUT", "*", "/subscriptions/{sub}/resourcegroups/{rg}", Echo);
  router.Add("GET", "*", "/subscriptions/{sub}/resourcegroups/{rg}", Echo);
  return router;
}

std::unique_ptr<TestClient> MustConnect(uint16_t port, const TestClientOptions& o = {}) {
  auto c = TestClient::Connect(port, o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

TEST(ServerTest, RoutesAndSetsStandardHeaders) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->host(), "127.0.0.1");
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("PUT", "/subscriptions/S1/resourceGroups/My%20RG?api-version=2021-04-01",
                        {{"Host", "LOCALHOST:1234"}}, R"({"location":"westeurope"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["path"], "/subscriptions/S1/resourceGroups/My RG");
  EXPECT_EQ(j["host"], "localhost");
  EXPECT_EQ(j["params"]["sub"], "S1");
  EXPECT_EQ(j["params"]["rg"], "My RG");
  EXPECT_EQ(j["api_version"], "2021-04-01");
  EXPECT_EQ(j["body"], R"({"location":"westeurope"})");
  EXPECT_THAT(j["remote"].get<std::string>(), ::testing::StartsWith("127.0.0.1:"));

  std::string rid = r->Header("x-ms-request-id").value_or("");
  EXPECT_TRUE(IsUuid4(rid)) << rid;
  EXPECT_EQ(j["request_id"], rid);
  EXPECT_EQ(r->Header("x-ms-correlation-request-id"), rid);
  EXPECT_EQ(r->Header("x-ms-client-request-id"), std::nullopt);
  EXPECT_EQ(r->Header("Server"), "byok");
  EXPECT_EQ(r->Header("Content-Length"), std::to_string(r->body.size()));
  EXPECT_EQ(r->Header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_TRUE(IsImfFixdate(r->Header("Date").value_or(""))) << r->Header("Date").value_or("");
}

TEST(ServerTest, EchoesClientRequestIdAndCorrelationId) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send(
      "GET", "/echo/x",
      {{"x-ms-client-request-id", "client-1"}, {"x-ms-correlation-request-id", "corr-1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Header("x-ms-client-request-id"), "client-1");
  EXPECT_EQ(r->Header("x-ms-correlation-request-id"), "corr-1");
  EXPECT_NE(r->Header("x-ms-request-id"), "client-1");
}

TEST(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  std::set<std::string> ids;
  std::set<std::string> remotes;
  for (int i = 0; i < 5; ++i) {
    auto r = client->Send("POST", "/echo/" + std::to_string(i), {}, std::string(i * 100, 'b'));
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("Connection"), std::nullopt);
    auto j = nlohmann::json::parse(r->body);
    EXPECT_EQ(j["path"], "/echo/" + std::to_string(i));
    EXPECT_EQ(j["body"].get<std::string>().size(), static_cast<size_t>(i * 100));
    ids.insert(r->Header("x-ms-request-id").value_or(""));
    remotes.insert(j["remote"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(remotes.size(), 1u);  // the same connection every time
}

TEST(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client
                  ->Write(testing::BuildRequest("GET", "/echo/1", {}, "") +
                          testing::BuildRequest("GET", "/echo/2", {}, ""))
                  .ok());
  for (int i = 1; i <= 2; ++i) {
    auto r = client->ReadResponse();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(nlohmann::json::parse(r->body)["path"], "/echo/" + std::to_string(i));
  }
}

TEST(ServerTest, Http10ClosesByDefaultAndKeepsAliveOnRequest) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write("GET /echo/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok());
  auto r = client->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->version, 11);  // RFC 9110 section 2.5: the server's own version
  EXPECT_EQ(r->Header("Connection"), "keep-alive");
  EXPECT_EQ(nlohmann::json::parse(r->body)["host"], "");
  ASSERT_TRUE(client->Write("GET /echo/b HTTP/1.0\r\n\r\n").ok());
  r = client->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(client->WaitForClose(std::chrono::milliseconds(2000)));
}

TEST(ServerTest, ConnectionCloseIsHonoured) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("GET", "/echo/a", {{"Connection", "close"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(client->WaitForClose(std::chrono::milliseconds(2000)));
}

TEST(ServerTest, UnknownPathGets404EnvelopeAndConnectionStaysOpen) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("GET", "/nothing/here?api-version=1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(ErrorCode(r->body), "NotFound");
  EXPECT_THAT(r->body, HasSubstr("/nothing/here"));
  EXPECT_TRUE(r->Header("x-ms-request-id").has_value());
  r = client->Send("GET", "/echo/again");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(ServerTest, WrongMethodGets405WithAllow) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("DELETE", "/subscriptions/s/resourcegroups/rg");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(ErrorCode(r->body), "MethodNotAllowed");
  EXPECT_EQ(r->Header("Allow"), "GET, HEAD, PUT");
}

TEST(ServerTest, HandlerExceptionBecomes500Envelope) {
  Router router;
  router.Add("GET", "*", "/boom",
             [](Request&) -> Response { throw std::runtime_error("database on fire"); });
  router.Add("GET", "*", "/weird", [](Request&) { return Response::Empty(42); });
  router.Add("GET", "*", "/ok", [](Request&) { return Response::Json(200, "ok"); });
  auto server = StartTestServer(std::move(router));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("GET", "/boom");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(ErrorCode(r->body), "InternalServerError");
  EXPECT_THAT(r->body, Not(HasSubstr("fire")));  // details go to the log only
  r = client->Send("GET", "/weird");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  r = client->Send("GET", "/ok");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(ServerTest, HeadFallsBackToGetWithoutBody) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("HEAD", "/subscriptions/s/resourcegroups/rg");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_GT(std::stoi(r->Header("Content-Length").value_or("0")), 0);
  r = client->Send("GET", "/echo/after-head");  // framing intact
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(ServerTest, HandlerHeadersAreSanitized) {
  Router router;
  router.Add("GET", "*", "/h", [](Request&) {
    Response r = Response::Json(202, "accepted");
    r.headers.Set("Azure-AsyncOperation", "https://localhost/op/1");
    r.headers.Set("Retry-After", "1");
    r.headers.Set("Content-Length", "999");
    r.headers.Set("x-ms-request-id", "forged");
    r.headers.Set("X-Split", "a\r\nInjected: yes");
    r.headers.Set("Bad Name", "x");
    return r;
  });
  router.Add("DELETE", "*", "/h", [](Request&) { return Response::Empty(204); });
  auto server = StartTestServer(std::move(router));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("GET", "/h");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->Header("Azure-AsyncOperation"), "https://localhost/op/1");
  EXPECT_EQ(r->Header("Retry-After"), "1");
  EXPECT_EQ(r->Header("Content-Length"), std::to_string(r->body.size()));
  EXPECT_NE(r->Header("x-ms-request-id"), "forged");
  EXPECT_EQ(r->Header("Injected"), std::nullopt);
  EXPECT_EQ(r->Header("X-Split"), std::nullopt);
  r = client->Send("DELETE", "/h");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->Header("Content-Length"), std::nullopt);
  EXPECT_TRUE(r->Header("x-ms-request-id").has_value());
}

TEST(ServerTest, HandlersRunOnWorkersNotOnTheIoThread) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> release_f = release.get_future().share();
  std::atomic<bool> entered_once{false};
  Router router = EchoRouter();
  router.Add("GET", "*", "/block", [&](Request&) {
    if (!entered_once.exchange(true)) entered.set_value();
    release_f.wait();
    return Response::Json(200, "unblocked");
  });
  auto options = testing::TestServerOptions();
  options.io_threads = 1;
  options.worker_threads = 2;
  auto server = StartTestServer(std::move(router), std::move(options));
  ASSERT_NE(server, nullptr);
  auto blocked = MustConnect(server->port());
  ASSERT_NE(blocked, nullptr);
  ASSERT_TRUE(blocked->Write(testing::BuildRequest("GET", "/block", {}, "")).ok());
  entered.get_future().wait();
  // The only I/O thread is free: another connection is served while the handler blocks.
  auto other = MustConnect(server->port());
  ASSERT_NE(other, nullptr);
  auto r = other->Send("GET", "/echo/x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  release.set_value();
  r = blocked->ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "\"unblocked\"");
}

TEST(ServerTest, InlineRoutesNeedNoWorker) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> release_f = release.get_future().share();
  Router router;
  router.Add("GET", "*", "/block", [&](Request&) {
    entered.set_value();
    release_f.wait();
    return Response::Json(200, "unblocked");
  });
  router.Add(
      "GET", "*", "/inline/{n}",
      [](Request& req) {
        // Small bodies go out with the head in one TLS record, large ones as a second buffer.
        return Response::Json(200, std::string(std::stoul(req.params.at("n")), 'x'));
      },
      Dispatch::kInline);
  router.Add(
      "GET", "*", "/inline-boom",
      [](Request&) -> Response { throw std::runtime_error("secret detail"); }, Dispatch::kInline);
  auto options = testing::TestServerOptions();
  options.io_threads = 1;
  options.worker_threads = 1;
  auto server = StartTestServer(std::move(router), std::move(options));
  ASSERT_NE(server, nullptr);
  auto blocked = MustConnect(server->port());
  ASSERT_NE(blocked, nullptr);
  ASSERT_TRUE(blocked->Write(testing::BuildRequest("GET", "/block", {}, "")).ok());
  entered.get_future().wait();
  // The only worker is busy: inline routes are still answered, on the I/O thread.
  auto other = MustConnect(server->port());
  ASSERT_NE(other, nullptr);
  for (size_t n : {size_t{0}, size_t{10}, size_t{300 * 1024}}) {
    auto r = other->Send("GET", "/inline/" + std::to_string(n));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "\"" + std::string(n, 'x') + "\"");
  }
  auto r = other->Send("GET", "/inline-boom");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(ErrorCode(r->body), "InternalServerError");
  EXPECT_THAT(r->body, Not(HasSubstr("secret")));
  release.set_value();
  r = blocked->ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "\"unblocked\"");
}

TEST(ServerTest, PlainHttpGetsHttpsRequired) {
  auto server = StartTestServer(EchoRouter());
  ASSERT_NE(server, nullptr);
  TestClientOptions plain;
  plain.tls = false;
  auto client = MustConnect(server->port(), plain);
  ASSERT_NE(client, nullptr);
  auto r = client->Send("GET", "/echo/x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(r->body), "HttpsRequired");
  EXPECT_TRUE(client->WaitForClose(std::chrono::milliseconds(2000)));
}

TEST(ServerTest, AccessLogHasNoAuthorizationOrSecrets) {
  auto stream = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream);
  spdlog::drop("access");
  auto logger = std::make_shared<spdlog::logger>("access", sink);
  logger->set_pattern("%v");
  spdlog::register_logger(logger);

  Router router = EchoRouter();
  router.Add("POST", "*", "/token", [](Request&) { return Response::Json(200, "t"); });
  auto server = StartTestServer(std::move(router));
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(server->port());
  ASSERT_NE(client, nullptr);
  auto r = client->Send("POST", "/token?client_secret=hunter2&api-version=1",
                        {{"Authorization", "Bearer eyJSECRETTOKEN"},
                         {"User-Agent", "AZURECLI/2.45.0"},
                         {"Cookie", "session=COOKIEVALUE"}},
                        "grant_type=client_credentials&client_secret=BODYSECRET");
  ASSERT_TRUE(r.ok());
  std::string rid = r->Header("x-ms-request-id").value_or("?");
  client.reset();
  server.reset();  // flushes: every response has been logged
  spdlog::drop("access");

  std::string log = stream->str();
  EXPECT_THAT(log, HasSubstr("\"POST /token?client_secret=REDACTED&api-version=1\" 200"));
  EXPECT_THAT(log, HasSubstr(rid));
  EXPECT_THAT(log, HasSubstr("AZURECLI/2.45.0"));
  EXPECT_THAT(log, HasSubstr("127.0.0.1:"));
  EXPECT_THAT(log, ::testing::ContainsRegex(" [0-9]+us "));
  EXPECT_THAT(log, Not(HasSubstr("SECRETTOKEN")));
  EXPECT_THAT(log, Not(HasSubstr("Bearer")));
  EXPECT_THAT(log, Not(HasSubstr("hunter2")));
  EXPECT_THAT(log, Not(HasSubstr("BODYSECRET")));
  EXPECT_THAT(log, Not(HasSubstr("COOKIEVALUE")));
}

TEST(ServerTest, StartErrors) {
  auto first = StartTestServer(EchoRouter());
  ASSERT_NE(first, nullptr);
  auto options = testing::TestServerOptions();
  options.port = first->port();
  auto in_use = Server::Start(std::move(options), EchoRouter());
  ASSERT_FALSE(in_use.ok());
  EXPECT_EQ(in_use.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(in_use.status().message(), HasSubstr("in use"));

  options = testing::TestServerOptions();
  options.listen_host = "not-an-address";
  auto bad_host = Server::Start(std::move(options), EchoRouter());
  EXPECT_EQ(bad_host.status().code(), StatusCode::kInvalidArgument);

  options = testing::TestServerOptions();
  options.certificate_chain_pem = "garbage";
  auto bad_cert = Server::Start(std::move(options), EchoRouter());
  EXPECT_EQ(bad_cert.status().code(), StatusCode::kInvalidArgument);

  options = testing::TestServerOptions();
  options.private_key_pem = SecretBytes();
  auto no_key = Server::Start(std::move(options), EchoRouter());
  EXPECT_EQ(no_key.status().code(), StatusCode::kInvalidArgument);

  options = testing::TestServerOptions();
  options.client_ca_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto bad_ca = Server::Start(std::move(options), EchoRouter());
  EXPECT_EQ(bad_ca.status().code(), StatusCode::kInvalidArgument);
}

TEST(ServerTest, ListensOnIpv6Loopback) {
  auto options = testing::TestServerOptions();
  options.listen_host = "::1";
  auto server = Server::Start(std::move(options), EchoRouter());
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback: " << server.status().ToString();
  EXPECT_EQ((*server)->host(), "::1");
  EXPECT_NE((*server)->port(), 0);
}

}  // namespace
}  // namespace byok::http
