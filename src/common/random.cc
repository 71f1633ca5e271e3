#include "common/random.h"

#include <cstdlib>

#include <fmt/format.h>
#include <openssl/rand.h>

namespace byok {
namespace {

class OpenSslRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override {
    if (out.empty()) return;
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
  }
};

}  // namespace

std::vector<uint8_t> Random::Bytes(size_t n) {
  std::vector<uint8_t> v(n);
  Fill(v);
  return v;
}

std::string Random::Uuid() {
  uint8_t b[16];
  Fill(b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:"
      "02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

Random& CryptoRandom() {
  static OpenSslRandom r;
  return r;
}

void SeededRandom::Fill(std::span<uint8_t> out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& byte : out) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    byte = static_cast<uint8_t>(state_ >> 24);
  }
}

}  // namespace byok
