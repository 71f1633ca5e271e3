// Injectable randomness.
//
// Random is the interface; CryptoRandom() is the process CSPRNG (OpenSSL RAND_bytes) and is what
// production code uses for keys, secrets and ids. Tests may inject SeededRandom for reproducible
// ids — never for key material. Implementations are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace byok {

class Random {
 public:
  virtual ~Random() = default;
  // Fills out with random bytes. Aborts the process if the CSPRNG fails (it cannot on Linux
  // once seeded; continuing with weak randomness would be worse).
  virtual void Fill(std::span<uint8_t> out) = 0;

  std::vector<uint8_t> Bytes(size_t n);
  // A random version-4 UUID in canonical lower-case form. UUIDs are identifiers (resource ids,
  // etags, request ids), never secrets: CryptoRandom() serves them from per-thread batches of
  // CSPRNG output (one RAND_bytes call per 256 UUIDs; a forked child never reuses its parent's
  // batch), so they stay unpredictable but cost no CSPRNG call each.
  virtual std::string Uuid();
};

// The canonical lower-case text of a version-4 UUID from 16 random bytes (sets the version and
// variant bits).
std::string FormatUuid(const uint8_t (&bytes)[16]);

// The process-wide CSPRNG.
Random& CryptoRandom();

// Deterministic xorshift stream for tests. NOT cryptographically secure.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed ? seed : 0x9e3779b97f4a7c15ULL) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mutex mu_;
  uint64_t state_;
};

}  // namespace byok
