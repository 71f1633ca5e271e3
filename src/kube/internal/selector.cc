#include "kube/internal/selector.h"

#include <algorithm>

namespace byok::kube::internal {
namespace {

using nlohmann::json;

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) pos = s.size();
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// Splits at commas outside parentheses.
std::vector<std::string> SplitTerms(std::string_view s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!Trim(cur).empty()) out.push_back(Trim(cur));
  return out;
}

}  // namespace

std::optional<std::vector<Requirement>> ParseSelector(std::string_view text, bool fields) {
  std::vector<Requirement> out;
  for (const std::string& term : SplitTerms(text)) {
    if (term.empty()) continue;
    Requirement r;
    size_t pos;
    if ((pos = term.find("!=")) != std::string::npos) {
      r = {Trim(term.substr(0, pos)), "!=", {Trim(term.substr(pos + 2))}};
    } else if ((pos = term.find("==")) != std::string::npos) {
      r = {Trim(term.substr(0, pos)), "=", {Trim(term.substr(pos + 2))}};
    } else if ((pos = term.find('=')) != std::string::npos) {
      r = {Trim(term.substr(0, pos)), "=", {Trim(term.substr(pos + 1))}};
    } else if (!fields && (pos = term.find(" notin ")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = "notin";
      std::string rest = Trim(term.substr(pos + 7));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return std::nullopt;
      for (const std::string& v : Split(rest.substr(1, rest.size() - 2), ',')) {
        r.values.push_back(Trim(v));
      }
    } else if (!fields && (pos = term.find(" in ")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = "in";
      std::string rest = Trim(term.substr(pos + 4));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return std::nullopt;
      for (const std::string& v : Split(rest.substr(1, rest.size() - 2), ',')) {
        r.values.push_back(Trim(v));
      }
    } else if (!fields && term[0] == '!') {
      r = {Trim(term.substr(1)), "!exists", {}};
    } else if (!fields) {
      r = {term, "exists", {}};
    } else {
      return std::nullopt;
    }
    if (r.key.empty()) return std::nullopt;
    out.push_back(std::move(r));
  }
  return out;
}

bool Matches(const Requirement& r, const std::optional<std::string>& value) {
  if (r.op == "exists") return value.has_value();
  if (r.op == "!exists") return !value.has_value();
  if (r.op == "=") return value.has_value() && *value == r.values[0];
  if (r.op == "!=") return !value.has_value() || *value != r.values[0];
  bool in =
      value.has_value() && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
  return r.op == "in" ? in : !in;
}

std::optional<std::string> LabelOf(const json& obj, const std::string& key) {
  if (!obj.contains("metadata")) return std::nullopt;
  const json& m = obj["metadata"];
  if (!m.contains("labels") || !m["labels"].is_object()) return std::nullopt;
  auto it = m["labels"].find(key);
  if (it == m["labels"].end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<std::string> FieldOf(const json& obj, const std::string& path) {
  const json* cur = &obj;
  for (const std::string& part : Split(path, '.')) {
    if (!cur->is_object()) return std::string();
    auto it = cur->find(part);
    if (it == cur->end()) return std::string();
    cur = &*it;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return std::string();
  return cur->dump();
}

}  // namespace byok::kube::internal
