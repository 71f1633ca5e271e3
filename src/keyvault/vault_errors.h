// The Key Vault management-plane error table (Microsoft.KeyVault resource provider): every error
// the vaults provider (vaults.h) returns besides the ARM front end's own (arm/errors.h), with
// Azure's codes and wording. Rendered as the ARM envelope {"error":{"code","message"}}.
//
// Wording sources: public reports of real responses (VaultAlreadyExists, VaultNameNotValid,
// ConflictError, MethodNotAllowed for DeletedVaultPurge, the enablePurgeProtection BadRequest).
// Messages marked "(byok)" could not be checked against a real response; they keep Azure's code
// and status and say what is wrong in Azure's style (docs/PARITY.md lists them).
#pragma once

#include "common/api_error.h"

namespace byok::keyvault::vault_errors {

// ---- Names ----
inline constexpr ErrorSpec kVaultNameNotValid{
    "VaultNameNotValid", 400,
    "The vault name '{}' is invalid. A vault's name must be between 3-24 alphanumeric characters. "
    "The name must begin with a letter, end with a letter or digit, and not contain consecutive "
    "hyphens. Follow this link for more information: "
    "https://go.microsoft.com/fwlink/?linkid=2147742"};
inline constexpr ErrorSpec kVaultAlreadyExists{
    "VaultAlreadyExists", 409,
    "The vault name '{}' is already in use. Vault names are globally unique so it is possible "
    "that the name is already taken. If you are sure that the vault name was not taken then it is "
    "possible that a vault with the same name was recently deleted but not purged after being "
    "placed in a recoverable state. If the vault is in a recoverable state then the vault will "
    "need to be purged before reusing the name. For more information about VaultAlreadyExists, "
    "soft delete and purging a vault follow this link "
    "https://go.microsoft.com/fwlink/?linkid=2147740."};
inline constexpr ErrorSpec kNameHeldByDeletedVault{
    "ConflictError", 409,
    "A vault with the same name already exists in deleted state. You need to either recover or "
    "purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 "
    "for "
    "more information on soft delete."};

// ---- Soft delete, purge protection, retention ----
inline constexpr ErrorSpec kPurgeProtectionCannotBeDisabled{
    "BadRequest", 400,
    "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection "
    "for a vault is an irreversible action."};
// (byok) wording.
inline constexpr ErrorSpec kSoftDeleteCannotBeDisabled{
    "BadRequest", 400,
    "The property \"enableSoftDelete\" cannot be set to false. Soft delete is enabled on all key "
    "vaults and cannot be turned off. Follow this link "
    "https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete."};
// (byok) wording.
inline constexpr ErrorSpec kRetentionOutOfRange{
    "BadRequest", 400,
    "The value '{}' of the property \"softDeleteRetentionInDays\" is invalid. It accepts values "
    ">= 7 and <= 90."};
// (byok) wording.
inline constexpr ErrorSpec kRetentionImmutable{
    "BadRequest", 400,
    "The property \"softDeleteRetentionInDays\" has been set already and it can't be modified."};
inline constexpr ErrorSpec kDeletedVaultPurgeNotAllowed{
    "MethodNotAllowed", 405, "Operation 'DeletedVaultPurge' is not allowed."};

// ---- Recover and deleted vaults ----
// (byok) wording.
inline constexpr ErrorSpec kSoftDeletedVaultDoesNotExist{
    "SoftDeletedVaultDoesNotExist", 404,
    "A soft deleted vault with the given name '{}' does not exist. Ensure that the name for the "
    "vault that is being attempted to recover is in a recoverable state. For more information, "
    "go to https://go.microsoft.com/fwlink/?linkid=2149745"};
// (byok) wording.
inline constexpr ErrorSpec kDeletedVaultNotFound{
    "ResourceNotFound", 404,
    "The Resource 'Microsoft.KeyVault/deletedVaults/{}' in location '{}' was not found."};

// ---- Request shape ((byok) wording; Azure answers these with code BadRequest) ----
inline constexpr ErrorSpec kPropertiesRequired{
    "BadRequest", 400, "The parameter 'properties' is required and must be an object."};
inline constexpr ErrorSpec kPropertyRequired{"BadRequest", 400,
                                             "The parameter '{}' is required for this request."};
inline constexpr ErrorSpec kPropertyType{"BadRequest", 400, "The parameter '{}' must be {}."};
inline constexpr ErrorSpec kInvalidSkuName{
    "BadRequest", 400,
    "The value '{}' of the parameter 'sku.name' is invalid. Supported values are 'standard' and "
    "'premium'."};
inline constexpr ErrorSpec kInvalidSkuFamily{
    "BadRequest", 400,
    "The value '{}' of the parameter 'sku.family' is invalid. The supported value is 'A'."};
inline constexpr ErrorSpec kInvalidTenantId{
    "BadRequest", 400, "The value '{}' of the parameter '{}' is not a valid tenant id (a GUID)."};
inline constexpr ErrorSpec kInvalidCreateMode{
    "BadRequest", 400,
    "The value '{}' of the parameter 'createMode' is invalid. Supported values are 'default' and "
    "'recover'."};
inline constexpr ErrorSpec kInvalidPublicNetworkAccess{
    "BadRequest", 400,
    "The value '{}' of the parameter 'publicNetworkAccess' is invalid. Supported values are "
    "'Enabled' and 'Disabled'."};
inline constexpr ErrorSpec kTooManyAccessPolicies{
    "BadRequest", 400,
    "The number of access policies ({}) exceeds the maximum of 1024 for a vault."};
inline constexpr ErrorSpec kAccessPolicyInvalid{
    "BadRequest", 400, "Access policy {} is invalid: the property '{}' is required."};
inline constexpr ErrorSpec kInvalidPermission{
    "BadRequest", 400, "Access policy {}: '{}' is not a valid {} permission."};
inline constexpr ErrorSpec kInvalidTags{
    "BadRequest", 400, "The parameter 'tags' must be an object of at most 50 string values."};
inline constexpr ErrorSpec kInvalidOperationKind{
    "BadRequest", 400,
    "The access policy operation '{}' is invalid. Supported operations are 'add', 'replace' and "
    "'remove'."};
inline constexpr ErrorSpec kInvalidCheckNameType{
    "BadRequest", 400,
    "The value '{}' of the parameter 'type' is invalid. The supported value is "
    "'Microsoft.KeyVault/vaults'."};

}  // namespace byok::keyvault::vault_errors
