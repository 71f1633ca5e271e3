#include "daemon/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include <fmt/format.h>

extern char** environ;

namespace byok::daemon {
namespace {

namespace fs = std::filesystem;

std::string CanonicalOrSame(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return (ec ? p.lexically_normal() : c).string();
}

bool HoldsMarker(const fs::path& dir, std::string_view marker) {
  std::error_code ec;
  return fs::is_regular_file(dir / marker, ec);
}

}  // namespace

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& envp, ChildStdout out) {
  if (argv.empty()) return Status::InvalidArgument("RunProcess: empty argv");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const auto& e : envp) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  const bool capture = out == ChildStdout::kCapture;
  int pipefd[2] = {-1, -1};
  if (capture && ::pipe2(pipefd, O_CLOEXEC) != 0) {
    return Status::Internal(fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (capture) {
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  } else if (out == ChildStdout::kToStderr) {
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
  }
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (capture) ::close(pipefd[1]);
  if (rc != 0) {
    if (capture) ::close(pipefd[0]);
    return Status::NotFound(fmt::format("cannot run '{}': {}", argv[0], std::strerror(rc)));
  }
  ProcessResult result;
  if (capture) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(pipefd[0], buf, sizeof buf);
      if (n > 0) {
        result.out.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    ::close(pipefd[0]);
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return Status::Internal(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

std::vector<std::string> ChildEnvironment(const EnvList& overrides,
                                          const std::vector<std::string>& removed) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  for (const auto& name : removed) vars.erase(name);
  for (const auto& [k, v] : overrides) {
    if (!k.empty()) vars[k] = v;
  }
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

std::string ExecutableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::string_view BuildSourceDir() {
#ifdef BYOK_SOURCE_DIR
  return BYOK_SOURCE_DIR;
#else
  return {};
#endif
}

Result<std::string> FindDataDir(std::string_view what, const char* env_var, std::string_view name,
                                std::string_view source_dir, std::string_view source_subdir,
                                std::string_view marker) {
  if (const char* env = std::getenv(env_var); env && *env) {
    if (!HoldsMarker(env, marker)) {
      return Status::InvalidArgument(fmt::format("{}={} holds no {}", env_var, env, marker));
    }
    return CanonicalOrSame(env);
  }
  std::vector<fs::path> candidates;
  const std::string exe_dir = ExecutableDir();
  if (!exe_dir.empty()) candidates.push_back(fs::path(exe_dir) / "../share/byok" / name);
  if (!source_dir.empty()) candidates.push_back(fs::path(source_dir) / source_subdir);
  if (!exe_dir.empty()) candidates.push_back(fs::path(exe_dir) / ".." / source_subdir);
  for (const auto& c : candidates) {
    if (HoldsMarker(c, marker)) return CanonicalOrSame(c);
  }
  return Status::NotFound(fmt::format(
      "cannot find {} (share/byok/{} next to the byok binary, or {} in the source tree); set {}",
      what, name, source_subdir, env_var));
}

}  // namespace byok::daemon
