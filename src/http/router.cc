#include "http/router.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace byok::http {
namespace {

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

[[noreturn]] void PatternError(std::string_view pattern, std::string_view what) {
  std::fprintf(stderr, "byok::http::Router: invalid route pattern '%.*s': %.*s\n",
               static_cast<int>(pattern.size()), pattern.data(), static_cast<int>(what.size()),
               what.data());
  std::abort();
}

// Splits "/a/b/c" into {"a","b","c"}; "/" into {}; drops one trailing empty segment ("/a/" ->
// {"a"}). REQUIRES: path starts with '/'.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  std::string_view rest = path.substr(1);
  if (rest.empty()) return out;
  while (true) {
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      out.push_back(rest);
      break;
    }
    out.push_back(rest.substr(0, slash));
    rest = rest.substr(slash + 1);
  }
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

}  // namespace

void Router::Add(std::string method, std::string host_pattern, std::string path_pattern,
                 Handler handler, Dispatch dispatch) {
  if (!handler) PatternError(path_pattern, "null handler");
  if (method.empty()) PatternError(path_pattern, "empty method");
  Route r;
  r.method = std::move(method);
  r.handler = std::move(handler);
  r.dispatch = dispatch;

  std::string host = LowerAscii(host_pattern);
  if (host == "*") {
    r.host_kind = HostKind::kAny;
  } else if (host.size() > 2 && host[0] == '*' && host[1] == '.') {
    r.host_kind = HostKind::kWildcard;
    r.host = host.substr(1);  // ".vault.localhost"
    if (r.host.find('*') != std::string::npos) PatternError(host_pattern, "one '*' at most");
  } else {
    if (host.empty() || host.find('*') != std::string::npos) {
      PatternError(host_pattern, "host must be '*', 'name' or '*.suffix'");
    }
    r.host_kind = HostKind::kExact;
    r.host = host;
  }

  if (path_pattern.empty() || path_pattern[0] != '/') {
    PatternError(path_pattern, "path must start with '/'");
  }
  std::set<std::string> names;
  if (r.host_kind == HostKind::kWildcard) names.insert("host_label");
  std::vector<std::string_view> parts = SplitPath(path_pattern);
  if (path_pattern.size() > 1 && path_pattern.back() == '/') {
    PatternError(path_pattern, "no trailing slash in patterns (one is tolerated in requests)");
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p.empty()) PatternError(path_pattern, "empty segment");
    if (p.front() == '{') {
      if (p.back() != '}' || p.size() < 3) PatternError(path_pattern, "bad capture");
      std::string_view name = p.substr(1, p.size() - 2);
      SegmentKind kind = SegmentKind::kCapture;
      if (name.front() == '*') {
        kind = SegmentKind::kRest;
        name.remove_prefix(1);
        if (i + 1 != parts.size()) PatternError(path_pattern, "{*rest} must be last");
      }
      if (name.empty() || name.find_first_of("{}*/") != std::string_view::npos) {
        PatternError(path_pattern, "bad capture name");
      }
      if (!names.insert(std::string(name)).second) {
        PatternError(path_pattern, "duplicate capture name");
      }
      r.segments.push_back({kind, std::string(name)});
    } else {
      if (p.find_first_of("{}") != std::string_view::npos) {
        PatternError(path_pattern, "braces inside a literal segment");
      }
      r.segments.push_back({SegmentKind::kLiteral, std::string(p)});
    }
  }
  routes_.push_back(std::move(r));
}

bool Router::MatchHost(const Route& r, std::string_view host, std::string* label) {
  switch (r.host_kind) {
    case HostKind::kAny:
      return true;
    case HostKind::kExact:
      return EqualsIgnoreCase(host, r.host);
    case HostKind::kWildcard: {
      if (host.size() <= r.host.size()) return false;
      std::string_view suffix = host.substr(host.size() - r.host.size());
      if (!EqualsIgnoreCase(suffix, r.host)) return false;
      std::string_view l = host.substr(0, host.size() - r.host.size());
      if (l.find('.') != std::string_view::npos) return false;
      if (label != nullptr) *label = std::string(l);
      return true;
    }
  }
  return false;
}

bool Router::MatchPath(const Route& r, std::string_view path,
                       const std::vector<std::string_view>& segments,
                       std::map<std::string, std::string>* params) {
  size_t i = 0;
  for (const Segment& s : r.segments) {
    if (s.kind == SegmentKind::kRest) {
      std::string_view rest;
      if (i < segments.size()) rest = path.substr(segments[i].data() - path.data());
      if (params != nullptr) (*params)[s.text] = std::string(rest);
      return true;
    }
    if (i >= segments.size()) return false;
    std::string_view seg = segments[i++];
    if (s.kind == SegmentKind::kLiteral) {
      if (!EqualsIgnoreCase(seg, s.text)) return false;
    } else {
      if (seg.empty()) return false;
      if (params != nullptr) (*params)[s.text] = std::string(seg);
    }
  }
  return i == segments.size();
}

int Router::CompareSpecificity(const Route& a, const Route& b) {
  if (a.host_kind != b.host_kind) {
    return static_cast<int>(b.host_kind) - static_cast<int>(a.host_kind);
  }
  auto rank = [](SegmentKind k) {
    switch (k) {
      case SegmentKind::kLiteral:
        return 2;
      case SegmentKind::kCapture:
        return 1;
      case SegmentKind::kRest:
        return 0;
    }
    return 0;
  };
  size_t n = std::min(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < n; ++i) {
    int ra = rank(a.segments[i].kind);
    int rb = rank(b.segments[i].kind);
    if (ra != rb) return rb - ra;
  }
  return 0;
}

Router::Match Router::Find(std::string_view method, std::string_view host,
                           std::string_view path) const {
  Match m;
  if (path.empty() || path[0] != '/') return m;
  std::vector<std::string_view> segments = SplitPath(path);
  const Route* best = nullptr;
  std::set<std::string> other_methods;
  // Matching only (no captures are copied); the winner's captures are taken once at the end.
  for (const Route& r : routes_) {
    if (!MatchHost(r, host, nullptr)) continue;
    if (!MatchPath(r, path, segments, nullptr)) continue;
    bool method_ok = r.method == "*" || r.method == method;
    if (!method_ok) {
      other_methods.insert(r.method);
      continue;
    }
    if (best != nullptr) {
      int c = CompareSpecificity(r, *best);
      if (c > 0) continue;
      if (c == 0) {
        // Same specificity: an exact method beats "*"; otherwise the earlier route wins.
        bool r_exact = r.method != "*";
        bool best_exact = best->method != "*";
        if (!(r_exact && !best_exact)) continue;
      }
    }
    best = &r;
  }
  if (best != nullptr) {
    std::string label;
    MatchHost(*best, host, &label);
    MatchPath(*best, path, segments, &m.params);
    if (best->host_kind == HostKind::kWildcard) m.params["host_label"] = std::move(label);
    m.handler = &best->handler;
    m.dispatch = best->dispatch;
    return m;
  }
  if (!other_methods.empty()) {
    m.path_matched_other_method = true;
    m.allowed_methods.assign(other_methods.begin(), other_methods.end());
  }
  return m;
}

}  // namespace byok::http
