// Fuzz target: label and field selectors (kube/internal/selector.h). The input is the selector
// text; after a NUL byte, an optional JSON object to match it against.
#include <cstdint>
#include <string_view>

#include "common/json.h"
#include "kube/internal/selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view text = in.substr(0, in.find('\0'));
  nlohmann::json obj = {{"metadata", {{"name", "data"}, {"labels", {{"app", "db"}}}}}};
  if (text.size() < in.size()) {
    auto parsed = byok::ParseJsonBody(in.substr(text.size() + 1));
    if (parsed.ok()) obj = std::move(parsed).value();
  }
  using namespace byok::kube::internal;
  for (bool fields : {false, true}) {
    auto reqs = ParseSelector(text, fields);
    if (!reqs.has_value()) continue;
    for (const Requirement& r : *reqs) {
      if (r.key.empty()) __builtin_trap();
      if ((r.op == "=" || r.op == "!=") && r.values.size() != 1) __builtin_trap();
      if (fields && r.op != "=" && r.op != "!=") __builtin_trap();
      (void)Matches(r, fields ? FieldOf(obj, r.key) : LabelOf(obj, r.key));
    }
  }
  return 0;
}
