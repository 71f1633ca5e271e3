// TLS policy: protocol versions, ALPN, SNI with the vault wildcard, client certificates.
#include <openssl/ssl.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "http/server.h"
#include "test_support.h"

namespace byok::http {
namespace {

using testing::Pki;
using testing::StartTestServer;
using testing::TestClient;
using testing::TestClientOptions;
using testing::TestPki;

Router CertRouter() {
  Router router;
  router.Add("GET", "*", "/whoami", [](Request& r) {
    return Response::Json(200, {{"cert", HexEncode(AsBytes(r.client_cert_der))}});
  });
  router.Add("GET", "*.vault.localhost", "/", [](Request& r) {
    return Response::Json(200, {{"vault", r.params.at("host_label")}});
  });
  return router;
}

TEST(TlsTest, Tls11IsRefusedTls12And13Work) {
  auto server = StartTestServer(CertRouter());
  ASSERT_NE(server, nullptr);
  TestClientOptions old;
  old.min_version = TLS1_1_VERSION;
  old.max_version = TLS1_1_VERSION;
  old.ciphers = "DEFAULT:@SECLEVEL=0";  // let this client really offer TLS 1.1
  auto refused = TestClient::Connect(server->port(), old);
  ASSERT_FALSE(refused.ok());
  // Refused by the server's alert, not by this client failing to offer TLS 1.1 at all.
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("protocol version"));

  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TestClientOptions o;
    o.min_version = version;
    o.max_version = version;
    auto c = TestClient::Connect(server->port(), o);
    ASSERT_TRUE(c.ok()) << version << ": " << c.status().ToString();
    auto r = (*c)->Send("GET", "/whoami");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
  }
}

TEST(TlsTest, AlpnNeverSelectsH2) {
  auto server = StartTestServer(CertRouter());
  ASSERT_NE(server, nullptr);
  TestClientOptions h2_only;
  h2_only.alpn = {"h2"};
  auto c = TestClient::Connect(server->port(), h2_only);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->alpn(), "");

  TestClientOptions both;  // what kubectl and curl offer
  both.alpn = {"h2", "http/1.1"};
  c = TestClient::Connect(server->port(), both);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->alpn(), "http/1.1");
  auto r = (*c)->Send("GET", "/whoami");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);

  c = TestClient::Connect(server->port());  // no ALPN at all
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->alpn(), "");
}

TEST(TlsTest, VaultSubdomainVerifiesAndRoutesByHost) {
  auto server = StartTestServer(CertRouter());
  ASSERT_NE(server, nullptr);
  TestClientOptions o;
  o.server_name = "myvault.vault.localhost";
  auto c = TestClient::Connect(server->port(), o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto r = (*c)->Send("GET", "/",
                      {{"Host", "myvault.vault.localhost:" + std::to_string(server->port())}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"vault":"myvault"})");

  TestClientOptions ip;
  ip.server_name = "127.0.0.1";  // IP SAN
  EXPECT_TRUE(TestClient::Connect(server->port(), ip).ok());
  TestClientOptions wrong;
  wrong.server_name = "example.com";  // not in the certificate: the client refuses
  EXPECT_FALSE(TestClient::Connect(server->port(), wrong).ok());
}

ServerOptions ClientCaOptions() {
  ServerOptions o = testing::TestServerOptions();
  o.client_ca_pem = Pki().client_ca_pem;
  return o;
}

TEST(TlsTest, ClientCertificateIsCapturedWhenTrusted) {
  auto server = StartTestServer(CertRouter(), ClientCaOptions());
  ASSERT_NE(server, nullptr);
  TestClientOptions o;
  o.cert_file = Pki().client_cert_file;
  o.key_file = Pki().client_key_file;
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    o.max_version = version;
    auto c = TestClient::Connect(server->port(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto r = (*c)->Send("GET", "/whoami");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(nlohmann::json::parse(r->body)["cert"], HexEncode(AsBytes(Pki().client_cert_der)));
  }
}

TEST(TlsTest, ClientCertificateIsOptional) {
  auto server = StartTestServer(CertRouter(), ClientCaOptions());
  ASSERT_NE(server, nullptr);
  auto c = TestClient::Connect(server->port());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto r = (*c)->Send("GET", "/whoami");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, R"({"cert":""})");
}

TEST(TlsTest, ClientCertificateFromAnotherCaIsRefused) {
  auto server = StartTestServer(CertRouter(), ClientCaOptions());
  ASSERT_NE(server, nullptr);
  TestClientOptions o;
  o.cert_file = Pki().other_client_cert_file;
  o.key_file = Pki().other_client_key_file;
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    o.max_version = version;
    auto c = TestClient::Connect(server->port(), o);
    if (!c.ok()) continue;  // TLS 1.2: refused during the handshake
    // TLS 1.3: the client finishes first; the server's alert arrives on the first read.
    auto r = (*c)->Send("GET", "/whoami");
    EXPECT_FALSE(r.ok()) << version << ": got status " << r->status;
  }
}

TEST(TlsTest, ClientCertificateIsNotRequestedWithoutClientCa) {
  auto server = StartTestServer(CertRouter());
  ASSERT_NE(server, nullptr);
  TestClientOptions o;
  o.cert_file = Pki().client_cert_file;
  o.key_file = Pki().client_key_file;
  auto c = TestClient::Connect(server->port(), o);
  ASSERT_TRUE(c.ok());
  auto r = (*c)->Send("GET", "/whoami");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, R"({"cert":""})");
}

ServerOptions AnyClientCertOptions() {
  ServerOptions o = testing::TestServerOptions();
  o.request_any_client_certificate = true;
  return o;
}

TEST(TlsTest, AnyClientCertificateReachesTheHandlerUnverified) {
  auto server = StartTestServer(CertRouter(), AnyClientCertOptions());
  ASSERT_NE(server, nullptr);
  struct Case {
    std::string cert, key, der;
  };
  const TestPki& pki = Pki();
  for (const Case& c :
       {Case{pki.client_cert_file, pki.client_key_file, pki.client_cert_der},
        Case{pki.other_client_cert_file, pki.other_client_key_file, pki.other_client_cert_der},
        Case{pki.self_signed_cert_file, pki.self_signed_key_file, pki.self_signed_cert_der}}) {
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
      TestClientOptions o;
      o.cert_file = c.cert;
      o.key_file = c.key;
      o.max_version = version;
      auto client = TestClient::Connect(server->port(), o);
      ASSERT_TRUE(client.ok()) << c.cert << ": " << client.status().ToString();
      auto r = (*client)->Send("GET", "/whoami");
      ASSERT_TRUE(r.ok()) << c.cert << " " << version << ": " << r.status().ToString();
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(nlohmann::json::parse(r->body)["cert"], HexEncode(AsBytes(c.der))) << c.cert;
      // Keep-alive: the same certificate on the next request of the connection.
      r = (*client)->Send("GET", "/whoami");
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(nlohmann::json::parse(r->body)["cert"], HexEncode(AsBytes(c.der))) << c.cert;
    }
  }
}

TEST(TlsTest, AnyClientCertificateModeWorksWithoutCertificate) {
  auto server = StartTestServer(CertRouter(), AnyClientCertOptions());
  ASSERT_NE(server, nullptr);
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TestClientOptions o;
    o.max_version = version;
    auto c = TestClient::Connect(server->port(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto r = (*c)->Send("GET", "/whoami");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"cert":""})");
  }
  // curl without a certificate, as az and the SDKs connect.
  int code = -1;
  std::string out =
      testing::RunCommand(fmt::format("curl -sS --cacert '{}' https://localhost:{}/whoami 2>&1",
                                      Pki().ca_file, server->port()),
                          &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, R"({"cert":""})");
}

// What Go's crypto/tls (kubectl) needs to send its certificate: a CertificateRequest naming no CA.
TEST(TlsTest, AnyClientCertificateModeSendsAnEmptyCaList) {
  auto server = StartTestServer(CertRouter(), AnyClientCertOptions());
  ASSERT_NE(server, nullptr);
  auto with_ca = StartTestServer(CertRouter(), ClientCaOptions());
  ASSERT_NE(with_ca, nullptr);
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    int code = -1;
    std::string out = testing::RunCommand(
        fmt::format("openssl s_client {} -connect 127.0.0.1:{} -CAfile '{}' </dev/null 2>&1",
                    version, server->port(), Pki().ca_file),
        &code);
    EXPECT_THAT(out, ::testing::HasSubstr("No client certificate CA names sent")) << version;
    out = testing::RunCommand(
        fmt::format("openssl s_client {} -connect 127.0.0.1:{} -CAfile '{}' </dev/null 2>&1",
                    version, with_ca->port(), Pki().ca_file),
        &code);
    EXPECT_THAT(out, ::testing::HasSubstr("Acceptable client certificate CA names")) << version;
  }
}

TEST(TlsTest, AnyClientCertificateAndClientCaAreExclusive) {
  ServerOptions o = AnyClientCertOptions();
  o.client_ca_pem = Pki().client_ca_pem;
  auto server = Server::Start(std::move(o), CertRouter());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace byok::http
