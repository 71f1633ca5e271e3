#include "identity/internal/util.h"

#include <ctime>

#include <fmt/format.h>

namespace byok::identity::internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::tm UtcTm(int64_t unix_seconds) {
  std::time_t tt = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string ToLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Truncate(std::string_view s, size_t max_chars) {
  if (s.size() <= max_chars) return std::string(s);
  return std::string(s.substr(0, max_chars)) + "...";
}

std::string NormalizeUrlForCompare(std::string_view url) {
  std::string out = ToLowerAscii(url);
  if (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::string FormatDotNetUtc(int64_t unix_seconds) {
  std::tm tm = UtcTm(unix_seconds);
  int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
  return fmt::format("{}/{}/{} {}:{:02}:{:02} {}", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900,
                     hour12, tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
}

std::string FormatIsoSeconds(TimePoint t) {
  std::tm tm = UtcTm(UnixSeconds(t));
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string FormatEntraTimestamp(TimePoint t) {
  std::tm tm = UtcTm(UnixSeconds(t));
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string QuoteHeaderValue(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) continue;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string RequestAuthority(const http::Request& req) {
  std::vector<std::string> hosts = req.headers.GetAll("Host");
  if (hosts.size() == 1) {
    std::string_view h = TrimSpaces(hosts.front());
    bool clean = !h.empty();
    for (char c : h) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7f || c == '/' || c == '@' || c == '"' || c == '\\') clean = false;
    }
    if (clean) return ToLowerAscii(h);
  }
  if (req.host.find(':') != std::string::npos) return "[" + req.host + "]";
  return req.host;
}

Result<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (in.size() - i < 3) return Status::InvalidArgument("truncated percent-escape");
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("invalid percent-escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view piece = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string raw_name(piece.substr(0, eq));
    std::string raw_value(eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1));
    for (char& c : raw_name) c = c == '+' ? ' ' : c;
    for (char& c : raw_value) c = c == '+' ? ' ' : c;
    BYOK_ASSIGN_OR_RETURN(std::string name, PercentDecode(raw_name));
    BYOK_ASSIGN_OR_RETURN(std::string value, PercentDecode(raw_value));
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::optional<std::string> FormValue(const std::vector<std::pair<std::string, std::string>>& form,
                                     std::string_view name) {
  for (const auto& [n, v] : form) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string ClientRequestId(const http::Request& req) {
  for (const char* name : {"x-ms-client-request-id", "client-request-id"}) {
    if (auto v = req.headers.Get(name); v && !v->empty()) return Truncate(*v, 128);
  }
  return req.request_id;
}

http::Response GraphErrorResponse(const http::Request& req, const ApiError& e, TimePoint now) {
  std::string date = FormatIsoSeconds(now);
  date.pop_back();  // Graph writes innerError.date without the 'Z'
  nlohmann::json body = {{"error",
                          {{"code", e.code},
                           {"message", e.message},
                           {"innerError",
                            {{"date", date},
                             {"request-id", req.request_id},
                             {"client-request-id", ClientRequestId(req)}}}}}};
  return http::Response::Json(e.http_status, body);
}

}  // namespace byok::identity::internal
