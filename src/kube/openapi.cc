#include "kube/openapi.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "crypto/sign.h"
#include "kube/kinds.h"

namespace byok::kube {
namespace {

using nlohmann::json;

// The schemas of the served kinds and of every type they use, in OpenAPI 3 form with short
// names: "meta.X" is io.k8s.apimachinery.pkg.apis.meta.v1.X, "core.X" io.k8s.api.core.v1.X,
// "storage.X" io.k8s.api.storage.v1.X, "events.X" io.k8s.api.events.v1.X, "Quantity"
// io.k8s.apimachinery.pkg.api.resource.Quantity. A {"$ref": short, ...} is expanded to the
// apiserver's form {"allOf":[{"$ref":"#/components/schemas/<full>"}], ...}. The facts (field
// names, types, enums, patch strategies, required fields) are Kubernetes 1.24-1.26's; the
// descriptions are byok's own. The kinds' List schemas and x-kubernetes-group-version-kind are
// added by BuildSchemas.

constexpr char kMetaSchemas[] = R"json(
{
"meta.ObjectMeta": {"type": "object",
 "description": "ObjectMeta is the metadata every persisted object carries: its identity (name, namespace, uid), the bookkeeping the API server maintains (resourceVersion, generation, creationTimestamp, deletionTimestamp, managedFields) and what users attach to it (labels, annotations, ownerReferences, finalizers).",
 "properties": {
  "annotations": {"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": "Annotations is a free-form map of string keys and values for tools and users to keep non-identifying data on the object. Unlike labels, annotations cannot be used in selectors. Keys follow the same prefix/name syntax as label keys."},
  "creationTimestamp": {"$ref": "meta.Time", "description": "CreationTimestamp is when the server created the object, in UTC, with second precision. The server sets it on create; clients cannot set it. It is read-only and absent from lists of objects not yet created."},
  "deletionGracePeriodSeconds": {"type": "integer", "format": "int64", "description": "DeletionGracePeriodSeconds is the number of seconds the object is allowed to take to terminate gracefully once deletion was requested. Only set when deletionTimestamp is set. Read-only."},
  "deletionTimestamp": {"$ref": "meta.Time", "description": "DeletionTimestamp is set by the server when a graceful deletion was requested and the object is waiting for its finalizers to be removed or its grace period to end. Clients cannot set it. Once set it is never unset; the object disappears when its finalizers list is empty."},
  "finalizers": {"type": "array", "items": {"type": "string", "default": ""}, "x-kubernetes-patch-strategy": "merge", "description": "Finalizers lists the conditions that must be cleared before the object may be removed from the registry. Each entry is the identifier of a controller responsible for cleaning up; the object is deleted only once the list is empty. Order is not significant."},
  "generateName": {"type": "string", "description": "GenerateName is a prefix the server uses to generate a unique name when name is empty on create: it appends a random suffix. The same validation rules as for name apply to the result."},
  "generation": {"type": "integer", "format": "int64", "description": "Generation is a sequence number for the desired state, incremented by the server whenever the spec of the object changes. Read-only."},
  "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": "Labels is a map of string keys and values used to organize and select objects (label selectors of lists, services, controllers). Keys are an optional DNS subdomain prefix and a name of at most 63 characters separated by '/'; values are at most 63 characters."},
  "managedFields": {"type": "array", "items": {"$ref": "meta.ManagedFieldsEntry"}, "description": "ManagedFields records which field manager (workflow) set which fields of the object and when, as server-side apply tracks ownership. It is maintained by the server; users rarely need to read or write it."},
  "name": {"type": "string", "description": "Name identifies the object within its namespace (or within the cluster for cluster-scoped kinds). It is required on create unless generateName is given, and cannot be changed afterwards. Most kinds require a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253 characters."},
  "namespace": {"type": "string", "description": "Namespace is the space within which the name must be unique. Empty means the \"default\" namespace for namespaced kinds; cluster-scoped kinds have no namespace. It must be a DNS label and cannot be changed."},
  "ownerReferences": {"type": "array", "items": {"$ref": "meta.OwnerReference"}, "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge", "description": "OwnerReferences lists the objects this object depends on. When every owner is deleted, the garbage collector removes this object too. At most one entry may be a managing controller (controller: true)."},
  "resourceVersion": {"type": "string", "description": "ResourceVersion is an opaque value that changes whenever the object changes. Clients use it for optimistic concurrency (an update carrying a stale value is refused with a Conflict) and to start watches. Clients must treat it as opaque and must not compare values for order."},
  "selfLink": {"type": "string", "description": "SelfLink is a deprecated URL of the object. The server no longer fills it in."},
  "uid": {"type": "string", "description": "UID is the unique identifier the server assigns when the object is created; it never changes and is never reused, even for a later object of the same name. Read-only."}
 }},
"meta.ListMeta": {"type": "object",
 "description": "ListMeta is the metadata of a list of objects.",
 "properties": {
  "continue": {"type": "string", "description": "Continue is set when the list was limited (the limit parameter) and more items remain: pass it as the continue parameter of the next request to get the next chunk. The value is opaque."},
  "remainingItemCount": {"type": "integer", "format": "int64", "description": "RemainingItemCount is the number of items not returned yet when the list was limited. It may be an estimate and is absent when the server cannot tell."},
  "resourceVersion": {"type": "string", "description": "ResourceVersion is the version of the collection the list was read at; a watch started from it sees every later change. Opaque to clients."},
  "selfLink": {"type": "string", "description": "Deprecated: the server no longer fills in this field."}
 }},
"meta.Time": {"type": "string", "format": "date-time", "description": "Time is a timestamp in RFC 3339 form with second precision, in UTC (\"2023-01-02T03:04:05Z\")."},
"meta.MicroTime": {"type": "string", "format": "date-time", "description": "MicroTime is a timestamp in RFC 3339 form with microsecond precision, in UTC (\"2023-01-02T03:04:05.000001Z\")."},
"meta.FieldsV1": {"type": "object", "description": "FieldsV1 describes a set of fields in a compact trie form: each key is \"f:<field name>\", \"k:<key of a list element as JSON>\", \"v:<value of a set element as JSON>\" or \".\" for the field itself."},
"meta.ManagedFieldsEntry": {"type": "object",
 "description": "ManagedFieldsEntry names a field manager, the operation it used and the set of fields it owns.",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion is the version of the resource the field set refers to: field names depend on it."},
  "fieldsType": {"type": "string", "description": "FieldsType is the format of fieldsV1. The only value is \"FieldsV1\"."},
  "fieldsV1": {"$ref": "meta.FieldsV1", "description": "FieldsV1 is the set of fields owned by the manager, in the FieldsV1 form."},
  "manager": {"type": "string", "description": "Manager is the name of the workflow that manages these fields (for example \"kubectl-client-side-apply\")."},
  "operation": {"type": "string", "description": "Operation is the kind of request that produced this entry: \"Apply\" or \"Update\"."},
  "subresource": {"type": "string", "description": "Subresource is the subresource the fields were written through (for example \"status\"), empty for the main resource."},
  "time": {"$ref": "meta.Time", "description": "Time is when these fields were last changed by the manager."}
 }},
"meta.OwnerReference": {"type": "object", "required": ["apiVersion", "kind", "name", "uid"],
 "x-kubernetes-map-type": "atomic",
 "description": "OwnerReference identifies an owning object, in the same namespace as the owned one (or cluster-scoped).",
 "properties": {
  "apiVersion": {"type": "string", "default": "", "description": "API version of the owner."},
  "blockOwnerDeletion": {"type": "boolean", "description": "If true and the owner has the \"foregroundDeletion\" finalizer, the owner cannot be removed from the registry before this object is."},
  "controller": {"type": "boolean", "description": "If true, the owner is the managing controller of this object."},
  "kind": {"type": "string", "default": "", "description": "Kind of the owner."},
  "name": {"type": "string", "default": "", "description": "Name of the owner."},
  "uid": {"type": "string", "default": "", "description": "UID of the owner."}
 }},
"meta.LabelSelector": {"type": "object", "x-kubernetes-map-type": "atomic",
 "description": "A label selector is a query over labels. The requirements of matchLabels and matchExpressions are ANDed; an empty selector matches every object and a null one matches none.",
 "properties": {
  "matchExpressions": {"type": "array", "items": {"$ref": "meta.LabelSelectorRequirement"}, "description": "MatchExpressions is a list of label requirements, all of which must hold."},
  "matchLabels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": "MatchLabels is a map of {key, value} pairs; each pair is the requirement \"key In [value]\"."}
 }},
"meta.LabelSelectorRequirement": {"type": "object", "required": ["key", "operator"],
 "description": "A requirement on one label: a key, an operator and values.",
 "properties": {
  "key": {"type": "string", "default": "", "x-kubernetes-patch-merge-key": "key", "x-kubernetes-patch-strategy": "merge", "description": "Key is the label key the requirement applies to."},
  "operator": {"type": "string", "default": "", "description": "Operator relates the key to the values: In, NotIn, Exists or DoesNotExist."},
  "values": {"type": "array", "items": {"type": "string", "default": ""}, "description": "Values of the requirement: non-empty for In and NotIn, empty for Exists and DoesNotExist."}
 }},
"meta.Status": {"type": "object",
 "description": "Status is the result of an operation that does not return an object: mostly errors, with a machine-readable reason and a human-readable message.",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion of this representation (\"v1\")."},
  "code": {"type": "integer", "format": "int32", "description": "Code is the HTTP status code of the response."},
  "details": {"$ref": "meta.StatusDetails", "description": "Details gives more data about the reason (the object concerned, the invalid fields). Its content depends on the reason."},
  "kind": {"type": "string", "description": "Kind is \"Status\"."},
  "message": {"type": "string", "description": "Message describes the result for a human reader."},
  "metadata": {"$ref": "meta.ListMeta", "description": "Standard list metadata."},
  "reason": {"type": "string", "description": "Reason is a machine-readable, CamelCase explanation of a failure (NotFound, AlreadyExists, Conflict, Invalid, ...). Empty when nothing more is known."},
  "status": {"type": "string", "description": "Status is \"Success\" or \"Failure\"."}
 }},
"meta.StatusDetails": {"type": "object",
 "description": "StatusDetails adds facts to a Status: the object concerned and, for invalid objects, the causes.",
 "properties": {
  "causes": {"type": "array", "items": {"$ref": "meta.StatusCause"}, "description": "Causes lists the individual problems, for example each invalid field."},
  "group": {"type": "string", "description": "Group of the resource concerned."},
  "kind": {"type": "string", "description": "Kind (resource) of the object concerned."},
  "name": {"type": "string", "description": "Name of the object concerned, when there is one."},
  "retryAfterSeconds": {"type": "integer", "format": "int32", "description": "RetryAfterSeconds suggests when to retry an operation that may succeed later."},
  "uid": {"type": "string", "description": "UID of the object concerned, when known."}
 }},
"meta.StatusCause": {"type": "object",
 "description": "StatusCause is one problem behind a failure.",
 "properties": {
  "field": {"type": "string", "description": "Field is the path of the field at fault, in JSON path-like form (\"spec.resources.requests[storage]\"), when there is one."},
  "message": {"type": "string", "description": "Message describes this cause for a human reader."},
  "reason": {"type": "string", "description": "Reason is a machine-readable kind of problem (FieldValueInvalid, FieldValueRequired, FieldValueForbidden, ...)."}
 }},
"meta.Preconditions": {"type": "object",
 "description": "Preconditions must hold for a delete to proceed.",
 "properties": {
  "resourceVersion": {"type": "string", "description": "The object must still have this resourceVersion."},
  "uid": {"type": "string", "description": "The object must still have this uid."}
 }},
"meta.DeleteOptions": {"type": "object",
 "description": "DeleteOptions are the options of a delete request.",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion of this representation."},
  "dryRun": {"type": "array", "items": {"type": "string", "default": ""}, "description": "When present (\"All\"), the request is validated but nothing is persisted."},
  "gracePeriodSeconds": {"type": "integer", "format": "int64", "description": "Seconds the object has to terminate gracefully; zero means immediately. Empty means the kind's default."},
  "kind": {"type": "string", "description": "Kind is \"DeleteOptions\"."},
  "orphanDependents": {"type": "boolean", "description": "Deprecated: use propagationPolicy. Whether dependents are orphaned."},
  "preconditions": {"$ref": "meta.Preconditions", "description": "Conditions the object must meet for the delete to proceed."},
  "propagationPolicy": {"type": "string", "description": "How dependents are garbage collected: \"Orphan\" (they are kept), \"Background\" (deleted after the owner) or \"Foreground\" (deleted before the owner)."}
 }},
"meta.Patch": {"type": "object", "description": "Patch is the body of a PATCH request: a JSON patch, a JSON merge patch, a strategic merge patch or an apply configuration, after the request's Content-Type."},
"meta.WatchEvent": {"type": "object", "required": ["type", "object"],
 "description": "WatchEvent is one change reported by a watch.",
 "properties": {
  "object": {"type": "object", "description": "Object is the object after the change (ADDED, MODIFIED), its last state (DELETED), a Status (ERROR) or an object with only a resourceVersion (BOOKMARK)."},
  "type": {"type": "string", "default": "", "description": "Type is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."}
 }},
"Quantity": {"type": "string", "description": "Quantity is a fixed-point number with an optional suffix: binary SI (Ki, Mi, Gi, Ti, Pi, Ei), decimal SI (m, \"\", k, M, G, T, P, E) or a decimal exponent (e3, E6). Examples: \"10Gi\", \"500m\", \"1.5\". The server keeps the form the client used when it can."}
}
)json";

constexpr char kCoreSchemas[] = R"json(
{
"core.Namespace": {"type": "object",
 "description": "Namespace is a scope for the names of namespaced objects (claims, events, ...). Deleting a namespace deletes every object in it.",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"v1\"."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"Namespace\"."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata."},
  "spec": {"$ref": "core.NamespaceSpec", "description": "Spec is the desired state of the namespace."},
  "status": {"$ref": "core.NamespaceStatus", "description": "Status is the observed state of the namespace, maintained by the server."}
 }},
"core.NamespaceSpec": {"type": "object",
 "description": "NamespaceSpec is the desired state of a namespace.",
 "properties": {
  "finalizers": {"type": "array", "items": {"type": "string", "default": ""}, "description": "Finalizers must all be removed before the namespace is removed from storage."}
 }},
"core.NamespaceStatus": {"type": "object",
 "description": "NamespaceStatus is the observed state of a namespace.",
 "properties": {
  "conditions": {"type": "array", "items": {"$ref": "core.NamespaceCondition"}, "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "description": "Conditions are the latest observations of the namespace's state."},
  "phase": {"type": "string", "enum": ["Active", "Terminating"], "description": "Phase is \"Active\" while the namespace is in use and \"Terminating\" while it is being deleted."}
 }},
"core.NamespaceCondition": {"type": "object", "required": ["type", "status"],
 "description": "NamespaceCondition is one observation of a namespace's state.",
 "properties": {
  "lastTransitionTime": {"$ref": "meta.Time", "description": "When the condition last changed status."},
  "message": {"type": "string", "description": "Human-readable details."},
  "reason": {"type": "string", "description": "CamelCase reason of the last transition."},
  "status": {"type": "string", "default": "", "description": "True, False or Unknown."},
  "type": {"type": "string", "default": "", "description": "Type of the condition."}
 }},
"core.Pod": {"type": "object",
 "description": "Pod is a group of containers scheduled together on a node, sharing volumes. byok runs no workloads: the pods of a byok cluster are always none, and they cannot be created (byok volume attach puts data on a claim's volume instead).",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"v1\"."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"Pod\"."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata."},
  "spec": {"$ref": "core.PodSpec", "description": "Spec is the desired behavior of the pod: its containers, volumes and scheduling constraints."},
  "status": {"$ref": "core.PodStatus", "description": "Status is the most recently observed state of the pod, reported by its node's kubelet."}
 }},
"core.PodSpec": {"type": "object", "required": ["containers"],
 "description": "PodSpec is the description of a pod.",
 "properties": {
  "containers": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}, "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "description": "Containers are the pod's containers (name, image, command, volumeMounts, ...)."},
  "nodeName": {"type": "string", "description": "NodeName is the node the pod is scheduled on."},
  "volumes": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}, "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge,retainKeys", "description": "Volumes are the volumes the pod's containers can mount, e.g. {name, persistentVolumeClaim: {claimName}}."}
 }},
"core.PodStatus": {"type": "object",
 "description": "PodStatus is the observed state of a pod.",
 "properties": {
  "phase": {"type": "string", "description": "Phase is where the pod is in its lifecycle: Pending, Running, Succeeded, Failed or Unknown."},
  "conditions": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}, "description": "Conditions are the pod's current conditions (PodScheduled, Initialized, ContainersReady, Ready)."},
  "containerStatuses": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}, "description": "ContainerStatuses are the containers' states, one per container."},
  "hostIP": {"type": "string", "description": "HostIP is the address of the pod's node."},
  "podIP": {"type": "string", "description": "PodIP is the pod's address."},
  "startTime": {"$ref": "meta.Time", "description": "StartTime is when the kubelet acknowledged the pod."}
 }},
"core.Node": {"type": "object",
 "description": "Node is a worker machine of the cluster. On AKS every node is an instance of an agent pool's virtual machine scale set; the kubelet on it registers the node and reports its status.",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"v1\"."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"Node\"."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata."},
  "spec": {"$ref": "core.NodeSpec", "description": "Spec describes how the node is configured."},
  "status": {"$ref": "core.NodeStatus", "description": "Status is the most recently observed state of the node, reported by its kubelet."}
 }},
"core.NodeSpec": {"type": "object",
 "description": "NodeSpec describes how a node is configured.",
 "properties": {
  "podCIDR": {"type": "string", "description": "PodCIDR is the IP range assigned to the node for its pods."},
  "podCIDRs": {"type": "array", "items": {"type": "string", "default": ""}, "x-kubernetes-patch-strategy": "merge", "description": "PodCIDRs are the IP ranges assigned to the node for its pods, at most one per IP family; the first equals podCIDR."},
  "providerID": {"type": "string", "description": "ProviderID is the node's identity at its cloud provider. On Azure: azure:///subscriptions/<subscription>/resourceGroups/<node resource group>/providers/Microsoft.Compute/virtualMachineScaleSets/<scale set>/virtualMachines/<instance>."},
  "taints": {"type": "array", "items": {"$ref": "core.Taint"}, "description": "Taints repel pods that do not tolerate them."},
  "unschedulable": {"type": "boolean", "description": "Unschedulable keeps new pods off the node (kubectl cordon sets it)."}
 }},
"core.Taint": {"type": "object", "required": ["key", "effect"],
 "description": "A taint marks a node so that pods which do not tolerate it are kept away from it.",
 "properties": {
  "effect": {"type": "string", "default": "", "enum": ["NoExecute", "NoSchedule", "PreferNoSchedule"], "description": "Effect on pods that do not tolerate the taint: NoSchedule, PreferNoSchedule or NoExecute."},
  "key": {"type": "string", "default": "", "description": "Key of the taint."},
  "timeAdded": {"$ref": "meta.Time", "description": "When a NoExecute taint was added."},
  "value": {"type": "string", "description": "Value of the taint."}
 }},
"core.NodeStatus": {"type": "object",
 "description": "NodeStatus is the observed state of a node.",
 "properties": {
  "addresses": {"type": "array", "items": {"$ref": "core.NodeAddress"}, "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "description": "Addresses lists the node's reachable addresses (InternalIP, ExternalIP, Hostname, ...)."},
  "allocatable": {"type": "object", "additionalProperties": {"$ref": "Quantity"}, "description": "Allocatable is the part of the capacity available to pods, after the reservations for the operating system and Kubernetes daemons and the eviction threshold."},
  "capacity": {"type": "object", "additionalProperties": {"$ref": "Quantity"}, "description": "Capacity is the total of each resource of the node (cpu, memory, pods, ephemeral-storage)."},
  "conditions": {"type": "array", "items": {"$ref": "core.NodeCondition"}, "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "description": "Conditions are the current observations of the node: Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable."},
  "daemonEndpoints": {"$ref": "core.NodeDaemonEndpoints", "description": "Endpoints of the daemons running on the node."},
  "images": {"type": "array", "items": {"$ref": "core.ContainerImage"}, "description": "Container images present on the node."},
  "nodeInfo": {"$ref": "core.NodeSystemInfo", "description": "Facts about the node's system: versions of the kubelet, kernel and container runtime, operating system image, ids."},
  "phase": {"type": "string", "description": "Deprecated and not set."},
  "volumesAttached": {"type": "array", "items": {"$ref": "core.AttachedVolume"}, "description": "Volumes attached to the node."},
  "volumesInUse": {"type": "array", "items": {"type": "string", "default": ""}, "description": "Volumes the node uses (mounted)."}
 }},
"core.NodeAddress": {"type": "object", "required": ["type", "address"],
 "description": "One address of a node.",
 "properties": {
  "address": {"type": "string", "default": "", "description": "The address."},
  "type": {"type": "string", "default": "", "description": "Hostname, ExternalIP, InternalIP, ExternalDNS or InternalDNS."}
 }},
"core.NodeCondition": {"type": "object", "required": ["type", "status"],
 "description": "NodeCondition is one observation of a node's state.",
 "properties": {
  "lastHeartbeatTime": {"$ref": "meta.Time", "description": "When the kubelet last confirmed the condition."},
  "lastTransitionTime": {"$ref": "meta.Time", "description": "When the condition last changed status."},
  "message": {"type": "string", "description": "Human-readable details."},
  "reason": {"type": "string", "description": "CamelCase reason of the last transition (KubeletReady, KubeletNotReady, NodeStatusUnknown, ...)."},
  "status": {"type": "string", "default": "", "description": "True, False or Unknown. A Ready condition that is Unknown means the node stopped reporting."},
  "type": {"type": "string", "default": "", "description": "Type of the condition: Ready, MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable."}
 }},
"core.NodeDaemonEndpoints": {"type": "object",
 "description": "Ports of the daemons running on a node.",
 "properties": {
  "kubeletEndpoint": {"$ref": "core.DaemonEndpoint", "description": "The port the kubelet listens on."}
 }},
"core.DaemonEndpoint": {"type": "object", "required": ["Port"],
 "description": "A port a daemon listens on.",
 "properties": {
  "Port": {"type": "integer", "format": "int32", "default": 0, "description": "Port number."}
 }},
"core.ContainerImage": {"type": "object",
 "description": "A container image present on a node.",
 "properties": {
  "names": {"type": "array", "items": {"type": "string", "default": ""}, "description": "Names (and digests) the image is known by."},
  "sizeBytes": {"type": "integer", "format": "int64", "description": "Size of the image in bytes."}
 }},
"core.AttachedVolume": {"type": "object", "required": ["name", "devicePath"],
 "description": "A volume attached to a node.",
 "properties": {
  "devicePath": {"type": "string", "default": "", "description": "Where the volume should be available on the node."},
  "name": {"type": "string", "default": "", "description": "Name of the attached volume."}
 }},
"core.NodeSystemInfo": {"type": "object",
 "required": ["machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture"],
 "description": "Facts about a node's system, reported by its kubelet.",
 "properties": {
  "architecture": {"type": "string", "default": "", "description": "CPU architecture (amd64, arm64)."},
  "bootID": {"type": "string", "default": "", "description": "Changes at every boot of the node."},
  "containerRuntimeVersion": {"type": "string", "default": "", "description": "Container runtime and version (containerd://1.6.x)."},
  "kernelVersion": {"type": "string", "default": "", "description": "Kernel release (uname -r)."},
  "kubeProxyVersion": {"type": "string", "default": "", "description": "Version of kube-proxy."},
  "kubeletVersion": {"type": "string", "default": "", "description": "Version of the kubelet, that is the node's Kubernetes version."},
  "machineID": {"type": "string", "default": "", "description": "Machine id of the node (/etc/machine-id)."},
  "operatingSystem": {"type": "string", "default": "", "description": "Operating system: linux or windows."},
  "osImage": {"type": "string", "default": "", "description": "Operating system image (/etc/os-release PRETTY_NAME)."},
  "systemUUID": {"type": "string", "default": "", "description": "System UUID reported by the machine's firmware."}
 }},
"core.PersistentVolume": {"type": "object",
 "description": "PersistentVolume is a piece of storage in the cluster, provisioned by an administrator or dynamically by a storage class's provisioner. A claim binds to one volume; the volume outlives pods and, depending on its reclaim policy, its claim.",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"v1\"."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"PersistentVolume\"."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata."},
  "spec": {"$ref": "core.PersistentVolumeSpec", "description": "Spec describes the volume: its capacity, access modes, the storage backing it and what happens to it when its claim is released."},
  "status": {"$ref": "core.PersistentVolumeStatus", "description": "Status is the current phase of the volume, maintained by the system."}
 }},
"core.PersistentVolumeSpec": {"type": "object",
 "description": "PersistentVolumeSpec describes a persistent volume.",
 "properties": {
  "accessModes": {"type": "array", "items": {"type": "string", "default": ""}, "description": "AccessModes are the ways the volume can be mounted: ReadWriteOnce (one node, read-write), ReadOnlyMany (many nodes, read-only), ReadWriteMany (many nodes, read-write) or ReadWriteOncePod (one pod). Azure disks support ReadWriteOnce."},
  "azureDisk": {"$ref": "core.AzureDiskVolumeSource", "description": "AzureDisk is the deprecated in-tree Azure data disk source; Azure disks are now served by the disk.csi.azure.com CSI driver (see csi)."},
  "capacity": {"type": "object", "additionalProperties": {"$ref": "Quantity"}, "description": "Capacity of the volume; the key is \"storage\"."},
  "claimRef": {"$ref": "core.ObjectReference", "x-kubernetes-map-type": "granular", "description": "ClaimRef is the claim this volume is bound to (kind, namespace, name, uid). Set by the binder; an administrator may set it to reserve the volume for a claim."},
  "csi": {"$ref": "core.CSIPersistentVolumeSource", "description": "CSI is storage served by an external Container Storage Interface driver, such as disk.csi.azure.com for Azure managed disks."},
  "hostPath": {"$ref": "core.HostPathVolumeSource", "description": "HostPath is a directory on the node, for single-node testing only."},
  "local": {"$ref": "core.LocalVolumeSource", "description": "Local is storage attached directly to one node (a disk, partition or directory)."},
  "mountOptions": {"type": "array", "items": {"type": "string", "default": ""}, "description": "Mount options used when the volume is mounted; not validated."},
  "nodeAffinity": {"$ref": "core.VolumeNodeAffinity", "description": "NodeAffinity restricts the nodes the volume can be used from (for zonal disks, the zone)."},
  "persistentVolumeReclaimPolicy": {"type": "string", "enum": ["Delete", "Recycle", "Retain"], "description": "What happens to the volume when its claim is deleted: Retain (the volume and its storage stay, phase Released, for manual reclamation), Delete (the provisioner deletes the storage, e.g. the Azure disk, then the volume) or Recycle (deprecated). Dynamically provisioned volumes take the storage class's reclaimPolicy, Delete by default."},
  "storageClassName": {"type": "string", "description": "StorageClassName is the storage class this volume belongs to; only claims asking that class bind to it. Empty means no class."},
  "volumeMode": {"type": "string", "enum": ["Block", "Filesystem"], "description": "VolumeMode is Filesystem (the default: the volume is formatted and mounted) or Block (a raw block device)."}
 }},
"core.PersistentVolumeStatus": {"type": "object",
 "description": "PersistentVolumeStatus is the observed state of a persistent volume.",
 "properties": {
  "message": {"type": "string", "description": "Human-readable reason of the phase."},
  "phase": {"type": "string", "enum": ["Available", "Bound", "Failed", "Pending", "Released"], "description": "Phase is Pending (not available yet), Available (free, not bound), Bound (bound to a claim), Released (its claim was deleted; not yet reclaimed) or Failed (automatic reclamation failed)."},
  "reason": {"type": "string", "description": "CamelCase reason of a failure, shown in the REASON column."}
 }},
"core.CSIPersistentVolumeSource": {"type": "object", "required": ["driver", "volumeHandle"],
 "description": "Storage managed by an external CSI driver.",
 "properties": {
  "controllerExpandSecretRef": {"$ref": "core.SecretReference", "description": "Secret passed to the driver's ControllerExpandVolume call."},
  "controllerPublishSecretRef": {"$ref": "core.SecretReference", "description": "Secret passed to the driver's ControllerPublishVolume and ControllerUnpublishVolume calls."},
  "driver": {"type": "string", "default": "", "description": "Driver is the name of the CSI driver, e.g. disk.csi.azure.com."},
  "fsType": {"type": "string", "description": "Filesystem to mount (ext4, xfs, ...)."},
  "nodeExpandSecretRef": {"$ref": "core.SecretReference", "description": "Secret passed to the driver's NodeExpandVolume call."},
  "nodePublishSecretRef": {"$ref": "core.SecretReference", "description": "Secret passed to the driver's NodePublishVolume and NodeUnpublishVolume calls."},
  "nodeStageSecretRef": {"$ref": "core.SecretReference", "description": "Secret passed to the driver's NodeStageVolume and NodeUnstageVolume calls."},
  "readOnly": {"type": "boolean", "description": "Mount the volume read-only. Defaults to false."},
  "volumeAttributes": {"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": "Driver-specific attributes of the volume (for disk.csi.azure.com, copies of the storage class parameters)."},
  "volumeHandle": {"type": "string", "default": "", "description": "VolumeHandle is the driver's id of the volume; for disk.csi.azure.com, the ARM resource id of the managed disk."}
 }},
"core.SecretReference": {"type": "object", "x-kubernetes-map-type": "atomic",
 "description": "A reference to a secret in any namespace.",
 "properties": {
  "name": {"type": "string", "description": "Name of the secret."},
  "namespace": {"type": "string", "description": "Namespace of the secret."}
 }},
"core.AzureDiskVolumeSource": {"type": "object", "required": ["diskName", "diskURI"],
 "description": "An Azure data disk mounted into a pod by the in-tree plugin (deprecated in favour of disk.csi.azure.com).",
 "properties": {
  "cachingMode": {"type": "string", "description": "Host caching: None, ReadOnly or ReadWrite."},
  "diskName": {"type": "string", "default": "", "description": "Name of the disk."},
  "diskURI": {"type": "string", "default": "", "description": "ARM id (managed) or blob URI (unmanaged) of the disk."},
  "fsType": {"type": "string", "description": "Filesystem type; ext4 when not given."},
  "kind": {"type": "string", "description": "Shared (several disks per storage account), Dedicated or Managed (the default)."},
  "readOnly": {"type": "boolean", "description": "Mount read-only."}
 }},
"core.HostPathVolumeSource": {"type": "object", "required": ["path"],
 "description": "A file or directory on the node.",
 "properties": {
  "path": {"type": "string", "default": "", "description": "Path on the node."},
  "type": {"type": "string", "description": "What must exist at the path: \"\", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice."}
 }},
"core.LocalVolumeSource": {"type": "object", "required": ["path"],
 "description": "Storage local to one node.",
 "properties": {
  "fsType": {"type": "string", "description": "Filesystem type, for block devices only."},
  "path": {"type": "string", "default": "", "description": "Full path of the volume on the node."}
 }},
"core.VolumeNodeAffinity": {"type": "object",
 "description": "The nodes a volume can be used from.",
 "properties": {
  "required": {"$ref": "core.NodeSelector", "description": "Nodes that must be selected for the volume to be usable."}
 }},
"core.NodeSelector": {"type": "object", "required": ["nodeSelectorTerms"], "x-kubernetes-map-type": "atomic",
 "description": "A node selector: the union (OR) of its terms.",
 "properties": {
  "nodeSelectorTerms": {"type": "array", "items": {"$ref": "core.NodeSelectorTerm"}, "description": "The terms; a node matching any of them is selected."}
 }},
"core.NodeSelectorTerm": {"type": "object", "x-kubernetes-map-type": "atomic",
 "description": "A term: all of its requirements must hold (AND).",
 "properties": {
  "matchExpressions": {"type": "array", "items": {"$ref": "core.NodeSelectorRequirement"}, "description": "Requirements on node labels."},
  "matchFields": {"type": "array", "items": {"$ref": "core.NodeSelectorRequirement"}, "description": "Requirements on node fields."}
 }},
"core.NodeSelectorRequirement": {"type": "object", "required": ["key", "operator"],
 "description": "A requirement on one label or field of a node.",
 "properties": {
  "key": {"type": "string", "default": "", "description": "The label key or field the requirement applies to."},
  "operator": {"type": "string", "default": "", "description": "In, NotIn, Exists, DoesNotExist, Gt or Lt."},
  "values": {"type": "array", "items": {"type": "string", "default": ""}, "description": "Values compared with the operator."}
 }},
"core.ObjectReference": {"type": "object", "x-kubernetes-map-type": "atomic",
 "description": "ObjectReference points at another object.",
 "properties": {
  "apiVersion": {"type": "string", "description": "API version of the referent."},
  "fieldPath": {"type": "string", "description": "A field within the referent the reference is about (e.g. spec.containers{name})."},
  "kind": {"type": "string", "description": "Kind of the referent."},
  "name": {"type": "string", "description": "Name of the referent."},
  "namespace": {"type": "string", "description": "Namespace of the referent."},
  "resourceVersion": {"type": "string", "description": "The referent's resourceVersion this reference was made at."},
  "uid": {"type": "string", "description": "UID of the referent."}
 }},
"core.PersistentVolumeClaim": {"type": "object",
 "description": "PersistentVolumeClaim is a user's request for storage: a size, access modes and a storage class. The claim binds to a persistent volume, provisioned on demand by the class's provisioner when none matches.",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"v1\"."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"PersistentVolumeClaim\"."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata."},
  "spec": {"$ref": "core.PersistentVolumeClaimSpec", "description": "Spec is what the user asks for."},
  "status": {"$ref": "core.PersistentVolumeClaimStatus", "description": "Status is the current state of the claim, maintained by the system."}
 }},
"core.PersistentVolumeClaimSpec": {"type": "object",
 "description": "PersistentVolumeClaimSpec is the storage a claim asks for. After creation only resources.requests may change (to grow the volume when its class allows expansion).",
 "properties": {
  "accessModes": {"type": "array", "items": {"type": "string", "default": ""}, "description": "AccessModes the volume must support: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod."},
  "dataSource": {"$ref": "core.TypedLocalObjectReference", "description": "DataSource names an existing object to populate the new volume from: a VolumeSnapshot or another claim (a clone) in the same namespace."},
  "dataSourceRef": {"$ref": "core.TypedObjectReference", "description": "DataSourceRef names the object to populate the volume from, including custom populators; it supersedes dataSource, which is kept equal to it when both could hold the value."},
  "resources": {"$ref": "core.ResourceRequirements", "description": "Resources is the minimum size the volume must have (requests.storage). Raising it later expands the volume when the storage class has allowVolumeExpansion."},
  "selector": {"$ref": "meta.LabelSelector", "description": "Selector restricts the volumes the claim may bind to by their labels. A claim with a selector is not dynamically provisioned."},
  "storageClassName": {"type": "string", "description": "StorageClassName is the storage class the claim asks for; its provisioner creates the volume. Absent means the cluster's default class; \"\" means a volume without class."},
  "volumeMode": {"type": "string", "enum": ["Block", "Filesystem"], "description": "VolumeMode is Filesystem (the default) or Block."},
  "volumeName": {"type": "string", "description": "VolumeName is the persistent volume the claim is bound to, set by the binder (or by the user to ask for one volume)."}
 }},
"core.TypedLocalObjectReference": {"type": "object", "required": ["kind", "name"], "x-kubernetes-map-type": "atomic",
 "description": "A reference to an object in the same namespace, with its type.",
 "properties": {
  "apiGroup": {"type": "string", "description": "API group of the referent; empty for the core group."},
  "kind": {"type": "string", "default": "", "description": "Kind of the referent."},
  "name": {"type": "string", "default": "", "description": "Name of the referent."}
 }},
"core.TypedObjectReference": {"type": "object", "required": ["kind", "name"],
 "description": "A reference to an object with its type, possibly in another namespace.",
 "properties": {
  "apiGroup": {"type": "string", "description": "API group of the referent; empty for the core group."},
  "kind": {"type": "string", "default": "", "description": "Kind of the referent."},
  "name": {"type": "string", "default": "", "description": "Name of the referent."},
  "namespace": {"type": "string", "description": "Namespace of the referent, when it differs from the claim's (needs a ReferenceGrant there)."}
 }},
"core.ResourceRequirements": {"type": "object",
 "description": "Amounts of compute or storage resources.",
 "properties": {
  "limits": {"type": "object", "additionalProperties": {"$ref": "Quantity"}, "description": "The maximum amounts allowed."},
  "requests": {"type": "object", "additionalProperties": {"$ref": "Quantity"}, "description": "The minimum amounts required. For a claim, requests.storage is the size of the volume (\"10Gi\")."}
 }},
"core.PersistentVolumeClaimStatus": {"type": "object",
 "description": "PersistentVolumeClaimStatus is the observed state of a claim.",
 "properties": {
  "accessModes": {"type": "array", "items": {"type": "string", "default": ""}, "description": "AccessModes of the bound volume."},
  "allocatedResources": {"type": "object", "additionalProperties": {"$ref": "Quantity"}, "description": "Storage allocated while an expansion is in progress."},
  "capacity": {"type": "object", "additionalProperties": {"$ref": "Quantity"}, "description": "Capacity of the bound volume."},
  "conditions": {"type": "array", "items": {"$ref": "core.PersistentVolumeClaimCondition"}, "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge", "description": "Conditions of the claim, e.g. Resizing or FileSystemResizePending during an expansion."},
  "phase": {"type": "string", "enum": ["Bound", "Lost", "Pending"], "description": "Phase is Pending (not bound yet: waiting for a volume or for its provisioning), Bound (bound to the volume in spec.volumeName) or Lost (its volume disappeared)."},
  "resizeStatus": {"type": "string", "description": "State of an expansion in progress, when the RecoverVolumeExpansionFailure feature is on."}
 }},
"core.PersistentVolumeClaimCondition": {"type": "object", "required": ["type", "status"],
 "description": "One observation of a claim's state.",
 "properties": {
  "lastProbeTime": {"$ref": "meta.Time", "description": "When the condition was last checked."},
  "lastTransitionTime": {"$ref": "meta.Time", "description": "When the condition last changed status."},
  "message": {"type": "string", "description": "Human-readable details."},
  "reason": {"type": "string", "description": "CamelCase reason of the last transition."},
  "status": {"type": "string", "default": "", "description": "True, False or Unknown."},
  "type": {"type": "string", "default": "", "description": "Type of the condition: Resizing or FileSystemResizePending."}
 }},
"core.Event": {"type": "object", "required": ["metadata", "involvedObject"],
 "description": "Event reports something that happened to an object, for example a volume provisioned or a failure to do so. Events are informational, kept for a limited time, and repeated occurrences are counted rather than duplicated.",
 "properties": {
  "action": {"type": "string", "description": "What was done, or failed to be done, to the object."},
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"v1\"."},
  "count": {"type": "integer", "format": "int32", "description": "How many times the event occurred."},
  "eventTime": {"$ref": "meta.MicroTime", "description": "When the event was first observed, with microseconds."},
  "firstTimestamp": {"$ref": "meta.Time", "description": "When the event was first recorded."},
  "involvedObject": {"$ref": "core.ObjectReference", "description": "The object the event is about."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"Event\"."},
  "lastTimestamp": {"$ref": "meta.Time", "description": "When the event was last recorded."},
  "message": {"type": "string", "description": "A human-readable description of what happened."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata."},
  "reason": {"type": "string", "description": "A short, machine-readable, CamelCase reason (ProvisioningSucceeded, ProvisioningFailed, ...)."},
  "related": {"$ref": "core.ObjectReference", "description": "A second object involved, if any."},
  "reportingComponent": {"type": "string", "default": "", "description": "The controller that emitted the event (e.g. persistentvolume-controller)."},
  "reportingInstance": {"type": "string", "default": "", "description": "The instance of that controller."},
  "series": {"$ref": "core.EventSeries", "description": "Data about a series of repeated events."},
  "source": {"$ref": "core.EventSource", "description": "The component and host that reported the event."},
  "type": {"type": "string", "description": "Normal or Warning."}
 }},
"core.EventSource": {"type": "object",
 "description": "The component that reported an event.",
 "properties": {
  "component": {"type": "string", "description": "Component that generated the event."},
  "host": {"type": "string", "description": "Node name on which the event was generated."}
 }},
"core.EventSeries": {"type": "object",
 "description": "A series of repeated occurrences of an event.",
 "properties": {
  "count": {"type": "integer", "format": "int32", "description": "Number of occurrences in the series so far."},
  "lastObservedTime": {"$ref": "meta.MicroTime", "description": "When the last occurrence was observed."}
 }}
}
)json";

constexpr char kStorageSchemas[] = R"json(
{
"storage.StorageClass": {"type": "object", "required": ["provisioner"],
 "description": "StorageClass describes a class of storage that claims can ask for by name: the provisioner that creates its volumes and the parameters it passes. On AKS the built-in classes (default, managed-csi, managed-csi-premium, ...) use the Azure disk CSI driver, disk.csi.azure.com. A class cannot be changed after creation, except for its metadata and allowVolumeExpansion.",
 "properties": {
  "allowVolumeExpansion": {"type": "boolean", "description": "AllowVolumeExpansion lets claims of this class grow by raising spec.resources.requests.storage."},
  "allowedTopologies": {"type": "array", "items": {"$ref": "core.TopologySelectorTerm"}, "x-kubernetes-list-type": "atomic", "description": "AllowedTopologies restricts where volumes may be provisioned (e.g. to zones: topology.disk.csi.azure.com/zone). Empty means anywhere."},
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"storage.k8s.io/v1\"."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"StorageClass\"."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata. The annotation storageclass.kubernetes.io/is-default-class: \"true\" makes the class the one used by claims that name none."},
  "mountOptions": {"type": "array", "items": {"type": "string", "default": ""}, "description": "MountOptions are given to the volumes this class provisions (e.g. [\"ro\", \"soft\"]); they are not validated: a wrong option makes the mount fail."},
  "parameters": {"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": "Parameters are handed to the provisioner when it creates a volume of this class; their meaning is the provisioner's. For disk.csi.azure.com: skuName (Standard_LRS, Premium_LRS, StandardSSD_LRS, PremiumV2_LRS, UltraSSD_LRS, Premium_ZRS, StandardSSD_ZRS), cachingMode (None, ReadOnly, ReadWrite), kind (managed), diskEncryptionSetID (the ARM id of a disk encryption set, for customer-managed keys), diskEncryptionType (EncryptionAtRestWithCustomerKey, EncryptionAtRestWithPlatformAndCustomerKeys), resourceGroup (where the disks are created instead of the node resource group), tags (\"key1=value1,key2=value2\"), networkAccessPolicy, fsType and more. At most 512 parameters, 256 KiB in total. Immutable."},
  "provisioner": {"type": "string", "default": "", "description": "Provisioner is the name of the volume plugin or CSI driver that creates the volumes of this class, e.g. disk.csi.azure.com. Required. Immutable."},
  "reclaimPolicy": {"type": "string", "enum": ["Delete", "Recycle", "Retain"], "description": "ReclaimPolicy is given to the volumes this class provisions: Delete (the default: the volume and its storage are deleted with the claim) or Retain. Immutable."},
  "volumeBindingMode": {"type": "string", "enum": ["Immediate", "WaitForFirstConsumer"], "description": "VolumeBindingMode is when claims are provisioned and bound: Immediate (the default: as soon as the claim is created) or WaitForFirstConsumer (when a pod using the claim is scheduled, so the volume is created where the pod runs). Immutable."}
 }},
"core.TopologySelectorTerm": {"type": "object", "x-kubernetes-map-type": "atomic",
 "description": "A topology term: all of its requirements must hold.",
 "properties": {
  "matchLabelExpressions": {"type": "array", "items": {"$ref": "core.TopologySelectorLabelRequirement"}, "description": "Requirements on topology labels."}
 }},
"core.TopologySelectorLabelRequirement": {"type": "object", "required": ["key", "values"],
 "description": "A topology label and the values it may take.",
 "properties": {
  "key": {"type": "string", "default": "", "description": "The label key."},
  "values": {"type": "array", "items": {"type": "string", "default": ""}, "description": "The values allowed; one must match."}
 }},
"storage.VolumeAttachment": {"type": "object", "required": ["spec"],
 "description": "VolumeAttachment records the intent to attach a volume to a node, and whether it is attached. The attach/detach controller creates it; the CSI driver's attacher attaches the volume (for Azure disks: attaches the managed disk to the node's VM) and reports the result in status. Cluster-scoped.",
 "properties": {
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"storage.k8s.io/v1\"."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"VolumeAttachment\"."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata."},
  "spec": {"$ref": "storage.VolumeAttachmentSpec", "description": "Spec is the attachment wanted: which volume, which node, which attacher."},
  "status": {"$ref": "storage.VolumeAttachmentStatus", "description": "Status is the result of the attach or detach, set by the attacher."}
 }},
"storage.VolumeAttachmentSpec": {"type": "object", "required": ["attacher", "source", "nodeName"],
 "description": "The attachment wanted.",
 "properties": {
  "attacher": {"type": "string", "default": "", "description": "Attacher is the name of the driver that must handle the attachment, e.g. disk.csi.azure.com."},
  "nodeName": {"type": "string", "default": "", "description": "NodeName is the node the volume is attached to."},
  "source": {"$ref": "storage.VolumeAttachmentSource", "description": "Source is the volume to attach."}
 }},
"storage.VolumeAttachmentSource": {"type": "object",
 "description": "The volume to attach: exactly one of its fields is set.",
 "properties": {
  "inlineVolumeSpec": {"$ref": "core.PersistentVolumeSpec", "description": "The spec of a volume declared inline in a pod and migrated to CSI."},
  "persistentVolumeName": {"type": "string", "description": "The name of the persistent volume to attach."}
 }},
"storage.VolumeAttachmentStatus": {"type": "object", "required": ["attached"],
 "description": "The observed state of an attachment.",
 "properties": {
  "attachError": {"$ref": "storage.VolumeError", "description": "The last error of an attach attempt, if any."},
  "attached": {"type": "boolean", "default": false, "description": "Attached is true once the volume is attached to the node."},
  "attachmentMetadata": {"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": "Data the attacher hands to the node for mounting (for Azure disks: the LUN)."},
  "detachError": {"$ref": "storage.VolumeError", "description": "The last error of a detach attempt, if any."}
 }},
"storage.VolumeError": {"type": "object",
 "description": "An error of an attach or detach.",
 "properties": {
  "message": {"type": "string", "description": "What went wrong; it may be logged and must not carry secrets."},
  "time": {"$ref": "meta.Time", "description": "When the error happened."}
 }},
"events.Event": {"type": "object", "required": ["eventTime"],
 "description": "Event reports something that happened to an object (events.k8s.io form). The same events are served as core v1 Events, where the fields have other names: regarding is involvedObject, note is message, deprecatedCount is count.",
 "properties": {
  "action": {"type": "string", "description": "What was done, or failed to be done, to the regarding object."},
  "apiVersion": {"type": "string", "description": "APIVersion is the versioned schema of this representation: \"events.k8s.io/v1\"."},
  "deprecatedCount": {"type": "integer", "format": "int32", "description": "The core v1 count field, kept for compatibility."},
  "deprecatedFirstTimestamp": {"$ref": "meta.Time", "description": "The core v1 firstTimestamp field, kept for compatibility."},
  "deprecatedLastTimestamp": {"$ref": "meta.Time", "description": "The core v1 lastTimestamp field, kept for compatibility."},
  "deprecatedSource": {"$ref": "core.EventSource", "description": "The core v1 source field, kept for compatibility."},
  "eventTime": {"$ref": "meta.MicroTime", "description": "When the event was first observed. Required."},
  "kind": {"type": "string", "description": "Kind is the REST resource this object represents: \"Event\"."},
  "metadata": {"$ref": "meta.ObjectMeta", "description": "Standard object metadata."},
  "note": {"type": "string", "description": "A human-readable description of what happened, at most 1 KiB."},
  "reason": {"type": "string", "description": "A short, machine-readable, CamelCase reason."},
  "regarding": {"$ref": "core.ObjectReference", "description": "The object the event is about."},
  "related": {"$ref": "core.ObjectReference", "description": "A second object involved, if any."},
  "reportingController": {"type": "string", "description": "The controller that emitted the event, e.g. disk.csi.azure.com."},
  "reportingInstance": {"type": "string", "description": "The instance of that controller."},
  "series": {"$ref": "events.EventSeries", "description": "Data about a series of repeated events."},
  "type": {"type": "string", "description": "Normal or Warning."}
 }},
"events.EventSeries": {"type": "object", "required": ["count", "lastObservedTime"],
 "description": "A series of repeated occurrences of an event.",
 "properties": {
  "count": {"type": "integer", "format": "int32", "default": 0, "description": "Number of occurrences so far."},
  "lastObservedTime": {"$ref": "meta.MicroTime", "description": "When the last occurrence was observed."}
 }}
}
)json";

constexpr char kComponentsPrefix[] = "#/components/schemas/";

std::string FullName(std::string_view short_name) {
  static const std::pair<std::string_view, std::string_view> kPrefixes[] = {
      {"meta.", "io.k8s.apimachinery.pkg.apis.meta.v1."},
      {"core.", "io.k8s.api.core.v1."},
      {"storage.", "io.k8s.api.storage.v1."},
      {"events.", "io.k8s.api.events.v1."},
  };
  if (short_name == "Quantity") return "io.k8s.apimachinery.pkg.api.resource.Quantity";
  for (const auto& [from, to] : kPrefixes) {
    if (short_name.substr(0, from.size()) == from) {
      return std::string(to) + std::string(short_name.substr(from.size()));
    }
  }
  return std::string(short_name);
}

// The short schema name of a kind ("core.PersistentVolumeClaim").
std::string KindSchemaName(const Kind& k) {
  if (k.group.empty()) return "core." + k.kind;
  if (k.group == "storage.k8s.io") return "storage." + k.kind;
  return "events." + k.kind;  // events.k8s.io
}

// Rewrites short $refs to the apiserver's allOf form, recursively.
void ExpandRefs(json& j) {
  if (j.is_array()) {
    for (auto& e : j) ExpandRefs(e);
    return;
  }
  if (!j.is_object()) return;
  if (auto it = j.find("$ref"); it != j.end() && it->is_string()) {
    std::string target = kComponentsPrefix + FullName(it->get<std::string>());
    j.erase("$ref");
    j["allOf"] = json::array({{{"$ref", target}}});
  }
  for (auto& [key, value] : j.items()) {
    if (key != "allOf") ExpandRefs(value);
  }
}

json Gvk(const Kind& k, const std::string& kind) {
  return {{"group", k.group}, {"version", k.version}, {"kind", kind}};
}

json Ref(const std::string& full_name) { return {{"$ref", kComponentsPrefix + full_name}}; }

// Every schema, by full name.
std::map<std::string, json> BuildSchemas() {
  std::map<std::string, json> schemas;
  for (const char* source : {kMetaSchemas, kCoreSchemas, kStorageSchemas}) {
    json parsed = json::parse(source);
    for (auto& [name, schema] : parsed.items()) {
      ExpandRefs(schema);
      schemas[FullName(name)] = schema;
    }
  }
  for (const Kind& k : ServedKinds()) {
    std::string full = FullName(KindSchemaName(k));
    schemas[full]["x-kubernetes-group-version-kind"] = json::array({Gvk(k, k.kind)});
    std::string plural = k.kind + "s";
    schemas[full + "List"] = {
        {"type", "object"},
        {"required", json::array({"items"})},
        {"description", k.list_kind + " is a list of " + plural + "."},
        {"properties",
         {{"apiVersion",
           {{"type", "string"},
            {"description", "APIVersion is the versioned schema of this representation: \"" +
                                k.ApiVersion() + "\"."}}},
          {"items",
           {{"type", "array"},
            {"items", {{"allOf", json::array({Ref(full)})}, {"default", json::object()}}},
            {"description", "Items are the " + plural + " of the list."}}},
          {"kind",
           {{"type", "string"},
            {"description",
             "Kind is the REST resource this object represents: \"" + k.list_kind + "\"."}}},
          {"metadata",
           {{"allOf", json::array({Ref(FullName("meta.ListMeta"))})},
            {"default", json::object()},
            {"description", "Standard list metadata."}}}}},
        {"x-kubernetes-group-version-kind", json::array({Gvk(k, k.list_kind)})}};
  }
  return schemas;
}

// Adds to `out` every schema reachable from the $refs in `j`.
void CollectRefs(const json& j, const std::map<std::string, json>& all,
                 std::set<std::string>& out) {
  if (j.is_array()) {
    for (const auto& e : j) CollectRefs(e, all, out);
    return;
  }
  if (!j.is_object()) return;
  if (auto it = j.find("$ref"); it != j.end() && it->is_string()) {
    std::string name = it->get<std::string>().substr(sizeof(kComponentsPrefix) - 1);
    if (out.insert(name).second) {
      if (auto s = all.find(name); s != all.end()) CollectRefs(s->second, all, out);
    }
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "$ref") CollectRefs(value, all, out);
  }
}

json QueryParam(std::string_view name, std::string_view type, std::string_view description) {
  return {{"name", name},
          {"in", "query"},
          {"description", description},
          {"schema", {{"type", type}, {"uniqueItems", true}}}};
}

json PathParam(std::string_view name, std::string_view description) {
  return {{"name", name},
          {"in", "path"},
          {"description", description},
          {"required", true},
          {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

json Pretty() {
  return QueryParam("pretty", "string", "If 'true', the output is indented for reading.");
}
json DryRun() {
  return QueryParam("dryRun", "string",
                    "When present, the request is checked and answered but nothing is persisted. "
                    "The only value is All.");
}
json FieldManager(bool required_for_apply) {
  return QueryParam("fieldManager", "string",
                    required_for_apply
                        ? "Name of the actor making the change, recorded in managedFields. "
                          "Required for apply patches (application/apply-patch+yaml); optional "
                          "otherwise. At most 128 printable characters."
                        : "Name of the actor making the change, recorded in managedFields. At "
                          "most 128 printable characters.");
}
json FieldValidation() {
  return QueryParam(
      "fieldValidation", "string",
      "What the server does with unknown or duplicate fields in the body: Ignore (drop them "
      "silently), Warn (drop them and answer with a warning header per field; the default) or "
      "Strict (refuse the request with a BadRequest error naming the fields).");
}

std::vector<json> ListParams(bool watch_param) {
  std::vector<json> p = {
      QueryParam("allowWatchBookmarks", "boolean",
                 "Ask for BOOKMARK events in a watch (byok sends one only to end the initial "
                 "events of sendInitialEvents). Ignored by other requests."),
      QueryParam("continue", "string",
                 "The continue token of the previous chunk of a limited list, to get the next "
                 "one."),
      QueryParam("fieldSelector", "string",
                 "Restrict the list to objects whose fields match (metadata.name=x, "
                 "metadata.namespace!=y). Everything by default."),
      QueryParam("labelSelector", "string",
                 "Restrict the list to objects whose labels match (app=x,tier in (a,b)). "
                 "Everything by default."),
      QueryParam("limit", "integer",
                 "Return at most this many items; the list's metadata.continue then gives the "
                 "token of the next chunk."),
      QueryParam("resourceVersion", "string",
                 "Which version of the collection to read: unset for the most recent, \"0\" for "
                 "any, or a resourceVersion (see resourceVersionMatch)."),
      QueryParam("resourceVersionMatch", "string",
                 "How resourceVersion is applied to a list: Exact or NotOlderThan."),
      QueryParam("sendInitialEvents", "boolean",
                 "With watch, allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan: "
                 "the current objects as ADDED events first, then a BOOKMARK annotated "
                 "k8s.io/initial-events-end (a streaming list)."),
      QueryParam("timeoutSeconds", "integer", "Time limit of the list or watch call."),
  };
  if (watch_param) {
    p.push_back(QueryParam("watch", "boolean",
                           "Watch for changes instead of listing: a stream of ADDED, MODIFIED, "
                           "DELETED, BOOKMARK and ERROR events."));
  }
  return p;
}

json Responses(const std::string& schema, std::initializer_list<std::string_view> codes) {
  json content = json::object();
  for (const char* type :
       {"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}) {
    content[type] = {{"schema", Ref(schema)}};
  }
  json out = json::object();
  for (std::string_view code : codes) {
    std::string description = code == "200" ? "OK" : code == "201" ? "Created" : "Accepted";
    out[std::string(code)] = {{"description", description}, {"content", content}};
  }
  out["401"] = {{"description", "Unauthorized"}};
  return out;
}

json Operation(const Kind& k, std::string_view verb, std::string op_id, std::string description,
               std::vector<json> params) {
  static const std::map<std::string, std::string, std::less<>> kTags = {
      {"", "core_v1"}, {"storage.k8s.io", "storage_v1"}, {"events.k8s.io", "events_v1"}};
  json op = {{"tags", json::array({kTags.at(k.group)})},
             {"description", description},
             {"operationId", op_id},
             {"x-kubernetes-action", verb},
             {"x-kubernetes-group-version-kind", Gvk(k, k.kind)}};
  if (!params.empty()) op["parameters"] = params;
  return op;
}

std::string OpGroup(const Kind& k) {
  if (k.group.empty()) return "CoreV1";
  if (k.group == "storage.k8s.io") return "StorageV1";
  return "EventsV1";
}

bool HasVerb(const Kind& k, std::string_view verb) {
  for (const auto& v : k.verbs) {
    if (v == verb) return true;
  }
  return false;
}

void AddKindPaths(const Kind& k, json& paths) {
  std::string full = FullName(KindSchemaName(k));
  std::string list_schema = full + "List";
  std::string status_schema = FullName("meta.Status");
  std::string base = k.group.empty() ? "/api/v1" : "/apis/" + k.group + "/" + k.version;
  std::string ns_part = k.namespaced ? "/namespaces/{namespace}" : "";
  std::string ns_word = k.namespaced ? "Namespaced" : "";
  std::string collection = base + ns_part + "/" + k.resource;
  std::string item = collection + "/{name}";
  std::string g = OpGroup(k);
  json path_params = json::array();
  if (k.namespaced) {
    path_params.push_back(
        PathParam("namespace", "Object name and auth scope, such as for teams and projects"));
  }

  // Collection.
  json coll = {{"parameters", path_params}};
  coll["parameters"].push_back(Pretty());
  if (HasVerb(k, "list")) {
    coll["get"] = Operation(k, "list", "list" + g + ns_word + k.kind,
                            "list or watch objects of kind " + k.kind, ListParams(true));
    coll["get"]["responses"] = Responses(list_schema, {"200"});
  }
  if (HasVerb(k, "create")) {
    json& post = coll["post"] =
        Operation(k, "post", "create" + g + ns_word + k.kind, "create a " + k.kind,
                  {DryRun(), FieldManager(false), FieldValidation()});
    post["requestBody"] = {{"content", {{"*/*", {{"schema", Ref(full)}}}}}, {"required", true}};
    post["responses"] = Responses(full, {"200", "201", "202"});
  }
  if (HasVerb(k, "deletecollection")) {
    std::vector<json> params = ListParams(false);
    params.insert(params.begin(), DryRun());
    params.push_back(QueryParam("gracePeriodSeconds", "integer",
                                "Seconds each object has to terminate; zero deletes at once."));
    params.push_back(QueryParam("propagationPolicy", "string",
                                "Whether and how dependents are garbage collected: Orphan, "
                                "Background or Foreground."));
    json& del = coll["delete"] =
        Operation(k, "deletecollection", "delete" + g + "Collection" + ns_word + k.kind,
                  "delete collection of " + k.kind, params);
    del["requestBody"] = {
        {"content", {{"*/*", {{"schema", Ref(FullName("meta.DeleteOptions"))}}}}}};
    del["responses"] = Responses(status_schema, {"200"});
  }
  paths[collection] = coll;

  // Item.
  json it = {{"parameters", path_params}};
  it["parameters"].push_back(PathParam("name", "name of the " + k.kind));
  it["parameters"].push_back(Pretty());
  it["get"] =
      Operation(k, "get", "read" + g + ns_word + k.kind, "read the specified " + k.kind, {});
  it["get"]["responses"] = Responses(full, {"200"});
  if (HasVerb(k, "update")) {
    json& put = it["put"] =
        Operation(k, "put", "replace" + g + ns_word + k.kind, "replace the specified " + k.kind,
                  {DryRun(), FieldManager(false), FieldValidation()});
    put["requestBody"] = {{"content", {{"*/*", {{"schema", Ref(full)}}}}}, {"required", true}};
    put["responses"] = Responses(full, {"200", "201"});
  }
  if (HasVerb(k, "patch")) {
    json& patch = it["patch"] = Operation(
        k, "patch", "patch" + g + ns_word + k.kind, "partially update the specified " + k.kind,
        {DryRun(), FieldManager(true), FieldValidation(),
         QueryParam("force", "boolean",
                    "Force an apply patch to take fields other managers own (conflicts are "
                    "otherwise refused). Must be unset for other patch types.")});
    json content = json::object();
    for (const char* type :
         {"application/json-patch+json", "application/merge-patch+json",
          "application/strategic-merge-patch+json", "application/apply-patch+yaml"}) {
      content[type] = {{"schema", Ref(FullName("meta.Patch"))}};
    }
    patch["requestBody"] = {{"content", content}, {"required", true}};
    patch["responses"] = Responses(full, {"200", "201"});
  }
  if (HasVerb(k, "delete")) {
    json& del = it["delete"] = Operation(
        k, "delete", "delete" + g + ns_word + k.kind, "delete " + k.kind,
        {DryRun(),
         QueryParam("gracePeriodSeconds", "integer",
                    "Seconds the object has to terminate; zero deletes at once."),
         QueryParam("propagationPolicy", "string",
                    "Whether and how dependents are garbage collected: Orphan, Background or "
                    "Foreground.")});
    del["requestBody"] = {
        {"content", {{"*/*", {{"schema", Ref(FullName("meta.DeleteOptions"))}}}}}};
    del["responses"] = Responses(full, {"200", "202"});
  }
  paths[item] = it;

  // Status subresource.
  for (const auto& sub : k.subresources) {
    if (sub != "status") continue;
    json st = {{"parameters", it["parameters"]}};
    st["get"] = Operation(k, "get", "read" + g + ns_word + k.kind + "Status",
                          "read status of the specified " + k.kind, {});
    st["get"]["responses"] = Responses(full, {"200"});
    if (!k.read_only) {
      st["put"] = Operation(k, "put", "replace" + g + ns_word + k.kind + "Status",
                            "replace status of the specified " + k.kind,
                            {DryRun(), FieldManager(false), FieldValidation()});
      st["put"]["requestBody"] = it["put"]["requestBody"];
      st["put"]["responses"] = Responses(full, {"200", "201"});
      st["patch"] = it["patch"];
      st["patch"]["operationId"] = "patch" + g + ns_word + k.kind + "Status";
      st["patch"]["description"] = "partially update status of the specified " + k.kind;
    }
    paths[item + "/status"] = st;
  }

  // All namespaces.
  if (k.namespaced && HasVerb(k, "list")) {
    json all = {{"parameters", json::array({Pretty()})}};
    all["get"] = Operation(k, "list", "list" + g + k.kind + "ForAllNamespaces",
                           "list or watch objects of kind " + k.kind, ListParams(true));
    all["get"]["responses"] = Responses(list_schema, {"200"});
    paths[base + "/" + k.resource] = all;
  }
}

struct Documents {
  std::map<std::string, json, std::less<>> docs;  // by "api/v1", "apis/storage.k8s.io/v1"
  std::map<std::string, std::string, std::less<>> hashes;
  json index;
};

std::string PathOf(const std::string& group_version) {
  return group_version == "v1" ? "api/v1" : "apis/" + group_version;
}

Documents BuildDocuments() {
  Documents d;
  std::map<std::string, json> schemas = BuildSchemas();
  d.index = {{"paths", json::object()}};
  for (const std::string& gv : ServedGroupVersions()) {
    json paths = json::object();
    for (const Kind& k : ServedKinds()) {
      if (k.ApiVersion() == gv) AddKindPaths(k, paths);
    }
    std::set<std::string> used;
    CollectRefs(paths, schemas, used);
    json components = json::object();
    for (const std::string& name : used) {
      if (auto s = schemas.find(name); s != schemas.end()) components[name] = s->second;
    }
    json doc = {{"openapi", "3.0.0"},
                {"info", {{"title", "Kubernetes"}, {"version", "unversioned"}}},
                {"paths", paths},
                {"components", {{"schemas", components}}}};
    std::string text = doc.dump();
    auto digest = crypto::Digest(crypto::HashAlgorithm::kSha256, AsBytes(text));
    std::string hash = digest.ok() ? HexEncode(*digest) : "";
    for (char& c : hash) c = static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
    std::string path = PathOf(gv);
    d.index["paths"][path] = {{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + hash}};
    d.hashes[path] = hash;
    d.docs[path] = std::move(doc);
  }
  return d;
}

const Documents& AllDocuments() {
  static const Documents d = BuildDocuments();
  return d;
}

}  // namespace

const json& OpenApiIndex() { return AllDocuments().index; }

std::optional<json> OpenApiDocument(std::string_view group_version_path) {
  const Documents& d = AllDocuments();
  auto it = d.docs.find(group_version_path);
  if (it == d.docs.end()) return std::nullopt;
  return it->second;
}

std::string OpenApiDocumentHash(std::string_view group_version_path) {
  const Documents& d = AllDocuments();
  auto it = d.hashes.find(group_version_path);
  return it == d.hashes.end() ? "" : it->second;
}

}  // namespace byok::kube
