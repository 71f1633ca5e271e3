#include "crypto/xts.h"

#include <openssl/crypto.h>

#include "crypto/openssl_util.h"

namespace byok::crypto {
namespace {

using internal::CipherPtr;
using internal::ErrorQueueGuard;
using internal::OpenSslError;

constexpr size_t kHalfKeySize = XtsCodec::kKeySize / 2;
constexpr size_t kTweakSize = 16;

}  // namespace

void XtsCodec::CtxDeleter::operator()(EVP_CIPHER_CTX* ctx) const {
  // Frees the provider context, which wipes the key schedule.
  EVP_CIPHER_CTX_free(ctx);
}

Result<XtsCodec> XtsCodec::Create(std::span<const uint8_t> key) {
  ErrorQueueGuard guard;
  if (key.size() != kKeySize) {
    return Status::InvalidArgument("AES-256-XTS needs a 64-byte key (two AES-256 keys)");
  }
  if (CRYPTO_memcmp(key.data(), key.data() + kHalfKeySize, kHalfKeySize) == 0) {
    return Status::InvalidArgument("AES-XTS key halves must differ");
  }
  // An explicitly fetched cipher: per-sector re-initialisation then never looks it up again.
  CipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-XTS", nullptr));
  if (!cipher) return OpenSslError(StatusCode::kInternal, "AES-256-XTS is not available");
  CtxPtr enc(EVP_CIPHER_CTX_new());
  CtxPtr dec(EVP_CIPHER_CTX_new());
  if (!enc || !dec) return Status::Internal("EVP_CIPHER_CTX_new failed");
  uint8_t zero_iv[kTweakSize] = {0};
  if (EVP_CipherInit_ex(enc.get(), cipher.get(), nullptr, key.data(), zero_iv, 1) != 1 ||
      EVP_CipherInit_ex(dec.get(), cipher.get(), nullptr, key.data(), zero_iv, 0) != 1) {
    return OpenSslError(StatusCode::kInvalidArgument, "AES-256-XTS key setup failed");
  }
  return XtsCodec(std::move(enc), std::move(dec));
}

Result<XtsCodec> XtsCodec::Clone() const {
  ErrorQueueGuard guard;
  if (!enc_ || !dec_) return Status::FailedPrecondition("moved-from XtsCodec");
  CtxPtr enc(EVP_CIPHER_CTX_new());
  CtxPtr dec(EVP_CIPHER_CTX_new());
  if (!enc || !dec || EVP_CIPHER_CTX_copy(enc.get(), enc_.get()) != 1 ||
      EVP_CIPHER_CTX_copy(dec.get(), dec_.get()) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot copy AES-256-XTS context");
  }
  return XtsCodec(std::move(enc), std::move(dec));
}

Status XtsCodec::Run(EVP_CIPHER_CTX* ctx, uint64_t sector, const uint8_t* in, uint8_t* out,
                     size_t len) {
  if (ctx == nullptr) return Status::FailedPrecondition("moved-from XtsCodec");
  if (len < kMinSectorSize || len > kMaxSectorSize) {
    return Status::InvalidArgument("XTS sector must be 16 bytes to 16 MiB");
  }
  if (in == nullptr || out == nullptr) return Status::InvalidArgument("null sector buffer");
  uint8_t tweak[kTweakSize] = {0};
  for (size_t i = 0; i < 8; ++i) tweak[i] = static_cast<uint8_t>(sector >> (8 * i));
  int out_len = 0;
  // Only the IV changes: the key schedule loaded by Create stays in the context.
  if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, tweak, -1) != 1 ||
      EVP_CipherUpdate(ctx, out, &out_len, in, static_cast<int>(len)) != 1 ||
      static_cast<size_t>(out_len) != len) {
    return OpenSslError(StatusCode::kInternal, "AES-256-XTS failed");
  }
  return Status::Ok();
}

Status XtsCodec::EncryptSector(uint64_t sector, const uint8_t* in, uint8_t* out, size_t len) {
  return Run(enc_.get(), sector, in, out, len);
}

Status XtsCodec::DecryptSector(uint64_t sector, const uint8_t* in, uint8_t* out, size_t len) {
  return Run(dec_.get(), sector, in, out, len);
}

}  // namespace byok::crypto
