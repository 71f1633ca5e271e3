#include "store/root_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "common/encoding.h"
#include "common/files.h"

namespace byok::store {
namespace {

// A key file is 45 bytes; anything much larger is not one.
constexpr size_t kMaxKeyFileSize = 4096;

// Wipes a buffer of key material when it goes out of scope.
class Wiper {
 public:
  Wiper(void* p, size_t n) : p_(p), n_(n) {}
  ~Wiper() { OPENSSL_cleanse(p_, n_); }
  Wiper(const Wiper&) = delete;
  Wiper& operator=(const Wiper&) = delete;

 private:
  void* p_;
  size_t n_;
};

Status ErrnoStatus(int e, std::string_view what, const std::string& path) {
  std::string msg = fmt::format("{} root key file {}: {}", what, path, std::strerror(e));
  if (e == ENOENT) return Status::NotFound(std::move(msg));
  if (e == EACCES || e == EPERM) return Status::PermissionDenied(std::move(msg));
  return Status::Internal(std::move(msg));
}

std::string_view TrimSpace(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Result<RootKey> DecodeBase64Key(std::string_view text, std::string_view source) {
  Result<std::vector<uint8_t>> decoded = Base64Decode(TrimSpace(text));
  if (!decoded.ok()) {
    return Status::InvalidArgument(
        fmt::format("{} is not valid base64 (expected base64 of {} bytes)", source, kRootKeySize));
  }
  Wiper wipe(decoded->data(), decoded->size());
  if (decoded->size() != kRootKeySize) {
    return Status::InvalidArgument(fmt::format("{} decodes to {} bytes; a root key is {} bytes",
                                               source, decoded->size(), kRootKeySize));
  }
  return RootKey::FromBytes(*decoded);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads and validates an existing key file.
Result<RootKey> LoadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoStatus(errno, "stat", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(fmt::format("root key file {} is not a regular file", path));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return Status::PermissionDenied(fmt::format(
        "root key file {} has mode {:04o}, which lets group or others access it; refusing to use "
        "it (run: chmod 600 {})",
        path, st.st_mode & 07777, path));
  }
  char buf[kMaxKeyFileSize + 1];
  Wiper wipe(buf, sizeof buf);
  size_t len = 0;
  while (len < sizeof buf) {
    ssize_t n = ::read(fd, buf + len, sizeof buf - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoStatus(errno, "read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  if (len > kMaxKeyFileSize) {
    return Status::InvalidArgument(fmt::format("root key file {} is too large", path));
  }
  if (len == kRootKeySize) {  // raw bytes (base64 of 32 bytes is 44 characters)
    return RootKey::FromBytes({reinterpret_cast<const uint8_t*>(buf), len});
  }
  return DecodeBase64Key({buf, len}, fmt::format("root key file {}", path));
}

// Creates <dir>/root.key with a fresh key. The file is written completely under a temporary
// name and then published with link(2), which (like an O_EXCL create) fails if root.key exists;
// unlike a plain O_EXCL create it never lets a concurrent starter read a half-written key. If
// another process won the race, its key is loaded instead.
Result<RootKey> CreateKeyFile(const std::string& dir, const std::string& path, Random& random) {
  BYOK_TRY(EnsureDirectory(dir, 0700));
  RootKey key = RootKey::Generate(random);
  std::string text = Base64Encode(key.bytes()) + "\n";
  Wiper wipe_text(text.data(), text.size());

  std::string tmp = fmt::format("{}/.{}.tmp-{}", dir, kRootKeyFileName, random.Uuid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus(errno, "create", tmp);
  Status s = Status::Ok();
  if (::fchmod(fd, 0600) != 0) s = ErrnoStatus(errno, "chmod", tmp);
  if (s.ok()) s = WriteAll(fd, text, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus(errno, "fsync", tmp);
  ::close(fd);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  int link_errno = ::link(tmp.c_str(), path.c_str()) == 0 ? 0 : errno;
  ::unlink(tmp.c_str());
  if (link_errno == EEXIST) return LoadKeyFile(path);
  if (link_errno != 0) return ErrnoStatus(link_errno, "create", path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return key;
}

}  // namespace

Result<RootKey> RootKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kRootKeySize) {
    return Status::InvalidArgument(
        fmt::format("a root key is {} bytes, got {}", kRootKeySize, bytes.size()));
  }
  return RootKey(SecretBytes(bytes));
}

RootKey RootKey::Generate(Random& random) {
  SecretBytes key(kRootKeySize);
  random.Fill(key.span());
  return RootKey(std::move(key));
}

Result<RootKey> LoadOrCreateRootKey(const RootKeyOptions& options) {
  std::optional<std::string> env;
  if (options.getenv) {
    env = options.getenv(kRootKeyEnvVar);
  } else if (const char* v = std::getenv(kRootKeyEnvVar)) {
    env = std::string(v);
  }
  if (env && !env->empty()) {
    Wiper wipe(env->data(), env->size());
    return DecodeBase64Key(*env, kRootKeyEnvVar);
  }
  if (!options.key_file.empty()) {
    Result<RootKey> key = LoadKeyFile(options.key_file);
    if (!key.ok() && key.status().Is(StatusCode::kNotFound)) {
      return Status::NotFound(fmt::format("root key file {} does not exist", options.key_file));
    }
    return key;
  }
  if (options.data_dir.empty()) {
    return Status::InvalidArgument(fmt::format(
        "no root key configured: set {}, a root key file, or a data directory", kRootKeyEnvVar));
  }
  std::string path = options.data_dir + "/" + kRootKeyFileName;
  Result<RootKey> key = LoadKeyFile(path);
  if (key.ok() || !key.status().Is(StatusCode::kNotFound)) return key;
  return CreateKeyFile(options.data_dir, path, options.random ? *options.random : CryptoRandom());
}

}  // namespace byok::store
