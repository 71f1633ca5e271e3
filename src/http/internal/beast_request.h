// Internal to byok_http: the Beast request parser as the server configures it, and the
// conversion of a parsed Beast message into a byok::http::Request. Shared by ParseRequest (the
// fuzz entry point) and the server's connections, so both parse and normalize identically.
//
// Thread safety: pure functions on caller-owned objects.
#pragma once

// Boost 1.74 + GCC 12: Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/api_error.h"
#include "common/status.h"
#include "http/message.h"
#include "http/server.h"

namespace byok::http::internal {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Header and body limits from `options`.
void ConfigureParser(BeastParser& parser, const ServerOptions& options);

// A parse error from Beast → the http layer's error: header_limit → 431, body_limit → 413,
// anything else → 400.
ApiError ParseErrorToApiError(const boost::system::error_code& ec, const ServerOptions& options);

// Moves method, target, version, header fields and body out of `msg` into a Request and
// normalizes it (NormalizeRequest). InvalidArgument (→ 400) when it does not normalize.
Result<Request> ToRequest(BeastRequest&& msg);

}  // namespace byok::http::internal
