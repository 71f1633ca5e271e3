// AlignedBuffer and BufferPool (internal to nbd): the 4 KiB-aligned I/O buffers of a connection.
//
// A BufferPool keeps released buffers on free lists by size class (powers of two, 4 KiB and up)
// and hands them out again, so a connection in steady state allocates nothing per request. It
// keeps at most max_cached_bytes of free buffers; beyond that, released buffers are freed.
//
// Thread safety: AlignedBuffer is a move-only value; a BufferPool is NOT thread-safe (the
// connection guards it with its own mutex).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace byok::nbd {

inline constexpr size_t kBufferAlignment = 4096;

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // capacity: a multiple of kBufferAlignment. On allocation failure, data() is null.
  explicit AlignedBuffer(size_t capacity);
  ~AlignedBuffer();
  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
};

class BufferPool {
 public:
  explicit BufferPool(size_t max_cached_bytes) : max_cached_bytes_(max_cached_bytes) {}

  // A buffer of at least `size` bytes (capacity rounded up to a power of two ≥ 4 KiB); its
  // data() is null if memory ran out.
  AlignedBuffer Get(size_t size);
  void Put(AlignedBuffer buffer);

  size_t cached_bytes() const { return cached_bytes_; }

 private:
  static constexpr size_t kClasses = 21;  // 4 KiB .. 4 GiB
  const size_t max_cached_bytes_;
  size_t cached_bytes_ = 0;
  std::array<std::vector<AlignedBuffer>, kClasses> free_;
};

}  // namespace byok::nbd
