// X.509 certificates for byok's own PKI: a self-signed CA, server certificates for the emulated
// endpoints (DNS SANs incl. wildcards such as "*.vault.localhost", IP SANs such as 127.0.0.1 and
// ::1) and client certificates (CN = user, O = group, as Kubernetes reads them).
//
// Issued certificates are X.509 v3, signed with SHA-256 (RSA PKCS#1 v1.5 or ECDSA), with a random
// 128-bit serial, SubjectKeyIdentifier / AuthorityKeyIdentifier, critical basicConstraints and
// keyUsage, and extendedKeyUsage serverAuth/clientAuth as requested. Time never comes from the
// wall clock: callers pass not_before (and the verification time), so tests are deterministic.
//
// Thread safety: a Certificate is immutable after construction; const methods may be called
// concurrently. Free functions are stateless. A moved-from Certificate is empty (!valid()).
// REQUIRES: valid keys and certificates (else FailedPrecondition); options as documented on
// CertificateOptions (else InvalidArgument). PEM/DER inputs may be hostile.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "common/status.h"
#include "crypto/keys.h"

namespace byok::crypto {

struct CertificateOptions {
  std::string common_name;   // subject CN; required, at most 64 characters
  std::string organization;  // subject O; optional (Kubernetes: the user's group)
  std::chrono::system_clock::time_point not_before;
  int validity_days = 365;                // not_after = not_before + days; 1..36500
  std::vector<std::string> dns_names;     // SAN dNSName; wildcard only as "*.<name>"
  std::vector<std::string> ip_addresses;  // SAN iPAddress, textual IPv4 or IPv6
  bool is_ca = false;                     // CA:TRUE (implied by CreateSelfSignedCa)
  bool server_auth = false;               // extendedKeyUsage serverAuth
  bool client_auth = false;               // extendedKeyUsage clientAuth
};

class Certificate {
 public:
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  // The first certificate in `pem` ("BEGIN CERTIFICATE"). InvalidArgument otherwise.
  static Result<Certificate> FromPem(std::string_view pem);
  static Result<Certificate> FromDer(std::span<const uint8_t> der);
  // Takes ownership of `x509` (also on failure).
  static Result<Certificate> FromX509(X509* x509);

  bool valid() const { return x509_ != nullptr; }
  Result<std::string> ToPem() const;
  Result<std::vector<uint8_t>> ToDer() const;

  // Empty strings / vectors when absent.
  std::string SubjectCommonName() const;
  std::string SubjectOrganization() const;
  std::string IssuerCommonName() const;
  std::vector<std::string> DnsNames() const;
  std::vector<std::string> IpAddresses() const;  // canonical text: "127.0.0.1", "::1"
  std::chrono::system_clock::time_point not_before() const;
  std::chrono::system_clock::time_point not_after() const;
  bool is_ca() const;
  std::string SerialHex() const;                   // lower-case hex
  std::vector<uint8_t> FingerprintSha256() const;  // SHA-256 of the DER encoding
  Result<PublicKey> GetPublicKey() const;

  // Another handle on the same immutable certificate (reference-counted).
  Certificate Clone() const;
  // Borrowed pointer for other byok modules (e.g. SSL_CTX_use_certificate).
  X509* get() const { return x509_.get(); }

 private:
  struct X509Deleter {
    void operator()(X509* x509) const;
  };
  explicit Certificate(X509* x509) : x509_(x509) {}

  std::unique_ptr<X509, X509Deleter> x509_;
};

// A self-signed CA certificate for `key` (basicConstraints CA:TRUE, keyUsage keyCertSign|cRLSign).
Result<Certificate> CreateSelfSignedCa(const PrivateKey& key, const CertificateOptions& opts);

// A certificate for `subject_key` signed by `ca` / `ca_key`: a leaf (CA:FALSE, keyUsage
// digitalSignature, plus keyEncipherment for RSA keys) unless opts.is_ca. InvalidArgument if
// `ca` is not a CA, `ca_key` does not match it, or the options are invalid.
Result<Certificate> IssueCertificate(const Certificate& ca, const PrivateKey& ca_key,
                                     const PublicKey& subject_key, const CertificateOptions& opts);

// OK if `cert` chains to `ca` (taken as trust anchor, even if not self-signed) and is valid at
// time `at`; Unauthenticated with OpenSSL's reason otherwise.
Status VerifyIssuedBy(const Certificate& cert, const Certificate& ca,
                      std::chrono::system_clock::time_point at);

}  // namespace byok::crypto
