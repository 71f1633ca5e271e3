#include "containerservice/pools.h"

#include <array>
#include <optional>

#include "arm/resource_id.h"
#include "containerservice/cluster_store.h"
#include "containerservice/errors.h"
#include "containerservice/versions.h"
#include "containerservice/vm_sizes.h"

namespace byok::containerservice::internal {
namespace {

using arm::EqualsIgnoreCase;
using nlohmann::json;

constexpr int kMinOsDiskGb = 30;
constexpr int kMaxOsDiskGb = 2048;

// Properties byok computes: never taken from a request.
constexpr std::array<std::string_view, 12> kComputed = {"count",
                                                        "vmSize",
                                                        "osDiskSizeGB",
                                                        "osDiskType",
                                                        "mode",
                                                        "orchestratorVersion",
                                                        "currentOrchestratorVersion",
                                                        "provisioningState",
                                                        "powerState",
                                                        "nodeImageVersion",
                                                        "osType",
                                                        "name"};

// Defaults AKS reports for what nobody set.
const json& Defaults() {
  static const json kDefaults = {{"kubeletDiskType", "OS"},
                                 {"maxPods", 110},
                                 {"type", "VirtualMachineScaleSets"},
                                 {"enableAutoScaling", false},
                                 {"enableNodePublicIP", false},
                                 {"enableEncryptionAtHost", false},
                                 {"enableUltraSSD", false},
                                 {"enableFIPS", false},
                                 {"osSKU", "Ubuntu"},
                                 {"scaleDownMode", "Delete"},
                                 {"upgradeSettings", json::object()}};
  return kDefaults;
}

bool ValidPoolName(std::string_view name) {
  if (name.empty() || name.size() > 12) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

const json& Member(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::optional<ApiError> CheckOsType(const json& props) {
  std::string os = StringOf(props, "osType");
  if (!os.empty() && !EqualsIgnoreCase(os, "Linux"))
    return MakeError(errors::kUnsupportedOsType, os);
  return std::nullopt;
}

ApiResult<std::string> ParseMode(const json& props, std::string_view fallback) {
  std::string mode = StringOf(props, "mode");
  if (mode.empty()) mode = std::string(fallback);
  if (EqualsIgnoreCase(mode, "System")) return std::string("System");
  if (EqualsIgnoreCase(mode, "User")) return std::string("User");
  return MakeError(errors::kInvalidMode, mode);
}

ApiResult<int> ParseCount(const json& props, int fallback, const std::string& mode) {
  int count = fallback;
  const json& c = Member(props, "count");
  if (!c.is_null()) {
    if (!c.is_number_integer()) return MakeError(errors::kInvalidCount);
    int64_t v = c.get<int64_t>();
    if (v < 0 || v > kMaxPoolCount) return MakeError(errors::kInvalidCount);
    count = static_cast<int>(v);
  }
  if (count == 0 && mode == "System") return MakeError(errors::kInvalidCount);
  return count;
}

// 0 / absent → 0 ("use the stored or default size").
ApiResult<int> ParseOsDiskSize(const json& props) {
  const json& s = Member(props, "osDiskSizeGB");
  if (s.is_null()) return 0;
  if (!s.is_number_integer()) return MakeError(errors::kInvalidOsDiskSize, s.dump());
  int64_t v = s.get<int64_t>();
  if (v == 0) return 0;
  if (v < kMinOsDiskGb || v > kMaxOsDiskGb) return MakeError(errors::kInvalidOsDiskSize, v);
  return static_cast<int>(v);
}

json Passthrough(const json& base, const json& props) {
  json out = base.is_object() ? base : json::object();
  if (props.is_object()) {
    for (const auto& [k, v] : props.items()) {
      bool computed = false;
      for (std::string_view c : kComputed) {
        if (k == c) computed = true;
      }
      if (!computed && !v.is_null()) out[k] = v;
    }
  }
  for (std::string_view c : kComputed) out.erase(std::string(c));
  return out;
}

}  // namespace

std::string StringOf(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ApiResult<PoolSpec> ParseNewPool(std::string_view name, const json& props, const PoolContext& ctx) {
  PoolSpec s;
  s.name = std::string(name);
  if (!ValidPoolName(name)) return MakeError(errors::kInvalidPoolName, name);
  if (auto e = CheckOsType(props)) return *e;
  ApiResult<std::string> mode = ParseMode(props, ctx.default_mode);
  if (!mode.ok()) return mode.error();
  s.mode = *mode;
  ApiResult<int> count = ParseCount(props, 1, s.mode);
  if (!count.ok()) return count.error();
  s.count = *count;

  std::string vm = StringOf(props, "vmSize");
  if (vm.empty()) vm = kDefaultVmSize;
  const VmSize* size = FindVmSize(vm);
  if (size == nullptr) {
    return MakeError(errors::kVmSizeNotAllowed, s.name, ctx.location, VmSizeNames());
  }
  s.vm_size = std::string(size->name);

  ApiResult<int> disk = ParseOsDiskSize(props);
  if (!disk.ok()) return disk.error();
  s.os_disk_size_gb = *disk == 0 ? kDefaultOsDiskSizeGb : *disk;

  std::string type = StringOf(props, "osDiskType");
  const bool fits = FitsEphemeral(*size, s.os_disk_size_gb);
  if (type.empty()) {
    s.os_disk_type = fits ? OsDiskType::kEphemeral : OsDiskType::kManaged;
  } else if (EqualsIgnoreCase(type, "Ephemeral")) {
    if (!fits) {
      return MakeError(errors::kVmCacheSizeTooSmall, size->name, EphemeralCapacityBytes(*size),
                       static_cast<uint64_t>(s.os_disk_size_gb) << 30);
    }
    s.os_disk_type = OsDiskType::kEphemeral;
  } else if (EqualsIgnoreCase(type, "Managed")) {
    s.os_disk_type = OsDiskType::kManaged;
  } else {
    return MakeError(errors::kInvalidOsDiskType, type);
  }

  std::string version = StringOf(props, "orchestratorVersion");
  if (version.empty()) {
    s.orchestrator_version = ctx.cluster_version;
  } else {
    std::optional<std::string> resolved = ResolveKubernetesVersion(version);
    if (!resolved) return MakeError(errors::kVersionNotSupported, version);
    if (CompareVersions(MinorOf(*resolved), MinorOf(ctx.cluster_version)) > 0) {
      return MakeError(errors::kPoolVersionNewerThanCluster, *resolved, ctx.cluster_version);
    }
    s.orchestrator_version = *resolved;
  }
  s.properties = Passthrough(json::object(), props);
  return s;
}

ApiResult<PoolSpec> ParsePoolUpdate(const json& props, const json& stored, const PoolContext& ctx) {
  const json& have = Member(stored, "properties");
  PoolSpec s;
  s.name = StringOf(stored, "name");
  if (auto e = CheckOsType(props)) return *e;
  s.vm_size = StringOf(have, "vmSize");
  s.os_disk_size_gb = Member(have, "osDiskSizeGB").is_number_integer()
                          ? Member(have, "osDiskSizeGB").get<int>()
                          : kDefaultOsDiskSizeGb;
  s.os_disk_type = EqualsIgnoreCase(StringOf(have, "osDiskType"), "Ephemeral")
                       ? OsDiskType::kEphemeral
                       : OsDiskType::kManaged;
  s.orchestrator_version = StringOf(have, "currentOrchestratorVersion");
  if (s.orchestrator_version.empty())
    s.orchestrator_version = StringOf(have, "orchestratorVersion");

  std::string vm = StringOf(props, "vmSize");
  if (!vm.empty() && !EqualsIgnoreCase(vm, s.vm_size)) {
    return MakeError(errors::kPropertyChangeNotAllowed, "properties.vmSize");
  }
  ApiResult<int> disk = ParseOsDiskSize(props);
  if (!disk.ok()) return disk.error();
  if (*disk != 0 && *disk != s.os_disk_size_gb) {
    return MakeError(errors::kPropertyChangeNotAllowed, "properties.osDiskSizeGB");
  }
  std::string type = StringOf(props, "osDiskType");
  if (!type.empty() && !EqualsIgnoreCase(type, OsDiskTypeName(s.os_disk_type))) {
    if (!EqualsIgnoreCase(type, "Ephemeral") && !EqualsIgnoreCase(type, "Managed")) {
      return MakeError(errors::kInvalidOsDiskType, type);
    }
    return MakeError(errors::kPropertyChangeNotAllowed, "properties.osDiskType");
  }
  std::string version = StringOf(props, "orchestratorVersion");
  if (!version.empty()) {
    std::optional<std::string> resolved = ResolveKubernetesVersion(version);
    if (!resolved) return MakeError(errors::kVersionNotSupported, version);
    if (*resolved != s.orchestrator_version) {
      return MakeError(errors::kUpgradeNotSupported, s.orchestrator_version, *resolved);
    }
  }
  ApiResult<std::string> mode =
      ParseMode(props, StringOf(have, "mode").empty() ? ctx.default_mode : StringOf(have, "mode"));
  if (!mode.ok()) return mode.error();
  s.mode = *mode;
  int stored_count =
      Member(have, "count").is_number_integer() ? Member(have, "count").get<int>() : 0;
  ApiResult<int> count = ParseCount(props, stored_count, s.mode);
  if (!count.ok()) return count.error();
  s.count = *count;
  s.properties = Passthrough(have, props);
  return s;
}

json PoolDocument(std::string_view id, const PoolSpec& spec, std::string_view provisioning_state,
                  std::string_view power_state) {
  json props = Defaults();
  for (const auto& [k, v] : spec.properties.items()) props[k] = v;
  props["count"] = spec.count;
  props["vmSize"] = spec.vm_size;
  props["osDiskSizeGB"] = spec.os_disk_size_gb;
  props["osDiskType"] = std::string(OsDiskTypeName(spec.os_disk_type));
  props["mode"] = spec.mode;
  props["osType"] = "Linux";
  props["orchestratorVersion"] = spec.orchestrator_version;
  props["currentOrchestratorVersion"] = spec.orchestrator_version;
  props["nodeImageVersion"] = NodeImageVersion(spec.orchestrator_version);
  props["provisioningState"] = provisioning_state;
  props["powerState"] = {{"code", power_state}};
  return {{"id", id}, {"name", spec.name}, {"type", kAgentPoolType}, {"properties", props}};
}

json ProfileOf(const json& pool_document) {
  json profile = {{"name", StringOf(pool_document, "name")}};
  const json& props = Member(pool_document, "properties");
  if (props.is_object()) {
    for (const auto& [k, v] : props.items()) profile[k] = v;
  }
  return profile;
}

bool IsDeleting(const nlohmann::json& document) {
  auto props = document.find("properties");
  return props != document.end() && props->is_object() &&
         StringOf(*props, "provisioningState") == "Deleting";
}

}  // namespace byok::containerservice::internal
