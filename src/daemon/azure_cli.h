// `byok azure-cli setup`: pointing the real Azure CLI (az) at a running byokd.
//
// SetupAzureCli finds the live server of a data directory, reads the bootstrap service
// principal's credentials (<data-dir>/credentials.json, written by byokd at first start), and runs
// az with AZURE_CONFIG_DIR=<config dir> to
//   az cloud register|update -n <cloud> --cloud-config @<file>   (register if new, else update)
//   az cloud set -n <cloud>
//   az login --service-principal -u <appId> -p @<0600 file> --tenant <tenant>
//   az account set --subscription <subscription>
// Idempotent: a second run updates the cloud and logs in again. The client secret never appears
// on a command line (az reads `@file` arguments) and the temporary files are removed.
//
// az's own output goes to stderr; the caller prints Exports() as `export K='v'` lines on stdout.
// The exported PYTHONPATH starts with byok's compatibility directory (python/byok_azcompat,
// installed as share/byok/azcompat): its sitecustomize.py makes `*.localhost` resolve to loopback
// (vault host names `{vault}.vault.localhost`) and fixes the packaging defects of Debian's
// azure-cli 2.45 (see that file). It is harmless for other CLI builds, so it is always included.
//
// Thread safety: not thread-safe (spawns processes, reads the process environment).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "daemon/data_dir.h"
#include "daemon/process.h"

namespace byok::daemon {

struct AzureCliOptions {
  std::string config_dir;  // AZURE_CONFIG_DIR; created (0700) if missing. REQUIRES: non-empty
  std::string az = "az";   // the az executable; looked up on PATH when it has no '/'
  std::string cloud_name;  // "" = "byok-<port>"
  std::string compat_dir;  // "" = FindAzCompatDir()
};

// What SetupAzureCli needs to know about the server (split out so tests can drive a fake az).
struct AzureCliTarget {
  uint16_t port = 0;
  std::string ca_file;         // the CA certificate az must trust
  nlohmann::json credentials;  // {"tenant","subscription","appId","password",...}
};

struct AzureCliSetup {
  std::string cloud_name;
  std::string cli_version;      // "2.45.0" ("" if `az version` did not say)
  bool debian_defects = false;  // the CLI is 2.45.x, whose Debian build needs the compat fixes
  EnvList exports;              // in print order
};

// The `--cloud-config` document for a byokd on https://localhost:<port>.
nlohmann::json AzureCloudConfig(uint16_t port);

// The directory holding byok's sitecustomize.py for az, first match of: $BYOK_AZCOMPAT_DIR;
// <dir of the running executable>/../share/byok/azcompat; the source tree's python/byok_azcompat
// (compile-time BYOK_SOURCE_DIR, or <executable dir>/../python/byok_azcompat for a build dir
// inside the source tree). NotFound if none holds a sitecustomize.py.
Result<std::string> FindAzCompatDir();

// The exported variables: AZURE_CONFIG_DIR, REQUESTS_CA_BUNDLE, AZURE_CORE_COLLECT_TELEMETRY,
// AZURE_CORE_ERROR_RECOMMENDATION, PYTHONPATH (compat_dir, then `existing_pythonpath` without
// any earlier copy of compat_dir). existing_pythonpath may be null.
EnvList AzureCliExports(const std::string& config_dir, const std::string& ca_file,
                        const std::string& compat_dir, const char* existing_pythonpath);

// Runs the az steps for `target`. FailedPrecondition if a step fails (az's output, already on
// stderr, says why); NotFound if az cannot be started; InvalidArgument for bad credentials JSON.
Result<AzureCliSetup> ConfigureAzureCli(const AzureCliTarget& target,
                                        const AzureCliOptions& options);

// ProbeServer (Unavailable if no byokd answers), read <data-dir>/credentials.json (NotFound if
// missing), then ConfigureAzureCli.
Result<AzureCliSetup> SetupAzureCli(const DataDir& dir, const AzureCliOptions& options);

}  // namespace byok::daemon
