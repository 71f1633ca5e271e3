// byok: the operator CLI. Wiring only; the work is in daemon/.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cmd/serve_options.h"
#include "daemon/control.h"
#include "daemon/daemon.h"

namespace {

// Exit statuses: 0 ok, 1 failure, 2 usage, 3 no server running.
constexpr int kExitNoServer = 3;

int ExitFor(const byok::Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "byok: %s\n", s.message().c_str());
  return s.code() == byok::StatusCode::kUnavailable ? kExitNoServer : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"byok: operate a byokd server (a self-hosted Azure BYOK disk-encryption service)."};
  app.require_subcommand(1);
  std::string data_dir;
  auto add_data_dir = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", data_dir,
                    "Data directory of the server (default: $XDG_DATA_HOME/byok or "
                    "~/.local/share/byok)");
  };

  byok::daemon::DaemonOptions serve_options;
  byok::cmd::ServeFlags serve_flags;
  CLI::App* serve = app.add_subcommand("serve", "Run the server in the foreground (same as byokd)");
  byok::cmd::AddServeOptions(*serve, serve_options, serve_flags);

  CLI::App* stop = app.add_subcommand("stop", "Stop the server of a data directory gracefully");
  add_data_dir(stop);
  CLI::App* status = app.add_subcommand(
      "status", "Print the address of the running server; exit 3 if none answers");
  add_data_dir(status);
  CLI::App* env = app.add_subcommand(
      "env", "Print shell 'export' lines for clients of the server: eval \"$(byok env)\"");
  add_data_dir(env);

  CLI11_PARSE(app, argc, argv);
  byok::daemon::DataDir dir = byok::daemon::ResolveDataDir(data_dir);

  if (*serve) {
    if (std::string err = byok::cmd::FinishServeOptions(serve_options, serve_flags); !err.empty()) {
      std::fprintf(stderr, "byok serve: %s\n", err.c_str());
      return 2;
    }
    return byok::daemon::RunDaemon(serve_options);
  }
  if (*stop) {
    byok::Status s = byok::daemon::StopServer(dir);
    if (s.ok()) std::cerr << "byokd on " << dir.root << " stopped\n";
    return ExitFor(s);
  }
  if (*status) {
    auto live = byok::daemon::ProbeServer(dir);
    if (!live.ok()) {
      std::cout << "not running (data directory " << dir.root << ")\n";
      return ExitFor(live.status());
    }
    std::cout << live->info.url << "\n";
    std::cerr << "pid " << live->info.pid << ", data directory " << dir.root << ", ca "
              << live->info.ca << "\n";
    return 0;
  }
  if (*env) {
    auto live = byok::daemon::ProbeServer(dir);
    if (!live.ok()) return ExitFor(live.status());
    for (const auto& [k, v] : byok::daemon::ClientEnvironment(*live)) {
      std::cout << "export " << k << "=" << byok::daemon::ShellQuote(v) << "\n";
    }
    std::cerr << "# byokd at " << live->info.url << "\n";
    return 0;
  }
  return 2;
}
