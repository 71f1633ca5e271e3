#include "identity/identity_service.h"

#include "identity/bootstrap.h"

namespace byok::identity {

IdentityService::IdentityService(store::Store& store, const Clock& clock, Random& random,
                                 std::string tenant_id, std::string subscription_id,
                                 std::shared_ptr<const SigningKey> key, IdentityOptions options)
    : clock_(clock),
      tenant_id_(std::move(tenant_id)),
      subscription_id_(std::move(subscription_id)),
      key_(std::move(key)),
      urls_(std::move(options.server_base_urls)),
      directory_(store, clock, random, tenant_id_, options.directory),
      tokens_(key_, clock, random, tenant_id_),
      authenticator_(directory_, key_, clock, urls_, options.authenticator) {}

Result<std::unique_ptr<IdentityService>> IdentityService::Open(store::Store& store,
                                                               const Clock& clock, Random& random,
                                                               IdentityOptions options) {
  BYOK_ASSIGN_OR_RETURN(BootstrapIds ids, ReadBootstrapIds(store));
  BYOK_ASSIGN_OR_RETURN(auto key, SigningKey::LoadOrCreate(store));
  return std::unique_ptr<IdentityService>(new IdentityService(store, clock, random, ids.tenant_id,
                                                              ids.subscription_id, std::move(key),
                                                              std::move(options)));
}

std::string IdentityService::DefaultAuthority() const {
  std::vector<std::string> urls = urls_.Get();
  return urls.empty() ? "localhost" : urls.front().substr(std::string_view("https://").size());
}

Result<IssuedToken> IdentityService::IssueToken(const Principal& principal, Audience api) const {
  return IssueToken(principal, DefaultResource(api));
}

Result<IssuedToken> IdentityService::IssueToken(const Principal& principal,
                                                std::string_view resource) const {
  return tokens_.Issue(principal, resource, AdfsIssuer(DefaultAuthority()), TokenVersion::kV1);
}

void AddIdentityRoutes(http::Router& router, IdentityService& service) {
  AddTokenRoutes(router, service);
  AddGraphRoutes(router, service);
}

}  // namespace byok::identity
