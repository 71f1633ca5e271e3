// The on-disk header of a byok disk file (docs/formats/disk.md is the authoritative description).
//
// A disk file starts with two header slots, A at byte 0 and B at byte kHeaderSlotSize; sector 0
// of the data area is at the header's data_offset (kDefaultDataOffset = 1 MiB for new disks).
// A slot is framed as
//   [0,8) magic "BYOKDISK" | [8,12) format version (u32 LE) | [12,16) body length n (u32 LE)
//   [16,24) generation (u64 LE) | [24,32) reserved, zero | [32,32+n) body: UTF-8 JSON
//   [32+n,64+n) SHA-256 of bytes [0,32+n) | zero padding up to kHeaderSlotSize.
// The valid slot with the highest generation is the header; an update writes the other slot
// (the older or damaged one) and fdatasyncs, so a torn write leaves the previous header in force.
//
// ParseHeaderSlot is the parser for untrusted bytes (fuzz/disk_header_fuzz.cc): it never reads
// outside `slot` and never throws. EncodeHeaderSlot is its inverse.
//
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "blockstore/blockstore.h"
#include "common/status.h"

namespace byok::blockstore {

inline constexpr std::string_view kHeaderMagic = "BYOKDISK";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeaderSlotSize = 64 * 1024;
inline constexpr size_t kSlotPrefixSize = 32;
inline constexpr size_t kSlotChecksumSize = 32;
inline constexpr size_t kMaxHeaderBody = kHeaderSlotSize - kSlotPrefixSize - kSlotChecksumSize;
inline constexpr uint64_t kDefaultDataOffset = 1024 * 1024;
inline constexpr uint64_t kMaxDiskSize = uint64_t{64} << 40;   // 64 TiB, Azure's largest disk
inline constexpr uint64_t kMaxDataOffset = uint64_t{1} << 30;  // sanity bound for parsers
inline constexpr size_t kMaxWrappedDek = 4096;                 // bytes (RSA-4096 needs 512)
inline constexpr size_t kMaxDiskIdLength = 128;
inline constexpr std::string_view kCipherName = "AES-256-XTS";

// Byte offset of slot 0 (A) and 1 (B).
inline constexpr uint64_t HeaderSlotOffset(int slot) {
  return static_cast<uint64_t>(slot) * kHeaderSlotSize;
}

// Whether `id` is acceptable as a disk id (it names the file): 1..128 of [A-Za-z0-9._-], not
// starting with '.'.
bool ValidDiskId(std::string_view id);

// Checks a header's fields as ParseHeaderSlot does (InvalidArgument with the reason).
Status ValidateHeader(const DiskHeader& header);

// Parses one slot (at least its framed bytes; trailing padding may be absent).
//   NotFound           the slot was never written (magic all zero)
//   DataLoss           bad magic, length, checksum, JSON or field (a torn or corrupt slot)
//   FailedPrecondition a format version this build does not know (written by a newer byok)
// On success the generation comes from the frame.
Result<DiskHeader> ParseHeaderSlot(std::span<const uint8_t> slot);

// A full slot (kHeaderSlotSize bytes) framing `body` as-is (current format version, checksum).
// InvalidArgument if the body is larger than kMaxHeaderBody. (EncodeHeaderSlot uses it; the fuzz
// target frames arbitrary bodies with it to reach the JSON parser behind the checksum.)
Result<std::vector<uint8_t>> FrameHeaderSlot(std::span<const uint8_t> body, uint64_t generation);

// A full slot (kHeaderSlotSize bytes) for `header`. InvalidArgument if the header is invalid or
// its body would not fit.
Result<std::vector<uint8_t>> EncodeHeaderSlot(const DiskHeader& header);

// The customer key's version (last path segment of its key URL), the platform key's version
// ("v1" of "platform:v1"); empty if there is none.
std::string KeyVersionOf(const KeyRef& key);

}  // namespace byok::blockstore
