// Fuzz target: the REST path parser of each cluster's Kubernetes API (kube/internal/path.h).
#include <cstdint>
#include <string>
#include <string_view>

#include "kube/internal/path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using byok::kube::internal::ParsePath;
  using byok::kube::internal::Route;
  auto p = ParsePath(text);
  // The segments give the input back.
  std::string joined;
  for (size_t i = 0; i < p.segments.size(); ++i) {
    if (i > 0) joined += '/';
    joined += p.segments[i];
  }
  if (joined != text) __builtin_trap();
  if (p.route == Route::kResource) {
    const auto& t = p.target;
    if (t.kind == nullptr) __builtin_trap();
    if (!t.ns.empty() && !t.kind->namespaced) __builtin_trap();
    if (!t.subresource.empty() && t.name.empty()) __builtin_trap();
  }
  return 0;
}
