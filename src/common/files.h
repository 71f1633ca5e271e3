// Small, careful file-system helpers (POSIX).
#pragma once

#include <sys/types.h>
#include <string>

#include "common/status.h"

namespace byok {

// Reads the whole file. NotFound if it does not exist.
Result<std::string> ReadFile(const std::string& path);

// Writes data to path atomically: a temporary file in the same directory with the given mode,
// fsync, rename over path, fsync of the directory. Readers see the old or the new file, never a
// torn one.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// Creates dir (and parents) if missing; a newly created leaf gets `mode`.
Status EnsureDirectory(const std::string& dir, mode_t mode = 0700);

bool FileExists(const std::string& path);

// $XDG_DATA_HOME/byok, else $HOME/.local/share/byok.
std::string DefaultDataDir();

}  // namespace byok
