// byok's own endpoints under /_byok/ (not Azure APIs): GET /_byok/status, which `byok status`,
// `byok stop` and scripts use to check that a server answers and which process it is.
#pragma once

#include <sys/types.h>
#include <string>

#include "common/clock.h"
#include "http/router.h"

namespace byok::daemon {

struct StatusInfo {
  std::string data_dir;
  TimePoint started;
  pid_t pid = 0;
};

// GET /_byok/status → 200 {"service":"byok","version","pid","dataDir","started"}.
void AddStatusRoutes(http::Router& router, StatusInfo info);

}  // namespace byok::daemon
