// AES key wrap: RFC 3394 (JOSE A128KW / A192KW / A256KW, Key Vault's symmetric wrapKey) and
// RFC 5649 with padding (AES-KWP, as used inside CKM_RSA_AES_KEY_WRAP / Key Vault BYOK blobs),
// with the standard default IVs, through OpenSSL's EVP wrap ciphers.
//
// The KEK is 16, 24 or 32 bytes (the variant follows from its size). RFC 3394 wraps key data of a
// multiple of 8 bytes, at least 16; RFC 5649 wraps 1 or more bytes. Both refuse more than
// kMaxKeyWrapInput bytes. Unwrapping with the wrong KEK or altered/truncated data fails the
// integrity check: DataLoss. Malformed sizes: InvalidArgument.
//
// Thread safety: stateless functions; safe to call concurrently.
// REQUIRES: a 16/24/32-byte KEK and the sizes above (else InvalidArgument).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace byok::crypto {

inline constexpr size_t kMaxKeyWrapInput = 64 * 1024;

// RFC 3394. Output is key_to_wrap.size() + 8 bytes.
Result<std::vector<uint8_t>> AesKeyWrap(std::span<const uint8_t> kek,
                                        std::span<const uint8_t> key_to_wrap);
Result<SecretBytes> AesKeyUnwrap(std::span<const uint8_t> kek, std::span<const uint8_t> wrapped);

// RFC 5649. Output is the input rounded up to a multiple of 8, plus 8 bytes.
Result<std::vector<uint8_t>> AesKeyWrapPad(std::span<const uint8_t> kek,
                                           std::span<const uint8_t> key_to_wrap);
Result<SecretBytes> AesKeyUnwrapPad(std::span<const uint8_t> kek, std::span<const uint8_t> wrapped);

}  // namespace byok::crypto
