// Where this server is and which token audiences and issuers belong to it.
//
// ServerUrls holds the server's own base URLs ("https://localhost:8443", "https://127.0.0.1:8443",
// ...): every authority a client may use to reach byokd. They decide
//   - which issuers the Authenticator accepts: for each base URL B, "B/adfs" (ADFS-style and
//     internal tokens), "B/{tenant}/v2.0" (v2 endpoint) and "B/{tenant}/" (v1 endpoint);
//   - which audiences each API accepts (AllowedAudiences): ARM also accepts B itself, Graph
//     accepts B/graph, Key Vault accepts https://vault.localhost:PORT for B's port.
// An empty set (not configured) accepts those issuer shapes on any https authority and adds no
// server-specific audiences. The daemon sets the URLs once the listening port is known (routes
// are registered before that), hence Set() after construction.
//
// Audience comparison ignores ASCII case and one trailing '/', so "https://management.azure.com"
// and "https://management.azure.com/" are the same audience.
//
// Thread safety: ServerUrls is thread-safe (Set may race with readers); the free functions are
// pure.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity/principal.h"

namespace byok::identity {

class ServerUrls {
 public:
  ServerUrls() = default;
  explicit ServerUrls(std::vector<std::string> base_urls) { Set(std::move(base_urls)); }

  // Each entry "https://host[:port]" (a trailing '/' is removed, case is lowered; entries that do
  // not start with "https://" or have a path are dropped).
  void Set(std::vector<std::string> base_urls);
  std::vector<std::string> Get() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> urls_;
};

// https://localhost:P, https://127.0.0.1:P, https://[::1]:P and https://<listen_host>:P (unless a
// wildcard address); for port 443 also the forms without ":443".
std::vector<std::string> DefaultServerBaseUrls(std::string_view listen_host, uint16_t port);

// The audiences `api` accepts, in the order ARM lists them in its error message.
std::vector<std::string> AllowedAudiences(Audience api, const std::vector<std::string>& base_urls);
bool IsAllowedAudience(Audience api, std::string_view audience,
                       const std::vector<std::string>& base_urls);
// The API a requested resource (token audience) is for, if any.
std::optional<Audience> AudienceOfResource(std::string_view resource,
                                           const std::vector<std::string>& base_urls);
// The resource byok's own services request for `api` ("https://management.core.windows.net/",
// "https://vault.azure.net", "https://graph.microsoft.com").
std::string_view DefaultResource(Audience api);

// Issuers, from an authority "host[:port]" as the client sent it in Host.
std::string AdfsIssuer(std::string_view authority);                            // https://A/adfs
std::string V2Issuer(std::string_view authority, std::string_view tenant_id);  // https://A/T/v2.0
std::string V1Issuer(std::string_view authority, std::string_view tenant_id);  // https://A/T/

// True if `issuer` is one of the issuer forms above for this tenant, on one of base_urls (on any
// https authority if base_urls is empty).
bool IsAcceptedIssuer(std::string_view issuer, std::string_view tenant_id,
                      const std::vector<std::string>& base_urls);

}  // namespace byok::identity
