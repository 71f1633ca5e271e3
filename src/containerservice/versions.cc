#include "containerservice/versions.h"

#include <array>
#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace byok::containerservice {
namespace {

using nlohmann::json;

constexpr std::array kVersions = {
    KubernetesVersion{"1.23.12", false, false}, KubernetesVersion{"1.23.15", false, false},
    KubernetesVersion{"1.24.6", false, false},  KubernetesVersion{"1.24.9", true, false},
    KubernetesVersion{"1.25.4", false, false},  KubernetesVersion{"1.25.5", false, false},
    KubernetesVersion{"1.26.0", false, true},
};

std::vector<int> Parts(std::string_view v) {
  std::vector<int> out;
  while (!v.empty()) {
    size_t dot = v.find('.');
    std::string_view part = v.substr(0, dot);
    int n = 0;
    std::from_chars(part.data(), part.data() + part.size(), n);
    out.push_back(n);
    if (dot == std::string_view::npos) break;
    v.remove_prefix(dot + 1);
  }
  return out;
}

// Dotted decimal numbers only ("1.24", "1.24.9").
bool WellFormed(std::string_view v, int parts) {
  int seen = 0;
  size_t i = 0;
  while (i < v.size()) {
    size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == start || i - start > 4) return false;
    ++seen;
    if (i == v.size()) break;
    if (v[i] != '.') return false;
    ++i;
    if (i == v.size()) return false;
  }
  return seen == parts;
}

// Later patches of the same minor and every patch of the next minor.
std::vector<const KubernetesVersion*> UpgradesOf(const KubernetesVersion& from) {
  std::vector<int> f = Parts(from.version);
  std::vector<const KubernetesVersion*> out;
  for (const KubernetesVersion& v : kVersions) {
    std::vector<int> t = Parts(v.version);
    bool same_minor = t[0] == f[0] && t[1] == f[1] && CompareVersions(v.version, from.version) > 0;
    bool next_minor = t[0] == f[0] && t[1] == f[1] + 1;
    if (same_minor || next_minor) out.push_back(&v);
  }
  return out;
}

}  // namespace

std::span<const KubernetesVersion> KubernetesVersions() { return kVersions; }

std::string DefaultKubernetesVersion() {
  for (const KubernetesVersion& v : kVersions) {
    if (v.is_default) return std::string(v.version);
  }
  return std::string(kVersions.back().version);
}

int CompareVersions(std::string_view a, std::string_view b) {
  std::vector<int> pa = Parts(a), pb = Parts(b);
  size_t n = std::max(pa.size(), pb.size());
  pa.resize(n, 0);
  pb.resize(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (pa[i] != pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return 0;
}

std::string MinorOf(std::string_view version) {
  std::vector<int> p = Parts(version);
  if (p.size() < 2) return std::string(version);
  return fmt::format("{}.{}", p[0], p[1]);
}

std::optional<std::string> ResolveKubernetesVersion(std::string_view requested) {
  if (requested.empty()) return DefaultKubernetesVersion();
  if (WellFormed(requested, 3)) {
    for (const KubernetesVersion& v : kVersions) {
      if (CompareVersions(v.version, requested) == 0) return std::string(v.version);
    }
    return std::nullopt;
  }
  if (WellFormed(requested, 2)) {
    std::optional<std::string> latest;
    bool preview_only = true;
    for (const KubernetesVersion& v : kVersions) {
      if (MinorOf(v.version) != MinorOf(requested)) continue;
      // The latest GA patch; a minor offered only in preview resolves to its latest preview.
      if (!v.is_preview && preview_only) {
        preview_only = false;
        latest.reset();
      }
      if (v.is_preview && !preview_only) continue;
      if (!latest || CompareVersions(v.version, *latest) > 0) latest = std::string(v.version);
    }
    return latest;
  }
  return std::nullopt;
}

std::string NodeImageVersion(std::string_view kubernetes_version) {
  return CompareVersions(kubernetes_version, "1.25") < 0
             ? "AKSUbuntu-1804gen2containerd-2023.02.15"
             : "AKSUbuntu-2204gen2containerd-2023.02.15";
}

json OrchestratorsDocument(std::string_view subscription_id, std::string_view location) {
  json orchestrators = json::array();
  for (const KubernetesVersion& v : kVersions) {
    json upgrades = json::array();
    for (const KubernetesVersion* u : UpgradesOf(v)) {
      json up = {{"orchestratorType", "Kubernetes"}, {"orchestratorVersion", u->version}};
      if (u->is_preview) up["isPreview"] = true;
      upgrades.push_back(std::move(up));
    }
    json o = {{"orchestratorType", "Kubernetes"}, {"orchestratorVersion", v.version}};
    if (v.is_default) o["default"] = true;
    if (v.is_preview) o["isPreview"] = true;
    if (!upgrades.empty()) o["upgrades"] = std::move(upgrades);
    orchestrators.push_back(std::move(o));
  }
  return {{"id", fmt::format("/subscriptions/{}/providers/Microsoft.ContainerService/locations/{}/"
                             "orchestrators",
                             subscription_id, location)},
          {"name", "default"},
          {"type", "Microsoft.ContainerService/locations/orchestrators"},
          {"properties", {{"orchestrators", orchestrators}}}};
}

json KubernetesVersionsDocument() {
  json values = json::array();
  for (const KubernetesVersion& v : kVersions) {
    std::string minor = MinorOf(v.version);
    json* entry = nullptr;
    for (json& e : values) {
      if (e["version"] == minor) entry = &e;
    }
    if (entry == nullptr) {
      values.push_back({{"version", minor},
                        {"capabilities", {{"supportPlan", json::array({"KubernetesOfficial"})}}},
                        {"patchVersions", json::object()}});
      entry = &values.back();
    }
    if (v.is_default) (*entry)["isDefault"] = true;
    if (v.is_preview) (*entry)["isPreview"] = true;
    json upgrades = json::array();
    for (const KubernetesVersion* u : UpgradesOf(v)) upgrades.push_back(u->version);
    (*entry)["patchVersions"][std::string(v.version)] = {{"upgrades", upgrades}};
  }
  return {{"values", values}};
}

}  // namespace byok::containerservice
