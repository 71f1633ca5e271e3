// Key Vault key references as disk encryption sets hold them, and what the disk service reads of
// a key without calling the data plane (the way Azure's disk RP reads key metadata through ARM):
//
//   KeyUrl      "https://{vault}.vault.localhost[:{port}]/keys/{name}[/{version}]" parsed. Two
//               URLs name the same key when vault and key name match (ASCII case-insensitive);
//               the same version when the versions match too. The authority (host and port) is
//               kept only to rebuild the URL: a byokd restarted on another port still finds the
//               key.
//   LookupKey   the live vault and the key's stored documents (key_model.h), read in the
//               caller's transaction: the vault (live or soft-deleted), whether the key is
//               soft-deleted, the version's type, public members and attributes.
//
// Thread safety: values and functions over a caller-owned Transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "keyvault/key_model.h"
#include "keyvault/vault_store.h"
#include "store/store.h"

namespace byok::compute {

struct KeyUrl {
  std::string authority;  // "kv.vault.localhost:8443" (lower-case)
  std::string vault;      // the vault name (lower-case)
  std::string name;       // the key name, case as written
  std::string version;    // 32 hex digits (lower-case) or "" for a versionless URL

  // nullopt unless the URL has exactly that shape (https, a host ending in ".vault.localhost",
  // a valid key name and, if present, a valid version; one trailing '/' is tolerated).
  static std::optional<KeyUrl> Parse(std::string_view url);

  // "https://{authority}/keys/{name}[/{version}]"
  std::string ToString() const;
  // The same key, at `version`.
  KeyUrl WithVersion(std::string_view version) const;
  // The URL without its version.
  std::string Versionless() const;

  bool SameKey(const KeyUrl& other) const;
  bool SameVersion(const KeyUrl& other) const;
};

// What LookupKey found.
struct KeyLookup {
  std::optional<keyvault::VaultRecord> vault;   // nullopt: no such vault (never created or purged)
  bool key_exists = false;                      // a key of that name exists (live or deleted)
  bool key_deleted = false;                     // ... and is soft-deleted
  std::optional<keyvault::VersionDoc> version;  // the version asked (or the current one)
  std::string current_version;                  // the key's current version ("" if no key)
};

// Reads the vault and key `url` names. A missing vault, key or version is not an error (see
// KeyLookup); store failures are.
Result<KeyLookup> LookupKey(store::Transaction& txn, const KeyUrl& url);

// The RSA modulus size in bits of a version's public JWK (0 if it has none).
int RsaKeyBits(const keyvault::VersionDoc& version);

}  // namespace byok::compute
