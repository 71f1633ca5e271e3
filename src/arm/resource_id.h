// ARM resource ids: parsing, canonical form and normalization.
//
// Grammar handled (segments separated by '/', names case-insensitive, case preserved):
//   /subscriptions/{sub}
//   /subscriptions/{sub}/resourceGroups/{rg}
//   {scope}/providers/{Namespace}/{type}/{name}[/{type}/{name}]...
// where {scope} is empty (tenant level), a subscription, a resource group or, for extension
// resources such as role assignments, another resource id. A trailing "/providers/{Namespace}"
// without a type is not a resource id. Parse() is strict: no empty segments, no "." or "..",
// no control characters, bounded length. It is a fuzz target (fuzz/resource_id_fuzz.cc).
//
// Values; thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace byok::arm {

inline constexpr size_t kMaxResourceIdLength = 4096;

class ResourceId {
 public:
  enum class Kind { kTenant, kSubscription, kResourceGroup, kResource };

  struct TypeName {
    std::string type;
    std::string name;
  };

  static Result<ResourceId> Parse(std::string_view id);

  // Builders for common shapes.
  static ResourceId Subscription(std::string subscription_id);
  static ResourceId ResourceGroup(std::string subscription_id, std::string resource_group);
  // A resource directly under `scope` (a parsed id), e.g. scope = resource group,
  // provider_namespace = "Microsoft.KeyVault", types = {{"vaults", "v1"}}.
  static ResourceId Resource(const ResourceId& scope, std::string provider_namespace,
                             std::vector<TypeName> types);

  Kind kind() const { return kind_; }
  const std::string& subscription_id() const { return subscription_id_; }  // "" at tenant level
  const std::string& resource_group() const { return resource_group_; }    // "" if none
  // For kResource: the innermost provider namespace and its type/name chain.
  const std::string& provider_namespace() const { return provider_namespace_; }
  const std::vector<TypeName>& types() const { return types_; }
  // For kResource: the id of the scope the provider segment hangs off ("" for tenant level).
  const std::string& scope() const { return scope_; }

  // "Microsoft.KeyVault/vaults/keys"; "Microsoft.Resources/resourceGroups" for a resource group;
  // "Microsoft.Resources/subscriptions" for a subscription; "" at tenant level.
  std::string ResourceType() const;
  // The last name ("" at tenant level).
  std::string Name() const;
  // Canonical spelling with case preserved: "resourceGroups", "providers" and "subscriptions"
  // keywords normalized, names and types as given.
  std::string ToString() const;
  // Lower-cased ToString(): the key for lookups and comparisons.
  std::string Normalized() const;
  // The enclosing id: resource → parent resource, or its scope; resource group → subscription;
  // subscription → tenant. REQUIRES: kind() != kTenant.
  ResourceId Parent() const;
  // True if this id is `other` or lies under it (case-insensitive).
  bool IsWithin(const ResourceId& other) const;

  friend bool operator==(const ResourceId& a, const ResourceId& b) {
    return a.Normalized() == b.Normalized();
  }

 private:
  Kind kind_ = Kind::kTenant;
  std::string subscription_id_;
  std::string resource_group_;
  std::string scope_;
  std::string provider_namespace_;
  std::vector<TypeName> types_;
};

// ASCII lower-casing (ARM names compare case-insensitively in the invariant culture; byok
// compares ASCII case-insensitively and keeps other bytes as they are).
std::string AsciiLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace byok::arm
