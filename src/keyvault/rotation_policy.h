// Key rotation policies (Key Vault 7.3+ GET/PUT /keys/{name}/rotationpolicy) and ISO-8601
// durations.
//
// A policy is {"lifetimeActions": [{"trigger": {"timeAfterCreate" | "timeBeforeExpiry":
// "<ISO-8601 duration>"}, "action": {"type": "Rotate" | "Notify"}}], "attributes":
// {"expiryTime": "<duration>"}}. Azure's rules, enforced by ValidateRotationPolicy (400
// BadParameter otherwise):
//   - every trigger has exactly one of timeAfterCreate / timeBeforeExpiry, at least 7 days;
//   - Notify only with timeBeforeExpiry; at most one Rotate and one Notify action;
//   - expiryTime, when set, is at least 28 days, and every trigger fires at least 7 days before
//     it (timeAfterCreate <= expiryTime - 7d, timeBeforeExpiry <= expiryTime - 7d).
// Action types are accepted in any case and stored and returned capitalized ("Rotate", as the
// service answers). A key without a policy reports Azure's default: Notify 30 days before expiry.
//
// Durations: P[nY][nM][nW][nD][T[nH][nM][nS]] with integer fields; for arithmetic a year is 365
// days and a month 30 days (byok does not do calendar arithmetic on the emulated clock).
//
// Execution (RotationDueTime): a Rotate action is due at created + timeAfterCreate of the key's
// current version, or at its exp - timeBeforeExpiry (when the version has an exp). A rotation
// makes a new current version, so a policy fires once per version. A policy's expiryTime gives
// every version made by a rotation exp = created + expiryTime.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "keyvault/errors.h"
#include "keyvault/key_model.h"

namespace byok::keyvault {

// Seconds in an ISO-8601 duration; InvalidArgument if malformed, negative or absurdly long.
Result<int64_t> ParseIsoDuration(std::string_view text);

// Validates a PUT body and returns the policy to store (normalized, with attributes.created kept
// from `previous` (the stored policy or null) and attributes.updated = now).
KvResult<nlohmann::json> ValidateRotationPolicy(const nlohmann::json& body, int64_t now,
                                                const nlohmann::json& previous);

// The GET/PUT response: the stored policy (or the default when `stored` is null) with "id".
nlohmann::json RenderRotationPolicy(std::string_view base, std::string_view key_name,
                                    const nlohmann::json& stored);

// When the stored policy's Rotate action is due for a current version with these attributes;
// nullopt if it has none or it can never fire (timeBeforeExpiry without exp).
std::optional<int64_t> RotationDueTime(const nlohmann::json& stored, const KeyAttributes& current);

// The policy's expiryTime in seconds, if set.
std::optional<int64_t> PolicyExpirySeconds(const nlohmann::json& stored);

}  // namespace byok::keyvault
