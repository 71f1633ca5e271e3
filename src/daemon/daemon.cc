#include "daemon/daemon.h"

#include <pthread.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "authz/rbac.h"
#include "authz/roles.h"
#include "common/files.h"
#include "common/logging.h"
#include "daemon/status_routes.h"
#include "daemon/tls_material.h"
#include "gateway/authorization_provider.h"
#include "gateway/frontend.h"
#include "gateway/operations.h"
#include "gateway/resources_provider.h"
#include "http/server.h"
#include "identity/bootstrap.h"
#include "identity/identity_service.h"
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
    BYOK_TRY(InitServices(router));

    http::ServerOptions so_http;
    so_http.listen_host = options.listen_host;
    so_http.port = options.port;
    so_http.certificate_chain_pem = std::move(tls.server_chain_pem);
    so_http.private_key_pem = std::move(tls.server_key_pem);
    BYOK_ASSIGN_OR_RETURN(server_, http::Server::Start(std::move(so_http), std::move(router)));

    url_ = fmt::format("https://{}:{}", UrlHost(options.listen_host), server_->port());
    identity_->SetServerBaseUrls(
        identity::DefaultServerBaseUrls(options.listen_host, server_->port()));
    ServerInfo info{url_, options.listen_host, server_->port(), ::getpid(), ca_path_};
    BYOK_TRY(WriteServerInfo(dir_, info));
    return Status::Ok();
  }

  // Identity, RBAC and the ARM front end with its providers.
  Status InitServices(http::Router& router) {
    Random& random = CryptoRandom();
    BYOK_ASSIGN_OR_RETURN(identity::BootstrapResult boot,
                          identity::Bootstrap(*store_, clock_, random));
    if (!boot.password.empty()) {
      std::string path = identity::CredentialsFilePath(dir_.root);
      BYOK_TRY(identity::WriteCredentialsFile(path, boot));
      spdlog::info("bootstrap service principal {} created; credentials in {}",
                   boot.principal.app_id, path);
    }
    BYOK_ASSIGN_OR_RETURN(identity_, identity::IdentityService::Open(*store_, clock_, random));
    BYOK_TRY(gateway::EnsureSubscription(*store_, boot.subscription_id, boot.tenant_id,
                                         "byok subscription"));

    authz::RbacOptions ro;
    ro.tenant_id = boot.tenant_id;
    identity::IdentityService* ids = identity_.get();
    ro.principal_exists = [ids](std::string_view oid) {
      auto p = ids->directory().FindByObjectId(oid);
      return p.ok();
    };
    BYOK_ASSIGN_OR_RETURN(rbac_, authz::Rbac::Open(*store_, ro));
    if (boot.first_run) BYOK_TRY(AssignBootstrapOwner(boot));

    gateway::Frontend::Deps fd;
    fd.store = store_.get();
    fd.authorizer = rbac_.get();
    fd.clock = &clock_;
    fd.authenticate =
        [ids](const http::Request& req) -> std::variant<identity::Principal, http::Response> {
      auto p = ids->authenticator().Authenticate(req, identity::Audience::kArm);
      if (p.ok()) return std::move(p).value();
      return ids->authenticator().ErrorResponse(req, identity::Audience::kArm, p.error());
    };
    frontend_ = std::make_unique<gateway::Frontend>(fd);
    operations_ = std::make_unique<gateway::Operations>(clock_, random);
    operations_->Register(*frontend_);
    gateway::ResourcesDeps rd;
    rd.store = store_.get();
    rd.clock = &clock_;
    rd.operations = operations_.get();
    rd.frontend = frontend_.get();
    rd.authenticate = fd.authenticate;
    rd.tenant_id = [ids] { return ids->tenant_id(); };
    resources_ = gateway::RegisterResourcesProvider(rd, router);
    gateway::RegisterAuthorizationProvider(*frontend_, *rbac_);
    identity::AddIdentityRoutes(router, *identity_);
    frontend_->AddRoutes(router);
    return Status::Ok();
  }

  // The bootstrap principal is Owner of the bootstrap subscription.
  Status AssignBootstrapOwner(const identity::BootstrapResult& boot) {
    std::string scope = "/subscriptions/" + boot.subscription_id;
    nlohmann::json body = {
        {"properties",
         {{"roleDefinitionId", scope + "/providers/Microsoft.Authorization/roleDefinitions/" +
                                   std::string(authz::kOwnerRoleId)},
          {"principalId", boot.principal.object_id},
          {"principalType", "ServicePrincipal"}}}};
    auto r =
        rbac_->CreateRoleAssignment(scope, CryptoRandom().Uuid(), body, boot.principal.object_id);
    if (!r.ok() && r.error().code != "RoleAssignmentExists") {
      return Status::Internal("cannot make the bootstrap principal Owner: " + r.error().message);
    }
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
    if (operations_) operations_->Drain();
  }

 private:
  OffsetClock clock_{SystemClock::Instance()};
  DataDir dir_;
  DataDirLock lock_;
  DaemonOptions options_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<identity::IdentityService> identity_;
  std::unique_ptr<authz::Rbac> rbac_;
  std::unique_ptr<gateway::Frontend> frontend_;
  std::unique_ptr<gateway::Operations> operations_;
  std::shared_ptr<void> resources_;
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
