#include "http/internal/response_head.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace byok::http::internal {
namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Fields the server owns; a handler's values for them are ignored.
bool IsManagedField(std::string_view name) {
  static constexpr std::string_view kManaged[] = {"content-length",
                                                  "transfer-encoding",
                                                  "connection",
                                                  "keep-alive",
                                                  "upgrade",
                                                  "trailer",
                                                  "te",
                                                  "date",
                                                  "server",
                                                  "proxy-connection",
                                                  "x-ms-request-id",
                                                  "x-ms-client-request-id",
                                                  "x-ms-correlation-request-id"};
  for (std::string_view m : kManaged) {
    if (EqualsIgnoreCase(name, m)) return true;
  }
  return false;
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

bool ValidFieldName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsTokenChar);
}

bool ValidFieldValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool ResponseHasBody(int status, bool head) {
  return !head && status >= 200 && status != 204 && status != 304;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Entity";
    case 423:
      return "Locked";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string HttpDate(std::chrono::system_clock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[tm.tm_wday % 7],
                     tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

std::string SerializeResponseHead(const Response& r, const ResponseContext& ctx,
                                  std::vector<std::string>* dropped) {
  std::string out;
  out.reserve(256 + r.headers.size() * 48);
  out.append(fmt::format("HTTP/1.1 {} {}\r\n", r.status, ReasonPhrase(r.status)));
  bool no_content = r.status < 200 || r.status == 204 || r.status == 304;
  for (const auto& [name, value] : r.headers) {
    if (IsManagedField(name)) continue;
    if (!ValidFieldName(name) || !ValidFieldValue(value)) {
      if (dropped != nullptr) dropped->push_back(name.substr(0, 64));
      continue;
    }
    if (no_content && EqualsIgnoreCase(name, "content-type")) continue;
    AppendField(out, name, value);
  }
  AppendField(out, "x-ms-request-id", ctx.request_id);
  if (!ctx.client_request_id.empty()) {
    AppendField(out, "x-ms-client-request-id", ctx.client_request_id);
  }
  AppendField(out, "x-ms-correlation-request-id",
              ctx.correlation_id.empty() ? ctx.request_id : ctx.correlation_id);
  AppendField(out, "Date", HttpDate(ctx.now));
  AppendField(out, "Server", "byok");
  // RFC 9110 section 8.6: no Content-Length in 1xx and 204; for 304 it would describe the
  // selected representation, which we do not track. HEAD gets the length a GET would get.
  if (!no_content && ctx.stream) {
    if (ctx.request_version >= 11) AppendField(out, "Transfer-Encoding", "chunked");
  } else if (!no_content) {
    AppendField(out, "Content-Length", std::to_string(r.body.size()));
  }
  if (!ctx.keep_alive) {
    AppendField(out, "Connection", "close");
  } else if (ctx.request_version == 10) {
    AppendField(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
  return out;
}

}  // namespace byok::http::internal
