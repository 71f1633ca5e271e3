// Internal to byok_http: turning a parsed request-target and Host header into Request::path,
// Request::query and Request::host. No Boost here, so it is cheap to compile and easy to test.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace byok::http::internal {

// Decodes %XX escapes (and '+' as space when plus_is_space). InvalidArgument on a truncated or
// non-hex escape.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// "a=1&b=x%20y&flag" → {{"a","1"},{"b","x y"},{"flag",""}}; empty pieces are skipped; '+' is a
// space. InvalidArgument on a bad escape.
Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

// A Host header value (or an absolute-form authority) → lower-case host without port, IPv6
// brackets removed, one trailing dot removed. InvalidArgument on anything that is not
// reg-name[:port] or [IPv6]:port (userinfo, bad characters, non-numeric or too large port).
Result<std::string> NormalizeHost(std::string_view value);

// Fills req.path, req.query and req.host from req.method, req.target, req.version and the Host
// header(s) in req.headers. Origin-form ("/p?q"), absolute-form ("https://h:1/p?q"; its
// authority replaces Host), authority-form (CONNECT only; path stays empty) and asterisk-form
// ("*", path "*") are accepted. InvalidArgument (→ 400) with a short reason otherwise: missing
// or repeated Host on HTTP/1.1, bad percent-encoding, a control character in the decoded path.
Status NormalizeRequest(Request& req);

}  // namespace byok::http::internal
