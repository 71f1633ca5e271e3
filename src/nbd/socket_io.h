// Blocking socket helpers (internal to nbd): listeners, a buffered exact reader, whole-message
// writes.
//
// Errors are Status values (Unavailable with the errno text; "connection closed" at EOF). Writes
// use MSG_NOSIGNAL (no SIGPIPE). Thread safety: a SocketReader is used by one thread.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"

namespace byok::nbd {

// A listening TCP socket on host:port (port 0 = any); *bound_port receives the port.
Result<int> ListenTcp(const std::string& host, uint16_t port, uint16_t* bound_port);
// A listening unix stream socket at path; an existing socket file there is replaced.
Result<int> ListenUnix(const std::string& path);
// Per-connection options: large socket buffers, a 60 s send timeout, TCP_NODELAY on TCP.
void ConfigureConnection(int fd, bool tcp);
// "host:port" of a connected TCP peer, or "unix".
std::string PeerName(int fd);
// Receive timeout (0 = none).
void SetReceiveTimeout(int fd, int seconds);

// Reads exact byte counts from a socket through a staging buffer: small messages (request
// headers, 4 KiB payloads) come from few recv calls; large payloads go straight to the caller's
// buffer.
class SocketReader {
 public:
  explicit SocketReader(int fd, size_t staging_size = 128 * 1024);
  Status ReadExact(std::span<uint8_t> out);
  Status Skip(size_t n);
  size_t buffered() const { return end_ - begin_; }  // bytes read ahead, not yet consumed

 private:
  Status Fill();  // at least one more byte into the staging buffer

  int fd_;
  size_t size_;
  std::unique_ptr<uint8_t[]> staging_;
  size_t begin_ = 0, end_ = 0;
};

// Writes every byte of the iovecs (sendmsg, looping over partial writes).
Status SendAll(int fd, struct iovec* iov, int count);
Status SendAll(int fd, std::span<const uint8_t> bytes);

}  // namespace byok::nbd
