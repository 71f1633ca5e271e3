// The stored model of Key Vault keys and its rendering as Key Vault 7.x JSON.
//
// Storage (see vault_store.h for the vault side; docs/ARCHITECTURE.md):
//   key      /byok/keyvault/vaults/{guid}/keys/{lower name}             type byok.keyvault.key
//            parent /byok/keyvault/vaults/{guid}
//            body {"name" (case as created), "vault" (vault name), "current_version",
//                  "next_seq", "deleted": null | {"deletedDate","scheduledPurgeDate",
//                  "recoveryId"}, "rotation_policy": null | <RotationPolicy JSON>}
//   version  /byok/keyvault/vaults/{guid}/keys/{lower name}/versions/{ver}
//            type byok.keyvault.keyversion, parent the key
//            body {"kty", "key_ops", "jwk": {public members: n,e | crv,x,y}, "attributes":
//                  {"enabled","nbf","exp","created","updated","recoveryLevel",
//                   "recoverableDays"}, "tags", "created_seq"}
//   material sealed secret "keyvault/{guid}/keys/{lower name}/{ver}" = PKCS#8 DER private key
// Versions are 32 lower-case hex digits; their material never changes once written, their
// attributes do (UpdateKey). Times are Unix seconds on the server's (emulated) clock.
//
// Rendering: a KeyBundle is {"key": {"kid", "kty", "key_ops", public members}, "attributes":
// {...}, "tags"?}; kids are "{base}/keys/{name}/{version}" where base is "https://" + the Host
// the client called. recoveryLevel and recoverableDays are computed from the vault at render
// time (purge protection may be turned on after a key was created).
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/random.h"
#include "common/status.h"
#include "keyvault/vault_store.h"

namespace byok::keyvault {

inline constexpr std::string_view kKeyType = "byok.keyvault.key";
inline constexpr std::string_view kKeyVersionType = "byok.keyvault.keyversion";

// ^[0-9a-zA-Z-]{1,127}$
bool IsValidKeyName(std::string_view name);
// 32 hex digits (any case; stored and compared lower-case).
bool IsValidVersion(std::string_view version);
// A fresh version id: 32 lower-case hex digits.
std::string NewVersionId(Random& random);

std::string ToLower(std::string_view s);

std::string KeyResourceId(std::string_view vault_guid, std::string_view key_name);
std::string VersionResourceId(std::string_view vault_guid, std::string_view key_name,
                              std::string_view version);
std::string KeySecretName(std::string_view vault_guid, std::string_view key_name,
                          std::string_view version);
// The secret-name prefix of every version of a key: "keyvault/{guid}/keys/{lower name}/".
std::string KeySecretPrefix(std::string_view vault_guid, std::string_view key_name);

struct KeyAttributes {
  bool enabled = true;
  std::optional<int64_t> nbf;
  std::optional<int64_t> exp;
  int64_t created = 0;
  int64_t updated = 0;
};

struct DeletedInfo {
  int64_t deleted_date = 0;
  int64_t scheduled_purge_date = 0;
  std::string recovery_id;
};

struct KeyDoc {
  std::string name;  // case as created
  std::string vault;
  std::string current_version;
  int64_t next_seq = 1;
  std::optional<DeletedInfo> deleted;
  nlohmann::json rotation_policy;  // null when none was set

  nlohmann::json ToJson() const;
  static Result<KeyDoc> FromJson(const nlohmann::json& j);
};

struct VersionDoc {
  std::string version;
  std::string kty;  // "RSA", "RSA-HSM", "EC", "EC-HSM"
  std::vector<std::string> key_ops;
  nlohmann::json jwk;  // public members only (n, e | crv, x, y)
  KeyAttributes attributes;
  nlohmann::json tags;  // object or null
  int64_t created_seq = 0;

  nlohmann::json ToJson(const VaultRecord& vault) const;
  static Result<VersionDoc> FromJson(std::string version, const nlohmann::json& j);
};

// "Recoverable+Purgeable", "Recoverable", "CustomizedRecoverable+Purgeable" or
// "CustomizedRecoverable" (retention below 90 days), as Azure reports them.
std::string RecoveryLevel(const VaultRecord& vault);

// The key operations a key type allows, in Key Vault's order, and the default set for a new key.
std::vector<std::string> AllowedKeyOps(std::string_view kty);
std::vector<std::string> DefaultKeyOps(std::string_view kty);
bool IsRsa(std::string_view kty);  // RSA or RSA-HSM
bool IsEc(std::string_view kty);   // EC or EC-HSM

// {"enabled","nbf"?,"exp"?,"created","updated","recoveryLevel","recoverableDays"}
nlohmann::json RenderAttributes(const KeyAttributes& a, const VaultRecord& vault);
// "{base}/keys/{name}/{version}"
std::string KidOf(std::string_view base, std::string_view name, std::string_view version);
// KeyBundle.
nlohmann::json RenderKeyBundle(std::string_view base, const KeyDoc& key, const VersionDoc& v,
                               const VaultRecord& vault);
// KeyItem of a key list ({kid without version, attributes, tags}) or of a versions list (kid
// with version).
nlohmann::json RenderKeyItem(std::string_view base, const KeyDoc& key, const VersionDoc& v,
                             const VaultRecord& vault, bool with_version);
// DeletedKeyBundle (or the DeletedKeyItem of a list when item is true).
nlohmann::json RenderDeletedKey(std::string_view base, const KeyDoc& key, const VersionDoc& v,
                                const VaultRecord& vault, bool item);
// "{base}/deletedkeys/{name}"
std::string RecoveryIdOf(std::string_view base, std::string_view name);

}  // namespace byok::keyvault
