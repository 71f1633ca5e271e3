#include "blockstore/format.h"

#include <cstring>
#include <string>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "common/encoding.h"
#include "common/json.h"

namespace byok::blockstore {
namespace {

constexpr size_t kMaxKeyIdLength = 2048;
constexpr size_t kMaxAlgorithmLength = 64;
constexpr size_t kMaxCreatedLength = 64;

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t LoadU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
void StoreU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void StoreU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

bool Sha256(std::span<const uint8_t> data, uint8_t out[kSlotChecksumSize]) {
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) == 1 &&
         len == kSlotChecksumSize;
}

Status Corrupt(std::string_view what) {
  return Status::DataLoss(fmt::format("disk header slot is corrupt: {}", what));
}

// Field accessors for the body: each returns false if the field is missing or mistyped.
bool GetString(const nlohmann::json& obj, const char* name, size_t max_len, std::string& out) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return false;
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) return false;
  out = s;
  return true;
}
bool GetUint(const nlohmann::json& obj, const char* name, uint64_t& out) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_number_unsigned()) return false;
  out = it->get<uint64_t>();
  return true;
}

Result<Layer> ParseLayer(std::string_view name) {
  if (name == "platform") return Layer::kPlatform;
  if (name == "customer") return Layer::kCustomer;
  return Corrupt("unknown layer");
}

Result<WrappedDek> ParseLayerEntry(const nlohmann::json& j) {
  if (!j.is_object()) return Corrupt("layer is not an object");
  std::string layer, wrapped;
  WrappedDek out;
  if (!GetString(j, "layer", 16, layer)) return Corrupt("layer.layer");
  BYOK_ASSIGN_OR_RETURN(out.key.layer, ParseLayer(layer));
  if (!GetString(j, "key_id", kMaxKeyIdLength, out.key.key_id)) return Corrupt("layer.key_id");
  if (j.contains("des_id") && !GetString(j, "des_id", kMaxKeyIdLength, out.key.des_id)) {
    return Corrupt("layer.des_id");
  }
  if (!GetString(j, "algorithm", kMaxAlgorithmLength, out.algorithm)) {
    return Corrupt("layer.algorithm");
  }
  if (!GetString(j, "wrapped", (kMaxWrappedDek * 4 + 2) / 3, wrapped)) {
    return Corrupt("layer.wrapped");
  }
  Result<std::vector<uint8_t>> bytes = Base64UrlDecode(wrapped);
  if (!bytes.ok()) return Corrupt("layer.wrapped is not base64url");
  out.wrapped = std::move(*bytes);
  return out;
}

nlohmann::json BodyJson(const DiskHeader& h) {
  nlohmann::json layers = nlohmann::json::array();
  for (const WrappedDek& w : h.layers) {
    nlohmann::json l = {{"layer", LayerName(w.key.layer)},
                        {"key_id", w.key.key_id},
                        {"algorithm", w.algorithm},
                        {"wrapped", Base64UrlEncode(w.wrapped)}};
    if (!w.key.des_id.empty()) l["des_id"] = w.key.des_id;
    layers.push_back(std::move(l));
  }
  return {{"disk_id", h.disk_id},         {"size_bytes", h.size_bytes},
          {"sector_size", h.sector_size}, {"data_offset", h.data_offset},
          {"cipher", kCipherName},        {"layers", std::move(layers)},
          {"created", h.created}};
}

}  // namespace

bool ValidDiskId(std::string_view id) {
  if (id.empty() || id.size() > kMaxDiskIdLength || id.front() == '.') return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status ValidateHeader(const DiskHeader& h) {
  if (!ValidDiskId(h.disk_id)) return Status::InvalidArgument("bad disk id");
  if (h.sector_size != kSectorSize) return Status::InvalidArgument("sector size must be 4096");
  if (h.size_bytes == 0 || h.size_bytes % kSectorSize != 0 || h.size_bytes > kMaxDiskSize) {
    return Status::InvalidArgument("disk size must be a positive multiple of 4096, at most 64 TiB");
  }
  if (h.data_offset % kSectorSize != 0 || h.data_offset < 2 * kHeaderSlotSize ||
      h.data_offset > kMaxDataOffset) {
    return Status::InvalidArgument("bad data offset");
  }
  if (h.layers.empty() || h.layers.size() > 2) {
    return Status::InvalidArgument("a disk has one or two encryption layers");
  }
  if (h.layers.size() == 2 &&
      (h.layers[0].key.layer != Layer::kCustomer || h.layers[1].key.layer != Layer::kPlatform)) {
    return Status::InvalidArgument("double encryption is a customer layer, then a platform layer");
  }
  for (const WrappedDek& w : h.layers) {
    if (w.key.key_id.empty() || w.key.key_id.size() > kMaxKeyIdLength ||
        w.key.des_id.size() > kMaxKeyIdLength) {
      return Status::InvalidArgument("bad key id");
    }
    if (w.algorithm.empty() || w.algorithm.size() > kMaxAlgorithmLength) {
      return Status::InvalidArgument("bad wrap algorithm");
    }
    if (w.wrapped.empty() || w.wrapped.size() > kMaxWrappedDek) {
      return Status::InvalidArgument("bad wrapped key size");
    }
  }
  if (h.created.size() > kMaxCreatedLength) return Status::InvalidArgument("bad creation time");
  return Status::Ok();
}

Result<DiskHeader> ParseHeaderSlot(std::span<const uint8_t> slot) {
  if (slot.size() < kSlotPrefixSize) return Corrupt("truncated");
  const uint8_t* p = slot.data();
  bool all_zero = true;
  for (size_t i = 0; i < kHeaderMagic.size(); ++i) all_zero = all_zero && p[i] == 0;
  if (all_zero) return Status::NotFound("disk header slot is empty");
  if (std::memcmp(p, kHeaderMagic.data(), kHeaderMagic.size()) != 0) return Corrupt("bad magic");
  uint32_t version = LoadU32(p + 8);
  uint32_t body_len = LoadU32(p + 12);
  uint64_t generation = LoadU64(p + 16);
  if (body_len > kMaxHeaderBody || slot.size() < kSlotPrefixSize + body_len + kSlotChecksumSize) {
    return Corrupt("bad length");
  }
  uint8_t sum[kSlotChecksumSize];
  if (!Sha256(slot.first(kSlotPrefixSize + body_len), sum)) {
    return Status::Internal("SHA-256 is not available");
  }
  if (std::memcmp(sum, p + kSlotPrefixSize + body_len, kSlotChecksumSize) != 0) {
    return Corrupt("checksum mismatch");
  }
  // Only a checksummed slot is trusted to carry a version: a torn slot is corrupt, not "newer".
  if (version != kFormatVersion) {
    return Status::FailedPrecondition(
        fmt::format("disk format version {} is not supported by this byok (it reads version {})",
                    version, kFormatVersion));
  }
  for (size_t i = 24; i < kSlotPrefixSize; ++i) {
    if (p[i] != 0) return Corrupt("reserved bytes are not zero");
  }
  std::string_view text(reinterpret_cast<const char*>(p + kSlotPrefixSize), body_len);
  Result<nlohmann::json> body = ParseJsonBody(text, JsonLimits{kMaxHeaderBody, 8});
  if (!body.ok() || !body->is_object()) return Corrupt("body is not a JSON object");

  DiskHeader h;
  h.generation = generation;
  uint64_t sector_size = 0;
  std::string cipher;
  if (!GetString(*body, "disk_id", kMaxDiskIdLength, h.disk_id)) return Corrupt("disk_id");
  if (!GetUint(*body, "size_bytes", h.size_bytes)) return Corrupt("size_bytes");
  if (!GetUint(*body, "sector_size", sector_size) || sector_size != kSectorSize) {
    return Corrupt("sector_size");
  }
  h.sector_size = static_cast<uint32_t>(sector_size);
  if (!GetUint(*body, "data_offset", h.data_offset)) return Corrupt("data_offset");
  if (!GetString(*body, "cipher", 32, cipher) || cipher != kCipherName) return Corrupt("cipher");
  if (!GetString(*body, "created", kMaxCreatedLength, h.created)) return Corrupt("created");
  auto layers = body->find("layers");
  if (layers == body->end() || !layers->is_array()) return Corrupt("layers");
  if (layers->size() > 2) return Corrupt("too many layers");
  for (const nlohmann::json& l : *layers) {
    BYOK_ASSIGN_OR_RETURN(WrappedDek w, ParseLayerEntry(l));
    h.layers.push_back(std::move(w));
  }
  if (Status s = ValidateHeader(h); !s.ok()) return Corrupt(s.message());
  return h;
}

Result<std::vector<uint8_t>> FrameHeaderSlot(std::span<const uint8_t> body, uint64_t generation) {
  if (body.size() > kMaxHeaderBody) return Status::InvalidArgument("disk header is too large");
  std::vector<uint8_t> slot(kHeaderSlotSize, 0);
  std::memcpy(slot.data(), kHeaderMagic.data(), kHeaderMagic.size());
  StoreU32(slot.data() + 8, kFormatVersion);
  StoreU32(slot.data() + 12, static_cast<uint32_t>(body.size()));
  StoreU64(slot.data() + 16, generation);
  if (!body.empty()) std::memcpy(slot.data() + kSlotPrefixSize, body.data(), body.size());
  size_t framed = kSlotPrefixSize + body.size();
  if (!Sha256(std::span<const uint8_t>(slot.data(), framed), slot.data() + framed)) {
    return Status::Internal("SHA-256 is not available");
  }
  return slot;
}

Result<std::vector<uint8_t>> EncodeHeaderSlot(const DiskHeader& header) {
  BYOK_TRY(ValidateHeader(header));
  std::string body = DumpJson(BodyJson(header));
  return FrameHeaderSlot(AsBytes(body), header.generation);
}

std::string KeyVersionOf(const KeyRef& key) {
  const std::string& id = key.key_id;
  size_t cut = key.layer == Layer::kPlatform ? id.rfind(':') : id.rfind('/');
  if (cut == std::string::npos) return "";
  return id.substr(cut + 1);
}

}  // namespace byok::blockstore
