// The root key: 32 random bytes that seal every secret in the store (docs/formats/sealed.md).
//
// Contract. LoadOrCreateRootKey() finds the key in this order, first match wins:
//   1. the environment variable BYOK_ROOT_KEY, if set and non-empty: standard base64 (padded) of
//      exactly 32 bytes;
//   2. options.key_file (--root-key-file): an existing file; it is never created;
//   3. options.data_dir: <data_dir>/root.key, created on first start (data dir mode 0700, file mode
//      0600, 32 fresh CSPRNG bytes, published atomically so that concurrent first starts agree
//      on one key).
// A key file holds the base64 of the 32 bytes followed by a newline (surrounding whitespace is
// ignored); a file of exactly 32 raw bytes is accepted too. A key file that group or others may
// access in any way (mode & 077) is refused with kPermissionDenied, as ssh refuses loose private
// keys. Malformed keys are kInvalidArgument; a missing --root-key-file is kNotFound.
//
// A store remembers its root key by a sealed canary, so opening a data directory with another
// key fails with kPermissionDenied "root key does not match this data directory".
//
// Thread safety: RootKey is a value (move-only; Clone() to copy); LoadOrCreateRootKey is safe to
// call concurrently, also from several processes on the same data dir.
//
// REQUIRES: at least one key source is configured; the data dir is on a file system with link(2).
// Never log a RootKey's bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "common/random.h"
#include "common/secret.h"
#include "common/status.h"

namespace byok::store {

inline constexpr size_t kRootKeySize = 32;
inline constexpr char kRootKeyEnvVar[] = "BYOK_ROOT_KEY";
inline constexpr char kRootKeyFileName[] = "root.key";

class RootKey {
 public:
  // kInvalidArgument unless bytes.size() == kRootKeySize.
  static Result<RootKey> FromBytes(std::span<const uint8_t> bytes);
  // A fresh random key.
  static RootKey Generate(Random& random);

  RootKey(RootKey&&) noexcept = default;
  RootKey& operator=(RootKey&&) noexcept = default;

  // Always kRootKeySize bytes (empty only after being moved from).
  std::span<const uint8_t> bytes() const { return key_.span(); }
  RootKey Clone() const { return RootKey(key_.Clone()); }

 private:
  explicit RootKey(SecretBytes key) : key_(std::move(key)) {}

  SecretBytes key_;
};

struct RootKeyOptions {
  // <data_dir>/root.key is used, and created if missing. May be empty if key_file or the
  // environment provides the key.
  std::string data_dir;
  // An explicit key file (--root-key-file); must exist. Takes precedence over data_dir.
  std::string key_file;
  // Environment lookup (injectable for tests); nullptr reads the process environment.
  std::function<std::optional<std::string>(const char* name)> getenv;
  // Randomness for a new key; nullptr means CryptoRandom().
  Random* random = nullptr;
};

// See the file comment. REQUIRES: at least one source is configured (else kInvalidArgument).
Result<RootKey> LoadOrCreateRootKey(const RootKeyOptions& options);

}  // namespace byok::store
