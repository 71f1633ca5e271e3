// The four patch types and the managedFields bookkeeping.
#include "kube/patch.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace byok::kube {
namespace {

using nlohmann::json;

const Kind& Pvc() { return *FindKind("", "v1", "persistentvolumeclaims"); }
TimePoint Now() { return TimePoint(std::chrono::seconds(1704164645)); }

TEST(PatchTest, ContentTypes) {
  EXPECT_EQ(PatchTypeFromContentType("application/json-patch+json"), PatchType::kJsonPatch);
  EXPECT_EQ(PatchTypeFromContentType("application/merge-patch+json; charset=utf-8"),
            PatchType::kMergePatch);
  EXPECT_EQ(PatchTypeFromContentType("application/strategic-merge-patch+json"),
            PatchType::kStrategicMergePatch);
  EXPECT_EQ(PatchTypeFromContentType("application/apply-patch+yaml"), PatchType::kApplyPatch);
  EXPECT_FALSE(PatchTypeFromContentType("application/json").has_value());
}

TEST(PatchTest, JsonPatch) {
  json doc = {{"metadata", {{"labels", {{"a", "1"}}}}}};
  auto r = ApplyJsonPatch(doc, json::parse(R"([{"op":"add","path":"/metadata/labels/b","value":"2"},
                                               {"op":"remove","path":"/metadata/labels/a"}])"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["metadata"]["labels"], json({{"b", "2"}}));
  EXPECT_FALSE(ApplyJsonPatch(doc, json::parse(R"([{"op":"test","path":"/x","value":1}])")).ok());
  EXPECT_FALSE(ApplyJsonPatch(doc, json::object()).ok());
}

TEST(PatchTest, MergePatch) {
  json doc = {{"a", {{"b", 1}, {"c", 2}}}, {"l", {1, 2}}};
  auto r = ApplyMergePatch(doc, {{"a", {{"b", nullptr}}}, {"l", {3}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json({{"a", {{"c", 2}}}, {"l", {3}}}));
}

TEST(PatchTest, StrategicMergesKeyedListsAndDirectives) {
  json doc = json::parse(R"({
    "metadata":{"finalizers":["a"],"labels":{"x":"1","y":"2"},
                "ownerReferences":[{"uid":"u1","name":"one"},{"uid":"u2","name":"two"}]},
    "spec":{"accessModes":["ReadWriteOnce"]},
    "status":{"conditions":[{"type":"Resizing","status":"True"},{"type":"Other","status":"False"}]}
  })");
  json patch = json::parse(R"({
    "metadata":{"finalizers":["b"],"labels":{"x":null,"z":"3"},
                "ownerReferences":[{"uid":"u2","name":"deux"},{"uid":"u1","$patch":"delete"}]},
    "spec":{"accessModes":["ReadOnlyMany"]},
    "status":{"conditions":[{"type":"Other","status":"True"}]}
  })");
  auto r = ApplyStrategicMergePatch(Pvc(), doc, patch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["metadata"]["finalizers"], json({"a", "b"}));
  EXPECT_EQ((*r)["metadata"]["labels"], json({{"y", "2"}, {"z", "3"}}));
  EXPECT_EQ((*r)["metadata"]["ownerReferences"], json::parse(R"([{"uid":"u2","name":"deux"}])"));
  EXPECT_EQ((*r)["spec"]["accessModes"], json({"ReadOnlyMany"}));
  EXPECT_EQ(
      (*r)["status"]["conditions"],
      json::parse(R"([{"type":"Resizing","status":"True"},{"type":"Other","status":"True"}])"));

  auto replaced = ApplyStrategicMergePatch(
      Pvc(), doc, json::parse(R"({"metadata":{"labels":{"$patch":"replace","only":"me"}}})"));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ((*replaced)["metadata"]["labels"], json({{"only", "me"}}));

  auto deleted = ApplyStrategicMergePatch(
      Pvc(), doc, json::parse(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]},
                      "spec":{"$retainKeys":["volumeMode"],"volumeMode":"Block"},
                      "status":{"$setElementOrder/conditions":[{"type":"Other"},{"type":"Resizing"}]}})"));
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ((*deleted)["metadata"]["finalizers"], json::array());
  EXPECT_EQ((*deleted)["spec"], json({{"volumeMode", "Block"}}));
  EXPECT_EQ((*deleted)["status"]["conditions"][0]["type"], "Other");

  EXPECT_FALSE(ApplyStrategicMergePatch(
                   Pvc(), doc, json::parse(R"({"status":{"conditions":[{"status":"x"}]}})"))
                   .ok());
}

TEST(PatchTest, ServerSideApplyTracksTheManagersFields) {
  json applied = json::parse(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim",
    "metadata":{"name":"c","labels":{"a":"1","b":"2"}},
    "spec":{"accessModes":["ReadWriteOnce"]}})");
  auto created = ServerSideApply(Pvc(), json(), applied, "kubectl", Now());
  ASSERT_TRUE(created.ok());
  const json& mf = (*created)["metadata"]["managedFields"];
  ASSERT_EQ(mf.size(), 1u);
  EXPECT_EQ(mf[0]["manager"], "kubectl");
  EXPECT_EQ(mf[0]["operation"], "Apply");
  EXPECT_EQ(mf[0]["time"], "2024-01-02T03:04:05Z");
  EXPECT_EQ(mf[0]["fieldsV1"]["f:metadata"]["f:labels"], json::parse(R"({"f:a":{},"f:b":{}})"));
  EXPECT_FALSE(mf[0]["fieldsV1"]["f:metadata"].contains("f:name"));

  // Another writer adds a label; the next apply drops "b" but keeps the other writer's label.
  json live = *created;
  live["metadata"]["labels"]["other"] = "x";
  json again = applied;
  again["metadata"]["labels"].erase("b");
  auto updated = ServerSideApply(Pvc(), live, again, "kubectl", Now());
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)["metadata"]["labels"], json({{"a", "1"}, {"other", "x"}}));
  EXPECT_EQ((*updated)["metadata"]["managedFields"].size(), 1u);
}

TEST(PatchTest, RecordUpdateManager) {
  json before = {{"metadata", {{"name", "c"}}}, {"spec", {{"x", 1}}}};
  json after = before;
  after["spec"]["y"] = 2;
  RecordUpdateManager(Pvc(), before, after, "kubectl-edit", Now());
  ASSERT_EQ(after["metadata"]["managedFields"].size(), 1u);
  EXPECT_EQ(after["metadata"]["managedFields"][0]["operation"], "Update");
  EXPECT_EQ(after["metadata"]["managedFields"][0]["fieldsV1"],
            json::parse(R"({"f:spec":{"f:y":{}}})"));
  json unchanged = after;
  RecordUpdateManager(Pvc(), after, unchanged, "other", Now());
  EXPECT_EQ(unchanged["metadata"]["managedFields"].size(), 1u);
}

}  // namespace
}  // namespace byok::kube
