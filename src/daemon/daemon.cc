#include "daemon/daemon.h"

#include <pthread.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/files.h"
#include "common/logging.h"
#include "daemon/status_routes.h"
#include "daemon/tls_material.h"
#include "http/server.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::daemon {
namespace {

std::string UrlHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

class DaemonImpl final : public Daemon {
 public:
  DaemonImpl(DataDir dir, DataDirLock lock) : dir_(std::move(dir)), lock_(std::move(lock)) {}

  ~DaemonImpl() override {
    Shutdown();
    Wait();
  }

  Status Init(const DaemonOptions& options) {
    options_ = options;
    store::RootKeyOptions rk;
    rk.data_dir = dir_.root;
    rk.key_file = options.root_key_file;
    BYOK_ASSIGN_OR_RETURN(store::RootKey root_key, store::LoadOrCreateRootKey(rk));
    store::SqliteOptions so;
    so.data_dir = dir_.root;
    BYOK_ASSIGN_OR_RETURN(store_, store::OpenSqliteStore(so, clock_, std::move(root_key)));
    BYOK_ASSIGN_OR_RETURN(TlsMaterial tls,
                          EnsureTlsMaterial(*store_, dir_, clock_, options.listen_host));
    ca_path_ = tls.ca_cert_path;

    http::Router router;
    started_ = clock_.Now();
    AddStatusRoutes(router, StatusInfo{dir_.root, started_, ::getpid()});

    http::ServerOptions so_http;
    so_http.listen_host = options.listen_host;
    so_http.port = options.port;
    so_http.certificate_chain_pem = std::move(tls.server_chain_pem);
    so_http.private_key_pem = std::move(tls.server_key_pem);
    BYOK_ASSIGN_OR_RETURN(server_, http::Server::Start(std::move(so_http), std::move(router)));

    url_ = fmt::format("https://{}:{}", UrlHost(options.listen_host), server_->port());
    ServerInfo info{url_, options.listen_host, server_->port(), ::getpid(), ca_path_};
    BYOK_TRY(WriteServerInfo(dir_, info));
    return Status::Ok();
  }

  const DataDir& data_dir() const override { return dir_; }
  std::string url() const override { return url_; }
  uint16_t port() const override { return server_ ? server_->port() : 0; }
  std::string ca_path() const override { return ca_path_; }

  void Shutdown() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    if (server_) {
      RemoveServerInfo(dir_);
      server_->Shutdown(options_.shutdown_grace);
    }
  }

  void Wait() override {
    if (server_) server_->Wait();
  }

 private:
  OffsetClock clock_{SystemClock::Instance()};
  DataDir dir_;
  DataDirLock lock_;
  DaemonOptions options_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<http::Server> server_;
  std::string url_;
  std::string ca_path_;
  TimePoint started_;
  std::mutex mu_;
  bool shut_down_ = false;
};

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::Start(const DaemonOptions& options) {
  DataDir dir = ResolveDataDir(options.data_dir);
  BYOK_TRY(EnsureDirectory(dir.root, 0700));
  BYOK_ASSIGN_OR_RETURN(DataDirLock lock, DataDirLock::Acquire(dir));
  auto daemon = std::make_unique<DaemonImpl>(dir, std::move(lock));
  BYOK_TRY(daemon->Init(options));
  return std::unique_ptr<Daemon>(std::move(daemon));
}

int RunDaemon(const DaemonOptions& options) {
  if (Status s = InitLogging(options.log_level); !s.ok()) {
    std::fprintf(stderr, "byokd: %s\n", s.message().c_str());
    return 2;
  }
  // Block the stop signals in every thread (threads inherit the mask), then wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto daemon = Daemon::Start(options);
  if (!daemon.ok()) {
    std::fprintf(stderr, "byokd: cannot start: %s\n", daemon.status().message().c_str());
    return 1;
  }
  std::printf("listening on %s\nca: %s\n", (*daemon)->url().c_str(), (*daemon)->ca_path().c_str());
  std::fflush(stdout);
  spdlog::info("byokd serving {} from data directory {}", (*daemon)->url(),
               (*daemon)->data_dir().root);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*daemon)->Shutdown();
  (*daemon)->Wait();
  daemon->reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace byok::daemon
