// BlockStore: byok's encrypted disk engine. One sparse file per disk under a directory, 4 KiB
// sectors, every sector encrypted with AES-256-XTS (crypto/xts.h; tweak = the sector number), a
// random 64-byte DEK per encryption layer (two independent layers for double encryption: the
// customer layer is applied first, then the platform layer). DEKs are stored only wrapped
// (key_wrapper.h) in the file's header; the format is docs/formats/disk.md.
//
// Lifecycle of a disk (all by disk id, a GUID chosen by the caller, the file "<id>.disk"):
//   Create  → new file: header with the wrapped DEK(s), data area all holes (reads as zeros).
//   Open    → unlock: unwrap each layer's DEK through the KeyWrapper, build the codecs, return a
//             Volume (a BlockDevice). The DEKs live only in the Volume's codecs while unlocked.
//   Volume::Lock → wipe the DEKs; I/O fails with FailedPrecondition until Unlock succeeds again.
//   Rewrap  → rotation: unwrap a layer's DEK under its current key, wrap it under a new KeyRef and
//             replace the header atomically (two header slots with a generation number and a
//             checksum; the newest valid slot wins). Data is not rewritten.
//   Resize  → grow only. Delete → remove the file (an open Volume is locked first).
// Never-written (or trimmed) sectors are holes and read as zeros without decryption; a 4 KiB
// ciphertext block of all zeros is treated as a hole (probability 2^-32768 of a false match).
//
// Thread safety: BlockStore methods and Volume I/O are thread-safe. At most one Volume per disk
// is open at a time within a BlockStore (Open returns the same Volume while it is alive).
// REQUIRES: the directory and the KeyWrapper outlive the BlockStore and every Volume.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "blockstore/block_device.h"
#include "blockstore/key_wrapper.h"
#include "common/random.h"
#include "common/secret.h"
#include "common/status.h"

namespace byok::blockstore {

inline constexpr uint32_t kSectorSize = 4096;

// Wraps platform-layer DEKs with AES-256 key wrap (RFC 3394) under a key derived from the root
// key (HKDF-SHA256, info "byok platform disk key v1"). key_id "platform:v1". For customer layers
// it delegates to `customer` (may be null: customer layers then fail with FailedPrecondition).
class PlatformKeyWrapper : public KeyWrapper {
 public:
  PlatformKeyWrapper(std::span<const uint8_t> root_key, KeyWrapper* customer);
  Result<WrappedDek> Wrap(const KeyRef& key, std::span<const uint8_t> dek) override;
  Result<SecretBytes> Unwrap(const WrappedDek& wrapped) override;

 private:
  SecretBytes kek_;
  KeyWrapper* customer_;
};

// A header as stored (no secrets).
struct DiskHeader {
  std::string disk_id;
  uint64_t size_bytes = 0;
  uint32_t sector_size = kSectorSize;
  uint64_t data_offset = 0;        // byte offset of sector 0 in the file
  uint64_t generation = 0;         // increments on every header write
  std::vector<WrappedDek> layers;  // application order: layers[0] first (innermost)
  std::string created;             // RFC 3339
};

class Volume : public BlockDevice {
 public:
  // BlockDevice: see block_device.h. Locked → FailedPrecondition "disk <id> is locked: <reason>".
  uint64_t size() const override;
  uint32_t preferred_block_size() const override { return kSectorSize; }
  Status Read(uint64_t offset, std::span<uint8_t> out) override;
  Status Write(uint64_t offset, std::span<uint8_t> data, bool fua) override;
  Status Flush() override;
  Status Trim(uint64_t offset, uint64_t length, bool fua) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) override;

  const std::string& disk_id() const;
  // Wipes the DEKs (waits for in-flight I/O). `reason` is reported by later I/O errors.
  void Lock(std::string reason);
  // Unwraps the DEKs again through the KeyWrapper; OK if already unlocked.
  Status Unlock();
  bool locked() const;
  std::string lock_reason() const;

  ~Volume() override;
  class Impl;
  explicit Volume(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

struct InspectOptions {
  std::optional<std::string> pattern;  // scan the raw file for these bytes (proof at rest)
};

class BlockStore {
 public:
  struct Options {
    std::string directory;          // created if missing
    KeyWrapper* wrapper = nullptr;  // wraps/unwraps every layer (usually a PlatformKeyWrapper)
    Random* random = nullptr;       // DEKs (a CSPRNG in production); null = CryptoRandom()
    std::function<std::string()> now_rfc3339;  // header timestamps; empty = the system clock
  };
  explicit BlockStore(Options options);
  ~BlockStore();

  // Creates the disk file. `layers`: one KeyRef (platform or customer) or two (customer, then
  // platform: double encryption). AlreadyExists if the file exists. size_bytes: a positive
  // multiple of kSectorSize.
  Status Create(const std::string& disk_id, uint64_t size_bytes, const std::vector<KeyRef>& layers);
  // Unlocks the disk (see the file comment); a live Volume that was locked is unlocked again.
  // NotFound if no such disk; DataLoss if its header is unreadable; the KeyWrapper's errors.
  Result<std::shared_ptr<Volume>> Open(const std::string& disk_id);
  // Replaces layer `layer`'s key: unwrap under the current key, wrap under `new_key`, write the
  // header atomically. No-op if the key id (and DES id) is unchanged. Works from the file: an
  // open Volume keeps serving I/O (its DEKs do not change). FailedPrecondition if the disk has
  // no such layer; InvalidArgument if new_key is of another layer.
  Status Rewrap(const std::string& disk_id, Layer layer, const KeyRef& new_key);
  Status Resize(const std::string& disk_id, uint64_t new_size_bytes);  // grow only
  Status Delete(const std::string& disk_id);                           // OK if missing
  Result<DiskHeader> ReadHeader(const std::string& disk_id) const;
  std::string PathOf(const std::string& disk_id) const;
  // `byok disk inspect`: header (layers, key ids and versions, algorithms, wrapped DEKs in
  // base64url), file path, sizes (logical, allocated), sector layout, and the at-rest proof:
  // {"pattern": {"searched", "found", "occurrences"}, "entropy_bits_per_byte", "sampled_bytes"}.
  // Needs no key. InvalidArgument for an empty, all-zero or over 64 KiB pattern. The object:
  //   disk_id, path, format_version, generation, created, size_bytes, file_size_bytes,
  //   allocated_bytes (st_blocks * 512), sector_size, sectors, data_offset, header_slots[2]
  //   {slot "A"|"B", offset, state "valid"|"empty"|"corrupt"|"unsupported", in_force,
  //   generation (valid slots)}, cipher "AES-256-XTS", tweak "sector number, 128-bit
  //   little-endian", sector_location "data_offset + sector * 4096",
  //   layers[] {order, layer, key_id, key_version, des_id, algorithm, wrapped (base64url)},
  //   proof {pattern {searched, found, occurrences (overlapping matches count), scanned_bytes}
  //   or null without InspectOptions::pattern, entropy_bits_per_byte, sampled_bytes}. The pattern
  //   scan covers every byte of the raw file (holes read as zeros); the entropy is over up to 64
  //   MiB of allocated data-area bytes, evenly spread.
  Result<nlohmann::json> Inspect(const std::string& disk_id, const InspectOptions& options) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byok::blockstore
