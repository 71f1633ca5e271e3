#include "identity/internal/graph_filter.h"

#include <cctype>
#include <optional>

#include "identity/errors.h"
#include "identity/internal/util.h"

namespace byok::identity::internal {
namespace {

// A cursor over the filter text.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  void SkipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool AtEnd() {
    SkipSpaces();
    return pos_ == s_.size();
  }
  // Consumes `text` (ASCII case-insensitive) after optional spaces.
  bool Consume(std::string_view text) {
    SkipSpaces();
    if (!StartsWithIgnoreCase(s_.substr(pos_), text)) return false;
    pos_ += text.size();
    return true;
  }
  // An identifier: letters, digits, '_'.
  std::optional<std::string> Identifier() {
    SkipSpaces();
    size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return std::string(s_.substr(start, pos_ - start));
  }
  // 'text' with '' as an escaped quote.
  std::optional<std::string> StringLiteral() {
    SkipSpaces();
    if (pos_ >= s_.size() || s_[pos_] != '\'') return std::nullopt;
    ++pos_;
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c != '\'') {
        out.push_back(c);
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '\'') {
        out.push_back('\'');
        ++pos_;
        continue;
      }
      return out;
    }
    return std::nullopt;  // unterminated
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::string StripDoubleQuotes(std::string v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

bool Same(std::string_view a, std::string_view b) { return http::EqualsIgnoreCase(a, b); }

}  // namespace

ApiResult<GraphFilter> ParseGraphFilter(std::string_view text) {
  GraphFilter f;
  if (TrimSpaces(text).empty()) return f;
  auto invalid = [&] { return MakeError(errors::graph::kInvalidFilter, Truncate(text)); };
  Scanner sc(text);

  if (sc.Consume("startswith(")) {
    auto prop = sc.Identifier();
    if (!prop || !sc.Consume(",")) return invalid();
    auto value = sc.StringLiteral();
    if (!value || !sc.Consume(")") || !sc.AtEnd()) return invalid();
    if (!Same(*prop, "displayName")) {
      return MakeError(errors::graph::kUnsupportedFilter, Truncate(*prop, 64));
    }
    f.kind = GraphFilter::Kind::kStartsWith;
    f.property = "displayname";
    f.value = StripDoubleQuotes(std::move(*value));
    return f;
  }

  auto prop = sc.Identifier();
  if (!prop) return invalid();
  if (Same(*prop, "servicePrincipalNames") && sc.Consume("/any(")) {
    auto var = sc.Identifier();
    if (!var || !sc.Consume(":")) return invalid();
    auto var2 = sc.Identifier();
    if (!var2 || *var2 != *var || !sc.Consume("eq ")) return invalid();
    auto value = sc.StringLiteral();
    if (!value || !sc.Consume(")") || !sc.AtEnd()) return invalid();
    f.kind = GraphFilter::Kind::kServicePrincipalNamesAny;
    f.property = "serviceprincipalnames";
    f.value = StripDoubleQuotes(std::move(*value));
    return f;
  }
  if (!sc.Consume("eq ")) return invalid();
  auto value = sc.StringLiteral();
  if (!value || !sc.AtEnd()) return invalid();
  std::string p = ToLowerAscii(*prop);
  if (p != "id" && p != "appid" && p != "displayname" && p != "serviceprincipaltype") {
    return MakeError(errors::graph::kUnsupportedFilter, Truncate(*prop, 64));
  }
  f.kind = GraphFilter::Kind::kEquals;
  f.property = std::move(p);
  f.value = StripDoubleQuotes(std::move(*value));
  return f;
}

bool MatchesGraphFilter(const GraphFilter& filter, const PrincipalInfo& info) {
  const Principal& p = info.principal;
  switch (filter.kind) {
    case GraphFilter::Kind::kAll:
      return true;
    case GraphFilter::Kind::kServicePrincipalNamesAny:
      if (Same(p.object_id, filter.value)) return true;
      for (const auto& n : info.service_principal_names) {
        if (Same(n, filter.value)) return true;
      }
      return false;
    case GraphFilter::Kind::kEquals:
      if (filter.property == "id") return Same(p.object_id, filter.value);
      if (filter.property == "appid") return Same(p.app_id, filter.value);
      if (filter.property == "displayname") return Same(p.display_name, filter.value);
      if (filter.property == "serviceprincipaltype") {
        return Same(p.kind == PrincipalKind::kManagedIdentity ? "ManagedIdentity" : "Application",
                    filter.value);
      }
      return false;
    case GraphFilter::Kind::kStartsWith:
      return StartsWithIgnoreCase(p.display_name, filter.value);
    default:
      return false;
  }
}

}  // namespace byok::identity::internal
