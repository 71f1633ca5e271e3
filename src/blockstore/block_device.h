// BlockDevice: what the NBD server (nbd/server.h) serves — a byte-addressed block device.
//
// Offsets and lengths are in bytes; any range inside [0, size()) is valid (implementations do
// read-modify-write for partial sectors). preferred_block_size() is the sector size (4096 for
// byok disks), which the NBD server advertises as the preferred block size.
//
// Errors: OutOfRange (range past the end), FailedPrecondition (the device is locked: its key was
// revoked, or it was detached — NBD replies EIO... see nbd/server.h for the errno mapping),
// DataLoss/Internal (I/O errors). A failed write leaves every sector either old or new content.
//
// Durability: Write with fua=true, and Flush, return only once the data (and what it depends on)
// is on stable storage (fdatasync).
//
// Thread safety: every method may be called concurrently from several threads (several requests
// of one NBD connection are served in parallel); concurrent overlapping writes land in some order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"

namespace byok::blockstore {

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  virtual uint64_t size() const = 0;
  virtual uint32_t preferred_block_size() const = 0;

  // Fills `out` with the bytes at [offset, offset + out.size()).
  virtual Status Read(uint64_t offset, std::span<uint8_t> out) = 0;
  // Writes `data` at offset. The device MAY use `data` as scratch space (encrypt in place): its
  // contents are unspecified afterwards. This saves a copy per write on the hot path.
  virtual Status Write(uint64_t offset, std::span<uint8_t> data, bool fua) = 0;
  virtual Status Flush() = 0;
  // Discards the range: afterwards it reads as zeros (whole sectors become holes in the file).
  virtual Status Trim(uint64_t offset, uint64_t length, bool fua) = 0;
  virtual Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) = 0;
};

}  // namespace byok::blockstore
