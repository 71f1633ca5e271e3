#include "daemon/daemon.h"

#include <pthread.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "audit/audit.h"
#include "authz/rbac.h"
#include "authz/roles.h"
#include "blockstore/blockstore.h"
#include "common/files.h"
#include "common/logging.h"
#include "common/scheduler.h"
#include "compute/attachments.h"
#include "compute/disk_encryption_sets.h"
#include "compute/disks.h"
#include "compute/vault_key_wrapper.h"
#include "containerservice/cluster_store.h"
#include "containerservice/containerservice.h"
#include "containerservice/nodes.h"
#include "daemon/admin_routes.h"
#include "daemon/emulated_clock.h"
#include "daemon/status_routes.h"
#include "daemon/tls_material.h"
#include "gateway/authorization_provider.h"
#include "gateway/frontend.h"
#include "gateway/operations.h"
#include "gateway/resources_provider.h"
#include "http/server.h"
#include "identity/bootstrap.h"
#include "identity/identity_service.h"
#include "keyvault/backup.h"
#include "keyvault/keys_service.h"
#include "keyvault/vaults.h"
#include "kube/api_server.h"
#include "kube/object_store.h"
#include "kube/provisioner.h"
#include "kube/volumes.h"
#include "nbd/server.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::daemon {

int DefaultHttpWorkers() {
  return std::max(4, 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

namespace {

int HttpWorkers(const DaemonOptions& options) {
  return options.http_workers > 0 ? options.http_workers : DefaultHttpWorkers();
}

std::string UrlHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// How often the scheduler's housekeeping tasks run, in real time (`byok clock advance` also runs
// them at once).
constexpr std::chrono::seconds kSchedulerInterval{30};

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
    // Enough idle connections for every HTTP worker plus the audit writer and the scheduler:
    // otherwise a loaded server opens (and re-prepares statements on) a new SQLite connection
    // for most transactions (docs/BENCHMARKS.md).
    so.max_idle_connections = static_cast<size_t>(HttpWorkers(options)) + 4;
    // Key Vault backup blobs are sealed under a key derived from the root key (only this
    // installation can restore them; keyvault/backup.h).
    BYOK_ASSIGN_OR_RETURN(backup_key_, keyvault::DeriveBackupKey(root_key.bytes()));
    // Platform-layer disk keys are wrapped under a key derived from the root key
    // (blockstore::PlatformKeyWrapper, built in InitDisks; this copy is wiped there).
    disk_root_key_ = SecretBytes(root_key.bytes());
    BYOK_ASSIGN_OR_RETURN(store_, store::OpenSqliteStore(so, clock_, std::move(root_key)));
    // The emulated clock keeps its offset across restarts.
    BYOK_ASSIGN_OR_RETURN(std::chrono::nanoseconds offset, LoadClockOffset(*store_));
    clock_.Advance(offset);
    if (offset.count() > 0) {
      spdlog::info("emulated clock is {} s ahead of the system clock",
                   std::chrono::duration_cast<std::chrono::seconds>(offset).count());
    }
    // Housekeeping on the emulated clock, and the audit log; services registered by
    // InitServices add their tasks to scheduler_ and append to audit_.
    scheduler_ = std::make_unique<Scheduler>(clock_, kSchedulerInterval);
    audit_ = audit::AuditLog::Open(*store_, clock_);
    audit::AuditLog* audit_log = audit_.get();
    scheduler_->Add("audit.prune", [audit_log](TimePoint) { return audit_log->Prune().status(); });
    // Certificates are checked by clients against their wall clock: never the emulated one.
    BYOK_ASSIGN_OR_RETURN(TlsMaterial tls, EnsureTlsMaterial(*store_, dir_, SystemClock::Instance(),
                                                             options.listen_host));
    ca_path_ = tls.ca_cert_path;
    // The kubeconfigs' certificate-authority-data (containerservice: server_ca_pem()).
    BYOK_ASSIGN_OR_RETURN(server_ca_pem_, ReadFile(ca_path_));

    http::Router router;
    started_ = clock_.Now();
    AddStatusRoutes(router, StatusInfo{dir_.root, started_, ::getpid()});
    BYOK_TRY(InitServices(router));

    http::ServerOptions so_http;
    so_http.listen_host = options.listen_host;
    so_http.port = options.port;
    so_http.certificate_chain_pem = std::move(tls.server_chain_pem);
    so_http.private_key_pem = std::move(tls.server_key_pem);
    so_http.worker_threads = HttpWorkers(options);
    // kubectl's client certificates: requested from everyone with an empty CA list, checked by
    // the clusters' API servers (kube/api_server.h) against each cluster's own CA.
    so_http.request_any_client_certificate = true;
    BYOK_ASSIGN_OR_RETURN(server_, http::Server::Start(std::move(so_http), std::move(router)));
    scheduler_->Start();
    provisioner_->Start();

    url_ = fmt::format("https://{}:{}", UrlHost(options.listen_host), server_->port());
    identity_->SetServerBaseUrls(
        identity::DefaultServerBaseUrls(options.listen_host, server_->port()));
    compute::NbdEndpoint nbd = attachments_->endpoint();
    ServerInfo info{url_,     options.listen_host, server_->port(), ::getpid(),
                    ca_path_, nbd.tcp_host,        nbd.tcp_port,    nbd.unix_path};
    BYOK_TRY(WriteServerInfo(dir_, info));
    return Status::Ok();
  }

  // Identity, RBAC and the ARM front end with its providers.
  Status InitServices(http::Router& router) {
    Random& random = CryptoRandom();
    // Identity runs on the wall clock, not the emulated one: token lifetimes must hold in real
    // time for clients that cache tokens (MSAL), whatever `byok clock advance` does.
    const Clock& wall_clock = SystemClock::Instance();
    BYOK_ASSIGN_OR_RETURN(identity::BootstrapResult boot,
                          identity::Bootstrap(*store_, wall_clock, random));
    if (!boot.password.empty()) {
      std::string path = identity::CredentialsFilePath(dir_.root);
      BYOK_TRY(identity::WriteCredentialsFile(path, boot));
      spdlog::info("bootstrap service principal {} created; credentials in {}",
                   boot.principal.app_id, path);
    }
    BYOK_ASSIGN_OR_RETURN(identity_, identity::IdentityService::Open(*store_, wall_clock, random));
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
    keyvault::VaultsDeps vd;
    vd.store = store_.get();
    vd.clock = &clock_;
    vd.random = &random;
    vd.operations = operations_.get();
    vd.vault_dns_suffix = [this] { return fmt::format(".vault.localhost:{}", port()); };
    keyvault::RegisterVaultsProvider(*frontend_, std::move(vd));
    store::Store* vault_store = store_.get();
    scheduler_->Add("keyvault.purge_deleted_vaults", [vault_store](TimePoint now) {
      return keyvault::PurgeExpiredVaults(*vault_store, now);
    });
    // The keys data plane at {vault}.vault.localhost, on the emulated clock.
    keyvault::KeysServiceDeps kd;
    kd.store = store_.get();
    kd.clock = &clock_;
    kd.random = &random;
    kd.authenticator = &identity_->authenticator();
    kd.authorizer = rbac_.get();
    kd.audit = audit_.get();
    kd.backup_key = std::move(backup_key_);
    keys_ = std::make_unique<keyvault::KeysService>(std::move(kd));
    keys_->AddRoutes(router);
    keyvault::KeysService* keys = keys_.get();
    scheduler_->Add("keyvault.purge_deleted_keys",
                    [keys](TimePoint now) { return keys->PurgeExpired(now); });
    scheduler_->Add("keyvault.rotation_policies",
                    [keys](TimePoint now) { return keys->RunRotationPolicies(now); });
    BYOK_TRY(InitDisks(random));
    BYOK_TRY(InitAttachments(random));
    // The clusters' Kubernetes objects (kube/object_store.h), before the providers: a cluster
    // delete resumed at start-up tells it to forget the cluster.
    kube_objects_ = std::make_unique<kube::ObjectStore>(
        kube::ObjectStoreDeps{store_.get(), &clock_, &CryptoRandom()});
    BYOK_TRY(InitClusters(random));
    gateway::RegisterAuthorizationProvider(*frontend_, *rbac_);
    identity::AddIdentityRoutes(router, *identity_);
    frontend_->AddRoutes(router);
    // The clusters' Kubernetes API servers at /k8s/{uniqueId}/... (any host), on the emulated
    // clock.
    // Their objects live in one ObjectStore (kube/object_store.h), also the provisioner's.
    kube::AddApiServerRoutes(router,
                             kube::ApiServerDeps{store_.get(), &clock_, kube_objects_.get()});
    BYOK_TRY(InitProvisioner(random));

    AdminDeps ad;
    ad.store = store_.get();
    ad.clock = &clock_;
    ad.scheduler = scheduler_.get();
    ad.audit = audit_.get();
    ad.identity = identity_.get();
    ad.authorizer = rbac_.get();
    ad.subscription_id = boot.subscription_id;
    ad.bootstrap_object_id = boot.principal.object_id;
    ad.attachments = attachments_.get();
    ad.blocks = blocks_.get();
    compute::AttachmentManager* attachments = attachments_.get();
    // The revocation monitor observes the time before a jump too (as it would have while the
    // time passed), so `byok clock advance 1h` right after a key is disabled ends the grace period.
    // AKS nodes likewise (containerservice.check_nodes).
    containerservice::NodeManager* nodes = nodes_.get();
    // Failed claims are retried at once after a clock advance (kube/provisioner.h).
    kube::Provisioner* claims = provisioner_.get();
    ad.before_clock_advance = [attachments, nodes, claims](TimePoint now) {
      claims->ResetBackoff();
      Status disks = attachments->CheckKeys(now);
      Status node_keys = nodes->CheckNodes(now);
      return disks.ok() ? node_keys : disks;
    };
    ad.nodes = nodes;
    // `byok volume attach|detach` (kube/volumes.h): claims' disks on nodes, over NBD.
    kube::VolumeDeps volume_deps;
    volume_deps.objects = kube_objects_.get();
    volume_deps.store = store_.get();
    volume_deps.list_nodes = [nodes](std::string_view uid) { return nodes->List(uid); };
    volume_deps.attach = [attachments](const std::string& disk_id, const std::string& managed_by,
                                       std::string_view caller) {
      return attachments->Attach(disk_id, caller, compute::AttachOptions{managed_by});
    };
    volume_deps.detach = [attachments](const std::string& disk_id, std::string_view caller) {
      return attachments->Detach(disk_id, caller);
    };
    kube::Provisioner* provisioner = provisioner_.get();
    volume_deps.reconcile = [provisioner](std::string_view uid) {
      return provisioner->Reconcile(uid);
    };
    volumes_ = std::make_unique<kube::VolumeManager>(std::move(volume_deps));
    ad.volumes = volumes_.get();
    AddAdminRoutes(router, std::move(ad));
    return Status::Ok();
  }

  // Managed disks: the BlockStore under <data-dir>/disks (platform layers wrapped under the root
  // key, customer layers through Key Vault as the DES identity: VaultKeyWrapper calls the keys
  // data plane's own handlers, routed by kv_router_), the Microsoft.Compute providers and the
  // automatic key rotation of disk encryption sets.
  Status InitDisks(Random& random) {
    kv_router_ = std::make_unique<http::Router>();
    keys_->AddRoutes(*kv_router_);
    compute::VaultKeyWrapperDeps vw;
    vw.router = kv_router_.get();
    vw.identity = identity_.get();
    vw.store = store_.get();
    vw.random = &random;
    vault_keys_ = std::make_unique<compute::VaultKeyWrapper>(vw);
    platform_keys_ =
        std::make_unique<blockstore::PlatformKeyWrapper>(disk_root_key_.span(), vault_keys_.get());
    disk_root_key_.Wipe();
    blockstore::BlockStore::Options bo;
    bo.directory = dir_.Path("disks");
    bo.wrapper = platform_keys_.get();
    bo.random = &random;
    bo.now_rfc3339 = [this] { return FormatAzureTime(clock_.Now()); };
    blocks_ = std::make_unique<blockstore::BlockStore>(std::move(bo));

    compute::ComputeDeps cd;
    cd.store = store_.get();
    cd.clock = &clock_;
    cd.random = &random;
    cd.authorizer = rbac_.get();
    cd.directory = &identity_->directory();
    cd.blocks = blocks_.get();
    cd.vault_keys = vault_keys_.get();
    cd.operations = operations_.get();
    cd.des_users = containerservice::ClustersUsingDes;
    disk_encryption_sets_ = compute::RegisterDiskEncryptionSetsProvider(*frontend_, cd);
    disks_service_ = compute::RegisterDisksProvider(*frontend_, cd);
    compute::DiskEncryptionSets* des = disk_encryption_sets_.get();
    scheduler_->Add("compute.auto_key_rotation",
                    [des](TimePoint now) { return des->RunAutoKeyRotation(now); });
    return Status::Ok();
  }

  // AKS (containerservice/containerservice.h): the NodeManager (nodes and their OS disks through
  // the disk service and the BlockStore; its revocation monitor on the scheduler) and the
  // Microsoft.ContainerService providers.
  Status InitClusters(Random& random) {
    containerservice::NodeDeps nd;
    nd.store = store_.get();
    nd.clock = &clock_;
    nd.random = &random;
    nd.blocks = blocks_.get();
    nd.disks = disks_service_.get();
    nd.customer_keys = vault_keys_.get();
    nodes_ = std::make_unique<containerservice::NodeManager>(nd);
    containerservice::NodeManager* nodes = nodes_.get();
    scheduler_->Add("containerservice.check_nodes",
                    [nodes](TimePoint now) { return nodes->CheckNodes(now); });
    containerservice::ContainerServiceDeps cd;
    cd.store = store_.get();
    cd.clock = &clock_;
    cd.random = &random;
    cd.rbac = rbac_.get();
    cd.directory = &identity_->directory();
    cd.operations = operations_.get();
    cd.frontend = frontend_.get();
    cd.nodes = nodes;
    cd.api_base_url = [this] { return kube_api_base_url(); };
    cd.server_ca_pem = [this] { return server_ca_pem_; };
    kube::ObjectStore* kube_objects = kube_objects_.get();  // created before this
    cd.on_cluster_deleted = [kube_objects](std::string_view unique_id) {
      kube_objects->ForgetCluster(unique_id);
    };
    clusters_ = containerservice::RegisterContainerServiceProviders(*frontend_, std::move(cd));
    return Status::Ok();
  }

  // The clusters' dynamic volume provisioner (kube/provisioner.h): managed disks created and
  // deleted through byokd's own ARM endpoint as each cluster's identity; started once the server
  // listens (StartProvisioner), retried by the scheduler (every tick and `byok clock advance`).
  Status InitProvisioner(Random& random) {
    kube::HttpsArmClientOptions ao;
    ao.identity = identity_.get();
    ao.base_url = [this] {
      std::string host = options_.listen_host;
      if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
      if (host == "::") host = "::1";
      return fmt::format("https://{}:{}", UrlHost(host), port());
    };
    ao.ca_file = ca_path_;
    kube_arm_ = kube::NewHttpsArmClient(std::move(ao));
    kube::ProvisionerDeps pd;
    pd.objects = kube_objects_.get();
    pd.store = store_.get();
    pd.clock = &clock_;
    pd.random = &random;
    pd.arm = kube_arm_.get();
    // The cluster identity's Contributor on its node resource group (where its disks go) is
    // granted when the cluster is created (containerservice), as AKS does.
    provisioner_ = std::make_unique<kube::Provisioner>(std::move(pd));
    kube::Provisioner* provisioner = provisioner_.get();
    scheduler_->Add("kube.provisioner",
                    [provisioner](TimePoint now) { return provisioner->ReconcileAll(now); });
    return Status::Ok();
  }

  // NBD attachments of disks (compute/attachments.h): the AttachmentManager, its revocation
  // monitor on the scheduler, and the NBD server resolving exports through it (started here, so
  // its port is known before the admin API answers).
  Status InitAttachments(Random& random) {
    compute::AttachmentDeps ad;
    ad.store = store_.get();
    ad.clock = &clock_;
    ad.random = &random;
    ad.blocks = blocks_.get();
    ad.customer_keys = vault_keys_.get();
    attachments_ = std::make_unique<compute::AttachmentManager>(ad);
    compute::AttachmentManager* attachments = attachments_.get();
    scheduler_->Add("compute.check_disk_keys",
                    [attachments](TimePoint now) { return attachments->CheckKeys(now); });

    nbd::ServerOptions no;
    // Sector encryption is CPU-bound: one I/O worker per core.
    no.workers = std::max(2u, std::thread::hardware_concurrency());
    if (!options_.nbd_listen.empty()) {
      BYOK_ASSIGN_OR_RETURN(auto addr, ParseListenAddress(options_.nbd_listen));
      no.tcp_host = addr.first;
      no.tcp_port = addr.second;
    }
    std::string socket = options_.nbd_socket.value_or(dir_.nbd_socket());
    if (!socket.empty()) no.unix_path = socket;
    if (!no.tcp_host && !no.unix_path) return Status::Ok();
    nbd_ = std::make_unique<nbd::Server>(
        no, [attachments](const std::string& name) { return attachments->Resolve(name); });
    if (Status s = nbd_->Start(); !s.ok()) return s.WithContext("cannot start the NBD server");
    compute::NbdEndpoint endpoint;
    endpoint.tcp_host = no.tcp_host.value_or("");
    endpoint.tcp_port = no.tcp_host ? nbd_->tcp_port() : 0;
    endpoint.unix_path = socket;
    attachments_->SetEndpoint(endpoint);
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
  // The base of the clusters' Kubernetes API server URLs in kubeconfigs: the ARM endpoint as
  // `byok azure-cli setup` publishes it.
  std::string kube_api_base_url() const { return fmt::format("https://localhost:{}", port()); }
  compute::NbdEndpoint nbd_endpoint() const {
    return attachments_ ? attachments_->endpoint() : compute::NbdEndpoint{};
  }
  uint16_t nbd_port() const override { return nbd_endpoint().tcp_port; }
  std::string nbd_host() const override { return nbd_endpoint().tcp_host; }
  std::string nbd_socket() const override { return nbd_endpoint().unix_path; }

  void Shutdown() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    // Before the server: the provisioner calls ARM on it.
    if (provisioner_) provisioner_->Stop();
    if (server_) {
      RemoveServerInfo(dir_);
      server_->Shutdown(options_.shutdown_grace);
    }
    // Before the scheduler and, at destruction, the BlockStore: connections end, in-flight
    // requests finish first.
    if (nbd_) nbd_->Stop();
    if (scheduler_) scheduler_->Stop();
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
  // Declared after store_ (destroyed before it): the scheduler's tasks and the audit writer use
  // the store.
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<identity::IdentityService> identity_;
  std::unique_ptr<authz::Rbac> rbac_;
  std::unique_ptr<gateway::Frontend> frontend_;
  std::unique_ptr<gateway::Operations> operations_;
  std::shared_ptr<void> resources_;
  SecretBytes backup_key_;
  std::unique_ptr<keyvault::KeysService> keys_;
  // Disks (InitDisks). The BlockStore and the VaultKeyWrapper are what NBD attachments use.
  SecretBytes disk_root_key_;
  std::unique_ptr<http::Router> kv_router_;  // the keys data plane, for VaultKeyWrapper
  std::unique_ptr<compute::VaultKeyWrapper> vault_keys_;
  std::unique_ptr<blockstore::PlatformKeyWrapper> platform_keys_;
  std::unique_ptr<blockstore::BlockStore> blocks_;
  std::shared_ptr<compute::DiskEncryptionSets> disk_encryption_sets_;
  std::shared_ptr<compute::DiskService> disks_service_;  // managed disks for other modules (AKS)
  // Declared after the BlockStore and the wrappers (destroyed before them): attachments hold
  // Volumes; the NBD server's connections use both (Shutdown stops it first).
  std::unique_ptr<compute::AttachmentManager> attachments_;
  // AKS (InitClusters): nodes use the disk service, the BlockStore and the wrappers; their work
  // runs on operations_, drained by Wait() before destruction.
  std::unique_ptr<containerservice::NodeManager> nodes_;
  std::shared_ptr<void> clusters_;
  // The clusters' Kubernetes objects (the API servers and the provisioner use it).
  std::unique_ptr<kube::ObjectStore> kube_objects_;
  // The provisioner and its ARM client (destroyed before the object store and identity).
  std::unique_ptr<kube::ArmClient> kube_arm_;
  std::unique_ptr<kube::Provisioner> provisioner_;
  std::unique_ptr<kube::VolumeManager> volumes_;
  std::unique_ptr<nbd::Server> nbd_;
  std::unique_ptr<http::Server> server_;
  std::string url_;
  std::string ca_path_;
  std::string server_ca_pem_;  // the PEM at ca_path_
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
  std::printf("listening on %s\n", (*daemon)->url().c_str());
  if ((*daemon)->nbd_port() != 0) {
    std::string host = (*daemon)->nbd_host();
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    std::printf("nbd: nbd://%s:%u\n", host.c_str(), (*daemon)->nbd_port());
  }
  if (!(*daemon)->nbd_socket().empty()) {
    std::printf("nbd socket: %s\n", (*daemon)->nbd_socket().c_str());
  }
  std::printf("ca: %s\n", (*daemon)->ca_path().c_str());
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
