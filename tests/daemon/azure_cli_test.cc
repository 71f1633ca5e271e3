// `byok azure-cli setup` without a server: the cloud document, the exports, finding the
// compatibility directory, and the az steps driven against a fake az that records its calls.
#include <sys/stat.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "daemon/azure_cli.h"
#include "daemon/daemon_test_helpers.h"

namespace byok::daemon {
namespace {

namespace fs = std::filesystem;

TEST(AzureCliTest, CloudConfigMatchesWhatTheCliNeeds) {
  nlohmann::json expected = nlohmann::json::parse(R"({"endpoints": {
     "resourceManager": "https://localhost:8443/",
     "activeDirectory": "https://localhost:8443/adfs",
     "activeDirectoryResourceId": "https://management.core.windows.net/",
     "activeDirectoryGraphResourceId": "https://graph.windows.net/",
     "microsoftGraphResourceId": "https://localhost:8443/graph/"},
   "suffixes": {"keyvaultDns": ".vault.localhost:8443"}})");
  EXPECT_EQ(AzureCloudConfig(8443), expected);
}

TEST(AzureCliTest, ExportsPrependTheCompatDirOnce) {
  EnvList e = AzureCliExports("/c", "/ca.crt", "/compat", "/a:/compat/:/b");
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0], (std::pair<std::string, std::string>{"AZURE_CONFIG_DIR", "/c"}));
  EXPECT_EQ(e[1], (std::pair<std::string, std::string>{"REQUESTS_CA_BUNDLE", "/ca.crt"}));
  EXPECT_EQ(e[2], (std::pair<std::string, std::string>{"AZURE_CORE_COLLECT_TELEMETRY", "false"}));
  EXPECT_EQ(e[3], (std::pair<std::string, std::string>{"AZURE_CORE_ERROR_RECOMMENDATION", "off"}));
  EXPECT_EQ(e[4], (std::pair<std::string, std::string>{"PYTHONPATH", "/compat:/a:/b"}));
  EXPECT_EQ(AzureCliExports("/c", "/ca", "/compat", nullptr)[4].second, "/compat");
  EXPECT_EQ(AzureCliExports("/c", "/ca", "/compat", "")[4].second, "/compat");
  // Re-running `eval "$(byok azure-cli setup ...)"` does not grow PYTHONPATH.
  EXPECT_EQ(AzureCliExports("/c", "/ca", "/compat", "/compat")[4].second, "/compat");
}

TEST(AzureCliTest, FindsTheCompatDirectory) {
  auto found = FindAzCompatDir();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_TRUE(FileExists(*found + "/sitecustomize.py")) << *found;
  EXPECT_TRUE(FileExists(*found + "/_stubs/azure/keyvault/key_vault_id.py")) << *found;

  TempDir tmp;
  {
    ScopedEnv env("BYOK_AZCOMPAT_DIR", tmp.path());
    EXPECT_TRUE(FindAzCompatDir().status().Is(StatusCode::kInvalidArgument));
    ASSERT_TRUE(WriteFileAtomic(tmp.path() + "/sitecustomize.py", "").ok());
    auto overridden = FindAzCompatDir();
    ASSERT_TRUE(overridden.ok());
    EXPECT_EQ(*overridden, fs::weakly_canonical(tmp.path()).string());
  }
}

// A fake az: appends its arguments, the relevant environment and the content and mode of every
// @file argument to $FAKE_AZ_LOG; answers `version` and `cloud list`; fails the verb named in
// $FAKE_AZ_FAIL.
constexpr char kFakeAz[] = R"sh(#!/bin/sh
log="$FAKE_AZ_LOG"
printf 'CALL' >> "$log"
for a in "$@"; do printf ' %s' "$a" >> "$log"; done
echo >> "$log"
echo "ENV $AZURE_CONFIG_DIR|$REQUESTS_CA_BUNDLE|$AZURE_CORE_COLLECT_TELEMETRY|$AZURE_CORE_ERROR_RECOMMENDATION|$PYTHONPATH" >> "$log"
for a in "$@"; do
  case "$a" in @*) f="${a#@}"; echo "FILE $(stat -c %a "$f") $(cat "$f")" >> "$log";; esac
done
if [ "$1" = "$FAKE_AZ_FAIL" ]; then echo "fake az: $1 failed" >&2; exit 1; fi
case "$1 $2" in
  "version -o") echo '{"azure-cli": "2.45.0", "azure-cli-core": "2.45.0", "extensions": {}}' ;;
  "cloud list") cat "$FAKE_AZ_CLOUDS" ;;
  *) echo "stdout of az $1 (must not reach byok's stdout)" ;;
esac
)sh";

class FakeAzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    az_ = tmp_.path() + "/az";
    ASSERT_TRUE(WriteFileAtomic(az_, kFakeAz, 0755).ok());
    log_ = tmp_.path() + "/log";
    clouds_ = tmp_.path() + "/clouds.json";
    ASSERT_TRUE(WriteFileAtomic(clouds_, R"(["AzureCloud"])").ok());
    compat_ = tmp_.path() + "/compat";
    fs::create_directories(compat_);
    target_.port = 4443;
    target_.ca_file = "/data/tls/ca.crt";
    target_.credentials = {{"tenant", "t-1"},   {"subscription", "s-1"},
                           {"appId", "app-1"},  {"password", "pa ss'word"},
                           {"objectId", "o-1"}, {"displayName", "byok-bootstrap"}};
    options_.az = az_;
    options_.config_dir = tmp_.path() + "/az-config";
    options_.compat_dir = compat_;
  }

  std::string Log() {
    auto text = ReadFile(log_);
    return text.ok() ? *text : "";
  }

  bool TempFilesLeft() {
    for (const auto& e : fs::directory_iterator(options_.config_dir)) {
      if (e.path().filename().string().rfind(".byok-", 0) == 0) return true;
    }
    return false;
  }

  TempDir tmp_;
  std::string az_, log_, clouds_, compat_;
  AzureCliTarget target_;
  AzureCliOptions options_;
};

TEST_F(FakeAzTest, RegistersLogsInAndIsIdempotent) {
  ScopedEnv log("FAKE_AZ_LOG", log_);
  ScopedEnv clouds("FAKE_AZ_CLOUDS", clouds_);
  ScopedEnv pythonpath("PYTHONPATH", "/other");
  auto setup = ConfigureAzureCli(target_, options_);
  ASSERT_TRUE(setup.ok()) << setup.status().ToString() << "\n" << Log();
  EXPECT_EQ(setup->cloud_name, "byok-4443");
  EXPECT_EQ(setup->cli_version, "2.45.0");
  EXPECT_TRUE(setup->debian_defects);
  EXPECT_EQ(setup->exports[4].second, compat_ + ":/other");

  std::string log_text = Log();
  std::string cfg = options_.config_dir;
  std::string env_line = "ENV " + cfg + "|/data/tls/ca.crt|false|off|" + compat_ + ":/other\n";
  std::vector<std::string> expected_calls = {
      "CALL version -o json",
      "CALL cloud list --query [].name -o json",
      "CALL cloud register -n byok-4443 --cloud-config @" + cfg + "/.byok-",
      "CALL cloud set -n byok-4443 -o none",
      "CALL login --service-principal -u app-1 -p @" + cfg + "/.byok-",
      "CALL account set --subscription s-1 -o none",
  };
  size_t pos = 0;
  for (const auto& call : expected_calls) {
    size_t at = log_text.find(call, pos);
    ASSERT_NE(at, std::string::npos) << call << "\n" << log_text;
    EXPECT_EQ(log_text.compare(log_text.find('\n', at) + 1, env_line.size(), env_line), 0)
        << call << "\n"
        << log_text;
    pos = at + call.size();
  }
  // The cloud document and the secret went through private files, never argv.
  EXPECT_NE(log_text.find("FILE 600 " + AzureCloudConfig(4443).dump()), std::string::npos)
      << log_text;
  EXPECT_NE(log_text.find("FILE 600 pa ss'word"), std::string::npos) << log_text;
  EXPECT_EQ(log_text.find("CALL login --service-principal -u app-1 -p pa"), std::string::npos);
  EXPECT_NE(log_text.find("--tenant t-1 -o none"), std::string::npos) << log_text;
  EXPECT_FALSE(TempFilesLeft());
  struct stat st {};
  ASSERT_EQ(::stat(cfg.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // Second run: the cloud exists now, so it is updated, not registered again.
  ASSERT_TRUE(WriteFileAtomic(clouds_, R"(["AzureCloud", "byok-4443"])").ok());
  ASSERT_TRUE(WriteFileAtomic(log_, "").ok());
  ScopedEnv pythonpath2("PYTHONPATH", compat_ + ":/other");
  auto again = ConfigureAzureCli(target_, options_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->exports[4].second, compat_ + ":/other");
  log_text = Log();
  EXPECT_NE(log_text.find("CALL cloud update -n byok-4443 --cloud-config @"), std::string::npos)
      << log_text;
  EXPECT_EQ(log_text.find("CALL cloud register"), std::string::npos) << log_text;
}

TEST_F(FakeAzTest, CloudNameOption) {
  ScopedEnv log("FAKE_AZ_LOG", log_);
  ScopedEnv clouds("FAKE_AZ_CLOUDS", clouds_);
  options_.cloud_name = "mine";
  auto setup = ConfigureAzureCli(target_, options_);
  ASSERT_TRUE(setup.ok()) << setup.status().ToString();
  EXPECT_NE(Log().find("CALL cloud set -n mine"), std::string::npos);
}

TEST_F(FakeAzTest, AFailingStepStopsAndCleansUp) {
  ScopedEnv log("FAKE_AZ_LOG", log_);
  ScopedEnv clouds("FAKE_AZ_CLOUDS", clouds_);
  ScopedEnv fail("FAKE_AZ_FAIL", "login");
  auto setup = ConfigureAzureCli(target_, options_);
  ASSERT_TRUE(setup.status().Is(StatusCode::kFailedPrecondition)) << setup.status().ToString();
  EXPECT_NE(setup.status().message().find("az login"), std::string::npos);
  EXPECT_EQ(setup.status().message().find("pa ss'word"), std::string::npos);
  EXPECT_EQ(Log().find("CALL account set"), std::string::npos);
  EXPECT_FALSE(TempFilesLeft());
}

TEST_F(FakeAzTest, MissingAzOrCredentials) {
  options_.az = tmp_.path() + "/no-such-az";
  EXPECT_TRUE(ConfigureAzureCli(target_, options_).status().Is(StatusCode::kNotFound));
  options_.az = az_;
  target_.credentials.erase("password");
  EXPECT_TRUE(ConfigureAzureCli(target_, options_).status().Is(StatusCode::kInvalidArgument));
}

TEST(AzureCliSetupTest, NoServerIsUnavailable) {
  TempDir tmp;
  AzureCliOptions options;
  options.config_dir = tmp.path() + "/az";
  auto setup = SetupAzureCli(ResolveDataDir(tmp.path()), options);
  EXPECT_TRUE(setup.status().Is(StatusCode::kUnavailable)) << setup.status().ToString();
}

}  // namespace
}  // namespace byok::daemon
