// Internal to byok_http: serializing a Response's status line and header block, with the fields
// every byok response carries. No Boost here.
//
// Fields written, in order: the handler's own fields (minus those the server owns, and minus
// fields with an invalid name or a value containing CR, LF or NUL), then x-ms-request-id,
// x-ms-client-request-id (when the client sent one), x-ms-correlation-request-id (the client's,
// else the request id), Date, Server: byok, Content-Length (not for 1xx/204/304; for a streaming
// response "Transfer-Encoding: chunked" instead, and nothing at all to an HTTP/1.0 client, whose
// body ends with the connection) and Connection when it differs from the version's default. The
// status line is always "HTTP/1.1" (RFC 9110 section 2.5: a server sends its own version).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace byok::http::internal {

struct ResponseContext {
  std::string_view request_id;
  std::string_view client_request_id;  // echoed when not empty
  std::string_view correlation_id;     // echoed when not empty, else request_id is used
  int request_version = 11;            // 10 or 11
  bool keep_alive = true;              // false → "Connection: close"
  bool head = false;    // HEAD: Content-Length of the body a GET would get; no body is sent
  bool stream = false;  // a streaming body (Response::stream) follows: no Content-Length
  std::chrono::system_clock::time_point now;
};

// True when a response with this status (to this method) carries the body bytes.
bool ResponseHasBody(int status, bool head);

// "HTTP/1.1 <status> <reason>\r\n<fields>\r\n". `dropped` (optional) receives the names of
// handler fields that were invalid. REQUIRES: 100 <= r.status <= 999.
std::string SerializeResponseHead(const Response& r, const ResponseContext& ctx,
                                  std::vector<std::string>* dropped);

// IMF-fixdate (RFC 9110 section 5.6.7), independent of the C locale.
std::string HttpDate(std::chrono::system_clock::time_point t);

// The standard reason phrase, or "Unknown".
std::string_view ReasonPhrase(int status);

// Token characters only (RFC 9110 section 5.6.2).
bool ValidFieldName(std::string_view name);
// No CR, LF or NUL.
bool ValidFieldValue(std::string_view value);

}  // namespace byok::http::internal
