// Command-line options of the server, shared by `byokd` and `byok serve`.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "daemon/daemon.h"

namespace byok::cmd {

struct ServeFlags {
  std::string listen = "127.0.0.1:8443";
  std::string nbd_socket;
  CLI::Option* nbd_socket_option = nullptr;
};

inline void AddServeOptions(CLI::App& app, daemon::DaemonOptions& options, ServeFlags& flags) {
  app.add_option("--data-dir", options.data_dir,
                 "Data directory (default: $XDG_DATA_HOME/byok or ~/.local/share/byok)");
  app.add_option("--listen", flags.listen,
                 "TLS address HOST:PORT for every HTTP API; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--root-key-file", options.root_key_file,
                 "Root key sealing all secrets (default: DATA_DIR/root.key, or $BYOK_ROOT_KEY)");
  app.add_option("--http-workers", options.http_workers,
                 "Threads running HTTP handlers (default: 2 per CPU core, at least 4)")
      ->check(CLI::Range(1, 256));
  app.add_option("--nbd-listen", options.nbd_listen,
                 "NBD server address HOST:PORT for attached disks; port 0 picks a free port, \"\" "
                 "disables TCP")
      ->capture_default_str();
  flags.nbd_socket_option =
      app.add_option("--nbd-socket", flags.nbd_socket,
                     "NBD server unix socket (default: DATA_DIR/nbd.sock; \"\" disables it)");
}

// Applies flags to options; returns an error message or "".
inline std::string FinishServeOptions(daemon::DaemonOptions& options, const ServeFlags& flags) {
  auto addr = daemon::ParseListenAddress(flags.listen);
  if (!addr.ok()) return addr.status().message();
  options.listen_host = addr->first;
  options.port = addr->second;
  if (!options.nbd_listen.empty()) {
    auto nbd = daemon::ParseListenAddress(options.nbd_listen);
    if (!nbd.ok()) return "--nbd-listen: " + nbd.status().message();
  }
  if (flags.nbd_socket_option != nullptr && flags.nbd_socket_option->count() > 0) {
    options.nbd_socket = flags.nbd_socket;
  }
  return "";
}

}  // namespace byok::cmd
