// Server-side printing: Accept negotiation, the columns and cells of each kind, ages.
#include "kube/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/duration.h"

namespace byok::kube {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kKubectlGetAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s."
    "io,application/json";

TimePoint Now() { return *ParseTimestamp("2024-03-01T12:00:00Z"); }

std::vector<std::string> ColumnNames(const json& table) {
  std::vector<std::string> out;
  for (const auto& c : table["columnDefinitions"]) out.push_back(c["name"]);
  return out;
}

const Kind& K(std::string_view group, std::string_view resource) {
  const Kind* k = FindKind(group, "v1", resource);
  EXPECT_NE(k, nullptr);
  return *k;
}

TEST(TableTest, WantsTable) {
  EXPECT_TRUE(WantsTable(kKubectlGetAccept));
  EXPECT_TRUE(WantsTable("application/json; g=meta.k8s.io; as=Table; v=v1"));
  EXPECT_FALSE(WantsTable("application/json"));
  EXPECT_FALSE(WantsTable("application/json;as=Table;v=v1beta1;g=meta.k8s.io"));
  EXPECT_FALSE(WantsTable(""));
}

TEST(TableTest, HumanDuration) {
  EXPECT_EQ(HumanDuration(seconds(-5)), "<invalid>");
  EXPECT_EQ(HumanDuration(seconds(-1)), "0s");
  EXPECT_EQ(HumanDuration(seconds(0)), "0s");
  EXPECT_EQ(HumanDuration(seconds(119)), "119s");
  EXPECT_EQ(HumanDuration(seconds(120)), "2m");
  EXPECT_EQ(HumanDuration(seconds(302)), "5m2s");
  EXPECT_EQ(HumanDuration(minutes(10)), "10m");
  EXPECT_EQ(HumanDuration(minutes(179)), "179m");
  EXPECT_EQ(HumanDuration(minutes(185)), "3h5m");
  EXPECT_EQ(HumanDuration(hours(3)), "3h");
  EXPECT_EQ(HumanDuration(hours(47)), "47h");
  EXPECT_EQ(HumanDuration(hours(53)), "2d5h");
  EXPECT_EQ(HumanDuration(hours(24 * 3)), "3d");
  EXPECT_EQ(HumanDuration(hours(24 * 45)), "45d");
  EXPECT_EQ(HumanDuration(hours(24 * (365 * 2 + 100))), "2y100d");
  EXPECT_EQ(HumanDuration(hours(24 * 365 * 9)), "9y");
}

TEST(TableTest, PersistentVolumeClaims) {
  json pending = {{"metadata",
                   {{"name", "data"},
                    {"namespace", "default"},
                    {"uid", "u1"},
                    {"creationTimestamp", "2024-03-01T11:55:00Z"}}},
                  {"spec",
                   {{"accessModes", {"ReadWriteOnce"}},
                    {"resources", {{"requests", {{"storage", "10Gi"}}}}},
                    {"storageClassName", "byok"},
                    {"volumeMode", "Filesystem"}}},
                  {"status", {{"phase", "Pending"}}}};
  json bound = pending;
  bound["metadata"]["name"] = "bound";
  bound["metadata"]["creationTimestamp"] = "2024-02-28T12:00:00Z";
  bound["spec"]["volumeName"] = "pvc-1234";
  bound["status"] = {{"phase", "Bound"},
                     {"accessModes", {"ReadWriteOnce", "ReadOnlyMany"}},
                     {"capacity", {{"storage", "10Gi"}}}};
  json t = ToTable(K("", "persistentvolumeclaims"), {pending, bound}, Now(), false, "42");
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(t["metadata"]["resourceVersion"], "42");
  EXPECT_THAT(ColumnNames(t),
              ::testing::ElementsAre("Name", "Status", "Volume", "Capacity", "Access Modes",
                                     "StorageClass", "Age", "VolumeMode"));
  EXPECT_EQ(t["columnDefinitions"][0]["format"], "name");
  EXPECT_EQ(t["columnDefinitions"][7]["priority"], 1);
  EXPECT_EQ(t["rows"][0]["cells"],
            json({"data", "Pending", "", "", "", "byok", "5m", "Filesystem"}));
  EXPECT_EQ(t["rows"][1]["cells"],
            json({"bound", "Bound", "pvc-1234", "10Gi", "RWO,ROX", "byok", "2d", "Filesystem"}));
  EXPECT_EQ(t["rows"][0]["object"], (json{{"kind", "PartialObjectMetadata"},
                                          {"apiVersion", "meta.k8s.io/v1"},
                                          {"metadata", pending["metadata"]}}));
  json full = ToTable(K("", "persistentvolumeclaims"), {pending}, Now(), true, "");
  EXPECT_EQ(full["rows"][0]["object"], pending);
  EXPECT_FALSE(full["metadata"].contains("resourceVersion"));

  json deleting = pending;
  deleting["metadata"]["deletionTimestamp"] = "2024-03-01T12:00:00Z";
  deleting["metadata"].erase("creationTimestamp");
  deleting["spec"].erase("volumeMode");
  json d = ToTable(K("", "persistentvolumeclaims"), {deleting}, Now(), false, "1", "tok");
  EXPECT_EQ(d["rows"][0]["cells"][1], "Terminating");
  EXPECT_EQ(d["rows"][0]["cells"][6], "<unknown>");
  EXPECT_EQ(d["rows"][0]["cells"][7], "<unset>");
  EXPECT_EQ(d["metadata"]["continue"], "tok");
}

TEST(TableTest, PersistentVolumes) {
  json pv = {{"metadata", {{"name", "pvc-1"}, {"creationTimestamp", "2024-03-01T11:59:30Z"}}},
             {"spec",
              {{"accessModes", {"ReadWriteOnce"}},
               {"capacity", {{"storage", "5Gi"}}},
               {"claimRef", {{"namespace", "default"}, {"name", "data"}}},
               {"persistentVolumeReclaimPolicy", "Delete"},
               {"storageClassName", "byok"}}},
             {"status", {{"phase", "Bound"}}}};
  json t = ToTable(K("", "persistentvolumes"), {pv}, Now(), false, "7");
  EXPECT_THAT(ColumnNames(t),
              ::testing::ElementsAre("Name", "Capacity", "Access Modes", "Reclaim Policy", "Status",
                                     "Claim", "StorageClass", "Reason", "Age", "VolumeMode"));
  EXPECT_EQ(t["rows"][0]["cells"], json({"pvc-1", "5Gi", "RWO", "Delete", "Bound", "default/data",
                                         "byok", "", "30s", "<unset>"}));
}

TEST(TableTest, StorageClasses) {
  json def = {{"metadata",
               {{"name", "default"},
                {"creationTimestamp", "2024-03-01T10:00:00Z"},
                {"annotations", {{"storageclass.kubernetes.io/is-default-class", "true"}}}}},
              {"provisioner", "disk.csi.azure.com"},
              {"reclaimPolicy", "Delete"},
              {"volumeBindingMode", "WaitForFirstConsumer"},
              {"allowVolumeExpansion", true}};
  json byok = {{"metadata", {{"name", "byok"}, {"creationTimestamp", "2024-03-01T11:00:00Z"}}},
               {"provisioner", "disk.csi.azure.com"}};
  json t = ToTable(K("storage.k8s.io", "storageclasses"), {byok, def}, Now(), false, "9");
  EXPECT_THAT(ColumnNames(t),
              ::testing::ElementsAre("Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode",
                                     "AllowVolumeExpansion", "Age"));
  EXPECT_EQ(t["rows"][0]["cells"],
            json({"byok", "disk.csi.azure.com", "Delete", "Immediate", false, "60m"}));
  EXPECT_EQ(t["rows"][1]["cells"], json({"default (default)", "disk.csi.azure.com", "Delete",
                                         "WaitForFirstConsumer", true, "120m"}));
}

TEST(TableTest, Nodes) {
  json node = {
      {"metadata",
       {{"name", "aks-nodepool1-1-vmss000000"},
        {"creationTimestamp", "2024-03-01T09:00:00Z"},
        {"labels", {{"kubernetes.io/role", "agent"}, {"node-role.kubernetes.io/agent", ""}}}}},
      {"spec", {{"unschedulable", true}}},
      {"status",
       {{"conditions", {{{"type", "Ready"}, {"status", "Unknown"}}}},
        {"addresses", {{{"type", "InternalIP"}, {"address", "10.224.0.4"}}}},
        {"nodeInfo",
         {{"kubeletVersion", "v1.25.5"},
          {"osImage", "Ubuntu 22.04.1 LTS"},
          {"kernelVersion", "5.15.0-1033-azure"},
          {"containerRuntimeVersion", "containerd://1.6.17+azure-1"}}}}}};
  json t = ToTable(K("", "nodes"), {node}, Now(), false, "3");
  EXPECT_THAT(ColumnNames(t), ::testing::ElementsAre("Name", "Status", "Roles", "Age", "Version",
                                                     "Internal-IP", "External-IP", "OS-Image",
                                                     "Kernel-Version", "Container-Runtime"));
  EXPECT_EQ(t["rows"][0]["cells"],
            json({"aks-nodepool1-1-vmss000000", "NotReady,SchedulingDisabled", "agent", "3h",
                  "v1.25.5", "10.224.0.4", "<none>", "Ubuntu 22.04.1 LTS", "5.15.0-1033-azure",
                  "containerd://1.6.17+azure-1"}));
  json bare = {{"metadata", {{"name", "n"}}}};
  json b = ToTable(K("", "nodes"), {bare}, Now(), false, "3");
  EXPECT_EQ(b["rows"][0]["cells"][1], "Unknown");
  EXPECT_EQ(b["rows"][0]["cells"][2], "<none>");
  EXPECT_EQ(b["rows"][0]["cells"][7], "<unknown>");
}

TEST(TableTest, Events) {
  json ev = {{"metadata", {{"name", "data.17a"}, {"namespace", "default"}}},
             {"involvedObject", {{"kind", "PersistentVolumeClaim"}, {"name", "data"}}},
             {"reason", "ProvisioningFailed"},
             {"message", "  failed to provision volume  \n"},
             {"type", "Warning"},
             {"count", 3},
             {"firstTimestamp", "2024-03-01T11:50:00Z"},
             {"lastTimestamp", "2024-03-01T11:59:00Z"},
             {"source", {{"component", "disk.csi.azure.com_aks-1"}}}};
  json t = ToTable(K("", "events"), {ev}, Now(), false, "5");
  EXPECT_THAT(ColumnNames(t),
              ::testing::ElementsAre("Last Seen", "Type", "Reason", "Object", "Subobject", "Source",
                                     "Message", "First Seen", "Count", "Name"));
  EXPECT_EQ(t["rows"][0]["cells"],
            json({"60s", "Warning", "ProvisioningFailed", "persistentvolumeclaim/data", "",
                  "disk.csi.azure.com_aks-1", "failed to provision volume", "10m", 3, "data.17a"}));

  json new_api = {{"metadata", {{"name", "x"}}},
                  {"regarding", {{"kind", "PersistentVolumeClaim"}, {"name", "data"}}},
                  {"note", "ok"},
                  {"reason", "ProvisioningSucceeded"},
                  {"type", "Normal"},
                  {"eventTime", "2024-03-01T11:59:50.000000Z"},
                  {"reportingController", "disk.csi.azure.com"},
                  {"reportingInstance", "node-1"}};
  json e = ToTable(K("events.k8s.io", "events"), {new_api}, Now(), false, "5");
  EXPECT_EQ(e["rows"][0]["cells"],
            json({"10s", "Normal", "ProvisioningSucceeded", "persistentvolumeclaim/data", "",
                  "disk.csi.azure.com, node-1", "ok", "10s", 1, "x"}));
}

TEST(TableTest, NamespacesAndVolumeAttachments) {
  json ns = {{"metadata", {{"name", "default"}, {"creationTimestamp", "2024-03-01T11:59:59Z"}}},
             {"status", {{"phase", "Active"}}}};
  json t = ToTable(K("", "namespaces"), {ns}, Now(), false, "1");
  EXPECT_THAT(ColumnNames(t), ::testing::ElementsAre("Name", "Status", "Age"));
  EXPECT_EQ(t["rows"][0]["cells"], json({"default", "Active", "1s"}));

  json va = {{"metadata", {{"name", "csi-abc"}, {"creationTimestamp", "2024-03-01T12:00:00Z"}}},
             {"spec",
              {{"attacher", "disk.csi.azure.com"},
               {"nodeName", "aks-nodepool1-1-vmss000000"},
               {"source", {{"persistentVolumeName", "pvc-1"}}}}},
             {"status", {{"attached", true}}}};
  json v = ToTable(K("storage.k8s.io", "volumeattachments"), {va}, Now(), false, "1");
  EXPECT_THAT(ColumnNames(v),
              ::testing::ElementsAre("Name", "Attacher", "PV", "Node", "Attached", "Age"));
  EXPECT_EQ(v["rows"][0]["cells"], json({"csi-abc", "disk.csi.azure.com", "pvc-1",
                                         "aks-nodepool1-1-vmss000000", true, "0s"}));
}

}  // namespace
}  // namespace byok::kube
