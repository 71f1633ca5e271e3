// Internal to byok_http: the server's OpenSSL context, built with OpenSSL only (no Asio), so the
// TLS policy lives in one small file:
//   - TLS 1.2 minimum (1.3 preferred); ECDHE + AEAD cipher suites for 1.2; X25519/P-256/P-384;
//   - no compression, no renegotiation, server cipher preference;
//   - ALPN: "http/1.1" when the client offers it, no ALPN otherwise (never h2);
//   - client certificates requested (not required) and verified when client_ca_pem is set;
//     requested with an empty CA list and accepted unverified when request_any_client_certificate.
//
// Thread safety: MakeServerTlsContext is thread-safe; the returned context is shared read-only
// by every connection.
#pragma once

#include <memory>
#include <string>

#include <openssl/ssl.h>

#include "common/status.h"
#include "http/server.h"

namespace byok::http::internal {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// InvalidArgument when the certificate chain, key or client CA PEM cannot be loaded or the key
// does not match the certificate. Messages never contain key material.
Result<SslCtxPtr> MakeServerTlsContext(const ServerOptions& options);

// The peer's certificate in DER, or empty if it presented none.
std::string PeerCertificateDer(SSL* ssl);

}  // namespace byok::http::internal
