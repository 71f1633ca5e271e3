// byokd: the byok server. Wiring only; see daemon/daemon.h.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cmd/serve_options.h"
#include "daemon/daemon.h"

int main(int argc, char** argv) {
  CLI::App app{
      "byokd: a self-hosted Azure BYOK disk-encryption service (Key Vault, disk encryption sets, "
      "managed disks, AKS) speaking Azure's REST APIs over TLS."};
  byok::daemon::DaemonOptions options;
  byok::cmd::ServeFlags flags;
  byok::cmd::AddServeOptions(app, options, flags);
  CLI11_PARSE(app, argc, argv);
  if (std::string err = byok::cmd::FinishServeOptions(options, flags); !err.empty()) {
    std::fprintf(stderr, "byokd: %s\n", err.c_str());
    return 2;
  }
  return byok::daemon::RunDaemon(options);
}
