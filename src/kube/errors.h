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

// A path the server does not serve (issue 7 adds the resources). No args.
inline constexpr ErrorSpec kNotFound{"NotFound", 404,
                                     "the server could not find the requested resource"};

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
