// The ContainerService error table (resource provider Microsoft.ContainerService: managedClusters,
// agentPools, orchestrators / kubernetesVersions): every error the AKS providers return besides
// the ARM front end's own (arm/errors.h, whose ResourceNotFound, LinkedAuthorizationFailed,
// LocationRequired and InternalServerError they reuse) and the errors of the disk service that
// node creation passes through (compute/errors.h: KeyVaultAccessForbidden, ...). Rendered as the
// ARM envelope {"error":{"code","message"}}.
//
// Wording sources (public reports of real AKS responses):
//   - VMCacheSizeTooSmall (Terraform/Rancher/azure-docs reports: "The virtual machine size
//     Standard_DS2_v2 has a cache size of 92341796864 bytes, but the OS disk requires
//     137438953472 bytes. Use a VM size with larger cache or disable ephemeral OS.");
//   - InvalidParameter "The value of parameter agentPoolProfile.count is invalid. Please see
//     https://aka.ms/aks-naming-rules for more details." (a System pool scaled to 0,
//     Azure/azure-cli PR 22442);
//   - MustDefineAtLeastOneSystemPool "Must define at least one system pool." (Azure/AKS 1568);
//   - "There has to be at least one system agent pool." (deleting the last System pool,
//     Azure/aks-engine 542; code OperationNotAllowed as in the "at least one agent pool" form);
//   - PropertyChangeNotAllowed "Changing property '...' is not allowed." (Azure/azure-cli 24764);
//   - AgentPoolK8sVersionNotSupported "Version 1.20.7 is not supported in this region. ...";
//   - BadRequest "The VM size of AgentPoolProfile:nodepool1 is not allowed in your subscription
//     in location 'westus'. The available VM sizes are ...".
// Entries marked "(byok)" could not be checked against a real response: they keep the code AKS
// uses for that class of error (InvalidParameter, BadRequest, OperationNotAllowed) and say what is
// wrong in AKS's style. docs/PARITY.md lists them.
//
// Thread safety: constants.
#pragma once

#include "arm/errors.h"
#include "common/api_error.h"

namespace byok::containerservice::errors {

// ---- Reused from the ARM table ----
inline constexpr const ErrorSpec& kResourceNotFound = arm::errors::kResourceNotFound;
inline constexpr const ErrorSpec& kLinkedAuthorizationFailed =
    arm::errors::kLinkedAuthorizationFailed;
inline constexpr const ErrorSpec& kLocationRequired = arm::errors::kLocationRequired;
inline constexpr const ErrorSpec& kInternalError = arm::errors::kInternalError;
inline constexpr const ErrorSpec& kInvalidRequestContent = arm::errors::kInvalidRequestContent;
inline constexpr const ErrorSpec& kLocationNotAvailableForResourceType =
    arm::errors::kLocationNotAvailableForResourceType;

// ---- Agent pools: sizes, OS disks, counts ----

// Azure's wording. Args: the VM size, its usable local disk (cache, or temp disk for sizes without
// a cache) in bytes, the OS disk size in bytes.
inline constexpr ErrorSpec kVmCacheSizeTooSmall{
    "VMCacheSizeTooSmall", 400,
    "The virtual machine size {} has a cache size of {} bytes, but the OS disk requires {} bytes. "
    "Use a VM size with larger cache or disable ephemeral OS."};
// Azure's wording. Args: the pool name, the location, the sizes byok knows.
inline constexpr ErrorSpec kVmSizeNotAllowed{
    "BadRequest", 400,
    "The VM size of AgentPoolProfile:{} is not allowed in your subscription in location '{}'. The "
    "available VM sizes are {}"};
// Azure's wording (a System pool asked to scale to 0, or a count out of 0..1000).
inline constexpr ErrorSpec kInvalidCount{
    "InvalidParameter", 400,
    "The value of parameter agentPoolProfile.count is invalid. Please see "
    "https://aka.ms/aks-naming-rules for more details."};
// Azure's wording.
inline constexpr ErrorSpec kMustDefineSystemPool{"MustDefineAtLeastOneSystemPool", 400,
                                                 "Must define at least one system pool."};
// Azure's wording (deleting, or turning into a User pool, the last System pool).
inline constexpr ErrorSpec kLastSystemPool{"OperationNotAllowed", 400,
                                           "There has to be at least one system agent pool."};
// (byok) Arg: the value of osDiskType.
inline constexpr ErrorSpec kInvalidOsDiskType{
    "InvalidParameter", 400,
    "The value '{}' of parameter agentPoolProfile.osDiskType is invalid. Supported values are "
    "'Managed' and 'Ephemeral'."};
// (byok) Arg: the size sent.
inline constexpr ErrorSpec kInvalidOsDiskSize{
    "InvalidParameter", 400,
    "The value {} of parameter agentPoolProfile.osDiskSizeGB is invalid. The value must be 0 "
    "(the default) or between 30 and 2048, inclusive."};
// (byok) Arg: the mode sent.
inline constexpr ErrorSpec kInvalidMode{
    "InvalidParameter", 400,
    "The value '{}' of parameter agentPoolProfile.mode is invalid. Supported values are 'System' "
    "and 'User'."};
// (byok) Arg: the pool name.
inline constexpr ErrorSpec kInvalidPoolName{
    "InvalidParameter", 400,
    "The value '{}' of parameter agentPoolProfile.name is invalid. Agent pool names must start "
    "with a lowercase letter, have at most 12 characters and contain only lowercase letters and "
    "numbers. Please see https://aka.ms/aks-naming-rules for more details."};
// (byok) Arg: the pool name.
inline constexpr ErrorSpec kDuplicatePoolName{
    "InvalidParameter", 400, "The agent pool name '{}' is used more than once in the request."};
// (byok) Arg: the OS type sent.
inline constexpr ErrorSpec kUnsupportedOsType{
    "InvalidParameter", 400,
    "The value '{}' of parameter agentPoolProfile.osType is not supported by byok. Supported "
    "value: 'Linux'."};
// Azure's wording. Arg: the property ("agentPoolProfile.vmSize", "properties.diskEncryptionSetID").
inline constexpr ErrorSpec kPropertyChangeNotAllowed{"PropertyChangeNotAllowed", 400,
                                                     "Changing property '{}' is not allowed."};

// ---- Kubernetes versions ----

// Azure's wording. Arg: the version asked.
inline constexpr ErrorSpec kVersionNotSupported{
    "AgentPoolK8sVersionNotSupported", 400,
    "Version {} is not supported in this region. Please use [az aks get-versions] command to get "
    "the supported version list in this region. For more information, please check "
    "https://aka.ms/supported-version-list"};
// (byok) Args: the current and the asked version.
inline constexpr ErrorSpec kUpgradeNotSupported{
    "OperationNotAllowed", 400,
    "Upgrading Kubernetes from version {} to {} is not supported by byok: create a new cluster or "
    "agent pool with the wanted version."};
// (byok) Args: the pool's version, the cluster's version.
inline constexpr ErrorSpec kPoolVersionNewerThanCluster{
    "InvalidParameter", 400,
    "The agent pool version {} must not be newer than the control plane version {}."};

// ---- Managed clusters ----

// (byok) Arg: what is wrong.
inline constexpr ErrorSpec kInvalidTags{"InvalidParameter", 400,
                                        "The value of parameter tags is invalid: {}"};
// (byok) Arg: the cluster name.
inline constexpr ErrorSpec kInvalidClusterName{
    "InvalidParameter", 400,
    "The value '{}' of parameter name is invalid. Managed cluster names must have 1 to 63 "
    "characters, letters, numbers, '-' and '_', and start and end with a letter or number."};
// (byok) Arg: the dnsPrefix sent.
inline constexpr ErrorSpec kInvalidDnsPrefix{
    "InvalidParameter", 400,
    "The value '{}' of parameter dnsPrefix is invalid. It must have 1 to 54 characters, letters, "
    "numbers and '-', and start and end with a letter or number."};
// (byok) Arg: the identity type sent.
inline constexpr ErrorSpec kUnsupportedIdentityType{
    "InvalidParameter", 400,
    "The identity type '{}' is not supported by byok. Managed clusters use a 'SystemAssigned' "
    "identity (user-assigned identities and service principals are not supported yet)."};
// (byok) Args: the property, why byok can't honour it. For settings byok would otherwise show but
// not enforce (Azure AD integration, disabled local accounts, authorized IP ranges, private
// clusters): refused rather than silently ignored.
inline constexpr ErrorSpec kUnsupportedClusterFeature{
    "InvalidParameter", 400, "The property '{}' is not supported by byok: {}."};
// (byok) No args.
inline constexpr ErrorSpec kAgentPoolProfilesRequired{
    "InvalidParameter", 400,
    "Required parameter 'agentPoolProfiles' is missing: a managed cluster needs at least one "
    "agent pool."};
// (byok) Args: the node resource group, the cluster id.
inline constexpr ErrorSpec kNodeResourceGroupExists{
    "InvalidParameter", 400,
    "The node resource group '{}' already exists. Choose another name with nodeResourceGroup, or "
    "delete the group, to create managed cluster '{}'."};
// (byok) Args: the node resource group, why.
inline constexpr ErrorSpec kInvalidNodeResourceGroup{
    "InvalidParameter", 400, "The value '{}' of parameter nodeResourceGroup is invalid: {}"};
// (byok) Arg: the DES id.
inline constexpr ErrorSpec kInvalidDesId{
    "InvalidParameter", 400,
    "The value '{}' of parameter diskEncryptionSetID is not a valid disk encryption set resource "
    "id."};
// (byok) Args: the DES id, its region, the cluster's region.
inline constexpr ErrorSpec kDesRegionMismatch{
    "InvalidParameter", 400,
    "The disk encryption set '{}' is in region '{}', but the managed cluster is in region '{}'. "
    "The disk encryption set must be in the same region as the cluster."};
// (byok) Virtual nodes (the aciConnectorLinux addon) with customer-managed keys. Arg: the addon.
inline constexpr ErrorSpec kVirtualNodesWithDes{
    "InvalidParameter", 400,
    "Addon '{}' (virtual nodes) is not supported together with diskEncryptionSetID: virtual nodes "
    "do not support encryption of OS disks with customer-managed keys."};
// (byok) Args: the operation ("stop", "scale"), the cluster name, its provisioning state.
inline constexpr ErrorSpec kOperationNotAllowedInState{
    "OperationNotAllowed", 409,
    "Cannot {} managed cluster '{}' while its provisioning state is '{}'. Please wait for the "
    "operation in progress to complete."};
// (byok) Args: the operation, the cluster name.
inline constexpr ErrorSpec kClusterStopped{
    "OperationNotAllowed", 409,
    "Cannot {} managed cluster '{}' because it is stopped. Start the cluster first (az aks "
    "start)."};
// (byok) The kubeconfig could not be built. Arg: what failed.
inline constexpr ErrorSpec kCredentialsUnavailable{
    "InternalOperationError", 500, "The credentials of the managed cluster cannot be issued: {}"};
// (byok) Arg: the location sent in the path.
inline constexpr ErrorSpec kUnknownLocation{"NoRegisteredProviderFound", 400,
                                            "The location '{}' is not a known Azure region."};

}  // namespace byok::containerservice::errors
