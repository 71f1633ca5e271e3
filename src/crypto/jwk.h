// JSON Web Keys (RFC 7517 / RFC 7518 section 6) for RSA and EC keys, as Azure Key Vault exchanges
// them: RSA {kty, n, e} plus private {d, p, q, dp, dq, qi}; EC {kty, crv, x, y} plus private {d}.
// Integers are base64url without padding; RSA integers are written without leading zero bytes;
// EC coordinates and d are written at the curve's full size (32/48/66 bytes) as RFC 7518 requires.
//
// Import is strict: missing or non-string members, bad base64url, wrong EC member sizes,
// unsupported kty/crv, multi-prime RSA ("oth"), keys outside keys.h's size limits, and
// inconsistent key material (the pair is built with EVP_PKEY_fromdata and checked) are all
// InvalidArgument. "kty" may be "RSA"/"EC" or Key Vault's "RSA-HSM"/"EC-HSM". Other members
// (kid, key_ops, alg, use, ...) are ignored; the caller handles them.
//
// The JSON returned by PrivateKeyToJwk holds private key material in ordinary std::strings that
// are not wiped: keep it short-lived and never log it.
//
// Thread safety: stateless functions; safe to call concurrently.
// REQUIRES: nothing of the JSON value (any value, hostile or not, gets a clean Status); exported
// keys must be valid() (else FailedPrecondition).
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "crypto/keys.h"

namespace byok::crypto {

// {"kty":"RSA","n":...,"e":...} or {"kty":"EC","crv":...,"x":...,"y":...}.
Result<nlohmann::json> PublicKeyToJwk(const PublicKey& key);
// The public members plus the private ones (RSA: d, p, q, dp, dq, qi; EC: d).
Result<nlohmann::json> PrivateKeyToJwk(const PrivateKey& key);

// Reads the public members of an RSA or EC JWK (private members, if present, are ignored).
Result<PublicKey> PublicKeyFromJwk(const nlohmann::json& jwk);
// Reads a private RSA or EC JWK; every private member listed above is required.
Result<PrivateKey> PrivateKeyFromJwk(const nlohmann::json& jwk);

}  // namespace byok::crypto
