#include "authz/ids.h"

#include <utility>

namespace byok::authz {
namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Splits an extension-resource id of Microsoft.Authorization/{type}/{name} into scope and name.
Result<std::pair<arm::ResourceId, std::string>> SplitAuthorizationId(std::string_view id,
                                                                     std::string_view type) {
  BYOK_ASSIGN_OR_RETURN(arm::ResourceId rid, arm::ResourceId::Parse(id));
  if (rid.kind() != arm::ResourceId::Kind::kResource ||
      !arm::EqualsIgnoreCase(rid.provider_namespace(), "Microsoft.Authorization") ||
      rid.types().size() != 1 || !arm::EqualsIgnoreCase(rid.types()[0].type, type)) {
    return Status::InvalidArgument("not a Microsoft.Authorization/" + std::string(type) + " id");
  }
  arm::ResourceId scope;  // tenant
  if (!rid.scope().empty()) {
    BYOK_ASSIGN_OR_RETURN(scope, arm::ResourceId::Parse(rid.scope()));
  }
  return std::make_pair(std::move(scope), rid.types()[0].name);
}

}  // namespace

std::optional<std::string> CanonicalGuid(std::string_view s) {
  if (s.size() >= 2 &&
      ((s.front() == '{' && s.back() == '}') || (s.front() == '(' && s.back() == ')'))) {
    s = s.substr(1, s.size() - 2);
    if (s.size() != 36) return std::nullopt;  // braces only around the hyphenated form
  }
  std::string hex;
  hex.reserve(32);
  if (s.size() == 36) {
    for (size_t i = 0; i < s.size(); ++i) {
      const bool hyphen_pos = i == 8 || i == 13 || i == 18 || i == 23;
      if (hyphen_pos) {
        if (s[i] != '-') return std::nullopt;
      } else {
        if (!IsHex(s[i])) return std::nullopt;
        hex.push_back(s[i]);
      }
    }
  } else if (s.size() == 32) {
    for (char c : s) {
      if (!IsHex(c)) return std::nullopt;
      hex.push_back(c);
    }
  } else {
    return std::nullopt;
  }
  std::string out = arm::AsciiLower(hex);
  out.insert(20, 1, '-');
  out.insert(16, 1, '-');
  out.insert(12, 1, '-');
  out.insert(8, 1, '-');
  return out;
}

std::string_view StripQuotes(std::string_view s) {
  for (;;) {
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
      s = s.substr(1, s.size() - 2);
      continue;
    }
    return s;
  }
}

Result<arm::ResourceId> ParseScope(std::string_view scope) {
  if (scope == "/") return arm::ResourceId();
  return arm::ResourceId::Parse(scope);
}

std::vector<arm::ResourceId> ScopeChain(const arm::ResourceId& scope) {
  std::vector<arm::ResourceId> chain;
  chain.push_back(scope);
  while (chain.back().kind() != arm::ResourceId::Kind::kTenant) {
    chain.push_back(chain.back().Parent());
  }
  return chain;
}

std::string RoleAssignmentResourceId(const arm::ResourceId& scope, std::string_view name) {
  std::string id;
  if (scope.kind() != arm::ResourceId::Kind::kTenant) id = scope.ToString();
  id += "/providers/Microsoft.Authorization/roleAssignments/";
  id += name;
  return id;
}

Result<RoleAssignmentIdParts> SplitRoleAssignmentId(std::string_view id) {
  BYOK_ASSIGN_OR_RETURN(auto parts, SplitAuthorizationId(id, "roleAssignments"));
  return RoleAssignmentIdParts{std::move(parts.first), std::move(parts.second)};
}

Result<RoleDefinitionIdParts> SplitRoleDefinitionId(std::string_view id) {
  BYOK_ASSIGN_OR_RETURN(auto parts, SplitAuthorizationId(id, "roleDefinitions"));
  return RoleDefinitionIdParts{std::move(parts.first), std::move(parts.second)};
}

}  // namespace byok::authz
