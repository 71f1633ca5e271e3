#include "daemon/control.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "common/files.h"
#include "common/json.h"
#include "http/client.h"

namespace byok::daemon {
namespace {

// True if pid names a running process. A zombie (exited, not yet reaped by its parent) counts as
// gone: it serves nothing.
bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  auto stat = ReadFile(fmt::format("/proc/{}/stat", pid));
  if (!stat.ok()) return true;  // no procfs: trust kill()
  size_t paren = stat->rfind(')');
  return !(paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] == 'Z');
}

}  // namespace

Result<LiveServer> ProbeServer(const DataDir& dir, std::chrono::milliseconds timeout) {
  auto info = ReadServerInfo(dir);
  if (!info.ok()) {
    if (info.status().Is(StatusCode::kNotFound)) {
      return Status::Unavailable(fmt::format("no byokd is running on {}", dir.root));
    }
    return info.status();
  }
  if (!ProcessAlive(info->pid)) {
    return Status::Unavailable(
        fmt::format("no byokd is running on {} (pid {} is gone)", dir.root, info->pid));
  }
  http::ClientOptions opts;
  opts.ca_file = info->ca;
  opts.timeout = timeout;
  auto res = http::HttpsRequest("GET", info->url + "/_byok/status", {}, "", opts);
  if (!res.ok()) {
    return Status::Unavailable(
        fmt::format("byokd on {} does not answer: {}", dir.root, res.status().message()));
  }
  if (res->status != 200) {
    return Status::Unavailable(
        fmt::format("byokd on {} answered HTTP {} to a status probe", dir.root, res->status));
  }
  auto doc = ParseJsonBody(res->body);
  if (!doc.ok() || !doc->is_object() || doc->value("pid", int64_t{0}) != info->pid) {
    return Status::Unavailable(
        fmt::format("the server at {} is not the byokd of {}", info->url, dir.root));
  }
  return LiveServer{*info, *doc};
}

Status StopServer(const DataDir& dir, std::chrono::milliseconds timeout) {
  BYOK_ASSIGN_OR_RETURN(LiveServer live, ProbeServer(dir));
  pid_t pid = static_cast<pid_t>(live.info.pid);
  if (::kill(pid, SIGTERM) != 0) {
    return Status::Internal(
        fmt::format("cannot signal byokd pid {}: {}", pid, std::strerror(errno)));
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!ProcessAlive(pid)) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Unavailable(
      fmt::format("byokd pid {} did not stop within {} ms", pid, timeout.count()));
}

std::vector<std::pair<std::string, std::string>> ClientEnvironment(const LiveServer& server) {
  return {
      {"REQUESTS_CA_BUNDLE", server.info.ca},
      {"SSL_CERT_FILE", server.info.ca},
  };
}

std::string ShellQuote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += "'";
  return out;
}

}  // namespace byok::daemon
