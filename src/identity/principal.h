// Who is calling: the security principal a validated token (or an internal service) stands for.
//
// byok has two kinds, both Azure "ServicePrincipal" objects in Graph and RBAC terms: service
// principals created by operators (client id + secret) and managed identities that byok creates
// for resources (a DiskEncryptionSet's or a cluster's system-assigned identity). Values.
#pragma once

#include <string>
#include <string_view>

namespace byok::identity {

enum class PrincipalKind { kServicePrincipal, kManagedIdentity };

struct Principal {
  std::string object_id;  // Entra object id (GUID): the "oid" claim; RBAC principalId
  std::string app_id;     // application (client) id: the "appid" claim
  std::string tenant_id;  // the "tid" claim
  std::string display_name;
  PrincipalKind kind = PrincipalKind::kServicePrincipal;
  std::string resource_id;  // managed identities: the resource that owns it; else ""
};

// Which API a token is presented to; each accepts its own audiences.
enum class Audience { kArm, kKeyVault, kGraph };

}  // namespace byok::identity
