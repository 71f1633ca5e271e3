#include "nbd/socket_io.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace byok::nbd {
namespace {

constexpr int kBacklog = 128;
constexpr int kSocketBufferBytes = 4 * 1024 * 1024;  // capped by net.core.[rw]mem_max
constexpr int kSendTimeoutSeconds = 60;

Status Errno(std::string_view what) {
  return Status::Unavailable(fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

Result<int> ListenTcp(const std::string& host, uint16_t port, uint16_t* bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    return Status::InvalidArgument(
        fmt::format("NBD listen address {}:{}: {}", host, port, gai_strerror(rc)));
  }
  Status last =
      Status::Unavailable(fmt::format("NBD listen address {}:{}: no address", host, port));
  int fd = -1;
  for (addrinfo* ai = list; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = Errno("socket");
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, kBacklog) != 0) {
      last = Errno(fmt::format("cannot listen on {}:{}", host, port));
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(list);
  if (fd < 0) return last;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

Result<int> ListenUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument(fmt::format("unix socket path too long or empty: {}", path));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::InvalidArgument(fmt::format("{} exists and is not a socket", path));
    }
    unlink(path.c_str());
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, kBacklog) != 0) {
    Status s = Errno(fmt::format("cannot listen on unix socket {}", path));
    close(fd);
    return s;
  }
  return fd;
}

void ConfigureConnection(int fd, bool tcp) {
  int size = kSocketBufferBytes;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  // A client that stops reading its replies cannot hold a worker (or Stop) forever.
  timeval tv{};
  tv.tv_sec = kSendTimeoutSeconds;
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (tcp) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

std::string PeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return fmt::format("{}:{}", text, ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return fmt::format("[{}]:{}", text, ntohs(in6->sin6_port));
  }
  return "unix";
}

void SetReceiveTimeout(int fd, int seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

SocketReader::SocketReader(int fd, size_t staging_size)
    : fd_(fd), size_(staging_size), staging_(new uint8_t[staging_size]) {}

Status SocketReader::Fill() {
  begin_ = end_ = 0;
  for (;;) {
    ssize_t n = recv(fd_, staging_.get(), size_, 0);
    if (n > 0) {
      end_ = static_cast<size_t>(n);
      return Status::Ok();
    }
    if (n == 0) return Status::Unavailable("connection closed");
    if (errno != EINTR) return Errno("recv");
  }
}

Status SocketReader::ReadExact(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    if (begin_ < end_) {
      size_t n = std::min(end_ - begin_, out.size() - done);
      std::memcpy(out.data() + done, staging_.get() + begin_, n);
      begin_ += n;
      done += n;
      continue;
    }
    size_t want = out.size() - done;
    if (want < size_ / 2) {
      BYOK_TRY(Fill());
      continue;
    }
    // Large remainder: straight into the caller's (aligned) buffer, no staging copy.
    ssize_t n = recv(fd_, out.data() + done, want, MSG_WAITALL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0) {
      return Status::Unavailable("connection closed");
    } else if (errno != EINTR) {
      return Errno("recv");
    }
  }
  return Status::Ok();
}

Status SocketReader::Skip(size_t n) {
  while (n > 0) {
    if (begin_ == end_) BYOK_TRY(Fill());
    size_t k = std::min(end_ - begin_, n);
    begin_ += k;
    n -= k;
  }
  return Status::Ok();
}

Status SendAll(int fd, struct iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("send");
    }
    auto left = static_cast<size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Status::Ok();
}

Status SendAll(int fd, std::span<const uint8_t> bytes) {
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  return SendAll(fd, &iov, 1);
}

}  // namespace byok::nbd
