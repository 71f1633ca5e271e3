// The Kubernetes versions byok's AKS offers: the list AKS offered in early 2023 (1.23 to 1.26,
// 1.26 in preview), with 1.24.9 the default, and what `az aks get-versions` reads.
//
// Version resolution (kubernetesVersion of a cluster, orchestratorVersion of a pool), as AKS
// does it: "" → the default; "1.24" (major.minor) → the latest patch of that minor offered;
// "1.24.9" → itself when offered. Anything else is not supported (AgentPoolK8sVersionNotSupported,
// errors.h).
//
// Documents:
//   GET /subscriptions/{s}/providers/Microsoft.ContainerService/locations/{loc}/orchestrators
//       ?resource-type=managedClusters (what Azure CLI 2.45 calls, api-version 2019-04-01):
//       OrchestratorVersionProfileListResult {id, name, type, properties.orchestrators[
//       {orchestratorType "Kubernetes", orchestratorVersion, default?, isPreview?, upgrades[]}]}
//   GET .../locations/{loc}/kubernetesVersions (newer CLIs): KubernetesVersionListResult
//       {values[{version "1.24", isDefault?, isPreview?, capabilities.supportPlan,
//       patchVersions{"1.24.9": {upgrades[]}}}]}
// Upgrades offered: later patches of the same minor and every patch of the next minor.
//
// Thread safety: constants and pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace byok::containerservice {

struct KubernetesVersion {
  std::string_view version;  // "1.24.9"
  bool is_default = false;
  bool is_preview = false;
};

// Every version, oldest first.
std::span<const KubernetesVersion> KubernetesVersions();
std::string DefaultKubernetesVersion();  // "1.24.9"

// See the file comment; nullopt if not supported.
std::optional<std::string> ResolveKubernetesVersion(std::string_view requested);

// Numeric comparison of dotted versions ("1.24.10" > "1.24.9"): <0, 0, >0. Missing parts count 0.
int CompareVersions(std::string_view a, std::string_view b);
// "1.24" of "1.24.9".
std::string MinorOf(std::string_view version);

// The node image AKS used for Linux pools of that version in early 2023
// ("AKSUbuntu-1804gen2containerd-2023.02.15"; Ubuntu 22.04 from 1.25).
std::string NodeImageVersion(std::string_view kubernetes_version);

nlohmann::json OrchestratorsDocument(std::string_view subscription_id, std::string_view location);
nlohmann::json KubernetesVersionsDocument();

}  // namespace byok::containerservice
