// Internal to the blockstore module: file-level helpers for disk files (POSIX I/O with errno
// mapping, reading the newest header slot, crash-safe header updates). Not a public header.
//
// Thread safety: stateless; UpdateHeader serializes writers of one file with flock(2), which also
// excludes other processes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "blockstore/blockstore.h"
#include "common/status.h"

namespace byok::blockstore::internal {

// A Status for the current errno: ENOENT → NotFound, EIO → DataLoss, ENOSPC/EDQUOT →
// ResourceExhausted, else Internal. Message "<what> <path>: <strerror>".
Status ErrnoStatus(std::string_view what, std::string_view path);

// pread/pwrite the whole range (retrying EINTR and short transfers). PreadFull zero-fills what
// lies past the end of the file.
Status PreadFull(int fd, uint8_t* buf, size_t len, uint64_t offset, std::string_view path);
Status PwriteFull(int fd, const uint8_t* buf, size_t len, uint64_t offset, std::string_view path);

// What a header slot holds (for inspect).
struct SlotInfo {
  std::string state;  // "valid" | "empty" | "corrupt" | "unsupported"
  uint64_t generation = 0;
};

struct HeaderState {
  DiskHeader header;
  int slot = 0;  // the slot the header came from (0 = A, 1 = B)
  SlotInfo slots[2];
};

// Reads both slots and returns the newest valid one. DataLoss if neither is valid;
// FailedPrecondition if a slot has a format version newer than this build reads.
Result<HeaderState> ReadHeaderFromFd(int fd, std::string_view path);

// Writes `header` (its generation already set) to `slot`, then fdatasync.
Status WriteHeaderSlot(int fd, const DiskHeader& header, int slot, std::string_view path);

// Read-modify-write of a disk file's header under flock(LOCK_EX): `change` edits the header (it
// gets the file's descriptor too, e.g. to grow the file) and returns whether it changed anything;
// if so the header gets generation + 1 and is written to the slot that does not hold the current
// header (so a torn write leaves the current one valid). Returns the header in force afterwards.
Result<DiskHeader> UpdateHeader(const std::string& path,
                                const std::function<Result<bool>(DiskHeader&, int fd)>& change);

}  // namespace byok::blockstore::internal
