// Fuzz target: a disk file's header slot (blockstore/format.h), read from untrusted disk files.
// The first input byte picks the mode: even → the rest is a raw slot (framing, checksum,
// version); odd → the rest is a slot body, framed with a valid checksum by the harness so the
// fuzzer reaches the JSON body parser behind the SHA-256.
#include <cstdint>
#include <vector>

#include "blockstore/format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> rest(data + 1, size - 1);
  std::vector<uint8_t> framed;
  if (data[0] & 1) {
    auto slot = byok::blockstore::FrameHeaderSlot(rest, /*generation=*/size);
    if (!slot.ok()) return 0;
    framed = std::move(*slot);
    rest = framed;
  }
  auto header = byok::blockstore::ParseHeaderSlot(rest);
  if (!header.ok()) return 0;
  // A slot that parses encodes again, and the encoding is a fixed point of parse + encode.
  auto slot = byok::blockstore::EncodeHeaderSlot(*header);
  if (!slot.ok()) __builtin_trap();
  auto again = byok::blockstore::ParseHeaderSlot(*slot);
  if (!again.ok() || again->generation != header->generation) __builtin_trap();
  auto slot2 = byok::blockstore::EncodeHeaderSlot(*again);
  if (!slot2.ok() || *slot2 != *slot) __builtin_trap();
  return 0;
}
