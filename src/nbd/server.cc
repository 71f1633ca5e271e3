#include "nbd/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "nbd/connection.h"
#include "nbd/socket_io.h"
#include "nbd/worker_pool.h"

namespace byok::nbd {
namespace {

constexpr size_t kMaxConnections = 1024;
constexpr unsigned kMaxExtraWorkers = 64;

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, ExportResolver resolver)
      : options_(std::move(options)), resolver_(std::move(resolver)) {}
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  uint16_t tcp_port() const { return tcp_port_; }
  const std::optional<std::string>& unix_path() const { return options_.unix_path; }

 private:
  struct Entry {
    std::unique_ptr<Connection> connection;
    std::thread thread;
  };
  void AcceptLoop(int listen_fd, bool tcp);
  void ReapFinished();

  const ServerOptions options_;
  const ExportResolver resolver_;
  std::unique_ptr<WorkerPool> pool_;
  int tcp_fd_ = -1;
  int unix_fd_ = -1;
  uint16_t tcp_port_ = 0;
  std::vector<std::thread> acceptors_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  bool stopped_ = false;

  std::mutex mu_;
  std::list<Entry> connections_;
};

Status Server::Impl::Start() {
  if (started_) return Status::FailedPrecondition("the NBD server was already started");
  if (options_.tcp_host) {
    BYOK_ASSIGN_OR_RETURN(tcp_fd_, ListenTcp(*options_.tcp_host, options_.tcp_port, &tcp_port_));
  }
  if (options_.unix_path) {
    auto fd = ListenUnix(*options_.unix_path);
    if (!fd.ok()) {
      if (tcp_fd_ >= 0) close(std::exchange(tcp_fd_, -1));
      return fd.status();
    }
    unix_fd_ = *fd;
  }
  started_ = true;
  unsigned workers = std::max(options_.workers, 1u);
  pool_ = std::make_unique<WorkerPool>(workers, workers + kMaxExtraWorkers);
  if (tcp_fd_ >= 0) {
    acceptors_.emplace_back([this, fd = tcp_fd_] { AcceptLoop(fd, /*tcp=*/true); });
    spdlog::info("nbd: listening on {}:{}", *options_.tcp_host, tcp_port_);
  }
  if (unix_fd_ >= 0) {
    acceptors_.emplace_back([this, fd = unix_fd_] { AcceptLoop(fd, /*tcp=*/false); });
    spdlog::info("nbd: listening on unix socket {}", *options_.unix_path);
  }
  return Status::Ok();
}

void Server::Impl::AcceptLoop(int listen_fd, bool tcp) {
  while (!stopping_) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) break;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      spdlog::warn("nbd: accept failed: {}", std::strerror(errno));
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // don't spin
        continue;
      }
      break;
    }
    ReapFinished();
    std::lock_guard lock(mu_);
    if (stopping_ || connections_.size() >= kMaxConnections) {
      spdlog::warn("nbd: refused a connection: {}",
                   stopping_ ? "shutting down" : "too many connections");
      close(fd);
      continue;
    }
    Entry& e = connections_.emplace_back();
    e.connection = std::make_unique<Connection>(fd, tcp, options_, resolver_, *pool_);
    Connection* c = e.connection.get();
    try {
      e.thread = std::thread([c] { c->Run(); });
    } catch (const std::system_error& ex) {
      spdlog::warn("nbd: refused a connection: cannot start its thread: {}", ex.what());
      connections_.pop_back();
    }
  }
}

void Server::Impl::ReapFinished() {
  std::list<Entry> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (it->connection->finished()) done.splice(done.end(), connections_, it);
      it = next;
    }
  }
  for (Entry& e : done) e.thread.join();
}

void Server::Impl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_ = true;
  // shutdown() wakes a thread blocked in accept() (it returns EINVAL).
  for (int fd : {tcp_fd_, unix_fd_}) {
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& t : acceptors_) t.join();
  acceptors_.clear();
  for (int* fd : {&tcp_fd_, &unix_fd_}) {
    if (*fd >= 0) close(std::exchange(*fd, -1));
  }
  if (options_.unix_path) unlink(options_.unix_path->c_str());
  std::list<Entry> all;
  {
    std::lock_guard lock(mu_);
    for (Entry& e : connections_) e.connection->Shutdown();
    all.splice(all.end(), connections_);
  }
  // Readers finish their in-flight requests (workers still run) and return.
  for (Entry& e : all) e.thread.join();
  all.clear();
  pool_->Stop();
  spdlog::info("nbd: server stopped");
}

Server::Server(ServerOptions options, ExportResolver resolver)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(resolver))) {}
Server::~Server() = default;
Status Server::Start() { return impl_->Start(); }
void Server::Stop() { impl_->Stop(); }
uint16_t Server::tcp_port() const { return impl_->tcp_port(); }
const std::optional<std::string>& Server::unix_path() const { return impl_->unix_path(); }

}  // namespace byok::nbd
