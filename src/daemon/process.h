// Child processes and installed data files for byok's client commands (`byok azure-cli setup`,
// `byok demo`): spawning a program with a given environment, and finding byok's data directories
// (share/byok/...) next to the running binary or in the source tree.
//
// Thread safety: RunProcess and ChildEnvironment read the process environment and may be called
// from any thread as long as nobody modifies the environment concurrently.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace byok::daemon {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// Where a child's standard output goes.
enum class ChildStdout {
  kCapture,   // into ProcessResult::out
  kToStderr,  // our stderr (progress of a step whose stdout is not the command's result)
  kInherit,   // our stdout
};

struct ProcessResult {
  int exit_code = 0;  // 128 + signal number if killed by a signal
  std::string out;    // captured stdout (empty unless kCapture)
};

// Runs argv (argv[0] looked up on PATH when it has no '/') with the environment `envp`
// ("NAME=VALUE" strings). stdin is /dev/null; stderr is inherited. Waits for the child.
// NotFound if the program cannot be found or started; Internal for pipe/wait failures.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& envp, ChildStdout out);

// This process's environment with `overrides` applied (an override with an empty name is
// ignored), minus every variable named in `removed`, as NAME=VALUE strings sorted by name.
std::vector<std::string> ChildEnvironment(const EnvList& overrides,
                                          const std::vector<std::string>& removed = {});

// The directory of the running executable ("" if /proc/self/exe cannot be read).
std::string ExecutableDir();

// The source tree this binary was built from (compile-time BYOK_SOURCE_DIR), or "" when it was
// built without one.
std::string_view BuildSourceDir();

// The first existing directory holding `marker` (a file name) among: $env_var (when set and
// non-empty: it must hold the marker, else InvalidArgument); <executable dir>/../share/byok/<name>;
// <source dir>/<source_subdir> (when source_dir is non-empty); <executable dir>/../<source_subdir>
// (a build directory inside the source tree). Returned canonical. NotFound otherwise (the message
// names `what` and the environment variable).
Result<std::string> FindDataDir(std::string_view what, const char* env_var, std::string_view name,
                                std::string_view source_dir, std::string_view source_subdir,
                                std::string_view marker);

}  // namespace byok::daemon
