// The byokd server process: wires the data directory, root key, store, TLS material and the
// HTTPS server together. Used by `byokd` and `byok serve`.
//
// Start() returns once the server listens; Shutdown() stops it gracefully (in-flight requests
// finish); Wait() blocks until it has stopped. Thread-safe: Shutdown may be called from any
// thread, once or more.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "daemon/data_dir.h"

namespace byok::daemon {

struct DaemonOptions {
  std::string data_dir;  // "" = the embedded default (DefaultDataDir())
  std::string listen_host = "127.0.0.1";
  uint16_t port = 8443;       // 0 = pick a free port
  std::string root_key_file;  // "" = <data_dir>/root.key (or $BYOK_ROOT_KEY)
  std::string log_level = "info";
  std::chrono::milliseconds shutdown_grace{10000};
  // Threads running HTTP handlers; 0 = DefaultHttpWorkers(). Crypto handlers are CPU-bound:
  // many more threads than cores only preempt RSA operations; a few more than cores cover
  // handlers waiting on the disk (SQLite commits).
  int http_workers = 0;
  // The NBD server of attached disks (`byok disk attach`): TCP "HOST:PORT" (port 0 = any free
  // port; "" = no TCP listener) and a unix socket (nullopt = <data_dir>/nbd.sock; "" = none).
  std::string nbd_listen = "127.0.0.1:10809";
  std::optional<std::string> nbd_socket;
};

// 2 per CPU core, at least 4.
int DefaultHttpWorkers();

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> Start(const DaemonOptions& options);
  virtual ~Daemon() = default;

  virtual const DataDir& data_dir() const = 0;
  virtual std::string url() const = 0;  // "https://127.0.0.1:8443"
  virtual uint16_t port() const = 0;
  virtual std::string ca_path() const = 0;  // the CA certificate clients must trust
  // The NBD server of attached disks: TCP host and port (0: no TCP listener), unix socket ("").
  virtual std::string nbd_host() const = 0;
  virtual uint16_t nbd_port() const = 0;
  virtual std::string nbd_socket() const = 0;
  virtual void Shutdown() = 0;
  virtual void Wait() = 0;
};

// Runs byokd in the foreground: starts, prints "listening on https://HOST:PORT", then
// "nbd: nbd://HOST:PORT" and "nbd socket: PATH" (for the listeners it has), then "ca: PATH" on
// stdout, waits for SIGTERM or SIGINT, shuts down gracefully. Returns the process
// exit status (0 after a signal; 1 if it could not start, with the reason on stderr).
int RunDaemon(const DaemonOptions& options);

}  // namespace byok::daemon
