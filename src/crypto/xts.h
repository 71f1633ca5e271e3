// XtsCodec: the disk sector codec, AES-256-XTS (IEEE 1619 / NIST SP 800-38E) through OpenSSL.
//
// The 64-byte key is two AES-256 keys (data key || tweak key). The tweak of a sector is its 64-bit
// sector number as a 16-byte little-endian value, i.e. IEEE 1619's data unit sequence number and
// dm-crypt's "plain64" IV, so images are interoperable with `cryptsetup --cipher aes-xts-plain64`.
// A sector is one XTS data unit of 16 bytes to 16 MiB; lengths that are not a multiple of 16 use
// ciphertext stealing.
//
// Performance: Create() sets up one EVP_CIPHER_CTX for encryption and one for decryption with the
// key schedule once; EncryptSector/DecryptSector only load the tweak and run the cipher, with no
// heap allocation per call. The codec keeps no copy of the key outside the OpenSSL contexts, which
// wipe it when freed.
//
// Thread safety: NOT thread-safe. An XtsCodec carries per-call state in its contexts; use one per
// thread. Clone() makes another codec with the same key cheaply (copies the expanded contexts).
//
// REQUIRES: a 64-byte key with distinct halves; sectors of 16 bytes to 16 MiB; in == out or no
// overlap (see the methods).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <openssl/types.h>

#include "common/status.h"

namespace byok::crypto {

class XtsCodec {
 public:
  static constexpr size_t kKeySize = 64;
  static constexpr size_t kMinSectorSize = 16;
  static constexpr size_t kMaxSectorSize = 16 * 1024 * 1024;

  // REQUIRES: key.size() == 64 and the two halves differ (equal halves are forbidden by
  // IEEE 1619 / SP 800-38E and rejected by OpenSSL): otherwise InvalidArgument.
  static Result<XtsCodec> Create(std::span<const uint8_t> key);

  XtsCodec(XtsCodec&&) noexcept = default;
  XtsCodec& operator=(XtsCodec&&) noexcept = default;
  XtsCodec(const XtsCodec&) = delete;
  XtsCodec& operator=(const XtsCodec&) = delete;

  // A codec with the same key, for another thread.
  Result<XtsCodec> Clone() const;

  // Encrypts/decrypts one sector of `len` bytes from `in` to `out`.
  // REQUIRES: kMinSectorSize <= len <= kMaxSectorSize (else InvalidArgument); in and out non-null
  // and either equal (in place) or not overlapping. FailedPrecondition on a moved-from codec.
  Status EncryptSector(uint64_t sector, const uint8_t* in, uint8_t* out, size_t len);
  Status DecryptSector(uint64_t sector, const uint8_t* in, uint8_t* out, size_t len);

 private:
  struct CtxDeleter {
    void operator()(EVP_CIPHER_CTX* ctx) const;
  };
  using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

  XtsCodec(CtxPtr enc, CtxPtr dec) : enc_(std::move(enc)), dec_(std::move(dec)) {}
  static Status Run(EVP_CIPHER_CTX* ctx, uint64_t sector, const uint8_t* in, uint8_t* out,
                    size_t len);

  CtxPtr enc_;  // key loaded, encrypting
  CtxPtr dec_;  // key loaded, decrypting
};

}  // namespace byok::crypto
