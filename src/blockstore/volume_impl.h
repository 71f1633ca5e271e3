// Internal to the blockstore module: Volume's implementation (see blockstore.h for the contract).
//
// State: `state_mu_` (a shared_mutex) guards the codec pool. Every I/O holds it shared for its
// duration; Lock takes it exclusively, which waits for in-flight I/O, then destroys the pool
// (freeing the OpenSSL contexts wipes the key schedules). `locked_` is set before Lock waits and
// I/O checks it before touching the shared_mutex (and again under it), so I/O arriving meanwhile
// fails at once instead of starving the Lock (glibc's rwlock prefers readers); Unlock takes the
// mutex exclusively only while `locked_` is set, so it is not starved either.
//
// Codecs: XtsCodec is not thread-safe, so an unlocked Volume owns a pool of codec sets (one codec
// per layer each), made at unlock. An I/O leases a free set with one atomic exchange (starting at
// a per-thread slot, so threads rarely collide): no heap allocation and no global lock per I/O.
//
// Partial sectors are read-modify-write through a stack bounce buffer, serialized per sector by
// striped mutexes; whole-sector writes take no lock (concurrent overlapping writes are unordered,
// as block_device.h allows).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "blockstore/blockstore.h"
#include "crypto/xts.h"

namespace byok::blockstore {

class CodecPool;

class Volume::Impl {
 public:
  // Takes ownership of `fd` (an O_RDWR descriptor of the disk file). Starts locked.
  Impl(std::string disk_id, std::string path, int fd, KeyWrapper* wrapper,
       const DiskHeader& header);
  ~Impl();

  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  const std::string& disk_id() const { return disk_id_; }

  Status Read(uint64_t offset, std::span<uint8_t> out);
  Status Write(uint64_t offset, std::span<uint8_t> data, bool fua);
  Status Flush();
  Status Discard(uint64_t offset, uint64_t length, bool fua);

  void Lock(std::string reason);
  Status Unlock();
  bool locked() const { return locked_.load(std::memory_order_acquire); }
  std::string lock_reason() const;

  // BlockStore hooks: the disk grew (Resize), the disk was deleted (Lock forever).
  void GrowTo(uint64_t new_size);
  void MarkDeleted();

 private:
  Status CheckRange(uint64_t offset, uint64_t length) const;
  Status LockedError() const;
  // One sector through the bounce buffer: read, decrypt, patch [in_off, in_off + n) with `src`
  // (zeros if null), encrypt, write. Holds the sector's stripe lock.
  Status ReadModifyWrite(std::span<crypto::XtsCodec> codecs, uint64_t sector, size_t in_off,
                         const uint8_t* src, size_t n);
  // Reads and decrypts one whole sector into `buf` (kSectorSize bytes).
  Status ReadSector(std::span<crypto::XtsCodec> codecs, uint64_t sector, uint8_t* buf);
  Status PunchHoles(uint64_t first_sector, uint64_t count);
  Status Sync();

  static constexpr size_t kStripes = 64;

  const std::string disk_id_;
  const std::string path_;
  const int fd_;
  KeyWrapper* const wrapper_;
  const uint64_t data_offset_;
  std::atomic<uint64_t> size_;

  mutable std::shared_mutex state_mu_;
  std::unique_ptr<CodecPool> pool_;  // null while locked; guarded by state_mu_
  std::atomic<bool> locked_{true};
  std::atomic<uint64_t> lock_epoch_{0};  // bumped by every Lock (detects a Lock during Unlock)
  std::atomic<bool> deleted_{false};

  mutable std::mutex reason_mu_;
  std::string reason_ = "not unlocked yet";  // guarded by reason_mu_

  std::mutex unlock_mu_;  // one Unlock at a time
  std::mutex stripes_[kStripes];
};

}  // namespace byok::blockstore
