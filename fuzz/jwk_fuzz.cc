// Fuzz target: JWK import (Key Vault `PUT /keys/{name}` import bodies, JWKs in tokens' key sets).
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "crypto/jwk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json jwk = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (jwk.is_discarded()) return 0;
  if (auto pub = byok::crypto::PublicKeyFromJwk(jwk); pub.ok()) {
    // An imported public key exports again, and the export imports to the same JWK.
    auto out = byok::crypto::PublicKeyToJwk(*pub);
    if (!out.ok()) __builtin_trap();
    auto again = byok::crypto::PublicKeyFromJwk(*out);
    if (!again.ok()) __builtin_trap();
    auto out2 = byok::crypto::PublicKeyToJwk(*again);
    if (!out2.ok() || *out2 != *out) __builtin_trap();
  }
  if (auto priv = byok::crypto::PrivateKeyFromJwk(jwk); priv.ok()) {
    if (!byok::crypto::PrivateKeyToJwk(*priv).ok()) __builtin_trap();
  }
  return 0;
}
