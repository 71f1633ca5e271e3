// Fuzz target: the NBD parsers of client messages (nbd/protocol.h) — transmission request
// headers, option headers and NBD_OPT_GO/INFO data, all from unauthenticated clients.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "nbd/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  using namespace byok::nbd;
  if (auto r = ParseRequest(in); r.ok()) {
    // Only an exact, well-formed header parses, and it encodes back to the same bytes.
    if (size != kRequestHeaderSize) __builtin_trap();
    auto again = EncodeRequest(*r);
    if (!std::equal(again.begin(), again.end(), in.begin())) __builtin_trap();
  }
  if (size >= kRequestHeaderSize) (void)ParseRequest(in.first(kRequestHeaderSize));
  if (size >= kOptionHeaderSize) {
    if (auto h = ParseOptionHeader(in.first(kOptionHeaderSize)); h.ok()) {
      if (h->length > kMaxOptionDataSize) __builtin_trap();
      auto again = EncodeOptionHeader(*h);
      if (!std::equal(again.begin(), again.end(), in.begin())) __builtin_trap();
    }
  }
  if (auto go = ParseGoOption(in); go.ok()) {
    if (go->export_name.size() > kMaxStringLength) __builtin_trap();
    if (EncodeGoOption(*go) != std::vector<uint8_t>(in.begin(), in.end())) __builtin_trap();
  }
  // The option data as it follows an option header.
  if (size > kOptionHeaderSize) (void)ParseGoOption(in.subspan(kOptionHeaderSize));
  return 0;
}
