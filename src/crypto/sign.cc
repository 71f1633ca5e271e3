#include "crypto/sign.h"

#include <openssl/rsa.h>

#include "crypto/ctx_pool.h"
#include "crypto/openssl_util.h"

namespace byok::crypto {
namespace {

using internal::BnPtr;
using internal::EcdsaSigPtr;
using internal::ErrorQueueGuard;
using internal::OpenSslError;
using internal::PkeyCtxPool;
using internal::PkeyCtxPtr;

constexpr struct {
  SignatureAlgorithm alg;
  std::string_view name;
} kAlgorithmNames[] = {
    {SignatureAlgorithm::kRS256, "RS256"}, {SignatureAlgorithm::kRS384, "RS384"},
    {SignatureAlgorithm::kRS512, "RS512"}, {SignatureAlgorithm::kPS256, "PS256"},
    {SignatureAlgorithm::kPS384, "PS384"}, {SignatureAlgorithm::kPS512, "PS512"},
    {SignatureAlgorithm::kES256, "ES256"}, {SignatureAlgorithm::kES384, "ES384"},
    {SignatureAlgorithm::kES512, "ES512"},
};

const EVP_MD* Md(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return EVP_sha256();
    case HashAlgorithm::kSha384:
      return EVP_sha384();
    case HashAlgorithm::kSha512:
      return EVP_sha512();
  }
  return nullptr;
}

bool IsPss(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kPS256 || alg == SignatureAlgorithm::kPS384 ||
         alg == SignatureAlgorithm::kPS512;
}

Curve EcdsaCurve(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kES384:
      return Curve::kP384;
    case SignatureAlgorithm::kES512:
      return Curve::kP521;
    default:
      return Curve::kP256;
  }
}

// Checks that the key fits the algorithm and the digest has the hash's length.
Status CheckArguments(bool key_valid, KeyType type, std::optional<Curve> curve,
                      SignatureAlgorithm alg, size_t digest_size) {
  if (!key_valid) return Status::FailedPrecondition("empty key");
  if (type != SignatureKeyType(alg)) {
    return Status::InvalidArgument(std::string(SignatureAlgorithmName(alg)) + " needs an " +
                                   std::string(KeyTypeName(SignatureKeyType(alg))) + " key");
  }
  if (type == KeyType::kEc && curve != EcdsaCurve(alg)) {
    return Status::InvalidArgument(std::string(SignatureAlgorithmName(alg)) + " needs a " +
                                   std::string(CurveName(EcdsaCurve(alg))) + " key");
  }
  if (digest_size != HashSize(SignatureHash(alg))) {
    return Status::InvalidArgument("digest length does not match " +
                                   std::string(HashName(SignatureHash(alg))));
  }
  return Status::Ok();
}

// Sets padding and digest parameters on a sign/verify context.
bool SetUp(EVP_PKEY_CTX* ctx, SignatureAlgorithm alg) {
  HashAlgorithm hash = SignatureHash(alg);
  const EVP_MD* md = Md(hash);
  if (SignatureKeyType(alg) == KeyType::kEc) return EVP_PKEY_CTX_set_signature_md(ctx, md) == 1;
  if (IsPss(alg)) {
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, static_cast<int>(HashSize(hash))) == 1;
  }
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx, md) == 1;
}

// DER ECDSA-Sig-Value -> r || s, each `size` bytes.
Result<std::vector<uint8_t>> DerToJose(std::span<const uint8_t> der, size_t size) {
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return OpenSslError(StatusCode::kInternal, "cannot parse ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::vector<uint8_t> out(2 * size);
  if (BN_bn2binpad(r, out.data(), static_cast<int>(size)) < 0 ||
      BN_bn2binpad(s, out.data() + size, static_cast<int>(size)) < 0) {
    return Status::Internal("ECDSA signature component too large");
  }
  return out;
}

// r || s -> DER ECDSA-Sig-Value. REQUIRES: jose.size() is even.
Result<std::vector<uint8_t>> JoseToDer(std::span<const uint8_t> jose) {
  size_t size = jose.size() / 2;
  BnPtr r(BN_bin2bn(jose.data(), static_cast<int>(size), nullptr));
  BnPtr s(BN_bin2bn(jose.data() + size, static_cast<int>(size), nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot build ECDSA signature");
  }
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return OpenSslError(StatusCode::kInternal, "cannot encode ECDSA signature");
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// The key's context pool slot for alg (crypto/ctx_pool.h): 6..14.
int Slot(SignatureAlgorithm alg) { return 6 + static_cast<int>(alg); }

// A context initialized for signing (or verifying) with alg, from the key's pool (ctx_pool.h).
Result<PkeyCtxPtr> AcquireCtx(EVP_PKEY* pkey, PkeyCtxPool& pool, bool sign,
                              SignatureAlgorithm alg) {
  return pool.Acquire(
      Slot(alg), pkey,
      [&](EVP_PKEY_CTX* ctx) {
        return (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) == 1 && SetUp(ctx, alg);
      },
      sign ? "sign init" : "verify init");
}

}  // namespace

Result<SignatureAlgorithm> ParseSignatureAlgorithm(std::string_view name) {
  for (const auto& entry : kAlgorithmNames) {
    if (entry.name == name) return entry.alg;
  }
  return Status::InvalidArgument("unsupported signature algorithm");
}

std::string_view SignatureAlgorithmName(SignatureAlgorithm alg) {
  for (const auto& entry : kAlgorithmNames) {
    if (entry.alg == alg) return entry.name;
  }
  return "";
}

HashAlgorithm SignatureHash(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kRS256:
    case SignatureAlgorithm::kPS256:
    case SignatureAlgorithm::kES256:
      return HashAlgorithm::kSha256;
    case SignatureAlgorithm::kRS384:
    case SignatureAlgorithm::kPS384:
    case SignatureAlgorithm::kES384:
      return HashAlgorithm::kSha384;
    case SignatureAlgorithm::kRS512:
    case SignatureAlgorithm::kPS512:
    case SignatureAlgorithm::kES512:
      return HashAlgorithm::kSha512;
  }
  return HashAlgorithm::kSha256;
}

KeyType SignatureKeyType(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kES256:
    case SignatureAlgorithm::kES384:
    case SignatureAlgorithm::kES512:
      return KeyType::kEc;
    default:
      return KeyType::kRsa;
  }
}

size_t HashSize(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha384:
      return 48;
    case HashAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

std::string_view HashName(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return "SHA-256";
    case HashAlgorithm::kSha384:
      return "SHA-384";
    case HashAlgorithm::kSha512:
      return "SHA-512";
  }
  return "";
}

Result<std::vector<uint8_t>> Digest(HashAlgorithm hash, std::span<const uint8_t> data) {
  ErrorQueueGuard guard;
  static const uint8_t kEmpty = 0;
  std::vector<uint8_t> out(HashSize(hash));
  unsigned int len = 0;
  if (EVP_Digest(data.empty() ? &kEmpty : data.data(), data.size(), out.data(), &len, Md(hash),
                 nullptr) != 1 ||
      len != out.size()) {
    return OpenSslError(StatusCode::kInternal, "digest failed");
  }
  return out;
}

Result<std::vector<uint8_t>> Digest(SignatureAlgorithm alg, std::span<const uint8_t> data) {
  return Digest(SignatureHash(alg), data);
}

Result<std::vector<uint8_t>> SignDigest(const PrivateKey& key, SignatureAlgorithm alg,
                                        std::span<const uint8_t> digest) {
  ErrorQueueGuard guard;
  BYOK_TRY(CheckArguments(key.valid(), key.type(), key.curve(), alg, digest.size()));
  BYOK_ASSIGN_OR_RETURN(PkeyCtxPtr ctx, AcquireCtx(key.get(), key.ctx_pool(), /*sign=*/true, alg));
  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1) {
    return OpenSslError(StatusCode::kInternal, "sign failed");
  }
  std::vector<uint8_t> sig(len);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) != 1) {
    return OpenSslError(StatusCode::kInternal, "sign failed");
  }
  sig.resize(len);
  key.ctx_pool().Put(Slot(alg), std::move(ctx));
  if (key.type() == KeyType::kEc) return DerToJose(sig, CurveByteSize(*key.curve()));
  return sig;
}

Result<bool> VerifyDigest(const PublicKey& key, SignatureAlgorithm alg,
                          std::span<const uint8_t> digest, std::span<const uint8_t> signature) {
  ErrorQueueGuard guard;
  BYOK_TRY(CheckArguments(key.valid(), key.type(), key.curve(), alg, digest.size()));
  std::vector<uint8_t> der;
  std::span<const uint8_t> sig = signature;
  if (key.type() == KeyType::kEc) {
    if (signature.size() != 2 * CurveByteSize(*key.curve())) return false;
    BYOK_ASSIGN_OR_RETURN(der, JoseToDer(signature));
    sig = der;
  } else if (signature.size() != (static_cast<size_t>(key.bits()) + 7) / 8) {
    return false;
  }
  BYOK_ASSIGN_OR_RETURN(PkeyCtxPtr ctx, AcquireCtx(key.get(), key.ctx_pool(), /*sign=*/false, alg));
  if (EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), digest.data(), digest.size()) != 1) {
    return false;  // the context is dropped: only one whose operation succeeded goes back
  }
  key.ctx_pool().Put(Slot(alg), std::move(ctx));
  return true;
}

Result<std::vector<uint8_t>> SignMessage(const PrivateKey& key, SignatureAlgorithm alg,
                                         std::span<const uint8_t> message) {
  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> digest, Digest(alg, message));
  return SignDigest(key, alg, digest);
}

Result<bool> VerifyMessage(const PublicKey& key, SignatureAlgorithm alg,
                           std::span<const uint8_t> message, std::span<const uint8_t> signature) {
  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> digest, Digest(alg, message));
  return VerifyDigest(key, alg, digest, signature);
}

}  // namespace byok::crypto
