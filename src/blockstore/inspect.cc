#include "blockstore/inspect.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "blockstore/disk_file.h"
#include "blockstore/format.h"
#include "common/encoding.h"

namespace byok::blockstore::internal {
namespace {

constexpr size_t kChunk = 1024 * 1024;

// Counts (possibly overlapping) occurrences of a pattern in a byte stream fed in chunks. Bytes
// are read straight into Space(); the last pattern.size() - 1 bytes are carried over so matches
// across chunk boundaries are found exactly once.
class PatternCounter {
 public:
  explicit PatternCounter(std::string_view pattern)
      : pattern_(pattern), buf_(pattern.size() - 1 + kChunk) {}

  std::span<uint8_t> Space() { return {buf_.data() + carry_, kChunk}; }

  void Commit(size_t n) {
    size_t total = carry_ + n;
    const size_t m = pattern_.size();
    size_t start = 0;
    while (total - start >= m) {
      const void* hit = ::memmem(buf_.data() + start, total - start, pattern_.data(), m);
      if (hit == nullptr) break;
      ++occurrences_;
      start = static_cast<size_t>(static_cast<const uint8_t*>(hit) - buf_.data()) + 1;
    }
    carry_ = std::min(m - 1, total);
    std::memmove(buf_.data(), buf_.data() + total - carry_, carry_);
  }

  // A hole of `n` zero bytes. The pattern has a non-zero byte, so a match reaches at most
  // m - 1 bytes into a hole from either side: only those bytes need looking at.
  void FeedZeros(uint64_t n) {
    const uint64_t edge = pattern_.size() - 1;
    if (n <= 2 * edge) {
      FeedZeroBytes(static_cast<size_t>(n));
      return;
    }
    FeedZeroBytes(static_cast<size_t>(edge));
    carry_ = 0;  // nothing can match across the middle of the hole
    FeedZeroBytes(static_cast<size_t>(edge));
  }

  uint64_t occurrences() const { return occurrences_; }

 private:
  void FeedZeroBytes(size_t n) {
    while (n > 0) {
      size_t k = std::min(n, kChunk);
      std::memset(Space().data(), 0, k);
      Commit(k);
      n -= k;
    }
  }

  std::string_view pattern_;
  std::vector<uint8_t> buf_;
  size_t carry_ = 0;
  uint64_t occurrences_ = 0;
};

// Byte histogram of every k-th 4 KiB block of the allocated data area (evenly spread samples).
class EntropySampler {
 public:
  explicit EntropySampler(uint64_t allocated_data_bytes) {
    uint64_t blocks = (allocated_data_bytes + kSectorSize - 1) / kSectorSize;
    uint64_t limit_blocks = kEntropySampleLimit / kSectorSize;
    stride_ = std::max<uint64_t>(1, (blocks + limit_blocks - 1) / limit_blocks);
  }

  // `bytes` continue the allocated data-area stream.
  void Add(std::span<const uint8_t> bytes) {
    while (!bytes.empty()) {
      uint64_t block = pos_ / kSectorSize;
      size_t piece = std::min<size_t>(kSectorSize - pos_ % kSectorSize, bytes.size());
      if (block % stride_ == 0 && sampled_ < kEntropySampleLimit) {
        for (size_t i = 0; i < piece; ++i) ++hist_[bytes[i]];
        sampled_ += piece;
      }
      pos_ += piece;
      bytes = bytes.subspan(piece);
    }
  }

  // Bytes from the current position to the next sampled byte (0: the current byte is sampled),
  // and how many sampled bytes follow contiguously from here.
  uint64_t DistanceToSample() const {
    if (sampled_ >= kEntropySampleLimit) return UINT64_MAX;
    uint64_t block = pos_ / kSectorSize;
    if (block % stride_ == 0) return 0;
    return (stride_ - block % stride_) * kSectorSize - pos_ % kSectorSize;
  }
  uint64_t SampledRun() const {
    return stride_ == 1 ? UINT64_MAX : kSectorSize - pos_ % kSectorSize;
  }
  void Skip(uint64_t n) { pos_ += n; }

  double BitsPerByte() const {
    if (sampled_ == 0) return 0.0;
    double h = 0.0;
    for (uint64_t c : hist_) {
      if (c == 0) continue;
      double p = static_cast<double>(c) / static_cast<double>(sampled_);
      h -= p * std::log2(p);
    }
    return h;
  }
  uint64_t sampled() const { return sampled_; }

 private:
  uint64_t stride_ = 1;
  uint64_t pos_ = 0;
  uint64_t sampled_ = 0;
  uint64_t hist_[256] = {};
};

struct Segment {
  uint64_t begin, end;
  bool data;
};

// The file as a sequence of data and hole segments (SEEK_DATA/SEEK_HOLE; everything is data on
// file systems without them).
Result<std::vector<Segment>> Segments(int fd, uint64_t file_size, std::string_view path) {
  std::vector<Segment> out;
  uint64_t pos = 0;
  while (pos < file_size) {
    off_t data = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) {  // only a hole remains
        out.push_back({pos, file_size, false});
        break;
      }
      if (errno == EINVAL) {  // not supported: treat the rest as data
        out.push_back({pos, file_size, true});
        break;
      }
      return ErrnoStatus("seek in", path);
    }
    uint64_t d = std::min<uint64_t>(static_cast<uint64_t>(data), file_size);
    if (d > pos) out.push_back({pos, d, false});
    if (d >= file_size) break;
    off_t hole = ::lseek(fd, static_cast<off_t>(d), SEEK_HOLE);
    if (hole < 0) return ErrnoStatus("seek in", path);
    uint64_t h = std::min<uint64_t>(static_cast<uint64_t>(hole), file_size);
    if (h <= d) h = file_size;  // cannot happen; never loop forever
    out.push_back({d, h, true});
    pos = h;
  }
  return out;
}

nlohmann::json LayerJson(size_t order, const WrappedDek& w) {
  return {{"order", order},
          {"layer", LayerName(w.key.layer)},
          {"key_id", w.key.key_id},
          {"key_version", KeyVersionOf(w.key)},
          {"des_id", w.key.des_id},
          {"algorithm", w.algorithm},
          {"wrapped", Base64UrlEncode(w.wrapped)}};
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

Result<nlohmann::json> InspectDiskFile(const std::string& path, const InspectOptions& options) {
  if (options.pattern) {
    const std::string& p = *options.pattern;
    if (p.empty() || p.size() > kMaxInspectPattern) {
      return Status::InvalidArgument("the search pattern must be 1 byte to 64 KiB long");
    }
    if (std::all_of(p.begin(), p.end(), [](char c) { return c == 0; })) {
      return Status::InvalidArgument(
          "a pattern of zero bytes proves nothing: never-written sectors read as zeros");
    }
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path);
  FdCloser closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path);
  BYOK_ASSIGN_OR_RETURN(HeaderState hs, ReadHeaderFromFd(fd, path));
  const DiskHeader& h = hs.header;
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);

  nlohmann::json out = {
      {"disk_id", h.disk_id},
      {"path", path},
      {"format_version", kFormatVersion},
      {"generation", h.generation},
      {"created", h.created},
      {"size_bytes", h.size_bytes},
      {"file_size_bytes", file_size},
      {"allocated_bytes", static_cast<uint64_t>(st.st_blocks) * 512},
      {"sector_size", h.sector_size},
      {"sectors", h.size_bytes / h.sector_size},
      {"data_offset", h.data_offset},
      {"cipher", kCipherName},
      {"tweak", "sector number, 128-bit little-endian"},
      {"sector_location", fmt::format("{} + sector * {}", h.data_offset, h.sector_size)},
  };
  nlohmann::json slots = nlohmann::json::array();
  for (int i = 0; i < 2; ++i) {
    nlohmann::json s = {{"slot", i == 0 ? "A" : "B"},
                        {"offset", HeaderSlotOffset(i)},
                        {"state", hs.slots[i].state},
                        {"in_force", i == hs.slot}};
    if (hs.slots[i].state == "valid") s["generation"] = hs.slots[i].generation;
    slots.push_back(std::move(s));
  }
  out["header_slots"] = std::move(slots);
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < h.layers.size(); ++i) layers.push_back(LayerJson(i, h.layers[i]));
  out["layers"] = std::move(layers);

  // Proof of encryption at rest: one streaming pass over the raw file.
  BYOK_ASSIGN_OR_RETURN(std::vector<Segment> segments, Segments(fd, file_size, path));
  uint64_t allocated_data = 0;
  for (const Segment& s : segments) {
    if (s.data && s.end > h.data_offset) allocated_data += s.end - std::max(s.begin, h.data_offset);
  }
  EntropySampler sampler(allocated_data);
  std::optional<PatternCounter> counter;
  std::vector<uint8_t> plain_buf;  // when there is no pattern
  if (options.pattern) {
    counter.emplace(*options.pattern);
  } else {
    plain_buf.resize(kChunk);
  }
  for (const Segment& s : segments) {
    if (!s.data) {
      if (counter) counter->FeedZeros(s.end - s.begin);
      continue;
    }
    if (counter) {  // every byte, for the pattern; the data area also feeds the sampler
      for (uint64_t off = s.begin; off < s.end;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, s.end - off));
        uint8_t* buf = counter->Space().data();
        BYOK_TRY(PreadFull(fd, buf, n, off, path));
        if (off + n > h.data_offset) {
          size_t skip = off >= h.data_offset ? 0 : static_cast<size_t>(h.data_offset - off);
          sampler.Add(std::span<const uint8_t>(buf + skip, n - skip));
        }
        counter->Commit(n);
        off += n;
      }
      continue;
    }
    // No pattern: read only the sampled blocks of the data area.
    for (uint64_t off = std::max(s.begin, h.data_offset); off < s.end;) {
      uint64_t skip = sampler.DistanceToSample();
      if (skip == UINT64_MAX) break;
      if (skip > 0) {
        uint64_t k = std::min(skip, s.end - off);
        sampler.Skip(k);
        off += k;
        continue;
      }
      size_t n = static_cast<size_t>(std::min({kChunk, s.end - off, sampler.SampledRun()}));
      BYOK_TRY(PreadFull(fd, plain_buf.data(), n, off, path));
      sampler.Add(std::span<const uint8_t>(plain_buf.data(), n));
      off += n;
    }
  }
  nlohmann::json pattern = nullptr;
  if (counter) {
    pattern = {{"searched", *options.pattern},
               {"found", counter->occurrences() > 0},
               {"occurrences", counter->occurrences()},
               {"scanned_bytes", file_size}};
  }
  out["proof"] = {{"pattern", std::move(pattern)},
                  {"entropy_bits_per_byte", sampler.BitsPerByte()},
                  {"sampled_bytes", sampler.sampled()}};
  return out;
}

}  // namespace byok::blockstore::internal
