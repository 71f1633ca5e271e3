// Internal to byok_http: the access log line and the loggers the server writes to.
//
// One line per response on spdlog logger "access" (info level):
//   <remote> "<METHOD> <path?query>" <status> <response body bytes> <duration>us <request id>
//   "<user agent>"[ oid=<principal>]
// The oid field is present when the handler named the authenticated caller
// (Response::log_principal); it is an object id, never a credential.
// The path and query are the raw request-target with the values of sensitive-looking query
// parameters replaced by "REDACTED"; quotes, backslashes and non-printable bytes are escaped and
// long fields truncated. Nothing else from the request (no header but User-Agent, no body) is
// logged.
//
// Thread safety: all functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace byok::http::internal {

struct AccessRecord {
  std::string_view remote;
  std::string_view method;  // empty when the request line could not be parsed
  std::string_view target;  // raw request-target
  int status = 0;
  size_t response_bytes = 0;
  int64_t duration_us = 0;
  std::string_view request_id;
  std::string_view user_agent;
  std::string_view principal;  // Response::log_principal; empty: no oid field
};

// True for query parameter names whose values must not be logged (client_secret, password,
// code, sig, token, assertion, ...). Case-insensitive.
bool IsSensitiveParameter(std::string_view decoded_name);

// The target with sensitive query values replaced by "REDACTED".
std::string RedactTarget(std::string_view target);

std::string FormatAccessLine(const AccessRecord& r);

// Writes FormatAccessLine(r) to logger "access".
void LogAccess(const AccessRecord& r);

// Logger "access" / "byok"; created with a stderr sink if nobody registered them.
std::shared_ptr<spdlog::logger> AccessLogger();
std::shared_ptr<spdlog::logger> ByokLogger();

}  // namespace byok::http::internal
