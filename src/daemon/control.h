// Finding and controlling a running byokd from another process (the byok CLI).
//
// A byokd records where it listens in <data-dir>/server.json; these functions read that file and
// then ask the server itself (GET /_byok/status over TLS, trusting the data directory's CA), so a
// stale file left by a killed server is never mistaken for a live one.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "daemon/data_dir.h"

namespace byok::daemon {

struct LiveServer {
  ServerInfo info;
  nlohmann::json status;  // the server's /_byok/status document
};

// Unavailable if no server answers for this data directory (none started, stopped, or killed).
Result<LiveServer> ProbeServer(const DataDir& dir,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Sends SIGTERM to the live server and waits until it has exited. Unavailable if none runs.
Status StopServer(const DataDir& dir, std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The environment a client shell needs, as (name, value) pairs in print order.
std::vector<std::pair<std::string, std::string>> ClientEnvironment(const LiveServer& server);

// 'value' quoted for POSIX shells.
std::string ShellQuote(std::string_view value);

}  // namespace byok::daemon
