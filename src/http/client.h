// A small synchronous HTTPS client: for byok's own tools (`byok status` probing a server) and for
// byokd services that call other byok APIs over the wire with tokens.
//
// One request per call on a fresh TLS connection (TLS 1.2+, the server certificate verified
// against the given CA and the URL's host name or IP address). No redirects, no proxies, no h2.
// Thread-safe: calls share nothing.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/message.h"

namespace byok::http {

struct ClientOptions {
  std::string ca_file;                       // PEM file of the CA to trust (required)
  std::chrono::milliseconds timeout{10000};  // whole request: connect, handshake, exchange
  size_t max_response_bytes = 64 * 1024 * 1024;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

// url: "https://HOST[:PORT]/path?query" (HOST may be a name, an IPv4 or a bracketed IPv6
// address). Errors: InvalidArgument (bad URL), Unavailable (connection refused, timeout, TLS or
// certificate failure — the message says which).
Result<ClientResponse> HttpsRequest(std::string_view method, std::string_view url,
                                    const Headers& headers, std::string_view body,
                                    const ClientOptions& options);

}  // namespace byok::http
