// KeyWrapper: how a disk's data key (DEK) is wrapped for one encryption layer and unwrapped again.
//
// A disk has one or two independent encryption layers (blockstore.h), each with its own random
// 64-byte AES-256-XTS DEK. A layer's DEK is stored only wrapped:
//   - platform layer: by the platform key of this installation (AES-256 key wrap, RFC 3394, under
//     a key derived from the root key; PlatformKeyWrapper in blockstore.h);
//   - customer layer: by the customer's RSA key in Key Vault, through the Key Vault data plane as
//     the DiskEncryptionSet's managed identity with a real token (compute/vault_key_wrapper.h).
//
// The wrapper is told which key to use (KeyRef) and returns what must be stored to unwrap later
// (WrappedDek). Unwrap errors carry what went wrong so a disk can report it and callers can map it:
//   PermissionDenied  the identity may not use the key (access policy / RBAC) — message says so
//   FailedPrecondition the key is disabled, expired or not yet valid, or the operation is not
//                      allowed on it; the vault is soft-deleted
//   NotFound          the key (or version, or vault) does not exist: purged or never created
//   DataLoss          the wrapped bytes do not unwrap under that key (corruption, wrong key)
//   Unavailable       the key service could not be reached (transient)
// Messages never contain key material.
//
// Thread safety: implementations are thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace byok::blockstore {

enum class Layer { kPlatform, kCustomer };
const char* LayerName(Layer layer);  // "platform" | "customer"

// Which key wraps a layer.
struct KeyRef {
  Layer layer = Layer::kPlatform;
  // platform: "platform:v1" (the platform key's id); customer: the versioned key URL
  // "https://{vault}.vault.localhost:{port}/keys/{name}/{version}" as the DES names it.
  std::string key_id;
  // customer: the DiskEncryptionSet resource id whose managed identity calls Key Vault.
  std::string des_id;
};

struct WrappedDek {
  KeyRef key;
  std::string algorithm;         // "A256KW" (platform) | "RSA-OAEP-256" (customer)
  std::vector<uint8_t> wrapped;  // the wrapped DEK (not secret)
};

class KeyWrapper {
 public:
  virtual ~KeyWrapper() = default;
  // Wraps `dek` under `key`. Errors as in the file comment.
  virtual Result<WrappedDek> Wrap(const KeyRef& key, std::span<const uint8_t> dek) = 0;
  // Unwraps what Wrap returned. Errors as in the file comment.
  virtual Result<SecretBytes> Unwrap(const WrappedDek& wrapped) = 0;
};

}  // namespace byok::blockstore
