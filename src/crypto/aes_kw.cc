#include "crypto/aes_kw.h"

#include "crypto/openssl_util.h"

namespace byok::crypto {
namespace {

using internal::CipherCtxPtr;
using internal::ErrorQueueGuard;
using internal::OpenSslError;

const EVP_CIPHER* WrapCipher(size_t kek_size, bool pad) {
  switch (kek_size) {
    case 16:
      return pad ? EVP_aes_128_wrap_pad() : EVP_aes_128_wrap();
    case 24:
      return pad ? EVP_aes_192_wrap_pad() : EVP_aes_192_wrap();
    case 32:
      return pad ? EVP_aes_256_wrap_pad() : EVP_aes_256_wrap();
    default:
      return nullptr;
  }
}

// Runs one wrap (encrypt = 1) or unwrap (encrypt = 0) into `out`, which must have room for the
// largest possible result; returns the actual length.
Result<size_t> RunWrapCipher(std::span<const uint8_t> kek, bool pad, int encrypt,
                             std::span<const uint8_t> in, std::span<uint8_t> out) {
  const EVP_CIPHER* cipher = WrapCipher(kek.size(), pad);
  if (cipher == nullptr)
    return Status::InvalidArgument("AES key wrap needs a 16, 24 or 32-byte KEK");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Status::Internal("EVP_CIPHER_CTX_new failed");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, kek.data(), nullptr, encrypt) != 1) {
    return OpenSslError(StatusCode::kInternal, "AES key wrap init failed");
  }
  int len = 0;
  int final_len = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
      len < 0 || static_cast<size_t>(len) > out.size() ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
    if (encrypt) return OpenSslError(StatusCode::kInternal, "AES key wrap failed");
    ERR_clear_error();
    return Status::DataLoss("AES key unwrap failed integrity check (wrong KEK or altered data)");
  }
  return static_cast<size_t>(len + final_len);
}

}  // namespace

Result<std::vector<uint8_t>> AesKeyWrap(std::span<const uint8_t> kek,
                                        std::span<const uint8_t> key_to_wrap) {
  ErrorQueueGuard guard;
  if (key_to_wrap.size() < 16 || key_to_wrap.size() % 8 != 0) {
    return Status::InvalidArgument("RFC 3394 wraps a multiple of 8 bytes, at least 16");
  }
  if (key_to_wrap.size() > kMaxKeyWrapInput)
    return Status::InvalidArgument("key to wrap too large");
  std::vector<uint8_t> out(key_to_wrap.size() + 8);
  BYOK_ASSIGN_OR_RETURN(size_t len, RunWrapCipher(kek, false, 1, key_to_wrap, out));
  if (len != out.size()) return Status::Internal("unexpected AES key wrap length");
  return out;
}

Result<SecretBytes> AesKeyUnwrap(std::span<const uint8_t> kek, std::span<const uint8_t> wrapped) {
  ErrorQueueGuard guard;
  if (wrapped.size() < 24 || wrapped.size() % 8 != 0) {
    return Status::InvalidArgument(
        "RFC 3394 wrapped key must be a multiple of 8 bytes, at least 24");
  }
  if (wrapped.size() > kMaxKeyWrapInput + 8)
    return Status::InvalidArgument("wrapped key too large");
  SecretBytes out(wrapped.size());
  BYOK_ASSIGN_OR_RETURN(size_t len, RunWrapCipher(kek, false, 0, wrapped, out.span()));
  if (len != wrapped.size() - 8) return Status::DataLoss("unexpected AES key unwrap length");
  return SecretBytes(out.span().first(len));
}

Result<std::vector<uint8_t>> AesKeyWrapPad(std::span<const uint8_t> kek,
                                           std::span<const uint8_t> key_to_wrap) {
  ErrorQueueGuard guard;
  if (key_to_wrap.empty()) return Status::InvalidArgument("nothing to wrap");
  if (key_to_wrap.size() > kMaxKeyWrapInput)
    return Status::InvalidArgument("key to wrap too large");
  std::vector<uint8_t> out((key_to_wrap.size() + 7) / 8 * 8 + 8);
  BYOK_ASSIGN_OR_RETURN(size_t len, RunWrapCipher(kek, true, 1, key_to_wrap, out));
  if (len != out.size()) return Status::Internal("unexpected AES key wrap length");
  return out;
}

Result<SecretBytes> AesKeyUnwrapPad(std::span<const uint8_t> kek,
                                    std::span<const uint8_t> wrapped) {
  ErrorQueueGuard guard;
  if (wrapped.size() < 16 || wrapped.size() % 8 != 0) {
    return Status::InvalidArgument(
        "RFC 5649 wrapped key must be a multiple of 8 bytes, at least 16");
  }
  if (wrapped.size() > kMaxKeyWrapInput + 16)
    return Status::InvalidArgument("wrapped key too large");
  SecretBytes out(wrapped.size());
  BYOK_ASSIGN_OR_RETURN(size_t len, RunWrapCipher(kek, true, 0, wrapped, out.span()));
  if (len == 0 || len > wrapped.size() - 8)
    return Status::DataLoss("unexpected AES key unwrap length");
  return SecretBytes(out.span().first(len));
}

}  // namespace byok::crypto
