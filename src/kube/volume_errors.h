// The error table of `byok volume attach|detach` (VolumeManager, kube/volumes.h), served by
// byokd's admin API in the ARM envelope {"error":{"code","message"}}. Azure has no such operation,
// so the wording is byok's own ("(byok)" throughout) in ARM's style; where a Kubernetes object is
// missing the message is the apiserver's ('persistentvolumeclaims "x" not found').
//
// Thread safety: constants.
#pragma once

#include "common/api_error.h"

namespace byok::kube::volume_errors {

// (byok) Args: the name, the names of the matching clusters' ids.
inline constexpr ErrorSpec kAmbiguousCluster{
    "AmbiguousClusterName", 409,
    "More than one managed cluster is named '{}': {}. Name one with --resource-group or by its "
    "resource id."};
// (byok) Arg: the name (and " in resource group 'x'" or "").
inline constexpr ErrorSpec kClusterNotFound{"ResourceNotFound", 404,
                                            "No managed cluster named '{}' was found{}."};
// (byok) Arg: the value given.
inline constexpr ErrorSpec kInvalidCluster{
    "InvalidParameter", 400,
    "'{}' is neither a managed cluster name nor a managed cluster resource id "
    "(/subscriptions/{{subscription}}/resourceGroups/{{group}}/providers/"
    "Microsoft.ContainerService/managedClusters/{{name}})."};
// (byok) Arg: the cluster's name.
inline constexpr ErrorSpec kClusterStopped{
    "OperationNotAllowed", 409,
    "Managed cluster '{}' is stopped: its nodes are deallocated. Start it with 'az aks start' "
    "first."};
// The apiserver's NotFound, with the namespace. Args: the claim, the namespace.
inline constexpr ErrorSpec kClaimNotFound{
    "NotFound", 404, "persistentvolumeclaims \"{}\" not found in namespace \"{}\""};
// (byok) Args: namespace, claim, the phase, why (the claim's last event, or what it waits for).
inline constexpr ErrorSpec kClaimNotBound{"ClaimNotBound", 409,
                                          "PersistentVolumeClaim '{}/{}' is {}: {}"};
// (byok) Args: the volume, namespace, claim.
inline constexpr ErrorSpec kNotAzureDisk{
    "VolumeNotAzureDisk", 400,
    "PersistentVolume '{}' of claim '{}/{}' is not an Azure managed disk (it has neither a "
    "disk.csi.azure.com volumeHandle nor an azureDisk diskURI naming a managed disk)."};
// The apiserver's NotFound. Args: the volume.
inline constexpr ErrorSpec kVolumeNotFound{"NotFound", 404, "persistentvolumes \"{}\" not found"};
// (byok) Args: the node, the cluster, the cluster's nodes.
inline constexpr ErrorSpec kNodeNotFound{
    "NodeNotFound", 404, "nodes \"{}\" not found: the nodes of managed cluster '{}' are {}."};
// (byok) Args: the node, its state, why.
inline constexpr ErrorSpec kNodeNotReady{
    "NodeNotReady", 409,
    "Node '{}' is {}{}: a volume can only be attached to a Ready node (choose one with --node)."};
// (byok) Args: the cluster, its nodes and their states.
inline constexpr ErrorSpec kNoReadyNode{
    "NoReadyNode", 409,
    "Managed cluster '{}' has no Ready node to attach the volume to (nodes: {})."};
// (byok) Args: namespace, claim, volume, node, the VolumeAttachment.
inline constexpr ErrorSpec kAlreadyAttached{
    "OperationNotAllowed", 409,
    "PersistentVolumeClaim '{}/{}' (volume {}) is already attached to node '{}' "
    "(VolumeAttachment {}). Detach it first with 'byok volume detach'."};
// (byok) Args: namespace, claim, volume.
inline constexpr ErrorSpec kNotAttached{
    "OperationNotAllowed", 409,
    "PersistentVolumeClaim '{}/{}' (volume {}) is not attached to a node."};
// (byok) The store failed. No args.
inline constexpr ErrorSpec kInternal{"InternalServerError", 500,
                                     "The server encountered an internal error."};

}  // namespace byok::kube::volume_errors
