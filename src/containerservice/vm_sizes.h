// The catalogue of Azure VM sizes byok offers to AKS agent pools, with the figures Azure publishes
// for them (docs: Dv2/DSv2, Dv3/Dsv3, Esv3, Fsv2, Dsv5, Ddsv5 and B-series pages): vCPUs,
// memory, the premium-storage cache size ("Max cached and temp storage throughput ... (cache size
// in GiB)") and the temp disk size, and whether the size takes premium disks.
//
// Ephemeral OS disks (as AKS decides them): the OS disk lives in the VM's cache when it fits
// there, else in its temp disk when it fits there (AKS's "ephemeral OS on temp disk"), else the
// size cannot hold it. Sizes on which Azure does not offer ephemeral OS disks at all (B-series,
// the Dsv5 sizes without local storage) can never hold one. When osDiskType is not given, AKS
// picks Ephemeral if the OS disk fits, else Managed; asking Ephemeral on a size that cannot hold
// the disk fails with VMCacheSizeTooSmall (errors.h). The default size, Standard_DS2_v2, has an
// 86 GiB cache and a 14 GiB temp disk: the default 128 GB OS disk does not fit (so the seed's
// `az aks nodepool add --node-osdisk-type Ephemeral` without --node-vm-size fails, as in Azure),
// while Standard_DS3_v2 (172 GiB cache) holds it.
//
// Thread safety: constants and pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace byok::containerservice {

inline constexpr char kDefaultVmSize[] = "Standard_DS2_v2";
inline constexpr int kDefaultOsDiskSizeGb = 128;

struct VmSize {
  std::string_view name;  // "Standard_DS2_v2"
  int vcpus = 0;
  double memory_gib = 0;
  int cache_gib = 0;  // premium-storage cache; 0 = none
  int temp_gib = 0;   // temp (resource) disk; 0 = none
  bool premium_storage = false;
  bool ephemeral_os = false;  // Azure offers ephemeral OS disks on this size
};

// Every size, in catalogue order.
std::span<const VmSize> VmSizes();
// The size named `name` (case-insensitive), or nullptr.
const VmSize* FindVmSize(std::string_view name);
// "Standard_B2s,Standard_B2ms,..." (for error messages).
std::string VmSizeNames();

// Where an ephemeral OS disk of `os_disk_gb` goes on `size`.
enum class EphemeralPlacement { kNone, kCacheDisk, kResourceDisk };
EphemeralPlacement EphemeralPlacementFor(const VmSize& size, int os_disk_gb);
inline bool FitsEphemeral(const VmSize& size, int os_disk_gb) {
  return EphemeralPlacementFor(size, os_disk_gb) != EphemeralPlacement::kNone;
}
// The local disk AKS names in VMCacheSizeTooSmall, in bytes: the larger of the cache and the
// temp disk, or 0 when the size takes no ephemeral OS disk.
uint64_t EphemeralCapacityBytes(const VmSize& size);

}  // namespace byok::containerservice
