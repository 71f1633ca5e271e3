// AES-256-GCM sealing of small secrets (key material, client secrets) at rest.
//
// Sealed format, version 1 (docs/formats/sealed.md):
//   byte 0      : 0x01 (format version)
//   bytes 1..12 : 96-bit random nonce
//   bytes 13..  : ciphertext (same length as the plaintext)
//   last 16     : GCM tag
// The associated data (AAD) binds a sealed blob to its purpose (e.g. the secret's name), so a blob
// moved to another name fails to open. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace byok::crypto {

inline constexpr size_t kGcmKeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;
inline constexpr size_t kSealOverhead = 1 + kGcmNonceSize + kGcmTagSize;
// Refuse to seal or open more than this (secrets are small; this bounds hostile input).
inline constexpr size_t kMaxSealedPlaintext = 16 * 1024 * 1024;

// REQUIRES: key.size() == 32. Returns the sealed blob.
Result<std::vector<uint8_t>> GcmSeal(std::span<const uint8_t> key,
                                     std::span<const uint8_t> plaintext,
                                     std::span<const uint8_t> aad);

// Opens a blob made by GcmSeal with the same key and AAD. DataLoss if it was altered, truncated,
// sealed under another key or another AAD.
Result<SecretBytes> GcmOpen(std::span<const uint8_t> key, std::span<const uint8_t> sealed,
                            std::span<const uint8_t> aad);

}  // namespace byok::crypto
