#include "crypto/rsa.h"

#include <openssl/rsa.h>

#include "crypto/ctx_pool.h"
#include "crypto/openssl_util.h"

namespace byok::crypto {
namespace {

using internal::ErrorQueueGuard;
using internal::OpenSslError;
using internal::PkeyCtxPool;
using internal::PkeyCtxPtr;

// Sets the padding parameters on an encrypt/decrypt context.
bool SetPadding(EVP_PKEY_CTX* ctx, RsaPadding padding) {
  switch (padding) {
    case RsaPadding::kPkcs1v15:
      return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    case RsaPadding::kOaep:
      return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) == 1;
    case RsaPadding::kOaep256:
      return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
  }
  return false;
}

enum class Op { kEncrypt, kDecrypt };

// The key's context pool slot for op with padding: 0..5.
int Slot(Op op, RsaPadding padding) {
  return (op == Op::kDecrypt ? 3 : 0) + static_cast<int>(padding);
}

// A context initialized for op with padding, from the key's pool (ctx_pool.h).
Result<PkeyCtxPtr> AcquireCtx(EVP_PKEY* pkey, PkeyCtxPool& pool, Op op, RsaPadding padding) {
  return pool.Acquire(
      Slot(op, padding), pkey,
      [&](EVP_PKEY_CTX* ctx) {
        return (op == Op::kEncrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) ==
                   1 &&
               SetPadding(ctx, padding);
      },
      op == Op::kEncrypt ? "RSA encrypt init" : "RSA decrypt init");
}

}  // namespace

std::string_view RsaPaddingName(RsaPadding padding) {
  switch (padding) {
    case RsaPadding::kOaep:
      return "RSA-OAEP";
    case RsaPadding::kOaep256:
      return "RSA-OAEP-256";
    case RsaPadding::kPkcs1v15:
      return "RSA1_5";
  }
  return "";
}

Result<RsaPadding> ParseRsaPadding(std::string_view name) {
  if (name == "RSA-OAEP") return RsaPadding::kOaep;
  if (name == "RSA-OAEP-256") return RsaPadding::kOaep256;
  if (name == "RSA1_5") return RsaPadding::kPkcs1v15;
  return Status::InvalidArgument("unsupported RSA encryption algorithm");
}

size_t RsaMaxPlaintextSize(int modulus_bits, RsaPadding padding) {
  size_t k = (static_cast<size_t>(modulus_bits) + 7) / 8;
  size_t overhead = padding == RsaPadding::kPkcs1v15 ? 11
                    : padding == RsaPadding::kOaep   ? 2 * 20 + 2
                                                     : 2 * 32 + 2;
  return k > overhead ? k - overhead : 0;
}

Result<std::vector<uint8_t>> RsaEncrypt(const PublicKey& key, RsaPadding padding,
                                        std::span<const uint8_t> plaintext) {
  ErrorQueueGuard guard;
  if (!key.valid()) return Status::FailedPrecondition("empty key");
  if (key.type() != KeyType::kRsa)
    return Status::InvalidArgument("RSA encryption needs an RSA key");
  if (plaintext.size() > RsaMaxPlaintextSize(key.bits(), padding)) {
    return Status::InvalidArgument("plaintext too long for this RSA key and padding");
  }
  BYOK_ASSIGN_OR_RETURN(PkeyCtxPtr ctx,
                        AcquireCtx(key.get(), key.ctx_pool(), Op::kEncrypt, padding));
  // OpenSSL wants a non-null input pointer even for an empty message.
  static const uint8_t kEmpty = 0;
  const uint8_t* in = plaintext.empty() ? &kEmpty : plaintext.data();
  size_t out_len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, in, plaintext.size()) != 1) {
    return OpenSslError(StatusCode::kInternal, "RSA encrypt failed");
  }
  std::vector<uint8_t> out(out_len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, in, plaintext.size()) != 1) {
    return OpenSslError(StatusCode::kInternal, "RSA encrypt failed");
  }
  out.resize(out_len);
  key.ctx_pool().Put(Slot(Op::kEncrypt, padding), std::move(ctx));
  return out;
}

Result<SecretBytes> RsaDecrypt(const PrivateKey& key, RsaPadding padding,
                               std::span<const uint8_t> ciphertext) {
  ErrorQueueGuard guard;
  if (!key.valid()) return Status::FailedPrecondition("empty key");
  if (key.type() != KeyType::kRsa)
    return Status::InvalidArgument("RSA decryption needs an RSA key");
  size_t k = (static_cast<size_t>(key.bits()) + 7) / 8;
  if (ciphertext.size() != k) {
    return Status::InvalidArgument("RSA ciphertext length does not match the key size");
  }
  BYOK_ASSIGN_OR_RETURN(PkeyCtxPtr ctx,
                        AcquireCtx(key.get(), key.ctx_pool(), Op::kDecrypt, padding));
  SecretBytes out(k);
  size_t out_len = out.size();
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &out_len, ciphertext.data(), ciphertext.size()) !=
      1) {
    // One message for every cause: no padding oracle in error text.
    ERR_clear_error();
    return Status::DataLoss("RSA decryption failed");
  }
  if (out_len > out.size()) return Status::Internal("RSA decrypt overflow");
  key.ctx_pool().Put(Slot(Op::kDecrypt, padding), std::move(ctx));
  SecretBytes result(out.span().first(out_len));
  return result;
}

}  // namespace byok::crypto
