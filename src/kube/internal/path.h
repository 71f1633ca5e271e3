// The path grammar of the per-cluster REST surface (rest.h), relative to the cluster prefix and
// without the leading '/':
//
//   openapi[/...]                                  → kOpenApi (rest.cc serves v3 documents)
//   api | apis | api/{v} | apis/{g} | apis/{g}/{v} → kDiscovery
//   api/{v}/[namespaces/{ns}/]{resource}[/{name}[/{subresource}]]
//   apis/{g}/{v}/[namespaces/{ns}/]{resource}[/{name}[/{subresource}]]
//                                                  → kResource, when {resource} is a served kind
//                                                    of that group/version (kinds.h), {ns} is only
//                                                    given for namespaced kinds and {subresource}
//                                                    is one the kind has
//   anything else                                  → kNotFound
// "namespaces/{ns}/status" and ".../finalize" are the namespace's own subresources, not a
// namespace prefix. Segments are split at '/' as they come (no decoding, empty segments kept).
//
// Contract (checked by fuzz/kube_path_fuzz.cc): ParsePath never fails or throws on any input;
// kResource always has a non-null kind, a namespace only for namespaced kinds, a subresource only
// with a name, and the segments joined with '/' give back the input.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/kinds.h"

namespace byok::kube::internal {

// What a resource path names.
struct Target {
  const Kind* kind = nullptr;
  std::string ns;           // "" outside a namespace
  std::string name;         // "" for the collection
  std::string subresource;  // "status", ...
};

// The resource part after "api/{v}" or "apis/{g}/{v}", as segments; nullopt when it names nothing
// served.
std::optional<Target> ParseResourcePath(std::string_view group, std::string_view version,
                                        const std::vector<std::string>& segments);

enum class Route { kNotFound, kDiscovery, kOpenApi, kResource };

struct ParsedPath {
  Route route = Route::kNotFound;
  std::vector<std::string> segments;  // the whole path split at '/'
  Target target;                      // kResource only
};

ParsedPath ParsePath(std::string_view rest);

}  // namespace byok::kube::internal
