// RSA encryption and decryption as Key Vault's encrypt/decrypt/wrapKey/unwrapKey do it:
// RSA-OAEP (SHA-1, MGF1-SHA1), RSA-OAEP-256 (SHA-256, MGF1-SHA256, empty label) and RSA1_5
// (PKCS#1 v1.5). Private-key operations use OpenSSL 3's defaults: RSA blinding always; for
// PKCS#1 v1.5 decryption, implicit rejection where the OpenSSL build has it (3.2+: a bad padding
// then yields a deterministic pseudo-random plaintext instead of an error, see RsaDecrypt).
//
// Thread safety: concurrent calls on the same key are safe. Initialized contexts are reused through
// the key's pool (crypto/ctx_pool.h); a context goes back only after a successful operation.
// REQUIRES: an RSA key (an EC key is InvalidArgument); inputs may be hostile.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/secret.h"
#include "common/status.h"
#include "crypto/keys.h"

namespace byok::crypto {

enum class RsaPadding {
  kOaep,      // "RSA-OAEP": OAEP with SHA-1 and MGF1-SHA1
  kOaep256,   // "RSA-OAEP-256": OAEP with SHA-256 and MGF1-SHA256
  kPkcs1v15,  // "RSA1_5": PKCS#1 v1.5 type 2
};

// JOSE / Key Vault algorithm names: "RSA-OAEP", "RSA-OAEP-256", "RSA1_5".
std::string_view RsaPaddingName(RsaPadding padding);
Result<RsaPadding> ParseRsaPadding(std::string_view name);

// The longest plaintext `padding` allows with an RSA key of `modulus_bits` (k = bytes):
// OAEP k - 2*hLen - 2, PKCS#1 v1.5 k - 11.
size_t RsaMaxPlaintextSize(int modulus_bits, RsaPadding padding);

// Encrypts plaintext (may be empty) to a ciphertext of exactly the modulus size.
// InvalidArgument if the key is not RSA or the plaintext is longer than RsaMaxPlaintextSize.
Result<std::vector<uint8_t>> RsaEncrypt(const PublicKey& key, RsaPadding padding,
                                        std::span<const uint8_t> plaintext);

// Decrypts. InvalidArgument if the key is not RSA or the ciphertext is not exactly the modulus
// size; DataLoss if it does not decrypt (wrong key, altered, bad padding, value >= modulus), with
// one message for every such cause. With PKCS#1 v1.5 on OpenSSL builds with implicit rejection
// (3.2+), a wrong key or altered ciphertext instead returns a pseudo-random plaintext: callers
// that unwrap keys must check the result's expected length.
Result<SecretBytes> RsaDecrypt(const PrivateKey& key, RsaPadding padding,
                               std::span<const uint8_t> ciphertext);

}  // namespace byok::crypto
