// Fuzz target: the JSON request-body entry point every API uses.
#include <cstdint>
#include <string_view>

#include "common/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = byok::ParseJsonBody(text);
  if (r.ok()) {
    // Whatever parsed must serialize and re-parse to the same value.
    std::string again = byok::DumpJson(*r);
    auto r2 = byok::ParseJsonBody(again);
    if (!r2.ok() || *r2 != *r) __builtin_trap();
  }
  return 0;
}
