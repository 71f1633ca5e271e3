// Test support for the nbd module: an in-memory BlockDevice test double with call counters,
// error injection and a gate that holds requests, and a raw-socket NBD client that speaks the
// handshake and the transmission phase byte by byte (so tests can also send malformed input).
//
// Thread safety: MemoryDevice is thread-safe (it is called from the server's workers); a
// TestClient is used by one thread at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "blockstore/block_device.h"
#include "common/status.h"
#include "nbd/protocol.h"
#include "nbd/server.h"

namespace byok::nbd::test {

// Holds the threads that Pass() while closed; counts them.
class Gate {
 public:
  void Close();
  void Open();
  void Pass();
  // Blocks until at least n threads are held (or 10 s passed: returns false).
  bool WaitForHeld(int n);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int held_ = 0;
};

class MemoryDevice : public blockstore::BlockDevice {
 public:
  explicit MemoryDevice(uint64_t size, uint32_t block_size = 4096);

  uint64_t size() const override { return data_.size(); }
  uint32_t preferred_block_size() const override { return block_size_; }
  Status Read(uint64_t offset, std::span<uint8_t> out) override;
  Status Write(uint64_t offset, std::span<uint8_t> data, bool fua) override;
  Status Flush() override;
  Status Trim(uint64_t offset, uint64_t length, bool fua) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) override;

  // Every call fails with `status` until cleared (nullopt).
  void SetFailure(std::optional<Status> status);
  // Reads at `offset` (or all I/O when nullopt) pass through `gate` first.
  void SetGate(Gate* gate, std::optional<uint64_t> offset = std::nullopt);

  std::vector<uint8_t> Contents(uint64_t offset, size_t length);
  void Fill(uint64_t offset, std::span<const uint8_t> bytes);

  std::atomic<int> reads{0}, writes{0}, fua_writes{0}, flushes{0}, trims{0}, zeroes{0},
      fua_other{0};

 private:
  Status Enter(bool is_read, uint64_t offset);
  Status Check(uint64_t offset, uint64_t length) const;

  const uint32_t block_size_;
  std::mutex mu_;
  std::vector<uint8_t> data_;
  std::optional<Status> failure_;
  Gate* gate_ = nullptr;
  std::optional<uint64_t> gate_offset_;
};

// Server on 127.0.0.1:0 and a unix socket in a temporary directory, exports from a map.
class TestServer {
 public:
  explicit TestServer(unsigned workers = 2);
  ~TestServer();
  void AddExport(const std::string& name, std::shared_ptr<blockstore::BlockDevice> device);
  void RemoveExport(const std::string& name);
  Server& server() { return *server_; }
  uint16_t port() const { return server_->tcp_port(); }
  std::string unix_path() const { return *server_->unix_path(); }
  // The resolver's message for an unknown export.
  static constexpr const char* kUnknownMessage = "no attached disk has this export name";

 private:
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<blockstore::BlockDevice>> exports_;
  std::unique_ptr<Server> server_;
};

struct OptionReply {
  uint32_t option = 0;
  uint32_t type = 0;
  std::vector<uint8_t> data;
  std::string text() const { return std::string(data.begin(), data.end()); }
};

struct ExportInfo {
  uint64_t size = 0;
  uint16_t flags = 0;
  uint32_t minimum = 0, preferred = 0, maximum = 0;
  int info_replies = 0;
};

struct Reply {
  uint32_t error = 0;
  uint64_t cookie = 0;
  std::vector<uint8_t> data;
};

class TestClient {
 public:
  static Result<std::unique_ptr<TestClient>> ConnectTcp(uint16_t port);
  static Result<std::unique_ptr<TestClient>> ConnectUnix(const std::string& path);
  ~TestClient();

  Status WriteBytes(std::span<const uint8_t> bytes);
  Status ReadBytes(std::span<uint8_t> out);
  // True if the server closed the connection (EOF or reset) within 10 s; data is discarded.
  bool WaitClosed();

  // Handshake steps.
  Result<uint16_t> ReadGreeting();  // the handshake flags
  Status SendClientFlags(uint32_t flags);
  Status SendOption(uint32_t option, std::span<const uint8_t> data = {});
  Result<OptionReply> ReadOptionReply();
  // NBD_OPT_GO or NBD_OPT_INFO asking for NBD_INFO_BLOCK_SIZE; an error reply becomes
  // FailedPrecondition "<reply type in hex>: <message>".
  Result<ExportInfo> Go(const std::string& name, uint32_t option = kOptGo);
  // Greeting, client flags (fixed newstyle + no zeroes), GO.
  Result<ExportInfo> Open(const std::string& name);

  // Transmission.
  Status Send(const Request& request, std::span<const uint8_t> payload = {});
  Result<Reply> ReadReply();  // READ replies carry the length sent with that cookie
  Result<Reply> Call(const Request& request, std::span<const uint8_t> payload = {});
  Result<Reply> Read(uint64_t offset, uint32_t length, uint64_t cookie = 1);
  Result<Reply> Write(uint64_t offset, std::span<const uint8_t> data, uint16_t flags = 0,
                      uint64_t cookie = 2);

 private:
  explicit TestClient(int fd);
  int fd_;
  std::map<uint64_t, uint32_t> pending_reads_;
};

std::vector<uint8_t> Pattern(size_t length, uint8_t seed);

}  // namespace byok::nbd::test
