// `byok demo`: the seed document's walkthrough ("Bring your own keys (BYOK) with Azure managed
// disks in AKS") run against a live byokd by the real Azure CLI and kubectl, each command printed
// with its result, ending with a PersistentVolumeClaim on the `byok` StorageClass and its disk.
//
// The commands live in demo/walkthrough.sh (installed as share/byok/demo/walkthrough.sh; the
// script's header lists the placeholder bindings). RunDemo:
//   1. finds the live server of the data directory (Unavailable if none answers) and the script
//      (FindDemoScript);
//   2. prepares the work directory (default <data-dir>/demo, mode 0700): az's configuration
//      (az/), a private HOME (home/: `az aks create --generate-ssh-keys` and `az aks
//      get-credentials` write there, never to the user's ~/.ssh or ~/.kube) and the files the
//      walkthrough writes (byok-azure-disk.yaml, byok-pvc.yaml);
//   3. logs az in to byokd as `byok azure-cli setup` does (its progress on stderr);
//   4. runs `bash walkthrough.sh` with DemoEnvironment(...) and our stdout/stderr, and returns its
//      exit status (0: every step ended as the document says).
// The walkthrough refuses to run twice on one server (its resource group exists already): the
// names are the document's, and a purge-protected vault's name stays taken after deletion.
//
// Thread safety: not thread-safe (spawns processes, reads the process environment).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/data_dir.h"
#include "daemon/process.h"

namespace byok::daemon {

struct DemoOptions {
  std::string work_dir;             // "" = <data-dir>/demo
  std::string location = "eastus";  // the document's myAzureRegionName
  std::string script;               // "" = FindDemoScript()
};

// demo/walkthrough.sh: $BYOK_DEMO_DIR, <executable dir>/../share/byok/demo, the source tree's
// demo/ (compile-time BYOK_SOURCE_DIR, or <executable dir>/../demo). NotFound if none holds it.
Result<std::string> FindDemoScript();

// What the script gets besides az's exports (`az_exports`, AzureCliSetup::exports, kept in
// front): HOME=<work>/home, KUBECONFIG=<work>/home/.kube/config, BYOK=<byok_binary>,
// BYOK_DATA_DIR, BYOK_DEMO_WORK_DIR=<work>, BYOK_DEMO_LOCATION.
EnvList DemoEnvironment(const EnvList& az_exports, const std::string& work_dir,
                        const std::string& byok_binary, const std::string& data_dir,
                        const std::string& location);

// Variables of the caller's environment the script must not inherit, because they change what
// az or kubectl print or where they look (AZURE_CORE_OUTPUT would turn the document's
// `--query "identity.principalId"` into another format; AZURE_DEFAULTS_* add arguments).
const std::vector<std::string>& DemoRemovedVariables();

// Steps 1–4 above. Returns the script's exit status; errors before the script starts: Unavailable
// (no server), NotFound (no script, no az), InvalidArgument (bad location), and those of
// `byok azure-cli setup`.
Result<int> RunDemo(const DataDir& dir, const DemoOptions& options);

}  // namespace byok::daemon
