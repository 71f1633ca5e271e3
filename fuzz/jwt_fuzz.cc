// Fuzz target: the JWT (JWS compact) parser that every authenticated request goes through.
#include <cstdint>
#include <string_view>

#include "crypto/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = byok::crypto::ParseJwt(text);
  if (!r.ok()) return 0;
  // A parsed token is well-formed: objects for header and claims, RS256, a signature.
  if (!r->header.is_object() || !r->claims.is_object()) __builtin_trap();
  if (r->header.value("alg", "") != "RS256") __builtin_trap();
  (void)byok::crypto::ValidateTimeClaims(r->claims, 1'800'000'000, 300);
  return 0;
}
