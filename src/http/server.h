// Server: byok's HTTPS/1.1 server (Boost.Beast over Asio with OpenSSL; none of it leaks into
// this header).
//
// Contract:
//   - TLS 1.2 and 1.3 only, one certificate chain; no HTTP/2 (ALPN selects "http/1.1" when the
//     client offers it, nothing otherwise); renegotiation and compression disabled. Plain HTTP on
//     the port gets a plain-text 400 HttpsRequired envelope and a close.
//   - HTTP/1.1 with keep-alive (one request at a time per connection; pipelined requests are
//     answered in order) and HTTP/1.0 (keep-alive on request). "Expect: 100-continue" is
//     honoured. Every response (status line "HTTP/1.1") carries x-ms-request-id (a fresh UUID),
//     x-ms-correlation-request-id (the client's, else the request id), x-ms-client-request-id
//     (echoed when sent), Date, Server: byok and Content-Length (not on 1xx/204/304, nor on a
//     streaming response, below). Handler
//     values for these fields and for Connection/Transfer-Encoding are ignored; fields with CR,
//     LF or NUL in the value are dropped (logged).
//   - The route is looked up on an I/O thread; the handler runs on a worker thread (a kInline
//     route's handler runs right there on the I/O thread, router.h); HEAD falls
//     back to the GET route (body dropped, Content-Length kept) when no HEAD route exists.
//     Errors of the http layer (404, 405 with Allow, 400, 413, 431, 417, 500, 503) come from
//     http/errors.h as Azure envelopes; after a 400/413/417/431/503 the connection is closed.
//     A handler that throws, or returns a status outside 200..599, yields 500
//     InternalServerError (the exception message goes to logger "byok", never to the client).
//   - Streaming responses (message.h, Response::stream) to a GET with a 2xx status (not
//     204/205): the head carries "Transfer-Encoding: chunked" (HTTP/1.1; HTTP/1.0 clients get a
//     body delimited by the close) and "Connection: close" (HEAD gets the head only and keeps the
//     connection; other statuses are sent as plain responses, the producer's sink already
//     closed); the producer writes through a non-blocking StreamSink and holds no thread while
//     idle. While a stream is open the connection keeps reading (and discarding) so a client that
//     goes away is noticed at once. The stream ends when the producer closes it, after
//     Response::stream_timeout, when the client goes away, when a write stalls for body_timeout,
//     when the queued bytes exceed max_stream_queue_bytes (closed without the terminating chunk),
//     or at Shutdown (terminating chunk at once, i.e. well within the grace period). The
//     connection then closes.
//   - Client certificates: not requested by default; requested and verified against a CA
//     (client_ca_pem), or requested from everyone and passed on unverified for the handler to
//     check (request_any_client_certificate). See ServerOptions.
//   - Limits: see ServerOptions. Untrusted input never crashes the server.
//   - Access log: one line per response (for a stream: when it ends, with the body bytes the
//     producer wrote) on spdlog logger "access" (created with a stderr sink if missing): remote,
//     method, path and query (values of sensitive-looking parameters redacted), status, response
//     bytes, duration in µs, request id, user agent. No other header and no body is ever logged.
//
// Thread safety: all methods may be called from any thread, except that Wait() and the
// destructor must not be called from a handler (they wait for handlers to finish).
// Ownership: the Server owns the Router it was started with.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/secret.h"
#include "common/status.h"
#include "http/message.h"
#include "http/router.h"

namespace byok::http {

namespace internal {
class ServerCore;
}

struct ServerOptions {
  // IPv4 or IPv6 literal ("::1" or "[::1]"), or "localhost" (= 127.0.0.1 only).
  std::string listen_host = "127.0.0.1";
  uint16_t port = 0;                  // 0 = pick a free port
  std::string certificate_chain_pem;  // server cert (+ intermediates), PEM
  SecretBytes private_key_pem;        // its key, PEM (never logged)
  // If set (PEM, one or more CA certificates): client certificates are REQUESTED (not required)
  // and verified against it; unverifiable certificates are refused at handshake. The verified
  // leaf is passed to handlers in Request::client_cert_der.
  std::string client_ca_pem;
  // If true: every client is REQUESTED (not required) to present a certificate, with an EMPTY
  // list of acceptable CAs (Go's crypto/tls, i.e. kubectl, sends its certificate only when that
  // list is empty or names its issuer), and ANY certificate is accepted at the handshake:
  // self-signed, unknown issuer, expired — no chain verification happens there. The leaf (DER)
  // is passed to handlers in Request::client_cert_der, UNVERIFIED: a handler that relies on it
  // must verify it itself (e.g. the Kubernetes API against its cluster's CA). Clients without a
  // certificate (curl, az, the SDKs) are unaffected. Exclusive with client_ca_pem
  // (InvalidArgument when both are set).
  bool request_any_client_certificate = false;
  size_t max_header_bytes = 64 * 1024;      // request line + fields; beyond → 431 + close
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger → 413 before reading the body, then close
  size_t max_connections = 1024;            // beyond: accept and close at once
  // Streaming responses (Response::stream): bytes a producer may queue while earlier bytes are
  // still being sent (one write into an empty queue is always taken); beyond, the stream's
  // connection is closed (a client reading too slowly).
  size_t max_stream_queue_bytes = 4 * 1024 * 1024;
  // handshake: TCP accept → TLS established. header: from the end of the handshake (first
  // request) or the first byte (later requests) to the end of the header, in total. body: for
  // reading the body, and again for writing the response. idle: keep-alive wait for the next
  // request's first byte.
  std::chrono::milliseconds handshake_timeout{10000}, header_timeout{10000}, body_timeout{60000},
      idle_timeout{120000};
  // Asio threads (network I/O and kInline handlers), each with its own event loop; a connection
  // stays on the thread it was given at accept (round-robin). At least 1 is used.
  int io_threads = 2;
  int worker_threads = 8;  // handlers run here, never on I/O threads; at least 1 is used
};

class Server {
 public:
  // Binds, starts threads, returns once listening. Errors: InvalidArgument (bad certificate,
  // key or CA PEM, bad listen_host), Unavailable (address in use, cannot bind or listen).
  static Result<std::unique_ptr<Server>> Start(ServerOptions options, Router router);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Shutdown(0) + Wait().
  ~Server();

  // The bound port (the real one when ServerOptions::port was 0).
  uint16_t port() const;
  // The bound address, without brackets ("127.0.0.1", "::1").
  std::string host() const;

  // Graceful and non-blocking: stop accepting; in-flight requests (whose header was complete)
  // finish and get their response with "Connection: close"; open streams end (queued bytes, then
  // the terminating chunk); idle keep-alive connections are
  // closed; requests completing their header afterwards get 503; after `grace`, remaining
  // connections are closed. Idempotent: a later call can only shorten the grace period.
  void Shutdown(std::chrono::milliseconds grace);
  // Blocks until Shutdown completed: every connection closed, every handler returned, all
  // threads joined.
  void Wait();

 private:
  explicit Server(std::unique_ptr<internal::ServerCore> core);
  std::unique_ptr<internal::ServerCore> core_;
};

// For the fuzzer and unit tests: parses one HTTP/1.1 request from raw bytes with the same parser
// settings and normalization the server uses (Beast parser, header/body limits, host/path/query
// decoding). Request::request_id, remote_address and client_cert_der stay empty.
// Errors: InvalidArgument (malformed or incomplete: the server answers 400),
// ResourceExhausted (headers over max_header_bytes: 431; body over max_body_bytes: 413; the
// message says which).
Result<Request> ParseRequest(std::string_view wire, const ServerOptions& limits);

}  // namespace byok::http
