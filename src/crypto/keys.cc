#include "crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "crypto/ctx_pool.h"
#include "crypto/openssl_util.h"

namespace byok::crypto {
namespace {

using internal::BioPtr;
using internal::ErrorQueueGuard;
using internal::OpenSslError;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;

struct KeyInfo {
  KeyType type;
  int bits;
  std::optional<Curve> curve;
};

Result<Curve> CurveFromGroupName(const char* name) {
  int nid = OBJ_sn2nid(name);
  if (nid == NID_undef) nid = EC_curve_nist2nid(name);
  switch (nid) {
    case NID_X9_62_prime256v1:
      return Curve::kP256;
    case NID_secp384r1:
      return Curve::kP384;
    case NID_secp521r1:
      return Curve::kP521;
    default:
      return Status::InvalidArgument("unsupported EC curve (only P-256, P-384, P-521)");
  }
}

// Classifies a key and enforces the supported types and sizes.
Result<KeyInfo> Describe(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return Status::InvalidArgument("RSA modulus must be 2048 to 8192 bits");
    }
    // Multi-prime RSA is not supported (JWK "oth", and Key Vault has no such keys).
    BIGNUM* factor3 = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR3, &factor3) == 1) {
      BN_clear_free(factor3);
      return Status::InvalidArgument("multi-prime RSA keys are not supported");
    }
    ERR_clear_error();
    return KeyInfo{KeyType::kRsa, bits, std::nullopt};
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char name[80] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
                                       &len) != 1) {
      return Status::InvalidArgument("EC key does not use a named curve");
    }
    BYOK_ASSIGN_OR_RETURN(Curve curve, CurveFromGroupName(name));
    return KeyInfo{KeyType::kEc, CurveBits(curve), curve};
  }
  return Status::InvalidArgument("unsupported key type (only RSA and EC P-256/P-384/P-521)");
}

int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

Result<BioPtr> ReadOnlyBio(std::string_view data) {
  if (data.empty()) return Status::InvalidArgument("empty key encoding");
  if (data.size() > kMaxKeyEncodingSize) return Status::InvalidArgument("key encoding too large");
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return Status::Internal("BIO_new_mem_buf failed");
  return bio;
}

// A public-only copy of pkey (round trip through SubjectPublicKeyInfo DER).
Result<PkeyPtr> PublicOnlyCopy(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return OpenSslError(StatusCode::kInternal, "cannot encode public key");
  const unsigned char* p = der;
  PkeyPtr copy(d2i_PUBKEY(nullptr, &p, len));
  OPENSSL_free(der);
  if (!copy) return OpenSslError(StatusCode::kInternal, "cannot decode public key");
  return copy;
}

Result<bool> CheckPublic(EVP_PKEY* pkey) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx) return Status::Internal("EVP_PKEY_CTX_new_from_pkey failed");
  return EVP_PKEY_public_check(ctx.get()) == 1;
}

}  // namespace

void EvpPkeyDeleter::operator()(EVP_PKEY* pkey) const { EVP_PKEY_free(pkey); }

std::string_view KeyTypeName(KeyType type) { return type == KeyType::kRsa ? "RSA" : "EC"; }

std::string_view CurveName(Curve curve) {
  switch (curve) {
    case Curve::kP256:
      return "P-256";
    case Curve::kP384:
      return "P-384";
    case Curve::kP521:
      return "P-521";
  }
  return "";
}

Result<Curve> ParseCurve(std::string_view name) {
  if (name == "P-256") return Curve::kP256;
  if (name == "P-384") return Curve::kP384;
  if (name == "P-521") return Curve::kP521;
  return Status::InvalidArgument("unsupported curve (only P-256, P-384, P-521)");
}

int CurveBits(Curve curve) {
  switch (curve) {
    case Curve::kP256:
      return 256;
    case Curve::kP384:
      return 384;
    case Curve::kP521:
      return 521;
  }
  return 0;
}

size_t CurveByteSize(Curve curve) { return (static_cast<size_t>(CurveBits(curve)) + 7) / 8; }

// ---------------------------------------------------------------------------------------------
// PublicKey

Result<PublicKey> PublicKey::FromEvpPkey(EVP_PKEY* pkey) {
  ErrorQueueGuard guard;
  PkeyPtr owned(pkey);
  if (!owned) return Status::InvalidArgument("null key");
  BYOK_ASSIGN_OR_RETURN(KeyInfo info, Describe(owned.get()));
  BYOK_ASSIGN_OR_RETURN(PkeyPtr pub, PublicOnlyCopy(owned.get()));
  BYOK_ASSIGN_OR_RETURN(bool ok, CheckPublic(pub.get()));
  if (!ok) return OpenSslError(StatusCode::kInvalidArgument, "invalid public key");
  PublicKey key;
  key.pkey_.reset(pub.release());
  key.type_ = info.type;
  key.bits_ = info.bits;
  key.curve_ = info.curve;
  return key;
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  ErrorQueueGuard guard;
  BYOK_ASSIGN_OR_RETURN(BioPtr bio, ReadOnlyBio(pem));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr);
  if (pkey == nullptr) {
    return OpenSslError(StatusCode::kInvalidArgument, "not a PEM SubjectPublicKeyInfo");
  }
  return FromEvpPkey(pkey);
}

Result<PublicKey> PublicKey::FromDer(std::span<const uint8_t> der) {
  ErrorQueueGuard guard;
  if (der.empty()) return Status::InvalidArgument("empty key encoding");
  if (der.size() > kMaxKeyEncodingSize) return Status::InvalidArgument("key encoding too large");
  const unsigned char* p = der.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pkey == nullptr) {
    return OpenSslError(StatusCode::kInvalidArgument, "not a DER SubjectPublicKeyInfo");
  }
  if (p != der.data() + der.size()) {
    EVP_PKEY_free(pkey);
    return Status::InvalidArgument("trailing bytes after SubjectPublicKeyInfo");
  }
  return FromEvpPkey(pkey);
}

Result<std::string> PublicKey::ToPem() const {
  ErrorQueueGuard guard;
  if (!valid()) return Status::FailedPrecondition("empty public key");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot write public key PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::vector<uint8_t>> PublicKey::ToDer() const {
  ErrorQueueGuard guard;
  if (!valid()) return Status::FailedPrecondition("empty public key");
  int len = i2d_PUBKEY(pkey_.get(), nullptr);
  if (len <= 0) return OpenSslError(StatusCode::kInternal, "cannot encode public key");
  std::vector<uint8_t> out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PUBKEY(pkey_.get(), &p) != len) {
    return OpenSslError(StatusCode::kInternal, "cannot encode public key");
  }
  return out;
}

bool PublicKey::Equals(const PublicKey& other) const {
  ErrorQueueGuard guard;
  if (!valid() || !other.valid()) return false;
  return EVP_PKEY_eq(pkey_.get(), other.pkey_.get()) == 1;
}

PublicKey::PublicKey() : ctx_pool_(std::make_shared<internal::PkeyCtxPool>()) {}

PublicKey PublicKey::Clone() const {
  PublicKey copy;
  if (valid() && EVP_PKEY_up_ref(pkey_.get()) == 1) {
    copy.pkey_.reset(pkey_.get());
    copy.ctx_pool_ = ctx_pool_;
    copy.type_ = type_;
    copy.bits_ = bits_;
    copy.curve_ = curve_;
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------
// PrivateKey

Result<PrivateKey> PrivateKey::Adopt(EVP_PKEY* pkey, bool check) {
  PkeyPtr owned(pkey);
  if (!owned) return Status::InvalidArgument("null key");
  BYOK_ASSIGN_OR_RETURN(KeyInfo info, Describe(owned.get()));
  if (check) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, owned.get(), nullptr));
    if (!ctx) return Status::Internal("EVP_PKEY_CTX_new_from_pkey failed");
    // Checks that the private and public parts belong together (for RSA: n = pq, d and the CRT
    // values match e, p and q are prime), and that the public key is valid.
    if (EVP_PKEY_pairwise_check(ctx.get()) != 1 || EVP_PKEY_public_check(ctx.get()) != 1) {
      return OpenSslError(StatusCode::kInvalidArgument, "inconsistent private key");
    }
  }
  BYOK_ASSIGN_OR_RETURN(PkeyPtr pub, PublicOnlyCopy(owned.get()));
  PrivateKey key;
  key.public_.pkey_.reset(pub.release());
  key.public_.type_ = info.type;
  key.public_.bits_ = info.bits;
  key.public_.curve_ = info.curve;
  key.pkey_.reset(owned.release());
  return key;
}

Result<PrivateKey> PrivateKey::FromEvpPkey(EVP_PKEY* pkey) {
  ErrorQueueGuard guard;
  return Adopt(pkey, /*check=*/true);
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  ErrorQueueGuard guard;
  BYOK_ASSIGN_OR_RETURN(BioPtr bio, ReadOnlyBio(pem));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (pkey == nullptr) {
    return OpenSslError(StatusCode::kInvalidArgument,
                        "not an unencrypted PEM private key (PKCS#8, RSA or EC)");
  }
  return Adopt(pkey, /*check=*/true);
}

Result<SecretBytes> PrivateKey::ToPem() const {
  ErrorQueueGuard guard;
  if (!valid()) return Status::FailedPrecondition("empty private key");
  // BIO_s_secmem wipes its buffer when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot write private key PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return SecretBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len)));
}

PrivateKey::PrivateKey() : ctx_pool_(std::make_shared<internal::PkeyCtxPool>()) {}

PrivateKey PrivateKey::Clone() const {
  PrivateKey copy;
  if (valid() && EVP_PKEY_up_ref(pkey_.get()) == 1) {
    copy.pkey_.reset(pkey_.get());
    copy.ctx_pool_ = ctx_pool_;
    copy.public_ = public_.Clone();
  }
  return copy;
}

Result<PrivateKey> GenerateRsaKey(int bits) {
  ErrorQueueGuard guard;
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    return Status::InvalidArgument("RSA key size must be 2048, 3072 or 4096 bits");
  }
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  if (pkey == nullptr) return OpenSslError(StatusCode::kInternal, "RSA key generation failed");
  return PrivateKey::Adopt(pkey, /*check=*/false);
}

Result<PrivateKey> GenerateEcKey(Curve curve) {
  ErrorQueueGuard guard;
  const char* name = nullptr;
  switch (curve) {
    case Curve::kP256:
      name = "P-256";
      break;
    case Curve::kP384:
      name = "P-384";
      break;
    case Curve::kP521:
      name = "P-521";
      break;
  }
  if (name == nullptr) return Status::InvalidArgument("unknown curve");
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", name);
  if (pkey == nullptr) return OpenSslError(StatusCode::kInternal, "EC key generation failed");
  return PrivateKey::Adopt(pkey, /*check=*/false);
}

}  // namespace byok::crypto
