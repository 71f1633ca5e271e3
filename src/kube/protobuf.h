// Request bodies in the Kubernetes API's protobuf encoding (Content-Type
// application/vnd.kubernetes.protobuf), which kubectl's typed clients send: `kubectl create
// namespace` posts its Namespace that way.
//
// The encoding: the four bytes "k8s\0", then a runtime.Unknown message {typeMeta {apiVersion,
// kind}, raw, contentEncoding, contentType} whose `raw` bytes are the object's own message
// (k8s.io/api generated.proto field numbers). DecodeProtobufObject turns such a body into the
// object's JSON, as the same client would have sent it as application/json: "apiVersion" and
// "kind" from typeMeta, then the message's fields under their JSON names, with Go's omitempty
// rules (empty strings, zero numbers, false, empty lists and maps and zero times are left out;
// fields that are pointers in Go, such as ownerReferences[].controller, are kept when present),
// times as RFC 3339 strings and managedFields[].fieldsV1 as the JSON it holds. Fields byok has no
// schema for are skipped, as the apiserver's decoder skips unknown fields.
//
// Kinds decoded: the ones kubectl sends as protobuf to what byok serves: v1 Namespace (`kubectl
// create namespace`), authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`) and
// authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`).
//
// Errors (messages meant for the client, never echoing the body):
//   kInvalidArgument  not a protobuf object (no "k8s\0" prefix, malformed wire data, a content
//                     encoding, a time out of range, invalid UTF-8, fieldsV1 that is not JSON
//                     within ParseJsonBody's bounds), or larger than JsonLimits' max_bytes
//   kNotFound         a well-formed body of a kind byok has no protobuf schema for; the message
//                     names the kind (quoted "apiVersion/kind", cut at 256 bytes)
//
// Thread safety: thread-safe (the schema is built once, on first use).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace byok::kube {

// The media type of the encoding.
inline constexpr std::string_view kProtobufMediaType = "application/vnd.kubernetes.protobuf";

Result<nlohmann::json> DecodeProtobufObject(std::string_view body);

}  // namespace byok::kube
