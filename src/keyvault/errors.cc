#include "keyvault/errors.h"

namespace byok::keyvault {

nlohmann::json KvError::ToJson() const {
  nlohmann::json err = {{"code", code}, {"message", message}};
  if (!inner_code.empty()) err["innererror"] = {{"code", inner_code}};
  return {{"error", std::move(err)}};
}

KvError FromApiError(const ApiError& e) { return KvError{e.http_status, e.code, "", e.message}; }

std::string TruncateForError(std::string_view s) {
  constexpr size_t kMax = 256;
  if (s.size() <= kMax) return std::string(s);
  // Do not cut a UTF-8 sequence in half.
  size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

}  // namespace byok::keyvault
