// Client secrets of service principals: generation and salted hashing.
//
// A secret is 40 characters: the base64url encoding of 30 CSPRNG bytes (about 240 bits), never
// starting with '-' (the Azure CLI would read "-p -xyz" as an option). The store keeps only a
// SecretHash: PBKDF2-HMAC-SHA256 (OpenSSL PKCS5_PBKDF2_HMAC) with a fresh random 16-byte salt and
// at least kMinPbkdf2Iterations iterations, 32-byte output. Verification recomputes the hash with
// the stored salt and iteration count and compares in constant time (CRYPTO_memcmp). The default
// work factor is the floor: these secrets carry ~240 random bits, so iterations add little beyond
// it, while every token request pays for them (about 60 ms at 100k on a busy 2-core machine).
//
// Thread safety: stateless functions (Random implementations are thread-safe).
// REQUIRES: `random` is a CSPRNG in production (CryptoRandom()). Secrets are never logged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/random.h"
#include "common/status.h"

namespace byok::identity {

inline constexpr int kMinPbkdf2Iterations = 100000;
inline constexpr int kDefaultPbkdf2Iterations = kMinPbkdf2Iterations;
inline constexpr size_t kSecretSaltSize = 16;
inline constexpr size_t kSecretHashSize = 32;
inline constexpr size_t kClientSecretLength = 40;

struct SecretHash {
  std::string algorithm = "PBKDF2-HMAC-SHA256";
  int iterations = 0;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> hash;

  // {"algorithm","iterations","salt" (base64),"hash" (base64)}
  nlohmann::json ToJson() const;
  // InvalidArgument unless the JSON has that shape with a known algorithm, iterations >=
  // kMinPbkdf2Iterations and sizes as above.
  static Result<SecretHash> FromJson(const nlohmann::json& j);
};

// A new 40-character secret (see the file comment).
std::string GenerateClientSecret(Random& random);

// Hashes `secret` with a new random salt. Iterations below kMinPbkdf2Iterations are raised to it.
Result<SecretHash> HashClientSecret(std::string_view secret, Random& random,
                                    int iterations = kDefaultPbkdf2Iterations);

// True iff `secret` hashes to `stored` (constant-time comparison of the hashes).
bool VerifyClientSecretHash(const SecretHash& stored, std::string_view secret);

}  // namespace byok::identity
