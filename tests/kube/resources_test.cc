// Defaulting, status rules, validation wording and Event conversion (resources.h).
#include "kube/resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace byok::kube {
namespace {

using nlohmann::json;

const Kind& K(const char* group, const char* resource) { return *FindKind(group, "v1", resource); }

TEST(ResourcesTest, StorageClassDefaultsAndImmutability) {
  const Kind& sc = K("storage.k8s.io", "storageclasses");
  json obj = {{"metadata", {{"name", "byok"}}},
              {"provisioner", "disk.csi.azure.com"},
              {"parameters", {{"skuname", "StandardSSD_LRS"}}}};
  PrepareForCreate(sc, obj);
  EXPECT_EQ(obj["reclaimPolicy"], "Delete");
  EXPECT_EQ(obj["volumeBindingMode"], "Immediate");
  EXPECT_TRUE(ValidateCreate(sc, obj).empty());

  json changed = obj;
  changed["parameters"]["skuname"] = "Premium_LRS";
  auto errs = ValidateUpdate(sc, obj, changed);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(AggregateMessage(errs), "parameters: Forbidden: updates to parameters are forbidden.");
  json details = InvalidDetails(sc, "byok", errs);
  EXPECT_EQ(details["group"], "storage.k8s.io");
  EXPECT_EQ(details["kind"], "StorageClass");
  EXPECT_EQ(details["causes"][0],
            json({{"reason", "FieldValueForbidden"},
                  {"message", "Forbidden: updates to parameters are forbidden."},
                  {"field", "parameters"}}));
  EXPECT_EQ(QualifiedKind(sc), "StorageClass.storage.k8s.io");

  changed["provisioner"] = "x";
  changed["volumeBindingMode"] = "WaitForFirstConsumer";
  EXPECT_EQ(AggregateMessage(ValidateUpdate(sc, obj, changed)),
            "[parameters: Forbidden: updates to parameters are forbidden., provisioner: "
            "Forbidden: updates to provisioner are forbidden., volumeBindingMode: Invalid value: "
            "\"WaitForFirstConsumer\": field is immutable]");

  json bad = {{"metadata", {{"name", "Bad_Name"}}}, {"reclaimPolicy", "Keep"}};
  EXPECT_THAT(AggregateMessage(ValidateCreate(sc, bad)),
              ::testing::AllOf(::testing::HasSubstr("metadata.name: Invalid value: \"Bad_Name\": "
                                                    "a lowercase RFC 1123 subdomain"),
                               ::testing::HasSubstr("provisioner: Required value"),
                               ::testing::HasSubstr("reclaimPolicy: Unsupported value: \"Keep\": "
                                                    "supported values: \"Delete\", \"Retain\"")));
}

TEST(ResourcesTest, ClaimRules) {
  const Kind& pvc = K("", "persistentvolumeclaims");
  json claim = {
      {"metadata", {{"name", "data"}, {"namespace", "default"}}},
      {"spec",
       {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "5Gi"}}}}}}},
      {"status", {{"phase", "Bound"}}}};
  PrepareForCreate(pvc, claim);
  EXPECT_EQ(claim["spec"]["volumeMode"], "Filesystem");
  EXPECT_EQ(claim["status"], json({{"phase", "Pending"}}));  // client status dropped
  EXPECT_TRUE(ValidateCreate(pvc, claim).empty());

  json no_size = claim;
  no_size["spec"].erase("resources");
  no_size["spec"]["accessModes"] = json::array();
  EXPECT_EQ(AggregateMessage(ValidateCreate(pvc, no_size)),
            "[spec.accessModes: Required value: at least 1 access mode is required, "
            "spec.resources[storage]: Required value]");

  // Pending: the spec is immutable; a volumeName may be set once.
  json grown = claim;
  grown["spec"]["resources"]["requests"]["storage"] = "10Gi";
  EXPECT_EQ(AggregateMessage(ValidateUpdate(pvc, claim, grown)),
            "spec: Forbidden: spec is immutable after creation except resources.requests for "
            "bound claims");
  json named = claim;
  named["spec"]["volumeName"] = "pv-1";
  EXPECT_TRUE(ValidateUpdate(pvc, claim, named).empty());
  // Bound: growth allowed, shrinking refused.
  json bound = named;
  bound["status"]["phase"] = "Bound";
  grown = bound;
  grown["spec"]["resources"]["requests"]["storage"] = "10Gi";
  EXPECT_TRUE(ValidateUpdate(pvc, bound, grown).empty());
  json shrunk = bound;
  shrunk["spec"]["resources"]["requests"]["storage"] = "1Gi";
  EXPECT_EQ(AggregateMessage(ValidateUpdate(pvc, bound, shrunk)),
            "spec.resources.requests.storage: Forbidden: field can not be less than previous "
            "value");

  // Main-resource updates keep the stored status; status updates keep everything else.
  json put = bound;
  put["status"]["phase"] = "Lost";
  PrepareForUpdate(pvc, bound, put, false);
  EXPECT_EQ(put["status"]["phase"], "Bound");
  json status = bound;
  status["status"]["phase"] = "Lost";
  status["spec"]["volumeName"] = "changed";
  PrepareForUpdate(pvc, bound, status, true);
  EXPECT_EQ(status["status"]["phase"], "Lost");
  EXPECT_EQ(status["spec"]["volumeName"], "pv-1");
}

TEST(ResourcesTest, NamespacesAndVolumes) {
  const Kind& ns = K("", "namespaces");
  json team = {{"metadata", {{"name", "team-a"}}}};
  PrepareForCreate(ns, team);
  EXPECT_EQ(team["status"]["phase"], "Active");
  EXPECT_EQ(team["metadata"]["labels"]["kubernetes.io/metadata.name"], "team-a");
  json dotted = {{"metadata", {{"name", "a.b"}}}};
  EXPECT_THAT(AggregateMessage(ValidateCreate(ns, dotted)),
              ::testing::HasSubstr("a lowercase RFC 1123 label"));

  const Kind& pv = K("", "persistentvolumes");
  json vol = {{"metadata", {{"name", "pv-1"}}},
              {"spec",
               {{"capacity", {{"storage", "5Gi"}}},
                {"accessModes", {"ReadWriteOnce"}},
                {"csi", {{"driver", "disk.csi.azure.com"}, {"volumeHandle", "/x"}}}}}};
  PrepareForCreate(pv, vol);
  EXPECT_EQ(vol["spec"]["persistentVolumeReclaimPolicy"], "Retain");
  EXPECT_EQ(vol["status"]["phase"], "Pending");
  EXPECT_TRUE(ValidateCreate(pv, vol).empty());
  vol["spec"].erase("csi");
  EXPECT_EQ(AggregateMessage(ValidateCreate(pv, vol)),
            "spec: Required value: must specify a "
            "volume type");
}

TEST(ResourcesTest, Quantities) {
  EXPECT_EQ(*ParseQuantityValue("5Gi"), 5.0L * 1024 * 1024 * 1024);
  EXPECT_EQ(*ParseQuantityValue("1G"), 1e9L);
  EXPECT_EQ(*ParseQuantityValue("1e3"), 1000.0L);
  EXPECT_EQ(*ParseQuantityValue("1.5Ki"), 1536.0L);
  EXPECT_FALSE(ParseQuantityValue("Gi").has_value());
  EXPECT_FALSE(ParseQuantityValue("5GB").has_value());
}

TEST(ResourcesTest, UnknownFieldsAndEvents) {
  const Kind& sc = K("storage.k8s.io", "storageclasses");
  json obj = {{"metadata", {{"name", "x"}, {"nmae", "y"}}}, {"provisioner", "p"}, {"spec", 1}};
  EXPECT_THAT(UnknownFields(sc, obj),
              ::testing::ElementsAre("unknown field \"spec\"", "unknown field \"metadata.nmae\""));
  json core = {{"metadata", {{"name", "e"}}},
               {"involvedObject", {{"kind", "PersistentVolumeClaim"}}},
               {"message", "m"},
               {"count", 2},
               {"source", {{"component", "c"}}}};
  json v1 = EventsV1FromCoreEvent(core);
  EXPECT_EQ(v1["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(v1["note"], "m");
  EXPECT_EQ(v1["regarding"]["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(v1["deprecatedCount"], 2);
  json back = CoreEventFromEventsV1(v1);
  core["apiVersion"] = "v1";
  core["kind"] = "Event";
  EXPECT_EQ(back, core);
}

}  // namespace
}  // namespace byok::kube
