// OpenAPI v3 documents: the index, paths with their operations and extensions, and the schemas
// `kubectl explain` walks.
#include "kube/openapi.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace byok::kube {
namespace {

using nlohmann::json;

constexpr char kRefPrefix[] = "#/components/schemas/";

// Follows a property's reference ({"allOf":[{"$ref":...}]} or {"$ref":...}) to its schema.
const json& Resolve(const json& doc, const json& property) {
  std::string ref;
  if (property.contains("allOf")) {
    ref = property["allOf"][0]["$ref"];
  } else if (property.contains("$ref")) {
    ref = property["$ref"];
  } else {
    return property;
  }
  EXPECT_EQ(ref.rfind(kRefPrefix, 0), 0u) << ref;
  const json& schemas = doc["components"]["schemas"];
  std::string name = ref.substr(sizeof(kRefPrefix) - 1);
  EXPECT_TRUE(schemas.contains(name)) << name;
  return schemas[name];
}

// The schema with this group-version-kind, as kubectl explain finds it.
const json* FindByGvk(const json& doc, std::string_view group, std::string_view kind) {
  for (const auto& [name, schema] : doc["components"]["schemas"].items()) {
    if (!schema.contains("x-kubernetes-group-version-kind")) continue;
    for (const auto& gvk : schema["x-kubernetes-group-version-kind"]) {
      if (gvk["group"] == group && gvk["kind"] == kind && gvk["version"] == "v1") return &schema;
    }
  }
  return nullptr;
}

void ExpectRefsResolve(const json& doc, const json& j) {
  if (j.is_object()) {
    if (j.contains("$ref")) {
      std::string ref = j["$ref"];
      ASSERT_EQ(ref.rfind(kRefPrefix, 0), 0u) << ref;
      EXPECT_TRUE(doc["components"]["schemas"].contains(ref.substr(sizeof(kRefPrefix) - 1))) << ref;
    }
    for (const auto& [k, v] : j.items()) ExpectRefsResolve(doc, v);
  } else if (j.is_array()) {
    for (const auto& v : j) ExpectRefsResolve(doc, v);
  }
}

TEST(OpenApiTest, Index) {
  const json& index = OpenApiIndex();
  ASSERT_TRUE(index["paths"].is_object());
  EXPECT_EQ(index["paths"].size(), 3u);
  for (const char* gv : {"api/v1", "apis/storage.k8s.io/v1", "apis/events.k8s.io/v1"}) {
    std::string url = index["paths"][gv]["serverRelativeURL"];
    std::string hash = OpenApiDocumentHash(gv);
    EXPECT_EQ(hash.size(), 64u);
    EXPECT_EQ(url, std::string("/openapi/v3/") + gv + "?hash=" + hash);
  }
  EXPECT_EQ(OpenApiDocumentHash("apis/apps/v1"), "");
}

TEST(OpenApiTest, UnknownDocuments) {
  EXPECT_FALSE(OpenApiDocument("apis/apps/v1").has_value());
  EXPECT_FALSE(OpenApiDocument("/api/v1").has_value());
  EXPECT_FALSE(OpenApiDocument("v2").has_value());
}

TEST(OpenApiTest, EveryRefResolves) {
  for (const char* gv : {"api/v1", "apis/storage.k8s.io/v1", "apis/events.k8s.io/v1"}) {
    auto doc = OpenApiDocument(gv);
    ASSERT_TRUE(doc.has_value()) << gv;
    EXPECT_EQ((*doc)["openapi"], "3.0.0");
    ExpectRefsResolve(*doc, *doc);
    // No short names left unexpanded.
    EXPECT_EQ(doc->dump().find("\"$ref\":\"core."), std::string::npos);
    EXPECT_EQ(doc->dump().find("\"$ref\":\"meta."), std::string::npos);
  }
}

TEST(OpenApiTest, StorageClassPatchOperation) {
  auto doc = OpenApiDocument("apis/storage.k8s.io/v1");
  ASSERT_TRUE(doc.has_value());
  const json& item = (*doc)["paths"]["/apis/storage.k8s.io/v1/storageclasses/{name}"];
  ASSERT_TRUE(item.contains("patch"));
  const json& patch = item["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"],
            (json{{"group", "storage.k8s.io"}, {"version", "v1"}, {"kind", "StorageClass"}}));
  EXPECT_EQ(patch["x-kubernetes-action"], "patch");
  EXPECT_EQ(patch["operationId"], "patchStorageV1StorageClass");
  bool field_validation = false;
  for (const auto& p : patch["parameters"]) {
    field_validation = field_validation || p["name"] == "fieldValidation";
  }
  EXPECT_TRUE(field_validation);
  EXPECT_TRUE(patch["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
  EXPECT_TRUE(patch["requestBody"]["content"].contains("application/apply-patch+yaml"));
  const json& coll = (*doc)["paths"]["/apis/storage.k8s.io/v1/storageclasses"];
  EXPECT_EQ(coll["get"]["operationId"], "listStorageV1StorageClass");
  EXPECT_EQ(coll["post"]["x-kubernetes-action"], "post");
  EXPECT_EQ(coll["delete"]["x-kubernetes-action"], "deletecollection");
  EXPECT_FALSE((*doc)["paths"].contains("/apis/storage.k8s.io/v1/storageclasses/{name}/status"));
  EXPECT_TRUE((*doc)["paths"].contains("/apis/storage.k8s.io/v1/volumeattachments/{name}/status"));
}

TEST(OpenApiTest, CorePaths) {
  auto doc = OpenApiDocument("api/v1");
  ASSERT_TRUE(doc.has_value());
  const json& paths = (*doc)["paths"];
  ASSERT_TRUE(paths.contains("/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"));
  const json& pvc = paths["/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"];
  EXPECT_EQ(pvc["patch"]["operationId"], "patchCoreV1NamespacedPersistentVolumeClaim");
  EXPECT_EQ(pvc["parameters"][0]["name"], "namespace");
  EXPECT_TRUE(paths.contains("/api/v1/persistentvolumeclaims"));
  EXPECT_EQ(paths["/api/v1/persistentvolumeclaims"]["get"]["operationId"],
            "listCoreV1PersistentVolumeClaimForAllNamespaces");
  EXPECT_TRUE(
      paths.contains("/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}/status"));
  // Nodes are read-only: no writes documented.
  const json& node = paths["/api/v1/nodes/{name}"];
  EXPECT_TRUE(node.contains("get"));
  EXPECT_FALSE(node.contains("patch"));
  EXPECT_FALSE(paths["/api/v1/nodes"].contains("post"));
  // Namespaces have no deletecollection.
  EXPECT_FALSE(paths["/api/v1/namespaces"].contains("delete"));
  EXPECT_TRUE(paths["/api/v1/namespaces"].contains("post"));
}

TEST(OpenApiTest, ExplainStorageClassParameters) {
  auto doc = OpenApiDocument("apis/storage.k8s.io/v1");
  ASSERT_TRUE(doc.has_value());
  const json* sc = FindByGvk(*doc, "storage.k8s.io", "StorageClass");
  ASSERT_NE(sc, nullptr);
  EXPECT_THAT((*sc)["description"].get<std::string>(), ::testing::HasSubstr("provisioner"));
  EXPECT_EQ((*sc)["required"], json::array({"provisioner"}));
  const json& params = (*sc)["properties"]["parameters"];
  EXPECT_EQ(params["type"], "object");
  EXPECT_EQ(params["additionalProperties"]["type"], "string");
  EXPECT_THAT(params["description"].get<std::string>(),
              ::testing::HasSubstr("diskEncryptionSetID"));
  const json& meta = Resolve(*doc, (*sc)["properties"]["metadata"]);
  EXPECT_TRUE(meta["properties"].contains("annotations"));
  const json& owners = meta["properties"]["ownerReferences"];
  EXPECT_EQ(owners["x-kubernetes-patch-merge-key"], "uid");
  EXPECT_EQ(owners["x-kubernetes-patch-strategy"], "merge");
  EXPECT_TRUE(Resolve(*doc, owners["items"])["properties"].contains("uid"));
  EXPECT_NE(FindByGvk(*doc, "storage.k8s.io", "StorageClassList"), nullptr);
  EXPECT_NE(FindByGvk(*doc, "storage.k8s.io", "VolumeAttachment"), nullptr);
}

TEST(OpenApiTest, ExplainPvcSpec) {
  auto doc = OpenApiDocument("api/v1");
  ASSERT_TRUE(doc.has_value());
  const json* pvc = FindByGvk(*doc, "", "PersistentVolumeClaim");
  ASSERT_NE(pvc, nullptr);
  const json& spec = Resolve(*doc, (*pvc)["properties"]["spec"]);
  EXPECT_FALSE(spec["description"].get<std::string>().empty());
  for (const char* field : {"accessModes", "resources", "storageClassName", "volumeMode",
                            "volumeName", "selector", "dataSource", "dataSourceRef"}) {
    ASSERT_TRUE(spec["properties"].contains(field)) << field;
    EXPECT_FALSE(spec["properties"][field]["description"].get<std::string>().empty()) << field;
  }
  const json& resources = Resolve(*doc, spec["properties"]["resources"]);
  const json& requests = resources["properties"]["requests"];
  EXPECT_EQ(Resolve(*doc, requests["additionalProperties"])["type"], "string");
  const json& status = Resolve(*doc, (*pvc)["properties"]["status"]);
  EXPECT_EQ(status["properties"]["conditions"]["x-kubernetes-patch-merge-key"], "type");
  for (const char* kind : {"Namespace", "Node", "PersistentVolume", "Event", "NodeList"}) {
    EXPECT_NE(FindByGvk(*doc, "", kind), nullptr) << kind;
  }
}

TEST(OpenApiTest, EventsDocument) {
  auto doc = OpenApiDocument("apis/events.k8s.io/v1");
  ASSERT_TRUE(doc.has_value());
  const json* ev = FindByGvk(*doc, "events.k8s.io", "Event");
  ASSERT_NE(ev, nullptr);
  EXPECT_TRUE((*ev)["properties"].contains("regarding"));
  EXPECT_TRUE((*ev)["properties"].contains("note"));
  EXPECT_TRUE((*doc)["paths"].contains("/apis/events.k8s.io/v1/namespaces/{namespace}/events"));
  EXPECT_TRUE((*doc)["paths"].contains("/apis/events.k8s.io/v1/events"));
}

}  // namespace
}  // namespace byok::kube
