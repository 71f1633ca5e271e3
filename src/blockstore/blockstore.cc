#include "blockstore/blockstore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "blockstore/disk_file.h"
#include "blockstore/format.h"
#include "blockstore/inspect.h"
#include "blockstore/volume_impl.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/files.h"
#include "crypto/xts.h"

namespace byok::blockstore {

using internal::ErrnoStatus;

namespace {

Status CheckDiskId(const std::string& disk_id) {
  if (!ValidDiskId(disk_id)) {
    return Status::InvalidArgument(
        "a disk id is 1 to 128 letters, digits, '.', '_' or '-' and does not start with '.'");
  }
  return Status::Ok();
}

Status CheckSize(uint64_t size_bytes) {
  if (size_bytes == 0 || size_bytes % kSectorSize != 0 || size_bytes > kMaxDiskSize) {
    return Status::InvalidArgument(
        "the disk size must be a positive multiple of 4096 bytes, at most 64 TiB");
  }
  return Status::Ok();
}

Status CheckLayers(const std::vector<KeyRef>& layers) {
  if (layers.size() == 1) return Status::Ok();
  if (layers.size() == 2 && layers[0].layer == Layer::kCustomer &&
      layers[1].layer == Layer::kPlatform) {
    return Status::Ok();
  }
  return Status::InvalidArgument(
      "a disk has one encryption layer, or two: a customer layer, then a platform layer");
}

void SyncDirectory(const std::string& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

class BlockStore::Impl {
 public:
  explicit Impl(Options options) : o_(std::move(options)) {
    if (o_.random == nullptr) o_.random = &CryptoRandom();
    if (!o_.now_rfc3339) {
      o_.now_rfc3339 = [] { return FormatAzureTime(std::chrono::system_clock::now()); };
    }
  }

  std::string PathOf(const std::string& disk_id) const {
    return fmt::format("{}/{}.disk", o_.directory, disk_id);
  }

  Status Create(const std::string& disk_id, uint64_t size_bytes,
                const std::vector<KeyRef>& layers) {
    BYOK_TRY(CheckDiskId(disk_id));
    BYOK_TRY(CheckSize(size_bytes));
    BYOK_TRY(CheckLayers(layers));
    if (o_.wrapper == nullptr) return Status::FailedPrecondition("no key wrapper configured");
    BYOK_TRY(EnsureDirectory(o_.directory));
    std::string path = PathOf(disk_id);
    if (FileExists(path)) return Status::AlreadyExists(fmt::format("disk {} exists", disk_id));

    DiskHeader header;
    header.disk_id = disk_id;
    header.size_bytes = size_bytes;
    header.data_offset = kDefaultDataOffset;
    header.generation = 1;
    header.created = o_.now_rfc3339();
    for (const KeyRef& key : layers) {
      SecretBytes dek(crypto::XtsCodec::kKeySize);
      o_.random->Fill(dek.span());
      // XTS forbids equal halves (only a broken RNG could produce them).
      if (std::equal(dek.data(), dek.data() + 32, dek.data() + 32)) {
        return Status::Internal("the random generator returned a degenerate key");
      }
      BYOK_ASSIGN_OR_RETURN(WrappedDek wrapped, o_.wrapper->Wrap(key, dek.span()));
      if (wrapped.key.layer != key.layer) {
        return Status::Internal("the key wrapper returned a key of another layer");
      }
      header.layers.push_back(std::move(wrapped));
    }
    BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> slot, EncodeHeaderSlot(header));

    // Build the file under a temporary name, then link(2) it into place: a crash leaves either no
    // disk or a complete one, and link fails if a concurrent Create won.
    std::string tmp =
        fmt::format("{}/.{}.disk.tmp-{}", o_.directory, disk_id, HexEncode(o_.random->Bytes(6)));
    int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("create", tmp);
    Status s = internal::PwriteFull(fd, slot.data(), slot.size(), HeaderSlotOffset(0), tmp);
    if (s.ok() && ::ftruncate(fd, static_cast<off_t>(header.data_offset + size_bytes)) != 0) {
      s = ErrnoStatus("size", tmp);
    }
    if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("fsync", tmp);
    ::close(fd);
    if (s.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
      s = errno == EEXIST ? Status::AlreadyExists(fmt::format("disk {} exists", disk_id))
                          : ErrnoStatus("link", path);
    }
    ::unlink(tmp.c_str());
    if (!s.ok()) return s;
    SyncDirectory(o_.directory);
    return Status::Ok();
  }

  Result<std::shared_ptr<Volume>> Open(const std::string& disk_id) {
    BYOK_TRY(CheckDiskId(disk_id));
    if (o_.wrapper == nullptr) return Status::FailedPrecondition("no key wrapper configured");
    std::shared_ptr<Volume> volume;
    {
      std::lock_guard lock(mu_);
      auto it = open_.find(disk_id);
      if (it != open_.end()) volume = it->second.volume.lock();
      if (!volume) {
        std::string path = PathOf(disk_id);
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) {
          if (errno == ENOENT) return Status::NotFound(fmt::format("disk {} not found", disk_id));
          return ErrnoStatus("open", path);
        }
        Result<internal::HeaderState> hs = internal::ReadHeaderFromFd(fd, path);
        if (!hs.ok()) {
          ::close(fd);
          return hs.status();
        }
        auto impl = std::make_unique<Volume::Impl>(disk_id, path, fd, o_.wrapper, hs->header);
        Volume::Impl* raw = impl.get();
        volume = std::make_shared<Volume>(std::move(impl));
        open_[disk_id] = Entry{volume, raw};
        PruneLocked();
      }
    }
    // Unwrapping may call Key Vault: outside the map lock.
    BYOK_TRY(volume->Unlock());
    return volume;
  }

  Status Rewrap(const std::string& disk_id, Layer layer, const KeyRef& new_key) {
    BYOK_TRY(CheckDiskId(disk_id));
    if (new_key.layer != layer) {
      return Status::InvalidArgument("the new key belongs to another encryption layer");
    }
    if (o_.wrapper == nullptr) return Status::FailedPrecondition("no key wrapper configured");
    auto change = [&](DiskHeader& h, int) -> Result<bool> {
      for (WrappedDek& w : h.layers) {
        if (w.key.layer != layer) continue;
        if (w.key.key_id == new_key.key_id && w.key.des_id == new_key.des_id) return false;
        BYOK_ASSIGN_OR_RETURN(SecretBytes dek, o_.wrapper->Unwrap(w));
        BYOK_ASSIGN_OR_RETURN(WrappedDek rewrapped, o_.wrapper->Wrap(new_key, dek.span()));
        if (rewrapped.key.layer != layer) {
          return Status::Internal("the key wrapper returned a key of another layer");
        }
        w = std::move(rewrapped);
        return true;
      }
      return Status::FailedPrecondition(
          fmt::format("disk {} has no {} encryption layer", disk_id, LayerName(layer)));
    };
    return WithHeader(disk_id, change);
  }

  Status Resize(const std::string& disk_id, uint64_t new_size) {
    BYOK_TRY(CheckDiskId(disk_id));
    BYOK_TRY(CheckSize(new_size));
    auto change = [&](DiskHeader& h, int fd) -> Result<bool> {
      if (new_size == h.size_bytes) return false;
      if (new_size < h.size_bytes) {
        return Status::InvalidArgument(fmt::format("disk {} cannot shrink from {} to {} bytes",
                                                   disk_id, h.size_bytes, new_size));
      }
      // Grow the file first: a crash before the header write leaves unused room, nothing else.
      if (::ftruncate(fd, static_cast<off_t>(h.data_offset + new_size)) != 0) {
        return ErrnoStatus("resize", PathOf(disk_id));
      }
      h.size_bytes = new_size;
      return true;
    };
    BYOK_TRY(WithHeader(disk_id, change));
    Entry live = Live(disk_id);
    if (std::shared_ptr<Volume> v = live.volume.lock()) live.impl->GrowTo(new_size);
    return Status::Ok();
  }

  Status Delete(const std::string& disk_id) {
    BYOK_TRY(CheckDiskId(disk_id));
    Entry live;
    {
      std::lock_guard lock(mu_);
      auto it = open_.find(disk_id);
      if (it != open_.end()) {
        live = it->second;
        open_.erase(it);
      }
    }
    if (std::shared_ptr<Volume> v = live.volume.lock()) live.impl->MarkDeleted();
    std::string path = PathOf(disk_id);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("delete", path);
    SyncDirectory(o_.directory);
    return Status::Ok();
  }

  Result<DiskHeader> ReadHeader(const std::string& disk_id) const {
    BYOK_TRY(CheckDiskId(disk_id));
    std::string path = PathOf(disk_id);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(fmt::format("disk {} not found", disk_id));
      return ErrnoStatus("open", path);
    }
    Result<internal::HeaderState> hs = internal::ReadHeaderFromFd(fd, path);
    ::close(fd);
    if (!hs.ok()) return hs.status();
    return std::move(hs->header);
  }

  Result<nlohmann::json> Inspect(const std::string& disk_id, const InspectOptions& options) const {
    BYOK_TRY(CheckDiskId(disk_id));
    std::string path = PathOf(disk_id);
    if (!FileExists(path)) return Status::NotFound(fmt::format("disk {} not found", disk_id));
    return internal::InspectDiskFile(path, options);
  }

 private:
  Status WithHeader(const std::string& disk_id,
                    const std::function<Result<bool>(DiskHeader&, int)>& change) {
    std::string path = PathOf(disk_id);
    if (!FileExists(path)) return Status::NotFound(fmt::format("disk {} not found", disk_id));
    Result<DiskHeader> h = internal::UpdateHeader(path, change);
    return h.status();
  }

  // A live Volume and its Impl (valid while a shared_ptr from `volume` is held).
  struct Entry {
    std::weak_ptr<Volume> volume;
    Volume::Impl* impl = nullptr;
  };

  Entry Live(const std::string& disk_id) {
    std::lock_guard lock(mu_);
    auto it = open_.find(disk_id);
    return it == open_.end() ? Entry{} : it->second;
  }

  // Drops entries of Volumes that are gone. REQUIRES: mu_ held.
  void PruneLocked() {
    for (auto it = open_.begin(); it != open_.end();) {
      it = it->second.volume.expired() ? open_.erase(it) : std::next(it);
    }
  }

  Options o_;
  std::mutex mu_;
  std::map<std::string, Entry> open_;  // guarded by mu_
};

BlockStore::BlockStore(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
BlockStore::~BlockStore() = default;

Status BlockStore::Create(const std::string& disk_id, uint64_t size_bytes,
                          const std::vector<KeyRef>& layers) {
  return impl_->Create(disk_id, size_bytes, layers);
}
Result<std::shared_ptr<Volume>> BlockStore::Open(const std::string& disk_id) {
  return impl_->Open(disk_id);
}
Status BlockStore::Rewrap(const std::string& disk_id, Layer layer, const KeyRef& new_key) {
  return impl_->Rewrap(disk_id, layer, new_key);
}
Status BlockStore::Resize(const std::string& disk_id, uint64_t new_size_bytes) {
  return impl_->Resize(disk_id, new_size_bytes);
}
Status BlockStore::Delete(const std::string& disk_id) { return impl_->Delete(disk_id); }
Result<DiskHeader> BlockStore::ReadHeader(const std::string& disk_id) const {
  return impl_->ReadHeader(disk_id);
}
std::string BlockStore::PathOf(const std::string& disk_id) const { return impl_->PathOf(disk_id); }
Result<nlohmann::json> BlockStore::Inspect(const std::string& disk_id,
                                           const InspectOptions& options) const {
  return impl_->Inspect(disk_id, options);
}

}  // namespace byok::blockstore
