// GET /_byok/admin/nodes (admin_routes.h) and `byok node list`'s client (admin_client.h) against
// a real Daemon: the id and caller checks, an unknown cluster, and the table format. The nodes
// themselves (made by `az aks create`) are covered by tests/e2e/aks_nodes_test.py.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/json.h"
#include "daemon/admin_client.h"
#include "daemon/daemon.h"
#include "daemon/data_dir.h"
#include "http/client.h"
#include "identity/admin.h"

namespace byok::daemon {
namespace {

using nlohmann::json;

class AdminNodesTest : public ::testing::Test {
 protected:
  AdminNodesTest() {
    char tmpl[] = "/tmp/byok-admin-nodes-XXXXXX";
    tmp_ = mkdtemp(tmpl);
    opts_.data_dir = tmp_ + "/data";
    opts_.port = 0;
    opts_.nbd_listen = "127.0.0.1:0";
    opts_.shutdown_grace = std::chrono::milliseconds(200);
    dir_ = ResolveDataDir(opts_.data_dir);
  }
  ~AdminNodesTest() override {
    daemon_.reset();
    std::filesystem::remove_all(tmp_);
  }

  void Start() {
    auto d = Daemon::Start(opts_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
  }

  http::ClientResponse Get(const std::string& path, const std::string& token) {
    http::ClientOptions co;
    co.ca_file = daemon_->ca_path();
    http::Headers h;
    h.Set("Authorization", "Bearer " + token);
    auto r = http::HttpsRequest("GET", daemon_->url() + path, h, "", co);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : http::ClientResponse{};
  }

  static json Body(const http::ClientResponse& r) {
    auto j = ParseJsonBody(r.body);
    return j.ok() ? *j : json();
  }

  std::string tmp_;
  DaemonOptions opts_;
  DataDir dir_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(AdminNodesTest, ListChecksTheClusterIdAndTheCaller) {
  Start();
  auto none = NodeList(dir_, std::nullopt);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(
      FormatNodeTable(*none),
      "NAME  POOL          STATE        OSDISK     KEY-VERSION                       REASON\n");

  auto creds = ParseJsonBody(*ReadFile(dir_.Path("credentials.json")));
  ASSERT_TRUE(creds.ok());
  const std::string cluster = "/subscriptions/" + (*creds)["subscription"].get<std::string>() +
                              "/resourceGroups/rg/providers/Microsoft.ContainerService/"
                              "managedClusters/nope";
  auto missing = NodeList(dir_, cluster);
  EXPECT_TRUE(missing.status().Is(StatusCode::kNotFound)) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("ResourceNotFound"), std::string::npos);

  auto token = MintToken(dir_, {});
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto bad = Get("/_byok/admin/nodes?cluster=/subscriptions/x", *token);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"]["code"], "InvalidParameter");
  auto all = Get("/_byok/admin/nodes", *token);
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(Body(all), json({{"value", json::array()}}));

  // A principal without roles: refused, naming the action it lacks.
  identity::AdminOptions ao;
  ao.data_dir = dir_.root;
  ao.pbkdf2_iterations = 1000;
  auto sp = identity::AdminCreateServicePrincipal(ao, "no-cluster-access");
  ASSERT_TRUE(sp.ok()) << sp.status().ToString();
  TokenRequest req;
  req.app_id = (*sp)["appId"].get<std::string>();
  auto plain = MintToken(dir_, req);
  ASSERT_TRUE(plain.ok());
  auto denied = Get("/_byok/admin/nodes", *plain);
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("Microsoft.Authorization/roleAssignments/write"), std::string::npos);
  auto denied_cluster = Get("/_byok/admin/nodes?cluster=" + cluster, *plain);
  EXPECT_EQ(denied_cluster.status, 403);
  EXPECT_NE(denied_cluster.body.find("Microsoft.ContainerService/managedClusters/read"),
            std::string::npos);
}

TEST(NodeTableTest, ColumnsPlatformKeysAndSeveralClusters) {
  json a = {{"clusterId",
             "/subscriptions/s/resourceGroups/rg/providers/"
             "Microsoft.ContainerService/managedClusters/c1"},
            {"name", "aks-nodepool1-12345678-vmss000000"},
            {"poolName", "nodepool1"},
            {"state", "Ready"},
            {"osDiskType", "Managed"},
            {"keyVersion", "0123456789abcdef0123456789abcdef"},
            {"reason", ""}};
  json b = a;
  b["name"] = "aks-eph-87654321-vmss00000a";
  b["poolName"] = "eph";
  b["state"] = "Stopped";
  b["osDiskType"] = "Ephemeral";
  b["reason"] = "the key 'k' cannot unwrap";
  std::string table = FormatNodeTable({a, b});
  EXPECT_EQ(table,
            "NAME                               POOL          STATE        OSDISK     KEY-VERSION"
            "                       REASON\n"
            "aks-nodepool1-12345678-vmss000000  nodepool1     Ready        Managed    "
            "0123456789abcdef0123456789abcdef\n"
            "aks-eph-87654321-vmss00000a        eph           Stopped      Ephemeral  "
            "0123456789abcdef0123456789abcdef  the key 'k' cannot unwrap\n");
  json platform = a;
  platform["keyVersion"] = "";
  platform["clusterId"] =
      "/subscriptions/s/resourceGroups/rg/providers/"
      "Microsoft.ContainerService/managedClusters/c2";
  table = FormatNodeTable({a, platform});
  EXPECT_EQ(table.substr(0, table.find('\n')),
            "CLUSTER               NAME                               POOL          STATE        "
            "OSDISK     KEY-VERSION                       REASON");
  EXPECT_NE(table.find("c2                    aks-nodepool1-12345678-vmss000000  nodepool1     "
                       "Ready        Managed    platform\n"),
            std::string::npos)
      << table;
}

}  // namespace
}  // namespace byok::daemon
