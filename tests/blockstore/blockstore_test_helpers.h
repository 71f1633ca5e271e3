// Shared helpers for the blockstore tests: a temporary directory, a fake customer KeyWrapper
// (a test double of the Key Vault wrapper: per-key AES key wrap, keys can be disabled or
// removed), a fixture-friendly disk environment, and independent crypto (OpenSSL EVP used
// directly, not through byok's crypto module) to decrypt raw sectors.
//
// Thread safety: FakeCustomerWrapper is thread-safe; the rest is for one test thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "blockstore/blockstore.h"
#include "common/random.h"

namespace byok::blockstore::blockstore_test {

// A fresh directory from mkdtemp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A stand-in for the Key Vault wrapper (compute/vault_key_wrapper.h): each customer key id has
// its own 32-byte AES key-wrap key; algorithm "RSA-OAEP-256" is reported as the real one would.
// Keys are created on first Wrap unless strict; SetState makes them fail like Key Vault.
class FakeCustomerWrapper : public KeyWrapper {
 public:
  enum class KeyState { kEnabled, kDisabled, kForbidden, kPurged };

  Result<WrappedDek> Wrap(const KeyRef& key, std::span<const uint8_t> dek) override;
  Result<SecretBytes> Unwrap(const WrappedDek& wrapped) override;

  void SetState(const std::string& key_id, KeyState state);
  int wraps() const { return wraps_; }
  int unwraps() const { return unwraps_; }

 private:
  Status Check(const std::string& key_id);  // REQUIRES: mu_ held

  std::mutex mu_;
  std::map<std::string, std::vector<uint8_t>> keks_;
  std::map<std::string, KeyState> states_;
  std::atomic<int> wraps_{0};
  std::atomic<int> unwraps_{0};
};

inline constexpr char kCustomerKeyV1[] =
    "https://v1.vault.localhost:8443/keys/disk-key/00000000000000000000000000000001";
inline constexpr char kCustomerKeyV2[] =
    "https://v1.vault.localhost:8443/keys/disk-key/00000000000000000000000000000002";
inline constexpr char kDesId[] =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
    "Microsoft.Compute/diskEncryptionSets/des1";

KeyRef PlatformKey();
KeyRef CustomerKey(const char* key_id = kCustomerKeyV1);

// A directory, a root key, the wrappers and a BlockStore over them. Reopen() makes a new
// BlockStore (a byokd restart) over the same directory and keys.
struct DiskEnv {
  explicit DiskEnv(uint64_t seed = 1);
  void Reopen();

  TempDir dir;
  std::vector<uint8_t> root_key;
  FakeCustomerWrapper customer;
  std::unique_ptr<PlatformKeyWrapper> platform;
  SeededRandom random;
  std::unique_ptr<BlockStore> store;
};

std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed);
std::vector<uint8_t> ReadRaw(const std::string& path, uint64_t offset, size_t len);
void WriteRaw(const std::string& path, uint64_t offset, std::span<const uint8_t> data);

// Independent crypto: OpenSSL EVP directly.
// HKDF-SHA256 through EVP_PKEY_derive (byok uses EVP_KDF), 32 bytes.
std::vector<uint8_t> IndependentPlatformKek(std::span<const uint8_t> root_key);
// RFC 3394 unwrap through EVP aes-256-wrap; empty on failure.
std::vector<uint8_t> IndependentAesUnwrap(std::span<const uint8_t> kek,
                                          std::span<const uint8_t> wrapped);
// AES-256-XTS of one 4096-byte sector, tweak = sector number as 16 bytes little-endian.
std::vector<uint8_t> IndependentXts(std::span<const uint8_t> key64, uint64_t sector,
                                    std::span<const uint8_t> in, bool encrypt);

}  // namespace byok::blockstore::blockstore_test
