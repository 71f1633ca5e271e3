// The REST handler's review fixes: list paging across namespaces whose names sort around '/',
// JSON patch errors and resourceVersion preconditions as the apiserver answers them, and
// namespaced kinds addressed without a namespace.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube/object_store.h"
#include "kube/rest.h"
#include "kube/store_fixture_helpers.h"

namespace byok::kube {
namespace {

using nlohmann::json;

class RestPathsTest : public ClusterFixture {
 protected:
  static json Claim(const std::string& name) {
    return {{"apiVersion", "v1"},
            {"kind", "PersistentVolumeClaim"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"accessModes", {"ReadWriteOnce"}},
              {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  }

  void AddNamespace(const std::string& ns) {
    json body = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
    auto r = Call("POST", "api/v1/namespaces", body);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  void AddClaim(const std::string& ns, const std::string& name) {
    auto r = Call("POST", "api/v1/namespaces/" + ns + "/persistentvolumeclaims", Claim(name));
    ASSERT_EQ(r.status, 201) << r.body;
  }
};

TEST_F(RestPathsTest, PagesFollowTheNamespaceNameOrder) {
  // '-' and '.' sort before '/': "a-b/x" < "a/x" as strings, but namespace "a" < "a-b"; names too.
  for (const char* ns : {"a", "a-b", "ab"}) AddNamespace(ns);
  std::vector<std::string> want;
  for (const char* ns : {"a", "a-b", "ab"}) {
    for (const char* name : {"x", "x-1", "x.1"}) {
      AddClaim(ns, name);
      want.push_back(std::string(ns) + "/" + name);
    }
  }
  std::sort(want.begin(), want.end(), [](const std::string& l, const std::string& r) {
    auto split = [](const std::string& k) {
      return std::make_pair(k.substr(0, k.find('/')), k.substr(k.find('/') + 1));
    };
    return split(l) < split(r);
  });
  for (int limit : {1, 2, 4}) {
    std::vector<std::string> got;
    std::string token;
    for (int page = 0; page < 20; ++page) {
      std::string path = "api/v1/persistentvolumeclaims?limit=" + std::to_string(limit);
      if (!token.empty()) path += "&continue=" + token;
      auto r = Call("GET", path);
      ASSERT_EQ(r.status, 200) << r.body;
      json list = Body(r);
      for (const json& item : list["items"]) {
        got.push_back(item["metadata"]["namespace"].get<std::string>() + "/" +
                      item["metadata"]["name"].get<std::string>());
      }
      if (!list["metadata"].contains("continue")) break;
      token = list["metadata"]["continue"];
    }
    EXPECT_EQ(got, want) << "limit " << limit;
  }
}

TEST_F(RestPathsTest, FailedJsonPatchIsInvalidAndMalformedIsBadRequest) {
  AddClaim("default", "data");
  const std::string path = "api/v1/namespaces/default/persistentvolumeclaims/data";
  const std::string type = "application/json-patch+json";
  json want = {{"kind", "Status"},
               {"apiVersion", "v1"},
               {"metadata", json::object()},
               {"status", "Failure"},
               {"message", "the server rejected our request due to an error in our request"},
               {"reason", "Invalid"},
               {"details", json::object()},
               {"code", 422}};
  // A test that does not hold.
  auto test =
      Call("PATCH", path,
           json::array({{{"op", "test"}, {"path", "/metadata/name"}, {"value", "other"}}}), type);
  EXPECT_EQ(test.status, 422) << test.body;
  EXPECT_EQ(Body(test), want);
  // A path that is not there.
  auto missing =
      Call("PATCH", path, json::array({{{"op", "remove"}, {"path", "/spec/nothing/here"}}}), type);
  EXPECT_EQ(missing.status, 422) << missing.body;
  EXPECT_EQ(Body(missing), want);
  // An unknown operation.
  auto unknown =
      Call("PATCH", path, json::array({{{"op", "frobnicate"}, {"path", "/spec"}}}), type);
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  // Not a JSON patch document at all.
  auto object = Call("PATCH", path, json{{"op", "add"}}, type);
  EXPECT_EQ(object.status, 400) << object.body;
  EXPECT_EQ(Body(object)["reason"], "BadRequest");
  auto strings = Call("PATCH", path, json::array({"add"}), type);
  EXPECT_EQ(strings.status, 400) << strings.body;
  // The claim is untouched, and a good patch still applies.
  auto good =
      Call("PATCH", path,
           json::array({{{"op", "add"}, {"path", "/metadata/labels"}, {"value", {{"team", "a"}}}}}),
           type);
  EXPECT_EQ(good.status, 200) << good.body;
  // A merge patch that is not an object: BadRequest, not a server error.
  auto merge = Call("PATCH", path, json::array({1}), "application/merge-patch+json");
  EXPECT_EQ(merge.status, 400) << merge.body;
}

TEST_F(RestPathsTest, JsonPatchOfTheResourceVersionIsAPrecondition) {
  AddClaim("default", "data");
  const std::string path = "api/v1/namespaces/default/persistentvolumeclaims/data";
  const std::string type = "application/json-patch+json";
  json current = Body(Call("GET", path));
  const std::string rv = current["metadata"]["resourceVersion"];
  // Another write moves the claim on.
  ASSERT_EQ(Call("PATCH", path, {{"metadata", {{"labels", {{"a", "1"}}}}}},
                 "application/merge-patch+json")
                .status,
            200);
  auto stale =
      Call("PATCH", path,
           json::array({{{"op", "replace"}, {"path", "/metadata/resourceVersion"}, {"value", rv}},
                        {{"op", "add"}, {"path", "/metadata/labels/b"}, {"value", "2"}}}),
           type);
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(Body(stale)["reason"], "Conflict");
  json now = Body(Call("GET", path));
  EXPECT_FALSE(now["metadata"]["labels"].contains("b"));
  auto fresh = Call("PATCH", path,
                    json::array({{{"op", "replace"},
                                  {"path", "/metadata/resourceVersion"},
                                  {"value", now["metadata"]["resourceVersion"]}},
                                 {{"op", "add"}, {"path", "/metadata/labels/b"}, {"value", "2"}}}),
                    type);
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(Body(fresh)["metadata"]["labels"]["b"], "2");
}

TEST_F(RestPathsTest, NamespacedKindsWithoutANamespace) {
  AddNamespace("team");
  AddClaim("default", "data");
  AddClaim("team", "data");
  // The all-namespaces list is served.
  auto list = Call("GET", "api/v1/persistentvolumeclaims");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Body(list)["items"].size(), 2u);
  // No item path outside a namespace.
  for (const char* method : {"GET", "PUT", "PATCH", "DELETE"}) {
    auto r =
        Call(method, "api/v1/persistentvolumeclaims/data", Claim("data"),
             std::string(method) == "PATCH" ? "application/merge-patch+json" : "application/json");
    EXPECT_EQ(r.status, 404) << method << " " << r.body;
    EXPECT_EQ(Body(r)["message"], "the server could not find the requested resource");
  }
  // Only GET at the collection.
  auto post = Call("POST", "api/v1/persistentvolumeclaims", Claim("other"));
  EXPECT_EQ(post.status, 405) << post.body;
  EXPECT_EQ(Body(post)["reason"], "MethodNotAllowed");
  auto wipe = Call("DELETE", "api/v1/persistentvolumeclaims");
  EXPECT_EQ(wipe.status, 405) << wipe.body;
  EXPECT_EQ(Body(Call("GET", "api/v1/persistentvolumeclaims"))["items"].size(), 2u);
  // Namespaced deletecollection still works, in its namespace only.
  auto ns_wipe = Call("DELETE", "api/v1/namespaces/team/persistentvolumeclaims");
  EXPECT_EQ(ns_wipe.status, 200) << ns_wipe.body;
  EXPECT_EQ(Body(Call("GET", "api/v1/persistentvolumeclaims"))["items"].size(), 1u);
  // Events too (namespaced): the all-namespaces list, no item.
  EXPECT_EQ(Call("GET", "api/v1/events").status, 200);
  EXPECT_EQ(Call("GET", "apis/events.k8s.io/v1/events/x").status, 404);
}

}  // namespace
}  // namespace byok::kube
