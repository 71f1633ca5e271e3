#include "nbd/nbd_test_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace byok::nbd::test {

// --- Gate ---

void Gate::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

void Gate::Open() {
  std::lock_guard lock(mu_);
  closed_ = false;
  cv_.notify_all();
}

void Gate::Pass() {
  std::unique_lock lock(mu_);
  ++held_;
  cv_.notify_all();
  cv_.wait(lock, [&] { return !closed_; });
  --held_;
}

bool Gate::WaitForHeld(int n) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return held_ >= n; });
}

// --- MemoryDevice ---

MemoryDevice::MemoryDevice(uint64_t size, uint32_t block_size)
    : block_size_(block_size), data_(size) {}

Status MemoryDevice::Enter(bool is_read, uint64_t offset) {
  Gate* gate = nullptr;
  {
    std::lock_guard lock(mu_);
    if (gate_ && (!gate_offset_ || (is_read && *gate_offset_ == offset))) gate = gate_;
  }
  if (gate) gate->Pass();
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  return Status::Ok();
}

Status MemoryDevice::Check(uint64_t offset, uint64_t length) const {
  if (offset > data_.size() || length > data_.size() - offset) {
    return Status::OutOfRange("past the end of the device");
  }
  return Status::Ok();
}

Status MemoryDevice::Read(uint64_t offset, std::span<uint8_t> out) {
  BYOK_TRY(Enter(true, offset));
  std::lock_guard lock(mu_);
  BYOK_TRY(Check(offset, out.size()));
  std::copy_n(data_.begin() + static_cast<ptrdiff_t>(offset), out.size(), out.begin());
  ++reads;
  return Status::Ok();
}

Status MemoryDevice::Write(uint64_t offset, std::span<uint8_t> data, bool fua) {
  BYOK_TRY(Enter(false, offset));
  std::lock_guard lock(mu_);
  BYOK_TRY(Check(offset, data.size()));
  std::copy(data.begin(), data.end(), data_.begin() + static_cast<ptrdiff_t>(offset));
  std::fill(data.begin(), data.end(), 0xEE);  // the contract lets the device clobber the buffer
  ++writes;
  if (fua) ++fua_writes;
  return Status::Ok();
}

Status MemoryDevice::Flush() {
  BYOK_TRY(Enter(false, 0));
  ++flushes;
  return Status::Ok();
}

Status MemoryDevice::Trim(uint64_t offset, uint64_t length, bool fua) {
  BYOK_TRY(Enter(false, offset));
  std::lock_guard lock(mu_);
  BYOK_TRY(Check(offset, length));
  std::fill_n(data_.begin() + static_cast<ptrdiff_t>(offset), length, 0);
  ++trims;
  if (fua) ++fua_other;
  return Status::Ok();
}

Status MemoryDevice::WriteZeroes(uint64_t offset, uint64_t length, bool fua) {
  BYOK_TRY(Enter(false, offset));
  std::lock_guard lock(mu_);
  BYOK_TRY(Check(offset, length));
  std::fill_n(data_.begin() + static_cast<ptrdiff_t>(offset), length, 0);
  ++zeroes;
  if (fua) ++fua_other;
  return Status::Ok();
}

void MemoryDevice::SetFailure(std::optional<Status> status) {
  std::lock_guard lock(mu_);
  failure_ = std::move(status);
}

void MemoryDevice::SetGate(Gate* gate, std::optional<uint64_t> offset) {
  std::lock_guard lock(mu_);
  gate_ = gate;
  gate_offset_ = offset;
}

std::vector<uint8_t> MemoryDevice::Contents(uint64_t offset, size_t length) {
  std::lock_guard lock(mu_);
  return {data_.begin() + static_cast<ptrdiff_t>(offset),
          data_.begin() + static_cast<ptrdiff_t>(offset + length)};
}

void MemoryDevice::Fill(uint64_t offset, std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  std::copy(bytes.begin(), bytes.end(), data_.begin() + static_cast<ptrdiff_t>(offset));
}

// --- TestServer ---

TestServer::TestServer(unsigned workers) {
  char tmpl[] = "/tmp/byok-nbd-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  ServerOptions options;
  options.tcp_host = "127.0.0.1";
  options.tcp_port = 0;
  options.unix_path = dir_ + "/nbd.sock";
  options.workers = workers;
  server_ = std::make_unique<Server>(
      options, [this](const std::string& name) -> Result<std::shared_ptr<blockstore::BlockDevice>> {
        std::lock_guard lock(mu_);
        auto it = exports_.find(name);
        if (it == exports_.end()) return Status::NotFound(kUnknownMessage);
        return it->second;
      });
  Status s = server_->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TestServer::~TestServer() {
  server_->Stop();
  std::filesystem::remove_all(dir_);
}

void TestServer::AddExport(const std::string& name,
                           std::shared_ptr<blockstore::BlockDevice> device) {
  std::lock_guard lock(mu_);
  exports_[name] = std::move(device);
}

void TestServer::RemoveExport(const std::string& name) {
  std::lock_guard lock(mu_);
  exports_.erase(name);
}

// --- TestClient ---

namespace {

Status Errno(std::string_view what) {
  return Status::Unavailable(fmt::format("{}: {}", what, std::strerror(errno)));
}

void SetTimeouts(int fd) {
  timeval tv{};
  tv.tv_sec = 10;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

TestClient::TestClient(int fd) : fd_(fd) { SetTimeouts(fd); }
TestClient::~TestClient() { close(fd_); }

Result<std::unique_ptr<TestClient>> TestClient::ConnectTcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Status s = Errno("connect");
    close(fd);
    return s;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return std::unique_ptr<TestClient>(new TestClient(fd));
}

Result<std::unique_ptr<TestClient>> TestClient::ConnectUnix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Status s = Errno("connect");
    close(fd);
    return s;
  }
  return std::unique_ptr<TestClient>(new TestClient(fd));
}

Status TestClient::WriteBytes(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("send");
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status TestClient::ReadBytes(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = recv(fd_, out.data() + done, out.size() - done, 0);
    if (n == 0) return Status::Unavailable("connection closed by the server");
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("recv");
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

bool TestClient::WaitClosed() {
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == ECONNRESET;  // EAGAIN: the 10 s timeout
    }
  }
}

Result<uint16_t> TestClient::ReadGreeting() {
  uint8_t g[18];
  BYOK_TRY(ReadBytes(g));
  if (LoadBe64(g) != kNbdMagic || LoadBe64(g + 8) != kIHaveOpt) {
    return Status::InvalidArgument("bad greeting");
  }
  return LoadBe16(g + 16);
}

Status TestClient::SendClientFlags(uint32_t flags) {
  uint8_t f[4];
  StoreBe32(f, flags);
  return WriteBytes(f);
}

Status TestClient::SendOption(uint32_t option, std::span<const uint8_t> data) {
  auto header = EncodeOptionHeader({option, static_cast<uint32_t>(data.size())});
  BYOK_TRY(WriteBytes(header));
  return WriteBytes(data);
}

Result<OptionReply> TestClient::ReadOptionReply() {
  uint8_t h[20];
  BYOK_TRY(ReadBytes(h));
  if (LoadBe64(h) != kOptReplyMagic) return Status::InvalidArgument("bad option reply magic");
  OptionReply r;
  r.option = LoadBe32(h + 8);
  r.type = LoadBe32(h + 12);
  r.data.resize(LoadBe32(h + 16));
  BYOK_TRY(ReadBytes(r.data));
  return r;
}

Result<ExportInfo> TestClient::Go(const std::string& name, uint32_t option) {
  GoOption go{name, {kInfoBlockSize}};
  BYOK_TRY(SendOption(option, EncodeGoOption(go)));
  ExportInfo info;
  for (;;) {
    BYOK_ASSIGN_OR_RETURN(OptionReply r, ReadOptionReply());
    if (r.option != option) return Status::InvalidArgument("reply to another option");
    if (r.type == kRepAck) return info;
    if (r.type & 0x80000000u) {
      return Status::FailedPrecondition(fmt::format("0x{:08x}: {}", r.type, r.text()));
    }
    if (r.type != kRepInfo || r.data.size() < 2) return Status::InvalidArgument("bad reply");
    ++info.info_replies;
    uint16_t type = LoadBe16(r.data.data());
    if (type == kInfoExport && r.data.size() == 12) {
      info.size = LoadBe64(r.data.data() + 2);
      info.flags = LoadBe16(r.data.data() + 10);
    } else if (type == kInfoBlockSize && r.data.size() == 14) {
      info.minimum = LoadBe32(r.data.data() + 2);
      info.preferred = LoadBe32(r.data.data() + 6);
      info.maximum = LoadBe32(r.data.data() + 10);
    }
  }
}

Result<ExportInfo> TestClient::Open(const std::string& name) {
  BYOK_ASSIGN_OR_RETURN(uint16_t flags, ReadGreeting());
  if (flags != (kFlagFixedNewstyle | kFlagNoZeroes)) {
    return Status::InvalidArgument("unexpected handshake flags");
  }
  BYOK_TRY(SendClientFlags(kClientFlagFixedNewstyle | kClientFlagNoZeroes));
  return Go(name);
}

Status TestClient::Send(const Request& request, std::span<const uint8_t> payload) {
  if (request.type == kCmdRead) pending_reads_[request.cookie] = request.length;
  BYOK_TRY(WriteBytes(EncodeRequest(request)));
  return WriteBytes(payload);
}

Result<Reply> TestClient::ReadReply() {
  uint8_t h[16];
  BYOK_TRY(ReadBytes(h));
  if (LoadBe32(h) != kSimpleReplyMagic) return Status::InvalidArgument("bad reply magic");
  Reply r;
  r.error = LoadBe32(h + 4);
  r.cookie = LoadBe64(h + 8);
  auto it = pending_reads_.find(r.cookie);
  if (it != pending_reads_.end()) {
    if (r.error == 0) {
      r.data.resize(it->second);
      BYOK_TRY(ReadBytes(r.data));
    }
    pending_reads_.erase(it);
  }
  return r;
}

Result<Reply> TestClient::Call(const Request& request, std::span<const uint8_t> payload) {
  BYOK_TRY(Send(request, payload));
  BYOK_ASSIGN_OR_RETURN(Reply r, ReadReply());
  if (r.cookie != request.cookie) return Status::InvalidArgument("reply for another cookie");
  return r;
}

Result<Reply> TestClient::Read(uint64_t offset, uint32_t length, uint64_t cookie) {
  return Call({0, kCmdRead, cookie, offset, length});
}

Result<Reply> TestClient::Write(uint64_t offset, std::span<const uint8_t> data, uint16_t flags,
                                uint64_t cookie) {
  return Call({flags, kCmdWrite, cookie, offset, static_cast<uint32_t>(data.size())}, data);
}

std::vector<uint8_t> Pattern(size_t length, uint8_t seed) {
  std::vector<uint8_t> v(length);
  uint32_t x = 0x9e3779b9u * (seed + 1u);
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  return v;
}

}  // namespace byok::nbd::test
