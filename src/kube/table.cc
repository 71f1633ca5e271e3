#include "kube/table.h"

#include <algorithm>
#include <set>

#include "common/duration.h"
#include "kube/media_type.h"

namespace byok::kube {
namespace {

using nlohmann::json;

struct Column {
  const char* name;
  const char* type;  // "string", "integer", "boolean"
  const char* format;
  int priority;
  const char* description;
};

constexpr char kNameDoc[] =
    "Name identifies the object within its namespace (or the cluster); it cannot be changed.";
constexpr char kAgeDoc[] =
    "How long ago the object was created (its metadata.creationTimestamp, on the server's clock).";

Column NameColumn() { return {"Name", "string", "name", 0, kNameDoc}; }
Column AgeColumn() { return {"Age", "string", "", 0, kAgeDoc}; }

std::vector<Column> Columns(const Kind& k) {
  if (k.kind == "Namespace") {
    return {NameColumn(),
            {"Status", "string", "", 0, "The phase of the namespace: Active or Terminating."},
            AgeColumn()};
  }
  if (k.kind == "Node") {
    return {NameColumn(),
            {"Status", "string", "", 0,
             "Ready or NotReady after the node's Ready condition, with SchedulingDisabled when it "
             "is cordoned."},
            {"Roles", "string", "", 0, "The roles of the node, from its node-role labels."},
            AgeColumn(),
            {"Version", "string", "", 0, "The kubelet's version."},
            {"Internal-IP", "string", "", 1, "The node's internal IP address."},
            {"External-IP", "string", "", 1, "The node's external IP address."},
            {"OS-Image", "string", "", 1, "The operating system image of the node."},
            {"Kernel-Version", "string", "", 1, "The kernel release of the node."},
            {"Container-Runtime", "string", "", 1, "The container runtime and its version."}};
  }
  if (k.kind == "Pod") {
    return {NameColumn(),
            {"Ready", "string", "", 0, "The number of ready containers out of all containers."},
            {"Status", "string", "", 0, "The aggregate status of the containers of the pod."},
            {"Restarts", "string", "", 0, "The number of times the containers were restarted."},
            AgeColumn(),
            {"IP", "string", "", 1, "The IP address of the pod."},
            {"Node", "string", "", 1, "The node the pod is scheduled on."}};
  }
  if (k.kind == "PersistentVolume") {
    return {
        NameColumn(),
        {"Capacity", "string", "", 0, "The size of the volume (spec.capacity.storage)."},
        {"Access Modes", "string", "", 0, "The access modes of the volume: RWO, ROX, RWX, RWOP."},
        {"Reclaim Policy", "string", "", 0,
         "What happens to the volume when its claim is deleted: Delete or Retain."},
        {"Status", "string", "", 0,
         "The phase of the volume: Pending, Available, Bound, Released or Failed."},
        {"Claim", "string", "", 0, "The claim the volume is bound to (namespace/name)."},
        {"StorageClass", "string", "", 0, "The storage class of the volume."},
        {"Reason", "string", "", 0, "Why the volume failed, if it did."},
        AgeColumn(),
        {"VolumeMode", "string", "", 1, "Filesystem or Block."}};
  }
  if (k.kind == "PersistentVolumeClaim") {
    return {NameColumn(),
            {"Status", "string", "", 0, "The phase of the claim: Pending, Bound or Lost."},
            {"Volume", "string", "", 0, "The volume the claim is bound to."},
            {"Capacity", "string", "", 0, "The size of the bound volume."},
            {"Access Modes", "string", "", 0, "The access modes of the bound volume."},
            {"StorageClass", "string", "", 0, "The storage class the claim asks for."},
            AgeColumn(),
            {"VolumeMode", "string", "", 1, "Filesystem or Block."}};
  }
  if (k.kind == "Event") {
    return {{"Last Seen", "string", "", 0, "When the event was last observed."},
            {"Type", "string", "", 0, "Normal or Warning."},
            {"Reason", "string", "", 0, "The machine-readable reason of the event."},
            {"Object", "string", "", 0, "The object the event is about (kind/name)."},
            {"Subobject", "string", "", 1, "The part of the object the event is about."},
            {"Source", "string", "", 1, "The component that reported the event."},
            {"Message", "string", "", 0, "What happened."},
            {"First Seen", "string", "", 1, "When the event was first observed."},
            {"Count", "integer", "", 1, "How many times the event occurred."},
            {"Name", "string", "name", 1, kNameDoc}};
  }
  if (k.kind == "StorageClass") {
    return {NameColumn(),
            {"Provisioner", "string", "", 0, "The driver that provisions volumes of the class."},
            {"ReclaimPolicy", "string", "", 0, "The reclaim policy of provisioned volumes."},
            {"VolumeBindingMode", "string", "", 0,
             "When claims are bound: Immediate or WaitForFirstConsumer."},
            {"AllowVolumeExpansion", "boolean", "", 0, "Whether claims of the class may grow."},
            AgeColumn()};
  }
  if (k.kind == "VolumeAttachment") {
    return {NameColumn(),
            {"Attacher", "string", "", 0, "The driver that attaches the volume."},
            {"PV", "string", "", 0, "The persistent volume attached."},
            {"Node", "string", "", 0, "The node the volume is attached to."},
            {"Attached", "boolean", "", 0, "Whether the volume is attached."},
            AgeColumn()};
  }
  return {NameColumn(), AgeColumn()};
}

std::string Str(const json& obj, const json::json_pointer& ptr) {
  if (!obj.contains(ptr)) return "";
  const json& v = obj.at(ptr);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return "";
}

const json& Field(const json& obj, const json::json_pointer& ptr) {
  static const json kNull;
  return obj.contains(ptr) ? obj.at(ptr) : kNull;
}

std::string Since(const std::string& timestamp, TimePoint now) {
  if (timestamp.empty()) return "<unknown>";
  auto t = ParseTimestamp(timestamp);
  if (!t.ok()) return "<unknown>";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::string AccessModes(const json& modes) {
  if (!modes.is_array()) return "";
  std::set<std::string> present;
  for (const auto& m : modes) {
    if (m.is_string()) present.insert(m.get<std::string>());
  }
  std::string out;
  for (const auto& [mode, abbrev] :
       std::initializer_list<std::pair<const char*, const char*>>{{"ReadWriteOnce", "RWO"},
                                                                  {"ReadOnlyMany", "ROX"},
                                                                  {"ReadWriteMany", "RWX"},
                                                                  {"ReadWriteOncePod", "RWOP"}}) {
    if (!present.count(mode)) continue;
    if (!out.empty()) out += ",";
    out += abbrev;
  }
  return out;
}

bool Deleting(const json& o) {
  return !Str(o, json::json_pointer("/metadata/deletionTimestamp")).empty();
}

std::string ClassOf(const json& o) {
  const json& ann = Field(o, json::json_pointer("/metadata/annotations"));
  if (ann.is_object()) {
    auto it = ann.find("volume.beta.kubernetes.io/storage-class");
    if (it != ann.end() && it->is_string()) return it->get<std::string>();
  }
  return Str(o, json::json_pointer("/spec/storageClassName"));
}

std::string VolumeMode(const json& o) {
  std::string m = Str(o, json::json_pointer("/spec/volumeMode"));
  return m.empty() ? "<unset>" : m;
}

std::string OrUnknown(std::string s) { return s.empty() ? "<unknown>" : s; }

std::string NodeAddress(const json& o, std::string_view type) {
  const json& addrs = Field(o, json::json_pointer("/status/addresses"));
  if (addrs.is_array()) {
    for (const auto& a : addrs) {
      if (a.is_object() && a.value("type", "") == type) return a.value("address", "");
    }
  }
  return "<none>";
}

json NodeCells(const json& o, const std::string& age) {
  std::vector<std::string> status;
  const json& conds = Field(o, json::json_pointer("/status/conditions"));
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (c.is_object() && c.value("type", "") == "Ready") {
        status.push_back(c.value("status", "") == "True" ? "Ready" : "NotReady");
        break;
      }
    }
  }
  if (status.empty()) status.push_back("Unknown");
  if (Field(o, json::json_pointer("/spec/unschedulable")) == true) {
    status.push_back("SchedulingDisabled");
  }
  std::set<std::string> roles;
  const json& labels = Field(o, json::json_pointer("/metadata/labels"));
  if (labels.is_object()) {
    constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
    for (const auto& [key, value] : labels.items()) {
      if (key.substr(0, kRolePrefix.size()) == kRolePrefix && key.size() > kRolePrefix.size()) {
        roles.insert(key.substr(kRolePrefix.size()));
      } else if (key == "kubernetes.io/role" && value.is_string() &&
                 !value.get<std::string>().empty()) {
        roles.insert(value.get<std::string>());
      }
    }
  }
  auto join = [](const auto& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
    return out;
  };
  std::string role_text = roles.empty() ? "<none>" : join(roles);
  return json::array(
      {Str(o, json::json_pointer("/metadata/name")), join(status), role_text, age,
       Str(o, json::json_pointer("/status/nodeInfo/kubeletVersion")), NodeAddress(o, "InternalIP"),
       NodeAddress(o, "ExternalIP"),
       OrUnknown(Str(o, json::json_pointer("/status/nodeInfo/osImage"))),
       OrUnknown(Str(o, json::json_pointer("/status/nodeInfo/kernelVersion"))),
       OrUnknown(Str(o, json::json_pointer("/status/nodeInfo/containerRuntimeVersion")))});
}

// An events.k8s.io/v1 Event in its core v1 form (the fields the printer reads).
json CoreEvent(const json& e) {
  json c = e;
  auto move = [&](const char* from, const char* to) {
    if (e.contains(from)) c[to] = e[from];
  };
  move("regarding", "involvedObject");
  move("note", "message");
  move("deprecatedCount", "count");
  move("deprecatedFirstTimestamp", "firstTimestamp");
  move("deprecatedLastTimestamp", "lastTimestamp");
  move("deprecatedSource", "source");
  move("reportingController", "reportingComponent");
  return c;
}

json EventCells(const json& o, TimePoint now) {
  std::string first = Since(Str(o, json::json_pointer("/firstTimestamp")), now);
  if (Str(o, json::json_pointer("/firstTimestamp")).empty()) {
    first = Since(Str(o, json::json_pointer("/eventTime")), now);
  }
  std::string last = Str(o, json::json_pointer("/lastTimestamp")).empty()
                         ? first
                         : Since(Str(o, json::json_pointer("/lastTimestamp")), now);
  const json& count_field = Field(o, json::json_pointer("/count"));
  int64_t count = count_field.is_number_integer() ? count_field.get<int64_t>() : 0;
  const json& series = Field(o, json::json_pointer("/series"));
  if (series.is_object()) {
    last = Since(series.value("lastObservedTime", ""), now);
    count = series.value("count", int64_t{0});
  } else if (count == 0) {
    count = 1;  // singleton events of the new API carry no count
  }
  std::string kind = Str(o, json::json_pointer("/involvedObject/kind"));
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  std::string name = Str(o, json::json_pointer("/involvedObject/name"));
  std::string target = name.empty() ? kind : kind + "/" + name;
  std::string component = Str(o, json::json_pointer("/source/component"));
  if (component.empty()) component = Str(o, json::json_pointer("/reportingComponent"));
  std::string host = Str(o, json::json_pointer("/source/host"));
  if (host.empty()) host = Str(o, json::json_pointer("/reportingInstance"));
  std::string source = component.empty() ? "" : host.empty() ? component : component + ", " + host;
  std::string message = Str(o, json::json_pointer("/message"));
  size_t b = message.find_first_not_of(" \t\r\n");
  size_t e = message.find_last_not_of(" \t\r\n");
  message = b == std::string::npos ? "" : message.substr(b, e - b + 1);
  return json::array({last, Str(o, json::json_pointer("/type")),
                      Str(o, json::json_pointer("/reason")), target,
                      Str(o, json::json_pointer("/involvedObject/fieldPath")), source, message,
                      first, count, Str(o, json::json_pointer("/metadata/name"))});
}

json Cells(const Kind& k, const json& o, TimePoint now) {
  std::string name = Str(o, json::json_pointer("/metadata/name"));
  std::string age = Since(Str(o, json::json_pointer("/metadata/creationTimestamp")), now);
  if (k.kind == "Namespace") {
    return json::array({name, Str(o, json::json_pointer("/status/phase")), age});
  }
  if (k.kind == "Node") return NodeCells(o, age);
  if (k.kind == "Pod") {  // (never served: byok runs no pods)
    return json::array({name, "0/0", Str(o, json::json_pointer("/status/phase")), "0", age,
                        Str(o, json::json_pointer("/status/podIP")),
                        Str(o, json::json_pointer("/spec/nodeName"))});
  }
  if (k.kind == "PersistentVolume") {
    std::string claim;
    if (Field(o, json::json_pointer("/spec/claimRef")).is_object()) {
      claim = Str(o, json::json_pointer("/spec/claimRef/namespace")) + "/" +
              Str(o, json::json_pointer("/spec/claimRef/name"));
    }
    std::string size = Str(o, json::json_pointer("/spec/capacity/storage"));
    std::string phase = Deleting(o) ? "Terminating" : Str(o, json::json_pointer("/status/phase"));
    return json::array({name, size.empty() ? "0" : size,
                        AccessModes(Field(o, json::json_pointer("/spec/accessModes"))),
                        Str(o, json::json_pointer("/spec/persistentVolumeReclaimPolicy")), phase,
                        claim, ClassOf(o), Str(o, json::json_pointer("/status/reason")), age,
                        VolumeMode(o)});
  }
  if (k.kind == "PersistentVolumeClaim") {
    std::string volume = Str(o, json::json_pointer("/spec/volumeName"));
    std::string capacity, modes;
    if (!volume.empty()) {
      modes = AccessModes(Field(o, json::json_pointer("/status/accessModes")));
      capacity = Str(o, json::json_pointer("/status/capacity/storage"));
      if (capacity.empty()) capacity = "0";
    }
    std::string phase = Deleting(o) ? "Terminating" : Str(o, json::json_pointer("/status/phase"));
    return json::array({name, phase, volume, capacity, modes, ClassOf(o), age, VolumeMode(o)});
  }
  if (k.kind == "Event") {
    return EventCells(k.group == "events.k8s.io" ? CoreEvent(o) : o, now);
  }
  if (k.kind == "StorageClass") {
    const json& ann = Field(o, json::json_pointer("/metadata/annotations"));
    bool is_default = false;
    if (ann.is_object()) {
      for (const char* key : {"storageclass.kubernetes.io/is-default-class",
                              "storageclass.beta.kubernetes.io/is-default-class"}) {
        auto it = ann.find(key);
        is_default = is_default || (it != ann.end() && *it == "true");
      }
    }
    std::string reclaim = Str(o, json::json_pointer("/reclaimPolicy"));
    std::string binding = Str(o, json::json_pointer("/volumeBindingMode"));
    const json& expand = Field(o, json::json_pointer("/allowVolumeExpansion"));
    return json::array(
        {is_default ? name + " (default)" : name, Str(o, json::json_pointer("/provisioner")),
         reclaim.empty() ? "Delete" : reclaim, binding.empty() ? "Immediate" : binding,
         expand.is_boolean() && expand.get<bool>(), age});
  }
  if (k.kind == "VolumeAttachment") {
    const json& attached = Field(o, json::json_pointer("/status/attached"));
    return json::array({name, Str(o, json::json_pointer("/spec/attacher")),
                        Str(o, json::json_pointer("/spec/source/persistentVolumeName")),
                        Str(o, json::json_pointer("/spec/nodeName")),
                        attached.is_boolean() && attached.get<bool>(), age});
  }
  return json::array({name, age});
}

}  // namespace

bool WantsTable(std::string_view accept) {
  for (const MediaRange& m : ParseAccept(accept)) {
    if (m.type == "application/json" && m.Param("as") == "Table" && m.Param("g") == "meta.k8s.io" &&
        m.Param("v") == "v1") {
      return true;
    }
  }
  return false;
}

json ToTable(const Kind& kind, const std::vector<json>& objects, TimePoint now,
             bool include_full_object, std::string_view list_resource_version,
             std::string_view continue_token) {
  json columns = json::array();
  for (const Column& c : Columns(kind)) {
    columns.push_back({{"name", c.name},
                       {"type", c.type},
                       {"format", c.format},
                       {"description", c.description},
                       {"priority", c.priority}});
  }
  json rows = json::array();
  for (const json& o : objects) {
    json object;
    if (include_full_object) {
      object = o;
    } else {
      object = {{"kind", "PartialObjectMetadata"},
                {"apiVersion", "meta.k8s.io/v1"},
                {"metadata", o.contains("metadata") ? o["metadata"] : json::object()}};
    }
    rows.push_back({{"cells", Cells(kind, o, now)}, {"object", object}});
  }
  json metadata = json::object();
  if (!list_resource_version.empty()) metadata["resourceVersion"] = list_resource_version;
  if (!continue_token.empty()) metadata["continue"] = continue_token;
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", metadata},
          {"columnDefinitions", columns},
          {"rows", rows}};
}

std::string HumanDuration(std::chrono::seconds d) {
  int64_t seconds = d.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return s == 0 ? std::to_string(minutes) + "m"
                  : std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  int64_t hours = minutes / 60;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return m == 0 ? std::to_string(hours) + "h"
                  : std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return h == 0 ? std::to_string(hours / 24) + "d"
                  : std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    return dy == 0 ? std::to_string(hours / 24 / 365) + "y"
                   : std::to_string(hours / 24 / 365) + "y" + std::to_string(dy) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

}  // namespace byok::kube
