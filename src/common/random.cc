#include "common/random.h"

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include <openssl/rand.h>

namespace byok {
namespace {

void RandBytes(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

// Advanced in a forked child: every thread's UUID batch is then stale.
std::atomic<uint64_t> fork_generation{0};

void OnFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

class OpenSslRandom final : public Random {
 public:
  OpenSslRandom() { pthread_atfork(nullptr, nullptr, &OnFork); }

  void Fill(std::span<uint8_t> out) override { RandBytes(out); }

  std::string Uuid() override {
    struct Batch {
      std::array<uint8_t, 4096> bytes;
      size_t used = sizeof bytes;
      uint64_t generation = 0;
    };
    thread_local Batch batch;
    uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (batch.used + 16 > batch.bytes.size() || batch.generation != generation) {
      RandBytes(batch.bytes);
      batch.used = 0;
      batch.generation = generation;
    }
    uint8_t b[16];
    std::memcpy(b, batch.bytes.data() + batch.used, sizeof b);
    std::memset(batch.bytes.data() + batch.used, 0, sizeof b);  // each UUID is handed out once
    batch.used += sizeof b;
    return FormatUuid(b);
  }
};

}  // namespace

std::string FormatUuid(const uint8_t (&bytes)[16]) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint8_t b[16];
  std::memcpy(b, bytes, sizeof b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out(36, '-');
  size_t pos = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    out[pos++] = kHex[b[i] >> 4];
    out[pos++] = kHex[b[i] & 0x0f];
  }
  return out;
}

std::vector<uint8_t> Random::Bytes(size_t n) {
  std::vector<uint8_t> v(n);
  Fill(v);
  return v;
}

std::string Random::Uuid() {
  uint8_t b[16];
  Fill(b);
  return FormatUuid(b);
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
