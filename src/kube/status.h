// Kubernetes `Status` responses: how the per-cluster API server (api_server.h) renders the
// errors of its table (errors.h). Kubernetes clients (kubectl, client-go) read `reason`, `code`
// and `message` from this object; they never see an Azure error envelope.
//
// Thread safety: stateless functions.
#pragma once

#include <nlohmann/json.hpp>

#include "common/api_error.h"
#include "http/message.h"

namespace byok::kube {

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":e.message,
//  "reason":e.code,"code":e.http_status}; NotFound also carries "details":{} as the apiserver's
// does.
nlohmann::json StatusObject(const ApiError& e);
// The same with `details` (StatusDetails: name, group, kind, causes, ...) when it is an object.
nlohmann::json StatusObject(const ApiError& e, const nlohmann::json& details);

// The Status as a response with e.http_status, Content-Type application/json and
// Cache-Control "no-cache, private" (as every kube-apiserver response).
http::Response StatusResponse(const ApiError& e);
http::Response StatusResponse(const ApiError& e, const nlohmann::json& details);

}  // namespace byok::kube
