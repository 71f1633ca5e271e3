#include "daemon/tls_material.h"

#include <unistd.h>
#include <algorithm>

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include "common/encoding.h"
#include "common/files.h"
#include "crypto/keys.h"
#include "crypto/x509.h"

namespace byok::daemon {
namespace {

constexpr char kCaKeySecret[] = "tls/ca.key";
constexpr char kServerKeySecret[] = "tls/server.key";
constexpr int kCaValidityDays = 3650;
constexpr int kServerValidityDays = 825;
constexpr auto kRenewBefore = std::chrono::hours(24 * 30);

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

struct Names {
  std::vector<std::string> dns = {"localhost", "*.localhost", "*.vault.localhost"};
  std::vector<std::string> ips = {"127.0.0.1", "::1"};
};

Names RequiredNames(const std::string& listen_host) {
  Names n;
  if (listen_host.empty() || listen_host == "0.0.0.0" || listen_host == "::") return n;
  if (IsIpLiteral(listen_host)) {
    if (std::find(n.ips.begin(), n.ips.end(), listen_host) == n.ips.end())
      n.ips.push_back(listen_host);
  } else if (std::find(n.dns.begin(), n.dns.end(), listen_host) == n.dns.end()) {
    n.dns.push_back(listen_host);
  }
  return n;
}

// The CA key pair and certificate: loaded, or created and saved.
Result<std::pair<crypto::PrivateKey, crypto::Certificate>> LoadOrCreateCa(store::Store& store,
                                                                          const DataDir& dir,
                                                                          const Clock& clock) {
  BYOK_ASSIGN_OR_RETURN(auto txn, store.Begin());
  auto sealed = txn->GetSecret(kCaKeySecret);
  auto pem = ReadFile(dir.ca_cert());
  if (sealed.ok() && pem.ok()) {
    BYOK_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::FromPem(ToString(sealed->span())));
    BYOK_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::FromPem(*pem));
    return std::make_pair(std::move(key), std::move(cert));
  }
  if (!sealed.ok() && !sealed.status().Is(StatusCode::kNotFound)) return sealed.status();
  if (sealed.ok() != pem.ok()) {
    spdlog::warn("TLS CA incomplete in {} (key {}, certificate {}): creating a new CA", dir.root,
                 sealed.ok() ? "present" : "missing", pem.ok() ? "present" : "missing");
  }
  BYOK_ASSIGN_OR_RETURN(auto key, crypto::GenerateEcKey(crypto::Curve::kP256));
  crypto::CertificateOptions opts;
  opts.common_name = "byok local CA " + Hostname().substr(0, 40);
  opts.organization = "byok";
  opts.not_before = clock.Now() - std::chrono::hours(1);
  opts.validity_days = kCaValidityDays;
  BYOK_ASSIGN_OR_RETURN(auto cert, crypto::CreateSelfSignedCa(key, opts));
  BYOK_ASSIGN_OR_RETURN(SecretBytes key_pem, key.ToPem());
  BYOK_ASSIGN_OR_RETURN(std::string cert_pem, cert.ToPem());
  BYOK_TRY(txn->PutSecret(kCaKeySecret, key_pem.span()));
  if (Status s = txn->DeleteSecret(kServerKeySecret); !s.ok() && !s.Is(StatusCode::kNotFound)) {
    return s;
  }
  BYOK_TRY(txn->Commit());
  BYOK_TRY(WriteFileAtomic(dir.ca_cert(), cert_pem, 0644));
  ::unlink(dir.server_cert().c_str());  // issued by an old CA, if any
  spdlog::info("created TLS CA {}", dir.ca_cert());
  return std::make_pair(std::move(key), std::move(cert));
}

bool ServerCertUsable(const crypto::Certificate& cert, const crypto::Certificate& ca,
                      const Names& names, TimePoint now) {
  if (!crypto::VerifyIssuedBy(cert, ca, now).ok()) return false;
  if (cert.not_after() - kRenewBefore < now) return false;
  auto dns = cert.DnsNames();
  auto ips = cert.IpAddresses();
  for (const auto& n : names.dns) {
    if (std::find(dns.begin(), dns.end(), n) == dns.end()) return false;
  }
  for (const auto& n : names.ips) {
    if (std::find(ips.begin(), ips.end(), n) == ips.end()) return false;
  }
  return true;
}

}  // namespace

Result<TlsMaterial> EnsureTlsMaterial(store::Store& store, const DataDir& dir, const Clock& clock,
                                      const std::string& listen_host) {
  BYOK_TRY(EnsureDirectory(dir.tls_dir(), 0755));
  BYOK_ASSIGN_OR_RETURN(auto ca, LoadOrCreateCa(store, dir, clock));
  auto& [ca_key, ca_cert] = ca;
  BYOK_ASSIGN_OR_RETURN(std::string ca_pem, ca_cert.ToPem());
  Names names = RequiredNames(listen_host);

  BYOK_ASSIGN_OR_RETURN(auto txn, store.Begin());
  auto sealed = txn->GetSecret(kServerKeySecret);
  auto pem = ReadFile(dir.server_cert());
  if (sealed.ok() && pem.ok()) {
    auto cert = crypto::Certificate::FromPem(*pem);
    auto key = crypto::PrivateKey::FromPem(ToString(sealed->span()));
    if (cert.ok() && key.ok() && ServerCertUsable(*cert, ca_cert, names, clock.Now())) {
      auto cert_pub = cert->GetPublicKey();
      if (cert_pub.ok() && cert_pub->Equals(key->Public())) {
        return TlsMaterial{dir.ca_cert(), *pem + ca_pem, std::move(sealed).value()};
      }
    }
  }
  BYOK_ASSIGN_OR_RETURN(auto key, crypto::GenerateEcKey(crypto::Curve::kP256));
  crypto::CertificateOptions opts;
  opts.common_name = "localhost";
  opts.organization = "byok";
  opts.not_before = clock.Now() - std::chrono::hours(1);
  opts.validity_days = kServerValidityDays;
  opts.dns_names = names.dns;
  opts.ip_addresses = names.ips;
  opts.server_auth = true;
  BYOK_ASSIGN_OR_RETURN(auto cert, crypto::IssueCertificate(ca_cert, ca_key, key.Public(), opts));
  BYOK_ASSIGN_OR_RETURN(SecretBytes key_pem, key.ToPem());
  BYOK_ASSIGN_OR_RETURN(std::string cert_pem, cert.ToPem());
  BYOK_TRY(txn->PutSecret(kServerKeySecret, key_pem.span()));
  BYOK_TRY(txn->Commit());
  BYOK_TRY(WriteFileAtomic(dir.server_cert(), cert_pem, 0644));
  spdlog::info("issued TLS server certificate {}", dir.server_cert());
  return TlsMaterial{dir.ca_cert(), cert_pem + ca_pem, std::move(key_pem)};
}

}  // namespace byok::daemon
