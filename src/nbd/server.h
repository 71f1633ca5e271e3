// NbdServer: a Network Block Device server (the protocol of
// https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md) serving BlockDevices.
//
// Handshake: fixed newstyle only (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES); options
// NBD_OPT_GO, NBD_OPT_INFO (NBD_INFO_EXPORT, NBD_INFO_BLOCK_SIZE: minimum 1, preferred = the
// device's preferred block size, maximum 32 MiB), NBD_OPT_EXPORT_NAME, NBD_OPT_LIST (lists
// nothing: export names are secrets), NBD_OPT_ABORT; any other option → NBD_REP_ERR_UNSUP.
// Transmission (simple replies): READ, WRITE (NBD_CMD_FLAG_FUA honoured), FLUSH, TRIM,
// WRITE_ZEROES (FUA; NO_HOLE accepted), DISC. Export flags: HAS_FLAGS, SEND_FLUSH, SEND_FUA,
// SEND_TRIM, SEND_WRITE_ZEROES, CAN_MULTI_CONN.
//
// Export names are resolved per handshake through the ExportResolver: an unknown name (a guess,
// or an attachment that was detached) is refused with NBD_REP_ERR_UNKNOWN, and the resolver's
// error message is sent as the reply's text. A device that fails I/O answers that request with
// an NBD error (EIO for FailedPrecondition/DataLoss/Internal, EINVAL for OutOfRange or bad
// requests, ENOSPC never), and keeps the connection. Malformed requests (bad magic, a READ/WRITE
// length over max_request_bytes) end the connection; TRIM/WRITE_ZEROES may be of any length.
//
// Concurrency: one reader thread per connection parses requests and hands them to a shared pool
// of worker threads (Options::workers), so the requests of one connection, and connections to
// different disks, proceed in parallel; replies are written whole (header + payload, one writev)
// under a per-connection lock. I/O buffers are 4 KiB-aligned and reused (no allocation per
// request in steady state). When every worker is busy, a reader with nothing more to read runs
// a small request itself; the pool grows temporarily (up to 64 extra threads) when a connection
// would otherwise wait behind other connections' slow requests (worker_pool.h). Per connection at
// most 128 requests / 128 MiB of payload are in flight; the reader waits beyond that.
// A handshake must complete within 60 s. Logs name an export only by a short prefix.
//
// Listeners: TCP (host:port, port 0 = any; see tcp_port()) and/or a unix socket path (removed
// by Stop). Thread safety: Start once, Stop once (also from the destructor); Stop closes the
// listeners, shuts the connections down (their in-flight requests finish first) and joins all
// threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "blockstore/block_device.h"
#include "common/status.h"

namespace byok::nbd {

// Returns the device for an export name, or an error (NotFound → NBD_REP_ERR_UNKNOWN with the
// message; others → NBD_REP_ERR_UNKNOWN too, message included: the client sees why). The message
// is also logged: it must not contain the export name. Called on the connection's thread, once
// per NBD_OPT_INFO/GO/EXPORT_NAME, concurrently for different connections; the server keeps the
// device only while the connection lasts.
using ExportResolver =
    std::function<Result<std::shared_ptr<blockstore::BlockDevice>>(const std::string& name)>;

struct ServerOptions {
  std::optional<std::string> tcp_host;  // e.g. "127.0.0.1"; nullopt = no TCP listener
  uint16_t tcp_port = 10809;            // 0 = any free port
  std::optional<std::string>
      unix_path;         // nullopt = no unix listener (an old socket file is replaced)
  unsigned workers = 2;  // I/O worker threads shared by all connections
  uint32_t max_request_bytes = 32 * 1024 * 1024;
};

class Server {
 public:
  Server(ServerOptions options, ExportResolver resolver);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Unavailable/InvalidArgument on bind errors.
  Status Start();
  void Stop();
  uint16_t tcp_port() const;  // the bound port (after Start)
  const std::optional<std::string>& unix_path() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byok::nbd
