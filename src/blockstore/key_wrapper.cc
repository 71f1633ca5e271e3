#include "blockstore/key_wrapper.h"

#include <array>
#include <string_view>

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "blockstore/blockstore.h"
#include "crypto/aes_kw.h"

namespace byok::blockstore {
namespace {

constexpr std::string_view kPlatformKeyId = "platform:v1";
constexpr std::string_view kPlatformAlgorithm = "A256KW";
constexpr std::string_view kPlatformKekInfo = "byok platform disk key v1";
constexpr size_t kKekSize = 32;

// HKDF-SHA256(IKM = root key, salt = none, info = kPlatformKekInfo), 32 bytes. Empty on failure
// (then every platform wrap/unwrap fails with Internal).
SecretBytes DerivePlatformKek(std::span<const uint8_t> root_key) {
  if (root_key.empty()) return {};
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return {};
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return {};
  char digest[] = "SHA256";
  std::array<OSSL_PARAM, 4> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(root_key.data()),
                                        root_key.size()),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_INFO, const_cast<char*>(kPlatformKekInfo.data()), kPlatformKekInfo.size()),
      OSSL_PARAM_construct_end()};
  SecretBytes out(kKekSize);
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params.data());
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) return {};
  return out;
}

Status CheckPlatformKey(const KeyRef& key) {
  if (key.key_id != kPlatformKeyId) {
    return Status::NotFound(fmt::format("platform key '{}' does not exist", key.key_id));
  }
  return Status::Ok();
}

}  // namespace

const char* LayerName(Layer layer) {
  switch (layer) {
    case Layer::kPlatform:
      return "platform";
    case Layer::kCustomer:
      return "customer";
  }
  return "unknown";
}

PlatformKeyWrapper::PlatformKeyWrapper(std::span<const uint8_t> root_key, KeyWrapper* customer)
    : kek_(DerivePlatformKek(root_key)), customer_(customer) {}

Result<WrappedDek> PlatformKeyWrapper::Wrap(const KeyRef& key, std::span<const uint8_t> dek) {
  if (key.layer == Layer::kCustomer) {
    if (customer_ == nullptr) {
      return Status::FailedPrecondition("customer-managed keys are not available here");
    }
    return customer_->Wrap(key, dek);
  }
  BYOK_TRY(CheckPlatformKey(key));
  if (kek_.empty()) return Status::Internal("the platform key could not be derived");
  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> wrapped, crypto::AesKeyWrap(kek_.span(), dek));
  return WrappedDek{key, std::string(kPlatformAlgorithm), std::move(wrapped)};
}

Result<SecretBytes> PlatformKeyWrapper::Unwrap(const WrappedDek& wrapped) {
  if (wrapped.key.layer == Layer::kCustomer) {
    if (customer_ == nullptr) {
      return Status::FailedPrecondition("customer-managed keys are not available here");
    }
    return customer_->Unwrap(wrapped);
  }
  BYOK_TRY(CheckPlatformKey(wrapped.key));
  if (wrapped.algorithm != kPlatformAlgorithm) {
    return Status::DataLoss(
        fmt::format("platform-wrapped key uses unknown algorithm '{}'", wrapped.algorithm));
  }
  if (kek_.empty()) return Status::Internal("the platform key could not be derived");
  Result<SecretBytes> dek = crypto::AesKeyUnwrap(kek_.span(), wrapped.wrapped);
  if (!dek.ok()) {
    return Status::DataLoss("the disk key does not unwrap under this installation's platform key");
  }
  return dek;
}

}  // namespace byok::blockstore
