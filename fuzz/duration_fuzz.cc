// Fuzz target: durations and timestamps typed by users (`byok clock advance`, `byok audit
// --since`, the admin API) and read from rotation-policy bodies.
#include <cstdint>
#include <string_view>

#include "common/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = byok::ParseDuration(text); d.ok()) {
    // The compact form written back parses to the same duration.
    auto again = byok::ParseDuration(byok::FormatDuration(*d));
    if (!again.ok() || *again != *d) __builtin_trap();
  }
  (void)byok::ParseTimestamp(text);
  return 0;
}
