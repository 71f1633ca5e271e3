#include "authz/filter.h"

#include <vector>

#include "arm/resource_id.h"

namespace byok::authz {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && arm::EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Splits at the keyword "and" standing alone (whitespace on both sides) outside single quotes.
// nullopt if a quote is left open or a clause is empty.
std::optional<std::vector<std::string_view>> SplitClauses(std::string_view filter) {
  std::vector<std::string_view> clauses;
  bool in_quote = false;
  size_t start = 0;
  for (size_t i = 0; i < filter.size(); ++i) {
    const char c = filter[i];
    if (c == '\'') {
      in_quote = !in_quote;  // '' (an escaped quote) toggles twice
      continue;
    }
    if (in_quote || !IsSpace(c) || i + 5 > filter.size()) continue;
    if (arm::EqualsIgnoreCase(filter.substr(i + 1, 3), "and") && IsSpace(filter[i + 4])) {
      clauses.push_back(Trim(filter.substr(start, i - start)));
      start = i + 4;
      i += 3;
    }
  }
  if (in_quote) return std::nullopt;
  clauses.push_back(Trim(filter.substr(start)));
  for (std::string_view c : clauses) {
    if (c.empty()) return std::nullopt;
  }
  return clauses;
}

// An OData string literal 'x''y' → x'y; an unquoted token is taken as is. nullopt if empty or
// malformed.
std::optional<std::string> Literal(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  if (s.front() != '\'') {
    for (char c : s) {
      if (IsSpace(c) || c == '\'') return std::nullopt;
    }
    return std::string(s);
  }
  if (s.size() < 2 || s.back() != '\'') return std::nullopt;
  std::string out;
  std::string_view body = s.substr(1, s.size() - 2);
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\'') {
      if (i + 1 >= body.size() || body[i + 1] != '\'') return std::nullopt;
      ++i;
    }
    out.push_back(body[i]);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// "{property} eq {literal}" → the literal's value, if the clause has that property.
std::optional<std::string> EqClause(std::string_view clause, std::string_view property) {
  if (!StartsWithIgnoreCase(clause, property)) return std::nullopt;
  std::string_view rest = clause.substr(property.size());
  if (rest.empty() || !IsSpace(rest.front())) return std::nullopt;
  rest = Trim(rest);
  if (!StartsWithIgnoreCase(rest, "eq") || rest.size() < 3 || !IsSpace(rest[2])) {
    return std::nullopt;
  }
  return Literal(rest.substr(2));
}

// "{function}({literal})" → the literal's value.
std::optional<std::string> CallClause(std::string_view clause, std::string_view function) {
  if (!StartsWithIgnoreCase(clause, function)) return std::nullopt;
  std::string_view rest = Trim(clause.substr(function.size()));
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return std::nullopt;
  return Literal(rest.substr(1, rest.size() - 2));
}

bool IsAtScope(std::string_view clause) {
  if (!StartsWithIgnoreCase(clause, "atScope")) return false;
  std::string_view rest = Trim(clause.substr(7));
  if (rest.empty() || rest.front() != '(' || rest.back() != ')') return false;
  return Trim(rest.substr(1, rest.size() - 2)).empty();
}

// Sets *slot to value unless it holds a different value already.
bool Assign(std::optional<std::string>* slot, std::string value) {
  if (*slot && **slot != value) return false;
  *slot = std::move(value);
  return true;
}

}  // namespace

std::optional<AssignmentFilter> ParseAssignmentFilter(std::string_view filter) {
  AssignmentFilter f;
  if (Trim(filter).empty()) return f;
  auto clauses = SplitClauses(filter);
  if (!clauses) return std::nullopt;
  for (std::string_view c : *clauses) {
    if (IsAtScope(c)) {
      if (f.at_scope) return std::nullopt;
      f.at_scope = true;
    } else if (auto id = EqClause(c, "principalId")) {
      if (!Assign(&f.principal_id, std::move(*id))) return std::nullopt;
    } else if (auto assigned = CallClause(c, "assignedTo")) {
      if (!Assign(&f.principal_id, std::move(*assigned))) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  return f;
}

std::optional<DefinitionFilter> ParseDefinitionFilter(std::string_view filter) {
  DefinitionFilter f;
  if (Trim(filter).empty()) return f;
  auto clauses = SplitClauses(filter);
  if (!clauses) return std::nullopt;
  for (std::string_view c : *clauses) {
    if (auto name = EqClause(c, "roleName")) {
      if (f.role_name) return std::nullopt;
      f.role_name = std::move(*name);
    } else if (auto type = EqClause(c, "type")) {
      if (f.type) return std::nullopt;
      f.type = std::move(*type);
    } else {
      return std::nullopt;
    }
  }
  return f;
}

}  // namespace byok::authz
