#include "keyvault/backup.h"

#include <array>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "common/encoding.h"
#include "common/json.h"
#include "crypto/gcm.h"

namespace byok::keyvault {
namespace {

constexpr std::string_view kMagic = "BYOKKB";
constexpr uint8_t kFormatVersion = 1;
constexpr std::string_view kInfo = "byok keyvault key backup v1";
constexpr std::string_view kAad = "byok.keyvault.key-backup.v1";
constexpr size_t kMaxBlob = 4 * 1024 * 1024;

// Wipes a std::string that held secret material.
void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace

Result<SecretBytes> DeriveBackupKey(std::span<const uint8_t> root_key) {
  if (root_key.empty()) return Status::InvalidArgument("empty root key");
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return Status::Internal("HKDF is not available");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return Status::Internal("cannot create an HKDF context");
  char digest[] = "SHA256";
  std::array<OSSL_PARAM, 4> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(root_key.data()),
                                        root_key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kInfo.data()),
                                        kInfo.size()),
      OSSL_PARAM_construct_end()};
  SecretBytes out(kBackupKeySize);
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params.data());
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) return Status::Internal("HKDF derivation failed");
  return out;
}

Result<std::string> SealBackup(std::span<const uint8_t> backup_key, const nlohmann::json& payload) {
  std::string plain = DumpJson(payload);
  auto sealed = crypto::GcmSeal(backup_key, AsBytes(plain), AsBytes(kAad));
  Wipe(plain);
  if (!sealed.ok()) return sealed.status();
  std::vector<uint8_t> blob(kMagic.begin(), kMagic.end());
  blob.push_back(kFormatVersion);
  blob.insert(blob.end(), sealed->begin(), sealed->end());
  return Base64UrlEncode(blob);
}

Result<nlohmann::json> OpenBackup(std::span<const uint8_t> backup_key, std::string_view value) {
  if (value.empty() || value.size() > kMaxBlob) {
    return Status::InvalidArgument("backup blob has a bad size");
  }
  Result<std::vector<uint8_t>> blob = Base64UrlDecode(value);
  if (!blob.ok()) return Status::InvalidArgument("backup blob is not base64url");
  if (blob->size() <= kMagic.size() + 1 ||
      std::string_view(reinterpret_cast<const char*>(blob->data()), kMagic.size()) != kMagic ||
      (*blob)[kMagic.size()] != kFormatVersion) {
    return Status::InvalidArgument("not a byok key backup blob");
  }
  std::span<const uint8_t> sealed(blob->data() + kMagic.size() + 1,
                                  blob->size() - kMagic.size() - 1);
  Result<SecretBytes> plain = crypto::GcmOpen(backup_key, sealed, AsBytes(kAad));
  if (!plain.ok()) return Status::DataLoss("backup blob does not open under this installation");
  std::string text(reinterpret_cast<const char*>(plain->data()), plain->size());
  Result<nlohmann::json> payload = ParseJsonBody(text, JsonLimits{kMaxBlob, 16});
  Wipe(text);
  if (!payload.ok() || !payload->is_object()) {
    return Status::InvalidArgument("backup payload is malformed");
  }
  auto format = payload->find("format");
  if (format == payload->end() || !format->is_number_integer() || format->get<int64_t>() != 1) {
    return Status::InvalidArgument("backup payload has an unknown format");
  }
  return payload;
}

}  // namespace byok::keyvault
