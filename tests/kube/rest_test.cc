// The REST handler over a real ObjectStore: discovery, CRUD, patches, lists, nodes, errors.
#include "kube/rest.h"

#include <memory>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "containerservice/nodes.h"
#include "kube/discovery.h"
#include "kube/store_fixture_helpers.h"

namespace byok::kube {
namespace {

using nlohmann::json;

class RestTest : public ClusterFixture {
 protected:
  json StorageClass(const std::string& name, const std::string& sku = "StandardSSD_LRS") {
    return {{"apiVersion", "storage.k8s.io/v1"},
            {"kind", "StorageClass"},
            {"metadata", {{"name", name}}},
            {"provisioner", "disk.csi.azure.com"},
            {"parameters", {{"skuname", sku}}}};
  }
};

TEST_F(RestTest, Discovery) {
  auto agg = Call("GET", "api", nullptr, "",
                  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json");
  EXPECT_EQ(agg.status, 200);
  EXPECT_EQ(agg.headers.Get("Content-Type"), std::string(kAggregatedDiscoveryContentType));
  auto legacy = Call("GET", "apis");
  EXPECT_EQ(legacy.status, 200);
  EXPECT_EQ(Body(legacy)["kind"], "APIGroupList");
  EXPECT_EQ(Call("GET", "apis/storage.k8s.io/v1").status, 200);
  EXPECT_EQ(Body(Call("GET", "apis/storage.k8s.io"))["kind"], "APIGroup");
  EXPECT_EQ(Call("GET", "openapi/v3").status, 200);
  EXPECT_EQ(Call("GET", "openapi/v2").status, 404);
  EXPECT_EQ(Call("GET", "api/v1/deployments").status, 404);
  EXPECT_EQ(Call("GET", "api/v1/persistentvolumeclaims?watch=1").status, 200);  // watch_test.cc
}

TEST_F(RestTest, StorageClassLifecycle) {
  auto created = Call("POST", "apis/storage.k8s.io/v1/storageclasses?fieldManager=kubectl-create",
                      StorageClass("byok"));
  ASSERT_EQ(created.status, 201) << created.body;
  json sc = Body(created);
  EXPECT_EQ(sc["reclaimPolicy"], "Delete");
  EXPECT_EQ(sc["metadata"]["managedFields"][0]["manager"], "kubectl-create");

  auto again = Call("POST", "apis/storage.k8s.io/v1/storageclasses", StorageClass("byok"));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Body(again)["message"], "storageclasses.storage.k8s.io \"byok\" already exists");
  EXPECT_EQ(Body(again)["reason"], "AlreadyExists");
  EXPECT_EQ(Body(again)["details"],
            json({{"name", "byok"}, {"group", "storage.k8s.io"}, {"kind", "storageclasses"}}));

  // An immutable parameter.
  auto put = Call("PUT", "apis/storage.k8s.io/v1/storageclasses/byok",
                  StorageClass("byok", "Premium_LRS"));
  EXPECT_EQ(put.status, 422);
  EXPECT_EQ(Body(put)["message"],
            "StorageClass.storage.k8s.io \"byok\" is invalid: parameters: Forbidden: updates to "
            "parameters are forbidden.");
  EXPECT_EQ(Body(put)["details"]["causes"][0]["field"], "parameters");

  // Strategic merge patch of the labels (what kubectl apply sends).
  auto patched =
      Call("PATCH", "apis/storage.k8s.io/v1/storageclasses/byok",
           {{"metadata", {{"labels", {{"team", "a"}}}}}}, "application/strategic-merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Body(patched)["metadata"]["labels"]["team"], "a");
  EXPECT_EQ(Call("PATCH", "apis/storage.k8s.io/v1/storageclasses/byok", json::object(),
                 "application/json")
                .status,
            415);
  // A stale resourceVersion is a conflict.
  json stale = sc;
  stale["metadata"]["labels"] = {{"x", "y"}};
  auto conflict = Call("PUT", "apis/storage.k8s.io/v1/storageclasses/byok", stale);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Body(conflict)["reason"], "Conflict");

  auto del = Call("DELETE", "apis/storage.k8s.io/v1/storageclasses/byok",
                  {{"propagationPolicy", "Background"}});
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(Body(del)["status"], "Success");
  EXPECT_EQ(Body(del)["details"]["uid"], sc["metadata"]["uid"]);
  auto gone = Call("GET", "apis/storage.k8s.io/v1/storageclasses/byok");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(Body(gone)["message"], "storageclasses.storage.k8s.io \"byok\" not found");
}

TEST_F(RestTest, ListsTablesSelectorsAndPages) {
  for (const char* n : {"a1", "a2", "a3"}) {
    json sc = StorageClass(n);
    sc["metadata"]["labels"] = {{"tier", std::string(n) == "a2" ? "gold" : "std"}};
    ASSERT_EQ(Call("POST", "apis/storage.k8s.io/v1/storageclasses", sc).status, 201);
  }
  auto list = Call("GET", "apis/storage.k8s.io/v1/storageclasses?labelSelector=tier=gold");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Body(list)["kind"], "StorageClassList");
  ASSERT_EQ(Body(list)["items"].size(), 1u);
  EXPECT_EQ(Body(list)["items"][0]["metadata"]["name"], "a2");
  auto in = Call("GET", "apis/storage.k8s.io/v1/storageclasses?labelSelector=tier in (gold,std)");
  EXPECT_EQ(Body(in)["items"].size(), 3u);  // the built-ins carry no tier label
  auto by_field =
      Call("GET", "apis/storage.k8s.io/v1/storageclasses?fieldSelector=metadata.name=a3");
  EXPECT_EQ(Body(by_field)["items"].size(), 1u);

  // Built-ins (9) + 3, in pages.
  auto page = Call("GET", "apis/storage.k8s.io/v1/storageclasses?limit=5");
  json p1 = Body(page);
  ASSERT_EQ(p1["items"].size(), 5u);
  EXPECT_EQ(p1["metadata"]["remainingItemCount"], 7);
  std::string token = p1["metadata"]["continue"];
  auto next = Call("GET", "apis/storage.k8s.io/v1/storageclasses?limit=50&continue=" + token);
  EXPECT_EQ(Body(next)["items"].size(), 7u);
  EXPECT_FALSE(Body(next)["metadata"].contains("continue"));

  auto table = Call("GET", "apis/storage.k8s.io/v1/storageclasses", nullptr, "",
                    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  ASSERT_EQ(table.status, 200);
  EXPECT_EQ(Body(table)["kind"], "Table");
  EXPECT_EQ(Body(table)["rows"].size(), 12u);
}

TEST_F(RestTest, ClaimsNamespacesAndEvents) {
  json claim = {
      {"apiVersion", "v1"},
      {"kind", "PersistentVolumeClaim"},
      {"metadata", {{"name", "data"}}},
      {"spec",
       {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  auto missing_ns = Call("POST", "api/v1/namespaces/nowhere/persistentvolumeclaims", claim);
  EXPECT_EQ(missing_ns.status, 404);
  EXPECT_EQ(Body(missing_ns)["message"], "namespaces \"nowhere\" not found");
  auto created = Call("POST", "api/v1/namespaces/default/persistentvolumeclaims", claim);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Body(created)["metadata"]["namespace"], "default");
  EXPECT_EQ(Body(created)["status"]["phase"], "Pending");
  auto immutable = Call("PATCH", "api/v1/namespaces/default/persistentvolumeclaims/data",
                        {{"spec", {{"storageClassName", "x"}}}}, "application/merge-patch+json");
  EXPECT_EQ(immutable.status, 422);
  EXPECT_THAT(Body(immutable)["message"].get<std::string>(),
              ::testing::HasSubstr("PersistentVolumeClaim \"data\" is invalid: spec: Forbidden"));
  // The status subresource.
  auto status = Call("PATCH", "api/v1/namespaces/default/persistentvolumeclaims/data/status",
                     {{"status", {{"phase", "Bound"}}}, {"spec", {{"volumeName", "ignored"}}}},
                     "application/merge-patch+json");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(Body(status)["status"]["phase"], "Bound");
  EXPECT_FALSE(Body(status)["spec"].contains("volumeName"));

  // Events written through events.k8s.io are core events too.
  json ev = {{"apiVersion", "events.k8s.io/v1"},
             {"kind", "Event"},
             {"metadata", {{"name", "data.1"}}},
             {"regarding", {{"kind", "PersistentVolumeClaim"}, {"name", "data"}}},
             {"note", "hello"},
             {"reason", "Provisioning"},
             {"type", "Normal"},
             {"eventTime", "2024-01-02T03:04:05.000000Z"},
             {"reportingController", "x"},
             {"reportingInstance", "y"},
             {"action", "Provision"}};
  auto ev_created = Call("POST", "apis/events.k8s.io/v1/namespaces/default/events", ev);
  ASSERT_EQ(ev_created.status, 201) << ev_created.body;
  EXPECT_EQ(Body(ev_created)["note"], "hello");
  auto core = Call("GET",
                   "api/v1/namespaces/default/events?fieldSelector=involvedObject.name=data,"
                   "involvedObject.kind=PersistentVolumeClaim");
  ASSERT_EQ(Body(core)["items"].size(), 1u);
  EXPECT_EQ(Body(core)["items"][0]["message"], "hello");

  // Deleting the namespace deletes what is in it.
  ASSERT_EQ(Call("POST", "api/v1/namespaces", {{"metadata", {{"name", "team"}}}}).status, 201);
  ASSERT_EQ(Call("POST", "api/v1/namespaces/team/persistentvolumeclaims", claim).status, 201);
  ASSERT_EQ(Call("DELETE", "api/v1/namespaces/team").status, 200);
  EXPECT_EQ(Body(Call("GET", "api/v1/persistentvolumeclaims"))["items"].size(), 1u);

  // Server-side apply needs a field manager; with one it creates.
  json ssa = claim;
  ssa["metadata"]["name"] = "ssa";
  EXPECT_EQ(Call("PATCH", "api/v1/namespaces/default/persistentvolumeclaims/ssa", ssa,
                 "application/apply-patch+yaml")
                .status,
            400);
  auto applied =
      Call("PATCH", "api/v1/namespaces/default/persistentvolumeclaims/ssa?fieldManager=kubectl",
           ssa, "application/apply-patch+yaml");
  ASSERT_EQ(applied.status, 201) << applied.body;
  EXPECT_EQ(Body(applied)["metadata"]["managedFields"][0]["operation"], "Apply");
  EXPECT_EQ(Body(applied)["metadata"]["managedFields"].size(), 1u);
}

TEST_F(RestTest, ProtectedNamespacesAreNotDeleted) {
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    auto r = Call("DELETE", std::string("api/v1/namespaces/") + ns, nullptr);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(Body(r)["reason"], "Forbidden");
    EXPECT_EQ(Body(r)["message"], "namespaces \"" + std::string(ns) +
                                      "\" is forbidden: this namespace may not be deleted");
  }
  EXPECT_EQ(Call("GET", "api/v1/namespaces/default", nullptr).status, 200);
}

TEST_F(RestTest, NodesAreReadOnlyProjections) {
  containerservice::NodeInfo node;
  node.name = "aks-nodepool1-12345678-vmss000000";
  node.cluster_id = cluster_.id;
  node.cluster_unique_id = cluster_.unique_id;
  node.pool_name = "nodepool1";
  node.vmss_name = "aks-nodepool1-12345678-vmss";
  node.vm_size = "Standard_DS2_v2";
  node.kubernetes_version = "1.24.9";
  node.state = "Ready";
  node.created = "2024-01-02T03:04:05Z";
  ASSERT_TRUE(store::RunInTransaction(*store_, [&](store::Transaction& txn) {
                store::Resource r;
                r.id = std::string(containerservice::kNodePrefix) + cluster_.unique_id + "/" +
                       node.name;
                r.type = containerservice::kNodeType;
                r.body = containerservice::ToJson(node);
                return txn.Put(std::move(r)).status();
              }).ok());
  auto list = Call("GET", "api/v1/nodes");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(Body(list)["items"].size(), 1u);
  EXPECT_EQ(Body(list)["items"][0]["metadata"]["name"], node.name);
  EXPECT_EQ(Call("GET", "api/v1/nodes/" + node.name).status, 200);
  EXPECT_EQ(Call("GET", "api/v1/nodes/nope").status, 404);
  EXPECT_EQ(Call("DELETE", "api/v1/nodes/" + node.name).status, 405);
}

TEST_F(RestTest, PodsAreAlwaysNone) {
  auto list = Call("GET", "api/v1/namespaces/default/pods?limit=500");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Body(list)["kind"], "PodList");
  EXPECT_TRUE(Body(list)["items"].empty());
  EXPECT_EQ(Call("GET", "api/v1/pods").status, 200);
  auto one = Call("GET", "api/v1/namespaces/default/pods/web");
  EXPECT_EQ(one.status, 404);
  EXPECT_EQ(Body(one)["message"], "pods \"web\" not found");
  auto table = Call("GET", "api/v1/namespaces/default/pods", nullptr, "application/json",
                    "application/json;as=Table;v=v1;g=meta.k8s.io");
  ASSERT_EQ(table.status, 200) << table.body;
  ASSERT_EQ(Body(table)["columnDefinitions"].size(), 7u);
  EXPECT_EQ(Body(table)["columnDefinitions"][1]["name"], "Ready");
  EXPECT_EQ(Body(table)["columnDefinitions"][3]["name"], "Restarts");
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "web"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}};
  auto created = Call("POST", "api/v1/namespaces/default/pods", pod);
  EXPECT_EQ(created.status, 405);
  EXPECT_EQ(Body(created)["reason"], "MethodNotAllowed");
  EXPECT_THAT(Body(created)["message"].get<std::string>(),
              ::testing::HasSubstr("byok runs no workloads"));
}

}  // namespace
}  // namespace byok::kube
