// OpenAPI v3 documents of each cluster's Kubernetes API, as kube-apiserver 1.24–1.26 serves them
// (enough for `kubectl apply` and `kubectl explain`, /work/shared/docs/kubectl.md):
//
//   GET /openapi/v3                        OpenApiIndex():
//       {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=<H>"},
//                 "apis/storage.k8s.io/v1":{...}, "apis/events.k8s.io/v1":{...}}}
//       <H> is a stable hash (hex) of the document, so clients' caches are invalidated when byok's
//       schemas change.
//   GET /openapi/v3/api/v1, /openapi/v3/apis/storage.k8s.io/v1, /openapi/v3/apis/events.k8s.io/v1
//                                          OpenApiDocument("api/v1"), ...:
//       an OpenAPI 3.0.0 document: info {title "Kubernetes", version "v1.2x"}; paths for every
//       served kind of that group-version (kinds.h): the collection path (get = list, post =
//       create, delete = deletecollection; namespaced kinds at /api/v1/namespaces/{namespace}/...
//       and the all-namespaces list at /api/v1/{resource}), the item path (get, put, patch,
//       delete), the status subresource path, each operation with operationId, the query parameters
//       the apiserver documents (pretty, dryRun, fieldManager, fieldValidation — on patch, put and
//       post — force on patch, labelSelector/fieldSelector/limit/continue/watch/resourceVersion on
//       lists, gracePeriodSeconds/propagationPolicy on delete), request bodies by content type
//       (patch: application/json-patch+json, merge-patch+json, strategic-merge-patch+json,
//       apply-patch+yaml), responses, and `x-kubernetes-action` plus
//       `x-kubernetes-group-version-kind`; components.schemas holding the kinds' schemas
//       (io.k8s.api.core.v1.PersistentVolumeClaim, ...), every type they refer to (ObjectMeta,
//       ListMeta, Status, DeleteOptions, Patch, Quantity, Time, ...), each with
//       `x-kubernetes-group-version-kind` on top-level kinds, `x-kubernetes-patch-strategy` /
//       `x-kubernetes-patch-merge-key` / `x-kubernetes-list-type` / `x-kubernetes-list-map-keys`
//       where Kubernetes merges lists by key, and descriptions written for byok (facts as in the
//       upstream API, wording our own) — what `kubectl explain` prints.
//       nullopt for another path (the caller answers 404).
//   GET /openapi/v2 is not served (kubectl tolerates its 404 once v3 is served).
//
// The documents are built once (first use) and returned by reference.
//
// Thread safety: thread-safe (a function-local static).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace byok::kube {

const nlohmann::json& OpenApiIndex();

// group_version_path: "api/v1", "apis/storage.k8s.io/v1", "apis/events.k8s.io/v1" (no leading
// '/', no query). The document, or nullopt.
std::optional<nlohmann::json> OpenApiDocument(std::string_view group_version_path);

// The hash OpenApiIndex() carries for that document ("" if not served); the handler may answer
// a request whose ?hash= matches with Cache-Control "public, immutable" as the apiserver does.
std::string OpenApiDocumentHash(std::string_view group_version_path);

}  // namespace byok::kube
