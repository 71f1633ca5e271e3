#include "nbd/protocol.h"

#include <cstring>

#include <fmt/format.h>

namespace byok::nbd {

uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t LoadBe64(const uint8_t* p) { return (uint64_t{LoadBe32(p)} << 32) | LoadBe32(p + 4); }
void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void StoreBe32(uint8_t* p, uint32_t v) {
  StoreBe16(p, static_cast<uint16_t>(v >> 16));
  StoreBe16(p + 2, static_cast<uint16_t>(v));
}
void StoreBe64(uint8_t* p, uint64_t v) {
  StoreBe32(p, static_cast<uint32_t>(v >> 32));
  StoreBe32(p + 4, static_cast<uint32_t>(v));
}

// C: 32 bits magic, 16 bits command flags, 16 bits type, 64 bits cookie, 64 bits offset,
//    32 bits length.
Result<Request> ParseRequest(std::span<const uint8_t> header) {
  if (header.size() != kRequestHeaderSize) {
    return Status::InvalidArgument(fmt::format("NBD request header of {} bytes", header.size()));
  }
  const uint8_t* p = header.data();
  if (uint32_t magic = LoadBe32(p); magic != kRequestMagic) {
    return Status::InvalidArgument(fmt::format("bad NBD request magic 0x{:08x}", magic));
  }
  Request r;
  r.flags = LoadBe16(p + 4);
  r.type = LoadBe16(p + 6);
  r.cookie = LoadBe64(p + 8);
  r.offset = LoadBe64(p + 16);
  r.length = LoadBe32(p + 24);
  return r;
}

// C: 64 bits IHAVEOPT, 32 bits option, 32 bits length of option data.
Result<OptionHeader> ParseOptionHeader(std::span<const uint8_t> header) {
  if (header.size() != kOptionHeaderSize) {
    return Status::InvalidArgument(fmt::format("NBD option header of {} bytes", header.size()));
  }
  const uint8_t* p = header.data();
  if (LoadBe64(p) != kIHaveOpt) return Status::InvalidArgument("bad NBD option magic");
  OptionHeader h;
  h.option = LoadBe32(p + 8);
  h.length = LoadBe32(p + 12);
  if (h.length > kMaxOptionDataSize) {
    return Status::InvalidArgument(fmt::format("NBD option data of {} bytes", h.length));
  }
  return h;
}

// Data: 32 bits length of name ("MUST be no larger than the option data length - 6"), name,
// 16 bits number of information requests, 16 bits x n information requests.
Result<GoOption> ParseGoOption(std::span<const uint8_t> data) {
  if (data.size() < 6) return Status::InvalidArgument("NBD_OPT_GO data too short");
  uint32_t name_length = LoadBe32(data.data());
  if (name_length > data.size() - 6) {
    return Status::InvalidArgument("NBD_OPT_GO name length exceeds the option data");
  }
  if (name_length > kMaxStringLength) return Status::InvalidArgument("export name too long");
  GoOption go;
  go.export_name.assign(reinterpret_cast<const char*>(data.data() + 4), name_length);
  if (go.export_name.find('\0') != std::string::npos) {
    return Status::InvalidArgument("export name contains NUL");
  }
  size_t at = 4 + name_length;
  uint16_t count = LoadBe16(data.data() + at);
  at += 2;
  if (data.size() - at != size_t{count} * 2) {
    return Status::InvalidArgument("NBD_OPT_GO information request count mismatch");
  }
  go.info_requests.reserve(count);
  for (uint16_t i = 0; i < count; ++i, at += 2) go.info_requests.push_back(LoadBe16(&data[at]));
  return go;
}

std::array<uint8_t, kHandshakeSize> EncodeHandshake(uint16_t handshake_flags) {
  std::array<uint8_t, kHandshakeSize> out;
  StoreBe64(out.data(), kNbdMagic);
  StoreBe64(out.data() + 8, kIHaveOpt);
  StoreBe16(out.data() + 16, handshake_flags);
  return out;
}

std::array<uint8_t, kOptionReplyHeaderSize> EncodeOptionReplyHeader(uint32_t option, uint32_t type,
                                                                    uint32_t length) {
  std::array<uint8_t, kOptionReplyHeaderSize> out;
  StoreBe64(out.data(), kOptReplyMagic);
  StoreBe32(out.data() + 8, option);
  StoreBe32(out.data() + 12, type);
  StoreBe32(out.data() + 16, length);
  return out;
}

std::array<uint8_t, kSimpleReplySize> EncodeSimpleReply(uint32_t error, uint64_t cookie) {
  std::array<uint8_t, kSimpleReplySize> out;
  StoreBe32(out.data(), kSimpleReplyMagic);
  StoreBe32(out.data() + 4, error);
  StoreBe64(out.data() + 8, cookie);
  return out;
}

std::array<uint8_t, kExportNameReplySize> EncodeExportNameReply(uint64_t size, uint16_t flags) {
  std::array<uint8_t, kExportNameReplySize> out;
  StoreBe64(out.data(), size);
  StoreBe16(out.data() + 8, flags);
  return out;
}

std::array<uint8_t, 12> EncodeInfoExport(uint64_t size, uint16_t flags) {
  std::array<uint8_t, 12> out;
  StoreBe16(out.data(), kInfoExport);
  StoreBe64(out.data() + 2, size);
  StoreBe16(out.data() + 10, flags);
  return out;
}

std::array<uint8_t, 14> EncodeInfoBlockSize(uint32_t minimum, uint32_t preferred,
                                            uint32_t maximum) {
  std::array<uint8_t, 14> out;
  StoreBe16(out.data(), kInfoBlockSize);
  StoreBe32(out.data() + 2, minimum);
  StoreBe32(out.data() + 6, preferred);
  StoreBe32(out.data() + 10, maximum);
  return out;
}

std::array<uint8_t, kRequestHeaderSize> EncodeRequest(const Request& request) {
  std::array<uint8_t, kRequestHeaderSize> out;
  StoreBe32(out.data(), kRequestMagic);
  StoreBe16(out.data() + 4, request.flags);
  StoreBe16(out.data() + 6, request.type);
  StoreBe64(out.data() + 8, request.cookie);
  StoreBe64(out.data() + 16, request.offset);
  StoreBe32(out.data() + 24, request.length);
  return out;
}

std::array<uint8_t, kOptionHeaderSize> EncodeOptionHeader(const OptionHeader& header) {
  std::array<uint8_t, kOptionHeaderSize> out;
  StoreBe64(out.data(), kIHaveOpt);
  StoreBe32(out.data() + 8, header.option);
  StoreBe32(out.data() + 12, header.length);
  return out;
}

std::vector<uint8_t> EncodeGoOption(const GoOption& go) {
  std::vector<uint8_t> out(4 + go.export_name.size() + 2 + 2 * go.info_requests.size());
  StoreBe32(out.data(), static_cast<uint32_t>(go.export_name.size()));
  std::memcpy(out.data() + 4, go.export_name.data(), go.export_name.size());
  size_t at = 4 + go.export_name.size();
  StoreBe16(out.data() + at, static_cast<uint16_t>(go.info_requests.size()));
  at += 2;
  for (uint16_t info : go.info_requests) {
    StoreBe16(out.data() + at, info);
    at += 2;
  }
  return out;
}

uint32_t ErrorForStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return kEInval;
    default:
      return kEIo;
  }
}

}  // namespace byok::nbd
