// The per-cluster Kubernetes API front door: cluster lookup, client-certificate authentication
// against that cluster's CA, /version, Kubernetes Status errors.
#include "kube/api_server.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "containerservice/cluster_pki.h"
#include "containerservice/cluster_store.h"
#include "crypto/x509.h"
#include "kube/status.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::kube {
namespace {

using containerservice::CredentialKind;
using nlohmann::json;
using std::chrono::hours;

std::string MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/byok-kube-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) std::abort();
  return buf.data();
}

json Unauthorized() {
  return {{"kind", "Status"},    {"apiVersion", "v1"},        {"metadata", json::object()},
          {"status", "Failure"}, {"message", "Unauthorized"}, {"reason", "Unauthorized"},
          {"code", 401}};
}

class ApiServerTest : public ::testing::Test {
 protected:
  ApiServerTest() : clock_(TimePoint(std::chrono::seconds(1704164645))) {}

  void SetUp() override {
    dir_ = MakeTempDir();
    std::vector<uint8_t> key_bytes(store::kRootKeySize, 9);
    auto root = store::RootKey::FromBytes(key_bytes);
    ASSERT_TRUE(root.ok());
    store::SqliteOptions so;
    so.data_dir = dir_;
    auto st = store::OpenSqliteStore(so, clock_, std::move(root).value());
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(st).value();
    server_ = std::make_unique<ApiServer>(ApiServerDeps{store_.get(), &clock_});
  }

  void TearDown() override {
    server_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A cluster stored as the clusters provider stores it (document, internal member, index).
  void AddCluster(const std::string& name, const std::string& unique_id,
                  const std::string& version = "1.24.9", const std::string& power = "Running") {
    std::string id = fmt::format(
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
        "Microsoft.ContainerService/managedClusters/{}",
        name);
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    auto ca = containerservice::CreateClusterCa(**txn, unique_id, name, clock_.Now());
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    store::Resource r;
    r.id = id;
    r.type = containerservice::kClusterType;
    r.body = {{"id", id},
              {"name", name},
              {"location", "eastus"},
              {"properties",
               {{"kubernetesVersion", version},
                {"currentKubernetesVersion", version},
                {"provisioningState", "Succeeded"},
                {"powerState", {{"code", power}}}}},
              {"internal", {{"uniqueId", unique_id}, {"clientCaPem", *ca}}}};
    ASSERT_TRUE((*txn)->Put(std::move(r)).ok());
    store::Resource index;
    index.id = containerservice::ClusterIndexId(unique_id);
    index.type = containerservice::kClusterIndexType;
    index.body = {{"id", id}};
    ASSERT_TRUE((*txn)->Put(std::move(index)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  containerservice::ClusterRecord Record(const std::string& unique_id) {
    auto txn = store_->BeginRead();
    EXPECT_TRUE(txn.ok());
    auto c = containerservice::FindClusterByUniqueId(**txn, unique_id);
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? **c : containerservice::ClusterRecord{};
  }

  // The DER of a fresh client certificate of cluster `unique_id` (through its kubeconfig).
  std::string ClientCert(const std::string& unique_id,
                         CredentialKind kind = CredentialKind::kUser) {
    containerservice::KubeconfigOptions o;
    o.api_base_url = "https://localhost:8443";
    o.server_ca_pem = "unused";
    o.now = clock_.Now();
    auto kc = containerservice::BuildKubeconfig(*store_, Record(unique_id), kind, o);
    EXPECT_TRUE(kc.ok()) << kc.status().ToString();
    if (!kc.ok()) return "";
    std::string needle = "client-certificate-data: ";
    size_t at = kc->find(needle) + needle.size();
    auto pem = Base64Decode(kc->substr(at, kc->find('\n', at) - at));
    EXPECT_TRUE(pem.ok());
    auto cert = crypto::Certificate::FromPem(ToString(*pem));
    EXPECT_TRUE(cert.ok());
    auto der = cert->ToDer();
    return ToString(*der);
  }

  http::Response Call(const std::string& method, const std::string& unique_id,
                      const std::string& rest, const std::string& cert_der) {
    http::Request r;
    r.method = method;
    r.path = "/k8s/" + unique_id + (rest.empty() ? "" : "/" + rest);
    r.target = r.path;
    r.host = "localhost";
    r.params["uniqueId"] = unique_id;
    r.params["rest"] = rest;
    r.client_cert_der = cert_der;
    return server_->Handle(r);
  }

  // A request without the /k8s/{uniqueId} prefix (`kubectl get --raw PATH`).
  http::Response CallUnprefixed(const std::string& method, const std::string& path,
                                const std::string& cert_der) {
    http::Request r;
    r.method = method;
    r.path = path;
    r.target = path;
    r.host = "localhost";
    r.client_cert_der = cert_der;
    return server_->HandleUnprefixed(r);
  }

  static json Body(const http::Response& r) { return json::parse(r.body, nullptr, false); }

  ManualClock clock_;
  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(ApiServerTest, VersionForTheClustersKubernetesVersion) {
  AddCluster("c1", "uid-1", "1.24.9");
  auto r = Call("GET", "uid-1", "version", ClientCert("uid-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  json v = Body(r);
  EXPECT_EQ(v["major"], "1");
  EXPECT_EQ(v["minor"], "24");
  EXPECT_EQ(v["gitVersion"], "v1.24.9");
  EXPECT_EQ(v["gitTreeState"], "clean");
  EXPECT_EQ(v["compiler"], "gc");
  EXPECT_EQ(v["platform"], "linux/amd64");
  EXPECT_EQ(v["gitCommit"].get<std::string>().size(), 40u);
  EXPECT_THAT(v["goVersion"].get<std::string>(), ::testing::StartsWith("go1."));
  EXPECT_TRUE(v["buildDate"].is_string());
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-cache, private");

  // What kubectl's dispatcher asks first (the query is not part of the path); a trailing slash.
  EXPECT_EQ(Call("GET", "uid-1", "version/", ClientCert("uid-1")).status, 200);
  EXPECT_EQ(Call("HEAD", "uid-1", "version", ClientCert("uid-1")).status, 200);
}

TEST_F(ApiServerTest, VersionInfoFollowsTheVersion) {
  for (const auto& [version, minor] : std::vector<std::pair<std::string, std::string>>{
           {"1.23.15", "23"}, {"1.25.5", "25"}, {"1.26.0", "26"}}) {
    json v = VersionInfo(version);
    EXPECT_EQ(v["major"], "1");
    EXPECT_EQ(v["minor"], minor);
    EXPECT_EQ(v["gitVersion"], "v" + version);
  }
  EXPECT_EQ(VersionInfo("1.24.9"), VersionInfo("1.24.9"));  // stable
  EXPECT_NE(VersionInfo("1.24.9")["gitCommit"], VersionInfo("1.24.10")["gitCommit"]);
}

TEST_F(ApiServerTest, AdminAndUserCertificatesAreAccepted) {
  AddCluster("c1", "uid-1");
  EXPECT_EQ(Call("GET", "uid-1", "version", ClientCert("uid-1", CredentialKind::kAdmin)).status,
            200);
  EXPECT_EQ(Call("GET", "uid-1", "version", ClientCert("uid-1", CredentialKind::kUser)).status,
            200);
}

TEST_F(ApiServerTest, NoCertificateIsUnauthorized) {
  AddCluster("c1", "uid-1");
  auto r = Call("GET", "uid-1", "version", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Body(r), Unauthorized());
  // Also for paths that do not exist: authentication comes first.
  r = Call("GET", "uid-1", "api/v1/namespaces", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Body(r), Unauthorized());
}

TEST_F(ApiServerTest, CertificateOfAnotherClusterIsUnauthorized) {
  AddCluster("a", "uid-a");
  AddCluster("b", "uid-b");
  std::string cert_a = ClientCert("uid-a", CredentialKind::kAdmin);
  EXPECT_EQ(Call("GET", "uid-a", "version", cert_a).status, 200);
  auto r = Call("GET", "uid-b", "version", cert_a);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Body(r), Unauthorized());
}

TEST_F(ApiServerTest, ExpiredCertificateIsUnauthorized) {
  AddCluster("c1", "uid-1");
  std::string cert = ClientCert("uid-1");
  clock_.Advance(hours(24 * 365 * 2 + 48));  // byokd's clock moved past the 2-year validity
  EXPECT_EQ(Call("GET", "uid-1", "version", cert).status, 401);
  EXPECT_EQ(Call("GET", "uid-1", "version", ClientCert("uid-1")).status, 200);  // a new one
}

TEST_F(ApiServerTest, GarbageCertificateIsUnauthorized) {
  AddCluster("c1", "uid-1");
  EXPECT_EQ(Call("GET", "uid-1", "version", std::string(64, '\x30')).status, 401);
}

TEST_F(ApiServerTest, EverythingElseIsNotFound) {
  AddCluster("c1", "uid-1");
  std::string cert = ClientCert("uid-1");
  json not_found = {{"kind", "Status"},
                    {"apiVersion", "v1"},
                    {"metadata", json::object()},
                    {"status", "Failure"},
                    {"message", "the server could not find the requested resource"},
                    {"reason", "NotFound"},
                    {"details", json::object()},
                    {"code", 404}};
  for (const char* rest : {"", "api", "apis", "api/v1/nodes", "openapi/v3", "versions"}) {
    auto r = Call("GET", "uid-1", rest, cert);
    EXPECT_EQ(r.status, 404) << rest;
    EXPECT_EQ(Body(r), not_found) << rest;
  }
  auto r = Call("POST", "uid-1", "version", cert);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Body(r)["reason"], "MethodNotAllowed");
}

TEST_F(ApiServerTest, UnknownClusterIsNotFound) {
  AddCluster("c1", "uid-1");
  auto r = Call("GET", "uid-unknown", "version", ClientCert("uid-1"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["reason"], "NotFound");
  EXPECT_EQ(Body(r)["kind"], "Status");
}

TEST_F(ApiServerTest, NoCertificateIsUnauthorizedOnDiscoveryAndOpenApi) {
  AddCluster("c1", "uid-1");
  for (const char* rest : {"api", "apis", "openapi/v3", "openapi/v3/api/v1", "api/v1"}) {
    auto r = Call("GET", "uid-1", rest, "");
    EXPECT_EQ(r.status, 401) << rest;
    EXPECT_EQ(Body(r), Unauthorized()) << rest;
  }
}

TEST_F(ApiServerTest, StoppedClusterIsUnavailableOnlyToAuthenticatedCallers) {
  AddCluster("c1", "uid-1", "1.24.9", "Stopped");
  // Without a certificate: 401, nothing about the cluster (not its name, nor that it stopped).
  for (const char* rest : {"version", "api", "apis", "openapi/v3"}) {
    auto r = Call("GET", "uid-1", rest, "");
    EXPECT_EQ(r.status, 401) << rest;
    EXPECT_EQ(Body(r), Unauthorized()) << rest;
  }
  for (const std::string& cert : {ClientCert("uid-1")}) {
    auto r = Call("GET", "uid-1", "version", cert);
    EXPECT_EQ(r.status, 503);
    json s = Body(r);
    EXPECT_EQ(s["kind"], "Status");
    EXPECT_EQ(s["status"], "Failure");
    EXPECT_EQ(s["reason"], "ServiceUnavailable");
    EXPECT_EQ(s["code"], 503);
    EXPECT_THAT(s["message"].get<std::string>(), ::testing::HasSubstr("'c1'"));
  }
}

TEST_F(ApiServerTest, RoutesCoverThePrefixOnAnyHostAndMethod) {
  http::Router router;
  AddApiServerRoutes(router, ApiServerDeps{store_.get(), &clock_});
  for (const char* method : {"GET", "POST", "PATCH", "DELETE"}) {
    auto m = router.Find(method, "localhost", "/k8s/uid-1/version");
    ASSERT_NE(m.handler, nullptr) << method;
    EXPECT_EQ(m.params["uniqueId"], "uid-1");
    EXPECT_EQ(m.params["rest"], "version");
  }
  auto m = router.Find("GET", "127.0.0.1", "/k8s/uid-1/api/v1/namespaces/default/pods");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params["rest"], "api/v1/namespaces/default/pods");
  EXPECT_NE(router.Find("GET", "localhost", "/k8s/uid-1").handler, nullptr);
}

TEST_F(ApiServerTest, HealthEndpoints) {
  AddCluster("c1", "uid-1");
  std::string cert = ClientCert("uid-1");
  for (const char* rest : {"healthz", "livez", "readyz"}) {
    auto r = Call("GET", "uid-1", rest, cert);
    ASSERT_EQ(r.status, 200) << rest;
    EXPECT_EQ(r.body, "ok");
    EXPECT_EQ(r.headers.Get("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(Call("POST", "uid-1", rest, cert).status, 405) << rest;
    EXPECT_EQ(Call("GET", "uid-1", rest, "").status, 401) << rest;
  }
  http::Request verbose;
  verbose.method = "GET";
  verbose.path = "/k8s/uid-1/readyz";
  verbose.params = {{"uniqueId", "uid-1"}, {"rest", "readyz"}};
  verbose.query = {{"verbose", ""}};
  verbose.client_cert_der = cert;
  auto r = server_->Handle(verbose);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[+]ping ok\nreadyz check passed\n");
}

TEST_F(ApiServerTest, UnprefixedPathsFindTheClusterByItsCertificate) {
  AddCluster("a", "uid-a", "1.24.9");
  AddCluster("b", "uid-b", "1.25.5");
  auto a = CallUnprefixed("GET", "/version", ClientCert("uid-a"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(Body(a)["minor"], "24");
  auto b = CallUnprefixed("GET", "/version", ClientCert("uid-b", CredentialKind::kAdmin));
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(Body(b)["minor"], "25");
  EXPECT_EQ(CallUnprefixed("GET", "/readyz", ClientCert("uid-b")).body, "ok");
  // Past the health and version paths it is the cluster's REST API (none in this fixture: 404
  // Status, as under the prefix).
  auto api = CallUnprefixed("GET", "/api/v1/namespaces", ClientCert("uid-a"));
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(Body(api)["kind"], "Status");

  // No certificate: the answer of an unrouted path, in Azure's shape.
  auto none = CallUnprefixed("GET", "/api/v1/namespaces", "");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(Body(none)["error"]["code"], "NotFound");
  // A certificate no cluster issued (or an expired one): 401 Status.
  auto garbage = CallUnprefixed("GET", "/version", std::string(64, '\x30'));
  EXPECT_EQ(garbage.status, 401);
  EXPECT_EQ(Body(garbage), Unauthorized());
  std::string cert = ClientCert("uid-a");
  clock_.Advance(hours(24 * 365 * 2 + 48));
  EXPECT_EQ(CallUnprefixed("GET", "/version", cert).status, 401);
}

TEST_F(ApiServerTest, UnprefixedRoutes) {
  http::Router router;
  AddApiServerRoutes(router, ApiServerDeps{store_.get(), &clock_});
  for (const char* path : {"/api", "/api/v1/namespaces", "/apis", "/apis/storage.k8s.io/v1",
                           "/openapi/v3", "/version", "/healthz", "/livez", "/readyz"}) {
    EXPECT_NE(router.Find("GET", "localhost", path).handler, nullptr) << path;
  }
  for (const char* path : {"/subscriptions/s", "/apiX", "/versions", "/openapiX"}) {
    EXPECT_EQ(router.Find("GET", "localhost", path).handler, nullptr) << path;
  }
}

TEST(StatusTest, UnauthorizedMatchesTheApiserver) {
  http::Response r = StatusResponse(ApiError{401, "Unauthorized", "Unauthorized"});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body), Unauthorized());
}

}  // namespace
}  // namespace byok::kube
