// The token-signing key: an RSA-2048 key created on first start, sealed in the store, published
// as a JWKS.
//
// The private key lives only as the sealed store secret "identity/signing-key/<kid>" (PKCS#8
// PEM); store meta kMetaSigningKid names the current one. `kid` is the RFC 7638 JWK thumbprint
// (base64url SHA-256 of {"e","kty","n"}). LoadOrCreate() is safe against concurrent first starts
// (the key is generated outside the write transaction, and the first committed one wins).
//
// Thread safety: immutable after construction; every method may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "store/store.h"

namespace byok::identity {

inline constexpr char kMetaSigningKid[] = "identity.signing_kid";
inline constexpr char kSigningKeySecretPrefix[] = "identity/signing-key/";

class SigningKey {
 public:
  // Loads the current key, or creates, seals and records one.
  static Result<std::shared_ptr<const SigningKey>> LoadOrCreate(store::Store& store);
  // Wraps an existing key (tests). REQUIRES: an RSA key.
  static Result<std::shared_ptr<const SigningKey>> FromKey(crypto::PrivateKey key);

  const std::string& kid() const { return kid_; }
  const crypto::PublicKey& public_key() const { return public_key_; }

  // An RS256 JWT with header {"alg":"RS256","typ":"JWT","kid":kid}.
  Result<std::string> Sign(const nlohmann::json& claims) const;
  // OK if the token's header kid (if present) is this key's and its signature verifies;
  // Unauthenticated otherwise.
  Status Verify(const crypto::ParsedJwt& jwt) const;
  // {"keys":[{"kty":"RSA","use":"sig","kid","n","e","alg":"RS256"}]}
  const nlohmann::json& Jwks() const { return jwks_; }

  // RFC 7638 thumbprint of an RSA public key (base64url, no padding).
  static Result<std::string> Thumbprint(const crypto::PublicKey& key);

 private:
  SigningKey(crypto::PrivateKey key, std::string kid, nlohmann::json jwks);

  crypto::PrivateKey key_;
  crypto::PublicKey public_key_;
  std::string kid_;
  nlohmann::json jwks_;
};

}  // namespace byok::identity
