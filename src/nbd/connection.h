// Connection (internal to nbd): one NBD client connection — handshake, then transmission.
//
// Run() is the body of the connection's reader thread: it negotiates an export (server.h lists
// the options), then reads requests, answers invalid ones itself and hands the others to the
// shared WorkerPool; workers call the BlockDevice and write the reply (header + payload in one
// sendmsg under write_mu_). When the pool is saturated and nothing more has arrived, the reader
// runs a small (≤ 64 KiB, no FUA, not FLUSH) request itself instead. At most kMaxInflightRequests
// requests / kMaxInflightBytes of payload are in flight per connection; the reader waits beyond
// that (back-pressure). On NBD_CMD_DISC, EOF, a malformed request or a failed reply write, Run
// waits for the in-flight requests, shuts the socket down, drops the device and returns.
//
// Thread safety: Run on one thread; Shutdown and finished from any thread; the destructor after
// Run has returned. Closes the socket.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "blockstore/block_device.h"
#include "nbd/buffer_pool.h"
#include "nbd/protocol.h"
#include "nbd/server.h"
#include "nbd/socket_io.h"
#include "nbd/worker_pool.h"

namespace byok::nbd {

inline constexpr unsigned kMaxInflightRequests = 128;
inline constexpr size_t kMaxInflightBytes = 128u << 20;
inline constexpr int kHandshakeTimeoutSeconds = 60;
inline constexpr unsigned kMaxOptions = 256;  // per handshake

class Connection : public PoolQueue {
 public:
  Connection(int fd, bool tcp, const ServerOptions& options, const ExportResolver& resolver,
             WorkerPool& pool);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Run();
  // Ends the connection (Stop): wakes the reader, which then winds down.
  void Shutdown();
  bool finished() const { return finished_.load(); }

 private:
  struct Task final : PoolTask {
    Connection* conn = nullptr;
    Request request;
    AlignedBuffer buffer;
    size_t charged = 0;  // payload bytes counted in inflight_bytes_
    void Run() override { conn->Execute(*this); }
    void Release() override { conn->Finish(this); }
  };

  // Handshake: the chosen device, or null to end the connection.
  std::shared_ptr<blockstore::BlockDevice> Negotiate();
  Status SendOptionReply(uint32_t option, uint32_t type, std::span<const uint8_t> data = {});
  Status SendOptionError(uint32_t option, uint32_t type, std::string_view message);
  Result<std::shared_ptr<blockstore::BlockDevice>> Resolve(const std::string& name);
  void Transmit();

  uint32_t Validate(const Request& r) const;  // 0 or the NBD error to reply
  Task* Acquire(size_t payload);              // waits for room; null if memory ran out
  void Execute(Task& task);                   // worker thread
  void Finish(Task* task);                    // worker thread, last touch of the connection
  void SendReply(uint32_t error, uint64_t cookie, std::span<const uint8_t> payload);
  void WaitIdle();

  const ServerOptions& options_;
  const ExportResolver& resolver_;
  WorkerPool& pool_;
  const bool tcp_;
  const std::string peer_;
  std::atomic<bool> finished_{false};

  const int fd_;  // open until the destructor: Shutdown never meets a reused descriptor
  SocketReader reader_;

  std::shared_ptr<blockstore::BlockDevice> device_;
  uint64_t size_ = 0;
  std::string export_label_;  // a short prefix of the export name, for logs

  std::mutex write_mu_;
  bool broken_ = false;  // a reply could not be written (guarded by write_mu_)
  std::atomic<bool> logged_error_{false};

  std::mutex mu_;  // in-flight accounting, tasks and buffers
  std::condition_variable cv_;
  unsigned inflight_ = 0;
  size_t inflight_bytes_ = 0;
  bool waiting_ = false;
  BufferPool buffers_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<Task*> free_tasks_;
};

// The first characters of an export name, for logs: names carry secrets.
std::string ExportLabel(const std::string& name);

}  // namespace byok::nbd
