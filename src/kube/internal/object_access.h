// Small accessors the kube controllers (provisioner.cc, volumes.cc) share: a string field of a
// stored object by path, and a served kind that must exist.
//
// Thread safety: pure functions.
#pragma once

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "kube/kinds.h"

namespace byok::kube::internal {

// The string at `path` in `j` ("" when a step is missing, not an object, or not a string).
inline std::string Str(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* cur = &j;
  for (const char* p : path) {
    if (!cur->is_object()) return "";
    auto it = cur->find(p);
    if (it == cur->end()) return "";
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

// The served v1 kind of (group, resource). A kind byok does not serve is a programming error:
// logged, then abort.
inline const Kind& KindOf(std::string_view group, std::string_view resource) {
  const Kind* k = FindKind(group, "v1", resource);
  if (k == nullptr) {
    spdlog::critical("kube kind {}/{} is not served", group, resource);
    std::abort();
  }
  return *k;
}

}  // namespace byok::kube::internal
