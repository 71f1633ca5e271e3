#include "crypto/crypto_test_helpers.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/encoding.h"

namespace byok::crypto::crypto_test {
namespace {

std::string DataPath(std::string_view name) {
  return std::string(BYOK_SOURCE_DIR) + "/tests/crypto/data/" + std::string(name);
}

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "crypto test helper: %s\n", message.c_str());
  std::abort();
}

PrivateKey LoadKey(std::string_view file) {
  Result<PrivateKey> key = PrivateKey::FromPem(TestData(file));
  if (!key.ok()) Fail(std::string(file) + ": " + key.status().ToString());
  return std::move(key).value();
}

}  // namespace

std::string TestData(std::string_view name) {
  std::ifstream in(DataPath(name), std::ios::binary);
  if (!in) Fail("cannot read test data " + std::string(name));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const PrivateKey& TestRsaKey(int bits) {
  static const PrivateKey k2048 = LoadKey("rsa2048.pem");
  if (bits == 2048) return k2048;
  static const PrivateKey k3072 = LoadKey("rsa3072.pem");
  if (bits == 3072) return k3072;
  static const PrivateKey k4096 = LoadKey("rsa4096.pem");
  if (bits == 4096) return k4096;
  Fail("no RSA test key of that size");
}

const PrivateKey& TestEcKey(Curve curve) {
  static const PrivateKey p256 = LoadKey("ec_p256.pem");
  static const PrivateKey p384 = LoadKey("ec_p384.pem");
  static const PrivateKey p521 = LoadKey("ec_p521.pem");
  switch (curve) {
    case Curve::kP256:
      return p256;
    case Curve::kP384:
      return p384;
    case Curve::kP521:
      return p521;
  }
  Fail("no EC test key for that curve");
}

std::vector<uint8_t> Hex(std::string_view hex) {
  std::string compact;
  for (char c : hex) {
    if (c != ' ' && c != '\n' && c != '\t') compact.push_back(c);
  }
  Result<std::vector<uint8_t>> bytes = HexDecode(compact);
  if (!bytes.ok()) Fail("bad hex literal in test");
  return *bytes;
}

std::vector<uint8_t> Bytes(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "byok-crypto-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::File(std::string_view name) const { return path_ + "/" + std::string(name); }

void WriteBytes(const std::string& path, std::span<const uint8_t> data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) Fail("cannot write " + path);
}

void WriteText(const std::string& path, std::string_view text) {
  WriteBytes(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool HaveOpensslCli() {
  static const bool have = RunCommand("openssl version").exit_code == 0;
  return have;
}

const std::string& Python() {
  // Prefer the system interpreter (Debian's python3-cryptography), else whatever is on PATH.
  static const std::string python = [] {
    for (const char* candidate : {"/usr/bin/python3", "python3"}) {
      std::string cmd = std::string(candidate) + " -c 'import cryptography'";
      if (RunCommand(cmd).exit_code == 0) return std::string(candidate);
    }
    return std::string();
  }();
  return python;
}

bool HavePythonCryptography() { return !Python().empty(); }

}  // namespace byok::crypto::crypto_test
