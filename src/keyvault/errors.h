// The Key Vault data plane's error table, and the error value its services return.
//
// Key Vault answers errors as {"error":{"code":...,"message":...,"innererror":{"code":...}}}:
// the outer code is generic (Forbidden, Conflict, BadParameter, ...) and the inner code, when
// there is one, names the precise cause (ForbiddenByPolicy, ForbiddenByRbac, KeyDisabled,
// ObjectIsDeletedButRecoverable, ...). Every error the keys service answers is one KvErrorSpec
// below, made into a KvError with MakeKvError(spec, args...); handlers never write ad-hoc codes.
//
// Wording follows what Azure returns, as quoted in public reports and SDK tests (users' scripts
// grep for it). Where Azure's exact wording is not known, the message says what is wrong in
// Azure's style; docs/PARITY.md lists those. Arguments are documented per entry; values echoed
// from requests are truncated by the caller (TruncateForError).
//
// Thread safety: constants and values.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/api_error.h"

namespace byok::keyvault {

struct KvErrorSpec {
  std::string_view code;        // error.code
  std::string_view inner_code;  // error.innererror.code; "" for none
  int http_status;
  std::string_view message;  // fmt template
};

struct KvError {
  int http_status = 500;
  std::string code;
  std::string inner_code;
  std::string message;

  // {"error":{"code","message"[,"innererror":{"code"}]}}
  nlohmann::json ToJson() const;
};

// REQUIRES: the argument count matches the template's fields.
template <typename... Args>
KvError MakeKvError(const KvErrorSpec& spec, Args&&... args) {
  return KvError{spec.http_status, std::string(spec.code), std::string(spec.inner_code),
                 fmt::format(fmt::runtime(spec.message), std::forward<Args>(args)...)};
}

// An error from another module's table (the authenticator's 401s), without inner code.
KvError FromApiError(const ApiError& e);

// At most 256 bytes of a request value, for echoing it in a message.
std::string TruncateForError(std::string_view s);

// Holds a T or a KvError. REQUIRES: value() only when ok(); error() only when !ok().
template <typename T>
class [[nodiscard]] KvResult {
 public:
  KvResult(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  KvResult(KvError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const KvError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, KvError> v_;
};

namespace errors {

// ---- Authentication and authorization ----

// 401 without a token is the identity module's (AKV10000); the challenge header is added by the
// keys service to every 401.

// Access-policy vault, no matching permission. Args: the caller ("appid=..;oid=..;iss=.."),
// the permission (as in access policies: get, wrapKey, ...), the vault name, its location.
inline constexpr KvErrorSpec kForbiddenByPolicy{
    "Forbidden", "ForbiddenByPolicy", 403,
    "The user, group or application '{}' does not have keys {} permission on key vault "
    "'{};location={}'. For help resolving this issue, please see "
    "https://go.microsoft.com/fwlink/?linkid=2125287"};
// RBAC vault, no role grants the data action. Args: the caller, the data action, the scope
// (lower-case), the vault name, its location.
inline constexpr KvErrorSpec kForbiddenByRbac{
    "Forbidden", "ForbiddenByRbac", 403,
    "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny "
    "assignments or role definitions were changed recently, please observe propagation "
    "time.\r\nCaller: {}\r\nAction: '{}'\r\nResource: '{}'\r\nAssignment: (not found)\r\n"
    "DenyAssignmentId: null\r\nDecisionReason: null \r\nVault: {};location={}\r\n"};

// ---- Request validation ----

// No api-version query parameter. No args.
inline constexpr KvErrorSpec kMissingApiVersion{"BadParameter", "", 400,
                                                "The 'api-version' query parameter is missing."};
// Args: the version sent, the latest supported version.
inline constexpr KvErrorSpec kUnknownApiVersion{
    "BadParameter", "", 400,
    "The specified version ({}) is not recognized. Consider using the latest supported version "
    "({})."};
// A key name outside ^[0-9a-zA-Z-]{1,127}$. Arg: the name.
inline constexpr KvErrorSpec kInvalidName{"BadParameter", "", 400,
                                          "The request URI contains an invalid name: {}"};
// A version segment that is not 32 hex digits. Args: the key name, the version.
inline constexpr KvErrorSpec kInvalidVersion{
    "BadParameter", "", 400, "The request URI contains an invalid key version: {}/{}"};
// The body is not JSON (or not an object). Arg: what is wrong (never the body).
inline constexpr KvErrorSpec kInvalidBody{"BadParameter", "", 400,
                                          "The request body is not valid JSON: {}"};
// Arg: the property.
inline constexpr KvErrorSpec kPropertyRequired{"BadParameter", "", 400,
                                               "Property '{}' is required."};
// Args: the property, what is wrong with its value.
inline constexpr KvErrorSpec kInvalidProperty{"BadParameter", "", 400,
                                              "Property '{}' has an invalid value: {}"};
// Arg: the kty sent.
inline constexpr KvErrorSpec kUnsupportedKeyType{
    "BadParameter", "", 400,
    "Key type '{}' is not supported. Supported key types: RSA, RSA-HSM, EC, EC-HSM."};
// Args: the kty, the vault's SKU.
inline constexpr KvErrorSpec kHsmRequiresPremium{
    "BadParameter", "", 400,
    "Key type '{}' is not supported by a vault of SKU '{}': HSM-protected keys need a premium "
    "vault."};
// Arg: the key size sent.
inline constexpr KvErrorSpec kInvalidKeySize{
    "BadParameter", "", 400, "Invalid key size {}. RSA keys must be 2048, 3072 or 4096 bits."};
// Arg: the curve sent.
inline constexpr KvErrorSpec kUnsupportedCurve{
    "BadParameter", "", 400, "Curve '{}' is not supported. Supported curves: P-256, P-384, P-521."};
// Args: the operation name sent, the key type.
inline constexpr KvErrorSpec kInvalidKeyOperation{
    "BadParameter", "", 400, "Key operation '{}' is not valid for a key of type {}."};
// Import of a JWK without (valid) private material. Arg: what is wrong.
inline constexpr KvErrorSpec kInvalidImportKey{"BadParameter", "", 400,
                                               "The key to import is not valid: {}"};
// Args: the algorithm sent, the operation.
inline constexpr KvErrorSpec kUnsupportedAlgorithm{
    "BadParameter", "", 400, "Algorithm '{}' is not supported for operation {}."};
// Args: the algorithm, the key type.
inline constexpr KvErrorSpec kAlgorithmKeyMismatch{
    "BadParameter", "", 400, "Algorithm '{}' cannot be used with a key of type {}."};
// The ciphertext does not decrypt (wrong key, altered, wrong algorithm). No args.
inline constexpr KvErrorSpec kDecryptionFailed{"BadParameter", "", 400,
                                               "The parameter is incorrect.\r\n"};
// maxresults outside 1..25. Arg: the value sent.
inline constexpr KvErrorSpec kInvalidMaxResults{
    "BadParameter", "", 400, "Invalid maxresults value {}: it must be between 1 and 25."};
// No args.
inline constexpr KvErrorSpec kInvalidSkipToken{"BadParameter", "", 400,
                                               "The $skiptoken value is not valid."};
// Arg: the count sent.
inline constexpr KvErrorSpec kInvalidRandomCount{"BadParameter", "", 400,
                                                 "Invalid count {}: it must be between 1 and 128."};
// The rotation policy breaks a rule. Arg: the rule broken.
inline constexpr KvErrorSpec kInvalidRotationPolicy{"BadParameter", "", 400,
                                                    "Invalid key rotation policy: {}"};
// The backup blob does not open under this installation's key, or is malformed. No args.
inline constexpr KvErrorSpec kInvalidBackup{
    "BadParameter", "", 400,
    "Backup blob contains invalid or corrupt data, or was made by another byok installation."};

// ---- Key state ----

// Arg: "name" or "name/version".
inline constexpr KvErrorSpec kKeyNotFound{
    "KeyNotFound", "", 404,
    "A key with (name/id) {} was not found in this key vault. If you recently deleted this key "
    "you may be able to recover it using the correct recovery command. For help resolving this "
    "issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"};
// Arg: the key name.
inline constexpr KvErrorSpec kDeletedKeyNotFound{"KeyNotFound", "", 404,
                                                 "Deleted Key not found: {}"};
// Arg: the operation (get, wrapKey, ...).
inline constexpr KvErrorSpec kKeyDisabled{"Forbidden", "KeyDisabled", 403,
                                          "Operation {} is not allowed on a disabled key."};
// Arg: the operation.
inline constexpr KvErrorSpec kKeyExpired{"Forbidden", "KeyExpired", 403,
                                         "Operation {} is not allowed on an expired key."};
// Arg: the operation.
inline constexpr KvErrorSpec kKeyNotYetValid{
    "Forbidden", "KeyNotYetValid", 403,
    "Operation {} is not allowed on a key that is not yet valid."};
// Arg: the operation.
inline constexpr KvErrorSpec kKeyOperationForbidden{"Forbidden", "KeyOperationForbidden", 403,
                                                    "Operation {} is not permitted on this key."};
// Create/import/restore on the name of a soft-deleted key. Arg: the key name.
inline constexpr KvErrorSpec kObjectIsDeletedButRecoverable{
    "Conflict", "ObjectIsDeletedButRecoverable", 409,
    "Key {} is currently in a deleted but recoverable state, and its name cannot be reused; in "
    "this state, the key can only be recovered or purged."};
// Restore onto a live key's name. Arg: the key name.
inline constexpr KvErrorSpec kKeyAlreadyExists{
    "Conflict", "", 409,
    "Key {} already exists in this vault. A backup can only be restored under a free name."};
// Purge before the retention ended on a vault with purge protection. Args: vault, location.
inline constexpr KvErrorSpec kPurgeProtected{
    "Forbidden", "", 403,
    "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key "
    "Vault service will automatically purge it after the retention period has passed. Vault: "
    "{};location={}"};

// ---- Vault and server ----

// The host names no live vault (a soft-deleted or purged vault answers the same: in Azure its
// DNS name stops resolving). Arg: the host.
inline constexpr KvErrorSpec kVaultNotFound{
    "VaultNotFound", "", 404,
    "No key vault answers at host '{}': the vault does not exist or is deleted."};
// No args (details go to the log only).
inline constexpr KvErrorSpec kInternalError{
    "InternalServerError", "", 500,
    "The server encountered an internal error. Please retry the request."};

}  // namespace errors
}  // namespace byok::keyvault
