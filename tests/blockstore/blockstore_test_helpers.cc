#include "blockstore/blockstore_test_helpers.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "crypto/aes_kw.h"

namespace byok::blockstore::blockstore_test {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "blockstore test helper: %s\n", what);
  std::abort();
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "byok-blockstore-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Status FakeCustomerWrapper::Check(const std::string& key_id) {
  auto it = states_.find(key_id);
  KeyState state = it == states_.end() ? KeyState::kEnabled : it->second;
  switch (state) {
    case KeyState::kEnabled:
      return Status::Ok();
    case KeyState::kDisabled:
      return Status::FailedPrecondition("Operation unwrapKey is not allowed on a disabled key.");
    case KeyState::kForbidden:
      return Status::PermissionDenied(
          "The user, group or application does not have keys "
          "unwrapKey permission on key vault 'v1'.");
    case KeyState::kPurged:
      return Status::NotFound("A key with (name/id) disk-key was not found in this key vault.");
  }
  return Status::Internal("bad state");
}

Result<WrappedDek> FakeCustomerWrapper::Wrap(const KeyRef& key, std::span<const uint8_t> dek) {
  std::lock_guard lock(mu_);
  ++wraps_;
  if (key.layer != Layer::kCustomer) return Status::InvalidArgument("not a customer key");
  BYOK_TRY(Check(key.key_id));
  auto& kek = keks_[key.key_id];
  if (kek.empty()) kek = CryptoRandom().Bytes(32);
  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> wrapped, crypto::AesKeyWrap(kek, dek));
  return WrappedDek{key, "RSA-OAEP-256", std::move(wrapped)};
}

Result<SecretBytes> FakeCustomerWrapper::Unwrap(const WrappedDek& wrapped) {
  std::lock_guard lock(mu_);
  ++unwraps_;
  BYOK_TRY(Check(wrapped.key.key_id));
  auto it = keks_.find(wrapped.key.key_id);
  if (it == keks_.end()) return Status::NotFound("no such key");
  Result<SecretBytes> dek = crypto::AesKeyUnwrap(it->second, wrapped.wrapped);
  if (!dek.ok()) return Status::DataLoss("does not unwrap");
  return dek;
}

void FakeCustomerWrapper::SetState(const std::string& key_id, KeyState state) {
  std::lock_guard lock(mu_);
  states_[key_id] = state;
  if (state == KeyState::kPurged) keks_.erase(key_id);
}

KeyRef PlatformKey() { return KeyRef{Layer::kPlatform, "platform:v1", ""}; }
KeyRef CustomerKey(const char* key_id) { return KeyRef{Layer::kCustomer, key_id, kDesId}; }

DiskEnv::DiskEnv(uint64_t seed) : root_key(RandomBytes(32, seed)), random(seed) { Reopen(); }

void DiskEnv::Reopen() {
  store.reset();
  platform = std::make_unique<PlatformKeyWrapper>(root_key, &customer);
  BlockStore::Options o;
  o.directory = dir.path() + "/disks";
  o.wrapper = platform.get();
  o.random = &random;
  o.now_rfc3339 = [] { return std::string("2024-05-01T12:00:00.0000000Z"); };
  store = std::make_unique<BlockStore>(std::move(o));
}

std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> out(n);
  SeededRandom(seed).Fill(out);
  return out;
}

std::vector<uint8_t> ReadRaw(const std::string& path, uint64_t offset, size_t len) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail("open raw");
  std::vector<uint8_t> out(len);
  ssize_t n = ::pread(fd, out.data(), len, static_cast<off_t>(offset));
  ::close(fd);
  if (n < 0) Fail("pread raw");
  out.resize(static_cast<size_t>(n));
  return out;
}

void WriteRaw(const std::string& path, uint64_t offset, std::span<const uint8_t> data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) Fail("open raw");
  ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) Fail("pwrite raw");
}

std::vector<uint8_t> IndependentPlatformKek(std::span<const uint8_t> root_key) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  static const char kInfo[] = "byok platform disk key v1";
  std::vector<uint8_t> out(32);
  size_t len = out.size();
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx) != 1 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx, root_key.data(), static_cast<int>(root_key.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx, reinterpret_cast<const unsigned char*>(kInfo),
                                  sizeof kInfo - 1) != 1 ||
      EVP_PKEY_derive(ctx, out.data(), &len) != 1 || len != 32) {
    Fail("HKDF");
  }
  EVP_PKEY_CTX_free(ctx);
  return out;
}

std::vector<uint8_t> IndependentAesUnwrap(std::span<const uint8_t> kek,
                                          std::span<const uint8_t> wrapped) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::vector<uint8_t> out(wrapped.size() + 16);
  int n = 0, m = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_wrap(), nullptr, kek.data(), nullptr) == 1 &&
            EVP_DecryptUpdate(ctx, out.data(), &n, wrapped.data(),
                              static_cast<int>(wrapped.size())) == 1 &&
            EVP_DecryptFinal_ex(ctx, out.data() + n, &m) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return {};
  out.resize(static_cast<size_t>(n + m));
  return out;
}

std::vector<uint8_t> IndependentXts(std::span<const uint8_t> key64, uint64_t sector,
                                    std::span<const uint8_t> in, bool encrypt) {
  uint8_t iv[16] = {};
  for (int i = 0; i < 8; ++i) iv[i] = static_cast<uint8_t>(sector >> (8 * i));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::vector<uint8_t> out(in.size());
  int n = 0;
  bool ok =
      EVP_CipherInit_ex(ctx, EVP_aes_256_xts(), nullptr, key64.data(), iv, encrypt ? 1 : 0) == 1 &&
      EVP_CipherUpdate(ctx, out.data(), &n, in.data(), static_cast<int>(in.size())) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok || static_cast<size_t>(n) != in.size()) Fail("XTS");
  return out;
}

}  // namespace byok::blockstore::blockstore_test
