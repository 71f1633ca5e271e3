#include "nbd/buffer_pool.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <utility>

namespace byok::nbd {

AlignedBuffer::AlignedBuffer(size_t capacity) {
  data_ = static_cast<uint8_t*>(std::aligned_alloc(kBufferAlignment, capacity));
  capacity_ = data_ ? capacity : 0;
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

namespace {

// Size class i holds buffers of 4 KiB << i.
size_t ClassOf(size_t capacity) {
  return static_cast<size_t>(std::countr_zero(capacity) - std::countr_zero(kBufferAlignment));
}

}  // namespace

AlignedBuffer BufferPool::Get(size_t size) {
  size_t capacity = std::bit_ceil(std::max(size, kBufferAlignment));
  size_t cls = ClassOf(capacity);
  if (cls < kClasses && !free_[cls].empty()) {
    AlignedBuffer b = std::move(free_[cls].back());
    free_[cls].pop_back();
    cached_bytes_ -= b.capacity();
    return b;
  }
  return AlignedBuffer(capacity);
}

void BufferPool::Put(AlignedBuffer buffer) {
  size_t capacity = buffer.capacity();
  if (capacity == 0 || !std::has_single_bit(capacity)) return;
  size_t cls = ClassOf(capacity);
  if (cls >= kClasses || cached_bytes_ + capacity > max_cached_bytes_) return;  // freed
  cached_bytes_ += capacity;
  free_[cls].push_back(std::move(buffer));
}

}  // namespace byok::nbd
