// The authorization decision every API asks: may this principal perform this action here?
//
// Azure RBAC semantics: the principal's role assignments at `scope` or any ancestor scope
// (tenant "/" → subscription → resource group → resource → nested/extension resources) are
// collected; the action is allowed if some assigned role's Actions (DataActions for a data
// action) match it and none of that role's NotActions (NotDataActions) match it. Matching is
// case-insensitive with '*' wildcards ("*", "*/read", "Microsoft.KeyVault/vaults/*").
//
// Thread safety: implementations are thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"

namespace byok::authz {

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // action: e.g. "Microsoft.Resources/subscriptions/resourceGroups/write" or, with data_action,
  // "Microsoft.KeyVault/vaults/keys/wrap/action". scope: a resource id in any case.
  virtual Result<bool> IsAllowed(std::string_view principal_object_id, std::string_view action,
                                 std::string_view scope, bool data_action = false) = 0;
};

}  // namespace byok::authz
