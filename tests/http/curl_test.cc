// The real curl against the server: verification with the test CA, --resolve to a vault host,
// ALPN with h2 offered, Expect: 100-continue on a large upload.
#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/server.h"
#include "test_support.h"

namespace byok::http {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using testing::Pki;
using testing::RunCommand;
using testing::StartTestServer;

bool HaveCurl() {
  int code = 0;
  RunCommand("curl --version >/dev/null 2>&1", &code);
  return code == 0;
}

Router CurlRouter() {
  Router router;
  router.Add("GET", "*.vault.localhost", "/", [](Request& r) {
    return Response::Json(200, {{"vault", r.params.at("host_label")}, {"host", r.host}});
  });
  router.Add("GET", "localhost", "/hello", [](Request&) { return Response::Json(200, "hi"); });
  router.Add("PUT", "*", "/upload", [](Request& r) {
    return Response::Json(200, {{"size", r.body.size()}});
  });
  return router;
}

std::string Curl(const std::string& args, int* code) {
  return RunCommand(
      fmt::format("curl -sS -i --max-time 10 --cacert '{}' {} 2>&1", Pki().ca_file, args), code);
}

TEST(CurlTest, UnknownPathGets404EnvelopeWithRequestId) {
  if (!HaveCurl()) GTEST_SKIP() << "curl not installed";
  auto server = StartTestServer(CurlRouter());
  ASSERT_NE(server, nullptr);
  int code = 0;
  std::string out =
      Curl(fmt::format("https://localhost:{}/subscriptions/nope", server->port()), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 404"));
  EXPECT_THAT(out, ContainsRegex("x-ms-request-id: [0-9a-f-]{36}"));
  EXPECT_THAT(out, HasSubstr("Content-Type: application/json; charset=utf-8"));
  EXPECT_THAT(out, HasSubstr(R"({"error":{"code":"NotFound","message":)"));
}

TEST(CurlTest, ResolvedVaultHostIsAcceptedAndRouted) {
  if (!HaveCurl()) GTEST_SKIP() << "curl not installed";
  auto server = StartTestServer(CurlRouter());
  ASSERT_NE(server, nullptr);
  int code = 0;
  std::string out = Curl(fmt::format("--resolve myvault.vault.localhost:{0}:127.0.0.1 "
                                     "https://myvault.vault.localhost:{0}/",
                                     server->port()),
                         &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(out, HasSubstr(R"({"host":"myvault.vault.localhost","vault":"myvault"})"));
}

TEST(CurlTest, Http2OfferFallsBackToHttp11) {
  if (!HaveCurl()) GTEST_SKIP() << "curl not installed";
  auto server = StartTestServer(CurlRouter());
  ASSERT_NE(server, nullptr);
  int code = 0;
  std::string out =
      Curl(fmt::format("--http2 https://localhost:{}/hello https://localhost:{}/hello",
                       server->port(), server->port()),
           &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("HTTP/2")));
}

TEST(CurlTest, LargeUploadWithExpectContinueIsNotDelayed) {
  if (!HaveCurl()) GTEST_SKIP() << "curl not installed";
  auto server = StartTestServer(CurlRouter());
  ASSERT_NE(server, nullptr);
  std::string file = Pki().dir + "/upload-" + std::to_string(server->port()) + ".bin";
  {
    std::ofstream out(file, std::ios::binary);
    out << std::string(2 * 1024 * 1024, 'u');
  }
  auto start = std::chrono::steady_clock::now();
  int code = 0;
  // Without the interim response curl would wait --expect100-timeout (5 s) before sending.
  std::string out = Curl(fmt::format("-X PUT -H 'Expect: 100-continue' --expect100-timeout 5 "
                                     "--data-binary @'{}' https://localhost:{}/upload",
                                     file, server->port()),
                         &code);
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::filesystem::remove(file);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 100 Continue"));
  EXPECT_THAT(out, HasSubstr(R"({"size":2097152})"));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1800));
}

}  // namespace
}  // namespace byok::http
