#include "daemon/azure_cli.h"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "common/files.h"
#include "common/json.h"
#include "daemon/control.h"
#include "daemon/process.h"
#include "identity/bootstrap.h"

namespace byok::daemon {
namespace {

namespace fs = std::filesystem;

// A file with private content (mode 0600) in `dir`, removed (after being overwritten) on
// destruction.
class PrivateTempFile {
 public:
  static Result<PrivateTempFile> Create(const std::string& dir, std::string_view content) {
    std::string tmpl = dir + "/.byok-XXXXXX";
    int fd = ::mkstemp(tmpl.data());  // mode 0600
    if (fd < 0) {
      return Status::Internal(
          fmt::format("cannot create a temporary file in {}: {}", dir, std::strerror(errno)));
    }
    PrivateTempFile file(tmpl, content.size());
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int e = errno;
        ::close(fd);
        return Status::Internal(fmt::format("cannot write {}: {}", tmpl, std::strerror(e)));
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    return file;
  }
  PrivateTempFile(PrivateTempFile&& o) noexcept : path_(std::move(o.path_)), size_(o.size_) {
    o.path_.clear();
  }
  PrivateTempFile& operator=(PrivateTempFile&&) = delete;
  ~PrivateTempFile() {
    if (path_.empty()) return;
    int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      std::string zeros(size_, '\0');
      [[maybe_unused]] ssize_t n = ::write(fd, zeros.data(), zeros.size());
      ::close(fd);
    }
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  PrivateTempFile(std::string path, size_t size) : path_(std::move(path)), size_(size) {}
  std::string path_;
  size_t size_ = 0;
};

std::string StringField(const nlohmann::json& doc, const char* name) {
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void Progress(const std::string& line) { std::fprintf(stderr, "byok: %s\n", line.c_str()); }

std::string Joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

}  // namespace

nlohmann::json AzureCloudConfig(uint16_t port) {
  std::string base = fmt::format("https://localhost:{}", port);
  return {
      {"endpoints",
       {{"resourceManager", base + "/"},
        {"activeDirectory", base + "/adfs"},
        {"activeDirectoryResourceId", "https://management.core.windows.net/"},
        {"activeDirectoryGraphResourceId", "https://graph.windows.net/"},
        {"microsoftGraphResourceId", base + "/graph/"}}},
      {"suffixes", {{"keyvaultDns", fmt::format(".vault.localhost:{}", port)}}},
  };
}

Result<std::string> FindAzCompatDir() {
  return FindDataDir("byok's Azure CLI compatibility directory", "BYOK_AZCOMPAT_DIR", "azcompat",
                     BuildSourceDir(), "python/byok_azcompat", "sitecustomize.py");
}

EnvList AzureCliExports(const std::string& config_dir, const std::string& ca_file,
                        const std::string& compat_dir, const char* existing_pythonpath) {
  std::string pythonpath = compat_dir;
  if (existing_pythonpath && *existing_pythonpath) {
    std::string_view rest(existing_pythonpath);
    std::string normalized_compat = fs::path(compat_dir).lexically_normal().string();
    while (true) {
      size_t colon = rest.find(':');
      std::string entry(rest.substr(0, colon));
      std::string normalized = fs::path(entry).lexically_normal().string();
      while (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
      if (entry.empty() || normalized != normalized_compat) pythonpath += ":" + entry;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return {
      {"AZURE_CONFIG_DIR", config_dir},
      {"REQUESTS_CA_BUNDLE", ca_file},
      {"AZURE_CORE_COLLECT_TELEMETRY", "false"},
      {"AZURE_CORE_ERROR_RECOMMENDATION", "off"},
      {"PYTHONPATH", pythonpath},
  };
}

Result<AzureCliSetup> ConfigureAzureCli(const AzureCliTarget& target,
                                        const AzureCliOptions& options) {
  const std::string app_id = StringField(target.credentials, "appId");
  std::string password = StringField(target.credentials, "password");
  const std::string tenant = StringField(target.credentials, "tenant");
  const std::string subscription = StringField(target.credentials, "subscription");
  if (app_id.empty() || password.empty() || tenant.empty() || subscription.empty()) {
    return Status::InvalidArgument(
        "the bootstrap credentials need non-empty \"appId\", \"password\", \"tenant\" and "
        "\"subscription\"");
  }
  if (options.config_dir.empty()) {
    return Status::InvalidArgument("--config-dir is required");
  }
  std::string compat_dir = options.compat_dir;
  if (compat_dir.empty()) {
    BYOK_ASSIGN_OR_RETURN(compat_dir, FindAzCompatDir());
  }
  std::error_code ec;
  fs::path config_path = fs::absolute(options.config_dir, ec);
  const std::string config_dir =
      (ec ? fs::path(options.config_dir) : config_path).lexically_normal().string();
  BYOK_TRY(EnsureDirectory(config_dir, 0700));

  AzureCliSetup setup;
  setup.cloud_name =
      options.cloud_name.empty() ? fmt::format("byok-{}", target.port) : options.cloud_name;
  setup.exports =
      AzureCliExports(config_dir, target.ca_file, compat_dir, std::getenv("PYTHONPATH"));
  const std::vector<std::string> env = ChildEnvironment(setup.exports);
  const std::string& az = options.az;

  // Runs one az step whose output is progress (to stderr).
  auto step = [&](const std::vector<std::string>& argv, const std::string& shown) -> Status {
    BYOK_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, env, ChildStdout::kToStderr));
    if (r.exit_code != 0) {
      return Status::FailedPrecondition(
          fmt::format("'{}' failed (exit {}); its output is above", shown, r.exit_code));
    }
    return Status::Ok();
  };
  // Runs an az query and parses its JSON stdout.
  auto query = [&](const std::vector<std::string>& argv) -> Result<nlohmann::json> {
    BYOK_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, env, ChildStdout::kCapture));
    if (r.exit_code != 0) {
      return Status::FailedPrecondition(
          fmt::format("'{}' failed (exit {})", Joined(argv), r.exit_code));
    }
    auto doc = ParseJsonBody(r.out);
    if (!doc.ok()) {
      return Status::FailedPrecondition(
          fmt::format("'{}' printed no JSON: {}", Joined(argv), doc.status().message()));
    }
    return *doc;
  };

  // 1. Which CLI is it? (`az version` makes no network call.)
  auto version = query({az, "version", "-o", "json"});
  if (!version.ok()) {
    if (version.status().Is(StatusCode::kNotFound)) {
      return Status::NotFound(version.status().message() +
                              " (install the Azure CLI, e.g. the Debian package azure-cli, or "
                              "pass --az PATH)");
    }
    return version.status();
  }
  setup.cli_version = version->is_object() ? StringField(*version, "azure-cli") : "";
  setup.debian_defects = setup.cli_version.rfind("2.45.", 0) == 0;
  Progress(fmt::format(
      "azure-cli {}{}; compatibility directory {}",
      setup.cli_version.empty() ? "?" : setup.cli_version,
      setup.debian_defects ? " (its Debian build needs the compatibility fixes)" : "", compat_dir));

  // 2. The cloud: register it, or update it when a cloud of that name exists.
  BYOK_ASSIGN_OR_RETURN(nlohmann::json clouds,
                        query({az, "cloud", "list", "--query", "[].name", "-o", "json"}));
  bool exists = false;
  if (clouds.is_array()) {
    for (const auto& c : clouds) exists = exists || (c.is_string() && c == setup.cloud_name);
  }
  {
    BYOK_ASSIGN_OR_RETURN(
        PrivateTempFile cloud_file,
        PrivateTempFile::Create(config_dir, DumpJson(AzureCloudConfig(target.port))));
    const char* verb = exists ? "update" : "register";
    Progress(fmt::format("az cloud {} -n {} (https://localhost:{}) in {}", verb, setup.cloud_name,
                         target.port, config_dir));
    BYOK_TRY(step({az, "cloud", verb, "-n", setup.cloud_name, "--cloud-config",
                   "@" + cloud_file.path(), "-o", "none"},
                  fmt::format("az cloud {} -n {}", verb, setup.cloud_name)));
  }
  BYOK_TRY(step({az, "cloud", "set", "-n", setup.cloud_name, "-o", "none"},
                "az cloud set -n " + setup.cloud_name));

  // 3. Log in the bootstrap service principal; the secret goes through a 0600 file.
  {
    auto secret_file = PrivateTempFile::Create(config_dir, password);
    OPENSSL_cleanse(password.data(), password.size());
    if (!secret_file.ok()) return secret_file.status();
    Progress(fmt::format("az login --service-principal -u {} --tenant {}", app_id, tenant));
    BYOK_TRY(step({az, "login", "--service-principal", "-u", app_id, "-p",
                   "@" + secret_file->path(), "--tenant", tenant, "-o", "none"},
                  fmt::format("az login --service-principal -u {} --tenant {}", app_id, tenant)));
  }
  BYOK_TRY(step({az, "account", "set", "--subscription", subscription, "-o", "none"},
                "az account set --subscription " + subscription));
  Progress(fmt::format("az is logged in to byokd at https://localhost:{} as {} (subscription {})",
                       target.port, app_id, subscription));
  return setup;
}

Result<AzureCliSetup> SetupAzureCli(const DataDir& dir, const AzureCliOptions& options) {
  BYOK_ASSIGN_OR_RETURN(LiveServer live, ProbeServer(dir));
  const std::string path = identity::CredentialsFilePath(dir.root);
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().Is(StatusCode::kNotFound)) {
      return Status::NotFound(fmt::format(
          "no bootstrap credentials at {} (byokd writes them on the first start of a data "
          "directory)",
          path));
    }
    return text.status();
  }
  auto doc = ParseJsonBody(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!doc.ok() || !doc->is_object()) {
    return Status::InvalidArgument(fmt::format("{} is not a JSON object", path));
  }
  AzureCliTarget target{live.info.port, live.info.ca, std::move(*doc)};
  return ConfigureAzureCli(target, options);
}

}  // namespace byok::daemon
