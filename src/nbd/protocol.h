// The NBD wire format: constants and the parsers of client messages (fuzzed: fuzz/nbd_request).
//
// Parsers take exactly the bytes of one message and never read past them; they validate magic
// numbers and lengths and return InvalidArgument for anything malformed. Encoders write the
// server's messages (and, for tests and the fuzz target, the client's) in network byte order.
// Numbers are those of https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace byok::nbd {

inline constexpr uint64_t kNbdMagic = 0x4e42444d41474943ULL;  // "NBDMAGIC"
inline constexpr uint64_t kIHaveOpt = 0x49484156454F5054ULL;  // "IHAVEOPT"
inline constexpr uint64_t kOptReplyMagic = 0x3e889045565a9ULL;
inline constexpr uint32_t kRequestMagic = 0x25609513;
inline constexpr uint32_t kSimpleReplyMagic = 0x67446698;

// Handshake flags (server → client, 16 bits) and client flags (32 bits).
inline constexpr uint16_t kFlagFixedNewstyle = 1 << 0;
inline constexpr uint16_t kFlagNoZeroes = 1 << 1;
inline constexpr uint32_t kClientFlagFixedNewstyle = 1 << 0;
inline constexpr uint32_t kClientFlagNoZeroes = 1 << 1;

// Transmission flags (per export, 16 bits).
inline constexpr uint16_t kTransHasFlags = 1 << 0;
inline constexpr uint16_t kTransReadOnly = 1 << 1;
inline constexpr uint16_t kTransSendFlush = 1 << 2;
inline constexpr uint16_t kTransSendFua = 1 << 3;
inline constexpr uint16_t kTransRotational = 1 << 4;
inline constexpr uint16_t kTransSendTrim = 1 << 5;
inline constexpr uint16_t kTransSendWriteZeroes = 1 << 6;
inline constexpr uint16_t kTransSendDf = 1 << 7;
inline constexpr uint16_t kTransCanMultiConn = 1 << 8;

// Options (handshake).
inline constexpr uint32_t kOptExportName = 1;
inline constexpr uint32_t kOptAbort = 2;
inline constexpr uint32_t kOptList = 3;
inline constexpr uint32_t kOptStartTls = 5;
inline constexpr uint32_t kOptInfo = 6;
inline constexpr uint32_t kOptGo = 7;
inline constexpr uint32_t kOptStructuredReply = 8;
inline constexpr uint32_t kOptListMetaContext = 9;
inline constexpr uint32_t kOptSetMetaContext = 10;

// Option reply types; errors have bit 31 set and may carry a message.
inline constexpr uint32_t kRepAck = 1;
inline constexpr uint32_t kRepServer = 2;
inline constexpr uint32_t kRepInfo = 3;
inline constexpr uint32_t kRepErrUnsup = 0x80000001;
inline constexpr uint32_t kRepErrPolicy = 0x80000002;
inline constexpr uint32_t kRepErrInvalid = 0x80000003;
inline constexpr uint32_t kRepErrPlatform = 0x80000004;
inline constexpr uint32_t kRepErrTlsReqd = 0x80000005;
inline constexpr uint32_t kRepErrUnknown = 0x80000006;
inline constexpr uint32_t kRepErrShutdown = 0x80000007;
inline constexpr uint32_t kRepErrBlockSizeReqd = 0x80000008;
inline constexpr uint32_t kRepErrTooBig = 0x80000009;

// NBD_REP_INFO information types.
inline constexpr uint16_t kInfoExport = 0;
inline constexpr uint16_t kInfoName = 1;
inline constexpr uint16_t kInfoDescription = 2;
inline constexpr uint16_t kInfoBlockSize = 3;

// Request types and command flags (transmission).
inline constexpr uint16_t kCmdRead = 0;
inline constexpr uint16_t kCmdWrite = 1;
inline constexpr uint16_t kCmdDisc = 2;
inline constexpr uint16_t kCmdFlush = 3;
inline constexpr uint16_t kCmdTrim = 4;
inline constexpr uint16_t kCmdCache = 5;
inline constexpr uint16_t kCmdWriteZeroes = 6;
inline constexpr uint16_t kCmdBlockStatus = 7;
inline constexpr uint16_t kCmdFlagFua = 1 << 0;
inline constexpr uint16_t kCmdFlagNoHole = 1 << 1;
inline constexpr uint16_t kCmdFlagDf = 1 << 2;
inline constexpr uint16_t kCmdFlagReqOne = 1 << 3;
inline constexpr uint16_t kCmdFlagFastZero = 1 << 4;

// Error values of the simple reply (not the host's errno: the protocol fixes them).
inline constexpr uint32_t kEPerm = 1;
inline constexpr uint32_t kEIo = 5;
inline constexpr uint32_t kENoMem = 12;
inline constexpr uint32_t kEInval = 22;
inline constexpr uint32_t kENoSpc = 28;
inline constexpr uint32_t kEOverflow = 75;
inline constexpr uint32_t kENotSup = 95;
inline constexpr uint32_t kEShutdown = 108;

// Strings (export names, messages) "MUST be no longer than 4096 bytes".
inline constexpr size_t kMaxStringLength = 4096;
// Option data larger than this ends the session (a GO option needs at most ~4 KiB).
inline constexpr uint32_t kMaxOptionDataSize = 64 * 1024;
// The 124 reserved zero bytes after NBD_OPT_EXPORT_NAME's reply (unless NO_ZEROES).
inline constexpr size_t kExportNameZeroes = 124;

// Transmission request header (28 bytes on the wire, big-endian).
struct Request {
  uint16_t flags = 0;
  uint16_t type = 0;
  uint64_t cookie = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
};
inline constexpr size_t kRequestHeaderSize = 28;
Result<Request> ParseRequest(std::span<const uint8_t> header);  // exactly 28 bytes

// Option header after the client flags: IHAVEOPT, option, length (16 bytes), then `length` data.
// A length over kMaxOptionDataSize is InvalidArgument.
struct OptionHeader {
  uint32_t option = 0;
  uint32_t length = 0;
};
inline constexpr size_t kOptionHeaderSize = 16;
Result<OptionHeader> ParseOptionHeader(std::span<const uint8_t> header);

// NBD_OPT_GO / NBD_OPT_INFO data: export name + requested info types. The name is at most
// kMaxStringLength bytes without NUL; the data holds exactly the announced info requests.
struct GoOption {
  std::string export_name;
  std::vector<uint16_t> info_requests;
};
Result<GoOption> ParseGoOption(std::span<const uint8_t> data);

// --- Encoders ---
inline constexpr size_t kHandshakeSize = 18;          // NBDMAGIC, IHAVEOPT, handshake flags
inline constexpr size_t kOptionReplyHeaderSize = 20;  // magic, option, type, length
inline constexpr size_t kSimpleReplySize = 16;        // magic, error, cookie
inline constexpr size_t kExportNameReplySize = 10;    // size, transmission flags
std::array<uint8_t, kHandshakeSize> EncodeHandshake(uint16_t handshake_flags);
std::array<uint8_t, kOptionReplyHeaderSize> EncodeOptionReplyHeader(uint32_t option, uint32_t type,
                                                                    uint32_t length);
std::array<uint8_t, kSimpleReplySize> EncodeSimpleReply(uint32_t error, uint64_t cookie);
std::array<uint8_t, kExportNameReplySize> EncodeExportNameReply(uint64_t size, uint16_t flags);
// NBD_REP_INFO payloads (type included).
std::array<uint8_t, 12> EncodeInfoExport(uint64_t size, uint16_t flags);
std::array<uint8_t, 14> EncodeInfoBlockSize(uint32_t minimum, uint32_t preferred, uint32_t maximum);
// Client side (test clients, fuzz round trips).
std::array<uint8_t, kRequestHeaderSize> EncodeRequest(const Request& request);
std::array<uint8_t, kOptionHeaderSize> EncodeOptionHeader(const OptionHeader& header);
std::vector<uint8_t> EncodeGoOption(const GoOption& go);

// The reply error for a failed device call: EINVAL for InvalidArgument/OutOfRange, EIO for
// everything else (FailedPrecondition: a locked device, DataLoss, Internal, ...). Never ENOSPC.
uint32_t ErrorForStatus(StatusCode code);

// Big-endian helpers (exposed for the server's and the tests' message assembly).
uint16_t LoadBe16(const uint8_t* p);
uint32_t LoadBe32(const uint8_t* p);
uint64_t LoadBe64(const uint8_t* p);
void StoreBe16(uint8_t* p, uint16_t v);
void StoreBe32(uint8_t* p, uint32_t v);
void StoreBe64(uint8_t* p, uint64_t v);

}  // namespace byok::nbd
