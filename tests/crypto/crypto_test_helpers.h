// Shared helpers for the crypto module's tests: fixed test keys loaded once per process, hex
// literals, a scoped temporary directory, and running the independent implementations the tests
// cross-check against (the `openssl` command line and Python's `cryptography` package).
//
// Thread safety: the key accessors are safe to call concurrently (function-local statics).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"

namespace byok::crypto::crypto_test {

// Test keys from tests/crypto/data (PKCS#8 PEM), parsed once. bits: 2048, 3072 or 4096.
const PrivateKey& TestRsaKey(int bits);
const PrivateKey& TestEcKey(Curve curve);
// Raw contents of tests/crypto/data/<name>.
std::string TestData(std::string_view name);

// Hex to bytes; whitespace is ignored. Aborts the test binary on malformed hex (test bug).
std::vector<uint8_t> Hex(std::string_view hex);
std::vector<uint8_t> Bytes(std::string_view text);

// A fresh directory from mkdtemp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path()/name
  std::string File(std::string_view name) const;

 private:
  std::string path_;
};

void WriteBytes(const std::string& path, std::span<const uint8_t> data);
void WriteText(const std::string& path, std::string_view text);
std::vector<uint8_t> ReadBytes(const std::string& path);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
// Runs `command` with /bin/sh, capturing stdout and stderr.
CommandResult RunCommand(const std::string& command);

// Whether the `openssl` command line and Python 3 with `cryptography` are installed.
bool HaveOpensslCli();
bool HavePythonCryptography();
// The Python interpreter to use ("python3" with cryptography importable).
const std::string& Python();

}  // namespace byok::crypto::crypto_test
