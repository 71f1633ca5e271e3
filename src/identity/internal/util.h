// Internal to byok_identity: small string and time helpers shared by its .cc files.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/status.h"
#include "http/message.h"

namespace byok::identity::internal {

std::string ToLowerAscii(std::string_view s);
std::string_view TrimSpaces(std::string_view s);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// At most max_chars bytes of s, with "..." appended when cut (for echoing client input).
std::string Truncate(std::string_view s, size_t max_chars = 256);

// Lower-cased, one trailing '/' removed: how audiences and URLs are compared.
std::string NormalizeUrlForCompare(std::string_view url);

// .NET's invariant "M/d/yyyy h:mm:ss tt" in UTC ("6/15/2026 8:22:51 AM"), as ARM writes token
// times in its messages.
std::string FormatDotNetUtc(int64_t unix_seconds);
// "2024-01-02T03:04:05Z" (Graph's dateTimeOffset as it renders it).
std::string FormatIsoSeconds(TimePoint t);
// "2024-01-02 03:04:05Z" (Entra's error timestamp).
std::string FormatEntraTimestamp(TimePoint t);

// A header parameter value: control characters removed, '"' and '\' escaped.
std::string QuoteHeaderValue(std::string_view s);

// The authority ("host[:port]") the client used: the Host header as sent (lower-cased), else
// the normalized host. Empty if neither (HTTP/1.0 without Host).
std::string RequestAuthority(const http::Request& req);

// application/x-www-form-urlencoded: "a=1&b=x%20y" → {{"a","1"},{"b","x y"}}; '+' is a space.
// InvalidArgument on a bad %-escape.
Result<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body);
// Percent-decoding ('+' not special). InvalidArgument on a bad escape.
Result<std::string> PercentDecode(std::string_view in);
// The first value of `name` (exact match), if any.
std::optional<std::string> FormValue(const std::vector<std::pair<std::string, std::string>>& form,
                                     std::string_view name);

// The client's request id: x-ms-client-request-id, else client-request-id, else the server's.
std::string ClientRequestId(const http::Request& req);

// Graph's error envelope {"error":{"code","message","innerError":{"date","request-id",
// "client-request-id"}}} with e.http_status.
http::Response GraphErrorResponse(const http::Request& req, const ApiError& e, TimePoint now);

}  // namespace byok::identity::internal
