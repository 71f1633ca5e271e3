// Digital signatures with the JOSE algorithms Key Vault's sign/verify support, and digests.
//
// RS* = RSASSA-PKCS1-v1_5, PS* = RSASSA-PSS with MGF1 over the same hash and salt length equal to
// the hash length (as Azure and RFC 7518 use it), ES* = ECDSA with the signature in JOSE form:
// the raw r || s, each left-padded to the curve size (64, 96, 132 bytes), not DER. ES256 needs a
// P-256 key, ES384 P-384, ES512 P-521.
//
// SignDigest/VerifyDigest take a digest computed by the caller (Key Vault signs pre-hashed
// digests); its length must be the algorithm's hash length. SignMessage/VerifyMessage hash first.
// Any mismatch between key and algorithm (RS256 with an EC key, ES384 with a P-256 key) is
// InvalidArgument. Verification returns false for a signature that does not verify, whatever is
// wrong with it (wrong length, altered, other key), and an error only for bad arguments.
//
// Thread safety: concurrent calls on the same key are safe. Initialized contexts are reused through
// the key's pool (crypto/ctx_pool.h); a context goes back only after a successful operation.
// REQUIRES: a key that fits the algorithm and a digest of the hash's length (else
// InvalidArgument); signatures may be hostile.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/keys.h"

namespace byok::crypto {

enum class HashAlgorithm { kSha256, kSha384, kSha512 };

enum class SignatureAlgorithm {
  kRS256,
  kRS384,
  kRS512,
  kPS256,
  kPS384,
  kPS512,
  kES256,
  kES384,
  kES512,
};

// "RS256", ..., "ES512" (case-sensitive, as in JOSE).
Result<SignatureAlgorithm> ParseSignatureAlgorithm(std::string_view name);
std::string_view SignatureAlgorithmName(SignatureAlgorithm alg);
HashAlgorithm SignatureHash(SignatureAlgorithm alg);
// The key type the algorithm needs (kRsa for RS*/PS*, kEc for ES*).
KeyType SignatureKeyType(SignatureAlgorithm alg);

// 32, 48, 64.
size_t HashSize(HashAlgorithm hash);
std::string_view HashName(HashAlgorithm hash);  // "SHA-256", "SHA-384", "SHA-512"

Result<std::vector<uint8_t>> Digest(HashAlgorithm hash, std::span<const uint8_t> data);
// The digest with the algorithm's hash.
Result<std::vector<uint8_t>> Digest(SignatureAlgorithm alg, std::span<const uint8_t> data);

// Signs a digest. InvalidArgument if digest.size() != HashSize(SignatureHash(alg)) or the key does
// not fit the algorithm.
Result<std::vector<uint8_t>> SignDigest(const PrivateKey& key, SignatureAlgorithm alg,
                                        std::span<const uint8_t> digest);
// True if `signature` is a valid signature of `digest`; false if not.
Result<bool> VerifyDigest(const PublicKey& key, SignatureAlgorithm alg,
                          std::span<const uint8_t> digest, std::span<const uint8_t> signature);

// Hashes `message` with the algorithm's hash, then SignDigest / VerifyDigest.
Result<std::vector<uint8_t>> SignMessage(const PrivateKey& key, SignatureAlgorithm alg,
                                         std::span<const uint8_t> message);
Result<bool> VerifyMessage(const PublicKey& key, SignatureAlgorithm alg,
                           std::span<const uint8_t> message, std::span<const uint8_t> signature);

}  // namespace byok::crypto
