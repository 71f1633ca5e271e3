// The Compute error table (resource provider Microsoft.Compute: diskEncryptionSets and disks):
// every error the compute providers return besides the ARM front end's own (arm/errors.h, whose
// ResourceNotFound, LinkedAuthorizationFailed, LocationRequired, InvalidResourceLocation and
// InternalServerError they reuse). Rendered as the ARM envelope {"error":{"code","message"}}.
//
// Wording sources (public reports of real responses):
//   - KeyVaultAccessForbidden, HTTP 400 (Terraform and Ansible reports of DES and disk creation,
//     azure-docs issue 96319 for the system-assigned form naming the disk encryption set);
//   - KeyVaultKeyNotEnabled and "Key is expired" (support playbooks quoting the portal);
//   - OperationNotAllowed "Disk '<name>' is attached to VM '<id>'." and Azure's
//     "Changing property '<p>' is not allowed." (PropertyChangeNotAllowed).
// Entries marked "(byok)" could not be checked against a real response: they keep the code
// Azure uses for that class of error (InvalidParameter, OperationNotAllowed, BadRequest) and say
// what is wrong in Azure's style. docs/PARITY.md lists them.
//
// Thread safety: constants.
#pragma once

#include "arm/errors.h"
#include "common/api_error.h"

namespace byok::compute::errors {

// ---- Reused from the ARM table ----
inline constexpr const ErrorSpec& kResourceNotFound = arm::errors::kResourceNotFound;
inline constexpr const ErrorSpec& kLinkedAuthorizationFailed =
    arm::errors::kLinkedAuthorizationFailed;
inline constexpr const ErrorSpec& kLocationRequired = arm::errors::kLocationRequired;
inline constexpr const ErrorSpec& kInternalError = arm::errors::kInternalError;
inline constexpr const ErrorSpec& kInvalidRequestContent = arm::errors::kInvalidRequestContent;

// ---- Key Vault access (the DES identity's permissions and the key's state) ----

// Args: the key URL, the disk encryption set's name.
inline constexpr ErrorSpec kKeyVaultAccessForbidden{
    "KeyVaultAccessForbidden", 400,
    "Unable to access key vault resource '{}' to enable encryption at rest. Please grant get, "
    "wrap and unwrap key permissions to disk encryption set '{}'. Please visit "
    "https://aka.ms/keyvaultaccessssecmk for more information."};
// Args: the key URL (versionless), the disk encryption set's name.
inline constexpr ErrorSpec kKeyVaultKeyNotEnabled{
    "KeyVaultKeyNotEnabled", 400,
    "The key vault key '{}' used for disk encryption set '{}' must be enabled state."};
// Arg: the key URL.
inline constexpr ErrorSpec kKeyVaultKeyExpired{"KeyVaultAccessForbidden", 400,
                                               "Unable to access key '{}'. Key is expired."};
// (byok) The key is not yet valid (nbf), or its key_ops forbid wrapKey/unwrapKey. Args: the key
// URL, what Key Vault answered.
inline constexpr ErrorSpec kKeyVaultKeyUnusable{
    "KeyVaultAccessForbidden", 400, "Unable to access key '{}' to enable encryption at rest: {}"};
// (byok) The vault or key of a disk encryption set is gone (deleted or purged). Args: the key
// URL, what Key Vault answered.
inline constexpr ErrorSpec kKeyVaultKeyNotFound{
    "KeyVaultKeyNotFound", 400,
    "The key vault key '{}' could not be found: {} Make sure the key and its vault exist and are "
    "not deleted."};
// (byok) Key Vault could not be reached. Arg: the key URL.
inline constexpr ErrorSpec kKeyVaultUnavailable{
    "KeyVaultUnavailable", 503, "Key Vault did not answer for key '{}'. Please retry later."};

// ---- Disk encryption sets: validation ((byok) wording unless noted) ----

// Args: the property, the value, what is expected.
inline constexpr ErrorSpec kInvalidParameter{"InvalidParameter", 400,
                                             "The value '{}' of parameter '{}' is invalid. {}"};
// Arg: the property.
inline constexpr ErrorSpec kMissingParameter{"InvalidParameter", 400,
                                             "Required parameter '{}' is missing (null)."};
// Arg: the key URL.
inline constexpr ErrorSpec kInvalidKeyUrl{
    "InvalidParameter", 400,
    "The key URL '{}' is invalid. It must be a Key Vault key identifier of the form "
    "'https://{{vault}}.vault.localhost:{{port}}/keys/{{name}}/{{version}}'."};
// Arg: the key URL.
inline constexpr ErrorSpec kKeyVersionRequired{
    "InvalidParameter", 400,
    "The key URL '{}' does not name a key version. A fully versioned key URL is required unless "
    "rotationToLatestKeyVersionEnabled is true."};
// Args: the source vault id, the vault of the key URL.
inline constexpr ErrorSpec kSourceVaultMismatch{
    "InvalidParameter", 400,
    "The source vault '{}' does not match the key vault '{}' of the key URL."};
// Arg: the vault id or name.
inline constexpr ErrorSpec kSourceVaultNotFound{
    "InvalidParameter", 400, "The key vault '{}' of the disk encryption set could not be found."};
// Arg: the vault name.
inline constexpr ErrorSpec kVaultPurgeProtectionRequired{
    "InvalidParameter", 400,
    "The key vault '{}' must have soft delete and purge protection enabled to be used for "
    "encryption at rest of managed disks. Please enable purge protection on the vault."};
// Args: the vault name, its region, the disk encryption set's region.
inline constexpr ErrorSpec kVaultRegionMismatch{
    "InvalidParameter", 400,
    "The key vault '{}' is in region '{}', but the disk encryption set is in region '{}'. The key "
    "vault and the disk encryption set must be in the same region."};
// Args: the key URL, the key type.
inline constexpr ErrorSpec kUnsupportedKeyType{
    "InvalidParameter", 400,
    "The key '{}' has type '{}'. Only RSA and RSA-HSM keys of size 2048, 3072 or 4096 are "
    "supported for encryption at rest of managed disks."};
// Args: the key URL, the size in bits.
inline constexpr ErrorSpec kUnsupportedKeySize{
    "InvalidParameter", 400,
    "The key '{}' has size {}. Only RSA keys of size 2048, 3072 or 4096 are supported for "
    "encryption at rest of managed disks."};
// Arg: the encryption type.
inline constexpr ErrorSpec kUnsupportedDesEncryptionType{
    "InvalidParameter", 400,
    "The encryption type '{}' is not supported for disk encryption sets by byok. Supported values "
    "are 'EncryptionAtRestWithCustomerKey' and 'EncryptionAtRestWithPlatformAndCustomerKeys'."};
// Arg: the identity type sent.
inline constexpr ErrorSpec kUnsupportedIdentityType{
    "InvalidParameter", 400,
    "The identity type '{}' is not supported. Disk encryption sets need a 'SystemAssigned' "
    "identity (user-assigned identities are not supported yet by byok)."};
// Args: the DES name, how many resources use it, their ids.
inline constexpr ErrorSpec kDesInUse{
    "OperationNotAllowed", 409,
    "Disk encryption set '{}' cannot be deleted because it is in use by {} resource(s): {}."};
// Args: the DES name, the old and new encryption types.
inline constexpr ErrorSpec kDesEncryptionTypeChange{
    "OperationNotAllowed", 409,
    "The encryption type of disk encryption set '{}' cannot be changed from '{}' to '{}' while "
    "resources are encrypted with it."};

// ---- Disks ----

// Azure's wording. Arg: the property.
inline constexpr ErrorSpec kPropertyChangeNotAllowed{"PropertyChangeNotAllowed", 400,
                                                     "Changing property '{}' is not allowed."};
// (byok) Arg: the createOption.
inline constexpr ErrorSpec kUnsupportedCreateOption{
    "InvalidParameter", 400,
    "The value '{}' of parameter 'creationData.createOption' is not supported by byok. Supported "
    "value: 'Empty'."};
// (byok) Arg: the size sent.
inline constexpr ErrorSpec kDiskSizeOutOfRange{
    "InvalidParameter", 400,
    "The value {} of parameter 'diskSizeGB' is out of range. The value must be between 1 and "
    "32767, inclusive."};
// (byok) Arg: the sku sent.
inline constexpr ErrorSpec kInvalidSku{
    "InvalidParameter", 400,
    "The value '{}' of parameter 'sku.name' is invalid. Supported values are 'Standard_LRS', "
    "'Premium_LRS', 'StandardSSD_LRS', 'UltraSSD_LRS', 'Premium_ZRS', 'StandardSSD_ZRS' and "
    "'PremiumV2_LRS'."};
// (byok) Arg: the encryption type sent.
inline constexpr ErrorSpec kInvalidDiskEncryptionType{
    "InvalidParameter", 400,
    "The value '{}' of parameter 'encryption.type' is invalid. Supported values are "
    "'EncryptionAtRestWithPlatformKey', 'EncryptionAtRestWithCustomerKey' and "
    "'EncryptionAtRestWithPlatformAndCustomerKeys'."};
// (byok) Arg: the encryption type.
inline constexpr ErrorSpec kDiskEncryptionSetRequired{
    "InvalidParameter", 400,
    "Encryption type '{}' requires the parameter 'encryption.diskEncryptionSetId'."};
// (byok) No args.
inline constexpr ErrorSpec kDiskEncryptionSetNotAllowed{
    "InvalidParameter", 400,
    "Parameter 'encryption.diskEncryptionSetId' must not be set for encryption type "
    "'EncryptionAtRestWithPlatformKey'."};
// (byok) Args: the DES id, its encryption type, the disk's encryption type.
inline constexpr ErrorSpec kDesEncryptionTypeMismatch{
    "InvalidParameter", 400,
    "The type of the disk encryption set '{}' is '{}', which cannot be used for a disk of "
    "encryption type '{}'."};
// (byok) Args: the DES id, its region, the disk's region.
inline constexpr ErrorSpec kDesRegionMismatch{
    "InvalidParameter", 400,
    "The disk encryption set '{}' is in region '{}', but the resource is in region '{}'. The disk "
    "encryption set and the resources it encrypts must be in the same region."};
// (byok) Arg: the DES id.
inline constexpr ErrorSpec kInvalidDesId{
    "InvalidParameter", 400,
    "The value '{}' of parameter 'encryption.diskEncryptionSetId' is not a valid disk encryption "
    "set resource id."};
// (byok) Arg: the sku.
inline constexpr ErrorSpec kPerformanceNotSettable{
    "InvalidParameter", 400,
    "Parameters 'diskIOPSReadWrite' and 'diskMBpsReadWrite' can only be set for UltraSSD_LRS and "
    "PremiumV2_LRS disks, not for '{}'."};
// Azure's wording. Args: the disk name, the VM (managedBy).
inline constexpr ErrorSpec kDiskAttached{"OperationNotAllowed", 409,
                                         "Disk '{}' is attached to VM '{}'."};
// (byok) Args: the disk name, current size, requested size.
inline constexpr ErrorSpec kDiskShrink{
    "OperationNotAllowed", 409,
    "Disk '{}' cannot be resized from {} GB to {} GB. A disk can only be resized to a larger "
    "size."};
// (byok) Args: the disk name, the VM.
inline constexpr ErrorSpec kResizeWhileAttached{
    "OperationNotAllowed", 409,
    "Cannot resize disk '{}' while it is attached to '{}'. Detach the disk first."};
// (byok) Args: the disk name, the current and requested encryption types.
inline constexpr ErrorSpec kEncryptionTypeChange{
    "OperationNotAllowed", 409,
    "The encryption type of disk '{}' cannot be changed from '{}' to '{}' by byok: create a new "
    "disk with the wanted encryption and copy the data. The disk encryption set of a disk can be "
    "changed (same encryption type) while the disk is unattached."};
// (byok) Args: the disk name, the VM.
inline constexpr ErrorSpec kEncryptionChangeWhileAttached{
    "OperationNotAllowed", 409,
    "The encryption settings of disk '{}' cannot be changed while it is attached to '{}'. Detach "
    "the disk first."};
// (byok) DiskService::Create of a name that exists (ARM PUTs update instead). Arg: the disk name.
inline constexpr ErrorSpec kDiskExists{"Conflict", 409, "Disk '{}' already exists."};
// (byok) The disk's file could not be created or changed. Arg: what failed.
inline constexpr ErrorSpec kDiskStorageError{"InternalDiskManagementError", 500,
                                             "The disk storage operation failed: {}"};

// ---- Attachments (byok disk attach/detach, the NBD data path; compute/attachments.h) ----

// (byok) Arg: the disk name.
inline constexpr ErrorSpec kDiskNotAttached{"OperationNotAllowed", 409,
                                            "Disk '{}' is not attached."};
// (byok) The customer layer does not unwrap now. Args: the disk name, then the reason (it names
// the key, the disk encryption set and Key Vault's error).
inline constexpr ErrorSpec kDiskKeyUnusable{"KeyVaultAccessForbidden", 400,
                                            "Disk '{}' cannot be unlocked: {}."};
// (byok) The customer key (or its vault) no longer exists. Args: the disk name, the reason.
inline constexpr ErrorSpec kDiskKeyPurged{"KeyVaultKeyNotFound", 400,
                                          "Disk '{}' cannot be unlocked: {}."};

}  // namespace byok::compute::errors
