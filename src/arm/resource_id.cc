#include "arm/resource_id.h"

#include <fmt/format.h>

namespace byok::arm {
namespace {

std::vector<std::string_view> SplitSegments(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Status CheckSegment(std::string_view seg) {
  if (seg.empty()) return Status::InvalidArgument("resource id has an empty segment");
  if (seg == "." || seg == "..") return Status::InvalidArgument("resource id has a dot segment");
  for (unsigned char c : seg) {
    if (c < 0x20 || c == 0x7f)
      return Status::InvalidArgument("resource id has a control character");
    if (c == '?' || c == '#' || c == '\\') {
      return Status::InvalidArgument("resource id has a reserved character");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Result<ResourceId> ResourceId::Parse(std::string_view id) {
  if (id.empty() || id.front() != '/')
    return Status::InvalidArgument("resource id must start with '/'");
  if (id.size() > kMaxResourceIdLength) return Status::InvalidArgument("resource id is too long");
  std::string_view body = id.substr(1);
  if (!body.empty() && body.back() == '/') body.remove_suffix(1);  // tolerate one trailing slash
  if (body.empty()) return Status::InvalidArgument("resource id is empty");
  std::vector<std::string_view> seg = SplitSegments(body);
  for (auto s : seg) BYOK_TRY(CheckSegment(s));

  ResourceId r;
  size_t i = 0;
  if (EqualsIgnoreCase(seg[0], "subscriptions")) {
    if (seg.size() < 2) return Status::InvalidArgument("resource id lacks a subscription id");
    r.subscription_id_ = std::string(seg[1]);
    r.kind_ = Kind::kSubscription;
    i = 2;
    if (i < seg.size() && EqualsIgnoreCase(seg[i], "resourceGroups")) {
      if (i + 1 >= seg.size())
        return Status::InvalidArgument("resource id lacks a resource group name");
      r.resource_group_ = std::string(seg[i + 1]);
      r.kind_ = Kind::kResourceGroup;
      i += 2;
    }
  }
  // Then zero or more provider segments: providers/{ns}/{type}/{name}[/{type}/{name}]...
  // Each new "providers" keyword makes everything before it the scope of an extension resource.
  while (i < seg.size()) {
    if (!EqualsIgnoreCase(seg[i], "providers")) {
      return Status::InvalidArgument(fmt::format("unexpected segment '{}' in resource id", seg[i]));
    }
    if (seg.size() - i < 4) {
      return Status::InvalidArgument("resource id has a provider segment without type and name");
    }
    r.scope_ = (r.kind_ == Kind::kTenant) ? std::string() : r.ToString();
    r.provider_namespace_ = std::string(seg[i + 1]);
    r.types_.clear();
    r.kind_ = Kind::kResource;
    i += 2;
    while (i < seg.size() && !EqualsIgnoreCase(seg[i], "providers")) {
      if (i + 1 >= seg.size()) {
        return Status::InvalidArgument(fmt::format("resource type '{}' has no name", seg[i]));
      }
      r.types_.push_back({std::string(seg[i]), std::string(seg[i + 1])});
      i += 2;
    }
  }
  if (r.kind_ == Kind::kTenant) return Status::InvalidArgument("not a resource id");
  return r;
}

ResourceId ResourceId::Subscription(std::string subscription_id) {
  ResourceId r;
  r.kind_ = Kind::kSubscription;
  r.subscription_id_ = std::move(subscription_id);
  return r;
}

ResourceId ResourceId::ResourceGroup(std::string subscription_id, std::string resource_group) {
  ResourceId r = Subscription(std::move(subscription_id));
  r.kind_ = Kind::kResourceGroup;
  r.resource_group_ = std::move(resource_group);
  return r;
}

ResourceId ResourceId::Resource(const ResourceId& scope, std::string provider_namespace,
                                std::vector<TypeName> types) {
  ResourceId r;
  r.kind_ = Kind::kResource;
  r.subscription_id_ = scope.subscription_id_;
  r.resource_group_ = scope.resource_group_;
  r.scope_ = scope.kind_ == Kind::kTenant ? std::string() : scope.ToString();
  r.provider_namespace_ = std::move(provider_namespace);
  r.types_ = std::move(types);
  return r;
}

std::string ResourceId::ResourceType() const {
  switch (kind_) {
    case Kind::kTenant:
      return "";
    case Kind::kSubscription:
      return "Microsoft.Resources/subscriptions";
    case Kind::kResourceGroup:
      return "Microsoft.Resources/resourceGroups";
    case Kind::kResource: {
      std::string t = provider_namespace_;
      for (const auto& tn : types_) t += "/" + tn.type;
      return t;
    }
  }
  return "";
}

std::string ResourceId::Name() const {
  switch (kind_) {
    case Kind::kTenant:
      return "";
    case Kind::kSubscription:
      return subscription_id_;
    case Kind::kResourceGroup:
      return resource_group_;
    case Kind::kResource:
      return types_.empty() ? std::string() : types_.back().name;
  }
  return "";
}

std::string ResourceId::ToString() const {
  switch (kind_) {
    case Kind::kTenant:
      return "/";
    case Kind::kSubscription:
      return "/subscriptions/" + subscription_id_;
    case Kind::kResourceGroup:
      return "/subscriptions/" + subscription_id_ + "/resourceGroups/" + resource_group_;
    case Kind::kResource: {
      std::string s = scope_ + "/providers/" + provider_namespace_;
      for (const auto& tn : types_) s += "/" + tn.type + "/" + tn.name;
      return s;
    }
  }
  return "/";
}

std::string ResourceId::Normalized() const { return AsciiLower(ToString()); }

ResourceId ResourceId::Parent() const {
  switch (kind_) {
    case Kind::kTenant:
    case Kind::kSubscription:
      return ResourceId();
    case Kind::kResourceGroup:
      return Subscription(subscription_id_);
    case Kind::kResource: {
      if (types_.size() > 1) {
        ResourceId p = *this;
        p.types_.pop_back();
        return p;
      }
      if (scope_.empty()) return ResourceId();
      auto parsed = Parse(scope_);
      return parsed.ok() ? std::move(parsed).value() : ResourceId();
    }
  }
  return ResourceId();
}

bool ResourceId::IsWithin(const ResourceId& other) const {
  if (other.kind_ == Kind::kTenant) return true;
  std::string mine = Normalized();
  std::string theirs = other.Normalized();
  if (mine == theirs) return true;
  return mine.size() > theirs.size() && mine.compare(0, theirs.size(), theirs) == 0 &&
         mine[theirs.size()] == '/';
}

}  // namespace byok::arm
