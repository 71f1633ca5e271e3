// The http layer's error table: every error the server itself answers (as opposed to errors a
// handler returns) is one ErrorSpec here, rendered as the Azure envelope
// {"error":{"code":...,"message":...}} by Response::Error(MakeError(spec, args...)).
//
// Thread safety: constants.
#pragma once

#include "common/api_error.h"

namespace byok::http::errors {

// No route matches the request's host and path. Arg: the request path.
inline constexpr ErrorSpec kNotFound{"NotFound", 404,
                                     "The requested resource '{}' was not found on this server."};
// A route matches the path but not the method. Arg: the method.
inline constexpr ErrorSpec kMethodNotAllowed{
    "MethodNotAllowed", 405, "The requested resource does not support http method '{}'."};
// Content-Length (or the chunked body read so far) exceeds ServerOptions::max_body_bytes.
// Arg: the limit in bytes.
inline constexpr ErrorSpec kRequestBodyTooLarge{
    "RequestBodyTooLarge", 413,
    "The request body is too large. The maximum allowed size is {} bytes."};
// The request line plus header fields exceed ServerOptions::max_header_bytes. Arg: the limit.
inline constexpr ErrorSpec kRequestHeadersTooLarge{
    "RequestHeaderFieldsTooLarge", 431,
    "The request headers are too large. The maximum allowed size is {} bytes."};
// The request cannot be parsed (request line, header syntax, framing, Host, percent-encoding).
// Arg: what is wrong.
inline constexpr ErrorSpec kBadRequest{"BadRequest", 400, "The request is malformed: {}."};
// An Expect header other than 100-continue. Arg: its value.
inline constexpr ErrorSpec kExpectationFailed{
    "ExpectationFailed", 417, "The expectation '{}' given in the Expect header is not supported."};
// Plain HTTP sent to the TLS port (answered in plain text, then the connection is closed).
inline constexpr ErrorSpec kHttpsRequired{
    "HttpsRequired", 400, "This server accepts HTTPS only. Use https:// to reach it."};
// A handler threw or returned an unusable response. No args (details go to the log only).
inline constexpr ErrorSpec kInternalServerError{
    "InternalServerError", 500,
    "The server encountered an internal error. Please retry the request."};
// The request arrived after Shutdown() began. No args.
inline constexpr ErrorSpec kServerShuttingDown{
    "ServiceUnavailable", 503, "The server is shutting down. Please retry the request later."};
// For handlers that shed load. No args.
inline constexpr ErrorSpec kServerBusy{
    "ServerBusy", 503,
    "The server is currently unable to receive requests. Please retry your request."};

}  // namespace byok::http::errors
