#include "crypto/openssl_util.h"

#include <string>

#include <openssl/crypto.h>

namespace byok::crypto::internal {

Status OpenSslError(StatusCode code, std::string_view what) {
  std::string message(what);
  unsigned long err = ERR_peek_error();
  if (err != 0) {
    const char* reason = ERR_reason_error_string(err);
    if (reason != nullptr) {
      message += " (";
      message += reason;
      message += ")";
    }
  }
  ERR_clear_error();
  return Status(code, std::move(message));
}

namespace {

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

Result<SecretBytes> Base64UrlDecodeStrict(std::string_view text, size_t max_size) {
  if (text.size() % 4 == 1) return Status::InvalidArgument("invalid base64url length");
  size_t out_size = text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
  if (out_size > max_size) return Status::InvalidArgument("base64url value too long");
  SecretBytes out(out_size);
  size_t o = 0;
  uint32_t acc = 0;
  int acc_bits = 0;
  for (char c : text) {
    int v = Base64UrlValue(c);
    if (v < 0) return Status::InvalidArgument("invalid base64url character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    acc_bits += 6;
    if (acc_bits >= 8) {
      acc_bits -= 8;
      out.data()[o++] = static_cast<uint8_t>(acc >> acc_bits);
      acc &= (1u << acc_bits) - 1;
    }
  }
  // Leftover bits (2 or 4) must be zero for a canonical encoding.
  bool canonical = acc == 0;
  acc = 0;
  if (!canonical) return Status::InvalidArgument("non-canonical base64url");
  return out;
}

Result<SecretBnPtr> SecretBnFromBytes(std::span<const uint8_t> bytes) {
  SecretBnPtr bn(BN_secure_new());
  if (!bn || BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), bn.get()) == nullptr) {
    return OpenSslError(StatusCode::kInternal, "BN_bin2bn failed");
  }
  return bn;
}

}  // namespace byok::crypto::internal
