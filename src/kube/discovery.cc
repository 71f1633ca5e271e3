#include "kube/discovery.h"

#include <string>

#include "kube/kinds.h"
#include "kube/media_type.h"

namespace byok::kube {
namespace {

using nlohmann::json;

const std::vector<std::string> kSubresourceVerbs = {"get", "patch", "update"};

json ResponseKind(const Kind& k) {
  return {{"group", k.group}, {"version", k.version}, {"kind", k.kind}};
}

json DiscoveryResource(const Kind& k) {
  json r = {{"resource", k.resource},
            {"responseKind", ResponseKind(k)},
            {"scope", k.namespaced ? "Namespaced" : "Cluster"},
            {"singularResource", k.singular},
            {"verbs", k.verbs}};
  if (!k.short_names.empty()) r["shortNames"] = k.short_names;
  if (!k.subresources.empty()) {
    json subs = json::array();
    for (const auto& s : k.subresources) {
      subs.push_back(
          {{"subresource", s}, {"responseKind", ResponseKind(k)}, {"verbs", kSubresourceVerbs}});
    }
    r["subresources"] = subs;
  }
  return r;
}

// The groups served, in order: "" first.
std::vector<std::string> Groups() {
  std::vector<std::string> out;
  for (const Kind& k : ServedKinds()) {
    bool seen = false;
    for (const auto& g : out) seen = seen || g == k.group;
    if (!seen) out.push_back(k.group);
  }
  return out;
}

json GroupVersionEntry(const std::string& group) {
  std::string gv = group.empty() ? "v1" : group + "/v1";
  return {{"groupVersion", gv}, {"version", "v1"}};
}

}  // namespace

std::string_view AggregatedDiscoveryVersion(std::string_view accept) {
  for (const MediaRange& m : ParseAccept(accept)) {
    if (m.type != "application/json") continue;
    if (m.Param("g") != "apidiscovery.k8s.io" || m.Param("as") != "APIGroupDiscoveryList") {
      continue;
    }
    if (m.Param("v") == "v2") return "v2";
    if (m.Param("v") == "v2beta1") return "v2beta1";
  }
  return {};
}

bool WantsAggregatedDiscovery(std::string_view accept) {
  return !AggregatedDiscoveryVersion(accept).empty();
}

std::string_view AggregatedDiscoveryContentType(std::string_view version) {
  return version == "v2beta1" ? kAggregatedDiscoveryContentTypeV2Beta1
                              : kAggregatedDiscoveryContentType;
}

json AggregatedDiscovery(bool core, std::string_view version) {
  json items = json::array();
  for (const std::string& group : Groups()) {
    if (group.empty() != core) continue;
    json resources = json::array();
    for (const Kind& k : ServedKinds()) {
      if (k.group == group) resources.push_back(DiscoveryResource(k));
    }
    json metadata = json::object();
    if (!group.empty()) metadata["name"] = group;
    metadata["creationTimestamp"] = nullptr;
    items.push_back(
        {{"metadata", metadata},
         {"versions",
          json::array({{{"version", "v1"}, {"resources", resources}, {"freshness", "Current"}}})}});
  }
  return {
      {"kind", "APIGroupDiscoveryList"},
      {"apiVersion", "apidiscovery.k8s.io/" + std::string(version == "v2beta1" ? "v2beta1" : "v2")},
      {"metadata", json::object()},
      {"items", items}};
}

json ApiVersions() { return {{"kind", "APIVersions"}, {"versions", json::array({"v1"})}}; }

json ApiGroupList() {
  json groups = json::array();
  for (const std::string& group : Groups()) {
    if (group.empty()) continue;
    json v = GroupVersionEntry(group);
    groups.push_back({{"name", group}, {"versions", json::array({v})}, {"preferredVersion", v}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<json> ApiResourceList(std::string_view group_version) {
  json resources = json::array();
  for (const Kind& k : ServedKinds()) {
    if (k.ApiVersion() != group_version) continue;
    json r = {{"name", k.resource},
              {"singularName", k.singular},
              {"namespaced", k.namespaced},
              {"kind", k.kind},
              {"verbs", k.verbs}};
    if (!k.short_names.empty()) r["shortNames"] = k.short_names;
    resources.push_back(r);
    for (const auto& s : k.subresources) {
      resources.push_back({{"name", k.resource + "/" + s},
                           {"singularName", ""},
                           {"namespaced", k.namespaced},
                           {"kind", k.kind},
                           {"verbs", kSubresourceVerbs}});
    }
  }
  if (resources.empty()) return std::nullopt;
  json out = {{"kind", "APIResourceList"}};
  // The apiserver's core list carries no apiVersion; the group lists say "v1".
  if (group_version != "v1") out["apiVersion"] = "v1";
  out["groupVersion"] = std::string(group_version);
  out["resources"] = resources;
  return out;
}

}  // namespace byok::kube
