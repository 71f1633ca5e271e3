// The served kinds registry: the table, lookups by resource and by apiVersion/kind.
#include "kube/kinds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace byok::kube {
namespace {

using ::testing::ElementsAre;

TEST(KindsTest, TableInDiscoveryOrder) {
  std::vector<std::string> names;
  for (const Kind& k : ServedKinds()) names.push_back(k.ApiVersion() + "/" + k.resource);
  EXPECT_THAT(names, ElementsAre("v1/namespaces", "v1/nodes", "v1/persistentvolumes",
                                 "v1/persistentvolumeclaims", "v1/pods", "v1/events",
                                 "storage.k8s.io/v1/storageclasses",
                                 "storage.k8s.io/v1/volumeattachments", "events.k8s.io/v1/events"));
}

TEST(KindsTest, PersistentVolumeClaimFacts) {
  const Kind* k = FindKind("", "v1", "persistentvolumeclaims");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->kind, "PersistentVolumeClaim");
  EXPECT_EQ(k->list_kind, "PersistentVolumeClaimList");
  EXPECT_EQ(k->singular, "persistentvolumeclaim");
  EXPECT_TRUE(k->namespaced);
  EXPECT_THAT(k->short_names, ElementsAre("pvc"));
  EXPECT_THAT(k->subresources, ElementsAre("status"));
  EXPECT_THAT(k->verbs, ElementsAre("create", "delete", "deletecollection", "get", "list", "patch",
                                    "update", "watch"));
  EXPECT_FALSE(k->read_only);
  EXPECT_EQ(k->ApiVersion(), "v1");
}

TEST(KindsTest, NodesAreReadOnly) {
  const Kind* k = FindKind("", "v1", "nodes");
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->read_only);
  EXPECT_FALSE(k->namespaced);
  EXPECT_THAT(k->verbs, ElementsAre("get", "list", "watch"));
  EXPECT_THAT(k->short_names, ElementsAre("no"));
}

TEST(KindsTest, StorageClassAndVolumeAttachment) {
  const Kind* sc = FindKind("storage.k8s.io", "v1", "storageclasses");
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ(sc->ApiVersion(), "storage.k8s.io/v1");
  EXPECT_THAT(sc->short_names, ElementsAre("sc"));
  EXPECT_FALSE(sc->namespaced);
  const Kind* va = FindKind("storage.k8s.io", "v1", "volumeattachments");
  ASSERT_NE(va, nullptr);
  EXPECT_TRUE(va->short_names.empty());
  EXPECT_THAT(va->subresources, ElementsAre("status"));
}

TEST(KindsTest, NamespacesHaveNoDeleteCollection) {
  const Kind* k = FindKind("", "v1", "namespaces");
  ASSERT_NE(k, nullptr);
  EXPECT_THAT(k->verbs, ::testing::Not(::testing::Contains("deletecollection")));
}

TEST(KindsTest, LookupsAreExact) {
  EXPECT_EQ(FindKind("", "v1", "PersistentVolumeClaims"), nullptr);
  EXPECT_EQ(FindKind("", "v1beta1", "persistentvolumeclaims"), nullptr);
  EXPECT_EQ(FindKind("storage.k8s.io", "v1", "persistentvolumeclaims"), nullptr);
  EXPECT_EQ(FindKind("", "v1", "Pods"), nullptr);
  EXPECT_EQ(FindKind("", "v1", "deployments"), nullptr);
}

TEST(KindsTest, FindByName) {
  const Kind* sc = FindKindByName("storage.k8s.io/v1", "StorageClass");
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ(sc->resource, "storageclasses");
  EXPECT_EQ(FindKindByName("v1", "StorageClass"), nullptr);
  EXPECT_EQ(FindKindByName("storage.k8s.io/v1beta1", "StorageClass"), nullptr);
  const Kind* core_event = FindKindByName("v1", "Event");
  const Kind* events_event = FindKindByName("events.k8s.io/v1", "Event");
  ASSERT_NE(core_event, nullptr);
  ASSERT_NE(events_event, nullptr);
  EXPECT_NE(core_event, events_event);
  EXPECT_EQ(events_event->group, "events.k8s.io");
}

TEST(KindsTest, GroupVersions) {
  EXPECT_THAT(ServedGroupVersions(), ElementsAre("v1", "storage.k8s.io/v1", "events.k8s.io/v1"));
}

}  // namespace
}  // namespace byok::kube
