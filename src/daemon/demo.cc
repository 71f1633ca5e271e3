#include "daemon/demo.h"

#include <filesystem>

#include <fmt/format.h>

#include "common/files.h"
#include "daemon/azure_cli.h"
#include "daemon/control.h"
#include "daemon/process.h"

namespace byok::daemon {
namespace {

namespace fs = std::filesystem;

// Azure region names: lower-case letters and digits ("eastus", "westeurope2").
bool IsRegionName(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string AbsoluteNormal(const std::string& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? fs::path(p) : abs).lexically_normal().string();
}

}  // namespace

Result<std::string> FindDemoScript() {
  BYOK_ASSIGN_OR_RETURN(std::string dir, FindDataDir("byok's demo script", "BYOK_DEMO_DIR", "demo",
                                                     BuildSourceDir(), "demo", "walkthrough.sh"));
  return dir + "/walkthrough.sh";
}

EnvList DemoEnvironment(const EnvList& az_exports, const std::string& work_dir,
                        const std::string& byok_binary, const std::string& data_dir,
                        const std::string& location) {
  EnvList env = az_exports;
  const std::string home = work_dir + "/home";
  env.emplace_back("HOME", home);
  env.emplace_back("KUBECONFIG", home + "/.kube/config");
  env.emplace_back("BYOK", byok_binary);
  env.emplace_back("BYOK_DATA_DIR", data_dir);
  env.emplace_back("BYOK_DEMO_WORK_DIR", work_dir);
  env.emplace_back("BYOK_DEMO_LOCATION", location);
  return env;
}

const std::vector<std::string>& DemoRemovedVariables() {
  static const std::vector<std::string> kRemoved = {
      "AZURE_CORE_OUTPUT", "AZURE_CORE_ONLY_SHOW_ERRORS", "AZURE_DEFAULTS_GROUP",
      "AZURE_DEFAULTS_LOCATION", "AZURE_CORE_NO_COLOR"};
  return kRemoved;
}

Result<int> RunDemo(const DataDir& dir, const DemoOptions& options) {
  if (!IsRegionName(options.location)) {
    return Status::InvalidArgument(
        fmt::format("'{}' is not an Azure region name (lower-case letters and digits, e.g. eastus)",
                    options.location));
  }
  BYOK_TRY(ProbeServer(dir).status());
  std::string script = options.script;
  if (script.empty()) {
    BYOK_ASSIGN_OR_RETURN(script, FindDemoScript());
  }
  const std::string data_dir = AbsoluteNormal(dir.root);
  const std::string work_dir =
      AbsoluteNormal(options.work_dir.empty() ? dir.Path("demo") : options.work_dir);
  BYOK_TRY(EnsureDirectory(work_dir, 0700));
  BYOK_TRY(EnsureDirectory(work_dir + "/home", 0700));

  AzureCliOptions az;
  az.config_dir = work_dir + "/az";
  BYOK_ASSIGN_OR_RETURN(AzureCliSetup setup, SetupAzureCli(dir, az));

  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const std::string byok_binary = ec ? std::string("byok") : self.string();
  const EnvList env =
      DemoEnvironment(setup.exports, work_dir, byok_binary, data_dir, options.location);
  BYOK_ASSIGN_OR_RETURN(ProcessResult r,
                        RunProcess({"bash", script}, ChildEnvironment(env, DemoRemovedVariables()),
                                   ChildStdout::kInherit));
  return r.exit_code;
}

}  // namespace byok::daemon
