// Label and field selectors of list, watch and deletecollection requests (rest.h), as the
// apiserver's query parameters labelSelector and fieldSelector spell them:
//   labels: key=value, key==value, key!=value, key in (a,b), key notin (a,b), key, !key
//   fields: path=value, path==value, path!=value (path dotted from the object's root)
// Terms are comma-separated (commas inside parentheses belong to the term); blanks around keys
// and values are trimmed; an empty selector selects everything.
//
// Contract (checked by fuzz/kube_selector_fuzz.cc): ParseSelector never throws; every
// Requirement it returns has a non-empty key, op "=" and "!=" exactly one value; Matches,
// LabelOf and FieldOf accept any JSON value (objects or not) without throwing.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace byok::kube::internal {

struct Requirement {
  std::string key;
  std::string op;  // "=", "!=", "in", "notin", "exists", "!exists"
  std::vector<std::string> values;
};

// nullopt when the text is not a selector of that kind (fields: only =, ==, !=).
std::optional<std::vector<Requirement>> ParseSelector(std::string_view text, bool fields);

// Whether a value (nullopt: the label is absent) satisfies the requirement.
bool Matches(const Requirement& r, const std::optional<std::string>& value);

// The label `key` of obj's metadata.labels, nullopt when absent or not a string.
std::optional<std::string> LabelOf(const nlohmann::json& obj, const std::string& key);

// The field at a dotted path as a string: strings as they are, other values as JSON, "" when
// absent or null (the apiserver's field sets have every selectable field).
std::optional<std::string> FieldOf(const nlohmann::json& obj, const std::string& path);

}  // namespace byok::kube::internal
