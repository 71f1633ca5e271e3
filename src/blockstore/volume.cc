#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "blockstore/disk_file.h"
#include "blockstore/volume_impl.h"

namespace byok::blockstore {

using crypto::XtsCodec;
using internal::ErrnoStatus;
using internal::PreadFull;
using internal::PwriteFull;

// A fixed set of codec sets (one XtsCodec per layer, in layer order), leased one per I/O.
class CodecPool {
 private:
  struct alignas(64) Slot {
    std::atomic<bool> busy{false};
    std::vector<XtsCodec> codecs;
  };

 public:
  // deks: one 64-byte key per layer, in application order. Copies nothing but the OpenSSL key
  // schedules; the caller wipes `deks`.
  static Result<std::unique_ptr<CodecPool>> Create(const std::vector<SecretBytes>& deks,
                                                   size_t count) {
    auto pool = std::unique_ptr<CodecPool>(new CodecPool(count));
    for (const SecretBytes& dek : deks) {
      BYOK_ASSIGN_OR_RETURN(XtsCodec codec, XtsCodec::Create(dek.span()));
      pool->slots_[0].codecs.push_back(std::move(codec));
    }
    for (size_t i = 1; i < count; ++i) {
      for (const XtsCodec& proto : pool->slots_[0].codecs) {
        BYOK_ASSIGN_OR_RETURN(XtsCodec codec, proto.Clone());
        pool->slots_[i].codecs.push_back(std::move(codec));
      }
    }
    return pool;
  }

  class Lease {
   public:
    explicit Lease(CodecPool& pool) : slot_(pool.Acquire()) {}
    ~Lease() { slot_->busy.store(false, std::memory_order_release); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    std::span<XtsCodec> codecs() { return slot_->codecs; }

   private:
    Slot* slot_;
  };

 private:
  explicit CodecPool(size_t count) : slots_(new Slot[count]), count_(count) {}

  Slot* Acquire() {
    static std::atomic<unsigned> next_thread{0};
    thread_local const unsigned start = next_thread.fetch_add(1, std::memory_order_relaxed);
    for (;;) {
      for (size_t i = 0; i < count_; ++i) {
        Slot& s = slots_[(start + i) % count_];
        if (!s.busy.load(std::memory_order_relaxed) &&
            !s.busy.exchange(true, std::memory_order_acquire)) {
          return &s;
        }
      }
      std::this_thread::yield();  // more concurrent I/Os than codec sets: wait for one
    }
  }

  std::unique_ptr<Slot[]> slots_;
  size_t count_;
};

namespace {

size_t PoolSize() {
  size_t n = 2 * static_cast<size_t>(std::thread::hardware_concurrency());
  return std::clamp<size_t>(n, 4, 64);
}

// Whether a 4 KiB sector is all zero (a hole). Stops at the first non-zero 64 bytes, so random
// ciphertext costs one cache line.
bool AllZero(const uint8_t* p) {
  for (size_t i = 0; i < kSectorSize; i += 64) {
    uint64_t w[8];
    std::memcpy(w, p + i, sizeof w);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0) return false;
  }
  return true;
}

Status Decrypt(std::span<XtsCodec> codecs, uint64_t sector, uint8_t* buf) {
  for (size_t i = codecs.size(); i-- > 0;) {  // outermost layer first
    BYOK_TRY(codecs[i].DecryptSector(sector, buf, buf, kSectorSize));
  }
  return Status::Ok();
}

Status Encrypt(std::span<XtsCodec> codecs, uint64_t sector, uint8_t* buf) {
  for (XtsCodec& codec : codecs) {  // layers[0] (customer) first, then the platform layer
    BYOK_TRY(codec.EncryptSector(sector, buf, buf, kSectorSize));
  }
  return Status::Ok();
}

constexpr uint8_t kZeros[64 * 1024] = {};

}  // namespace

// --- Volume::Impl -------------------------------------------------------------------------------

Volume::Impl::Impl(std::string disk_id, std::string path, int fd, KeyWrapper* wrapper,
                   const DiskHeader& header)
    : disk_id_(std::move(disk_id)),
      path_(std::move(path)),
      fd_(fd),
      wrapper_(wrapper),
      data_offset_(header.data_offset),
      size_(header.size_bytes) {}

Volume::Impl::~Impl() {
  {
    std::unique_lock lock(state_mu_);
    pool_.reset();
  }
  ::close(fd_);
}

Status Volume::Impl::CheckRange(uint64_t offset, uint64_t length) const {
  uint64_t size = this->size();
  if (offset > size || length > size - offset) {
    return Status::OutOfRange(fmt::format("disk {}: range {}+{} is past the end ({} bytes)",
                                          disk_id_, offset, length, size));
  }
  return Status::Ok();
}

Status Volume::Impl::LockedError() const {
  std::lock_guard lock(reason_mu_);
  return Status::FailedPrecondition(fmt::format("disk {} is locked: {}", disk_id_, reason_));
}

Status Volume::Impl::ReadSector(std::span<XtsCodec> codecs, uint64_t sector, uint8_t* buf) {
  BYOK_TRY(PreadFull(fd_, buf, kSectorSize, data_offset_ + sector * kSectorSize, path_));
  if (AllZero(buf)) return Status::Ok();  // a hole: plaintext zeros
  return Decrypt(codecs, sector, buf);
}

Status Volume::Impl::ReadModifyWrite(std::span<XtsCodec> codecs, uint64_t sector, size_t in_off,
                                     const uint8_t* src, size_t n) {
  alignas(64) uint8_t bounce[kSectorSize];
  std::lock_guard stripe(stripes_[sector % kStripes]);
  Status s = ReadSector(codecs, sector, bounce);
  if (s.ok()) {
    if (src != nullptr) {
      std::memcpy(bounce + in_off, src, n);
    } else {
      std::memset(bounce + in_off, 0, n);
    }
    s = Encrypt(codecs, sector, bounce);
  }
  if (s.ok()) {
    s = PwriteFull(fd_, bounce, kSectorSize, data_offset_ + sector * kSectorSize, path_);
  }
  return s;
}

Status Volume::Impl::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_);
  return Status::Ok();
}

Status Volume::Impl::Read(uint64_t offset, std::span<uint8_t> out) {
  BYOK_TRY(CheckRange(offset, out.size()));
  if (locked_.load(std::memory_order_acquire)) return LockedError();  // don't queue on a Lock
  std::shared_lock state(state_mu_);
  if (locked_.load(std::memory_order_acquire) || !pool_) return LockedError();
  if (out.empty()) return Status::Ok();
  CodecPool::Lease lease(*pool_);
  std::span<XtsCodec> codecs = lease.codecs();

  uint64_t pos = offset;
  uint8_t* dst = out.data();
  size_t left = out.size();
  if (size_t in = pos % kSectorSize; in != 0 || left < kSectorSize) {  // partial first sector
    alignas(64) uint8_t bounce[kSectorSize];
    size_t n = std::min<size_t>(kSectorSize - in, left);
    BYOK_TRY(ReadSector(codecs, pos / kSectorSize, bounce));
    std::memcpy(dst, bounce + in, n);
    pos += n;
    dst += n;
    left -= n;
  }
  if (size_t whole = left / kSectorSize * kSectorSize; whole > 0) {
    // Ciphertext straight into the caller's buffer, then decrypt in place.
    BYOK_TRY(PreadFull(fd_, dst, whole, data_offset_ + pos, path_));
    uint64_t sector = pos / kSectorSize;
    for (size_t off = 0; off < whole; off += kSectorSize, ++sector) {
      if (!AllZero(dst + off)) BYOK_TRY(Decrypt(codecs, sector, dst + off));
    }
    pos += whole;
    dst += whole;
    left -= whole;
  }
  if (left > 0) {  // partial last sector
    alignas(64) uint8_t bounce[kSectorSize];
    BYOK_TRY(ReadSector(codecs, pos / kSectorSize, bounce));
    std::memcpy(dst, bounce, left);
  }
  return Status::Ok();
}

Status Volume::Impl::Write(uint64_t offset, std::span<uint8_t> data, bool fua) {
  BYOK_TRY(CheckRange(offset, data.size()));
  if (locked_.load(std::memory_order_acquire)) return LockedError();  // don't queue on a Lock
  std::shared_lock state(state_mu_);
  if (locked_.load(std::memory_order_acquire) || !pool_) return LockedError();
  if (data.empty()) return fua ? Sync() : Status::Ok();
  CodecPool::Lease lease(*pool_);
  std::span<XtsCodec> codecs = lease.codecs();

  uint64_t pos = offset;
  uint8_t* src = data.data();
  size_t left = data.size();
  if (size_t in = pos % kSectorSize; in != 0 || left < kSectorSize) {
    size_t n = std::min<size_t>(kSectorSize - in, left);
    BYOK_TRY(ReadModifyWrite(codecs, pos / kSectorSize, in, src, n));
    pos += n;
    src += n;
    left -= n;
  }
  if (size_t whole = left / kSectorSize * kSectorSize; whole > 0) {
    // Encrypt in the caller's buffer (block_device.h allows it), then one pwrite.
    uint64_t sector = pos / kSectorSize;
    for (size_t off = 0; off < whole; off += kSectorSize, ++sector) {
      BYOK_TRY(Encrypt(codecs, sector, src + off));
    }
    BYOK_TRY(PwriteFull(fd_, src, whole, data_offset_ + pos, path_));
    pos += whole;
    src += whole;
    left -= whole;
  }
  if (left > 0) BYOK_TRY(ReadModifyWrite(codecs, pos / kSectorSize, 0, src, left));
  return fua ? Sync() : Status::Ok();
}

Status Volume::Impl::Flush() {
  if (locked_.load(std::memory_order_acquire)) return LockedError();  // don't queue on a Lock
  std::shared_lock state(state_mu_);
  if (locked_.load(std::memory_order_acquire) || !pool_) return LockedError();
  return Sync();
}

Status Volume::Impl::PunchHoles(uint64_t first_sector, uint64_t count) {
  uint64_t off = data_offset_ + first_sector * kSectorSize;
  uint64_t len = count * kSectorSize;
  for (;;) {
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                    static_cast<off_t>(len)) == 0) {
      return Status::Ok();
    }
    if (errno == EINTR) continue;
    if (errno != EOPNOTSUPP) return ErrnoStatus("punch hole in", path_);
    break;
  }
  // No hole punching on this file system: zero ciphertext reads as zeros too.
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, sizeof kZeros));
    BYOK_TRY(PwriteFull(fd_, kZeros, n, off, path_));
    off += n;
    len -= n;
  }
  return Status::Ok();
}

Status Volume::Impl::Discard(uint64_t offset, uint64_t length, bool fua) {
  BYOK_TRY(CheckRange(offset, length));
  if (locked_.load(std::memory_order_acquire)) return LockedError();  // don't queue on a Lock
  std::shared_lock state(state_mu_);
  if (locked_.load(std::memory_order_acquire) || !pool_) return LockedError();
  uint64_t pos = offset;
  uint64_t left = length;
  if (size_t in = pos % kSectorSize; left > 0 && (in != 0 || left < kSectorSize)) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kSectorSize - in, left));
    CodecPool::Lease lease(*pool_);
    BYOK_TRY(ReadModifyWrite(lease.codecs(), pos / kSectorSize, in, nullptr, n));
    pos += n;
    left -= n;
  }
  if (uint64_t whole = left / kSectorSize; whole > 0) {
    BYOK_TRY(PunchHoles(pos / kSectorSize, whole));
    pos += whole * kSectorSize;
    left -= whole * kSectorSize;
  }
  if (left > 0) {
    CodecPool::Lease lease(*pool_);
    BYOK_TRY(
        ReadModifyWrite(lease.codecs(), pos / kSectorSize, 0, nullptr, static_cast<size_t>(left)));
  }
  return fua ? Sync() : Status::Ok();
}

void Volume::Impl::Lock(std::string reason) {
  {
    std::lock_guard lock(reason_mu_);
    reason_ = std::move(reason);
  }
  lock_epoch_.fetch_add(1, std::memory_order_acq_rel);
  locked_.store(true, std::memory_order_release);  // new I/O fails now; in-flight I/O finishes
  std::unique_lock state(state_mu_);
  locked_.store(true, std::memory_order_release);  // an Unlock may have run in between
  pool_.reset();                                   // frees the contexts: key schedules wiped
}

Status Volume::Impl::Unlock() {
  std::lock_guard serial(unlock_mu_);
  if (deleted_.load(std::memory_order_acquire)) {
    return Status::FailedPrecondition(fmt::format("disk {} was deleted", disk_id_));
  }
  uint64_t epoch = lock_epoch_.load(std::memory_order_acquire);
  {
    std::shared_lock state(state_mu_);
    if (!locked_.load(std::memory_order_acquire) && pool_) return Status::Ok();
  }
  BYOK_ASSIGN_OR_RETURN(internal::HeaderState hs, internal::ReadHeaderFromFd(fd_, path_));
  std::vector<SecretBytes> deks;
  for (const WrappedDek& layer : hs.header.layers) {
    BYOK_ASSIGN_OR_RETURN(SecretBytes dek, wrapper_->Unwrap(layer));
    if (dek.size() != XtsCodec::kKeySize) {
      return Status::DataLoss(fmt::format("disk {}: the {} layer's key has the wrong size",
                                          disk_id_, LayerName(layer.key.layer)));
    }
    deks.push_back(std::move(dek));
  }
  BYOK_ASSIGN_OR_RETURN(std::unique_ptr<CodecPool> pool, CodecPool::Create(deks, PoolSize()));
  deks.clear();  // wipes the DEKs: from here on they live only in the codecs' contexts
  std::unique_lock state(state_mu_);
  if (lock_epoch_.load(std::memory_order_acquire) != epoch) {
    state.unlock();
    return LockedError();  // locked again while the keys were being unwrapped
  }
  pool_ = std::move(pool);
  uint64_t size = size_.load(std::memory_order_acquire);
  if (hs.header.size_bytes > size) size_.store(hs.header.size_bytes, std::memory_order_release);
  locked_.store(false, std::memory_order_release);
  return Status::Ok();
}

std::string Volume::Impl::lock_reason() const {
  if (!locked()) return "";
  std::lock_guard lock(reason_mu_);
  return reason_;
}

void Volume::Impl::GrowTo(uint64_t new_size) {
  uint64_t size = size_.load(std::memory_order_acquire);
  while (new_size > size && !size_.compare_exchange_weak(size, new_size)) {
  }
}

void Volume::Impl::MarkDeleted() {
  deleted_.store(true, std::memory_order_release);
  Lock("the disk was deleted");
}

// --- Volume ------------------------------------------------------------------------------------

Volume::Volume(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Volume::~Volume() = default;

uint64_t Volume::size() const { return impl_->size(); }
Status Volume::Read(uint64_t offset, std::span<uint8_t> out) { return impl_->Read(offset, out); }
Status Volume::Write(uint64_t offset, std::span<uint8_t> data, bool fua) {
  return impl_->Write(offset, data, fua);
}
Status Volume::Flush() { return impl_->Flush(); }
Status Volume::Trim(uint64_t offset, uint64_t length, bool fua) {
  return impl_->Discard(offset, length, fua);
}
Status Volume::WriteZeroes(uint64_t offset, uint64_t length, bool fua) {
  return impl_->Discard(offset, length, fua);
}
const std::string& Volume::disk_id() const { return impl_->disk_id(); }
void Volume::Lock(std::string reason) { impl_->Lock(std::move(reason)); }
Status Volume::Unlock() { return impl_->Unlock(); }
bool Volume::locked() const { return impl_->locked(); }
std::string Volume::lock_reason() const { return impl_->lock_reason(); }

}  // namespace byok::blockstore
