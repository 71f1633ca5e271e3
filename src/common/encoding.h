// Byte encodings: base64 (RFC 4648 section 4), base64url without padding (section 5, as JOSE
// uses it), and lower-case hex. Decoders reject malformed input instead of guessing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace byok {

std::string Base64Encode(std::span<const uint8_t> data);
// Accepts padded input only; whitespace is not allowed.
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

std::string Base64UrlEncode(std::span<const uint8_t> data);
// Accepts input with or without '=' padding.
Result<std::vector<uint8_t>> Base64UrlDecode(std::string_view text);

std::string HexEncode(std::span<const uint8_t> data);
Result<std::vector<uint8_t>> HexDecode(std::string_view text);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string ToString(std::span<const uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace byok
