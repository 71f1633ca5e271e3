// Key material of Key Vault keys: PKCS#8 DER (the form sealed in the store) and an in-memory
// cache of parsed private keys.
//
// A key version's material never changes after it is written (attributes do, and are read per
// request), so parsed keys can be cached by "{vault guid}/{lower name}/{version}" without
// invalidation except on purge (Forget / ForgetPrefix). Parsing costs a consistency check (for
// RSA-4096, milliseconds); the cache makes a crypto request cost one private-key operation.
// The cache holds at most `capacity` keys; when full, an arbitrary half is dropped.
//
// Thread safety: KeyCache is thread-safe (shared lock for lookups). Returned keys are immutable
// and shared: crypto functions may use them concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/secret.h"
#include "common/status.h"
#include "crypto/keys.h"

namespace byok::keyvault {

// PKCS#8 PrivateKeyInfo, DER.
Result<SecretBytes> PrivateKeyToDer(const crypto::PrivateKey& key);
// InvalidArgument (DataLoss-worthy for stored material) if not a consistent RSA/EC key.
Result<crypto::PrivateKey> PrivateKeyFromDer(std::span<const uint8_t> der);

struct CachedKey {
  crypto::PrivateKey private_key;
  crypto::PublicKey public_key;
};

class KeyCache {
 public:
  explicit KeyCache(size_t capacity = 4096) : capacity_(capacity) {}

  std::shared_ptr<const CachedKey> Find(const std::string& id) const;
  void Insert(const std::string& id, std::shared_ptr<const CachedKey> key);
  // Drops every entry whose id starts with prefix.
  void ForgetPrefix(std::string_view prefix);
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const CachedKey>> map_;
};

}  // namespace byok::keyvault
