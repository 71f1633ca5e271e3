// GenerationCache: a small in-memory cache of documents read from the store, valid only while
// Store::change_generation() keeps the value it had when they were read (store.h).
//
// Use: read `generation = store.change_generation()` BEFORE reading the store; on a miss, read,
// then Insert(key, generation, value). Find(key, store.change_generation()) returns the value
// only if it was inserted under that same generation. Any committed write of this process
// (except cache-neutral ones) therefore invalidates every entry at once: coarse, but exact, and
// writes are rare next to the reads this serves (Key Vault crypto operations, for which a store
// transaction and five JSON documents cost more than the whole of HTTP and TLS).
// Store::kNoChangeGeneration disables the cache (stores shared between processes).
//
// Bounded: at `capacity` entries an Insert first drops every stale entry, then, if still full,
// everything. Values are shared immutable objects: a caller may keep using one after it is
// evicted. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "store/store.h"

namespace byok::store {

template <typename V>
class GenerationCache {
 public:
  explicit GenerationCache(size_t capacity = 4096) : capacity_(capacity) {}

  std::shared_ptr<const V> Find(const std::string& key, uint64_t generation) const {
    if (generation == Store::kNoChangeGeneration) return nullptr;
    std::shared_lock lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end() || it->second.generation != generation) return nullptr;
    return it->second.value;
  }

  void Insert(const std::string& key, uint64_t generation, std::shared_ptr<const V> value) {
    if (generation == Store::kNoChangeGeneration || capacity_ == 0) return;
    std::unique_lock lock(mu_);
    if (map_.size() >= capacity_ && !map_.contains(key)) {
      std::erase_if(map_, [&](const auto& kv) { return kv.second.generation != generation; });
      if (map_.size() >= capacity_) map_.clear();
    }
    map_[key] = Entry{generation, std::move(value)};
  }

  void Clear() {
    std::unique_lock lock(mu_);
    map_.clear();
  }

 private:
  struct Entry {
    uint64_t generation = 0;
    std::shared_ptr<const V> value;
  };
  const size_t capacity_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> map_;
};

}  // namespace byok::store
