#include "containerservice/vm_sizes.h"

#include <algorithm>
#include <array>

#include "arm/resource_id.h"

namespace byok::containerservice {
namespace {

// name, vCPUs, memory GiB, cache GiB, temp GiB, premium storage, ephemeral OS.
constexpr std::array kSizes = {
    // B-series (burstable): premium disks, no cache, no ephemeral OS disks.
    VmSize{"Standard_B2s", 2, 4, 0, 8, true, false},
    VmSize{"Standard_B2ms", 2, 8, 0, 16, true, false},
    VmSize{"Standard_B4ms", 4, 16, 0, 32, true, false},
    VmSize{"Standard_B8ms", 8, 32, 0, 64, true, false},
    // DSv2-series.
    VmSize{"Standard_DS1_v2", 1, 3.5, 43, 7, true, true},
    VmSize{"Standard_DS2_v2", 2, 7, 86, 14, true, true},
    VmSize{"Standard_DS3_v2", 4, 14, 172, 28, true, true},
    VmSize{"Standard_DS4_v2", 8, 28, 344, 56, true, true},
    VmSize{"Standard_DS5_v2", 16, 56, 688, 112, true, true},
    // Dsv3-series.
    VmSize{"Standard_D2s_v3", 2, 8, 50, 16, true, true},
    VmSize{"Standard_D4s_v3", 4, 16, 100, 32, true, true},
    VmSize{"Standard_D8s_v3", 8, 32, 200, 64, true, true},
    VmSize{"Standard_D16s_v3", 16, 64, 400, 128, true, true},
    VmSize{"Standard_D32s_v3", 32, 128, 800, 256, true, true},
    // Esv3-series.
    VmSize{"Standard_E2s_v3", 2, 16, 50, 32, true, true},
    VmSize{"Standard_E4s_v3", 4, 32, 100, 64, true, true},
    VmSize{"Standard_E8s_v3", 8, 64, 200, 128, true, true},
    VmSize{"Standard_E16s_v3", 16, 128, 400, 256, true, true},
    // Fsv2-series.
    VmSize{"Standard_F2s_v2", 2, 4, 32, 16, true, true},
    VmSize{"Standard_F4s_v2", 4, 8, 64, 32, true, true},
    VmSize{"Standard_F8s_v2", 8, 16, 128, 64, true, true},
    VmSize{"Standard_F16s_v2", 16, 32, 256, 128, true, true},
    // Dsv5-series: remote storage only.
    VmSize{"Standard_D2s_v5", 2, 8, 0, 0, true, false},
    VmSize{"Standard_D4s_v5", 4, 16, 0, 0, true, false},
    VmSize{"Standard_D8s_v5", 8, 32, 0, 0, true, false},
    // Ddsv5-series: no cache, a temp disk (ephemeral OS on the temp disk).
    VmSize{"Standard_D2ds_v5", 2, 8, 0, 75, true, true},
    VmSize{"Standard_D4ds_v5", 4, 16, 0, 150, true, true},
    VmSize{"Standard_D8ds_v5", 8, 32, 0, 300, true, true},
    VmSize{"Standard_D16ds_v5", 16, 64, 0, 600, true, true},
};

}  // namespace

std::span<const VmSize> VmSizes() { return kSizes; }

const VmSize* FindVmSize(std::string_view name) {
  for (const VmSize& s : kSizes) {
    if (arm::EqualsIgnoreCase(s.name, name)) return &s;
  }
  return nullptr;
}

std::string VmSizeNames() {
  std::string out;
  for (const VmSize& s : kSizes) {
    if (!out.empty()) out += ",";
    out += s.name;
  }
  return out;
}

EphemeralPlacement EphemeralPlacementFor(const VmSize& size, int os_disk_gb) {
  if (!size.ephemeral_os || os_disk_gb <= 0) return EphemeralPlacement::kNone;
  if (os_disk_gb <= size.cache_gib) return EphemeralPlacement::kCacheDisk;
  if (os_disk_gb <= size.temp_gib) return EphemeralPlacement::kResourceDisk;
  return EphemeralPlacement::kNone;
}

uint64_t EphemeralCapacityBytes(const VmSize& size) {
  if (!size.ephemeral_os) return 0;
  return static_cast<uint64_t>(std::max(size.cache_gib, size.temp_gib)) << 30;
}

}  // namespace byok::containerservice
