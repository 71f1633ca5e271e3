// The agentPools handlers (containerservice.h states what they do).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "containerservice/errors.h"
#include "containerservice/provider.h"

namespace byok::containerservice::internal {
namespace {

using arm::EqualsIgnoreCase;
using arm::ResourceId;
using gateway::ArmError;
using gateway::ArmRequest;
using nlohmann::json;

bool ClusterBusy(std::string_view state) {
  return state == "Creating" || state == "Updating" || state == "Deleting" || state == "Stopping" ||
         state == "Starting" || state == "Upgrading";
}

const store::Resource* FindPool(const ClusterState& state, std::string_view name) {
  for (const store::Resource& p : state.pools) {
    if (EqualsIgnoreCase(StringOf(p.body, "name"), name)) return &p;
  }
  return nullptr;
}

std::string PoolMode(const store::Resource& pool) {
  return StringOf(pool.body.value("properties", json::object()), "mode");
}

// Whether another pool than `name`, not itself being deleted, is a System pool.
bool OtherSystemPool(const ClusterState& state, std::string_view name) {
  for (const store::Resource& p : state.pools) {
    if (!EqualsIgnoreCase(StringOf(p.body, "name"), name) && !IsDeleting(p.body) &&
        PoolMode(p) == "System") {
      return true;
    }
  }
  return false;
}

http::Response PoolNotFound(const ResourceId& id) {
  ResourceId cluster = id.Parent();
  return ArmError(
      MakeError(errors::kResourceNotFound,
                fmt::format("{}/{}/agentPools/{}", kClusterType, cluster.Name(), id.Name()),
                id.resource_group()));
}

}  // namespace

http::Response Provider::PutPool(ArmRequest& r) {
  if (!r.body.is_object()) {
    return ArmError(MakeError(errors::kInvalidRequestContent, "the body must be a JSON object"));
  }
  const ResourceId cluster_rid = r.path.id.Parent();
  const std::string pool_name = r.path.id.Name();
  std::optional<ClusterState> state;
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, cluster_rid.ToString()));
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (!state) return ClusterNotFound(cluster_rid);
  const ClusterRecord& c = state->record;
  if (ClusterBusy(c.provisioning_state)) {
    return ArmError(
        MakeError(errors::kOperationNotAllowedInState, "update", c.name, c.provisioning_state));
  }
  json props = r.body.value("properties", json::object());
  if (!props.is_object()) {
    return ArmError(MakeError(errors::kInvalidRequestContent, "'properties' must be an object"));
  }
  const store::Resource* existing = FindPool(*state, pool_name);
  if (existing && StringOf(existing->body.value("properties", json::object()),
                           "provisioningState") == "Deleting") {
    return ArmError(
        MakeError(errors::kOperationNotAllowedInState, "update", pool_name, "Deleting"));
  }
  PoolContext ctx{c.location, c.kubernetes_version, "User"};
  ApiResult<PoolSpec> spec =
      existing ? ParsePoolUpdate(props, existing->body, ctx) : ParseNewPool(pool_name, props, ctx);
  if (!spec.ok()) return ArmError(spec.error());
  if (existing && PoolMode(*existing) == "System" && spec->mode != "System" &&
      !OtherSystemPool(*state, pool_name)) {
    return ArmError(MakeError(errors::kLastSystemPool));
  }
  int before = existing ? existing->body.value("properties", json::object()).value("count", 0) : 0;
  if ((!existing || before != spec->count) && c.power_state == "Stopped") {
    return ArmError(MakeError(errors::kClusterStopped, "scale", c.name));
  }
  const std::string cluster_id = state->cluster.id;
  const std::string pool_id =
      existing ? existing->id : fmt::format("{}/agentPools/{}", cluster_id, spec->name);
  const std::string power = c.power_state.empty() ? "Running" : c.power_state;
  const char* provisioning = !existing               ? "Creating"
                             : before != spec->count ? "Scaling"
                                                     : "Updating";
  store::Resource pool;
  pool.id = pool_id;
  pool.type = kAgentPoolType;
  pool.parent_id = cluster_id;
  pool.body = PoolDocument(pool_id, *spec, provisioning, power);
  json doc;
  s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    // The cluster must still be there (a delete may have started meanwhile).
    BYOK_ASSIGN_OR_RETURN(auto cluster, FindCluster(txn, cluster_id));
    if (!cluster || cluster->provisioning_state == "Deleting") {
      return Status::NotFound("managed cluster " + cluster_id);
    }
    BYOK_ASSIGN_OR_RETURN(store::Resource stored,
                          existing ? txn.Put(pool, existing->etag) : txn.Create(pool));
    doc = stored.body;
    return Status::Ok();
  });
  if (s.Is(StatusCode::kNotFound)) return ClusterNotFound(cluster_rid);
  if (s.Is(StatusCode::kAborted) || s.Is(StatusCode::kAlreadyExists)) {
    return ArmError(
        MakeError(errors::kOperationNotAllowedInState, "update", pool_name, "Updating"));
  }
  if (!s.ok()) return Internal(r, s);
  spdlog::info("{} agent pool {} ({} x {}, {} OS disk of {} GB, {})",
               existing ? "updating" : "creating", pool_id, spec->count, spec->vm_size,
               OsDiskTypeName(spec->os_disk_type), spec->os_disk_size_gb, spec->mode);
  std::shared_ptr<Provider> self = shared_from_this();
  std::string name = spec->name;
  return d_.operations->Start(
      r,
      [self, cluster_id, pool_id, name]() -> ApiResult<json> {
        ApiResult<bool> done = self->Reconcile(cluster_id, name);
        if (!done.ok()) return done.error();
        json out;
        Status ls = store::RunInReadTransaction(*self->d_.store, [&](store::Transaction& txn) {
          BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(pool_id));
          if (res) out = res->body;
          return Status::Ok();
        });
        if (!ls.ok()) return self->InternalError(ls);
        return out;
      },
      existing ? 200 : 201, doc);
}

http::Response Provider::GetPool(ArmRequest& r) {
  const ResourceId cluster_rid = r.path.id.Parent();
  std::optional<ClusterState> state;
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, cluster_rid.ToString()));
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (!state) return ClusterNotFound(cluster_rid);
  const store::Resource* pool = FindPool(*state, r.path.id.Name());
  if (!pool) return PoolNotFound(r.path.id);
  return http::Response::Json(200, pool->body);
}

http::Response Provider::ListPools(ArmRequest& r) {
  // The collection's scope is the cluster.
  const ResourceId& cluster_rid = r.path.id;
  std::optional<ClusterState> state;
  Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, cluster_rid.ToString()));
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (!state) return ClusterNotFound(cluster_rid);
  json value = json::array();
  for (const store::Resource& p : state->pools) value.push_back(p.body);
  return http::Response::Json(200, {{"value", value}});
}

http::Response Provider::DeletePool(ArmRequest& r) {
  const ResourceId cluster_rid = r.path.id.Parent();
  const std::string pool_name = r.path.id.Name();
  std::optional<ClusterState> state;
  std::optional<ApiError> refused;
  std::string pool_id;
  Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(state, Load(txn, cluster_rid.ToString()));
    if (!state) return Status::Ok();
    const store::Resource* pool = FindPool(*state, pool_name);
    if (!pool) return Status::Ok();
    if (ClusterBusy(state->record.provisioning_state)) {
      refused = MakeError(errors::kOperationNotAllowedInState, "delete an agent pool of",
                          state->record.name, state->record.provisioning_state);
      return Status::Ok();
    }
    if (PoolMode(*pool) == "System" && !OtherSystemPool(*state, pool_name)) {
      refused = MakeError(errors::kLastSystemPool);
      return Status::Ok();
    }
    store::Resource deleting = *pool;
    deleting.body["properties"]["provisioningState"] = "Deleting";
    BYOK_ASSIGN_OR_RETURN(auto put, txn.Put(std::move(deleting)));
    pool_id = put.id;
    return Status::Ok();
  });
  if (!s.ok()) return Internal(r, s);
  if (!state) return ClusterNotFound(cluster_rid);
  if (refused) return ArmError(*refused);
  if (pool_id.empty()) return http::Response::Empty(204);
  std::shared_ptr<Provider> self = shared_from_this();
  std::string uid = state->record.unique_id;
  std::string name = StringOf(FindPool(*state, pool_name)->body, "name");
  return d_.operations->Start(r, [self, uid, name, pool_id]() -> ApiResult<json> {
    return self->FinishPoolDelete(uid, name, pool_id);
  });
}

}  // namespace byok::containerservice::internal
