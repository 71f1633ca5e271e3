// Discovery documents of each cluster's Kubernetes API (the kinds of kinds.h), as kube-apiserver
// 1.24–1.26 returns them. Pure functions: the REST handler (rest.h) picks one by path and Accept.
//
//   GET /api, /apis with an Accept naming aggregated discovery (WantsAggregatedDiscovery):
//       AggregatedDiscovery(core, version) with Content-Type
//       AggregatedDiscoveryContentType(version) — an apidiscovery.k8s.io APIGroupDiscoveryList: one
//       group ("" for /api, every non-core group for /apis), each with its versions, each version
//       with its resources: resource, responseKind {group, version, kind}, scope
//       "Namespaced"/"Cluster", singularResource, verbs, shortNames (when any), subresources (e.g.
//       status with its responseKind and verbs), and freshness "Current". kubectl then never asks
//       the per-group-version documents.
//   GET /api otherwise:            ApiVersions()       — v1 APIVersions {"versions":["v1"]}
//                                  (serverAddressByClientCIDRs: [{"clientCIDR":"0.0.0.0/0",
//                                  "serverAddress": <the caller passes nothing: omitted>}] is not
//                                  sent; clients ignore it).
//   GET /apis otherwise:           ApiGroupList()      — v1 APIGroupList of the non-core groups,
//                                  each with versions [{groupVersion, version}] and
//                                  preferredVersion.
//   GET /api/v1, /apis/{g}/{v}:    ApiResourceList(gv) — v1 APIResourceList: groupVersion and
//                                  resources (name, singularName, namespaced, kind, verbs,
//                                  shortNames, storageVersionHash-less), followed by one
//                                  "{resource}/status" entry per status subresource (verbs get,
//                                  patch, update). nullopt for a group-version not served.
// All bodies are plain JSON: the caller sends them with Content-Type application/json (except the
// aggregated one, above).
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace byok::kube {

// What kubectl (1.26+) asks for and needs back verbatim (/work/shared/docs/kubectl.md).
inline constexpr char kAggregatedDiscoveryContentType[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
inline constexpr char kAggregatedDiscoveryContentTypeV2Beta1[] =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

// The aggregated-discovery version the Accept header asks for, in its order of media ranges:
// "v2" or "v2beta1" for a range application/json with g=apidiscovery.k8s.io,
// as=APIGroupDiscoveryList and that v (parameters in any order, spaces allowed, q-values ignored);
// "" when none does (then legacy discovery is served). An "application/*" or "*/*" range does not
// count.
std::string_view AggregatedDiscoveryVersion(std::string_view accept);
// AggregatedDiscoveryVersion(accept) is not empty.
bool WantsAggregatedDiscovery(std::string_view accept);
// The Content-Type to send with AggregatedDiscovery(core, version).
std::string_view AggregatedDiscoveryContentType(std::string_view version = "v2");

// The APIGroupDiscoveryList of /api (core = true) or /apis (core = false); version "v2" or
// "v2beta1" (the apiVersion "apidiscovery.k8s.io/{version}"; the shapes are the same).
nlohmann::json AggregatedDiscovery(bool core, std::string_view version = "v2");

// Legacy discovery (see the file comment).
nlohmann::json ApiVersions();
nlohmann::json ApiGroupList();
// group_version: "v1" or "storage.k8s.io/v1" (no leading "api/" or "apis/").
std::optional<nlohmann::json> ApiResourceList(std::string_view group_version);

}  // namespace byok::kube
