#include "daemon/admin_client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "audit/audit.h"
#include "common/clock.h"
#include "common/duration.h"
#include "common/files.h"
#include "common/json.h"
#include "daemon/control.h"
#include "daemon/emulated_clock.h"
#include "http/client.h"
#include "identity/bootstrap.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::daemon {
namespace {

using nlohmann::json;

std::string FormEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// An authenticated session with a live byokd, as the bootstrap principal.
struct Session {
  LiveServer server;
  std::string token;

  http::ClientOptions Options() const {
    http::ClientOptions o;
    o.ca_file = server.info.ca;
    o.timeout = std::chrono::minutes(5);  // clock advance runs the housekeeping synchronously
    return o;
  }

  Result<json> Call(std::string_view method, const std::string& path_and_query,
                    const json* body) const {
    http::Headers h;
    h.Set("Authorization", "Bearer " + token);
    std::string payload;
    if (body != nullptr) {
      h.Set("Content-Type", "application/json");
      payload = body->dump();
    }
    BYOK_ASSIGN_OR_RETURN(
        http::ClientResponse res,
        http::HttpsRequest(method, server.info.url + path_and_query, h, payload, Options()));
    auto doc = ParseJsonBody(res.body);
    if (res.status != 200) {
      std::string message = fmt::format("HTTP {}", res.status);
      if (doc.ok() && doc->is_object() && doc->contains("error") && (*doc)["error"].is_object()) {
        const json& e = (*doc)["error"];
        message = fmt::format("{}: {}", e.value("code", ""), e.value("message", ""));
      }
      StatusCode code = res.status == 400   ? StatusCode::kInvalidArgument
                        : res.status == 401 ? StatusCode::kUnauthenticated
                        : res.status == 403 ? StatusCode::kPermissionDenied
                        : res.status == 404 ? StatusCode::kNotFound
                        : res.status == 409 ? StatusCode::kFailedPrecondition
                                            : StatusCode::kInternal;
      return Status(code, message);
    }
    if (!doc.ok())
      return Status::Internal("byokd answered invalid JSON: " + doc.status().message());
    return std::move(doc).value();
  }
};

// Logs in to a live server. Unavailable if none runs.
Result<Session> Login(const DataDir& dir) {
  BYOK_ASSIGN_OR_RETURN(LiveServer live, ProbeServer(dir));
  std::string cred_path = identity::CredentialsFilePath(dir.root);
  auto text = ReadFile(cred_path);
  if (!text.ok()) {
    return Status::FailedPrecondition(fmt::format("cannot read the bootstrap credentials {}: {}",
                                                  cred_path, text.status().message()));
  }
  auto creds = ParseJsonBody(*text);
  if (!creds.ok() || !creds->is_object() || !(*creds)["appId"].is_string() ||
      !(*creds)["password"].is_string()) {
    return Status::FailedPrecondition(cred_path + " is not a byok credentials file");
  }
  std::string form = "grant_type=client_credentials&client_id=" +
                     FormEncode((*creds)["appId"].get<std::string>()) +
                     "&client_secret=" + FormEncode((*creds)["password"].get<std::string>()) +
                     "&resource=" + FormEncode("https://management.core.windows.net/");
  http::Headers h;
  h.Set("Content-Type", "application/x-www-form-urlencoded");
  http::ClientOptions o;
  o.ca_file = live.info.ca;
  BYOK_ASSIGN_OR_RETURN(
      http::ClientResponse res,
      http::HttpsRequest("POST", live.info.url + "/adfs/oauth2/token", h, form, o));
  auto doc = ParseJsonBody(res.body);
  if (res.status != 200 || !doc.ok() || !doc->is_object() || !(*doc)["access_token"].is_string()) {
    std::string why = doc.ok() && doc->is_object() ? doc->value("error", "") : "";
    return Status::Unauthenticated(fmt::format(
        "cannot log in with {} (HTTP {} {}); was the bootstrap principal's secret reset?",
        cred_path, res.status, why));
  }
  return Session{std::move(live), (*doc)["access_token"].get<std::string>()};
}

// Opens the data directory's store directly (never creating a data directory).
Result<std::unique_ptr<store::Store>> OpenStore(const DataDir& dir,
                                                const AdminClientOptions& options) {
  if (!FileExists(store::SqliteDbPath(dir.root))) {
    return Status::FailedPrecondition("no byok data directory at " + dir.root +
                                      " (start byokd once to create it)");
  }
  store::RootKeyOptions rk;
  rk.data_dir = dir.root;
  rk.key_file = options.root_key_file;
  BYOK_ASSIGN_OR_RETURN(store::RootKey root_key, store::LoadOrCreateRootKey(rk));
  store::SqliteOptions so;
  so.data_dir = dir.root;
  return store::OpenSqliteStore(so, SystemClock::Instance(), std::move(root_key));
}

json OfflineClockJson(std::chrono::nanoseconds offset) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(offset);
  return {{"now", FormatAzureTime(SystemClock::Instance().Now() +
                                  std::chrono::duration_cast<TimePoint::duration>(offset))},
          {"offsetSeconds", secs.count()},
          {"offset", FormatDuration(secs)},
          {"server", false}};
}

bool NoServer(const Status& s) { return s.Is(StatusCode::kUnavailable); }

}  // namespace

Result<json> ClockShow(const DataDir& dir, const AdminClientOptions& options) {
  auto session = Login(dir);
  if (session.ok()) {
    BYOK_ASSIGN_OR_RETURN(json doc, session->Call("GET", "/_byok/admin/clock", nullptr));
    doc["server"] = true;
    return doc;
  }
  if (!NoServer(session.status())) return session.status();
  BYOK_ASSIGN_OR_RETURN(auto store, OpenStore(dir, options));
  BYOK_ASSIGN_OR_RETURN(std::chrono::nanoseconds offset, LoadClockOffset(*store));
  return OfflineClockJson(offset);
}

Result<json> ClockAdvance(const DataDir& dir, const std::string& duration,
                          const AdminClientOptions& options) {
  BYOK_ASSIGN_OR_RETURN(std::chrono::seconds d, ParseDuration(duration));
  if (d.count() < 0) {
    return Status::InvalidArgument(
        fmt::format("the emulated clock only moves forward; '{}' is negative", duration));
  }
  auto session = Login(dir);
  if (session.ok()) {
    json body = {{"duration", duration}};
    BYOK_ASSIGN_OR_RETURN(json doc, session->Call("POST", "/_byok/admin/clock/advance", &body));
    doc["server"] = true;
    return doc;
  }
  if (!NoServer(session.status())) return session.status();
  // No server: hold the lock so none starts (with the old offset) while we change it.
  auto lock = DataDirLock::Acquire(dir);
  if (!lock.ok()) {
    return Status::FailedPrecondition("a byokd is starting on " + dir.root +
                                      "; retry when it runs (" + lock.status().message() + ")");
  }
  BYOK_ASSIGN_OR_RETURN(auto store, OpenStore(dir, options));
  BYOK_ASSIGN_OR_RETURN(std::chrono::nanoseconds offset, AdvanceStoredClockOffset(*store, d));
  return OfflineClockJson(offset);
}

Result<std::vector<json>> AuditRecords(const DataDir& dir, const AuditFilter& filter,
                                       const AdminClientOptions& options) {
  auto session = Login(dir);
  if (session.ok()) {
    std::string query;
    if (filter.vault) query += "&vault=" + FormEncode(*filter.vault);
    if (filter.since) query += "&since=" + FormEncode(*filter.since);
    if (!query.empty()) query[0] = '?';
    BYOK_ASSIGN_OR_RETURN(json doc, session->Call("GET", "/_byok/admin/audit" + query, nullptr));
    if (!doc.is_object() || !doc["value"].is_array()) {
      return Status::Internal("byokd answered an unexpected audit document");
    }
    return doc["value"].get<std::vector<json>>();
  }
  if (!NoServer(session.status())) return session.status();
  BYOK_ASSIGN_OR_RETURN(auto store, OpenStore(dir, options));
  BYOK_ASSIGN_OR_RETURN(std::chrono::nanoseconds offset, LoadClockOffset(*store));
  TimePoint now =
      SystemClock::Instance().Now() + std::chrono::duration_cast<TimePoint::duration>(offset);
  audit::Query q;
  q.vault = filter.vault;
  if (filter.since) {
    auto t = ParseTimestamp(*filter.since);
    if (t.ok()) {
      q.since = *t;
    } else {
      auto d = ParseDuration(*filter.since);
      if (!d.ok() || d->count() < 0) {
        return Status::InvalidArgument(
            "--since must be a timestamp (2024-01-02T03:04:05Z) or a duration before now (1h): " +
            t.status().message());
      }
      q.since = now - *d;
    }
  }
  std::unique_ptr<audit::AuditLog> log = audit::AuditLog::Open(*store, SystemClock::Instance());
  BYOK_ASSIGN_OR_RETURN(std::vector<audit::Record> records, log->List(q));
  std::vector<json> out;
  out.reserve(records.size());
  for (const auto& r : records) out.push_back(audit::ToJson(r));
  return out;
}

std::string FormatAuditTable(const std::vector<json>& records) {
  auto field = [](const json& r, const char* k) -> std::string {
    auto it = r.find(k);
    if (it == r.end()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
    return "";
  };
  std::string out =
      fmt::format("{:<28}  {:<20}  {:<6}  {:<24}  {:<24}  {:<32}  {:<36}  {}\n", "TIME",
                  "OPERATION", "STATUS", "RESULT", "VAULT", "KEY/VERSION", "CALLER", "REQUEST-ID");
  for (const json& r : records) {
    std::string object = field(r, "object");
    std::string version = field(r, "version");
    if (!version.empty()) object += "/" + version;
    out +=
        fmt::format("{:<28}  {:<20}  {:<6}  {:<24}  {:<24}  {:<32}  {:<36}  {}\n", field(r, "time"),
                    field(r, "operation"), field(r, "status"), field(r, "result"),
                    field(r, "vault"), object, field(r, "callerObjectId"), field(r, "requestId"));
  }
  return out;
}

Result<std::string> MintToken(const DataDir& dir, const TokenRequest& request) {
  if (request.expires_in) BYOK_TRY(ParseDuration(*request.expires_in).status());
  BYOK_ASSIGN_OR_RETURN(Session session, Login(dir));
  json body = json::object();
  if (request.app_id) body["appId"] = *request.app_id;
  if (request.resource) body["resource"] = *request.resource;
  if (request.expires_in) body["expiresIn"] = *request.expires_in;
  BYOK_ASSIGN_OR_RETURN(json doc, session.Call("POST", "/_byok/admin/token", &body));
  if (!doc.is_object() || !doc["access_token"].is_string()) {
    return Status::Internal("byokd answered no access_token");
  }
  return doc["access_token"].get<std::string>();
}

Result<json> DiskAttach(const DataDir& dir, const std::string& disk_id) {
  BYOK_ASSIGN_OR_RETURN(Session session, Login(dir));
  json body = {{"diskId", disk_id}};
  BYOK_ASSIGN_OR_RETURN(json doc, session.Call("POST", "/_byok/admin/disks/attach", &body));
  if (!doc.is_object() || !doc["export"].is_string()) {
    return Status::Internal("byokd answered no export");
  }
  return doc;
}

Status DiskDetach(const DataDir& dir, const std::string& disk_id) {
  BYOK_ASSIGN_OR_RETURN(Session session, Login(dir));
  json body = {{"diskId", disk_id}};
  return session.Call("POST", "/_byok/admin/disks/detach", &body).status();
}

Result<json> DiskInspect(const DataDir& dir, const std::string& disk_id,
                         const std::optional<std::string>& pattern) {
  BYOK_ASSIGN_OR_RETURN(Session session, Login(dir));
  std::string query = "?diskId=" + FormEncode(disk_id);
  if (pattern) query += "&pattern=" + FormEncode(*pattern);
  BYOK_ASSIGN_OR_RETURN(json doc,
                        session.Call("GET", "/_byok/admin/disks/inspect" + query, nullptr));
  if (!doc.is_object()) return Status::Internal("byokd answered an unexpected inspect document");
  return doc;
}

namespace {

json VolumeBody(const VolumeRequest& r, bool with_node) {
  json body = {{"cluster", r.cluster}, {"namespace", r.ns}, {"claim", r.claim}};
  if (!r.resource_group.empty()) body["resourceGroup"] = r.resource_group;
  if (with_node && !r.node.empty()) body["node"] = r.node;
  return body;
}

}  // namespace

Result<json> VolumeAttach(const DataDir& dir, const VolumeRequest& request) {
  BYOK_ASSIGN_OR_RETURN(Session session, Login(dir));
  json body = VolumeBody(request, true);
  BYOK_ASSIGN_OR_RETURN(json doc, session.Call("POST", "/_byok/admin/volumes/attach", &body));
  if (!doc.is_object() || !doc["export"].is_string()) {
    return Status::Internal("byokd answered no export");
  }
  return doc;
}

Result<json> VolumeDetach(const DataDir& dir, const VolumeRequest& request) {
  BYOK_ASSIGN_OR_RETURN(Session session, Login(dir));
  json body = VolumeBody(request, false);
  return session.Call("POST", "/_byok/admin/volumes/detach", &body);
}

Result<std::vector<json>> NodeList(const DataDir& dir,
                                   const std::optional<std::string>& cluster_id) {
  BYOK_ASSIGN_OR_RETURN(Session session, Login(dir));
  std::string query;
  if (cluster_id) query = "?cluster=" + FormEncode(*cluster_id);
  BYOK_ASSIGN_OR_RETURN(json doc, session.Call("GET", "/_byok/admin/nodes" + query, nullptr));
  if (!doc.is_object() || !doc["value"].is_array()) {
    return Status::Internal("byokd answered an unexpected nodes document");
  }
  return doc["value"].get<std::vector<json>>();
}

namespace {

std::string Text(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

}  // namespace

std::string FormatNodeTable(const std::vector<json>& nodes) {
  bool several_clusters = false;
  for (const json& n : nodes) {
    several_clusters |= Text(n, "clusterId") != Text(nodes.front(), "clusterId");
  }
  auto cluster_name = [](const json& n) {
    std::string id = Text(n, "clusterId");
    return id.substr(id.rfind('/') + 1);
  };
  size_t name_width = 4;
  for (const json& n : nodes) name_width = std::max(name_width, Text(n, "name").size());
  std::string out;
  auto row = [&](const std::string& cluster, const std::string& name, const std::string& pool,
                 const std::string& state, const std::string& disk, const std::string& version,
                 const std::string& reason) {
    std::string line;
    if (several_clusters) line += fmt::format("{:<20}  ", cluster);
    line += fmt::format("{:<{}}  {:<12}  {:<11}  {:<9}  {:<32}  {}", name, name_width, pool, state,
                        disk, version, reason);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  row("CLUSTER", "NAME", "POOL", "STATE", "OSDISK", "KEY-VERSION", "REASON");
  for (const json& n : nodes) {
    std::string version = Text(n, "keyVersion");
    if (version.empty()) version = "platform";
    row(cluster_name(n), Text(n, "name"), Text(n, "poolName"), Text(n, "state"),
        Text(n, "osDiskType"), version, Text(n, "reason"));
  }
  return out;
}

std::string FormatDiskInspect(const json& doc) {
  std::string out;
  auto line = [&](std::string_view label, const std::string& value) {
    out += fmt::format("{:<22}{}\n", std::string(label) + ":", value);
  };
  const json& disk = doc.value("disk", json::object());
  line("Disk", Text(disk, "id"));
  line("State", Text(disk, "diskState") +
                    (Text(disk, "managedBy").empty() ? "" : " (" + Text(disk, "managedBy") + ")"));
  line("Encryption", Text(disk, "encryption"));
  if (!Text(disk, "diskEncryptionSetId").empty()) {
    line("Disk encryption set", Text(disk, "diskEncryptionSetId"));
  }
  const json& keys = doc.value("keyStatus", json::object());
  line("Key status", Text(keys, "status"));
  if (!Text(keys, "keyUnavailableSince").empty()) {
    line("Key unusable since", Text(keys, "keyUnavailableSince"));
  }
  if (keys.value("locked", false)) line("Locked", Text(keys, "lockReason"));
  out += "\n";
  line("File", Text(doc, "path"));
  line("Format version", Text(doc, "format_version"));
  line("Header generation", Text(doc, "generation"));
  line("Created", Text(doc, "created"));
  line("Size", fmt::format("{} bytes ({} sectors of {})", Text(doc, "size_bytes"),
                           Text(doc, "sectors"), Text(doc, "sector_size")));
  line("File size", fmt::format("{} bytes, {} allocated", Text(doc, "file_size_bytes"),
                                Text(doc, "allocated_bytes")));
  line("Cipher", Text(doc, "cipher"));
  line("Tweak", Text(doc, "tweak"));
  line("Sector location", Text(doc, "sector_location"));
  if (doc.contains("header_slots") && doc["header_slots"].is_array()) {
    for (const json& slot : doc["header_slots"]) {
      line(
          "Header slot " + Text(slot, "slot"),
          fmt::format("offset {}, {}{}{}", Text(slot, "offset"), Text(slot, "state"),
                      slot.contains("generation") ? ", generation " + Text(slot, "generation") : "",
                      slot.value("in_force", false) ? " (in force)" : ""));
    }
  }
  out += "\nLAYERS (applied in this order)\n";
  out += fmt::format("{:<6}{:<10}{:<14}{:<34}{}\n", "ORDER", "LAYER", "ALGORITHM", "KEY VERSION",
                     "KEY");
  const json& layers = doc.value("layers", json::array());
  for (const json& l : layers) {
    out += fmt::format("{:<6}{:<10}{:<14}{:<34}{}\n", Text(l, "order"), Text(l, "layer"),
                       Text(l, "algorithm"), Text(l, "key_version"), Text(l, "key_id"));
  }
  for (const json& l : layers) {
    out += fmt::format("wrapped DEK ({}): {}\n", Text(l, "layer"), Text(l, "wrapped"));
  }
  const json& proof = doc.value("proof", json::object());
  out += "\nPROOF OF ENCRYPTION AT REST\n";
  line("Entropy",
       fmt::format("{} bits/byte over {} sampled bytes",
                   proof.contains("entropy_bits_per_byte")
                       ? fmt::format("{:.4f}", proof["entropy_bits_per_byte"].get<double>())
                       : std::string("?"),
                   Text(proof, "sampled_bytes")));
  const json& pattern = proof.value("pattern", json());
  if (pattern.is_object()) {
    line("Pattern", fmt::format("\"{}\" {} in the raw file ({} occurrences, {} bytes scanned)",
                                Text(pattern, "searched"),
                                pattern.value("found", false) ? "FOUND" : "not found",
                                Text(pattern, "occurrences"), Text(pattern, "scanned_bytes")));
  } else {
    line("Pattern", "(none searched: --pattern TEXT)");
  }
  return out;
}

}  // namespace byok::daemon
