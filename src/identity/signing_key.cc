#include "identity/signing_key.h"

#include "common/encoding.h"
#include "crypto/jwk.h"
#include "crypto/sign.h"

namespace byok::identity {

using json = nlohmann::json;

SigningKey::SigningKey(crypto::PrivateKey key, std::string kid, json jwks)
    : key_(std::move(key)),
      public_key_(key_.Public()),
      kid_(std::move(kid)),
      jwks_(std::move(jwks)) {}

Result<std::string> SigningKey::Thumbprint(const crypto::PublicKey& key) {
  if (key.type() != crypto::KeyType::kRsa) {
    return Status::InvalidArgument("the signing key must be RSA");
  }
  BYOK_ASSIGN_OR_RETURN(json jwk, crypto::PublicKeyToJwk(key));
  // RFC 7638 section 3.2: the required members in lexicographic order, no whitespace.
  std::string canonical = R"({"e":")" + jwk["e"].get<std::string>() + R"(","kty":"RSA","n":")" +
                          jwk["n"].get<std::string>() + R"("})";
  BYOK_ASSIGN_OR_RETURN(auto digest,
                        crypto::Digest(crypto::HashAlgorithm::kSha256, AsBytes(canonical)));
  return Base64UrlEncode(digest);
}

Result<std::shared_ptr<const SigningKey>> SigningKey::FromKey(crypto::PrivateKey key) {
  if (!key.valid() || key.type() != crypto::KeyType::kRsa) {
    return Status::InvalidArgument("the signing key must be RSA");
  }
  crypto::PublicKey pub = key.Public();
  BYOK_ASSIGN_OR_RETURN(std::string kid, Thumbprint(pub));
  BYOK_ASSIGN_OR_RETURN(json jwk, crypto::PublicKeyToJwk(pub));
  json entry = {{"kty", "RSA"},  {"use", "sig"},  {"kid", kid},
                {"n", jwk["n"]}, {"e", jwk["e"]}, {"alg", "RS256"}};
  json jwks = {{"keys", json::array({entry})}};
  return std::shared_ptr<const SigningKey>(
      new SigningKey(std::move(key), std::move(kid), std::move(jwks)));
}

namespace {

Result<std::optional<crypto::PrivateKey>> LoadCurrent(store::Transaction& txn) {
  BYOK_ASSIGN_OR_RETURN(auto kid, txn.GetMeta(kMetaSigningKid));
  if (!kid) return std::optional<crypto::PrivateKey>();
  BYOK_ASSIGN_OR_RETURN(SecretBytes pem, txn.GetSecret(kSigningKeySecretPrefix + *kid));
  BYOK_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::FromPem(ToString(pem.span())));
  return std::optional<crypto::PrivateKey>(std::move(key));
}

}  // namespace

Result<std::shared_ptr<const SigningKey>> SigningKey::LoadOrCreate(store::Store& store) {
  {
    BYOK_ASSIGN_OR_RETURN(auto read, store.BeginRead());
    BYOK_ASSIGN_OR_RETURN(auto key, LoadCurrent(*read));
    if (key) return FromKey(std::move(*key));
  }
  // Generate outside the write transaction (it takes a while), then publish unless another
  // process won the race.
  BYOK_ASSIGN_OR_RETURN(crypto::PrivateKey fresh, crypto::GenerateRsaKey(2048));
  BYOK_ASSIGN_OR_RETURN(std::string kid, Thumbprint(fresh.Public()));
  BYOK_ASSIGN_OR_RETURN(SecretBytes pem, fresh.ToPem());
  BYOK_ASSIGN_OR_RETURN(auto txn, store.Begin());
  BYOK_ASSIGN_OR_RETURN(auto existing, LoadCurrent(*txn));
  if (existing) return FromKey(std::move(*existing));
  BYOK_TRY(txn->PutSecret(kSigningKeySecretPrefix + kid, pem.span()));
  BYOK_TRY(txn->PutMeta(kMetaSigningKid, kid));
  BYOK_TRY(txn->Commit());
  return FromKey(std::move(fresh));
}

Result<std::string> SigningKey::Sign(const json& claims) const {
  return crypto::EncodeJwt({{"kid", kid_}}, claims, key_);
}

Status SigningKey::Verify(const crypto::ParsedJwt& jwt) const {
  if (auto kid = jwt.header.find("kid"); kid != jwt.header.end()) {
    if (!kid->is_string() || kid->get<std::string>() != kid_) {
      return Status::Unauthenticated("unknown signing key");
    }
  }
  Status s = crypto::VerifyJwtSignature(jwt, public_key_);
  if (!s.ok()) return Status::Unauthenticated("invalid signature");
  return Status::Ok();
}

}  // namespace byok::identity
