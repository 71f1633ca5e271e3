// The VM size catalogue and the ephemeral OS disk rule (containerservice/vm_sizes.h).
#include "containerservice/vm_sizes.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace byok::containerservice {
namespace {

TEST(VmSizesTest, PublishedFigures) {
  struct Row {
    const char* name;
    int vcpus;
    double memory;
    int cache;
    int temp;
  };
  // Azure's size tables (Dv2/DSv2, Dv3/Dsv3, Esv3, Fsv2, B-series, Ddsv5, Dsv5).
  for (const Row& r :
       {Row{"Standard_DS2_v2", 2, 7, 86, 14}, Row{"Standard_DS3_v2", 4, 14, 172, 28},
        Row{"Standard_DS4_v2", 8, 28, 344, 56}, Row{"Standard_D2s_v3", 2, 8, 50, 16},
        Row{"Standard_D4s_v3", 4, 16, 100, 32}, Row{"Standard_D8s_v3", 8, 32, 200, 64},
        Row{"Standard_D16s_v3", 16, 64, 400, 128}, Row{"Standard_E4s_v3", 4, 32, 100, 64},
        Row{"Standard_B2s", 2, 4, 0, 8}, Row{"Standard_F4s_v2", 4, 8, 64, 32},
        Row{"Standard_D4ds_v5", 4, 16, 0, 150}, Row{"Standard_D4s_v5", 4, 16, 0, 0}}) {
    const VmSize* s = FindVmSize(r.name);
    ASSERT_NE(s, nullptr) << r.name;
    EXPECT_EQ(s->name, r.name);
    EXPECT_EQ(s->vcpus, r.vcpus) << r.name;
    EXPECT_EQ(s->memory_gib, r.memory) << r.name;
    EXPECT_EQ(s->cache_gib, r.cache) << r.name;
    EXPECT_EQ(s->temp_gib, r.temp) << r.name;
    EXPECT_TRUE(s->premium_storage) << r.name;
  }
}

TEST(VmSizesTest, LookupIsCaseInsensitive) {
  const VmSize* s = FindVmSize("standard_ds3_V2");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name, "Standard_DS3_v2");
  EXPECT_EQ(FindVmSize("Standard_Nope"), nullptr);
  EXPECT_EQ(FindVmSize(""), nullptr);
  EXPECT_NE(FindVmSize(kDefaultVmSize), nullptr);
  EXPECT_NE(VmSizeNames().find("Standard_DS2_v2,"), std::string::npos);
}

TEST(VmSizesTest, EphemeralPlacement) {
  const VmSize& ds2 = *FindVmSize("Standard_DS2_v2");
  const VmSize& ds3 = *FindVmSize("Standard_DS3_v2");
  // The default size cannot hold the default OS disk: the seed's warning.
  EXPECT_FALSE(FitsEphemeral(ds2, kDefaultOsDiskSizeGb));
  EXPECT_EQ(EphemeralPlacementFor(ds2, 86), EphemeralPlacement::kCacheDisk);
  EXPECT_EQ(EphemeralPlacementFor(ds2, 87), EphemeralPlacement::kNone);
  EXPECT_EQ(EphemeralPlacementFor(ds3, 128), EphemeralPlacement::kCacheDisk);
  EXPECT_EQ(EphemeralPlacementFor(ds3, 173), EphemeralPlacement::kNone);
  // No cache: the temp disk takes it.
  const VmSize& d4ds = *FindVmSize("Standard_D4ds_v5");
  EXPECT_EQ(EphemeralPlacementFor(d4ds, 128), EphemeralPlacement::kResourceDisk);
  EXPECT_EQ(EphemeralPlacementFor(d4ds, 151), EphemeralPlacement::kNone);
  // Cache first, then the temp disk when it is the larger one.
  const VmSize& d2s = *FindVmSize("Standard_D2s_v3");
  EXPECT_EQ(EphemeralPlacementFor(d2s, 50), EphemeralPlacement::kCacheDisk);
  EXPECT_EQ(EphemeralPlacementFor(d2s, 51), EphemeralPlacement::kNone);
  // Sizes without ephemeral OS support never hold one.
  EXPECT_EQ(EphemeralPlacementFor(*FindVmSize("Standard_B4ms"), 30), EphemeralPlacement::kNone);
  EXPECT_EQ(EphemeralPlacementFor(*FindVmSize("Standard_D4s_v5"), 30), EphemeralPlacement::kNone);
  EXPECT_EQ(EphemeralPlacementFor(ds3, 0), EphemeralPlacement::kNone);
}

TEST(VmSizesTest, CapacityNamedInTheError) {
  // "The virtual machine size Standard_DS2_v2 has a cache size of 92341796864 bytes, ..."
  EXPECT_EQ(EphemeralCapacityBytes(*FindVmSize("Standard_DS2_v2")), 92341796864ull);
  EXPECT_EQ(EphemeralCapacityBytes(*FindVmSize("Standard_D4ds_v5")), 150ull << 30);
  EXPECT_EQ(EphemeralCapacityBytes(*FindVmSize("Standard_B2s")), 0u);
}

TEST(VmSizesTest, CatalogueIsConsistent) {
  for (const VmSize& s : VmSizes()) {
    EXPECT_GT(s.vcpus, 0) << s.name;
    EXPECT_GT(s.memory_gib, 0) << s.name;
    EXPECT_EQ(FindVmSize(s.name), &s) << "duplicate " << s.name;
    if (s.ephemeral_os) {
      EXPECT_GT(std::max(s.cache_gib, s.temp_gib), 0) << s.name;
    }
  }
}

}  // namespace
}  // namespace byok::containerservice
