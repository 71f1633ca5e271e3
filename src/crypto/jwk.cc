#include "crypto/jwk.h"

#include <string>

#include <openssl/core_names.h>

#include "common/encoding.h"
#include "crypto/openssl_util.h"

namespace byok::crypto {
namespace {

using internal::Base64UrlDecodeStrict;
using internal::ErrorQueueGuard;
using internal::OpenSslError;
using internal::ParamBldPtr;
using internal::ParamsPtr;
using internal::PkeyCtxPtr;
using internal::SecretBnFromBytes;
using internal::SecretBnPtr;

using json = nlohmann::json;

// Largest RSA integer accepted (8192-bit modulus), plus one byte for a leading zero.
constexpr size_t kMaxRsaIntSize = kMaxRsaBits / 8 + 1;
// Public exponents above 2^256 are invalid anyway (SP 800-56B); bound the parse.
constexpr size_t kMaxRsaExponentSize = 33;

// ---------------------------------------------------------------------------------------------
// Export helpers

Result<SecretBytes> GetBnBytes(EVP_PKEY* pkey, const char* name, size_t pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    return OpenSslError(StatusCode::kInternal, std::string("cannot read key parameter ") + name);
  }
  SecretBnPtr bn(raw);
  size_t size = pad_to != 0 ? pad_to : static_cast<size_t>(BN_num_bytes(bn.get()));
  // RFC 7518 encodes zero as one zero byte ("AA").
  if (size == 0) size = 1;
  SecretBytes out(size);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(size)) < 0) {
    return Status::Internal(std::string("key parameter too large: ") + name);
  }
  return out;
}

Status PutBn(json& jwk, const char* member, EVP_PKEY* pkey, const char* param, size_t pad_to) {
  BYOK_ASSIGN_OR_RETURN(SecretBytes bytes, GetBnBytes(pkey, param, pad_to));
  jwk[member] = Base64UrlEncode(bytes.span());
  return Status::Ok();
}

Result<json> PublicJwk(const PublicKey& key) {
  if (!key.valid()) return Status::FailedPrecondition("empty key");
  json jwk = json::object();
  if (key.type() == KeyType::kRsa) {
    jwk["kty"] = "RSA";
    BYOK_TRY(PutBn(jwk, "n", key.get(), OSSL_PKEY_PARAM_RSA_N, 0));
    BYOK_TRY(PutBn(jwk, "e", key.get(), OSSL_PKEY_PARAM_RSA_E, 0));
  } else {
    Curve curve = *key.curve();
    size_t size = CurveByteSize(curve);
    jwk["kty"] = "EC";
    jwk["crv"] = std::string(CurveName(curve));
    BYOK_TRY(PutBn(jwk, "x", key.get(), OSSL_PKEY_PARAM_EC_PUB_X, size));
    BYOK_TRY(PutBn(jwk, "y", key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, size));
  }
  return jwk;
}

// ---------------------------------------------------------------------------------------------
// Import helpers

Result<std::string_view> GetString(const json& jwk, const char* member) {
  auto it = jwk.find(member);
  if (it == jwk.end())
    return Status::InvalidArgument(std::string("JWK is missing \"") + member + "\"");
  if (!it->is_string()) {
    return Status::InvalidArgument(std::string("JWK member \"") + member + "\" is not a string");
  }
  return std::string_view(it->get_ref<const std::string&>());
}

Result<SecretBytes> GetBytes(const json& jwk, const char* member, size_t max_size) {
  BYOK_ASSIGN_OR_RETURN(std::string_view text, GetString(jwk, member));
  Result<SecretBytes> bytes = Base64UrlDecodeStrict(text, max_size);
  if (!bytes.ok()) return bytes.status().WithContext(std::string("JWK member \"") + member + "\"");
  if (bytes->empty()) {
    return Status::InvalidArgument(std::string("JWK member \"") + member + "\" is empty");
  }
  return bytes;
}

enum class Kty { kRsa, kEc };

Result<Kty> GetKty(const json& jwk) {
  if (!jwk.is_object()) return Status::InvalidArgument("JWK is not a JSON object");
  BYOK_ASSIGN_OR_RETURN(std::string_view kty, GetString(jwk, "kty"));
  if (kty == "RSA" || kty == "RSA-HSM") return Kty::kRsa;
  if (kty == "EC" || kty == "EC-HSM") return Kty::kEc;
  return Status::InvalidArgument("unsupported JWK kty (only RSA and EC)");
}

// Pushes a big-endian integer member as a BIGNUM param. The BIGNUM is kept alive in `keep` until
// the params are built.
Status PushBn(OSSL_PARAM_BLD* bld, const char* param, const SecretBytes& bytes,
              std::vector<SecretBnPtr>& keep) {
  BYOK_ASSIGN_OR_RETURN(SecretBnPtr bn, SecretBnFromBytes(bytes.span()));
  if (OSSL_PARAM_BLD_push_BN(bld, param, bn.get()) != 1) {
    return OpenSslError(StatusCode::kInternal, "OSSL_PARAM_BLD_push_BN failed");
  }
  keep.push_back(std::move(bn));
  return Status::Ok();
}

// Builds an EVP_PKEY of `type` ("RSA" or "EC") from params. selection: EVP_PKEY_PUBLIC_KEY or
// EVP_PKEY_KEYPAIR. Caller owns the result.
Result<EVP_PKEY*> FromData(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return OpenSslError(StatusCode::kInternal, "OSSL_PARAM_BLD_to_param failed");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1 || pkey == nullptr) {
    return OpenSslError(StatusCode::kInvalidArgument, "invalid JWK key material");
  }
  return pkey;
}

Result<EVP_PKEY*> RsaFromJwk(const json& jwk, bool with_private) {
  if (with_private && jwk.contains("oth")) {
    return Status::InvalidArgument("multi-prime RSA JWKs (\"oth\") are not supported");
  }
  BYOK_ASSIGN_OR_RETURN(SecretBytes n, GetBytes(jwk, "n", kMaxRsaIntSize));
  BYOK_ASSIGN_OR_RETURN(SecretBytes e, GetBytes(jwk, "e", kMaxRsaExponentSize));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return Status::Internal("OSSL_PARAM_BLD_new failed");
  std::vector<SecretBnPtr> keep;
  BYOK_TRY(PushBn(bld.get(), OSSL_PKEY_PARAM_RSA_N, n, keep));
  BYOK_TRY(PushBn(bld.get(), OSSL_PKEY_PARAM_RSA_E, e, keep));
  if (with_private) {
    static constexpr std::pair<const char*, const char*> kMembers[] = {
        {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    };
    for (const auto& [member, param] : kMembers) {
      BYOK_ASSIGN_OR_RETURN(SecretBytes value, GetBytes(jwk, member, n.size()));
      BYOK_TRY(PushBn(bld.get(), param, value, keep));
    }
  }
  return FromData("RSA", bld.get(), with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
}

Result<EVP_PKEY*> EcFromJwk(const json& jwk, bool with_private) {
  BYOK_ASSIGN_OR_RETURN(std::string_view crv, GetString(jwk, "crv"));
  BYOK_ASSIGN_OR_RETURN(Curve curve, ParseCurve(crv));
  size_t size = CurveByteSize(curve);
  BYOK_ASSIGN_OR_RETURN(SecretBytes x, GetBytes(jwk, "x", size));
  BYOK_ASSIGN_OR_RETURN(SecretBytes y, GetBytes(jwk, "y", size));
  if (x.size() != size || y.size() != size) {
    return Status::InvalidArgument("JWK EC coordinates must be exactly the curve size");
  }
  std::vector<uint8_t> point;
  point.reserve(1 + 2 * size);
  point.push_back(0x04);  // uncompressed
  point.insert(point.end(), x.span().begin(), x.span().end());
  point.insert(point.end(), y.span().begin(), y.span().end());

  const char* group = curve == Curve::kP256   ? SN_X9_62_prime256v1
                      : curve == Curve::kP384 ? SN_secp384r1
                                              : SN_secp521r1;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslError(StatusCode::kInternal, "OSSL_PARAM_BLD failed");
  }
  std::vector<SecretBnPtr> keep;
  if (with_private) {
    BYOK_ASSIGN_OR_RETURN(SecretBytes d, GetBytes(jwk, "d", size));
    if (d.size() != size) {
      return Status::InvalidArgument("JWK EC private key must be exactly the curve size");
    }
    BYOK_TRY(PushBn(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d, keep));
  }
  return FromData("EC", bld.get(), with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
}

}  // namespace

Result<json> PublicKeyToJwk(const PublicKey& key) {
  ErrorQueueGuard guard;
  return PublicJwk(key);
}

Result<json> PrivateKeyToJwk(const PrivateKey& key) {
  ErrorQueueGuard guard;
  if (!key.valid()) return Status::FailedPrecondition("empty key");
  BYOK_ASSIGN_OR_RETURN(json jwk, PublicJwk(key.Public()));
  if (key.type() == KeyType::kRsa) {
    BYOK_TRY(PutBn(jwk, "d", key.get(), OSSL_PKEY_PARAM_RSA_D, 0));
    BYOK_TRY(PutBn(jwk, "p", key.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, 0));
    BYOK_TRY(PutBn(jwk, "q", key.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, 0));
    BYOK_TRY(PutBn(jwk, "dp", key.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, 0));
    BYOK_TRY(PutBn(jwk, "dq", key.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, 0));
    BYOK_TRY(PutBn(jwk, "qi", key.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 0));
  } else {
    BYOK_TRY(PutBn(jwk, "d", key.get(), OSSL_PKEY_PARAM_PRIV_KEY, CurveByteSize(*key.curve())));
  }
  return jwk;
}

Result<PublicKey> PublicKeyFromJwk(const json& jwk) {
  ErrorQueueGuard guard;
  BYOK_ASSIGN_OR_RETURN(Kty kty, GetKty(jwk));
  BYOK_ASSIGN_OR_RETURN(EVP_PKEY * pkey,
                        kty == Kty::kRsa ? RsaFromJwk(jwk, false) : EcFromJwk(jwk, false));
  return PublicKey::FromEvpPkey(pkey);
}

Result<PrivateKey> PrivateKeyFromJwk(const json& jwk) {
  ErrorQueueGuard guard;
  BYOK_ASSIGN_OR_RETURN(Kty kty, GetKty(jwk));
  BYOK_ASSIGN_OR_RETURN(EVP_PKEY * pkey,
                        kty == Kty::kRsa ? RsaFromJwk(jwk, true) : EcFromJwk(jwk, true));
  return PrivateKey::FromEvpPkey(pkey);
}

}  // namespace byok::crypto
