#include "crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <chrono>
#include <string>

#include "crypto/crypto_test_helpers.h"

namespace byok::crypto {
namespace {

using crypto_test::HaveOpensslCli;
using crypto_test::RunCommand;
using crypto_test::TempDir;
using crypto_test::TestEcKey;
using crypto_test::TestRsaKey;
using crypto_test::WriteText;
using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;

constexpr int64_t kNotBeforeUnix = 1704067200;  // 2024-01-01T00:00:00Z
const system_clock::time_point kNotBefore = system_clock::from_time_t(kNotBeforeUnix);
const system_clock::time_point kDuring = kNotBefore + hours(24 * 10);

CertificateOptions CaOptions() {
  CertificateOptions o;
  o.common_name = "byok test CA";
  o.organization = "byok";
  o.not_before = kNotBefore;
  o.validity_days = 3650;
  return o;
}

CertificateOptions ServerOptions() {
  CertificateOptions o;
  o.common_name = "vault.localhost";
  o.not_before = kNotBefore;
  o.validity_days = 365;
  o.dns_names = {"vault.localhost", "*.vault.localhost", "localhost"};
  o.ip_addresses = {"127.0.0.1", "::1"};
  o.server_auth = true;
  return o;
}

CertificateOptions ClientOptions() {
  CertificateOptions o;
  o.common_name = "alice";
  o.organization = "system:masters";
  o.not_before = kNotBefore;
  o.validity_days = 30;
  o.client_auth = true;
  return o;
}

struct Pki {
  Certificate ca;
  Certificate server;
  Certificate client;
};

Pki MakePki(const PrivateKey& ca_key, const PrivateKey& leaf_key) {
  Result<Certificate> ca = CreateSelfSignedCa(ca_key, CaOptions());
  EXPECT_TRUE(ca.ok()) << ca.status().ToString();
  Result<Certificate> server = IssueCertificate(*ca, ca_key, leaf_key.Public(), ServerOptions());
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  Result<Certificate> client = IssueCertificate(*ca, ca_key, leaf_key.Public(), ClientOptions());
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return Pki{std::move(ca).value(), std::move(server).value(), std::move(client).value()};
}

TEST(X509Test, SelfSignedCa) {
  Result<Certificate> ca = CreateSelfSignedCa(TestRsaKey(2048), CaOptions());
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  EXPECT_TRUE(ca->is_ca());
  EXPECT_EQ(ca->SubjectCommonName(), "byok test CA");
  EXPECT_EQ(ca->SubjectOrganization(), "byok");
  EXPECT_EQ(ca->IssuerCommonName(), "byok test CA");
  EXPECT_EQ(ca->not_before(), kNotBefore);
  EXPECT_EQ(ca->not_after(), kNotBefore + hours(24 * 3650));
  EXPECT_EQ(ca->FingerprintSha256().size(), 32u);
  EXPECT_TRUE(ca->DnsNames().empty());
  EXPECT_TRUE(VerifyIssuedBy(*ca, *ca, kDuring).ok());
  Result<PublicKey> pub = ca->GetPublicKey();
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->Equals(TestRsaKey(2048).Public()));
}

TEST(X509Test, RandomSerials) {
  Result<Certificate> a = CreateSelfSignedCa(TestEcKey(Curve::kP256), CaOptions());
  Result<Certificate> b = CreateSelfSignedCa(TestEcKey(Curve::kP256), CaOptions());
  ASSERT_TRUE(a.ok() && b.ok());
  std::string sa = a->SerialHex();
  EXPECT_GE(sa.size(), 30u);  // ~128 bits
  EXPECT_LE(sa.size(), 32u);
  EXPECT_NE(sa, b->SerialHex());
  EXPECT_NE(a->FingerprintSha256(), b->FingerprintSha256());
}

TEST(X509Test, ServerAndClientCertificates) {
  for (bool ec_ca : {false, true}) {
    const PrivateKey& ca_key = ec_ca ? TestEcKey(Curve::kP384) : TestRsaKey(2048);
    const PrivateKey& leaf_key = ec_ca ? TestRsaKey(2048) : TestEcKey(Curve::kP256);
    Pki pki = MakePki(ca_key, leaf_key);

    EXPECT_FALSE(pki.server.is_ca());
    EXPECT_EQ(pki.server.SubjectCommonName(), "vault.localhost");
    EXPECT_EQ(pki.server.IssuerCommonName(), "byok test CA");
    EXPECT_EQ(pki.server.DnsNames(),
              (std::vector<std::string>{"vault.localhost", "*.vault.localhost", "localhost"}));
    EXPECT_EQ(pki.server.IpAddresses(), (std::vector<std::string>{"127.0.0.1", "::1"}));
    EXPECT_EQ(pki.server.not_after(), kNotBefore + hours(24 * 365));
    EXPECT_TRUE(pki.server.GetPublicKey()->Equals(leaf_key.Public()));

    EXPECT_EQ(pki.client.SubjectCommonName(), "alice");
    EXPECT_EQ(pki.client.SubjectOrganization(), "system:masters");
    EXPECT_TRUE(pki.client.DnsNames().empty());

    for (const Certificate* cert : {&pki.server, &pki.client}) {
      Status verified = VerifyIssuedBy(*cert, pki.ca, kDuring);
      EXPECT_TRUE(verified.ok()) << verified.ToString();
      EXPECT_EQ(VerifyIssuedBy(*cert, pki.ca, kNotBefore - seconds(1)).code(),
                StatusCode::kUnauthenticated);
      EXPECT_EQ(VerifyIssuedBy(*cert, pki.ca, kNotBefore + hours(24 * 400)).code(),
                StatusCode::kUnauthenticated);
    }
  }
}

TEST(X509Test, OtherCaDoesNotVerify) {
  Pki pki = MakePki(TestRsaKey(2048), TestEcKey(Curve::kP256));
  Result<Certificate> other_ca = CreateSelfSignedCa(TestEcKey(Curve::kP384), CaOptions());
  ASSERT_TRUE(other_ca.ok());
  Status s = VerifyIssuedBy(pki.server, *other_ca, kDuring);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  // A leaf is not a trust anchor for another leaf.
  EXPECT_EQ(VerifyIssuedBy(pki.client, pki.server, kDuring).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(X509Test, IntermediateCa) {
  const PrivateKey& root_key = TestRsaKey(2048);
  Result<Certificate> root = CreateSelfSignedCa(root_key, CaOptions());
  CertificateOptions inter_opts = CaOptions();
  inter_opts.common_name = "byok intermediate";
  inter_opts.is_ca = true;
  Result<Certificate> inter =
      IssueCertificate(*root, root_key, TestEcKey(Curve::kP256).Public(), inter_opts);
  ASSERT_TRUE(inter.ok()) << inter.status().ToString();
  EXPECT_TRUE(inter->is_ca());
  Result<Certificate> leaf = IssueCertificate(*inter, TestEcKey(Curve::kP256),
                                              TestEcKey(Curve::kP384).Public(), ServerOptions());
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  EXPECT_TRUE(VerifyIssuedBy(*leaf, *inter, kDuring).ok());
  EXPECT_TRUE(VerifyIssuedBy(*inter, *root, kDuring).ok());
}

TEST(X509Test, AcceptsLocalhostWildcard) {
  // byok's own server certificate carries "*.localhost" (one label after the wildcard).
  const PrivateKey& ca_key = TestRsaKey(2048);
  Result<Certificate> ca = CreateSelfSignedCa(ca_key, CaOptions());
  ASSERT_TRUE(ca.ok());
  CertificateOptions opts = ServerOptions();
  opts.dns_names = {"localhost", "*.localhost", "*.vault.localhost", "Host_Name-1"};
  Result<Certificate> cert = IssueCertificate(*ca, ca_key, TestEcKey(Curve::kP256).Public(), opts);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->DnsNames(), opts.dns_names);
}

TEST(X509Test, PemAndDerRoundTrip) {
  Pki pki = MakePki(TestRsaKey(2048), TestEcKey(Curve::kP256));
  Result<std::string> pem = pki.server.ToPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(pem->rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  Result<Certificate> again = Certificate::FromPem(*pem);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->FingerprintSha256(), pki.server.FingerprintSha256());
  EXPECT_EQ(again->DnsNames(), pki.server.DnsNames());
  Result<std::vector<uint8_t>> der = pki.server.ToDer();
  ASSERT_TRUE(der.ok());
  Result<Certificate> from_der = Certificate::FromDer(*der);
  ASSERT_TRUE(from_der.ok());
  EXPECT_EQ(from_der->SerialHex(), pki.server.SerialHex());
  Certificate clone = pki.ca.Clone();
  EXPECT_EQ(clone.FingerprintSha256(), pki.ca.FingerprintSha256());
}

TEST(X509Test, RejectsBadInput) {
  const PrivateKey& ca_key = TestRsaKey(2048);
  Result<Certificate> ca = CreateSelfSignedCa(ca_key, CaOptions());
  ASSERT_TRUE(ca.ok());
  PublicKey leaf = TestEcKey(Curve::kP256).Public();

  struct Case {
    const char* name;
    CertificateOptions opts;
  };
  std::vector<Case> cases;
  auto with = [](auto mutate) {
    CertificateOptions o = ServerOptions();
    mutate(o);
    return o;
  };
  cases.push_back({"empty CN", with([](auto& o) { o.common_name = ""; })});
  cases.push_back({"long CN", with([](auto& o) { o.common_name = std::string(65, 'a'); })});
  cases.push_back({"long O", with([](auto& o) { o.organization = std::string(65, 'a'); })});
  cases.push_back({"0 days", with([](auto& o) { o.validity_days = 0; })});
  cases.push_back({"too many days", with([](auto& o) { o.validity_days = 36501; })});
  for (const char* dns :
       {"", "a..b", "*", "*.", "foo.*.bar", "-a.example", "a b.example", "a,b.example", ".example",
        "example.", "**.example.com", "a*.example.com"}) {
    cases.push_back({dns, with([dns](auto& o) { o.dns_names = {dns}; })});
  }
  for (const char* ip : {"999.1.1.1", "abc", "", "1.2.3", "::g", "127.0.0.1/8"}) {
    cases.push_back({ip, with([ip](auto& o) { o.ip_addresses = {ip}; })});
  }
  for (const Case& c : cases) {
    EXPECT_EQ(IssueCertificate(*ca, ca_key, leaf, c.opts).status().code(),
              StatusCode::kInvalidArgument)
        << c.name;
  }
  EXPECT_EQ(CreateSelfSignedCa(ca_key, cases[0].opts).status().code(),
            StatusCode::kInvalidArgument);

  // Issuer is not a CA; CA key does not match the CA certificate.
  Result<Certificate> server = IssueCertificate(*ca, ca_key, leaf, ServerOptions());
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(
      IssueCertificate(*server, TestEcKey(Curve::kP256), leaf, ServerOptions()).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueCertificate(*ca, TestRsaKey(3072), leaf, ServerOptions()).status().code(),
            StatusCode::kInvalidArgument);

  for (std::string_view pem : {std::string_view(""), std::string_view("garbage"),
                               std::string_view("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                                "-----END CERTIFICATE-----\n")}) {
    EXPECT_EQ(Certificate::FromPem(pem).status().code(), StatusCode::kInvalidArgument);
  }
  std::vector<uint8_t> der = *server->ToDer();
  der.resize(der.size() - 10);
  EXPECT_EQ(Certificate::FromDer(der).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// The openssl command line verifies the chain and shows the extensions.
TEST(X509CliTest, OpensslVerifiesAndShowsSans) {
  if (!HaveOpensslCli()) GTEST_SKIP() << "openssl command line not installed";
  Pki pki = MakePki(TestRsaKey(2048), TestEcKey(Curve::kP256));
  TempDir dir;
  WriteText(dir.File("ca.pem"), *pki.ca.ToPem());
  WriteText(dir.File("server.pem"), *pki.server.ToPem());
  WriteText(dir.File("client.pem"), *pki.client.ToPem());
  std::string at = " -attime " + std::to_string(kNotBeforeUnix + 86400) + " ";

  crypto_test::CommandResult v =
      RunCommand("openssl verify -x509_strict -purpose sslserver" + at + "-CAfile " +
                 dir.File("ca.pem") + " " + dir.File("server.pem"));
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find(": OK"), std::string::npos) << v.output;
  crypto_test::CommandResult vc =
      RunCommand("openssl verify -x509_strict -purpose sslclient" + at + "-CAfile " +
                 dir.File("ca.pem") + " " + dir.File("client.pem"));
  EXPECT_EQ(vc.exit_code, 0) << vc.output;
  // A server certificate is not a client certificate and vice versa.
  EXPECT_NE(RunCommand("openssl verify -purpose sslclient" + at + "-CAfile " + dir.File("ca.pem") +
                       " " + dir.File("server.pem"))
                .exit_code,
            0);
  EXPECT_NE(RunCommand("openssl verify -purpose sslserver" + at + "-CAfile " + dir.File("ca.pem") +
                       " " + dir.File("client.pem"))
                .exit_code,
            0);
  // Outside the validity period.
  EXPECT_NE(RunCommand("openssl verify -attime " + std::to_string(kNotBeforeUnix - 10) +
                       " -CAfile " + dir.File("ca.pem") + " " + dir.File("server.pem"))
                .exit_code,
            0);
  // Host name checks as a TLS client would do them.
  EXPECT_EQ(RunCommand("openssl verify" + at + "-verify_hostname kv1.vault.localhost -CAfile " +
                       dir.File("ca.pem") + " " + dir.File("server.pem"))
                .exit_code,
            0);
  EXPECT_NE(RunCommand("openssl verify" + at + "-verify_hostname a.b.vault.localhost -CAfile " +
                       dir.File("ca.pem") + " " + dir.File("server.pem"))
                .exit_code,
            0);
  EXPECT_EQ(RunCommand("openssl verify" + at + "-verify_ip ::1 -CAfile " + dir.File("ca.pem") +
                       " " + dir.File("server.pem"))
                .exit_code,
            0);

  crypto_test::CommandResult text =
      RunCommand("openssl x509 -noout -text -in " + dir.File("server.pem"));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  for (const char* expected :
       {"DNS:vault.localhost", "DNS:*.vault.localhost", "DNS:localhost", "IP Address:127.0.0.1",
        "IP Address:0:0:0:0:0:0:0:1", "TLS Web Server Authentication", "CA:FALSE",
        "Digital Signature", "sha256WithRSAEncryption", "X509v3 Subject Key Identifier",
        "X509v3 Authority Key Identifier", "Version: 3", "Not Before: Jan  1 00:00:00 2024 GMT",
        "Not After : Dec 31 00:00:00 2024 GMT"}) {
    EXPECT_NE(text.output.find(expected), std::string::npos) << expected << "\n" << text.output;
  }
  crypto_test::CommandResult client_text = RunCommand(
      "openssl x509 -noout -subject -ext extendedKeyUsage -in " + dir.File("client.pem"));
  EXPECT_NE(client_text.output.find("O = system:masters, CN = alice"), std::string::npos)
      << client_text.output;
  EXPECT_NE(client_text.output.find("TLS Web Client Authentication"), std::string::npos)
      << client_text.output;
  crypto_test::CommandResult ca_text =
      RunCommand("openssl x509 -noout -text -in " + dir.File("ca.pem"));
  EXPECT_NE(ca_text.output.find("CA:TRUE"), std::string::npos) << ca_text.output;
  EXPECT_NE(ca_text.output.find("Certificate Sign, CRL Sign"), std::string::npos) << ca_text.output;
}

}  // namespace
}  // namespace byok::crypto
