// Fuzz target: ARM resource-id parsing.
#include <cstdint>
#include <string_view>

#include "arm/resource_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = byok::arm::ResourceId::Parse(text);
  if (!r.ok()) return 0;
  // Invariants: the canonical form re-parses to an equal id; parents terminate.
  auto again = byok::arm::ResourceId::Parse(r->ToString());
  if (!again.ok() || !(*again == *r)) __builtin_trap();
  byok::arm::ResourceId cur = *r;
  for (int i = 0; i < 10000 && cur.kind() != byok::arm::ResourceId::Kind::kTenant; ++i) {
    if (!r->IsWithin(cur)) __builtin_trap();
    cur = cur.Parent();
  }
  (void)r->ResourceType();
  (void)r->Name();
  return 0;
}
