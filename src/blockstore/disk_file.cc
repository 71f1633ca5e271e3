#include "blockstore/disk_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "blockstore/format.h"

namespace byok::blockstore::internal {
namespace {

// Closes a descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

Status ErrnoStatus(std::string_view what, std::string_view path) {
  int e = errno;
  std::string msg = fmt::format("{} {}: {}", what, path, std::strerror(e));
  switch (e) {
    case ENOENT:
      return Status::NotFound(std::move(msg));
    case EIO:
      return Status::DataLoss(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return Status::ResourceExhausted(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

Status PreadFull(int fd, uint8_t* buf, size_t len, uint64_t offset, std::string_view path) {
  while (len > 0) {
    ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path);
    }
    if (n == 0) {  // past the end of the file: reads as zeros, like a hole
      std::memset(buf, 0, len);
      return Status::Ok();
    }
    buf += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status PwriteFull(int fd, const uint8_t* buf, size_t len, uint64_t offset, std::string_view path) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, buf, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path);
    }
    buf += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Result<HeaderState> ReadHeaderFromFd(int fd, std::string_view path) {
  std::vector<uint8_t> buf(2 * kHeaderSlotSize);
  BYOK_TRY(PreadFull(fd, buf.data(), buf.size(), 0, path));
  HeaderState state;
  Status unsupported;
  bool found = false;
  for (int slot = 0; slot < 2; ++slot) {
    std::span<const uint8_t> bytes(buf.data() + HeaderSlotOffset(slot), kHeaderSlotSize);
    Result<DiskHeader> h = ParseHeaderSlot(bytes);
    SlotInfo& info = state.slots[slot];
    if (h.ok()) {
      info = {"valid", h->generation};
      if (!found || h->generation > state.header.generation) {
        state.header = std::move(*h);
        state.slot = slot;
        found = true;
      }
    } else if (h.status().Is(StatusCode::kNotFound)) {
      info.state = "empty";
    } else if (h.status().Is(StatusCode::kFailedPrecondition)) {
      info.state = "unsupported";
      unsupported = h.status();
    } else if (h.status().Is(StatusCode::kInternal)) {
      return h.status();
    } else {
      info.state = "corrupt";
    }
  }
  // A slot written by a newer byok means the other slot may be stale: refuse rather than roll
  // the disk back.
  if (!unsupported.ok()) return unsupported.WithContext(path);
  if (!found) return Status::DataLoss(fmt::format("{}: no valid disk header", path));
  return state;
}

Status WriteHeaderSlot(int fd, const DiskHeader& header, int slot, std::string_view path) {
  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, EncodeHeaderSlot(header));
  BYOK_TRY(PwriteFull(fd, bytes.data(), bytes.size(), HeaderSlotOffset(slot), path));
  if (::fdatasync(fd) != 0) return ErrnoStatus("fdatasync", path);
  return Status::Ok();
}

Result<DiskHeader> UpdateHeader(const std::string& path,
                                const std::function<Result<bool>(DiskHeader&, int fd)>& change) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path);
  FdCloser closer(fd);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus("lock", path);
  }
  // The lock is released when the descriptor is closed.
  BYOK_ASSIGN_OR_RETURN(HeaderState state, ReadHeaderFromFd(fd, path));
  DiskHeader header = state.header;
  BYOK_ASSIGN_OR_RETURN(bool changed, change(header, fd));
  if (!changed) return state.header;
  header.generation = state.header.generation + 1;
  BYOK_TRY(WriteHeaderSlot(fd, header, 1 - state.slot, path));
  return header;
}

}  // namespace byok::blockstore::internal
