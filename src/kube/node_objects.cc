#include "kube/node_objects.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>

#include "common/duration.h"
#include "common/encoding.h"
#include "containerservice/vm_sizes.h"
#include "crypto/sign.h"
#include "kube/internal/time.h"

namespace byok::kube {
namespace {

using nlohmann::json;

std::vector<uint8_t> Sha256(std::string_view text) {
  auto d = crypto::Digest(crypto::HashAlgorithm::kSha256, AsBytes(text));
  return d.ok() ? *d : std::vector<uint8_t>(32, 0);
}

// A v4-shaped UUID from the first 16 bytes of SHA-256(text).
std::string DerivedUuid(std::string_view text) {
  std::vector<uint8_t> b = Sha256(text);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  std::string hex = HexEncode(std::span<const uint8_t>(b.data(), 16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

// Kubernetes timestamps: RFC 3339, whole seconds, UTC.
std::string KubeTime(std::string_view azure_time) {
  auto t = ParseTimestamp(azure_time);
  if (!t.ok()) return std::string(azure_time);
  return internal::KubeTime(*t);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// AKS's kube-reserved CPU (millicores) by core count.
int64_t ReservedCpuMilli(int cores) {
  if (cores <= 1) return 60;
  if (cores <= 2) return 100;
  if (cores <= 4) return 140;
  if (cores <= 8) return 180;
  if (cores <= 16) return 260;
  if (cores <= 32) return 420;
  return 740;
}

// AKS's regressive kube-reserved memory, in KiB, of a node with `mem_kib`.
int64_t ReservedMemoryKib(int64_t mem_kib) {
  constexpr int64_t kGib = 1024 * 1024;
  struct Band {
    int64_t upto_gib;
    double rate;
  };
  constexpr Band kBands[] = {{4, 0.25}, {8, 0.20}, {16, 0.10}, {128, 0.06}, {1 << 20, 0.02}};
  int64_t reserved = 0, from = 0;
  for (const Band& b : kBands) {
    int64_t to = std::min(mem_kib, b.upto_gib * kGib);
    if (to > from) reserved += static_cast<int64_t>(static_cast<double>(to - from) * b.rate);
    from = b.upto_gib * kGib;
    if (mem_kib <= from) break;
  }
  return reserved;
}

constexpr int64_t kEvictionHardKib = 750 * 1024;  // memory.available<750Mi

json Condition(std::string_view type, std::string_view status, std::string_view reason,
               std::string_view message, const std::string& time) {
  return {{"type", type},
          {"status", status},
          {"lastHeartbeatTime", time},
          {"lastTransitionTime", time},
          {"reason", reason},
          {"message", message}};
}

}  // namespace

json NodeObject(const containerservice::NodeInfo& node,
                const containerservice::ClusterRecord& cluster, std::string_view pool_mode) {
  const containerservice::VmSize* size = containerservice::FindVmSize(node.vm_size);
  int cores = size ? size->vcpus : 2;
  double mem_gib = size ? size->memory_gib : 7;
  bool premium = size ? size->premium_storage : true;
  std::string created = KubeTime(node.created);
  bool ubuntu2204 = true;  // AKS moved to Ubuntu 22.04 with Kubernetes 1.25
  {
    int major = 0, minor = 0;
    if (std::sscanf(node.kubernetes_version.c_str(), "%d.%d", &major, &minor) == 2) {
      ubuntu2204 = major > 1 || minor >= 25;
    }
  }
  std::string location = cluster.location;

  json labels = {
      {"agentpool", node.pool_name},
      {"beta.kubernetes.io/arch", "amd64"},
      {"beta.kubernetes.io/instance-type", node.vm_size},
      {"beta.kubernetes.io/os", "linux"},
      {"failure-domain.beta.kubernetes.io/region", location},
      {"failure-domain.beta.kubernetes.io/zone", "0"},
      {"kubernetes.azure.com/agentpool", node.pool_name},
      {"kubernetes.azure.com/cluster", cluster.node_resource_group},
      {"kubernetes.azure.com/node-image-version", ubuntu2204
                                                      ? "AKSUbuntu-2204gen2containerd-202302.13.0"
                                                      : "AKSUbuntu-1804gen2containerd-2023.02.15"},
      {"kubernetes.azure.com/os-sku", "Ubuntu"},
      {"kubernetes.azure.com/role", "agent"},
      {"kubernetes.io/arch", "amd64"},
      {"kubernetes.io/hostname", node.name},
      {"kubernetes.io/os", "linux"},
      {"kubernetes.io/role", "agent"},
      {"node-role.kubernetes.io/agent", ""},
      {"node.kubernetes.io/instance-type", node.vm_size},
      {"storageprofile",
       node.os_disk_type == containerservice::OsDiskType::kEphemeral ? "ephemeral" : "managed"},
      {"storagetier", premium ? "Premium_LRS" : "Standard_LRS"},
      {"topology.disk.csi.azure.com/zone", ""},
      {"topology.kubernetes.io/region", location},
      {"topology.kubernetes.io/zone", "0"},
  };
  if (!pool_mode.empty()) labels["kubernetes.azure.com/mode"] = Lower(pool_mode);

  // resourceVersion: changes whenever the record does.
  std::vector<uint8_t> rv_hash = Sha256(containerservice::ToJson(node).dump());
  uint64_t rv = 0;
  for (int i = 0; i < 6; ++i) rv = (rv << 8) | rv_hash[i];

  std::string rg_lower = Lower(cluster.node_resource_group);
  std::string provider_id = "azure:///subscriptions/" + cluster.subscription_id +
                            "/resourceGroups/" + rg_lower +
                            "/providers/Microsoft.Compute/virtualMachineScaleSets/" +
                            node.vmss_name + "/virtualMachines/" + std::to_string(node.instance);
  std::string pod_cidr = "10.244." + std::to_string(node.instance % 256) + ".0/24";
  int64_t ip = 4 + node.instance;
  std::string internal_ip =
      "10.224." + std::to_string((ip / 256) % 256) + "." + std::to_string(ip % 256);

  // Capacity: the kernel reports a little less memory than the size's nominal figure.
  int64_t mem_kib = static_cast<int64_t>(std::llround(mem_gib * 1024 * 1024 * 0.97));
  int64_t alloc_mem_kib = mem_kib - ReservedMemoryKib(mem_kib) - kEvictionHardKib;
  int64_t disk_kib = static_cast<int64_t>(node.os_disk_size_gb) * 1000 * 1000 * 1000 / 1024;
  int64_t alloc_disk = static_cast<int64_t>(static_cast<double>(disk_kib) * 1024 * 0.9);
  json capacity = {{"cpu", std::to_string(cores)},
                   {"ephemeral-storage", std::to_string(disk_kib) + "Ki"},
                   {"hugepages-1Gi", "0"},
                   {"hugepages-2Mi", "0"},
                   {"memory", std::to_string(mem_kib) + "Ki"},
                   {"pods", "110"}};
  json allocatable = {{"cpu", std::to_string(cores * 1000 - ReservedCpuMilli(cores)) + "m"},
                      {"ephemeral-storage", std::to_string(alloc_disk)},
                      {"hugepages-1Gi", "0"},
                      {"hugepages-2Mi", "0"},
                      {"memory", std::to_string(alloc_mem_kib) + "Ki"},
                      {"pods", "110"}};

  json conditions = json::array();
  if (node.state == "Ready" || node.state == "NotReady") {
    conditions.push_back(Condition("NetworkUnavailable", "False", "RouteCreated",
                                   "RouteController created a route", created));
    conditions.push_back(Condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                                   "kubelet has sufficient memory available", created));
    conditions.push_back(Condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                                   "kubelet has no disk pressure", created));
    conditions.push_back(Condition("PIDPressure", "False", "KubeletHasSufficientPID",
                                   "kubelet has sufficient PID available", created));
    if (node.state == "Ready") {
      conditions.push_back(Condition("Ready", "True", "KubeletReady",
                                     "kubelet is posting ready status. AppArmor enabled", created));
    } else {
      conditions.push_back(Condition("Ready", "False", "KubeletNotReady", node.reason, created));
    }
  } else {
    // Stopped (key revoked) or Deallocated (cluster stopped): the kubelet no longer reports.
    conditions.push_back(Condition("NetworkUnavailable", "False", "RouteCreated",
                                   "RouteController created a route", created));
    for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"}) {
      std::string message = "Kubelet stopped posting node status.";
      if (!node.reason.empty() && std::string_view(type) == "Ready") {
        message += " " + node.reason;
      }
      conditions.push_back(Condition(type, "Unknown", "NodeStatusUnknown", message, created));
    }
  }

  std::string machine = DerivedUuid("machine:" + cluster.unique_id + "/" + node.name);
  std::string machine_id;
  for (char c : machine) {
    if (c != '-') machine_id.push_back(c);
  }
  json node_info = {{"architecture", "amd64"},
                    {"bootID", DerivedUuid("boot:" + cluster.unique_id + "/" + node.name + "/" +
                                           std::to_string(node.boot_count))},
                    {"containerRuntimeVersion",
                     ubuntu2204 ? "containerd://1.6.17+azure-1" : "containerd://1.6.4+azure-4"},
                    {"kernelVersion", ubuntu2204 ? "5.15.0-1033-azure" : "5.4.0-1103-azure"},
                    {"kubeProxyVersion", "v" + node.kubernetes_version},
                    {"kubeletVersion", "v" + node.kubernetes_version},
                    {"machineID", machine_id},
                    {"operatingSystem", "linux"},
                    {"osImage", ubuntu2204 ? "Ubuntu 22.04.1 LTS" : "Ubuntu 18.04.6 LTS"},
                    {"systemUUID", DerivedUuid("system:" + cluster.unique_id + "/" + node.name)}};

  return {
      {"kind", "Node"},
      {"apiVersion", "v1"},
      {"metadata",
       {{"name", node.name},
        {"uid", DerivedUuid("node:" + cluster.unique_id + "/" + node.name + "/" + node.created)},
        {"resourceVersion", std::to_string(rv)},
        {"creationTimestamp", created},
        {"labels", labels},
        {"annotations",
         {{"node.alpha.kubernetes.io/ttl", "0"},
          {"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}}}},
      {"spec",
       {{"podCIDR", pod_cidr}, {"podCIDRs", json::array({pod_cidr})}, {"providerID", provider_id}}},
      {"status",
       {{"capacity", capacity},
        {"allocatable", allocatable},
        {"conditions", conditions},
        {"addresses", json::array({{{"type", "InternalIP"}, {"address", internal_ip}},
                                   {{"type", "Hostname"}, {"address", node.name}}})},
        {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
        {"nodeInfo", node_info}}}};
}

}  // namespace byok::kube
