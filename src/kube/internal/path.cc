#include "kube/internal/path.h"

#include <algorithm>

namespace byok::kube::internal {
namespace {

std::vector<std::string> SplitSegments(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t pos = s.find('/', start);
    if (pos == std::string_view::npos) pos = s.size();
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

}  // namespace

std::optional<Target> ParseResourcePath(std::string_view group, std::string_view version,
                                        const std::vector<std::string>& segs) {
  Target t;
  size_t i = 0;
  if (segs.size() >= 3 && segs[0] == "namespaces" && segs[2] != "status" && segs[2] != "finalize") {
    if (segs[1].empty()) return std::nullopt;  // "namespaces//x": no route
    t.ns = segs[1];
    i = 2;
  }
  if (i >= segs.size()) return std::nullopt;
  t.kind = FindKind(group, version, segs[i]);
  if (t.kind == nullptr) return std::nullopt;
  if (!t.ns.empty() && !t.kind->namespaced) return std::nullopt;
  if (i + 1 < segs.size()) t.name = segs[i + 1];
  if (i + 2 < segs.size()) t.subresource = segs[i + 2];
  if (i + 3 < segs.size()) return std::nullopt;
  if (!t.subresource.empty() && std::find(t.kind->subresources.begin(), t.kind->subresources.end(),
                                          t.subresource) == t.kind->subresources.end()) {
    return std::nullopt;
  }
  if (t.name.empty() && segs.size() > i + 1) return std::nullopt;
  return t;
}

ParsedPath ParsePath(std::string_view rest) {
  ParsedPath p;
  p.segments = SplitSegments(rest);
  const std::vector<std::string>& segs = p.segments;
  if (segs[0] == "openapi") {
    p.route = Route::kOpenApi;
    return p;
  }
  if (segs[0] != "api" && segs[0] != "apis") return p;
  const bool core = segs[0] == "api";
  if (segs.size() == 1 || segs.size() == 2 || (!core && segs.size() == 3)) {
    p.route = Route::kDiscovery;
    return p;
  }
  std::string group = core ? "" : segs[1];
  std::string version = core ? segs[1] : segs[2];
  std::vector<std::string> tail(segs.begin() + (core ? 2 : 3), segs.end());
  std::optional<Target> t = ParseResourcePath(group, version, tail);
  if (!t.has_value()) return p;
  p.route = Route::kResource;
  p.target = std::move(*t);
  return p;
}

}  // namespace byok::kube::internal
