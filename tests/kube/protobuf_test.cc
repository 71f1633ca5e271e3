// Protobuf request bodies (kube/protobuf.h): the exact body kubectl 1.32 sends for `kubectl create
// namespace`, every field of the Namespace schema from bodies assembled here field by field, the
// errors, and the REST layer creating a namespace from such a body.
#include "kube/protobuf.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube/store_fixture_helpers.h"

namespace byok::kube {
namespace {

using nlohmann::json;

// Protobuf wire encoding, written out here so the tests do not share the decoder's schema.
std::string Varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<char>(v != 0 ? (b | 0x80) : b));
  } while (v != 0);
  return out;
}
std::string Bytes(int field, std::string_view value) {  // wire type 2
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(value.size()) + std::string(value);
}
std::string Int(int field, uint64_t value) {  // wire type 0
  return Varint(static_cast<uint64_t>(field) << 3) + Varint(value);
}
std::string MapEntry(int field, std::string_view key, std::string_view value) {
  return Bytes(field, Bytes(1, key) + Bytes(2, value));
}
std::string Envelope(std::string_view api_version, std::string_view kind, std::string_view raw,
                     std::string_view encoding = "") {
  std::string out("k8s\0", 4);
  out += Bytes(1, Bytes(1, api_version) + Bytes(2, kind));
  out += Bytes(2, raw);
  if (!encoding.empty()) out += Bytes(3, encoding);
  return out;
}

// What kubectl v1.32.4 sent for `kubectl create namespace foo` (captured; also a fuzz seed).
std::string KubectlCreateNamespace() {
  std::ifstream in(
      std::string(BYOK_SOURCE_DIR) + "/fuzz/corpus/kube_protobuf/kubectl_create_namespace",
      std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return body;
}
const std::string kKubectlCreateNamespace = KubectlCreateNamespace();

TEST(ProtobufTest, KubectlCreateNamespace) {
  ASSERT_EQ(kKubectlCreateNamespace.size(), 54u);
  auto j = DecodeProtobufObject(kKubectlCreateNamespace);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(*j, json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": "foo"}, "spec": {}, "status": {}})"));
}

TEST(ProtobufTest, EveryNamespaceField) {
  std::string time = Int(1, 1700000000) + Int(2, 5);  // nanos are dropped, as in JSON
  std::string owner = Bytes(5, "v1") + Bytes(1, "ConfigMap") + Bytes(3, "cm") + Bytes(4, "u-1") +
                      Int(6, 0) + Int(7, 1);
  std::string managed = Bytes(1, "kubectl") + Bytes(2, "Update") + Bytes(3, "v1") +
                        Bytes(4, Int(1, 1700000001)) + Bytes(6, "FieldsV1") +
                        Bytes(7, Bytes(1, R"({"f:metadata":{"f:labels":{}}})")) + Bytes(8, "");
  std::string meta = Bytes(1, "") + Bytes(2, "team-") + Bytes(3, "") + Bytes(5, "") + Int(7, 3) +
                     Bytes(8, time) + Bytes(9, "") + Int(10, 0) + MapEntry(11, "team", "a") +
                     MapEntry(11, "env", "dev") + MapEntry(12, "note", "x") + Bytes(13, owner) +
                     Bytes(14, "example.com/f") + Bytes(17, managed) +
                     Bytes(99, "a field byok has no schema for");
  std::string condition = Bytes(1, "NamespaceDeletionContentFailure") + Bytes(2, "False") +
                          Bytes(4, Int(1, 86400)) + Bytes(5, "ContentDeleted") + Bytes(6, "ok");
  std::string ns = Bytes(1, meta) + Bytes(2, Bytes(1, "kubernetes")) +
                   Bytes(3, Bytes(1, "Active") + Bytes(2, condition));
  auto j = DecodeProtobufObject(Envelope("v1", "Namespace", ns));
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(*j, json::parse(R"({
    "apiVersion": "v1", "kind": "Namespace",
    "metadata": {
      "generateName": "team-", "generation": 3, "creationTimestamp": "2023-11-14T22:13:20Z",
      "deletionGracePeriodSeconds": 0,
      "labels": {"team": "a", "env": "dev"}, "annotations": {"note": "x"},
      "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "u-1",
                           "controller": false, "blockOwnerDeletion": true}],
      "finalizers": ["example.com/f"],
      "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                         "time": "2023-11-14T22:13:21Z", "fieldsType": "FieldsV1",
                         "fieldsV1": {"f:metadata": {"f:labels": {}}}}]},
    "spec": {"finalizers": ["kubernetes"]},
    "status": {"phase": "Active",
               "conditions": [{"type": "NamespaceDeletionContentFailure", "status": "False",
                               "lastTransitionTime": "1970-01-02T00:00:00Z",
                               "reason": "ContentDeleted", "message": "ok"}]}})"))
      << j->dump(2);
}

TEST(ProtobufTest, MalformedBodiesAreInvalidArguments) {
  auto code = [](std::string_view body) { return DecodeProtobufObject(body).status().code(); };
  EXPECT_EQ(code(""), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"kind": "Namespace"})"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(kKubectlCreateNamespace.substr(0, kKubectlCreateNamespace.size() - 1)),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Envelope("v1", "Namespace",
                          "\x0a\x05"
                          "ab")),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Envelope("v1", "Namespace", Bytes(1, Bytes(1, "foo")), "gzip")),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Envelope("v1", "Namespace", Bytes(1, Bytes(1, "f\xff\xfe")))),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Envelope("v1", "Namespace", Bytes(1, Bytes(8, Int(1, uint64_t{1} << 62))))),
            StatusCode::kInvalidArgument);
  std::string bad_fields = Bytes(17, Bytes(7, Bytes(1, "{not json")));
  EXPECT_EQ(code(Envelope("v1", "Namespace", Bytes(1, bad_fields))), StatusCode::kInvalidArgument);
  // fieldsV1 nested deeper than any JSON body may be (it would overflow the stack when copied).
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(code(Envelope("v1", "Namespace", Bytes(1, Bytes(17, Bytes(7, Bytes(1, deep)))))),
            StatusCode::kInvalidArgument);
  // Larger than any JSON body may be.
  EXPECT_EQ(code(Envelope("v1", "Namespace", Bytes(1, Bytes(1, std::string(5 << 20, 'a'))))),
            StatusCode::kInvalidArgument);
  // The message never echoes the body.
  auto bad = DecodeProtobufObject(Envelope("v1", "Namespace", Bytes(1, Bytes(1, "s3cr3t\xff"))));
  EXPECT_EQ(bad.status().message().find("s3cr3t"), std::string::npos);
}

TEST(ProtobufTest, KindsWithoutASchemaAreNamed) {
  auto cm = DecodeProtobufObject(Envelope("v1", "ConfigMap", Bytes(1, Bytes(1, "x"))));
  EXPECT_EQ(cm.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cm.status().message(), "\"v1/ConfigMap\"");
  auto long_kind = DecodeProtobufObject(Envelope("v1", std::string(10000, 'K'), ""));
  EXPECT_EQ(long_kind.status().code(), StatusCode::kNotFound);
  EXPECT_LT(long_kind.status().message().size(), 300u);
  auto odd = DecodeProtobufObject(Envelope("v\xff", "N\"s", ""));
  EXPECT_EQ(odd.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(json::accept(odd.status().message())) << odd.status().message();
}

class ProtobufRestTest : public ClusterFixture {};

TEST_F(ProtobufRestTest, CreatesANamespaceFromKubectlsBody) {
  http::Request r;
  r.method = "POST";
  r.body = kKubectlCreateNamespace;
  r.headers.Set("Content-Type", "application/vnd.kubernetes.protobuf");
  r.headers.Set("Accept", "application/vnd.kubernetes.protobuf,application/json");
  auto created =
      Handle(std::move(r), "api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.headers.Get("Content-Type").value_or("").rfind("application/json", 0), 0u);
  EXPECT_EQ(Body(created)["metadata"]["name"], "foo");
  EXPECT_EQ(Body(created)["status"]["phase"], "Active");
  EXPECT_EQ(Call("GET", "api/v1/namespaces/foo").status, 200);

  http::Request cm;
  cm.method = "POST";
  cm.body = Envelope("v1", "ConfigMap", Bytes(1, Bytes(1, "x")));
  cm.headers.Set("Content-Type", "application/vnd.kubernetes.protobuf");
  auto refused = Handle(std::move(cm), "api/v1/namespaces");
  EXPECT_EQ(refused.status, 415) << refused.body;
  EXPECT_EQ(Body(refused)["reason"], "UnsupportedMediaType");
  EXPECT_NE(Body(refused)["message"].get<std::string>().find("\"v1/ConfigMap\""),
            std::string::npos);

  http::Request broken;
  broken.method = "POST";
  broken.body = "k8s";
  broken.headers.Set("Content-Type", "application/vnd.kubernetes.protobuf");
  auto bad = Handle(std::move(broken), "api/v1/namespaces");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Body(bad)["reason"], "BadRequest");
}

}  // namespace
}  // namespace byok::kube
