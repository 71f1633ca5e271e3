// KeyStore: the logic of the Key Vault keys data plane over the metadata store — key lifecycle
// (create, import, versions, update, soft delete, recover, purge, backup/restore, rotation and
// rotation policies), cryptographic operations and housekeeping (scheduled purge, rotation
// policy execution). The HTTP layer (keys_service.h) authenticates, authorizes and routes; the
// methods here take the vault the request is for (a live vault) and already-parsed JSON bodies,
// and return Key Vault's response body or a KvError from errors.h.
//
// Rules enforced here (Azure's):
//   - names ^[0-9a-zA-Z-]{1,127}$; versions 32 hex digits;
//   - RSA 2048/3072/4096 and EC P-256/P-384/P-521; *-HSM key types only in premium vaults;
//   - a disabled version answers KeyDisabled (get and every crypto operation); an operation not
//     in key_ops answers KeyOperationForbidden; encrypt, wrapKey and sign outside nbf..exp answer
//     KeyNotYetValid / KeyExpired (decrypt, unwrapKey and verify still work, as in Azure);
//   - a soft-deleted key is invisible to key operations (KeyNotFound), its name cannot be reused
//     (409 ObjectIsDeletedButRecoverable) and it is purged at scheduledPurgeDate = deletedDate +
//     the vault's retention; purge before that date is refused when the vault has purge
//     protection (403).
// Storage layout: key_model.h. Key material is written only with Transaction::PutSecret.
//
// Performance: crypto operations use one read transaction (key and version documents: the
// attributes are read per request) and a cache of parsed private keys (key_material.h); no write
// transaction is on the crypto path.
//
// Thread safety: thread-safe. Times come from the injected Clock (the server's emulated clock);
// housekeeping takes "now" from its caller (the Scheduler).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "keyvault/errors.h"
#include "keyvault/key_material.h"
#include "keyvault/key_model.h"
#include "keyvault/vault_store.h"
#include "store/generation_cache.h"
#include "store/store.h"

namespace byok::keyvault {

struct KvResponse {
  int status = 200;
  nlohmann::json body;  // null for 204
  std::string version;  // the key version the operation used or made ("" if none), for audit
  // Lists: the $skiptoken of the next page, if there is one (the HTTP layer makes the nextLink).
  std::optional<std::string> next_token;
};

// One page of a list: at most max_results items after `after` (a lower-case key name or version;
// "" from the start).
struct PageRequest {
  int max_results = 25;
  std::string after;
};

enum class CryptoOp { kEncrypt, kDecrypt, kWrapKey, kUnwrapKey, kSign, kVerify };
// The key_ops / access-policy name: "encrypt", ..., "wrapKey", "unwrapKey", "sign", "verify".
std::string_view CryptoOpName(CryptoOp op);

// What a housekeeping run did, one entry per key purged or rotated (for the audit log).
struct HousekeepingEvent {
  std::string vault;
  std::string key;
  std::string version;    // the new version of a rotation; "" for a purge
  std::string operation;  // "KeyPurge" or "KeyRotate"
};

class KeyStore {
 public:
  // backup_key: DeriveBackupKey(root key) (backup.h).
  KeyStore(store::Store& store, const Clock& clock, Random& random, SecretBytes backup_key);

  // `base` is "https://" + the host (and port) the client called: kids, recoveryIds and policy
  // ids are built from it. `version` "" means the current version.
  KvResult<KvResponse> CreateKey(const VaultRecord& vault, std::string_view base,
                                 std::string_view name, const nlohmann::json& body);
  KvResult<KvResponse> ImportKey(const VaultRecord& vault, std::string_view base,
                                 std::string_view name, const nlohmann::json& body);
  KvResult<KvResponse> GetKey(const VaultRecord& vault, std::string_view base,
                              std::string_view name, std::string_view version);
  KvResult<KvResponse> ListKeys(const VaultRecord& vault, std::string_view base,
                                const PageRequest& page);
  KvResult<KvResponse> ListVersions(const VaultRecord& vault, std::string_view base,
                                    std::string_view name, const PageRequest& page);
  KvResult<KvResponse> UpdateKey(const VaultRecord& vault, std::string_view base,
                                 std::string_view name, std::string_view version,
                                 const nlohmann::json& body);
  KvResult<KvResponse> DeleteKey(const VaultRecord& vault, std::string_view base,
                                 std::string_view name);
  KvResult<KvResponse> GetDeletedKey(const VaultRecord& vault, std::string_view base,
                                     std::string_view name);
  KvResult<KvResponse> ListDeletedKeys(const VaultRecord& vault, std::string_view base,
                                       const PageRequest& page);
  KvResult<KvResponse> RecoverDeletedKey(const VaultRecord& vault, std::string_view base,
                                         std::string_view name);
  KvResult<KvResponse> PurgeDeletedKey(const VaultRecord& vault, std::string_view name);
  KvResult<KvResponse> BackupKey(const VaultRecord& vault, std::string_view name);
  KvResult<KvResponse> RestoreKey(const VaultRecord& vault, std::string_view base,
                                  const nlohmann::json& body);
  KvResult<KvResponse> RotateKey(const VaultRecord& vault, std::string_view base,
                                 std::string_view name);
  KvResult<KvResponse> GetRotationPolicy(const VaultRecord& vault, std::string_view base,
                                         std::string_view name);
  KvResult<KvResponse> SetRotationPolicy(const VaultRecord& vault, std::string_view base,
                                         std::string_view name, const nlohmann::json& body);
  // encrypt/decrypt/wrapkey/unwrapkey: {"alg","value"} → {"kid","value"}; sign: {"alg","value"
  // (the digest)} → {"kid","value"}; verify: {"alg","digest","value"} → {"value": bool}.
  // The key version and its private key come from an in-memory cache validated by the store's
  // change generation (no store access at all while nothing was written).
  KvResult<KvResponse> Crypto(const VaultRecord& vault, std::string_view base,
                              std::string_view name, std::string_view version, CryptoOp op,
                              const nlohmann::json& body);
  // {"count": 1..128} → {"value": base64url}.
  KvResult<KvResponse> GetRandomBytes(const nlohmann::json& body);

  // Purges every soft-deleted key whose scheduledPurgeDate <= now. Idempotent.
  Result<std::vector<HousekeepingEvent>> PurgeExpired(TimePoint now);
  // Rotates every live key of a live vault whose rotation policy's Rotate action is due at now.
  // Idempotent (a rotation makes a new current version, which is not due).
  Result<std::vector<HousekeepingEvent>> RunRotationPolicies(TimePoint now);

  const KeyCache& cache() const { return cache_; }

 private:
  struct NewVersion;
  struct Loaded;
  struct CryptoTarget;  // a key version's documents and parsed material, for crypto operations

  KvResult<KvResponse> ListCurrentVersions(const VaultRecord& vault, std::string_view base,
                                           const PageRequest& page, bool deleted);
  KvResult<NewVersion> GenerateMaterial(const VaultRecord& vault, const nlohmann::json& body);
  KvResult<NewVersion> ImportMaterial(const VaultRecord& vault, const nlohmann::json& body);
  // Writes a new version (creating the key if absent); refuses a soft-deleted name.
  KvResult<KvResponse> StoreNewVersion(const VaultRecord& vault, std::string_view base,
                                       std::string_view name, NewVersion nv,
                                       std::optional<std::string> expect_current, int64_t now);
  KvResult<Loaded> LoadLive(store::Transaction& txn, const VaultRecord& vault,
                            std::string_view name, std::string_view version);
  KvResult<std::shared_ptr<const CachedKey>> Material(store::Transaction& txn,
                                                      std::string_view guid, std::string_view name,
                                                      std::string_view version);
  KvResult<NewVersion> RotationMaterial(const VaultRecord& vault, const Loaded& current,
                                        int64_t now);
  Status PurgeKeyData(store::Transaction& txn, std::string_view guid, std::string_view name);

  store::Store& store_;
  const Clock& clock_;
  Random& random_;
  const SecretBytes backup_key_;
  KeyCache cache_;
  // Crypto operations by "{guid}/{name}/{version}" (lower case; version "" = latest), valid
  // while the store's change generation holds: a wrap/unwrap then reads nothing from the store.
  store::GenerationCache<CryptoTarget> targets_;
};

}  // namespace byok::keyvault
