// The self reviews of kubectl auth can-i (SelfSubjectAccessReview) and kubectl auth whoami
// (SelfSubjectReview) through HandleRest, with the bodies kubectl 1.32 sends (protobuf, captured;
// also fuzz seeds) and as JSON.
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube/internal/time.h"
#include "kube/rest.h"
#include "kube/store_fixture_helpers.h"

namespace byok::kube {
namespace {

using nlohmann::json;

std::string Seed(const std::string& name) {
  std::ifstream in(std::string(BYOK_SOURCE_DIR) + "/fuzz/corpus/kube_protobuf/" + name,
                   std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ReviewTest : public ClusterFixture {
 protected:
  http::Response Post(const std::string& target, std::string body, const std::string& type,
                      const containerservice::ClientIdentity& caller = {}) {
    http::Request r;
    r.method = "POST";
    r.path = "/" + target;
    r.body = std::move(body);
    r.headers.Set("Content-Type", type);
    r.headers.Set("Accept", "application/vnd.kubernetes.protobuf,application/json");
    RestDeps deps{store_.get(), objects_.get(), &clock_};
    return HandleRest(deps, cluster_, r, target, caller);
  }

  static constexpr char kAccess[] = "apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
  static constexpr char kSelf[] = "apis/authentication.k8s.io/v1/selfsubjectreviews";
  static constexpr char kProtobuf[] = "application/vnd.kubernetes.protobuf";
};

TEST_F(ReviewTest, CanIFromKubectlsProtobufBodyIsAllowed) {
  std::string body = Seed("kubectl_auth_can_i");
  ASSERT_EQ(body.size(), 131u);
  auto r = Post(kAccess, body, kProtobuf);
  ASSERT_EQ(r.status, 201) << r.body;
  json review = json::parse(r.body);
  EXPECT_EQ(review["kind"], "SelfSubjectAccessReview");
  EXPECT_EQ(review["apiVersion"], "authorization.k8s.io/v1");
  EXPECT_EQ(review["spec"]["resourceAttributes"],
            json({{"namespace", "default"}, {"verb", "create"}, {"resource", "namespaces"}}));
  EXPECT_EQ(review["status"]["allowed"], true);
  EXPECT_FALSE(review["status"]["reason"].get<std::string>().empty());
}

TEST_F(ReviewTest, CanIAsJsonAndItsValidation) {
  auto ok =
      Post(kAccess, R"({"spec": {"nonResourceAttributes": {"path": "/readyz", "verb": "get"}}})",
           "application/json");
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["status"]["allowed"], true);

  auto neither =
      Post(kAccess, R"({"kind": "SelfSubjectAccessReview", "spec": {}})", "application/json");
  ASSERT_EQ(neither.status, 422) << neither.body;
  json status = json::parse(neither.body);
  EXPECT_EQ(status["reason"], "Invalid");
  EXPECT_EQ(status["message"],
            ".authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: "
            "\"null\": exactly one of nonResourceAttributes or resourceAttributes must be "
            "specified");
  EXPECT_EQ(status["details"]["causes"][0]["field"], "spec.resourceAttributes");

  auto both = Post(kAccess,
                   R"({"spec": {"resourceAttributes": {"verb": "get"},
                                "nonResourceAttributes": {"path": "/x", "verb": "get"}}})",
                   "application/json");
  ASSERT_EQ(both.status, 422) << both.body;
  EXPECT_EQ(json::parse(both.body)["details"]["causes"][0]["field"], "spec.nonResourceAttributes");
  EXPECT_EQ(json::parse(both.body)["message"],
            ".authorization.k8s.io \"\" is invalid: spec.nonResourceAttributes: Invalid value: "
            "&authorization.NonResourceAttributes{Path:\"/x\", Verb:\"get\"}: cannot be "
            "specified in combination with resourceAttributes");
  // The spec comes back as decoded: known fields, empty ones dropped.
  auto decoded = Post(kAccess,
                      R"({"kind": "", "spec": {"resourceAttributes": {"verb": "get", "name": "",
                          "resource": "pods", "extra": "x"}}})",
                      "application/json");
  ASSERT_EQ(decoded.status, 201) << decoded.body;
  EXPECT_EQ(json::parse(decoded.body)["spec"],
            json({{"resourceAttributes", {{"verb", "get"}, {"resource", "pods"}}}}));
  EXPECT_EQ(Post(kAccess, R"({"spec": {"resourceAttributes": []}})", "application/json").status,
            400);
  EXPECT_EQ(
      Post(kAccess, R"({"spec": {"resourceAttributes": {"verb": 1}}})", "application/json").status,
      400);

  auto other_kind =
      Post(kAccess, R"({"kind": "Namespace", "apiVersion": "v1", "spec": {}})", "application/json");
  EXPECT_EQ(other_kind.status, 400) << other_kind.body;
  EXPECT_EQ(json::parse(other_kind.body)["message"],
            "\"Namespace\" in version \"v1\" cannot be handled as a SelfSubjectAccessReview");
  EXPECT_EQ(Post(kAccess, "[1]", "application/json").status, 400);
  EXPECT_EQ(Post(kAccess, "{", "application/json").status, 400);

  http::Request get;
  get.method = "GET";
  RestDeps deps{store_.get(), objects_.get(), &clock_};
  EXPECT_EQ(HandleRest(deps, cluster_, get, kAccess, {}).status, 405);
}

TEST_F(ReviewTest, WhoAmINamesTheCertificatesUserAndGroups) {
  std::string body = Seed("kubectl_auth_whoami");
  ASSERT_EQ(body.size(), 83u);
  auto admin = Post(kSelf, body, kProtobuf, {"masterclient", "system:masters"});
  ASSERT_EQ(admin.status, 201) << admin.body;
  json review = json::parse(admin.body);
  EXPECT_EQ(review["kind"], "SelfSubjectReview");
  EXPECT_EQ(review["apiVersion"], "authentication.k8s.io/v1");
  EXPECT_EQ(
      review["status"]["userInfo"],
      json({{"username", "masterclient"}, {"groups", {"system:masters", "system:authenticated"}}}));
  EXPECT_EQ(review["metadata"]["creationTimestamp"], internal::KubeTime(clock_.Now()));

  auto user = Post(kSelf, R"({"kind": "SelfSubjectReview"})", "application/json",
                   {"clusterUser_rg_c1", "system:authenticated"});
  ASSERT_EQ(user.status, 201) << user.body;
  EXPECT_EQ(json::parse(user.body)["status"]["userInfo"]["groups"],
            json::array({"system:authenticated"}));
  EXPECT_EQ(Post(kSelf, R"({"kind": "SelfSubjectAccessReview"})", "application/json").status, 400);
}

}  // namespace
}  // namespace byok::kube
