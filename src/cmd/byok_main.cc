// byok: the operator CLI. Wiring only; the work is in daemon/.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cmd/serve_options.h"
#include "common/random.h"
#include "daemon/admin_client.h"
#include "daemon/azure_cli.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/demo.h"
#include "identity/admin.h"

namespace {

// Exit statuses: 0 ok, 1 failure, 2 usage, 3 no server running.
constexpr int kExitNoServer = 3;

int ExitFor(const byok::Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "byok: %s\n", s.message().c_str());
  return s.code() == byok::StatusCode::kUnavailable ? kExitNoServer : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"byok: operate a byokd server (a self-hosted Azure BYOK disk-encryption service)."};
  app.require_subcommand(1);
  std::string data_dir;
  auto add_data_dir = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", data_dir,
                    "Data directory of the server (default: $XDG_DATA_HOME/byok or "
                    "~/.local/share/byok)");
  };

  byok::daemon::DaemonOptions serve_options;
  byok::cmd::ServeFlags serve_flags;
  CLI::App* serve = app.add_subcommand("serve", "Run the server in the foreground (same as byokd)");
  byok::cmd::AddServeOptions(*serve, serve_options, serve_flags);

  CLI::App* stop = app.add_subcommand("stop", "Stop the server of a data directory gracefully");
  add_data_dir(stop);
  CLI::App* status = app.add_subcommand(
      "status", "Print the address of the running server; exit 3 if none answers");
  add_data_dir(status);
  CLI::App* env = app.add_subcommand(
      "env", "Print shell 'export' lines for clients of the server: eval \"$(byok env)\"");
  add_data_dir(env);

  CLI::App* sp =
      app.add_subcommand("sp", "Manage service principals (works whether or not the server runs)");
  sp->require_subcommand(1);
  std::string sp_name, sp_id;
  CLI::App* sp_create = sp->add_subcommand(
      "create", "Create a service principal; prints {appId,password,tenant,objectId,displayName}");
  sp_create->add_option("--display-name,-n", sp_name, "Display name (default: byok-sp-<random>)");
  add_data_dir(sp_create);
  CLI::App* sp_list = sp->add_subcommand("list", "List principals as a JSON array");
  add_data_dir(sp_list);
  CLI::App* sp_delete = sp->add_subcommand("delete", "Delete a service principal");
  sp_delete->add_option("id", sp_id, "appId or objectId")->required();
  add_data_dir(sp_delete);
  CLI::App* sp_reset = sp->add_subcommand(
      "reset-secret", "Issue a new secret; prints {appId,password,tenant,objectId,displayName}");
  sp_reset->add_option("id", sp_id, "appId or objectId")->required();
  add_data_dir(sp_reset);

  CLI::App* azure_cli = app.add_subcommand("azure-cli", "Point the Azure CLI (az) at the server");
  azure_cli->require_subcommand(1);
  byok::daemon::AzureCliOptions az_options;
  CLI::App* az_setup = azure_cli->add_subcommand(
      "setup",
      "Register this server as a cloud in an az config dir and log in its bootstrap service "
      "principal (idempotent); prints export lines: eval \"$(byok azure-cli setup ...)\"");
  add_data_dir(az_setup);
  az_setup
      ->add_option("--config-dir", az_options.config_dir,
                   "Azure CLI configuration directory to use (exported as AZURE_CONFIG_DIR; "
                   "created if missing)")
      ->required();
  az_setup->add_option("--az", az_options.az, "The az executable (default: az on PATH)");
  az_setup->add_option("--cloud-name", az_options.cloud_name,
                       "Name of the az cloud to register (default: byok-<port>)");

  CLI::App* clock = app.add_subcommand(
      "clock", "Show or advance the server's emulated clock (Key Vault retention, rotation)");
  clock->require_subcommand(1);
  CLI::App* clock_show = clock->add_subcommand("show", "Print the emulated time and offset (JSON)");
  add_data_dir(clock_show);
  std::string clock_duration;
  CLI::App* clock_advance = clock->add_subcommand(
      "advance",
      "Move the emulated clock forward (never back) and run the housekeeping due by then");
  clock_advance
      ->add_option("duration", clock_duration, "e.g. 30m, 1h, 91d, 2w, P91D, PT1H30M, P1DT2H")
      ->required();
  add_data_dir(clock_advance);

  CLI::App* audit = app.add_subcommand("audit", "List audit records (Key Vault key operations)");
  byok::daemon::AuditFilter audit_filter;
  bool audit_json = false;
  audit->add_option("--vault", audit_filter.vault, "Only records of this vault");
  audit->add_option("--since", audit_filter.since,
                    "Only records at or after this time (2024-01-02T03:04:05Z) or this long "
                    "before now (1h, P1D)");
  audit->add_flag("--json", audit_json, "One JSON object per line instead of a table");
  add_data_dir(audit);

  CLI::App* token = app.add_subcommand(
      "token", "Print an access token minted by the running server (for testing clients)");
  byok::daemon::TokenRequest token_request;
  token->add_option("--app-id", token_request.app_id,
                    "Principal (default: the bootstrap service principal)");
  token->add_option("--resource", token_request.resource,
                    "Audience (default: https://management.core.windows.net/)");
  token->add_option("--expires-in", token_request.expires_in,
                    "Lifetime, e.g. 10m; negative for an already expired token, e.g. -2h "
                    "(default 1h)");
  add_data_dir(token);

  CLI::App* disk = app.add_subcommand(
      "disk", "Attach managed disks over NBD, detach them, inspect their encrypted files");
  disk->require_subcommand(1);
  std::string disk_id;
  bool disk_unix = false;
  bool disk_json = false;
  std::optional<std::string> disk_pattern;
  CLI::App* disk_attach = disk->add_subcommand(
      "attach",
      "Attach a disk: prints one line, its NBD URI nbd://HOST:PORT/EXPORT (the export name is "
      "a secret)");
  disk_attach->add_option("id", disk_id, "The disk's resource id")->required();
  disk_attach->add_flag("--unix", disk_unix,
                        "Print the unix-socket URI nbd+unix:///EXPORT?socket=PATH instead");
  add_data_dir(disk_attach);
  CLI::App* disk_detach = disk->add_subcommand(
      "detach", "Detach a disk: its NBD export stops working, the disk becomes Unattached");
  disk_detach->add_option("id", disk_id, "The disk's resource id")->required();
  add_data_dir(disk_detach);
  CLI::App* disk_inspect = disk->add_subcommand(
      "inspect",
      "Show a disk's encryption at rest: layers, key ids and versions, wrapped DEKs, file "
      "layout, key status, and a scan of the raw file");
  disk_inspect->add_option("id", disk_id, "The disk's resource id")->required();
  disk_inspect->add_flag("--json", disk_json, "Print the inspect document as JSON");
  disk_inspect->add_option("--pattern", disk_pattern,
                           "Search the raw file for this text (proof that it is not stored in "
                           "the clear)");
  add_data_dir(disk_inspect);

  CLI::App* volume = app.add_subcommand(
      "volume", "Attach a PersistentVolumeClaim's disk to an AKS node over NBD, detach it");
  volume->require_subcommand(1);
  byok::daemon::VolumeRequest volume_request;
  bool volume_unix = false;
  auto add_volume_target = [&](CLI::App* cmd) {
    cmd->add_option("--cluster", volume_request.cluster,
                    "The managed cluster: its name or resource id")
        ->required();
    cmd->add_option("--resource-group,-g", volume_request.resource_group,
                    "The cluster's resource group (when the name is not unique)");
    cmd->add_option("--namespace,-n", volume_request.ns,
                    "The claim's namespace (default: default)");
    cmd->add_option("claim", volume_request.claim, "The PersistentVolumeClaim")->required();
    add_data_dir(cmd);
  };
  CLI::App* volume_attach = volume->add_subcommand(
      "attach",
      "Attach the claim's disk to a node (provisioning a WaitForFirstConsumer claim first) and "
      "record a VolumeAttachment: prints one line, the NBD URI (the export name is a secret)");
  add_volume_target(volume_attach);
  volume_attach->add_option("--node", volume_request.node,
                            "The node (default: the first Ready node in name order)");
  volume_attach->add_flag("--unix", volume_unix,
                          "Print the unix-socket URI nbd+unix:///EXPORT?socket=PATH instead");
  CLI::App* volume_detach = volume->add_subcommand(
      "detach", "Detach the claim's disk: its NBD export stops working, the VolumeAttachment goes");
  add_volume_target(volume_detach);

  CLI::App* node = app.add_subcommand("node", "List the nodes of AKS clusters (needs the server)");
  node->require_subcommand(1);
  std::optional<std::string> node_cluster;
  bool node_json = false;
  CLI::App* node_list = node->add_subcommand(
      "list",
      "List nodes: name, pool, state (Ready, NotReady, Stopped, Deallocated), OS disk type, the "
      "version of the key wrapping the OS disk's data key, and why a node is not Ready");
  node_list->add_option("--cluster", node_cluster,
                        "Only the nodes of this managed cluster (ARM id)");
  node_list->add_flag("--json", node_json, "Print a JSON array of node documents");
  add_data_dir(node_list);

  CLI::App* demo = app.add_subcommand(
      "demo",
      "Run the walkthrough of Azure's AKS BYOK document against the server with the real Azure CLI "
      "and kubectl, printing each command and its result (needs a fresh server)");
  byok::daemon::DemoOptions demo_options;
  demo->add_option("--location", demo_options.location,
                   "The region for the document's myAzureRegionName (default eastus)");
  demo->add_option("--work-dir", demo_options.work_dir,
                   "Where az's configuration, a private HOME and the walkthrough's files go "
                   "(default DATA_DIR/demo)");
  add_data_dir(demo);

  CLI11_PARSE(app, argc, argv);
  byok::daemon::DataDir dir = byok::daemon::ResolveDataDir(data_dir);

  if (*serve) {
    if (std::string err = byok::cmd::FinishServeOptions(serve_options, serve_flags); !err.empty()) {
      std::fprintf(stderr, "byok serve: %s\n", err.c_str());
      return 2;
    }
    return byok::daemon::RunDaemon(serve_options);
  }
  if (*sp) {
    byok::identity::AdminOptions ao;
    ao.data_dir = dir.root;
    auto print = [](const byok::Result<nlohmann::json>& r) {
      if (!r.ok()) return ExitFor(r.status());
      std::cout << r->dump(2) << "\n";
      return 0;
    };
    if (*sp_create) {
      if (sp_name.empty()) sp_name = "byok-sp-" + byok::CryptoRandom().Uuid().substr(0, 8);
      return print(byok::identity::AdminCreateServicePrincipal(ao, sp_name));
    }
    if (*sp_list) return print(byok::identity::AdminListPrincipals(ao));
    if (*sp_delete) return ExitFor(byok::identity::AdminDeletePrincipal(ao, sp_id));
    if (*sp_reset) return print(byok::identity::AdminResetSecret(ao, sp_id));
  }
  if (*az_setup) {
    auto setup = byok::daemon::SetupAzureCli(dir, az_options);
    if (!setup.ok()) return ExitFor(setup.status());
    for (const auto& [k, v] : setup->exports) {
      std::cout << "export " << k << "=" << byok::daemon::ShellQuote(v) << "\n";
    }
    return 0;
  }
  if (*clock) {
    auto doc = *clock_show ? byok::daemon::ClockShow(dir)
                           : byok::daemon::ClockAdvance(dir, clock_duration);
    if (!doc.ok()) return ExitFor(doc.status());
    std::cout << doc->dump(2) << "\n";
    return 0;
  }
  if (*audit) {
    auto records = byok::daemon::AuditRecords(dir, audit_filter);
    if (!records.ok()) return ExitFor(records.status());
    if (audit_json) {
      for (const auto& r : *records) std::cout << r.dump() << "\n";
    } else {
      std::cout << byok::daemon::FormatAuditTable(*records);
    }
    return 0;
  }
  if (*token) {
    auto jwt = byok::daemon::MintToken(dir, token_request);
    if (!jwt.ok()) return ExitFor(jwt.status());
    std::cout << *jwt << "\n";
    return 0;
  }
  if (*disk_attach) {
    auto a = byok::daemon::DiskAttach(dir, disk_id);
    if (!a.ok()) return ExitFor(a.status());
    std::string uri = (*a)[disk_unix ? "socketUri" : "uri"].get<std::string>();
    if (uri.empty()) {
      std::fprintf(stderr, "byok: the server has no %s NBD listener (byokd %s)\n",
                   disk_unix ? "unix-socket" : "TCP", disk_unix ? "--nbd-socket" : "--nbd-listen");
      return 1;
    }
    std::cout << uri << "\n";
    return 0;
  }
  if (*disk_detach) return ExitFor(byok::daemon::DiskDetach(dir, disk_id));
  if (*disk_inspect) {
    auto doc = byok::daemon::DiskInspect(dir, disk_id, disk_pattern);
    if (!doc.ok()) return ExitFor(doc.status());
    if (disk_json) {
      std::cout << doc->dump(2) << "\n";
    } else {
      std::cout << byok::daemon::FormatDiskInspect(*doc);
    }
    return 0;
  }
  if (*volume_attach) {
    auto a = byok::daemon::VolumeAttach(dir, volume_request);
    if (!a.ok()) return ExitFor(a.status());
    std::string uri = (*a)[volume_unix ? "socketUri" : "uri"].get<std::string>();
    if (uri.empty()) {
      std::fprintf(stderr, "byok: the server has no %s NBD listener (byokd %s)\n",
                   volume_unix ? "unix-socket" : "TCP",
                   volume_unix ? "--nbd-socket" : "--nbd-listen");
      return 1;
    }
    std::cout << uri << "\n";
    return 0;
  }
  if (*volume_detach) return ExitFor(byok::daemon::VolumeDetach(dir, volume_request).status());
  if (*node_list) {
    auto nodes = byok::daemon::NodeList(dir, node_cluster);
    if (!nodes.ok()) return ExitFor(nodes.status());
    if (node_json) {
      std::cout << nlohmann::json(*nodes).dump(2) << "\n";
    } else {
      std::cout << byok::daemon::FormatNodeTable(*nodes);
    }
    return 0;
  }
  if (*demo) {
    auto code = byok::daemon::RunDemo(dir, demo_options);
    if (!code.ok()) return ExitFor(code.status());
    return *code;
  }
  if (*stop) {
    byok::Status s = byok::daemon::StopServer(dir);
    if (s.ok()) std::cerr << "byokd on " << dir.root << " stopped\n";
    return ExitFor(s);
  }
  if (*status) {
    auto live = byok::daemon::ProbeServer(dir);
    if (!live.ok()) {
      std::cout << "not running (data directory " << dir.root << ")\n";
      return ExitFor(live.status());
    }
    std::cout << live->info.url << "\n";
    std::cerr << "pid " << live->info.pid << ", data directory " << dir.root << ", ca "
              << live->info.ca << "\n";
    if (live->info.nbd_port != 0) {
      std::cerr << "nbd: " << live->info.nbd_host << ":" << live->info.nbd_port << "\n";
    }
    if (!live->info.nbd_socket.empty()) {
      std::cerr << "nbd socket: " << live->info.nbd_socket << "\n";
    }
    return 0;
  }
  if (*env) {
    auto live = byok::daemon::ProbeServer(dir);
    if (!live.ok()) return ExitFor(live.status());
    for (const auto& [k, v] : byok::daemon::ClientEnvironment(*live)) {
      std::cout << "export " << k << "=" << byok::daemon::ShellQuote(v) << "\n";
    }
    std::cerr << "# byokd at " << live->info.url << "\n";
    return 0;
  }
  return 2;
}
