#include "kube/status.h"

namespace byok::kube {

nlohmann::json StatusObject(const ApiError& e, const nlohmann::json& details) {
  nlohmann::json status = StatusObject(e);
  if (details.is_object()) {
    status.erase("code");
    status["details"] = details;
    status["code"] = e.http_status;
  }
  return status;
}

nlohmann::json StatusObject(const ApiError& e) {
  nlohmann::json status = {
      {"kind", "Status"},    {"apiVersion", "v1"},   {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", e.message}, {"reason", e.code}};
  if (e.code == "NotFound") status["details"] = nlohmann::json::object();
  status["code"] = e.http_status;
  return status;
}

http::Response StatusResponse(const ApiError& e) { return StatusResponse(e, nullptr); }

http::Response StatusResponse(const ApiError& e, const nlohmann::json& details) {
  http::Response r = http::Response::Json(e.http_status, StatusObject(e, details));
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Cache-Control", "no-cache, private");
  return r;
}

}  // namespace byok::kube
