// Asymmetric keys: RSA and NIST-curve EC key pairs as move-only wrappers over OpenSSL EVP_PKEY.
//
// PrivateKey holds a key pair; PublicKey holds only public material (a PrivateKey's Public() is a
// separate public-only object, never a view of the private key). Only what Azure Key Vault and
// byok's TLS need is accepted: RSA (modulus 2048..8192 bits, generation 2048/3072/4096) and EC on
// P-256, P-384, P-521 with named-curve parameters. Anything else (RSA-PSS-only keys, DSA, Ed25519,
// other curves) is InvalidArgument. Imported private keys are checked for consistency.
//
// PEM: private keys are exported as unencrypted PKCS#8 ("BEGIN PRIVATE KEY") into SecretBytes;
// import also takes traditional "BEGIN RSA PRIVATE KEY" / "BEGIN EC PRIVATE KEY". Encrypted PEM
// is refused (never prompts for a passphrase). Public keys are SubjectPublicKeyInfo (PEM
// "BEGIN PUBLIC KEY" or DER).
//
// Thread safety: a key is immutable after construction; const methods (and every crypto function
// taking `const PrivateKey&` / `const PublicKey&`) may be called concurrently on the same key.
// A moved-from key is empty: valid() is false and operations on it return FailedPrecondition.
//
// REQUIRES: OpenSSL 3 with the default provider. PEM/DER inputs may be hostile (size-capped at
// kMaxKeyEncodingSize, never crash); FromEvpPkey takes ownership of its argument.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "common/secret.h"
#include "common/status.h"

namespace byok::crypto {

namespace internal {
class PkeyCtxPool;  // crypto/ctx_pool.h
}

enum class KeyType { kRsa, kEc };
enum class Curve { kP256, kP384, kP521 };

// Modulus sizes accepted for RSA keys (import); GenerateRsaKey takes only 2048, 3072, 4096.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;
// PEM/DER inputs longer than this are refused before parsing.
inline constexpr size_t kMaxKeyEncodingSize = 64 * 1024;

// "RSA" or "EC".
std::string_view KeyTypeName(KeyType type);
// JOSE / Key Vault names: "P-256", "P-384", "P-521".
std::string_view CurveName(Curve curve);
// Accepts the JOSE names above. InvalidArgument otherwise (including "P-256K").
Result<Curve> ParseCurve(std::string_view name);
// Field size in bits: 256, 384, 521.
int CurveBits(Curve curve);
// Size of one coordinate / of the private scalar in bytes: 32, 48, 66.
size_t CurveByteSize(Curve curve);

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* pkey) const;
};

class PublicKey {
 public:
  PublicKey(PublicKey&&) noexcept = default;
  PublicKey& operator=(PublicKey&&) noexcept = default;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  // SubjectPublicKeyInfo, PEM ("BEGIN PUBLIC KEY") or DER.
  static Result<PublicKey> FromPem(std::string_view pem);
  static Result<PublicKey> FromDer(std::span<const uint8_t> der);
  // Takes ownership of `pkey` (also on failure). Only its public part is kept.
  static Result<PublicKey> FromEvpPkey(EVP_PKEY* pkey);

  bool valid() const { return pkey_ != nullptr; }
  KeyType type() const { return type_; }
  // RSA: modulus size in bits. EC: field size in bits (256, 384, 521).
  int bits() const { return bits_; }
  // Set for EC keys only.
  std::optional<Curve> curve() const { return curve_; }

  Result<std::string> ToPem() const;
  Result<std::vector<uint8_t>> ToDer() const;

  // True when both hold the same public key.
  bool Equals(const PublicKey& other) const;
  // Another handle on the same immutable key (reference-counted, cheap).
  PublicKey Clone() const;
  // Borrowed pointer for other byok modules that talk to OpenSSL directly (e.g. TLS). Do not
  // modify the key through it. nullptr when !valid().
  EVP_PKEY* get() const { return pkey_.get(); }
  // Initialized operation contexts on this key, shared with its clones (crypto module only).
  // REQUIRES: valid().
  internal::PkeyCtxPool& ctx_pool() const { return *ctx_pool_; }

 private:
  PublicKey();
  friend class PrivateKey;

  std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> pkey_;
  std::shared_ptr<internal::PkeyCtxPool> ctx_pool_;
  KeyType type_ = KeyType::kRsa;
  int bits_ = 0;
  std::optional<Curve> curve_;
};

class PrivateKey {
 public:
  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  // PKCS#8 "BEGIN PRIVATE KEY", or traditional "BEGIN RSA PRIVATE KEY" / "BEGIN EC PRIVATE KEY".
  // The key pair is checked for consistency. InvalidArgument on anything else.
  static Result<PrivateKey> FromPem(std::string_view pem);
  // Takes ownership of `pkey` (also on failure). The pair is checked for consistency.
  static Result<PrivateKey> FromEvpPkey(EVP_PKEY* pkey);

  bool valid() const { return pkey_ != nullptr; }
  KeyType type() const { return public_.type(); }
  int bits() const { return public_.bits(); }
  std::optional<Curve> curve() const { return public_.curve(); }

  // Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"). Secret: store it sealed.
  Result<SecretBytes> ToPem() const;

  // The public half, as an independent public-only key.
  PublicKey Public() const { return public_.Clone(); }
  // Another handle on the same immutable key (reference-counted, cheap).
  PrivateKey Clone() const;
  // Borrowed pointer (e.g. for SSL_CTX_use_PrivateKey). nullptr when !valid().
  EVP_PKEY* get() const { return pkey_.get(); }
  // Initialized private-key operation contexts, shared with its clones (crypto module only).
  // REQUIRES: valid().
  internal::PkeyCtxPool& ctx_pool() const { return *ctx_pool_; }

 private:
  PrivateKey();
  // Takes ownership of pkey; runs the consistency check when `check`.
  static Result<PrivateKey> Adopt(EVP_PKEY* pkey, bool check);
  friend Result<PrivateKey> GenerateRsaKey(int bits);
  friend Result<PrivateKey> GenerateEcKey(Curve curve);

  std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> pkey_;
  std::shared_ptr<internal::PkeyCtxPool> ctx_pool_;
  PublicKey public_;
};

// A new RSA key with public exponent 65537. bits must be 2048, 3072 or 4096, else
// InvalidArgument. 4096-bit generation takes around a second.
Result<PrivateKey> GenerateRsaKey(int bits);
// A new EC key on `curve`.
Result<PrivateKey> GenerateEcKey(Curve curve);

}  // namespace byok::crypto
