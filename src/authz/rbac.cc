// Rbac: the role-assignment index, IsAllowed and the role-assignment REST operations.
// Filter parsing lives in filter.cc; role-definition operations in role_definitions.cc.

#include "authz/rbac.h"

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <utility>

#include <spdlog/spdlog.h>

#include "authz/errors.h"
#include "authz/filter.h"
#include "authz/ids.h"
#include "common/clock.h"

namespace byok::authz {
namespace {

using json = nlohmann::json;

// The optional string properties a PUT may set; each is stored as a string or null.
constexpr std::string_view kOptionalProperties[] = {"description", "condition", "conditionVersion",
                                                    "delegatedManagedIdentityResourceId"};

ApiError StoreError(const Status& s) {
  spdlog::error("authz: store operation failed: {}", s.ToString());
  if (s.Is(StatusCode::kUnavailable) || s.Is(StatusCode::kAborted)) {
    return MakeError(errors::kServiceUnavailable);
  }
  return MakeError(errors::kInternalServerError);
}

// The index key of a principal id: its canonical GUID, else its lower-cased text.
std::string PrincipalKey(std::string_view principal_id) {
  std::string_view stripped = StripQuotes(principal_id);
  std::optional<std::string> guid = CanonicalGuid(stripped);
  return guid ? *guid : arm::AsciiLower(stripped);
}

// The canonical GUID a roleDefinitionId names, or nullopt if it is not a role-definition id.
std::optional<std::string> RoleGuidOf(std::string_view role_definition_id) {
  auto parts = SplitRoleDefinitionId(role_definition_id);
  if (!parts.ok()) return std::nullopt;
  return CanonicalGuid(parts->guid);
}

std::string StringOr(const json& j, std::string_view key, std::string fallback = "") {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

bool IsStringOrNull(const json& j, std::string_view key) {
  auto it = j.find(key);
  return it == j.end() || it->is_string() || it->is_null();
}

json AssignmentJson(const store::Resource& r) {
  json props = r.body.contains("properties") && r.body["properties"].is_object()
                   ? r.body["properties"]
                   : json::object();
  props["createdOn"] = FormatAzureTime(r.created);
  props["updatedOn"] = FormatAzureTime(r.updated);
  return {{"properties", std::move(props)},
          {"id", r.id},
          {"type", std::string(kRoleAssignmentType)},
          {"name", StringOr(r.body, "name")}};
}

}  // namespace

// One assignment as the index holds it.
struct Rbac::IndexedAssignment {
  std::string principal_key;
  std::string scope_key;
  Entry entry;

  // From a stored role-assignment resource; nullopt if its document is unusable.
  static std::optional<IndexedAssignment> FromResource(const store::Resource& r) {
    const json& props = r.body.contains("properties") ? r.body["properties"] : json();
    if (!props.is_object()) return std::nullopt;
    auto scope = ParseScope(StringOr(props, "scope"));
    std::optional<std::string> role_guid = RoleGuidOf(StringOr(props, "roleDefinitionId"));
    std::string principal = StringOr(props, "principalId");
    if (!scope.ok() || !role_guid || principal.empty()) return std::nullopt;
    IndexedAssignment a;
    a.principal_key = PrincipalKey(principal);
    a.scope_key = scope->Normalized();
    a.entry.id_key = store::NormalizeId(r.id);
    a.entry.role = FindBuiltInRole(*role_guid);
    a.entry.role_guid = *role_guid;
    auto cond = props.find("condition");
    a.entry.conditional = cond != props.end() && cond->is_string() && !cond->empty();
    return a;
  }
};

// A create request that passed validation.
struct Rbac::Validated {
  arm::ResourceId scope;
  std::string name;  // canonical GUID
  std::string id;
  std::string role_definition_id;  // as given
  const RoleDefinition* role = nullptr;
  std::string principal_id;  // canonical GUID
  std::optional<std::string> principal_type;
  json optional_properties = json::object();  // each of kOptionalProperties: string or null
};

Rbac::Rbac(store::Store& store, RbacOptions options)
    : store_(store), options_(std::move(options)) {}

Result<std::unique_ptr<Rbac>> Rbac::Open(store::Store& store, RbacOptions options) {
  std::unique_ptr<Rbac> rbac(new Rbac(store, std::move(options)));
  BYOK_TRY(LoadIndex(store, &rbac->index_, &rbac->ids_));
  return rbac;
}

Status Rbac::LoadIndex(store::Store& store, Index* index, IdMap* ids) {
  std::vector<store::Resource> all;
  BYOK_TRY(store::RunInReadTransaction(store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(all, txn.ListByType(kRoleAssignmentType));
    return Status::Ok();
  }));
  index->clear();
  ids->clear();
  for (const store::Resource& r : all) {
    std::optional<IndexedAssignment> a = IndexedAssignment::FromResource(r);
    if (!a) {
      spdlog::warn("authz: ignoring malformed role assignment {}", r.id);
      continue;
    }
    (*ids)[a->entry.id_key] = Located{a->principal_key, a->scope_key};
    (*index)[a->principal_key][a->scope_key].push_back(std::move(a->entry));
  }
  return Status::Ok();
}

Status Rbac::Reload() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  Index index;
  IdMap ids;
  BYOK_TRY(LoadIndex(store_, &index, &ids));
  std::unique_lock<std::shared_mutex> lock(index_mu_);
  index_.swap(index);
  ids_.swap(ids);
  return Status::Ok();
}

size_t Rbac::assignment_count() const {
  std::shared_lock<std::shared_mutex> lock(index_mu_);
  return ids_.size();
}

void Rbac::AddToIndex(IndexedAssignment a) {
  RemoveFromIndex(a.entry.id_key);  // an update replaces the entry
  ids_[a.entry.id_key] = Located{a.principal_key, a.scope_key};
  index_[a.principal_key][a.scope_key].push_back(std::move(a.entry));
}

void Rbac::RemoveFromIndex(const std::string& id_key) {
  auto it = ids_.find(id_key);
  if (it == ids_.end()) return;
  auto pit = index_.find(it->second.principal_key);
  if (pit != index_.end()) {
    auto sit = pit->second.find(it->second.scope_key);
    if (sit != pit->second.end()) {
      std::erase_if(sit->second, [&](const Entry& e) { return e.id_key == id_key; });
      if (sit->second.empty()) pit->second.erase(sit);
    }
    if (pit->second.empty()) index_.erase(pit);
  }
  ids_.erase(it);
}

void Rbac::ForgetRoleAssignment(std::string_view role_assignment_id) {
  std::unique_lock<std::shared_mutex> lock(index_mu_);
  RemoveFromIndex(store::NormalizeId(role_assignment_id));
}

bool Rbac::HasAssignment(const IndexedAssignment& a) const {
  std::shared_lock<std::shared_mutex> lock(index_mu_);
  auto pit = index_.find(a.principal_key);
  if (pit == index_.end()) return false;
  auto sit = pit->second.find(a.scope_key);
  if (sit == pit->second.end()) return false;
  return std::any_of(sit->second.begin(), sit->second.end(),
                     [&](const Entry& e) { return e.role_guid == a.entry.role_guid; });
}

Result<bool> Rbac::IsAllowed(std::string_view principal_object_id, std::string_view action,
                             std::string_view scope, bool data_action) {
  if (action.empty()) return Status::InvalidArgument("empty action");
  BYOK_ASSIGN_OR_RETURN(arm::ResourceId rid, ParseScope(scope));
  std::vector<std::string> chain;
  for (const arm::ResourceId& s : ScopeChain(rid)) chain.push_back(s.Normalized());
  const std::string key = PrincipalKey(principal_object_id);

  std::shared_lock<std::shared_mutex> lock(index_mu_);
  auto pit = index_.find(key);
  if (pit == index_.end()) return false;
  for (const std::string& scope_key : chain) {
    auto sit = pit->second.find(scope_key);
    if (sit == pit->second.end()) continue;
    for (const Entry& e : sit->second) {
      if (e.role != nullptr && !e.conditional && RoleGrants(*e.role, action, data_action)) {
        return true;
      }
    }
  }
  return false;
}

ApiResult<Rbac::Validated> Rbac::Validate(std::string_view scope, std::string_view name,
                                          const json& body) const {
  Validated v;
  auto parsed_scope = ParseScope(scope);
  if (!parsed_scope.ok()) return MakeError(errors::kInvalidScope, scope);
  v.scope = std::move(parsed_scope).value();
  std::optional<std::string> guid_name = CanonicalGuid(name);
  if (!guid_name) return MakeError(errors::kInvalidRoleAssignmentId, name);
  v.name = *guid_name;
  v.id = RoleAssignmentResourceId(v.scope, v.name);

  if (!body.is_object() || !body.contains("properties") || !body["properties"].is_object()) {
    return MakeError(errors::kBadRequestFormat);
  }
  const json& props = body["properties"];

  auto rd = props.find("roleDefinitionId");
  if (rd == props.end() || !rd->is_string()) return MakeError(errors::kInvalidRoleDefinitionId, "");
  v.role_definition_id = rd->get<std::string>();
  std::optional<std::string> role_guid = RoleGuidOf(v.role_definition_id);
  if (!role_guid) return MakeError(errors::kInvalidRoleDefinitionId, v.role_definition_id);

  auto pid = props.find("principalId");
  if (pid == props.end() || !pid->is_string()) return MakeError(errors::kInvalidPrincipalId, "");
  const std::string principal_raw = pid->get<std::string>();
  std::string_view principal = StripQuotes(principal_raw);
  std::optional<std::string> principal_guid = CanonicalGuid(principal);
  if (!principal_guid) return MakeError(errors::kInvalidPrincipalId, principal);
  v.principal_id = *principal_guid;

  if (!IsStringOrNull(props, "principalType")) return MakeError(errors::kBadRequestFormat);
  std::string type = StringOr(props, "principalType");
  if (!type.empty()) v.principal_type = type;
  for (std::string_view key : kOptionalProperties) {
    if (!IsStringOrNull(props, key)) return MakeError(errors::kBadRequestFormat);
    auto it = props.find(key);
    v.optional_properties[std::string(key)] = it == props.end() ? json() : *it;
  }
  // Azure's only condition language version; it fills it in when a condition comes without one.
  if (v.optional_properties["condition"].is_string() &&
      v.optional_properties["conditionVersion"].is_null()) {
    v.optional_properties["conditionVersion"] = "2.0";
  }

  v.role = FindBuiltInRole(*role_guid);
  if (v.role == nullptr) return MakeError(errors::kRoleDefinitionDoesNotExistInRequest, *role_guid);
  if (options_.principal_exists && !options_.principal_exists(v.principal_id)) {
    return MakeError(errors::kPrincipalNotFound, principal, options_.tenant_id);
  }
  return v;
}

ApiResult<ApiResponse> Rbac::CreateRoleAssignment(std::string_view scope, std::string_view name,
                                                  const json& body,
                                                  std::string_view caller_object_id) {
  RoleAssignmentRequest request{std::string(scope), std::string(name), body};
  auto results = CreateRoleAssignments({&request, 1}, caller_object_id);
  if (!results.ok()) return results.error();
  return std::move(results.value().front());
}

ApiResult<ApiResponse> Rbac::CreateRoleAssignmentById(std::string_view role_assignment_id,
                                                      const json& body,
                                                      std::string_view caller_object_id) {
  auto parts = SplitRoleAssignmentId(role_assignment_id);
  if (!parts.ok()) return MakeError(errors::kInvalidScope, role_assignment_id);
  return CreateRoleAssignment(parts->scope.ToString(), parts->name, body, caller_object_id);
}

ApiResult<std::vector<ApiResponse>> Rbac::CreateRoleAssignments(
    std::span<const RoleAssignmentRequest> requests, std::string_view caller_object_id) {
  std::vector<Validated> valid;
  valid.reserve(requests.size());
  for (const RoleAssignmentRequest& r : requests) {
    auto v = Validate(r.scope, r.name, r.body);
    if (!v.ok()) return v.error();
    valid.push_back(std::move(v.value()));
  }

  std::lock_guard<std::mutex> write_lock(write_mu_);
  auto txn_or = store_.Begin();
  if (!txn_or.ok()) return StoreError(txn_or.status());
  store::Transaction& txn = **txn_or;

  std::vector<ApiResponse> responses;
  std::vector<IndexedAssignment> to_index;
  std::unordered_set<std::string> batch_triples;  // principal|scope|role created in this batch
  for (const Validated& v : valid) {
    auto existing = txn.Get(v.id);
    if (!existing.ok()) return StoreError(existing.status());

    if (existing->has_value()) {
      const store::Resource& old = **existing;
      json props = old.body.contains("properties") && old.body["properties"].is_object()
                       ? old.body["properties"]
                       : json::object();
      if (PrincipalKey(StringOr(props, "principalId")) != v.principal_id ||
          RoleGuidOf(StringOr(props, "roleDefinitionId")) != std::string(v.role->guid)) {
        return MakeError(errors::kRoleAssignmentUpdateNotPermitted);
      }
      json updated = props;
      if (v.principal_type) updated["principalType"] = *v.principal_type;
      for (auto& [key, value] : v.optional_properties.items()) updated[key] = value;
      if (updated == props) {  // an identical repeat: nothing to write
        responses.push_back({200, AssignmentJson(old)});
        continue;
      }
      updated["updatedBy"] = std::string(caller_object_id);
      store::Resource r = old;
      r.body["properties"] = std::move(updated);
      auto stored = txn.Put(std::move(r));
      if (!stored.ok()) return StoreError(stored.status());
      if (auto a = IndexedAssignment::FromResource(*stored)) to_index.push_back(std::move(*a));
      responses.push_back({200, AssignmentJson(*stored)});
      continue;
    }

    IndexedAssignment probe;
    probe.principal_key = v.principal_id;
    probe.scope_key = v.scope.Normalized();
    probe.entry.role_guid = std::string(v.role->guid);
    std::string triple = probe.principal_key + "|" + probe.scope_key + "|" + probe.entry.role_guid;
    if (batch_triples.count(triple) != 0 || HasAssignment(probe)) {
      return MakeError(errors::kRoleAssignmentExists);
    }
    batch_triples.insert(std::move(triple));

    json props = {
        {"roleDefinitionId", v.role_definition_id},
        {"principalId", v.principal_id},
        {"principalType", v.principal_type.value_or(options_.default_principal_type)},
        {"scope", v.scope.ToString()},
        {"createdBy", std::string(caller_object_id)},
        {"updatedBy", std::string(caller_object_id)},
    };
    for (auto& [key, value] : v.optional_properties.items()) props[key] = value;
    store::Resource r;
    r.id = v.id;
    r.type = std::string(kRoleAssignmentType);
    r.parent_id = v.scope.ToString();
    r.body = {{"name", v.name}, {"properties", std::move(props)}};
    auto stored = txn.Create(std::move(r));
    if (!stored.ok()) return StoreError(stored.status());
    if (auto a = IndexedAssignment::FromResource(*stored)) to_index.push_back(std::move(*a));
    responses.push_back({201, AssignmentJson(*stored)});
  }

  if (Status s = txn.Commit(); !s.ok()) return StoreError(s);
  std::unique_lock<std::shared_mutex> lock(index_mu_);
  for (IndexedAssignment& a : to_index) AddToIndex(std::move(a));
  return responses;
}

ApiResult<json> Rbac::GetRoleAssignment(std::string_view scope, std::string_view name) {
  auto parsed = ParseScope(scope);
  if (!parsed.ok()) return MakeError(errors::kInvalidScope, scope);
  std::optional<std::string> guid = CanonicalGuid(name);
  if (!guid) return MakeError(errors::kInvalidRoleAssignmentId, name);
  const std::string id = RoleAssignmentResourceId(*parsed, *guid);
  std::optional<store::Resource> found;
  Status s = store::RunInReadTransaction(store_, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(found, txn.Get(id));
    return Status::Ok();
  });
  if (!s.ok()) return StoreError(s);
  if (!found) return MakeError(errors::kRoleAssignmentNotFound, name);
  return AssignmentJson(*found);
}

ApiResult<json> Rbac::GetRoleAssignmentById(std::string_view role_assignment_id) {
  auto parts = SplitRoleAssignmentId(role_assignment_id);
  if (!parts.ok()) return MakeError(errors::kInvalidScope, role_assignment_id);
  return GetRoleAssignment(parts->scope.ToString(), parts->name);
}

ApiResult<ApiResponse> Rbac::DeleteRoleAssignment(std::string_view scope, std::string_view name) {
  auto parsed = ParseScope(scope);
  if (!parsed.ok()) return MakeError(errors::kInvalidScope, scope);
  std::optional<std::string> guid = CanonicalGuid(name);
  if (!guid) return MakeError(errors::kInvalidRoleAssignmentId, name);
  const std::string id = RoleAssignmentResourceId(*parsed, *guid);

  std::lock_guard<std::mutex> write_lock(write_mu_);
  auto txn_or = store_.Begin();
  if (!txn_or.ok()) return StoreError(txn_or.status());
  store::Transaction& txn = **txn_or;
  auto existing = txn.Get(id);
  if (!existing.ok()) return StoreError(existing.status());
  if (!existing->has_value()) return ApiResponse{204, json()};
  json body = AssignmentJson(**existing);
  if (Status s = txn.Delete(id); !s.ok()) return StoreError(s);
  if (Status s = txn.Commit(); !s.ok()) return StoreError(s);
  std::unique_lock<std::shared_mutex> lock(index_mu_);
  RemoveFromIndex(store::NormalizeId(id));
  return ApiResponse{200, std::move(body)};
}

ApiResult<ApiResponse> Rbac::DeleteRoleAssignmentById(std::string_view role_assignment_id) {
  auto parts = SplitRoleAssignmentId(role_assignment_id);
  if (!parts.ok()) return MakeError(errors::kInvalidScope, role_assignment_id);
  return DeleteRoleAssignment(parts->scope.ToString(), parts->name);
}

ApiResult<json> Rbac::ListRoleAssignments(std::string_view scope, std::string_view filter) {
  auto parsed = ParseScope(scope);
  if (!parsed.ok()) return MakeError(errors::kInvalidScope, scope);
  std::optional<AssignmentFilter> f = ParseAssignmentFilter(filter);
  if (!f) return MakeError(errors::kUnsupportedRoleAssignmentFilter, filter);
  const std::optional<std::string> principal =
      f->principal_id ? std::optional<std::string>(PrincipalKey(*f->principal_id)) : std::nullopt;

  std::vector<arm::ResourceId> chain = ScopeChain(*parsed);
  std::vector<store::Resource> found;
  auto append = [&](std::vector<store::Resource> more) {
    for (store::Resource& r : more) found.push_back(std::move(r));
  };
  Status s = store::RunInReadTransaction(store_, [&](store::Transaction& txn) -> Status {
    const std::string type(kRoleAssignmentType);
    // Enclosing scopes, from the tenant down.
    for (size_t i = chain.size(); i-- > 1;) {
      BYOK_ASSIGN_OR_RETURN(auto at, txn.ListChildren(chain[i].ToString(), type));
      append(std::move(at));
    }
    if (f->at_scope) {
      BYOK_ASSIGN_OR_RETURN(auto at, txn.ListChildren(chain[0].ToString(), type));
      append(std::move(at));
    } else {
      BYOK_ASSIGN_OR_RETURN(auto within, txn.ListByType(type, chain[0].ToString()));
      append(std::move(within));
    }
    return Status::Ok();
  });
  if (!s.ok()) return StoreError(s);

  json value = json::array();
  for (const store::Resource& r : found) {
    if (principal) {
      const json& props = r.body.contains("properties") ? r.body["properties"] : json();
      if (!props.is_object() || PrincipalKey(StringOr(props, "principalId")) != *principal) {
        continue;
      }
    }
    value.push_back(AssignmentJson(r));
  }
  return json{{"value", std::move(value)}};
}

ApiError Denial(std::string_view client, std::string_view object_id, std::string_view action,
                std::string_view scope) {
  return MakeError(errors::kAuthorizationFailed, client, object_id, action, scope);
}

}  // namespace byok::authz
