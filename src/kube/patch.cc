#include "kube/patch.h"

#include <time.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/json.h"
#include "kube/internal/time.h"

namespace byok::kube {

using nlohmann::json;

namespace {

constexpr char kPatchDirective[] = "$patch";
constexpr char kRetainKeys[] = "$retainKeys";
constexpr char kDeleteFromPrimitiveList[] = "$deleteFromPrimitiveList/";
constexpr char kSetElementOrder[] = "$setElementOrder/";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsSetList(const std::vector<std::string>& path) {
  return path == std::vector<std::string>{"metadata", "finalizers"};
}

// Removes every "$..." directive key from a patch value (what remains is plain data).
json StripDirectives(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it.key().empty() && it.key()[0] == '$') continue;
      out[it.key()] = StripDirectives(it.value());
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const json& e : v) {
      if (e.is_object() && e.contains(kPatchDirective)) continue;
      out.push_back(StripDirectives(e));
    }
    return out;
  }
  return v;
}

Result<json> MergeValue(const json& original, const json& patch, std::vector<std::string>& path);

// Orders `list` as `order` names (by merge key, or the values themselves for primitive lists);
// elements not named keep their relative order, after the named ones.
json ApplyOrder(const json& list, const json& order, const std::string& key) {
  if (!list.is_array() || !order.is_array()) return list;
  json out = json::array();
  std::vector<bool> used(list.size(), false);
  for (const json& o : order) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (used[i]) continue;
      bool match = key.empty() ? list[i] == o
                               : (o.is_object() && list[i].is_object() && o.contains(key) &&
                                  list[i].contains(key) && list[i][key] == o[key]);
      if (match) {
        out.push_back(list[i]);
        used[i] = true;
        break;
      }
    }
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (!used[i]) out.push_back(list[i]);
  }
  return out;
}

Result<json> MergeKeyedList(const json& original, const json& patch, const std::string& key,
                            std::vector<std::string>& path) {
  json out = original.is_array() ? original : json::array();
  // {"$patch":"replace"} as an element: the other elements replace the list.
  for (const json& e : patch) {
    if (e.is_object() && e.value(kPatchDirective, "") == "replace") return StripDirectives(patch);
  }
  for (const json& e : patch) {
    if (!e.is_object() || !e.contains(key)) {
      return Status::InvalidArgument(
          fmt::format("map: {} does not contain declared merge key: {}", e.dump(), key));
    }
    auto it = std::find_if(out.begin(), out.end(), [&](const json& o) {
      return o.is_object() && o.contains(key) && o[key] == e[key];
    });
    std::string directive = e.value(kPatchDirective, "");
    if (directive == "delete") {
      if (it != out.end()) out.erase(it);
      continue;
    }
    if (it == out.end()) {
      out.push_back(StripDirectives(e));
    } else {
      BYOK_ASSIGN_OR_RETURN(*it, MergeValue(*it, e, path));
    }
  }
  return out;
}

json MergeSetList(const json& original, const json& patch) {
  json out = original.is_array() ? original : json::array();
  for (const json& e : patch) {
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  return out;
}

Result<json> MergeMap(const json& original_in, const json& patch, std::vector<std::string>& path) {
  json out = original_in.is_object() ? original_in : json::object();
  if (patch.contains(kPatchDirective)) {
    const json& d = patch[kPatchDirective];
    if (d == "replace") return StripDirectives(patch);
    if (d == "delete") return json(nullptr);
    if (d != "merge") {
      return Status::InvalidArgument(fmt::format("Unknown patch type: {}", d.dump()));
    }
  }
  std::vector<std::pair<std::string, json>> orders;
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == kPatchDirective || k == kRetainKeys) continue;
    if (k.rfind(kSetElementOrder, 0) == 0) {
      orders.emplace_back(k.substr(sizeof(kSetElementOrder) - 1), v);
      continue;
    }
    if (k.rfind(kDeleteFromPrimitiveList, 0) == 0) {
      std::string field = k.substr(sizeof(kDeleteFromPrimitiveList) - 1);
      if (out.contains(field) && out[field].is_array() && v.is_array()) {
        json kept = json::array();
        for (const json& e : out[field]) {
          if (std::find(v.begin(), v.end(), e) == v.end()) kept.push_back(e);
        }
        out[field] = std::move(kept);
      }
      continue;
    }
    if (v.is_null()) {
      out.erase(k);
      continue;
    }
    path.push_back(k);
    json merged;
    if (v.is_object()) {
      BYOK_ASSIGN_OR_RETURN(merged, MergeValue(out.contains(k) ? out[k] : json(nullptr), v, path));
    } else if (v.is_array()) {
      std::string key = MergeListKey(path);
      if (!key.empty()) {
        BYOK_ASSIGN_OR_RETURN(merged,
                              MergeKeyedList(out.contains(k) ? out[k] : json(), v, key, path));
      } else if (IsSetList(path)) {
        merged = MergeSetList(out.contains(k) ? out[k] : json(), v);
      } else {
        merged = StripDirectives(v);
      }
    } else {
      merged = v;
    }
    path.pop_back();
    if (merged.is_null()) {
      out.erase(k);
    } else {
      out[k] = std::move(merged);
    }
  }
  for (const auto& [field, order] : orders) {
    if (!out.contains(field)) continue;
    path.push_back(field);
    out[field] = ApplyOrder(out[field], order, MergeListKey(path));
    path.pop_back();
  }
  if (patch.contains(kRetainKeys)) {
    const json& keep = patch[kRetainKeys];
    if (!keep.is_array()) return Status::InvalidArgument("$retainKeys must be a list");
    json kept = json::object();
    for (auto it = out.begin(); it != out.end(); ++it) {
      if (std::find(keep.begin(), keep.end(), it.key()) != keep.end()) kept[it.key()] = it.value();
    }
    out = std::move(kept);
  }
  return out;
}

Result<json> MergeValue(const json& original, const json& patch, std::vector<std::string>& path) {
  if (patch.is_object()) return MergeMap(original, patch, path);
  return patch;
}

// ---- Field sets (managedFields fieldsV1). ----

bool IsBookkeeping(const std::vector<std::string>& path) {
  if (path.size() == 1) return path[0] == "apiVersion" || path[0] == "kind";
  if (path.size() == 2 && path[0] == "metadata") {
    static const std::set<std::string> kSkip = {
        "name",       "namespace",         "uid",           "resourceVersion",
        "generation", "creationTimestamp", "managedFields", "deletionTimestamp",
        "selfLink"};
    return kSkip.count(path[1]) != 0;
  }
  return false;
}

std::string KeyEntry(const json& element, const std::string& key) {
  json k = json::object();
  k[key] = element.contains(key) ? element[key] : json(nullptr);
  return "k:" + DumpJson(k);
}

// The fieldsV1 set of `v` at `path` ({} for leaves and atomic lists).
json FieldSet(const json& v, std::vector<std::string>& path) {
  json set = json::object();
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      path.push_back(it.key());
      if (!IsBookkeeping(path)) set["f:" + it.key()] = FieldSet(it.value(), path);
      path.pop_back();
    }
    return set;
  }
  if (v.is_array()) {
    std::string key = MergeListKey(path);
    if (!key.empty()) {
      for (const json& e : v) {
        if (!e.is_object()) continue;
        json sub = FieldSet(e, path);
        sub["."] = json::object();
        set[KeyEntry(e, key)] = std::move(sub);
      }
    } else if (IsSetList(path)) {
      for (const json& e : v) set["v:" + DumpJson(e)] = json::object();
    }
  }
  return set;
}

// The fields of `after` that differ from (or are absent in) `before`.
json ChangedFields(const json& before, const json& after, std::vector<std::string>& path) {
  json set = json::object();
  if (after.is_object() && (before.is_object() || before.is_null())) {
    for (auto it = after.begin(); it != after.end(); ++it) {
      path.push_back(it.key());
      if (!IsBookkeeping(path)) {
        json b = before.is_object() && before.contains(it.key()) ? before[it.key()] : json();
        if (b != it.value()) {
          json sub = it.value().is_object() ? ChangedFields(b, it.value(), path)
                                            : FieldSet(it.value(), path);
          set["f:" + it.key()] = std::move(sub);
        }
      }
      path.pop_back();
    }
  }
  return set;
}

// Removes from `live` what `old_set` names and `new_set` does not (fields a manager stopped
// applying).
void RemoveDropped(json& live, const json& old_set, const json& new_set,
                   std::vector<std::string>& path) {
  if (!old_set.is_object()) return;
  for (auto it = old_set.begin(); it != old_set.end(); ++it) {
    const std::string& entry = it.key();
    bool kept = new_set.is_object() && new_set.contains(entry);
    if (entry.rfind("f:", 0) == 0 && live.is_object()) {
      std::string field = entry.substr(2);
      if (!live.contains(field)) continue;
      if (!kept) {
        live.erase(field);
      } else {
        path.push_back(field);
        RemoveDropped(live[field], it.value(), new_set[entry], path);
        path.pop_back();
      }
    } else if (entry.rfind("k:", 0) == 0 && live.is_array()) {
      json key = json::parse(entry.substr(2), nullptr, false);
      if (!key.is_object() || key.size() != 1) continue;
      const std::string k = key.begin().key();
      for (auto e = live.begin(); e != live.end(); ++e) {
        if (!e->is_object() || !e->contains(k) || (*e)[k] != key[k]) continue;
        if (!kept) {
          live.erase(e);
        } else {
          RemoveDropped(*e, it.value(), new_set[entry], path);
        }
        break;
      }
    } else if (entry.rfind("v:", 0) == 0 && live.is_array() && !kept) {
      json value = json::parse(entry.substr(2), nullptr, false);
      live.erase(std::remove(live.begin(), live.end(), value), live.end());
    }
  }
}

json* FindManager(json& obj, std::string_view manager, std::string_view operation) {
  if (!obj.contains("metadata") || !obj["metadata"].contains("managedFields")) return nullptr;
  json& mf = obj["metadata"]["managedFields"];
  if (!mf.is_array()) return nullptr;
  for (json& e : mf) {
    if (e.value("manager", "") == manager && e.value("operation", "") == operation &&
        !e.contains("subresource")) {
      return &e;
    }
  }
  return nullptr;
}

void SetManager(json& obj, const Kind& kind, std::string_view manager, std::string_view operation,
                json fields, TimePoint now) {
  json entry = {{"manager", manager},
                {"operation", operation},
                {"apiVersion", kind.ApiVersion()},
                {"time", internal::KubeTime(now)},
                {"fieldsType", "FieldsV1"},
                {"fieldsV1", std::move(fields)}};
  if (json* e = FindManager(obj, manager, operation); e != nullptr) {
    *e = std::move(entry);
    return;
  }
  json& mf = obj["metadata"]["managedFields"];
  if (!mf.is_array()) mf = json::array();
  mf.push_back(std::move(entry));
}

}  // namespace

std::optional<PatchType> PatchTypeFromContentType(std::string_view content_type) {
  std::string ct = Lower(content_type.substr(0, content_type.find(';')));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  while (!ct.empty() && ct.front() == ' ') ct.erase(ct.begin());
  if (ct == "application/json-patch+json") return PatchType::kJsonPatch;
  if (ct == "application/merge-patch+json") return PatchType::kMergePatch;
  if (ct == "application/strategic-merge-patch+json") return PatchType::kStrategicMergePatch;
  if (ct == "application/apply-patch+yaml") return PatchType::kApplyPatch;
  return std::nullopt;
}

std::string MergeListKey(const std::vector<std::string>& path) {
  if (path == std::vector<std::string>{"metadata", "ownerReferences"}) return "uid";
  if (path == std::vector<std::string>{"status", "conditions"}) return "type";
  if (path == std::vector<std::string>{"status", "addresses"}) return "type";
  return "";
}

Result<json> ApplyJsonPatch(const json& original, const json& patch) {
  if (!patch.is_array()) {
    return Status::InvalidArgument(
        "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  }
  for (const json& op : patch) {
    if (!op.is_object() && !op.is_null()) {
      return Status::InvalidArgument(
          fmt::format("json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                      op.is_array()     ? "array"
                      : op.is_string()  ? "string"
                      : op.is_boolean() ? "bool"
                                        : "number"));
    }
  }
  try {
    return original.patch(patch);
  } catch (const json::exception& e) {
    return Status::FailedPrecondition(e.what());
  }
}

Result<json> ApplyMergePatch(const json& original, const json& patch) {
  if (!patch.is_object()) {
    return Status::InvalidArgument("Invalid JSON Patch");
  }
  json out = original;
  out.merge_patch(patch);
  return out;
}

Result<json> ApplyStrategicMergePatch(const Kind& kind, const json& original, const json& patch) {
  (void)kind;  // every served kind shares the list rules (MergeListKey)
  if (!patch.is_object()) {
    return Status::InvalidArgument("unable to find api field in struct for the patch");
  }
  std::vector<std::string> path;
  BYOK_ASSIGN_OR_RETURN(json out, MergeMap(original, patch, path));
  if (!out.is_object()) return Status::InvalidArgument("the patch deletes the whole object");
  return out;
}

Result<json> ServerSideApply(const Kind& kind, const json& live, const json& applied,
                             std::string_view field_manager, TimePoint now) {
  if (!applied.is_object())
    return Status::InvalidArgument("the applied configuration is not an object");
  std::vector<std::string> path;
  json new_set = FieldSet(applied, path);
  json out = live.is_object() ? live : json::object();
  if (json* prev = FindManager(out, field_manager, "Apply"); prev != nullptr) {
    json old_set = prev->value("fieldsV1", json::object());
    RemoveDropped(out, old_set, new_set, path);
  }
  json patch = applied;
  if (patch.contains("metadata") && patch["metadata"].is_object()) {
    patch["metadata"].erase("managedFields");
    patch["metadata"].erase("resourceVersion");
  }
  BYOK_ASSIGN_OR_RETURN(out, MergeMap(out, patch, path));
  SetManager(out, kind, field_manager, "Apply", std::move(new_set), now);
  return out;
}

void RecordUpdateManager(const Kind& kind, const json& before, json& updated,
                         std::string_view field_manager, TimePoint now) {
  if (field_manager.empty()) return;
  std::vector<std::string> path;
  json changed = ChangedFields(before.is_object() ? before : json(), updated, path);
  if (changed.empty()) return;
  json fields = json::object();
  if (json* prev = FindManager(updated, field_manager, "Update"); prev != nullptr) {
    fields = prev->value("fieldsV1", json::object());
  }
  fields.merge_patch(changed);
  SetManager(updated, kind, field_manager, "Update", std::move(fields), now);
}

}  // namespace byok::kube
