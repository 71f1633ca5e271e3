// The Kubernetes API error table: every error the per-cluster API server (api_server.h) returns,
// rendered (status.h) as a Kubernetes `Status` object, not as an Azure envelope:
//   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
//    "message":..., "reason":..., "code":...}
// ErrorSpec.code holds the Status `reason` (k8s.io/apimachinery metav1.StatusReason), http_status
// its `code`, message the `message` template.
//
// Wording: the kube-apiserver's own messages (k8s.io/apiserver: "Unauthorized" from the
// authentication filter, "the server could not find the requested resource" for unknown paths,
// "the server does not allow this method on the requested resource" for 405). Entries marked
// "(byok)" have no kube-apiserver counterpart (a stopped AKS cluster's API server does not answer
// at all); they keep the Kubernetes reason for that class of error.
//
// Thread safety: constants.
#pragma once

#include "common/api_error.h"

namespace byok::kube::errors {

// No client certificate, or one this cluster's CA did not issue (or expired, or not for client
// authentication). No args. The apiserver says no more than this.
inline constexpr ErrorSpec kUnauthorized{"Unauthorized", 401, "Unauthorized"};

// A path the server does not serve. No args.
inline constexpr ErrorSpec kNotFound{"NotFound", 404,
                                     "the server could not find the requested resource"};

// An object that does not exist. Args: the resource, qualified with its group when it has one
// ("persistentvolumeclaims", "storageclasses.storage.k8s.io"), and the name. The Status carries
// details {name, group, kind: resource}.
inline constexpr ErrorSpec kObjectNotFound{"NotFound", 404, "{} \"{}\" not found"};

// A create of a name that is taken. Args: qualified resource, name.
inline constexpr ErrorSpec kAlreadyExists{"AlreadyExists", 409, "{} \"{}\" already exists"};

// An update whose metadata.resourceVersion is not the stored one. Args: qualified resource, name.
inline constexpr ErrorSpec kConflict{
    "Conflict", 409,
    "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your "
    "changes to the latest version and try again"};

// Validation failed. Args: the qualified kind ("StorageClass.storage.k8s.io",
// "PersistentVolumeClaim"), the name, and the field errors ("parameters: Forbidden: updates to
// parameters are forbidden."; several: "[e1, e2]"). The Status carries details {name, group,
// kind, causes: [{reason, message, field}]}.
inline constexpr ErrorSpec kInvalid{"Invalid", 422, "{} \"{}\" is invalid: {}"};

// A malformed request. Arg: the whole message (the apiserver words each case itself, e.g.
// "the name of the object (a) does not match the name on the URL (b)").
inline constexpr ErrorSpec kBadRequest{"BadRequest", 400, "{}"};

// A body of another kind than the endpoint handles (the self reviews). Args: the body's kind
// (quoted, cut), its apiVersion (quoted, cut), the kind expected.
inline constexpr ErrorSpec kWrongBodyKind{"BadRequest", 400,
                                          "{} in version {} cannot be handled as a {}"};

// A body that does not parse. Arg: the parser's complaint.
inline constexpr ErrorSpec kBodyNotDecodable{"BadRequest", 400,
                                             "the object provided is unrecognized ({})"};

// A PATCH whose Content-Type is not a patch type. No args.
inline constexpr ErrorSpec kUnsupportedPatchType{
    "UnsupportedMediaType", 415,
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
    "application/strategic-merge-patch+json"};

// A create/update body neither JSON nor protobuf (YAML, anything else). Arg: none. (byok: the
// apiserver also decodes YAML and lists it; byok lists what it decodes.)
inline constexpr ErrorSpec kUnsupportedMediaType{
    "UnsupportedMediaType", 415,
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json, application/vnd.kubernetes.protobuf"};

// A protobuf body of a kind byok has no protobuf schema for (kube/protobuf.h). Args: the quoted
// "apiVersion/kind" of the body.
inline constexpr ErrorSpec kProtobufKindUnsupported{
    "UnsupportedMediaType", 415,
    "byok decodes application/vnd.kubernetes.protobuf bodies of Namespace, "
    "SelfSubjectAccessReview and SelfSubjectReview only, not {}: send this object as "
    "application/json"};

// A merge or strategic merge patch that does not apply (not an object, a bad directive): the
// apiserver's BadRequest with the patch library's message. Arg: the message.
inline constexpr ErrorSpec kPatchFailed{"BadRequest", 400, "{}"};

// A JSON patch document that does not decode (not an array of operations): BadRequest with the
// decoder's message. Arg: the message.
inline constexpr ErrorSpec kJsonPatchNotDecodable{"BadRequest", 400, "{}"};

// A JSON patch operation that fails (a `test` that does not hold, a path that is not there, an
// unknown op): the apiserver answers NewGenericServerResponse(422), whose message is this fixed
// text (the library's reason is not passed on). No args.
inline constexpr ErrorSpec kJsonPatchFailed{
    "Invalid", 422, "the server rejected our request due to an error in our request"};

// Server-side apply without ?fieldManager=. No args.
inline constexpr ErrorSpec kFieldManagerRequired{
    "BadRequest", 400,
    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for "
    "apply patch"};

// fieldValidation=Strict found fields the kind does not have. Arg: the apiserver's list
// ('unknown field "spec.foo"', several joined by ", ").
inline constexpr ErrorSpec kStrictDecoding{"BadRequest", 400, "{}"};

// A write to a namespace that does not exist. Arg: the namespace.
inline constexpr ErrorSpec kNamespaceNotFound{"NotFound", 404, "namespaces \"{}\" not found"};

// Deleting one of the namespaces the apiserver protects (default, kube-system, kube-public).
// Arg: the namespace.
inline constexpr ErrorSpec kNamespaceProtected{
    "Forbidden", 403, "namespaces \"{}\" is forbidden: this namespace may not be deleted"};

// A write to a read-only kind (nodes are projections of the agent pools). (byok: the real
// apiserver accepts node writes; byok's nodes come from the pools.)
inline constexpr ErrorSpec kReadOnlyKind{"MethodNotAllowed", 405,
                                         "the server does not allow this method on the requested "
                                         "resource"};

// A write to pods: byok runs no workloads. The apiserver's 405 wording, then byok's reason. No
// args.
inline constexpr ErrorSpec kPodsNotServed{
    "MethodNotAllowed", 405,
    "the server does not allow this method on the requested resource: byok runs no workloads, "
    "so pods cannot be created (`byok volume attach` puts data on a claim's volume)"};

// A watch's resourceVersion that is not a number. Arg: the value. (byok: the apiserver's message
// also quotes the Go parser's error.)
inline constexpr ErrorSpec kInvalidResourceVersion{"BadRequest", 400,
                                                   "invalid resource version: {}"};

// A watch from a resourceVersion whose later events are no longer kept: sent as the object of an
// ERROR watch event (the apiserver's watch cache answers the same). Arg: "too old resource
// version: {requested} ({oldest kept})" (ObjectStore::Watch's message).
inline constexpr ErrorSpec kResourceVersionExpired{"Expired", 410, "{}"};

// A watch from a resourceVersion the cluster has not reached (e.g. after its objects were
// reset): the apiserver's answer once its wait for that version times out; clients re-list.
// Args: requested, current.
inline constexpr ErrorSpec kResourceVersionTooLarge{"Timeout", 504,
                                                    "Too large resource version: {}, current: {}"};

// A method the path does not take (e.g. POST /version). No args.
inline constexpr ErrorSpec kMethodNotAllowed{
    "MethodNotAllowed", 405, "the server does not allow this method on the requested resource"};

// (byok) The managed cluster is stopped (`az aks stop`): its API server is not running. Arg: the
// cluster's name.
inline constexpr ErrorSpec kClusterStopped{
    "ServiceUnavailable", 503,
    "the API server of managed cluster '{}' is not running: the cluster is stopped (start it "
    "with 'az aks start')"};

// (byok) The store could not be read. No args.
inline constexpr ErrorSpec kInternalError{"InternalError", 500,
                                          "an error on the server has prevented the request from "
                                          "succeeding"};

}  // namespace byok::kube::errors
