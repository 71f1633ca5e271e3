#include "daemon/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/json.h"

namespace byok::daemon {

DataDir ResolveDataDir(const std::string& dir) {
  std::string d = dir.empty() ? DefaultDataDir() : dir;
  std::error_code ec;
  auto abs = std::filesystem::absolute(d, ec);
  return DataDir{ec ? d : abs.lexically_normal().string()};
}

Result<DataDirLock> DataDirLock::Acquire(const DataDir& dir) {
  int fd = ::open(dir.lock_file().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Internal(
        fmt::format("cannot open {}: {}", dir.lock_file(), std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    std::string holder;
    char buf[32] = {};
    if (::pread(fd, buf, sizeof buf - 1, 0) > 0)
      holder = fmt::format(" (pid {})", std::string(buf));
    ::close(fd);
    if (e == EWOULDBLOCK) {
      return Status::FailedPrecondition(
          fmt::format("another byokd is already running on data directory {}{}", dir.root, holder));
    }
    return Status::Internal(fmt::format("cannot lock {}: {}", dir.lock_file(), std::strerror(e)));
  }
  std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is informational only; the lock is what matters.
  }
  return DataDirLock(fd);
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

Status WriteServerInfo(const DataDir& dir, const ServerInfo& info) {
  nlohmann::json j = {{"url", info.url},
                      {"host", info.host},
                      {"port", info.port},
                      {"pid", info.pid},
                      {"ca", info.ca},
                      {"nbdHost", info.nbd_host},
                      {"nbdPort", info.nbd_port},
                      {"nbdSocket", info.nbd_socket}};
  return WriteFileAtomic(dir.server_info(), DumpJson(j) + "\n", 0644);
}

Result<ServerInfo> ReadServerInfo(const DataDir& dir) {
  BYOK_ASSIGN_OR_RETURN(std::string text, ReadFile(dir.server_info()));
  BYOK_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonBody(text));
  ServerInfo info;
  try {
    info.url = j.at("url").get<std::string>();
    info.host = j.at("host").get<std::string>();
    info.port = j.at("port").get<uint16_t>();
    info.pid = j.at("pid").get<int64_t>();
    info.ca = j.at("ca").get<std::string>();
    info.nbd_host = j.value("nbdHost", "");
    info.nbd_port = j.value("nbdPort", uint16_t{0});
    info.nbd_socket = j.value("nbdSocket", "");
  } catch (const std::exception&) {
    return Status::DataLoss(fmt::format("{} is malformed", dir.server_info()));
  }
  return info;
}

void RemoveServerInfo(const DataDir& dir) { ::unlink(dir.server_info().c_str()); }

Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument(
          fmt::format("invalid listen address '{}': use [ADDR]:PORT", text));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument(
          fmt::format("invalid listen address '{}': use HOST:PORT", text));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Status::InvalidArgument(
          fmt::format("invalid listen address '{}': write IPv6 addresses as [ADDR]:PORT", text));
    }
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return Status::InvalidArgument(fmt::format("invalid port in listen address '{}'", text));
  }
  return std::make_pair(host.empty() ? std::string("127.0.0.1") : std::string(host),
                        static_cast<uint16_t>(value));
}

}  // namespace byok::daemon
