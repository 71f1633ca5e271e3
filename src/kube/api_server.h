// The Kubernetes API server of each AKS managed cluster, served by byokd on its HTTPS port (any
// host) under the cluster's path prefix (containerservice::ApiPathPrefix):
//
//   *  /k8s/{uniqueId}            and  /k8s/{uniqueId}/{*rest}
//
// and, for `kubectl get --raw PATH` (which replaces the kubeconfig server URL's path, prefix
// included, with PATH), the API server's own top-level paths without the prefix:
//
//   *  /api[/*]  /apis[/*]  /openapi/*  /version  /healthz  /livez  /readyz
//
// There the cluster is the one whose client CA issued the TLS client certificate (each cluster's
// CA is tried), and the request goes on as under its prefix. Without a client certificate these
// paths answer as before they were routed (http::errors::kNotFound, Azure's shape: ARM's clients
// see no change); with one that no cluster issued, 401 Unauthorized Status.
//
// Each request, in this order:
//   1. The cluster is found by its unique id (containerservice::FindClusterByUniqueId); none →
//      404 NotFound Status (as for any unknown path).
//   2. Authentication: the TLS client certificate (http::Request::client_cert_der; the server runs
//      with ServerOptions::request_any_client_certificate, so it arrives unverified) must be a
//      client certificate issued by THIS cluster's client CA and valid on byokd's clock
//      (containerservice::VerifyClientCertificate). No certificate, a foreign one, an expired one
//      → 401 Unauthorized Status, on every path (discovery and OpenAPI included). Bearer tokens
//      are not accepted (certificates are the only credential kubeconfigs carry).
//   3. A stopped cluster (powerState "Stopped") has no running API server: 503 ServiceUnavailable
//      Status naming the cluster (byok's stand-in for AKS's unreachable endpoint), only to an
//      authenticated caller.
//   4. GET (or HEAD) /version → 200 version.Info for the cluster's kubernetesVersion
//      (VersionInfo); GET (or HEAD) /healthz, /livez, /readyz → 200 "ok" (text/plain; with
//      ?verbose, the apiserver's check list: "[+]ping ok" and "<name> check passed"); another
//      method on these → 405 MethodNotAllowed Status; every other path
//      goes to the REST handler (rest.h: discovery, OpenAPI, the served kinds) when deps.objects
//      is set, else → 404 NotFound Status.
// Errors come from kube/errors.h, rendered as Kubernetes Status objects (kube/status.h). Every
// response carries Cache-Control "no-cache, private".
//
// Thread safety: thread-safe (handlers run concurrently; the server keeps no state of its own).
// REQUIRES: deps outlive the router the routes are added to.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "http/message.h"
#include "http/router.h"
#include "kube/object_store.h"
#include "store/store.h"

namespace byok::kube {

struct ApiServerDeps {
  store::Store* store = nullptr;
  // byokd's (emulated) clock: client certificates are issued and checked on it.
  const Clock* clock = nullptr;
  // The clusters' stored Kubernetes objects (owned by the daemon); null serves /version only.
  ObjectStore* objects = nullptr;
};

// The version.Info of a cluster on Kubernetes `kubernetes_version` ("1.24.9"):
//   {"major":"1","minor":"24","gitVersion":"v1.24.9","gitCommit":<40 hex>,
//    "gitTreeState":"clean","buildDate":<RFC 3339>,"goVersion":"go1.x.y","compiler":"gc",
//    "platform":"linux/amd64"}
// gitCommit, buildDate and goVersion are byok's stand-ins (stable per version), not upstream's.
nlohmann::json VersionInfo(std::string_view kubernetes_version);

class ApiServer {
 public:
  explicit ApiServer(ApiServerDeps deps);
  // Serves one request whose params hold "uniqueId" and "rest" (the path after the prefix,
  // without the leading '/'; absent or empty for the prefix itself).
  http::Response Handle(http::Request& request) const;
  // Serves one request routed without the prefix: finds the cluster by the client certificate,
  // sets "uniqueId" and "rest" (the path without its leading '/'), then Handle.
  http::Response HandleUnprefixed(http::Request& request) const;

 private:
  ApiServerDeps deps_;
};

// Adds the routes above (any method, any host) for an ApiServer with `deps`.
void AddApiServerRoutes(http::Router& router, ApiServerDeps deps);

}  // namespace byok::kube
