// Agent-pool requests and documents (not a public interface of the module): the validation and
// defaults of a pool's properties as AKS applies them (containerservice.h, vm_sizes.h,
// versions.h), shared by managedClusters (agentPoolProfiles) and agentPools.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/api_error.h"
#include "containerservice/nodes.h"

namespace byok::containerservice::internal {

inline constexpr int kMaxPoolCount = 1000;

// A pool as a request asks it to be, validated, with AKS's defaults filled in.
struct PoolSpec {
  std::string name;
  int count = 1;
  std::string vm_size;  // catalogue spelling
  int os_disk_size_gb = 128;
  OsDiskType os_disk_type = OsDiskType::kManaged;
  std::string mode;                  // "System", "User"
  std::string orchestrator_version;  // resolved ("1.24.9")
  nlohmann::json properties;         // the request's other properties, passed through
};

struct PoolContext {
  std::string location;         // canonical
  std::string cluster_version;  // resolved
  std::string default_mode;     // "System" (cluster creation) or "User"
};

// A new pool named `name` from its properties (an AgentPool's "properties", or a
// ManagedClusterAgentPoolProfile without its "name"). Checks, in order: name, osType, mode,
// count, vmSize, osDiskSizeGB, osDiskType (ephemeral eligibility), orchestratorVersion.
ApiResult<PoolSpec> ParseNewPool(std::string_view name, const nlohmann::json& props,
                                 const PoolContext& ctx);
// An update of an existing pool (`stored` is its document): vmSize, osDiskSizeGB and osDiskType
// may only repeat their values (PropertyChangeNotAllowed), the version may not change; count
// (0 only for User pools) and mode may.
ApiResult<PoolSpec> ParsePoolUpdate(const nlohmann::json& props, const nlohmann::json& stored,
                                    const PoolContext& ctx);

// The stored AgentPool document.
nlohmann::json PoolDocument(std::string_view id, const PoolSpec& spec,
                            std::string_view provisioning_state, std::string_view power_state);
// The pool as a ManagedClusterAgentPoolProfile: {"name", ...properties}.
nlohmann::json ProfileOf(const nlohmann::json& pool_document);

// A string member, or "" (absent, null or not a string).
std::string StringOf(const nlohmann::json& obj, const char* key);

// Whether a stored pool (or cluster) document is being deleted (provisioningState "Deleting"):
// such a pool no longer counts as one of the cluster's pools.
bool IsDeleting(const nlohmann::json& document);

}  // namespace byok::containerservice::internal
