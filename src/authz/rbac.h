// Azure RBAC over the metadata store: role assignments, the IsAllowed decision and the
// Microsoft.Authorization REST operations (roleAssignments, roleDefinitions).
//
// Persistence. A role assignment is a store resource of type Microsoft.Authorization/
// roleAssignments, id "{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
// ("/providers/..." at the tenant scope "/"), parent_id the scope ("/" at the tenant), body
// {"name", "properties": {roleDefinitionId, principalId, principalType, scope, condition,
// conditionVersion, description, delegatedManagedIdentityResourceId, createdBy, updatedBy}}.
// createdOn/updatedOn are the store's timestamps. Names are GUIDs, stored in canonical lower-case
// form; principal ids likewise.
//
// Index. Rbac keeps every assignment in memory, keyed by principal and then by normalized scope,
// loaded when opened and kept in sync by its own writes: Rbac must be the only writer of role
// assignments. Anything else that deletes them (e.g. a cascade delete of a resource group via
// Transaction::DeleteByPrefix) must call ForgetRoleAssignment() for each, or Reload() afterwards.
// IsAllowed costs O(length of the scope chain × that principal's assignments at those scopes),
// independent of the total count.
//
// Decision (Authorizer::IsAllowed): the principal's assignments at the scope or any enclosing
// scope (ids.h ScopeChain) are collected; the action is allowed if one assigned role grants it
// (roles.h RoleGrants). Assignments carrying an ABAC condition are stored and listed but never
// grant anything (byok does not evaluate conditions: it fails closed). A malformed scope or an
// empty action is kInvalidArgument; a store failure cannot happen (the index is in memory).
//
// REST. The service methods take what the ARM front end extracted from the request (scope and
// name from the path, the parsed body, the $filter value, the caller's object id) after it has
// authenticated the caller, checked api-version and authorized the operation (e.g. IsAllowed
// (caller, "Microsoft.Authorization/roleAssignments/write", scope)). They return Azure's response
// body (and, for PUT and DELETE, the status) or an ApiError from authz/errors.h.
//
// Thread safety: Rbac is thread-safe. Reads of the index take a shared lock; writers are
// serialized by Rbac and use one store transaction per call (per batch).
//
// REQUIRES: the Store outlives the Rbac; options.principal_exists is thread-safe; a thread calling
// a writing method (Create*, Delete*, Reload) holds no store write transaction of its own.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "authz/authorizer.h"
#include "authz/roles.h"
#include "common/api_error.h"
#include "common/status.h"
#include "store/store.h"

namespace byok::authz {

struct RbacOptions {
  // The directory's tenant id, named in PrincipalNotFound messages.
  std::string tenant_id;
  // Whether an object id (canonical lower-case GUID) names a principal of the directory. nullptr
  // accepts every GUID.
  std::function<bool(std::string_view object_id)> principal_exists;
  // properties.principalType when a create request leaves it out (byok's principals are all
  // service principals or managed identities, which Azure types "ServicePrincipal").
  std::string default_principal_type = "ServicePrincipal";
};

// A response whose HTTP status varies: 201/200 for PUT, 200/204 for DELETE (body null on 204).
struct ApiResponse {
  int http_status = 200;
  nlohmann::json body;
};

// One PUT of a role assignment: path scope and name, and the request body.
struct RoleAssignmentRequest {
  std::string scope;
  std::string name;
  nlohmann::json body;
};

class Rbac final : public Authorizer {
 public:
  // Loads every role assignment from `store` into the index.
  static Result<std::unique_ptr<Rbac>> Open(store::Store& store, RbacOptions options);

  Rbac(const Rbac&) = delete;
  Rbac& operator=(const Rbac&) = delete;

  // See authorizer.h and the file comment.
  Result<bool> IsAllowed(std::string_view principal_object_id, std::string_view action,
                         std::string_view scope, bool data_action = false) override;

  // ---- Role assignments (RoleAssignments_* of Microsoft.Authorization 2022-04-01). ----

  // PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}. body:
  // {"properties":{"roleDefinitionId","principalId","principalType"?,"description"?,
  // "condition"?,"conditionVersion"?,"delegatedManagedIdentityResourceId"?}}. 201 with the new
  // assignment; 200 when `name` exists with the same principal and role (description, condition
  // and principalType are updated if they differ). Errors: InvalidScope, InvalidRoleAssignmentId,
  // BadRequestFormat, InvalidRoleDefinitionId, InvalidPrincipalId, RoleDefinitionDoesNotExist,
  // PrincipalNotFound, RoleAssignmentUpdateNotPermitted (other principal or role under that
  // name), RoleAssignmentExists (same principal, role and scope under another name).
  // principalId may arrive wrapped in literal double quotes; they are ignored.
  ApiResult<ApiResponse> CreateRoleAssignment(std::string_view scope, std::string_view name,
                                              const nlohmann::json& body,
                                              std::string_view caller_object_id);
  // PUT /{roleAssignmentId}.
  ApiResult<ApiResponse> CreateRoleAssignmentById(std::string_view role_assignment_id,
                                                  const nlohmann::json& body,
                                                  std::string_view caller_object_id);
  // Many PUTs in one store transaction, all or nothing (the first error is returned and nothing is
  // written): for bootstrap, seeding and benchmarks. Same checks and results as one by one.
  ApiResult<std::vector<ApiResponse>> CreateRoleAssignments(
      std::span<const RoleAssignmentRequest> requests, std::string_view caller_object_id);

  // GET. 404 RoleAssignmentNotFound if absent.
  ApiResult<nlohmann::json> GetRoleAssignment(std::string_view scope, std::string_view name);
  ApiResult<nlohmann::json> GetRoleAssignmentById(std::string_view role_assignment_id);

  // DELETE. 200 with the deleted assignment, or 204 (null body) if there was none.
  ApiResult<ApiResponse> DeleteRoleAssignment(std::string_view scope, std::string_view name);
  ApiResult<ApiResponse> DeleteRoleAssignmentById(std::string_view role_assignment_id);

  // GET {scope}/providers/Microsoft.Authorization/roleAssignments?$filter=... → {"value":[...]}.
  // filter (already URL-decoded; "" for none): clauses joined by " and ": atScope(),
  // principalId eq '{id}', assignedTo('{id}'). Without atScope(): assignments at the scope, at
  // every enclosing scope and under it; with atScope(): at the scope and enclosing scopes only.
  // principalId/assignedTo keep one principal's (byok has no groups: both mean the same).
  // Order: enclosing scopes from the tenant down, then the scope and below sorted by id.
  ApiResult<nlohmann::json> ListRoleAssignments(std::string_view scope, std::string_view filter);

  // ---- Role definitions (built-in only; see roles.h). ----

  // GET {scope}/providers/Microsoft.Authorization/roleDefinitions?$filter=... → {"value":[...]}.
  // filter: "" or clauses joined by " and ": roleName eq '{name}' (ASCII case-insensitive),
  // type eq 'BuiltInRole' | 'CustomRole'. Ids are subscription-level when the scope lies in a
  // subscription, tenant-level otherwise, as Azure answers.
  ApiResult<nlohmann::json> ListRoleDefinitions(std::string_view scope,
                                                std::string_view filter) const;
  // GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}. 404
  // RoleDefinitionDoesNotExist if unknown.
  ApiResult<nlohmann::json> GetRoleDefinition(std::string_view scope, std::string_view guid) const;
  // GET /{roleDefinitionId} ("[/subscriptions/{s}]/providers/Microsoft.Authorization/
  // roleDefinitions/{guid}").
  ApiResult<nlohmann::json> GetRoleDefinitionById(std::string_view role_definition_id) const;

  // ---- Maintenance. ----

  // Rebuilds the index from the store (after role assignments were deleted behind Rbac's back).
  // REQUIRES: the calling thread holds no store write transaction.
  Status Reload();
  // Drops one assignment (full id, any case) from the index only: for code that deletes role
  // assignments from the store itself (a resource group's cascade delete). May be called inside a
  // store transaction; dropping first and failing to delete later only removes access.
  void ForgetRoleAssignment(std::string_view role_assignment_id);
  // How many assignments the index holds.
  size_t assignment_count() const;

 private:
  struct Entry {
    std::string id_key;                    // normalized resource id
    const RoleDefinition* role = nullptr;  // nullptr: unknown role, grants nothing
    std::string role_guid;                 // canonical
    bool conditional = false;              // has an ABAC condition: grants nothing
  };
  // normalized scope → assignments there
  using ScopeMap = std::unordered_map<std::string, std::vector<Entry>>;
  // principal key → ScopeMap
  using Index = std::unordered_map<std::string, ScopeMap>;
  struct Located {
    std::string principal_key;
    std::string scope_key;
  };
  using IdMap = std::unordered_map<std::string, Located>;  // id_key → where its Entry is
  struct IndexedAssignment;
  struct Validated;

  Rbac(store::Store& store, RbacOptions options);
  static Status LoadIndex(store::Store& store, Index* index, IdMap* ids);
  ApiResult<Validated> Validate(std::string_view scope, std::string_view name,
                                const nlohmann::json& body) const;
  bool HasAssignment(const IndexedAssignment& a) const;  // same principal, scope and role
  void AddToIndex(IndexedAssignment a);                  // REQUIRES: index_mu_ held exclusively
  void RemoveFromIndex(const std::string& id_key);       // REQUIRES: index_mu_ held exclusively

  store::Store& store_;
  const RbacOptions options_;

  std::mutex write_mu_;  // serializes writers (held for a whole write, before index_mu_)
  mutable std::shared_mutex index_mu_;
  Index index_;  // guarded by index_mu_
  IdMap ids_;    // guarded by index_mu_
};

// The 403 AuthorizationFailed error for a refused control-plane action. client: what Azure shows
// as the client (the app id, or the object id); object_id: the caller's object id.
ApiError Denial(std::string_view client, std::string_view object_id, std::string_view action,
                std::string_view scope);

}  // namespace byok::authz
