#include "http/internal/request_normalize.h"

#include <cstdint>

namespace byok::http::internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsRegNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

// RFC 3986 port = *DIGIT; we also require it to fit in 16 bits.
bool ValidPort(std::string_view port) {
  if (port.size() > 5) return false;
  uint32_t v = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v <= 65535;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return Status::InvalidArgument("truncated percent-escape");
      }
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return Status::InvalidArgument("invalid percent-escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    BYOK_ASSIGN_OR_RETURN(std::string name, PercentDecode(raw_name, /*plus_is_space=*/true));
    BYOK_ASSIGN_OR_RETURN(std::string value, PercentDecode(raw_value, /*plus_is_space=*/true));
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

Result<std::string> NormalizeHost(std::string_view value) {
  std::string host;
  std::string_view port;
  bool has_port = false;
  if (!value.empty() && value.front() == '[') {
    size_t close = value.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("bad Host: unclosed '['");
    std::string_view literal = value.substr(1, close - 1);
    if (literal.empty() || literal.find(':') == std::string_view::npos) {
      return Status::InvalidArgument("bad Host: not an IPv6 literal");
    }
    for (char c : literal) {
      if (!IsIpv6Char(c)) return Status::InvalidArgument("bad Host: not an IPv6 literal");
    }
    host.assign(literal);
    std::string_view after = value.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::InvalidArgument("bad Host: junk after ']'");
      has_port = true;
      port = after.substr(1);
    }
  } else {
    size_t colon = value.find(':');
    std::string_view name = value.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = value.substr(colon + 1);
    }
    for (char c : name) {
      if (!IsRegNameChar(c)) return Status::InvalidArgument("bad Host: invalid character");
    }
    host.assign(name);
    if (!host.empty() && host.back() == '.') host.pop_back();
  }
  if (has_port && !ValidPort(port)) return Status::InvalidArgument("bad Host: invalid port");
  for (char& c : host) c = LowerAscii(c);
  return host;
}

Status NormalizeRequest(Request& req) {
  req.path.clear();
  req.query.clear();
  req.host.clear();

  std::vector<std::string> hosts = req.headers.GetAll("Host");
  if (hosts.size() > 1) return Status::InvalidArgument("more than one Host header");
  if (hosts.empty() && req.version >= 11) return Status::InvalidArgument("missing Host header");
  if (!hosts.empty()) {
    BYOK_ASSIGN_OR_RETURN(req.host, NormalizeHost(hosts.front()));
  }

  std::string_view target = req.target;
  if (target.empty()) return Status::InvalidArgument("empty request-target");
  if (req.method == "CONNECT") {
    // authority-form: "host:port"; no path. RFC 9110 section 9.3.6.
    BYOK_ASSIGN_OR_RETURN(req.host, NormalizeHost(target));
    return Status::Ok();
  }
  if (target == "*") {
    req.path.assign(1, '*');  // not = "*": GCC 12 -O3 -Wrestrict false positive
    return Status::Ok();
  }
  if (target.front() != '/') {
    // absolute-form. RFC 9112 section 3.2.2: the authority replaces any Host header.
    size_t scheme_len = 0;
    if (StartsWithIgnoreCase(target, "https://")) {
      scheme_len = 8;
    } else if (StartsWithIgnoreCase(target, "http://")) {
      scheme_len = 7;
    } else {
      return Status::InvalidArgument("request-target is not origin-form or absolute-form");
    }
    target.remove_prefix(scheme_len);
    size_t end = target.find_first_of("/?");
    std::string_view authority = target.substr(0, end);
    if (authority.find('@') != std::string_view::npos) {
      return Status::InvalidArgument("userinfo in request-target");
    }
    BYOK_ASSIGN_OR_RETURN(req.host, NormalizeHost(authority));
    target = end == std::string_view::npos ? std::string_view() : target.substr(end);
  }

  size_t qmark = target.find('?');
  std::string_view raw_path = target.substr(0, qmark);
  std::string_view raw_query =
      qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  // A fragment is never sent by conforming clients; drop it rather than treat it as data.
  if (size_t hash = raw_query.find('#'); hash != std::string_view::npos) {
    raw_query = raw_query.substr(0, hash);
  }
  if (size_t hash = raw_path.find('#'); hash != std::string_view::npos) {
    raw_path = raw_path.substr(0, hash);
    raw_query = {};
  }
  if (raw_path.empty()) raw_path = "/";

  BYOK_ASSIGN_OR_RETURN(req.path, PercentDecode(raw_path, /*plus_is_space=*/false));
  for (char c : req.path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("control character in path");
    }
  }
  BYOK_ASSIGN_OR_RETURN(req.query, ParseQuery(raw_query));
  return Status::Ok();
}

}  // namespace byok::http::internal
