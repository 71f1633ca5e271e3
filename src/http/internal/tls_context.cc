#include "http/internal/tls_context.h"

#include <vector>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace byok::http::internal {
namespace {

// TLS 1.2 suites (Mozilla "intermediate" without DHE); TLS 1.3 uses OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kSessionIdContext[] = {'b', 'y', 'o', 'k'};

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// Drains OpenSSL's error queue into a short description (reason strings only).
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    if (!out.empty()) out += "; ";
    const char* reason = ERR_reason_error_string(e);
    out += reason != nullptr ? reason : fmt::format("error {:#x}", e);
  }
  return out.empty() ? "unknown error" : out;
}

Status Fail(std::string_view what) {
  return Status::InvalidArgument(fmt::format("TLS set-up: {}: {}", what, OpenSslErrors()));
}

BioPtr MemBio(const void* data, size_t size) {
  return BioPtr(BIO_new_mem_buf(data, static_cast<int>(size)));
}

// Never prompt for a passphrase on a terminal: encrypted keys are refused.
int NoPassphrase(char*, int, int, void*) { return 0; }

Result<std::vector<X509Ptr>> ReadCertificates(std::string_view pem, std::string_view what) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemBio(pem.data(), pem.size());
  if (!bio) return Fail(what);
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
    if (!cert) break;
    certs.push_back(std::move(cert));
  }
  // The loop ends with a "no start line" error at the end of the input; only an empty result
  // is a failure.
  if (certs.empty()) return Fail(fmt::format("no certificate in {}", what));
  ERR_clear_error();
  return certs;
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnHttp11, sizeof(kAlpnHttp11), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // the client offered only protocols we do not speak (h2)
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// request_any_client_certificate: no verdict at the handshake (unknown issuers, self-signed and
// expired certificates included); SSL_get0_peer_certificate still yields the leaf.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

}  // namespace

Result<SslCtxPtr> MakeServerTlsContext(const ServerOptions& options) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Fail("SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) return Fail("minimum version");
  SSL_CTX_set_options(
      c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1) return Fail("cipher list");
  if (SSL_CTX_set1_groups_list(c, kGroups) != 1) return Fail("groups");
  SSL_CTX_set_alpn_select_cb(c, SelectAlpn, nullptr);
  if (SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof(kSessionIdContext)) != 1) {
    return Fail("session id context");
  }

  BYOK_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain,
                        ReadCertificates(options.certificate_chain_pem, "certificate_chain_pem"));
  if (SSL_CTX_use_certificate(c, chain.front().get()) != 1) return Fail("server certificate");
  for (size_t i = 1; i < chain.size(); ++i) {
    // add1: the context takes its own reference.
    if (SSL_CTX_add1_chain_cert(c, chain[i].get()) != 1) return Fail("intermediate certificate");
  }

  {
    const SecretBytes& key_pem = options.private_key_pem;
    BioPtr bio = MemBio(key_pem.data(), key_pem.size());
    if (!bio) return Fail("private key");
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
    if (!key) return Fail("private_key_pem (PEM, unencrypted)");
    if (SSL_CTX_use_PrivateKey(c, key.get()) != 1) return Fail("private key");
    if (SSL_CTX_check_private_key(c) != 1) return Fail("private key does not match certificate");
  }

  if (options.request_any_client_certificate && !options.client_ca_pem.empty()) {
    return Status::InvalidArgument(
        "TLS set-up: client_ca_pem and request_any_client_certificate are exclusive");
  }
  if (options.request_any_client_certificate) {
    // CertificateRequest with no certificate_authorities (the client CA list stays empty), and a
    // verify callback that accepts whatever chain the client sent: handlers verify the leaf.
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, AcceptAnyCertificate);
  } else if (!options.client_ca_pem.empty()) {
    BYOK_ASSIGN_OR_RETURN(std::vector<X509Ptr> cas,
                          ReadCertificates(options.client_ca_pem, "client_ca_pem"));
    X509_STORE* store = SSL_CTX_get_cert_store(c);
    for (const X509Ptr& ca : cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1) return Fail("client CA");
      if (SSL_CTX_add_client_CA(c, ca.get()) != 1) return Fail("client CA list");
    }
    // Requested, not required: a client without a certificate may still authenticate with a
    // bearer token. A certificate that does not verify fails the handshake.
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_verify_depth(c, 4);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }
  ERR_clear_error();
  return ctx;
}

std::string PeerCertificateDer(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return {};
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509(cert, &p) != len) return {};
  return der;
}

}  // namespace byok::http::internal
