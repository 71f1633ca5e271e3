#include "nbd/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>

#include <spdlog/spdlog.h>

namespace byok::nbd {
namespace {

constexpr uint16_t kExportFlags = kTransHasFlags | kTransSendFlush | kTransSendFua |
                                  kTransSendTrim | kTransSendWriteZeroes | kTransCanMultiConn;
constexpr size_t kCachedBufferBytes = 64u << 20;
constexpr uint32_t kInlineMaxBytes = 64 * 1024;

const char* CommandName(uint16_t type) {
  switch (type) {
    case kCmdRead:
      return "read";
    case kCmdWrite:
      return "write";
    case kCmdFlush:
      return "flush";
    case kCmdTrim:
      return "trim";
    case kCmdWriteZeroes:
      return "write zeroes";
    default:
      return "request";
  }
}

}  // namespace

std::string ExportLabel(const std::string& name) {
  if (name.empty()) return "(default)";
  return name.substr(0, std::min<size_t>(8, name.size() / 2)) + "...";
}

Connection::Connection(int fd, bool tcp, const ServerOptions& options,
                       const ExportResolver& resolver, WorkerPool& pool)
    : options_(options),
      resolver_(resolver),
      pool_(pool),
      tcp_(tcp),
      peer_(PeerName(fd)),
      fd_(fd),
      reader_(fd),
      buffers_(kCachedBufferBytes) {
  tasks_.reserve(kMaxInflightRequests);
  free_tasks_.reserve(kMaxInflightRequests);
}

Connection::~Connection() { close(fd_); }

// Only the reading side: the reader sees EOF, in-flight requests still get their replies.
void Connection::Shutdown() { ::shutdown(fd_, SHUT_RD); }

void Connection::Run() {
  spdlog::info("nbd: connection from {}", peer_);
  ConfigureConnection(fd_, tcp_);
  SetReceiveTimeout(fd_, kHandshakeTimeoutSeconds);
  device_ = Negotiate();
  if (device_) {
    SetReceiveTimeout(fd_, 0);
    Transmit();
  }
  WaitIdle();
  ::shutdown(fd_, SHUT_RDWR);
  device_.reset();  // a detached disk's Volume must not outlive its connections
  spdlog::info("nbd: connection from {} closed", peer_);
  finished_ = true;
}

// ---------------------------------------------------------------------------------------------
// Handshake (fixed newstyle).

Status Connection::SendOptionReply(uint32_t option, uint32_t type, std::span<const uint8_t> data) {
  auto header = EncodeOptionReplyHeader(option, type, static_cast<uint32_t>(data.size()));
  iovec iov[2] = {{header.data(), header.size()}, {const_cast<uint8_t*>(data.data()), data.size()}};
  return SendAll(fd_, iov, data.empty() ? 1 : 2);
}

Status Connection::SendOptionError(uint32_t option, uint32_t type, std::string_view message) {
  message = message.substr(0, kMaxStringLength);
  return SendOptionReply(option, type,
                         {reinterpret_cast<const uint8_t*>(message.data()), message.size()});
}

Result<std::shared_ptr<blockstore::BlockDevice>> Connection::Resolve(const std::string& name) {
  export_label_ = ExportLabel(name);
  auto device = resolver_(name);
  if (!device.ok()) {
    spdlog::info("nbd: {} refused export {}: {}", peer_, export_label_, device.status().ToString());
    return device.status();
  }
  if (!*device) return Status::Internal("no device for the export");
  size_ = (*device)->size();
  return device;
}

std::shared_ptr<blockstore::BlockDevice> Connection::Negotiate() {
  if (!SendAll(fd_, EncodeHandshake(kFlagFixedNewstyle | kFlagNoZeroes)).ok()) return nullptr;
  std::array<uint8_t, 4> flags_bytes;
  if (!reader_.ReadExact(flags_bytes).ok()) return nullptr;
  uint32_t client_flags = LoadBe32(flags_bytes.data());
  // "the server MUST drop the TCP connection if the client sets an unknown flag"
  if (client_flags & ~(kClientFlagFixedNewstyle | kClientFlagNoZeroes)) {
    spdlog::info("nbd: {} sent unknown client flags 0x{:x}", peer_, client_flags);
    return nullptr;
  }
  const bool no_zeroes = client_flags & kClientFlagNoZeroes;

  std::vector<uint8_t> data;
  for (unsigned i = 0; i < kMaxOptions; ++i) {
    std::array<uint8_t, kOptionHeaderSize> header_bytes;
    if (!reader_.ReadExact(header_bytes).ok()) return nullptr;
    auto header = ParseOptionHeader(header_bytes);
    if (!header.ok()) {
      spdlog::info("nbd: {} sent a malformed option: {}", peer_, header.status().message());
      return nullptr;
    }
    const uint32_t option = header->option;
    data.resize(header->length);
    if (!reader_.ReadExact(data).ok()) return nullptr;

    switch (option) {
      case kOptExportName: {
        // No way to report an error: "the server MUST terminate the session".
        if (data.size() > kMaxStringLength) return nullptr;
        auto device = Resolve(std::string(data.begin(), data.end()));
        if (!device.ok()) return nullptr;
        static constexpr std::array<uint8_t, kExportNameZeroes> kZeroes{};
        auto reply = EncodeExportNameReply(size_, kExportFlags);
        iovec iov[2] = {{reply.data(), reply.size()},
                        {const_cast<uint8_t*>(kZeroes.data()), kZeroes.size()}};
        if (!SendAll(fd_, iov, no_zeroes ? 1 : 2).ok()) return nullptr;
        spdlog::info("nbd: {} opened export {} ({} bytes)", peer_, export_label_, size_);
        return *std::move(device);
      }
      case kOptAbort:
        (void)SendOptionReply(option, kRepAck);
        return nullptr;
      case kOptList:
        // Export names are secrets: the list is always empty.
        if (!SendOptionReply(option, data.empty() ? kRepAck : kRepErrInvalid).ok()) return nullptr;
        break;
      case kOptInfo:
      case kOptGo: {
        auto go = ParseGoOption(data);
        if (!go.ok()) {
          if (!SendOptionError(option, kRepErrInvalid, go.status().message()).ok()) return nullptr;
          break;
        }
        auto device = Resolve(go->export_name);
        if (!device.ok()) {
          if (!SendOptionError(option, kRepErrUnknown, device.status().message()).ok()) {
            return nullptr;
          }
          break;
        }
        uint32_t preferred = (*device)->preferred_block_size();
        if (preferred < 512 || !std::has_single_bit(preferred)) preferred = 4096;
        auto info = EncodeInfoExport(size_, kExportFlags);
        auto block =
            EncodeInfoBlockSize(1, preferred, std::max(options_.max_request_bytes, preferred));
        if (!SendOptionReply(option, kRepInfo, info).ok() ||
            !SendOptionReply(option, kRepInfo, block).ok() ||
            !SendOptionReply(option, kRepAck).ok()) {
          return nullptr;
        }
        if (option == kOptGo) {
          spdlog::info("nbd: {} opened export {} ({} bytes)", peer_, export_label_, size_);
          return *std::move(device);
        }
        break;
      }
      default:  // STARTTLS, STRUCTURED_REPLY, meta contexts, ...
        if (!SendOptionReply(option, kRepErrUnsup).ok()) return nullptr;
        break;
    }
  }
  spdlog::info("nbd: {} sent too many options", peer_);
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Transmission.

uint32_t Connection::Validate(const Request& r) const {
  uint16_t allowed = kCmdFlagFua;  // "valid for all commands" once SEND_FUA is advertised
  switch (r.type) {
    case kCmdRead:
    case kCmdWrite:
    case kCmdTrim:
      break;
    case kCmdWriteZeroes:
      allowed |= kCmdFlagNoHole;
      break;
    case kCmdFlush:
      return (r.flags & ~allowed) ? kEInval : 0;
    default:  // CACHE, BLOCK_STATUS (not negotiated), unknown
      return kEInval;
  }
  if (r.flags & ~allowed) return kEInval;
  if (r.offset > size_ || r.length > size_ - r.offset) return kEInval;
  return 0;
}

void Connection::Transmit() {
  std::array<uint8_t, kRequestHeaderSize> header;
  for (;;) {
    if (!reader_.ReadExact(header).ok()) return;  // EOF, error or Shutdown
    auto parsed = ParseRequest(header);
    if (!parsed.ok()) {
      spdlog::warn("nbd: {} sent a malformed request ({}); closing", peer_,
                   parsed.status().message());
      return;
    }
    const Request& r = *parsed;
    if (r.type == kCmdDisc) return;
    const bool data_command = r.type == kCmdRead || r.type == kCmdWrite;
    const bool has_payload = r.type == kCmdWrite;
    if (data_command && r.length > options_.max_request_bytes) {
      spdlog::warn("nbd: {} sent a {} of {} bytes (maximum {}); closing", peer_,
                   CommandName(r.type), r.length, options_.max_request_bytes);
      return;
    }
    uint32_t error = Validate(r);
    bool trivial = r.length == 0 && r.type != kCmdFlush;
    Task* task = nullptr;
    if (error == 0 && !trivial) {
      task = Acquire(data_command ? r.length : 0);
      if (!task) error = kENoMem;
    }
    if (!task) {
      if (has_payload && !reader_.Skip(r.length).ok()) return;
      SendReply(error, r.cookie, {});
      continue;
    }
    task->request = r;
    if (has_payload && !reader_.ReadExact({task->buffer.data(), r.length}).ok()) {
      Finish(task);
      return;
    }
    // A small request with nothing else to read yet, while every worker is busy: the reader runs
    // it itself rather than queue it (no thread wake-up on the critical path).
    bool may_run_here = reader_.buffered() == 0 && r.length <= kInlineMaxBytes &&
                        r.type != kCmdFlush && !(r.flags & kCmdFlagFua);
    if (!pool_.Submit(this, task, may_run_here)) {
      Execute(*task);
      Finish(task);
    }
  }
}

Connection::Task* Connection::Acquire(size_t payload) {
  std::unique_lock lock(mu_);
  while (inflight_ >= kMaxInflightRequests ||
         (inflight_ > 0 && inflight_bytes_ + payload > kMaxInflightBytes)) {
    waiting_ = true;
    cv_.wait(lock);
  }
  waiting_ = false;
  Task* task;
  if (free_tasks_.empty()) {
    task = tasks_.emplace_back(std::make_unique<Task>()).get();
    task->conn = this;
  } else {
    task = free_tasks_.back();
    free_tasks_.pop_back();
  }
  if (payload > 0) {
    task->buffer = buffers_.Get(payload);
    if (!task->buffer.data()) {
      free_tasks_.push_back(task);
      return nullptr;
    }
  }
  task->charged = payload;
  ++inflight_;
  inflight_bytes_ += payload;
  return task;
}

void Connection::Execute(Task& task) {
  const Request& r = task.request;
  const bool fua = r.flags & kCmdFlagFua;
  std::span<uint8_t> data(task.buffer.data(), task.charged);
  Status s;
  switch (r.type) {
    case kCmdRead:
      s = device_->Read(r.offset, data);
      break;
    case kCmdWrite:
      s = device_->Write(r.offset, data, fua);
      break;
    case kCmdFlush:
      s = device_->Flush();
      break;
    case kCmdTrim:
      s = device_->Trim(r.offset, r.length, fua);
      break;
    case kCmdWriteZeroes:
      s = device_->WriteZeroes(r.offset, r.length, fua);
      break;
    default:
      s = Status::InvalidArgument("unsupported command");
      break;
  }
  uint32_t error = s.ok() ? 0 : ErrorForStatus(s.code());
  if (error != 0) {
    // The first failure of a connection is worth a warning; a revoked key fails every request.
    auto level = logged_error_.exchange(true) ? spdlog::level::debug : spdlog::level::warn;
    spdlog::log(level, "nbd: {} export {}: {} at {} (+{}) failed: {}", peer_, export_label_,
                CommandName(r.type), r.offset, r.length, s.ToString());
  }
  SendReply(error, r.cookie, r.type == kCmdRead && error == 0 ? data : std::span<uint8_t>());
}

void Connection::Finish(Task* task) {
  std::lock_guard lock(mu_);
  buffers_.Put(std::move(task->buffer));
  free_tasks_.push_back(task);
  --inflight_;
  inflight_bytes_ -= task->charged;
  if (waiting_) cv_.notify_all();
}

void Connection::SendReply(uint32_t error, uint64_t cookie, std::span<const uint8_t> payload) {
  auto header = EncodeSimpleReply(error, cookie);
  iovec iov[2] = {{header.data(), header.size()},
                  {const_cast<uint8_t*>(payload.data()), payload.size()}};
  std::lock_guard lock(write_mu_);
  if (broken_) return;
  if (Status s = SendAll(fd_, iov, payload.empty() ? 1 : 2); !s.ok()) {
    spdlog::debug("nbd: {} reply failed: {}", peer_, s.ToString());
    broken_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // the reader stops too
  }
}

void Connection::WaitIdle() {
  std::unique_lock lock(mu_);
  while (inflight_ > 0) {
    waiting_ = true;
    cv_.wait(lock);
  }
  waiting_ = false;
}

}  // namespace byok::nbd
