// ObjectStore: bookkeeping (uid, timestamps, resourceVersion, generation), scopes, case rules,
// conflicts, namespace cascade, built-ins and the change feed.
#include "kube/object_store.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube/store_fixture_helpers.h"

namespace byok::kube {
namespace {

using nlohmann::json;

class ObjectStoreTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    objects_ = std::make_unique<ObjectStore>(ObjectStoreDeps{store_.get(), &clock_, &random_});
  }
  void TearDown() override {
    objects_.reset();
    StoreFixture::TearDown();
  }

  static const Kind& K(const char* group, const char* resource) {
    const Kind* k = FindKind(group, "v1", resource);
    EXPECT_NE(k, nullptr) << resource;
    return *k;
  }
  static const Kind& Ns() { return K("", "namespaces"); }
  static const Kind& Pvc() { return K("", "persistentvolumeclaims"); }
  static const Kind& Sc() { return K("storage.k8s.io", "storageclasses"); }

  json Namespace(const std::string& name) { return {{"metadata", {{"name", name}}}}; }
  json Claim(const std::string& ns, const std::string& name) {
    return {{"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec", {{"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  }

  static constexpr char kCluster[] = "c1";
  std::unique_ptr<ObjectStore> objects_;
};

TEST_F(ObjectStoreTest, CreateSetsBookkeeping) {
  auto sc = objects_->Create(kCluster, Sc(),
                             {{"metadata", {{"name", "byok"}}}, {"provisioner", "x.example"}});
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  EXPECT_EQ((*sc)["apiVersion"], "storage.k8s.io/v1");
  EXPECT_EQ((*sc)["kind"], "StorageClass");
  EXPECT_EQ((*sc)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ((*sc)["metadata"]["generation"], 1);
  EXPECT_EQ((*sc)["metadata"]["creationTimestamp"], "2024-01-02T03:04:05Z");
  EXPECT_EQ((*sc)["metadata"]["uid"].get<std::string>().size(), 36u);
  auto got = objects_->Get(kCluster, Sc(), "", "byok");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, *sc);
  EXPECT_EQ(*objects_->CurrentResourceVersion(kCluster), 1);
  EXPECT_EQ(*objects_->CurrentResourceVersion("other"), 0);
}

TEST_F(ObjectStoreTest, CreateRefusesDuplicatesAndCaseVariants) {
  ASSERT_TRUE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "byok"}}}}).ok());
  auto again = objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "byok"}}}});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  auto upper = objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "BYOK"}}}});
  EXPECT_EQ(upper.status().code(), StatusCode::kAlreadyExists);
  // Names are case-sensitive on the way in: "BYOK" is not "byok".
  EXPECT_EQ(objects_->Get(kCluster, Sc(), "", "BYOK").status().code(), StatusCode::kNotFound);
}

TEST_F(ObjectStoreTest, ScopeAndNameChecks) {
  EXPECT_EQ(objects_->Create(kCluster, Sc(), {{"metadata", json::object()}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(objects_->Create(kCluster, Pvc(), {{"metadata", {{"name", "a"}}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "a"}, {"namespace", "x"}}}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  // The namespace must exist.
  EXPECT_EQ(objects_->Create(kCluster, Pvc(), Claim("nope", "a")).status().code(),
            StatusCode::kNotFound);
}

TEST_F(ObjectStoreTest, GenerateName) {
  auto obj = objects_->Create(kCluster, Ns(), {{"metadata", {{"generateName", "test-"}}}});
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  std::string name = (*obj)["metadata"]["name"];
  EXPECT_EQ(name.size(), 10u);
  EXPECT_EQ(name.substr(0, 5), "test-");
}

TEST_F(ObjectStoreTest, UpdateConflictGenerationAndNoop) {
  auto created =
      objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "byok"}}}, {"provisioner", "a"}});
  ASSERT_TRUE(created.ok());
  json obj = *created;
  obj["metadata"]["labels"] = {{"x", "y"}};
  auto updated = objects_->Update(kCluster, Sc(), obj);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["metadata"]["resourceVersion"], "2");
  EXPECT_EQ((*updated)["metadata"]["generation"], 1);  // metadata only
  EXPECT_EQ((*updated)["metadata"]["uid"], (*created)["metadata"]["uid"]);

  // Stale resourceVersion → conflict.
  obj["provisioner"] = "b";
  auto stale = objects_->Update(kCluster, Sc(), obj);
  EXPECT_EQ(stale.status().code(), StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(),
              ::testing::HasSubstr("Operation cannot be fulfilled on storageclasses.storage.k8s.io "
                                   "\"byok\": the object has been modified"));

  // Without a resourceVersion: unconditional; a spec change bumps generation; uid and
  // creationTimestamp from the client are ignored.
  obj["metadata"].erase("resourceVersion");
  obj["metadata"]["uid"] = "forged";
  obj["metadata"]["creationTimestamp"] = "1999-01-01T00:00:00Z";
  auto spec = objects_->Update(kCluster, Sc(), obj);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ((*spec)["metadata"]["generation"], 2);
  EXPECT_EQ((*spec)["metadata"]["resourceVersion"], "3");
  EXPECT_EQ((*spec)["metadata"]["uid"], (*created)["metadata"]["uid"]);
  EXPECT_EQ((*spec)["metadata"]["creationTimestamp"], "2024-01-02T03:04:05Z");

  // The same object again: nothing written.
  auto noop = objects_->Update(kCluster, Sc(), *spec);
  ASSERT_TRUE(noop.ok());
  EXPECT_EQ((*noop)["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(*objects_->CurrentResourceVersion(kCluster), 3);

  json missing = {{"metadata", {{"name", "nope"}}}};
  EXPECT_EQ(objects_->Update(kCluster, Sc(), missing).status().code(), StatusCode::kNotFound);
}

TEST_F(ObjectStoreTest, ModifyRetriesAndPropagatesErrors) {
  ASSERT_TRUE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "byok"}}}}).ok());
  int calls = 0;
  auto r = objects_->Modify(kCluster, Sc(), "", "byok", [&](json o) -> Result<json> {
    if (++calls == 1) {
      // A concurrent writer wins the first round.
      json other = o;
      other["metadata"]["labels"] = {{"w", "1"}};
      EXPECT_TRUE(objects_->Update(kCluster, Sc(), other).ok());
    }
    o["provisioner"] = "m";
    return o;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ((*r)["provisioner"], "m");
  EXPECT_EQ((*r)["metadata"]["labels"]["w"], "1");

  auto err = objects_->Modify(kCluster, Sc(), "", "byok",
                              [](json) -> Result<json> { return Status::InvalidArgument("no"); });
  EXPECT_EQ(err.status(), Status::InvalidArgument("no"));
  EXPECT_EQ(objects_->Modify(kCluster, Sc(), "", "x", [](json o) -> Result<json> { return o; })
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(ObjectStoreTest, ListSortsAndFiltersByNamespace) {
  ASSERT_TRUE(objects_->Create(kCluster, Ns(), Namespace("b")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Ns(), Namespace("a")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Ns(), Namespace("a-b")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Pvc(), Claim("b", "z")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Pvc(), Claim("a", "y")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Pvc(), Claim("a-b", "x")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Pvc(), Claim("a", "w")).ok());
  auto all = objects_->List(kCluster, Pvc());
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (const json& o : all->items) {
    names.push_back(o["metadata"]["namespace"].get<std::string>() + "/" +
                    o["metadata"]["name"].get<std::string>());
  }
  EXPECT_THAT(names, ::testing::ElementsAre("a/w", "a/y", "a-b/x", "b/z"));
  EXPECT_EQ(all->resource_version, 7);
  auto in_a = objects_->List(kCluster, Pvc(), "a");
  ASSERT_TRUE(in_a.ok());
  EXPECT_EQ(in_a->items.size(), 2u);
  // Another cluster sees nothing.
  EXPECT_TRUE(objects_->List("c2", Pvc())->items.empty());
}

TEST_F(ObjectStoreTest, DeleteReturnsObjectAndCascadesNamespaces) {
  ASSERT_TRUE(objects_->Create(kCluster, Ns(), Namespace("app")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Ns(), Namespace("apps")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Pvc(), Claim("app", "data")).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Pvc(), Claim("apps", "data")).ok());
  auto del = objects_->Delete(kCluster, Pvc(), "apps", "data");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ((*del)["metadata"]["resourceVersion"], "5");
  EXPECT_EQ(objects_->Get(kCluster, Pvc(), "apps", "data").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(objects_->Delete(kCluster, Pvc(), "apps", "data").status().code(),
            StatusCode::kNotFound);

  std::vector<std::string> deleted;
  objects_->Subscribe(kCluster, [&](std::string_view, const WatchEvent& e) {
    if (e.type == "DELETED") deleted.push_back(e.kind->resource);
  });
  ASSERT_TRUE(objects_->Delete(kCluster, Ns(), "", "app").ok());
  EXPECT_THAT(deleted, ::testing::ElementsAre("persistentvolumeclaims", "namespaces"));
  EXPECT_TRUE(objects_->List(kCluster, Pvc())->items.empty());
  EXPECT_EQ(objects_->List(kCluster, Ns())->items.size(), 1u);
}

TEST_F(ObjectStoreTest, EventsGroupSharesCoreEvents) {
  ASSERT_TRUE(objects_->Create(kCluster, Ns(), Namespace("default")).ok());
  json ev = {{"metadata", {{"name", "e1"}, {"namespace", "default"}}}, {"reason", "R"}};
  ASSERT_TRUE(objects_->Create(kCluster, K("", "events"), ev).ok());
  auto via_group = objects_->List(kCluster, K("events.k8s.io", "events"));
  ASSERT_TRUE(via_group.ok());
  ASSERT_EQ(via_group->items.size(), 1u);
  EXPECT_EQ(via_group->items[0]["apiVersion"], "v1");
}

TEST_F(ObjectStoreTest, BuiltinsOnce) {
  ASSERT_TRUE(objects_->EnsureBuiltins(kCluster).ok());
  auto ns = objects_->List(kCluster, Ns());
  ASSERT_TRUE(ns.ok());
  std::vector<std::string> names;
  for (const json& o : ns->items) names.push_back(o["metadata"]["name"]);
  EXPECT_THAT(names,
              ::testing::ElementsAre("default", "kube-node-lease", "kube-public", "kube-system"));
  auto def = objects_->Get(kCluster, Sc(), "", "default");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ((*def)["provisioner"], "disk.csi.azure.com");
  EXPECT_EQ((*def)["parameters"]["skuname"], "StandardSSD_LRS");
  EXPECT_EQ((*def)["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
            "true");
  EXPECT_EQ((*def)["volumeBindingMode"], "WaitForFirstConsumer");
  auto premium = objects_->Get(kCluster, Sc(), "", "managed-csi-premium");
  ASSERT_TRUE(premium.ok());
  EXPECT_EQ((*premium)["parameters"]["skuname"], "Premium_LRS");
  auto file = objects_->Get(kCluster, Sc(), "", "azurefile-csi");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)["provisioner"], "file.csi.azure.com");
  int64_t rv = *objects_->CurrentResourceVersion(kCluster);

  // A deleted built-in stays deleted (a marker, not a reconcile) — also for a new ObjectStore.
  ASSERT_TRUE(objects_->Delete(kCluster, Sc(), "", "managed").ok());
  ASSERT_TRUE(objects_->EnsureBuiltins(kCluster).ok());
  ObjectStore fresh(ObjectStoreDeps{store_.get(), &clock_, &random_});
  ASSERT_TRUE(fresh.EnsureBuiltins(kCluster).ok());
  EXPECT_EQ(*objects_->CurrentResourceVersion(kCluster), rv + 1);
  EXPECT_EQ(objects_->Get(kCluster, Sc(), "", "managed").status().code(), StatusCode::kNotFound);
}

TEST_F(ObjectStoreTest, ChangeFeedInOrderIncludingNestedWrites) {
  std::vector<std::string> all;
  std::vector<std::string> c1;
  uint64_t h_all = objects_->Subscribe("", [&](std::string_view uid, const WatchEvent& e) {
    all.push_back(std::string(uid) + ":" + e.type + ":" +
                  e.object["metadata"]["name"].get<std::string>() + ":" +
                  std::to_string(e.resource_version));
  });
  objects_->Subscribe(kCluster, [&](std::string_view, const WatchEvent& e) {
    c1.push_back(e.type + ":" + e.object["metadata"]["name"].get<std::string>());
    // A controller reacting to an event with a write of its own.
    if (e.type == "ADDED" && e.object["metadata"]["name"] == "trigger") {
      EXPECT_TRUE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "reaction"}}}}).ok());
    }
  });
  ASSERT_TRUE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "trigger"}}}}).ok());
  ASSERT_TRUE(objects_->Create("c2", Sc(), {{"metadata", {{"name", "other"}}}}).ok());
  json t = *objects_->Get(kCluster, Sc(), "", "trigger");
  t["provisioner"] = "p";
  ASSERT_TRUE(objects_->Update(kCluster, Sc(), t).ok());
  ASSERT_TRUE(objects_->Delete(kCluster, Sc(), "", "trigger").ok());
  EXPECT_THAT(
      all, ::testing::ElementsAre("c1:ADDED:trigger:1", "c1:ADDED:reaction:2", "c2:ADDED:other:1",
                                  "c1:MODIFIED:trigger:3", "c1:DELETED:trigger:4"));
  EXPECT_THAT(c1, ::testing::ElementsAre("ADDED:trigger", "ADDED:reaction", "MODIFIED:trigger",
                                         "DELETED:trigger"));
  objects_->Unsubscribe(h_all);
  ASSERT_TRUE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "late"}}}}).ok());
  EXPECT_EQ(all.size(), 5u);
  // Failed writes publish nothing.
  EXPECT_FALSE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "late"}}}}).ok());
  EXPECT_EQ(c1.size(), 5u);
}

TEST_F(ObjectStoreTest, ForgetClusterDropsOnlyThatClustersReplay) {
  ASSERT_TRUE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "a"}}}}).ok());
  ASSERT_TRUE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "b"}}}}).ok());
  ASSERT_TRUE(objects_->Create("c2", Sc(), {{"metadata", {{"name", "x"}}}}).ok());
  auto noop = [](std::string_view, const WatchEvent&) {};
  auto before = objects_->Watch(kCluster, 0, noop);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->replay.size(), 2u);
  objects_->Unsubscribe(before->handle);

  objects_->ForgetCluster(kCluster);
  // The objects stay (deleting them is the caller's transaction); their events are not replayed.
  auto after = objects_->Watch(kCluster, 0, noop);
  EXPECT_EQ(after.status().code(), StatusCode::kOutOfRange) << after.status().ToString();
  auto current = objects_->Watch(kCluster, 2, noop);
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  EXPECT_TRUE(current->replay.empty());
  objects_->Unsubscribe(current->handle);
  // Another cluster keeps its replay.
  auto other = objects_->Watch("c2", 0, noop);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->replay.size(), 1u);
  objects_->Unsubscribe(other->handle);
  // New writes of the uid are kept again.
  ASSERT_TRUE(objects_->Create(kCluster, Sc(), {{"metadata", {{"name", "c"}}}}).ok());
  auto resumed = objects_->Watch(kCluster, 2, noop);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_EQ(resumed->replay.size(), 1u);
  EXPECT_EQ(resumed->replay[0].object["metadata"]["name"], "c");
  objects_->Unsubscribe(resumed->handle);
  objects_->ForgetCluster("unknown");  // no-op
}

}  // namespace
}  // namespace byok::kube
