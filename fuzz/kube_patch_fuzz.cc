// Fuzz target: the PATCH flavours of the Kubernetes API (kube/patch.h) on an arbitrary object and
// patch. Input: the object's JSON, a NUL byte, the patch's JSON (both through ParseJsonBody, as
// request bodies and stored objects are).
#include <cstdint>
#include <string_view>

#include "common/clock.h"
#include "common/json.h"
#include "kube/kinds.h"
#include "kube/patch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  if (nul == std::string_view::npos) return 0;
  auto object = byok::ParseJsonBody(in.substr(0, nul));
  auto patch = byok::ParseJsonBody(in.substr(nul + 1));
  if (!object.ok() || !patch.ok()) return 0;
  const byok::kube::Kind* kind = byok::kube::FindKind("", "v1", "persistentvolumeclaims");
  if (kind == nullptr) __builtin_trap();
  const byok::TimePoint now{};
  auto check = [&](const byok::Result<nlohmann::json>& r) {
    if (!r.ok()) return;
    (void)byok::DumpJson(*r);  // a result serializes
    nlohmann::json updated = *r;
    byok::kube::RecordUpdateManager(*kind, *object, updated, "fuzz", now);
  };
  check(byok::kube::ApplyJsonPatch(*object, *patch));
  check(byok::kube::ApplyMergePatch(*object, *patch));
  check(byok::kube::ApplyStrategicMergePatch(*kind, *object, *patch));
  auto applied = byok::kube::ServerSideApply(*kind, *object, *patch, "fuzz", now);
  check(applied);
  if (applied.ok()) {
    // Applying the same configuration again by the same manager applies cleanly.
    check(byok::kube::ServerSideApply(*kind, *applied, *patch, "fuzz", now));
  }
  return 0;
}
