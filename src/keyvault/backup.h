// Key backup blobs (POST /keys/{name}/backup, POST /keys/restore): a key with every version,
// its private material and its rotation policy, sealed so that only this installation can
// restore it. Format (docs/formats/key-backup.md):
//
//   value = base64url( "BYOKKB" | 0x01 | GcmSeal(backup key, payload, AAD) )
//   backup key = HKDF-SHA256(IKM = root key, salt = "", info = "byok keyvault key backup v1")
//   AAD = "byok.keyvault.key-backup.v1"
//   payload = JSON {"format": 1, "name", "current_version", "next_seq", "rotation_policy",
//                   "versions": [{"version", "doc": <stored version document>,
//                                 "material": base64url(PKCS#8 DER)}]}
//
// A blob made by a byok with another root key (another data directory) does not open: the GCM
// tag fails, and RestoreKey answers BadParameter. Like Azure's blobs, a backup can be restored
// into any vault of the installation.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/secret.h"
#include "common/status.h"

namespace byok::keyvault {

inline constexpr size_t kBackupKeySize = 32;

// HKDF-SHA256 of the root key (see the file comment). REQUIRES: root_key is not empty.
Result<SecretBytes> DeriveBackupKey(std::span<const uint8_t> root_key);

// The base64url blob. REQUIRES: backup_key.size() == kBackupKeySize.
Result<std::string> SealBackup(std::span<const uint8_t> backup_key, const nlohmann::json& payload);

// The payload; InvalidArgument if the value is not a blob of this format, DataLoss if it does
// not open under backup_key (altered, or made by another installation).
Result<nlohmann::json> OpenBackup(std::span<const uint8_t> backup_key, std::string_view value);

}  // namespace byok::keyvault
