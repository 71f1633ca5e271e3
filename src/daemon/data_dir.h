// The data directory: where one byokd keeps everything, and how other processes find it.
//
// Layout (all created by byokd on first start; the directory itself is mode 0700):
//   byok.db, byok.db-wal   the metadata store (SQLite)
//   root.key               the root key sealing every secret (mode 0600) unless supplied
//   tls/ca.crt             the CA clients trust (printed as "ca: PATH" at start)
//   tls/server.crt         the server certificate (its key is sealed in the store)
//   byokd.lock             held (flock) by the running byokd; a second one refuses to start
//   server.json            where the running byokd listens: {"url","host","port","pid","ca",
//                          "nbdHost","nbdPort","nbdSocket"}
//   disks/<guid>.disk      managed disks' encrypted files (blockstore/blockstore.h)
//   nbd.sock               the NBD server's unix socket (default; --nbd-socket)
//
// Thread-compatible values; DataDirLock is move-only and releases the lock when destroyed.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace byok::daemon {

struct DataDir {
  std::string root;

  std::string Path(std::string_view rel) const { return root + "/" + std::string(rel); }
  std::string database() const { return Path("byok.db"); }
  std::string root_key() const { return Path("root.key"); }
  std::string tls_dir() const { return Path("tls"); }
  std::string ca_cert() const { return Path("tls/ca.crt"); }
  std::string server_cert() const { return Path("tls/server.crt"); }
  std::string lock_file() const { return Path("byokd.lock"); }
  std::string server_info() const { return Path("server.json"); }
  std::string nbd_socket() const { return Path("nbd.sock"); }
};

// Resolves "" to the embedded default (DefaultDataDir()) and makes the path absolute.
DataDir ResolveDataDir(const std::string& dir);

// An exclusive advisory lock on byokd.lock. FailedPrecondition if another process holds it; the
// message names that process's pid when known.
class DataDirLock {
 public:
  static Result<DataDirLock> Acquire(const DataDir& dir);
  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&&) = delete;
  DataDirLock(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

struct ServerInfo {
  std::string url;   // "https://127.0.0.1:8443"
  std::string host;  // as listened on
  uint16_t port = 0;
  int64_t pid = 0;
  std::string ca;  // path of the CA certificate
  // The NBD server (byok disk attach): TCP host and port (0 = no TCP listener), unix socket path
  // ("" = none). Absent in files of older servers (read as none).
  std::string nbd_host;
  uint16_t nbd_port = 0;
  std::string nbd_socket;
};

Status WriteServerInfo(const DataDir& dir, const ServerInfo& info);
// NotFound if no server.json (no byokd has run, or it stopped cleanly).
Result<ServerInfo> ReadServerInfo(const DataDir& dir);
void RemoveServerInfo(const DataDir& dir);

// Parses "HOST:PORT", "[v6]:PORT" or ":PORT" (host 127.0.0.1). Port 0 means pick a free one.
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text);

}  // namespace byok::daemon
