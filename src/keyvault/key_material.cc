#include "keyvault/key_material.h"

#include <mutex>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace byok::keyvault {

Result<SecretBytes> PrivateKeyToDer(const crypto::PrivateKey& key) {
  if (!key.valid()) return Status::FailedPrecondition("empty private key");
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(key.get());
  if (p8 == nullptr) return Status::Internal("cannot encode the private key as PKCS#8");
  unsigned char* buf = nullptr;
  int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &buf);
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (len <= 0 || buf == nullptr) return Status::Internal("cannot encode the private key as DER");
  SecretBytes out(std::span<const uint8_t>(buf, static_cast<size_t>(len)));
  OPENSSL_clear_free(buf, static_cast<size_t>(len));
  return out;
}

Result<crypto::PrivateKey> PrivateKeyFromDer(std::span<const uint8_t> der) {
  if (der.empty() || der.size() > crypto::kMaxKeyEncodingSize) {
    return Status::InvalidArgument("private key DER has a bad size");
  }
  const unsigned char* p = der.data();
  PKCS8_PRIV_KEY_INFO* p8 = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  if (p8 == nullptr) return Status::InvalidArgument("not a PKCS#8 private key");
  EVP_PKEY* pkey = EVP_PKCS82PKEY(p8);
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (pkey == nullptr) return Status::InvalidArgument("unreadable PKCS#8 private key");
  return crypto::PrivateKey::FromEvpPkey(pkey);
}

std::shared_ptr<const CachedKey> KeyCache::Find(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = map_.find(id);
  return it == map_.end() ? nullptr : it->second;
}

void KeyCache::Insert(const std::string& id, std::shared_ptr<const CachedKey> key) {
  std::unique_lock lock(mu_);
  if (map_.size() >= capacity_) {
    size_t drop = map_.size() / 2 + 1;
    for (auto it = map_.begin(); it != map_.end() && drop > 0; --drop) it = map_.erase(it);
  }
  map_[id] = std::move(key);
}

void KeyCache::ForgetPrefix(std::string_view prefix) {
  std::unique_lock lock(mu_);
  for (auto it = map_.begin(); it != map_.end();) {
    if (std::string_view(it->first).substr(0, prefix.size()) == prefix) {
      it = map_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t KeyCache::size() const {
  std::shared_lock lock(mu_);
  return map_.size();
}

}  // namespace byok::keyvault
