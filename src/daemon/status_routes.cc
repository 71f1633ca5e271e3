#include "daemon/status_routes.h"

#include "common/version.h"

namespace byok::daemon {

void AddStatusRoutes(http::Router& router, StatusInfo info) {
  router.Add("GET", "*", "/_byok/status", [info](http::Request&) {
    return http::Response::Json(200, {{"service", "byok"},
                                      {"version", kByokVersion},
                                      {"pid", info.pid},
                                      {"dataDir", info.data_dir},
                                      {"started", FormatAzureTime(info.started)}});
  });
}

}  // namespace byok::daemon
