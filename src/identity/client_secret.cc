#include "identity/client_secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "common/encoding.h"
#include "common/secret.h"

namespace byok::identity {
namespace {

constexpr int kMaxPbkdf2Iterations = 10'000'000;
constexpr char kAlgorithm[] = "PBKDF2-HMAC-SHA256";

bool Pbkdf2(std::string_view secret, const std::vector<uint8_t>& salt, int iterations,
            std::span<uint8_t> out) {
  return PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), salt.data(),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(),
                           static_cast<int>(out.size()), out.data()) == 1;
}

}  // namespace

nlohmann::json SecretHash::ToJson() const {
  return {{"algorithm", algorithm},
          {"iterations", iterations},
          {"salt", Base64Encode(salt)},
          {"hash", Base64Encode(hash)}};
}

Result<SecretHash> SecretHash::FromJson(const nlohmann::json& j) {
  auto bad = [] { return Status::InvalidArgument("malformed stored secret hash"); };
  if (!j.is_object()) return bad();
  auto alg = j.find("algorithm");
  auto it = j.find("iterations");
  auto salt = j.find("salt");
  auto hash = j.find("hash");
  if (alg == j.end() || !alg->is_string() || *alg != kAlgorithm) return bad();
  if (it == j.end() || !it->is_number_integer()) return bad();
  if (salt == j.end() || !salt->is_string() || hash == j.end() || !hash->is_string()) return bad();
  SecretHash out;
  int64_t iterations = it->get<int64_t>();
  if (iterations < kMinPbkdf2Iterations || iterations > kMaxPbkdf2Iterations) return bad();
  out.iterations = static_cast<int>(iterations);
  auto salt_bytes = Base64Decode(salt->get<std::string>());
  auto hash_bytes = Base64Decode(hash->get<std::string>());
  if (!salt_bytes.ok() || !hash_bytes.ok()) return bad();
  if (salt_bytes->size() != kSecretSaltSize || hash_bytes->size() != kSecretHashSize) return bad();
  out.salt = std::move(salt_bytes).value();
  out.hash = std::move(hash_bytes).value();
  return out;
}

std::string GenerateClientSecret(Random& random) {
  while (true) {
    SecretBytes raw(30);
    random.Fill(raw.span());
    std::string secret = Base64UrlEncode(raw.span());
    if (secret.front() != '-') return secret;
    OPENSSL_cleanse(secret.data(), secret.size());
  }
}

Result<SecretHash> HashClientSecret(std::string_view secret, Random& random, int iterations) {
  SecretHash out;
  out.iterations = std::clamp(iterations, kMinPbkdf2Iterations, kMaxPbkdf2Iterations);
  out.salt = random.Bytes(kSecretSaltSize);
  out.hash.resize(kSecretHashSize);
  if (!Pbkdf2(secret, out.salt, out.iterations, out.hash)) {
    return Status::Internal("PKCS5_PBKDF2_HMAC failed");
  }
  return out;
}

bool VerifyClientSecretHash(const SecretHash& stored, std::string_view secret) {
  if (stored.algorithm != kAlgorithm || stored.hash.size() != kSecretHashSize ||
      stored.iterations < kMinPbkdf2Iterations || stored.iterations > kMaxPbkdf2Iterations) {
    return false;
  }
  SecretBytes computed(kSecretHashSize);
  if (!Pbkdf2(secret, stored.salt, stored.iterations, computed.span())) return false;
  return CRYPTO_memcmp(computed.data(), stored.hash.data(), kSecretHashSize) == 0;
}

}  // namespace byok::identity
