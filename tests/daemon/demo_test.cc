// `byok demo` without a server: the script is found, its environment is what the header says,
// the caller's variables that would change az's or kubectl's output are dropped, and bad input
// or a missing server is refused before anything runs. The walkthrough itself runs against a
// real byokd with the real clients in tests/e2e/demo_test.py.
#include <sys/stat.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "daemon/daemon_test_helpers.h"
#include "daemon/demo.h"
#include "daemon/process.h"

namespace byok::daemon {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> AsMap(const std::vector<std::string>& env) {
  std::map<std::string, std::string> m;
  for (const auto& e : env) {
    size_t eq = e.find('=');
    m[e.substr(0, eq)] = e.substr(eq + 1);
  }
  return m;
}

TEST(DemoTest, FindsTheWalkthroughScriptInTheSourceTree) {
  ScopedEnv unset("BYOK_DEMO_DIR", nullptr);
  auto script = FindDemoScript();
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  EXPECT_TRUE(fs::is_regular_file(*script)) << *script;
  EXPECT_EQ(fs::path(*script).filename(), "walkthrough.sh");
  std::ifstream in(*script);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The document's lines, as written (placeholders bound).
  EXPECT_NE(text.find("keyVaultId=$(az keyvault show --name myKeyVaultName --query \"[id]\" -o "
                      "tsv)"),
            std::string::npos);
  EXPECT_NE(text.find("aksIdentity=$(az aks show --resource-group $RG_NAME --name $CLUSTER_NAME "
                      "--query \"identity.principalId\")"),
            std::string::npos);
  EXPECT_NE(text.find("az aks get-credentials --name myAksCluster --resource-group "
                      "myResourceGroup --output table"),
            std::string::npos);
}

TEST(DemoTest, ScriptDirectoryOverride) {
  TempDir dir;
  {
    ScopedEnv env("BYOK_DEMO_DIR", dir.path().c_str());
    auto missing = FindDemoScript();
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(missing.status().message().find("walkthrough.sh"), std::string::npos);
  }
  std::ofstream(dir.path() + "/walkthrough.sh") << "exit 0\n";
  ScopedEnv env("BYOK_DEMO_DIR", dir.path().c_str());
  auto found = FindDemoScript();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, fs::weakly_canonical(dir.path()).string() + "/walkthrough.sh");
}

TEST(DemoTest, EnvironmentKeepsAzExportsAndIsolatesHomeAndKubeconfig) {
  EnvList env = DemoEnvironment({{"AZURE_CONFIG_DIR", "/w/az"}, {"PYTHONPATH", "/compat"}}, "/w",
                                "/usr/bin/byok", "/data", "westeurope");
  ASSERT_GE(env.size(), 2u);
  EXPECT_EQ(env[0], (std::pair<std::string, std::string>{"AZURE_CONFIG_DIR", "/w/az"}));
  std::map<std::string, std::string> m(env.begin(), env.end());
  EXPECT_EQ(m["HOME"], "/w/home");
  EXPECT_EQ(m["KUBECONFIG"], "/w/home/.kube/config");
  EXPECT_EQ(m["BYOK"], "/usr/bin/byok");
  EXPECT_EQ(m["BYOK_DATA_DIR"], "/data");
  EXPECT_EQ(m["BYOK_DEMO_WORK_DIR"], "/w");
  EXPECT_EQ(m["BYOK_DEMO_LOCATION"], "westeurope");
}

TEST(DemoTest, CallerVariablesThatChangeClientOutputAreDropped) {
  ScopedEnv output("AZURE_CORE_OUTPUT", "table");
  ScopedEnv group("AZURE_DEFAULTS_GROUP", "elsewhere");
  ScopedEnv kube("KUBECONFIG", "/home/me/.kube/config");
  auto env = AsMap(ChildEnvironment({{"KUBECONFIG", "/w/home/.kube/config"}, {"", "ignored"}},
                                    DemoRemovedVariables()));
  EXPECT_EQ(env.count("AZURE_CORE_OUTPUT"), 0u);
  EXPECT_EQ(env.count("AZURE_DEFAULTS_GROUP"), 0u);
  EXPECT_EQ(env["KUBECONFIG"], "/w/home/.kube/config");
  EXPECT_EQ(env.count(""), 0u);
  EXPECT_EQ(env.count("PATH"), 1u);
}

TEST(DemoTest, RunProcessCapturesOutputAndExitStatus) {
  auto r = RunProcess({"sh", "-c", "echo \"$GREETING\"; exit 3"},
                      ChildEnvironment({{"GREETING", "hello"}}), ChildStdout::kCapture);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->exit_code, 3);
  auto missing =
      RunProcess({"/nonexistent/byok-program"}, ChildEnvironment({}), ChildStdout::kCapture);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(DemoTest, RefusesBadLocationAndMissingServer) {
  TempDir dir;
  DemoOptions options;
  options.location = "East US; rm -rf /";
  auto bad = RunDemo(DataDir{dir.path()}, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);

  auto none = RunDemo(DataDir{dir.path()}, DemoOptions{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(fs::exists(dir.path() + "/demo"));  // nothing written without a server
}

}  // namespace
}  // namespace byok::daemon
