// SecretBytes: an owned byte buffer for key material that is wiped (OPENSSL_cleanse) when
// destroyed, cleared or moved from. Not copyable by accident: copies must be explicit (Clone()).
// Never log its contents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace byok {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : data_(size) {}
  explicit SecretBytes(std::span<const uint8_t> bytes) : data_(bytes.begin(), bytes.end()) {}
  ~SecretBytes() { Wipe(); }

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  SecretBytes Clone() const { return SecretBytes(span()); }

  uint8_t* data() { return data_.data(); }
  const uint8_t* data() const { return data_.data(); }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  std::span<uint8_t> span() { return data_; }
  std::span<const uint8_t> span() const { return data_; }
  // Zeroes the bytes and releases them.
  void Wipe();

  friend bool operator==(const SecretBytes& a, const SecretBytes& b);

 private:
  std::vector<uint8_t> data_;
};

}  // namespace byok
