#include "crypto/gcm.h"

#include <algorithm>
#include <memory>

#include <openssl/evp.h>

#include "common/random.h"

namespace byok::crypto {
namespace {

constexpr uint8_t kVersion = 1;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

}  // namespace

Result<std::vector<uint8_t>> GcmSeal(std::span<const uint8_t> key,
                                     std::span<const uint8_t> plaintext,
                                     std::span<const uint8_t> aad) {
  if (key.size() != kGcmKeySize) return Status::InvalidArgument("AES-256-GCM needs a 32-byte key");
  if (plaintext.size() > kMaxSealedPlaintext) {
    return Status::InvalidArgument("secret too large to seal");
  }
  std::vector<uint8_t> out(kSealOverhead + plaintext.size());
  out[0] = kVersion;
  uint8_t* nonce = out.data() + 1;
  CryptoRandom().Fill({nonce, kGcmNonceSize});
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceSize, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out.data() + 1 + kGcmNonceSize, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + 1 + kGcmNonceSize + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize,
                          out.data() + out.size() - kGcmTagSize) != 1) {
    return Status::Internal("AES-256-GCM seal failed");
  }
  return out;
}

Result<SecretBytes> GcmOpen(std::span<const uint8_t> key, std::span<const uint8_t> sealed,
                            std::span<const uint8_t> aad) {
  if (key.size() != kGcmKeySize) return Status::InvalidArgument("AES-256-GCM needs a 32-byte key");
  if (sealed.size() < kSealOverhead) return Status::DataLoss("sealed blob is truncated");
  if (sealed.size() > kMaxSealedPlaintext + kSealOverhead) {
    return Status::DataLoss("sealed blob is too large");
  }
  if (sealed[0] != kVersion) return Status::DataLoss("unknown sealed-blob version");
  const uint8_t* nonce = sealed.data() + 1;
  const uint8_t* ct = nonce + kGcmNonceSize;
  size_t ct_len = sealed.size() - kSealOverhead;
  // The tag ctrl takes a non-const pointer; copy it.
  uint8_t tag[kGcmTagSize];
  std::copy(sealed.end() - kGcmTagSize, sealed.end(), tag);
  SecretBytes out(ct_len);
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0, final_len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceSize, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1) {
    return Status::Internal("AES-256-GCM init failed");
  }
  if ((!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct, static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
    return Status::DataLoss("sealed blob failed authentication (wrong key, purpose or altered)");
  }
  return out;
}

}  // namespace byok::crypto
