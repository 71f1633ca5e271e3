// Logging set-up. byok logs through spdlog: logger "byok" for operations and "access" for the
// HTTP access log. Log lines never contain secrets: no Authorization headers, tokens, client
// secrets or key material (callers pass only identifiers).
#pragma once

#include <string_view>

#include "common/status.h"

namespace byok {

// Level names: trace, debug, info, warn, error, off. Output goes to stderr.
Status InitLogging(std::string_view level);

}  // namespace byok
