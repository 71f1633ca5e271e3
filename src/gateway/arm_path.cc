#include "gateway/arm_path.h"

#include <vector>

#include <fmt/format.h>

namespace byok::gateway {
namespace {

using arm::EqualsIgnoreCase;
using arm::ResourceId;

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

Status CheckName(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("control character in path");
  }
  if (s == "." || s == "..") return Status::InvalidArgument("dot segment in path");
  return Status::Ok();
}

ArmPath Collection(std::string type, ResourceId scope) {
  ArmPath p;
  p.kind = ArmPath::Kind::kCollection;
  p.type = std::move(type);
  p.id = std::move(scope);
  return p;
}

ArmPath Resource(std::string type, ResourceId id) {
  ArmPath p;
  p.kind = ArmPath::Kind::kResource;
  p.type = std::move(type);
  p.id = std::move(id);
  return p;
}

}  // namespace

Result<ArmPath> ParseArmPath(std::string_view path, bool is_post) {
  if (path.size() > arm::kMaxResourceIdLength) return Status::InvalidArgument("path is too long");
  if (path.find("//") != std::string_view::npos) {
    return Status::InvalidArgument("path has an empty segment");
  }
  std::vector<std::string_view> s = Split(path);
  if (s.empty()) return Status::InvalidArgument("empty path");
  for (auto seg : s) BYOK_TRY(CheckName(seg));

  ResourceId scope;  // tenant
  size_t i = 0;
  if (EqualsIgnoreCase(s[0], "subscriptions")) {
    if (s.size() == 1) return Collection("Microsoft.Resources/subscriptions", scope);
    scope = ResourceId::Subscription(std::string(s[1]));
    i = 2;
    if (i == s.size()) return Resource("Microsoft.Resources/subscriptions", scope);
    if (EqualsIgnoreCase(s[i], "resourceGroups")) {
      if (i + 1 == s.size()) return Collection("Microsoft.Resources/resourceGroups", scope);
      scope = ResourceId::ResourceGroup(scope.subscription_id(), std::string(s[i + 1]));
      i += 2;
      if (i == s.size()) return Resource("Microsoft.Resources/resourceGroups", scope);
    } else if (i + 1 == s.size() && EqualsIgnoreCase(s[i], "locations")) {
      return Collection("Microsoft.Resources/locations", scope);
    } else if (i + 1 == s.size() && EqualsIgnoreCase(s[i], "providers")) {
      return Collection("Microsoft.Resources/providers", scope);
    } else if (i + 2 == s.size() && EqualsIgnoreCase(s[i], "providers")) {
      ArmPath p = Resource("Microsoft.Resources/providers", scope);
      p.action = std::string(s[i + 1]);  // the namespace
      return p;
    } else if (i + 3 == s.size() && EqualsIgnoreCase(s[i], "providers") &&
               (EqualsIgnoreCase(s[i + 2], "register") ||
                EqualsIgnoreCase(s[i + 2], "unregister")) &&
               is_post) {
      ArmPath p;
      p.kind = ArmPath::Kind::kAction;
      p.type = "Microsoft.Resources/providers";
      p.id = scope;
      p.action = std::string(s[i + 1]) + "/" + std::string(s[i + 2]);
      return p;
    } else if (i + 2 == s.size() && EqualsIgnoreCase(s[i], "operationresults")) {
      ArmPath p = Resource("Microsoft.Resources/operationResults", scope);
      p.action = std::string(s[i + 1]);  // the operation id
      return p;
    }
  }
  if (i + 1 == s.size() && EqualsIgnoreCase(s[i], "resources") &&
      scope.kind() != ResourceId::Kind::kTenant) {
    return Collection("Microsoft.Resources/resources", scope);
  }
  if (i == s.size()) return Status::InvalidArgument("path names no resource");

  // {scope}/providers/{ns}/{type}/{name}...[/providers/...]
  while (i < s.size()) {
    if (!EqualsIgnoreCase(s[i], "providers") || i + 1 >= s.size()) {
      return Status::InvalidArgument(fmt::format("unexpected segment '{}' in path", s[i]));
    }
    std::string ns(s[i + 1]);
    i += 2;
    std::vector<arm::ResourceId::TypeName> chain;
    while (i + 1 < s.size() && !EqualsIgnoreCase(s[i], "providers")) {
      chain.push_back({std::string(s[i]), std::string(s[i + 1])});
      i += 2;
    }
    std::string type = ns;
    for (const auto& tn : chain) type += "/" + tn.type;
    if (i == s.size()) {
      if (chain.empty()) return Status::InvalidArgument("path names a namespace only");
      return Resource(type, ResourceId::Resource(scope, ns, std::move(chain)));
    }
    if (i + 1 == s.size()) {
      // One trailing segment: an action (POST) or a collection of that type.
      std::string last(s[i]);
      if (is_post) {
        ArmPath p;
        p.kind = ArmPath::Kind::kAction;
        p.action = last;
        if (chain.empty()) {
          p.type = ns;  // an action on the namespace at scope (e.g. checkNameAvailability)
          p.id = scope;
        } else {
          p.type = type;
          p.id = ResourceId::Resource(scope, ns, std::move(chain));
        }
        return p;
      }
      ResourceId parent = chain.empty() ? scope : ResourceId::Resource(scope, ns, chain);
      return Collection(type + "/" + last, parent);
    }
    // Another "providers": everything so far is the scope of an extension resource.
    if (chain.empty()) return Status::InvalidArgument("provider segment without a resource");
    scope = ResourceId::Resource(scope, ns, std::move(chain));
  }
  return Status::InvalidArgument("path names no resource");
}

}  // namespace byok::gateway
