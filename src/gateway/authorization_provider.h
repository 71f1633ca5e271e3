// Microsoft.Authorization on the ARM front end: role assignments (PUT/GET/DELETE/list at any
// scope, $filter) and role definitions (list/get, $filter=roleName eq '...'), served by
// authz::Rbac. Reading role definitions needs no role (as in Azure, built-in definitions are
// public); role assignments are authorized with Microsoft.Authorization/roleAssignments/*.
#pragma once

#include "authz/rbac.h"
#include "gateway/frontend.h"

namespace byok::gateway {

// REQUIRES: rbac outlives the front end.
void RegisterAuthorizationProvider(Frontend& frontend, authz::Rbac& rbac);

}  // namespace byok::gateway
