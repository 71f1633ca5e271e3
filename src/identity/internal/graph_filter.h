// Internal to byok_identity: the OData $filter subset Graph clients send for service principals.
//
//   servicePrincipalNames/any(c:c eq 'VALUE')   (any lambda variable; spaces tolerated)
//   PROPERTY eq 'VALUE'                         PROPERTY: id, appId, displayName,
//                                               servicePrincipalType
//   startswith(displayName,'VALUE')
// Keywords and property names are case-insensitive. VALUE is an OData string literal ('' is a
// quote). One pair of double quotes around VALUE is removed: the Azure CLI passes
// '"<guid>"' when a script captured `az ... --query` output without -o tsv, and Azure resolves it.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/api_error.h"
#include "identity/directory.h"

namespace byok::identity::internal {

struct GraphFilter {
  enum class Kind { kAll, kServicePrincipalNamesAny, kEquals, kStartsWith };
  Kind kind = Kind::kAll;
  std::string property;  // lower-case: "id", "appid", "displayname", "serviceprincipaltype"
  std::string value;
};

// Empty text → kAll. Errors: graph::kInvalidFilter (syntax), graph::kUnsupportedFilter (another
// property).
ApiResult<GraphFilter> ParseGraphFilter(std::string_view text);

// Whether a principal matches. servicePrincipalNames/any matches any name or the objectId;
// comparisons ignore ASCII case.
bool MatchesGraphFilter(const GraphFilter& filter, const PrincipalInfo& info);

}  // namespace byok::identity::internal
