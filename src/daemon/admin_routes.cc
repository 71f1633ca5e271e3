#include "daemon/admin_routes.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>
#include <variant>

#include <spdlog/spdlog.h>

#include "arm/errors.h"
#include "arm/resource_id.h"
#include "authz/rbac.h"
#include "common/duration.h"
#include "common/json.h"
#include "compute/disk_store.h"
#include "compute/errors.h"
#include "containerservice/cluster_store.h"
#include "daemon/emulated_clock.h"
#include "daemon/errors.h"
#include "identity/endpoints.h"

namespace byok::daemon {
namespace {

using nlohmann::json;

constexpr std::chrono::hours kMaxTokenLifetime{24};

struct AdminState {
  AdminDeps deps;
  std::mutex advance_mu;  // serializes clock advances (store offset + in-memory clock)
};

http::Response Error(const ApiError& e) { return http::Response::Error(e); }

json ClockJson(const OffsetClock& clock) {
  auto offset = std::chrono::duration_cast<std::chrono::seconds>(clock.offset());
  return {{"now", FormatAzureTime(clock.Now())},
          {"offsetSeconds", offset.count()},
          {"offset", FormatDuration(offset)}};
}

// The caller, if it may perform `action` on `scope`; else the response to send.
std::variant<identity::Principal, http::Response> AuthorizeFor(const AdminDeps& d,
                                                               const http::Request& req,
                                                               std::string_view action,
                                                               const std::string& scope) {
  const identity::Authenticator& auth = d.identity->authenticator();
  auto p = auth.Authenticate(req, identity::Audience::kArm);
  if (!p.ok()) return auth.ErrorResponse(req, identity::Audience::kArm, p.error());
  auto allowed = d.authorizer->IsAllowed(p->object_id, action, scope);
  if (!allowed.ok()) {
    spdlog::error("admin authorization check failed: {}", allowed.status().ToString());
  }
  if (!allowed.ok() || !*allowed) {
    std::string client = p->app_id.empty() ? p->object_id : p->app_id;
    return Error(authz::Denial(client, p->object_id, action, scope));
  }
  return std::move(p).value();
}

// The caller, if it may use the admin API; else the response to send.
std::variant<identity::Principal, http::Response> Authorize(const AdminDeps& d,
                                                            const http::Request& req) {
  return AuthorizeFor(d, req, kAdminAction, "/subscriptions/" + d.subscription_id);
}

// The request body as a JSON object ("" is an empty object).
ApiResult<json> BodyObject(const http::Request& req) {
  if (req.body.empty()) return json::object();
  auto body = ParseJsonBody(req.body);
  if (!body.ok()) return MakeError(errors::kInvalidRequestContent, body.status().message());
  if (!body->is_object()) return MakeError(errors::kInvalidRequestContent, "not a JSON object");
  return std::move(body).value();
}

// An optional string property; an error if present with another type.
ApiResult<std::optional<std::string>> StringProperty(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return MakeError(errors::kMissingProperty, name);
  return std::optional<std::string>(it->get<std::string>());
}

http::Response HandleClock(AdminState& st, http::Request& req) {
  auto caller = Authorize(st.deps, req);
  if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  return http::Response::Json(200, ClockJson(*st.deps.clock));
}

http::Response HandleAdvance(AdminState& st, http::Request& req) {
  auto caller = Authorize(st.deps, req);
  if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  auto body = BodyObject(req);
  if (!body.ok()) return Error(body.error());
  auto text = StringProperty(*body, "duration");
  if (!text.ok()) return Error(text.error());
  if (!text->has_value()) return Error(MakeError(errors::kMissingProperty, "duration"));
  auto d = ParseDuration(**text);
  if (!d.ok()) return Error(MakeError(errors::kInvalidDuration, d.status().message()));
  if (d->count() < 0) return Error(MakeError(errors::kClockBackwards, **text));

  const auto& principal = std::get<identity::Principal>(caller);
  {
    std::lock_guard<std::mutex> lock(st.advance_mu);
    if (st.deps.before_clock_advance) {
      if (Status s = st.deps.before_clock_advance(st.deps.clock->Now()); !s.ok()) {
        spdlog::error("before the clock advance: {}", s.ToString());
      }
    }
    auto offset = AdvanceStoredClockOffset(*st.deps.store, *d);
    if (!offset.ok()) {
      spdlog::error("cannot persist the clock offset: {}", offset.status().ToString());
      return Error(MakeError(errors::kInternal));
    }
    st.deps.clock->Advance(*offset - st.deps.clock->offset());
  }
  spdlog::info("emulated clock advanced by {} by {}; now {}", FormatDuration(*d),
               principal.object_id, FormatAzureTime(st.deps.clock->Now()));
  Status run = st.deps.scheduler->RunNow();
  json out = ClockJson(*st.deps.clock);
  if (!run.ok()) out["housekeepingError"] = run.message();
  return http::Response::Json(200, out);
}

http::Response HandleAudit(AdminState& st, http::Request& req) {
  auto caller = Authorize(st.deps, req);
  if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  audit::Query q;
  if (auto v = req.Query("vault"); v && !v->empty()) q.vault = *v;
  if (auto s = req.Query("since"); s && !s->empty()) {
    auto t = ParseTimestamp(*s);
    if (t.ok()) {
      q.since = *t;
    } else {
      auto d = ParseDuration(*s);
      if (!d.ok() || d->count() < 0) {
        return Error(MakeError(errors::kInvalidSince, t.status().message()));
      }
      q.since = st.deps.clock->Now() - *d;
    }
  }
  auto records = st.deps.audit->List(q);
  if (!records.ok()) {
    spdlog::error("cannot list audit records: {}", records.status().ToString());
    return Error(MakeError(errors::kInternal));
  }
  json value = json::array();
  for (const audit::Record& r : *records) value.push_back(audit::ToJson(r));
  return http::Response::Json(200, {{"value", std::move(value)}});
}

http::Response HandleToken(AdminState& st, http::Request& req) {
  auto caller = Authorize(st.deps, req);
  if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  auto body = BodyObject(req);
  if (!body.ok()) return Error(body.error());
  auto app_id = StringProperty(*body, "appId");
  if (!app_id.ok()) return Error(app_id.error());
  auto resource_prop = StringProperty(*body, "resource");
  if (!resource_prop.ok()) return Error(resource_prop.error());
  auto expires = StringProperty(*body, "expiresIn");
  if (!expires.ok()) return Error(expires.error());

  std::chrono::seconds lifetime{identity::kAccessTokenLifetimeSeconds};
  if (expires->has_value()) {
    auto d = ParseDuration(**expires);
    if (!d.ok()) return Error(MakeError(errors::kInvalidDuration, d.status().message()));
    if (*d > kMaxTokenLifetime) {
      return Error(MakeError(errors::kTokenLifetimeTooLong, FormatDuration(kMaxTokenLifetime)));
    }
    lifetime = *d;
  }
  identity::Directory& dir = st.deps.identity->directory();
  auto principal = app_id->has_value() ? dir.FindByAppId(**app_id)
                                       : dir.FindByObjectId(st.deps.bootstrap_object_id);
  if (!principal.ok()) {
    if (principal.status().Is(StatusCode::kNotFound)) {
      return Error(MakeError(errors::kPrincipalNotFound, app_id->value_or("(bootstrap)")));
    }
    spdlog::error("admin token: principal lookup failed: {}", principal.status().ToString());
    return Error(MakeError(errors::kInternal));
  }
  std::string resource = resource_prop->has_value()
                             ? **resource_prop
                             : std::string(identity::DefaultResource(identity::Audience::kArm));
  if (!identity::AudienceOfResource(resource, st.deps.identity->server_base_urls())) {
    return Error(MakeError(errors::kInvalidResource, resource));
  }
  auto token = st.deps.identity->tokens().Issue(
      *principal, resource, identity::AdfsIssuer(st.deps.identity->DefaultAuthority()),
      identity::TokenVersion::kV1, lifetime.count());
  if (!token.ok()) {
    spdlog::error("admin token: issue failed: {}", token.status().ToString());
    return Error(MakeError(errors::kInternal));
  }
  spdlog::info("admin token issued to app {} for {} (expires in {}) at the request of {}",
               principal->app_id, resource, FormatDuration(lifetime),
               std::get<identity::Principal>(caller).object_id);
  http::Response r = http::Response::Json(200, {{"token_type", "Bearer"},
                                                {"access_token", token->access_token},
                                                {"expires_in", token->expires_in},
                                                {"expires_on", token->expires_on},
                                                {"resource", resource}});
  r.headers.Set("Cache-Control", "no-store, no-cache");
  return r;
}

// ---- Disks ----

// A managed disk id, or the error to send.
ApiResult<std::string> DiskIdOf(const std::optional<std::string>& text) {
  if (!text || text->empty()) return MakeError(errors::kMissingProperty, "diskId");
  auto id = arm::ResourceId::Parse(*text);
  if (!id.ok() || id->kind() != arm::ResourceId::Kind::kResource ||
      !arm::EqualsIgnoreCase(id->ResourceType(), compute::kDiskType)) {
    return MakeError(errors::kInvalidDiskId, *text);
  }
  return id->ToString();
}

ApiResult<std::string> DiskIdFromBody(const http::Request& req) {
  auto body = BodyObject(req);
  if (!body.ok()) return body.error();
  auto text = StringProperty(*body, "diskId");
  if (!text.ok()) return text.error();
  return DiskIdOf(*text);
}

http::Response HandleDiskAttach(AdminState& st, http::Request& req) {
  auto id = DiskIdFromBody(req);
  if (!id.ok()) return Error(id.error());
  auto caller = AuthorizeFor(st.deps, req, kDiskAccessAction, *id);
  if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  auto a = st.deps.attachments->Attach(*id, std::get<identity::Principal>(caller).object_id);
  if (!a.ok()) return Error(a.error());
  return http::Response::Json(200, {{"diskId", a->disk_id},
                                    {"export", a->export_name},
                                    {"uri", a->uri},
                                    {"socketUri", a->socket_uri}});
}

http::Response HandleDiskDetach(AdminState& st, http::Request& req) {
  auto id = DiskIdFromBody(req);
  if (!id.ok()) return Error(id.error());
  auto caller = AuthorizeFor(st.deps, req, kDiskAccessAction, *id);
  if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  auto done = st.deps.attachments->Detach(*id, std::get<identity::Principal>(caller).object_id);
  if (!done.ok()) return Error(done.error());
  return http::Response::Json(200, {{"diskId", *id}, {"detached", true}});
}

http::Response HandleDiskInspect(AdminState& st, http::Request& req) {
  auto id = DiskIdOf(req.Query("diskId"));
  if (!id.ok()) return Error(id.error());
  auto caller = AuthorizeFor(st.deps, req, kDiskReadAction, *id);
  if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  std::optional<compute::DiskRecord> disk;
  Status read = store::RunInReadTransaction(*st.deps.store, [&](store::Transaction& txn) {
    BYOK_ASSIGN_OR_RETURN(disk, compute::FindDisk(txn, *id));
    return Status::Ok();
  });
  if (!read.ok()) {
    spdlog::error("disk inspect: cannot read {}: {}", *id, read.ToString());
    return Error(MakeError(errors::kInternal));
  }
  if (!disk) {
    auto parsed = arm::ResourceId::Parse(*id);
    return Error(MakeError(compute::errors::kResourceNotFound,
                           std::string(compute::kDiskType) + "/" + parsed->Name(),
                           parsed->resource_group()));
  }
  blockstore::InspectOptions io;
  if (auto p = req.Query("pattern"); p && !p->empty()) io.pattern = *p;
  auto doc = st.deps.blocks->Inspect(disk->unique_id, io);
  if (!doc.ok()) {
    spdlog::error("disk inspect: cannot inspect the file of {}: {}", *id, doc.status().ToString());
    return Error(MakeError(errors::kInternal));
  }
  json out = std::move(doc).value();
  out["disk"] = {{"id", disk->id},
                 {"name", disk->name},
                 {"location", disk->location},
                 {"uniqueId", disk->unique_id},
                 {"sizeBytes", disk->size_bytes},
                 {"encryption", std::string(compute::EncryptionTypeName(disk->encryption))},
                 {"diskEncryptionSetId", disk->des_id},
                 {"diskState", std::string(compute::DiskStateName(disk->state))},
                 {"managedBy", disk->managed_by}};
  auto keys = st.deps.attachments->KeyStatus(*disk);
  if (keys.ok()) {
    out["keyStatus"] = std::move(keys).value();
  } else {
    out["keyStatus"] = {{"status", "unknown: " + keys.status().message()}};
  }
  return http::Response::Json(200, out);
}

// ---- AKS nodes ----

http::Response HandleNodes(AdminState& st, http::Request& req) {
  std::optional<std::string> cluster_id;
  if (auto c = req.Query("cluster"); c && !c->empty()) {
    auto id = arm::ResourceId::Parse(*c);
    if (!id.ok() || id->kind() != arm::ResourceId::Kind::kResource ||
        !arm::EqualsIgnoreCase(id->ResourceType(), containerservice::kClusterType)) {
      return Error(MakeError(errors::kInvalidClusterId, *c));
    }
    auto caller = AuthorizeFor(st.deps, req, kClusterReadAction, id->ToString());
    if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
    bool exists = false;
    Status read = store::RunInReadTransaction(*st.deps.store, [&](store::Transaction& txn) {
      BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(id->ToString()));
      exists = res && arm::EqualsIgnoreCase(res->type, containerservice::kClusterType);
      return Status::Ok();
    });
    if (!read.ok()) {
      spdlog::error("nodes: cannot read cluster {}: {}", *c, read.ToString());
      return Error(MakeError(errors::kInternal));
    }
    if (!exists) {
      return Error(MakeError(arm::errors::kResourceNotFound,
                             std::string(containerservice::kClusterType) + "/" + id->Name(),
                             id->resource_group()));
    }
    cluster_id = id->ToString();
  } else {
    auto caller = Authorize(st.deps, req);
    if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  }
  auto nodes = st.deps.nodes->ListAll();
  if (!nodes.ok()) {
    spdlog::error("nodes: cannot list: {}", nodes.status().ToString());
    return Error(MakeError(errors::kInternal));
  }
  std::stable_sort(nodes->begin(), nodes->end(), [](const auto& a, const auto& b) {
    return store::NormalizeId(a.cluster_id) < store::NormalizeId(b.cluster_id);
  });
  json value = json::array();
  for (const containerservice::NodeInfo& n : *nodes) {
    if (cluster_id && !arm::EqualsIgnoreCase(n.cluster_id, *cluster_id)) continue;
    json doc = containerservice::ToJson(n);
    size_t slash = n.key_url.rfind('/');
    doc["keyVersion"] = slash == std::string::npos ? "" : n.key_url.substr(slash + 1);
    value.push_back(std::move(doc));
  }
  return http::Response::Json(200, {{"value", std::move(value)}});
}

// ---- Volumes (byok volume attach|detach) ----

struct VolumeTarget {
  containerservice::ClusterRecord cluster;
  std::string ns;
  std::string claim;
  std::string node;
  json body;
};

// The request's cluster (authorized for the caller), namespace and claim; or the response to send.
std::variant<std::pair<identity::Principal, VolumeTarget>, http::Response> VolumeRequest(
    AdminState& st, http::Request& req) {
  auto body = BodyObject(req);
  if (!body.ok()) return Error(body.error());
  VolumeTarget t;
  std::string cluster_text, rg;
  for (const auto& [name, out, required] :
       {std::tuple<const char*, std::string*, bool>{"cluster", &cluster_text, true},
        {"resourceGroup", &rg, false},
        {"namespace", &t.ns, false},
        {"claim", &t.claim, true},
        {"node", &t.node, false}}) {
    auto v = StringProperty(*body, name);
    if (!v.ok()) return Error(v.error());
    if (v->has_value()) *out = **v;
    if (required && out->empty()) return Error(MakeError(errors::kMissingProperty, name));
  }
  if (t.ns.empty()) t.ns = "default";
  // Authenticate before revealing whether a cluster exists.
  const identity::Authenticator& auth = st.deps.identity->authenticator();
  auto p = auth.Authenticate(req, identity::Audience::kArm);
  if (!p.ok()) return auth.ErrorResponse(req, identity::Audience::kArm, p.error());
  auto cluster = st.deps.volumes->ResolveCluster(cluster_text, rg);
  if (!cluster.ok()) return Error(cluster.error());
  auto caller = AuthorizeFor(st.deps, req, kClusterAdminAction, cluster->id);
  if (auto* r = std::get_if<http::Response>(&caller)) return std::move(*r);
  t.cluster = std::move(cluster).value();
  return std::make_pair(std::get<identity::Principal>(std::move(caller)), std::move(t));
}

http::Response HandleVolumeAttach(AdminState& st, http::Request& req) {
  auto r = VolumeRequest(st, req);
  if (auto* resp = std::get_if<http::Response>(&r)) return std::move(*resp);
  auto& [caller, t] = std::get<0>(r);
  auto a = st.deps.volumes->Attach(t.cluster, t.ns, t.claim, t.node, caller.object_id);
  if (!a.ok()) return Error(a.error());
  return http::Response::Json(200, {{"clusterId", t.cluster.id},
                                    {"namespace", t.ns},
                                    {"claim", t.claim},
                                    {"persistentVolume", a->persistent_volume},
                                    {"diskId", a->disk_id},
                                    {"node", a->node},
                                    {"volumeAttachment", a->volume_attachment},
                                    {"export", a->attachment.export_name},
                                    {"uri", a->attachment.uri},
                                    {"socketUri", a->attachment.socket_uri},
                                    {"managedBy", a->attachment.managed_by}});
}

http::Response HandleVolumeDetach(AdminState& st, http::Request& req) {
  auto r = VolumeRequest(st, req);
  if (auto* resp = std::get_if<http::Response>(&r)) return std::move(*resp);
  auto& [caller, t] = std::get<0>(r);
  auto d = st.deps.volumes->Detach(t.cluster, t.ns, t.claim, caller.object_id);
  if (!d.ok()) return Error(d.error());
  return http::Response::Json(200, {{"clusterId", t.cluster.id},
                                    {"namespace", t.ns},
                                    {"claim", t.claim},
                                    {"persistentVolume", d->persistent_volume},
                                    {"diskId", d->disk_id},
                                    {"detached", true},
                                    {"volumeAttachments", d->volume_attachments}});
}

}  // namespace

void AddAdminRoutes(http::Router& router, AdminDeps deps) {
  auto st = std::make_shared<AdminState>();
  st->deps = std::move(deps);
  router.Add("GET", "*", "/_byok/admin/clock",
             [st](http::Request& req) { return HandleClock(*st, req); });
  router.Add("POST", "*", "/_byok/admin/clock/advance",
             [st](http::Request& req) { return HandleAdvance(*st, req); });
  router.Add("GET", "*", "/_byok/admin/audit",
             [st](http::Request& req) { return HandleAudit(*st, req); });
  router.Add("POST", "*", "/_byok/admin/token",
             [st](http::Request& req) { return HandleToken(*st, req); });
  if (st->deps.attachments != nullptr && st->deps.blocks != nullptr) {
    router.Add("POST", "*", "/_byok/admin/disks/attach",
               [st](http::Request& req) { return HandleDiskAttach(*st, req); });
    router.Add("POST", "*", "/_byok/admin/disks/detach",
               [st](http::Request& req) { return HandleDiskDetach(*st, req); });
    router.Add("GET", "*", "/_byok/admin/disks/inspect",
               [st](http::Request& req) { return HandleDiskInspect(*st, req); });
  }
  if (st->deps.volumes != nullptr) {
    router.Add("POST", "*", "/_byok/admin/volumes/attach",
               [st](http::Request& req) { return HandleVolumeAttach(*st, req); });
    router.Add("POST", "*", "/_byok/admin/volumes/detach",
               [st](http::Request& req) { return HandleVolumeDetach(*st, req); });
  }
  if (st->deps.nodes != nullptr) {
    router.Add("GET", "*", "/_byok/admin/nodes",
               [st](http::Request& req) { return HandleNodes(*st, req); });
  }
}

}  // namespace byok::daemon
