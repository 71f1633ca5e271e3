#include "kube/resources.h"

#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace byok::kube {

using nlohmann::json;

namespace {

constexpr char kSubdomainMessage[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
constexpr char kLabelMessage[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

bool Is(const Kind& kind, std::string_view group, std::string_view resource) {
  return kind.group == group && kind.resource == resource;
}

FieldError Required(std::string field, std::string_view detail = "") {
  std::string body = "Required value";
  if (!detail.empty()) body += ": " + std::string(detail);
  return {"FieldValueRequired", std::move(field), std::move(body)};
}

FieldError Forbidden(std::string field, std::string_view detail) {
  return {"FieldValueForbidden", std::move(field), "Forbidden: " + std::string(detail)};
}

std::string Quote(const json& v) { return v.is_string() ? json(v).dump() : v.dump(); }

FieldError Invalid(std::string field, const json& value, std::string_view detail) {
  return {"FieldValueInvalid", std::move(field),
          fmt::format("Invalid value: {}: {}", Quote(value), detail)};
}

FieldError NotSupported(std::string field, const json& value,
                        const std::vector<std::string>& supported) {
  std::string list;
  for (const std::string& s : supported) {
    if (!list.empty()) list += ", ";
    list += json(s).dump();
  }
  return {"FieldValueNotSupported", std::move(field),
          fmt::format("Unsupported value: {}: supported values: {}", Quote(value), list)};
}

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (part.empty() || !IsAlnum(part.front()) || !IsAlnum(part.back())) return false;
    for (char c : part) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

const json& At(const json& obj, std::initializer_list<const char*> path) {
  static const json kNull;
  const json* cur = &obj;
  for (const char* p : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(p);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string StringAt(const json& obj, std::initializer_list<const char*> path) {
  const json& v = At(obj, path);
  return v.is_string() ? v.get<std::string>() : "";
}

void ValidateMeta(const Kind& kind, const json& obj, std::vector<FieldError>& errs) {
  const json& name = At(obj, {"metadata", "name"});
  std::string n = name.is_string() ? name.get<std::string>() : "";
  if (n.empty()) {
    errs.push_back(Required("metadata.name", "name or generateName is required"));
    return;
  }
  bool label = Is(kind, "", "namespaces");
  if (label ? !IsDnsLabel(n) : !IsDnsSubdomain(n)) {
    if (n.size() > (label ? 63u : 253u)) {
      errs.push_back(Invalid("metadata.name", n,
                             fmt::format("must be no more than {} characters", label ? 63 : 253)));
    } else {
      errs.push_back(Invalid("metadata.name", n, label ? kLabelMessage : kSubdomainMessage));
    }
  }
}

const std::vector<std::string>& AccessModes() {
  static const std::vector<std::string> v = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                             "ReadWriteOncePod"};
  return v;
}

void ValidateAccessModes(const json& modes, const std::string& field,
                         std::vector<FieldError>& errs) {
  if (!modes.is_array() || modes.empty()) {
    errs.push_back(Required(field, "at least 1 access mode is required"));
    return;
  }
  for (const json& m : modes) {
    if (!m.is_string() || std::find(AccessModes().begin(), AccessModes().end(),
                                    m.get<std::string>()) == AccessModes().end()) {
      errs.push_back(NotSupported(field, m, AccessModes()));
    }
  }
}

void ValidateVolumeMode(const json& mode, const std::string& field, std::vector<FieldError>& errs) {
  if (mode.is_null()) return;
  if (mode != "Block" && mode != "Filesystem") {
    errs.push_back(NotSupported(field, mode, {"Block", "Filesystem"}));
  }
}

void ValidateStorageQuantity(const json& q, const std::string& field,
                             std::vector<FieldError>& errs) {
  if (q.is_null()) {
    errs.push_back(Required(field));
    return;
  }
  std::string text = q.is_string() ? q.get<std::string>() : q.dump();
  std::optional<long double> v = ParseQuantityValue(text);
  if (!v.has_value()) {
    errs.push_back(Invalid(field, text,
                           "quantities must match the regular expression "
                           "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  } else if (*v <= 0) {
    errs.push_back(Invalid(field, text, "must be greater than zero"));
  }
}

void ValidatePvc(const json& obj, std::vector<FieldError>& errs) {
  ValidateAccessModes(At(obj, {"spec", "accessModes"}), "spec.accessModes", errs);
  ValidateStorageQuantity(At(obj, {"spec", "resources", "requests", "storage"}),
                          "spec.resources[storage]", errs);
  ValidateVolumeMode(At(obj, {"spec", "volumeMode"}), "spec.volumeMode", errs);
}

const std::vector<std::string>& VolumeSources() {
  static const std::vector<std::string> v = {"csi",
                                             "hostPath",
                                             "local",
                                             "nfs",
                                             "azureDisk",
                                             "azureFile",
                                             "iscsi",
                                             "fc",
                                             "gcePersistentDisk",
                                             "awsElasticBlockStore",
                                             "cephfs",
                                             "rbd",
                                             "glusterfs",
                                             "cinder",
                                             "flexVolume",
                                             "vsphereVolume",
                                             "quobyte",
                                             "photonPersistentDisk",
                                             "portworxVolume",
                                             "scaleIO",
                                             "storageos",
                                             "flocker"};
  return v;
}

void ValidatePv(const json& obj, std::vector<FieldError>& errs) {
  ValidateAccessModes(At(obj, {"spec", "accessModes"}), "spec.accessModes", errs);
  const json& capacity = At(obj, {"spec", "capacity"});
  if (!capacity.is_object() || capacity.empty()) {
    errs.push_back(Required("spec.capacity"));
  } else {
    ValidateStorageQuantity(At(obj, {"spec", "capacity", "storage"}), "spec.capacity[storage]",
                            errs);
  }
  int sources = 0;
  for (const std::string& s : VolumeSources()) {
    if (At(obj, {"spec"}).is_object() && At(obj, {"spec"}).contains(s)) ++sources;
  }
  if (sources == 0) errs.push_back(Required("spec", "must specify a volume type"));
  if (sources > 1) errs.push_back(Forbidden("spec", "may not specify more than 1 volume type"));
  const json& policy = At(obj, {"spec", "persistentVolumeReclaimPolicy"});
  if (!policy.is_null() && policy != "Delete" && policy != "Recycle" && policy != "Retain") {
    errs.push_back(NotSupported("spec.persistentVolumeReclaimPolicy", policy,
                                {"Delete", "Recycle", "Retain"}));
  }
  ValidateVolumeMode(At(obj, {"spec", "volumeMode"}), "spec.volumeMode", errs);
  const json& csi = At(obj, {"spec", "csi"});
  if (csi.is_object()) {
    if (StringAt(csi, {"driver"}).empty()) errs.push_back(Required("spec.csi.driver"));
    if (StringAt(csi, {"volumeHandle"}).empty()) errs.push_back(Required("spec.csi.volumeHandle"));
  }
}

void ValidateStorageClass(const json& obj, std::vector<FieldError>& errs) {
  const std::string provisioner = StringAt(obj, {"provisioner"});
  if (provisioner.empty()) {
    errs.push_back(Required("provisioner"));
  } else if (provisioner.size() > 63) {
    errs.push_back(Invalid("provisioner", provisioner,
                           "name is too long (must be no more than 63 characters)"));
  }
  const json& params = At(obj, {"parameters"});
  if (!params.is_null() && params.is_object()) {
    for (auto it = params.begin(); it != params.end(); ++it) {
      if (it.key().empty()) errs.push_back(Invalid("parameters", "", "field can not be empty."));
    }
  }
  const json& policy = At(obj, {"reclaimPolicy"});
  if (!policy.is_null() && policy != "Delete" && policy != "Retain") {
    errs.push_back(NotSupported("reclaimPolicy", policy, {"Delete", "Retain"}));
  }
  const json& mode = At(obj, {"volumeBindingMode"});
  if (!mode.is_null() && mode != "Immediate" && mode != "WaitForFirstConsumer") {
    errs.push_back(NotSupported("volumeBindingMode", mode, {"Immediate", "WaitForFirstConsumer"}));
  }
}

void ValidateVolumeAttachment(const json& obj, std::vector<FieldError>& errs) {
  if (StringAt(obj, {"spec", "attacher"}).empty()) errs.push_back(Required("spec.attacher"));
  if (StringAt(obj, {"spec", "nodeName"}).empty()) errs.push_back(Required("spec.nodeName"));
  const json& source = At(obj, {"spec", "source"});
  int n = 0;
  if (source.is_object()) {
    if (source.contains("persistentVolumeName")) ++n;
    if (source.contains("inlineVolumeSpec")) ++n;
  }
  if (n != 1) {
    errs.push_back(Required(
        "spec.source", "must specify exactly one of inlineVolumeSpec and persistentVolumeName"));
  }
}

void Defaults(const Kind& kind, json& obj) {
  if (Is(kind, "", "persistentvolumeclaims")) {
    if (!At(obj, {"spec", "volumeMode"}).is_string()) obj["spec"]["volumeMode"] = "Filesystem";
    if (!At(obj, {"status", "phase"}).is_string()) obj["status"]["phase"] = "Pending";
  } else if (Is(kind, "", "persistentvolumes")) {
    if (!At(obj, {"spec", "persistentVolumeReclaimPolicy"}).is_string()) {
      obj["spec"]["persistentVolumeReclaimPolicy"] = "Retain";
    }
    if (!At(obj, {"spec", "volumeMode"}).is_string()) obj["spec"]["volumeMode"] = "Filesystem";
    if (!At(obj, {"status", "phase"}).is_string()) obj["status"]["phase"] = "Pending";
  } else if (Is(kind, "storage.k8s.io", "storageclasses")) {
    if (!obj.contains("reclaimPolicy") || obj["reclaimPolicy"].is_null()) {
      obj["reclaimPolicy"] = "Delete";
    }
    if (!obj.contains("volumeBindingMode") || obj["volumeBindingMode"].is_null()) {
      obj["volumeBindingMode"] = "Immediate";
    }
  } else if (Is(kind, "", "namespaces")) {
    std::string name = StringAt(obj, {"metadata", "name"});
    if (!name.empty()) obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    if (!At(obj, {"status", "phase"}).is_string()) obj["status"]["phase"] = "Active";
    if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
  }
}

bool HasStatus(const Kind& kind) {
  return std::find(kind.subresources.begin(), kind.subresources.end(), "status") !=
         kind.subresources.end();
}

}  // namespace

std::string AggregateMessage(const std::vector<FieldError>& errors) {
  if (errors.size() == 1) return errors[0].Message();
  std::string out = "[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) out += ", ";
    out += errors[i].Message();
  }
  return out + "]";
}

json InvalidCauses(const std::vector<FieldError>& errors) {
  json causes = json::array();
  for (const FieldError& e : errors) {
    causes.push_back({{"reason", e.type}, {"message", e.body}, {"field", e.field}});
  }
  return causes;
}

json InvalidDetails(const Kind& kind, std::string_view name,
                    const std::vector<FieldError>& errors) {
  json details = {{"name", name}, {"kind", kind.kind}};
  if (!kind.group.empty()) details["group"] = kind.group;
  details["causes"] = InvalidCauses(errors);
  return details;
}

std::string QualifiedKind(const Kind& kind) {
  return kind.group.empty() ? kind.kind : kind.kind + "." + kind.group;
}

std::string QualifiedResource(const Kind& kind) {
  return kind.group.empty() ? kind.resource : kind.resource + "." + kind.group;
}

std::optional<long double> ParseQuantityValue(std::string_view q) {
  size_t i = 0;
  std::string number;
  if (i < q.size() && (q[i] == '+' || q[i] == '-')) number.push_back(q[i++]);
  bool digits = false;
  while (i < q.size() && ((q[i] >= '0' && q[i] <= '9') || q[i] == '.')) {
    digits = digits || q[i] != '.';
    number.push_back(q[i++]);
  }
  if (!digits) return std::nullopt;
  long double value = 0;
  try {
    value = std::stold(number);
  } catch (...) {
    return std::nullopt;
  }
  std::string_view suffix = q.substr(i);
  static const std::pair<std::string_view, long double> kSuffixes[] = {
      {"", 1},
      {"Ki", 1024.0L},
      {"Mi", 1048576.0L},
      {"Gi", 1073741824.0L},
      {"Ti", 1099511627776.0L},
      {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L},
      {"n", 1e-9L},
      {"u", 1e-6L},
      {"m", 1e-3L},
      {"k", 1e3L},
      {"M", 1e6L},
      {"G", 1e9L},
      {"T", 1e12L},
      {"P", 1e15L},
      {"E", 1e18L}};
  for (const auto& [s, mult] : kSuffixes) {
    if (suffix == s) return value * mult;
  }
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view exp = suffix.substr(1);
    size_t j = 0;
    if (j < exp.size() && (exp[j] == '+' || exp[j] == '-')) ++j;
    if (j == exp.size()) return std::nullopt;
    for (size_t k = j; k < exp.size(); ++k) {
      if (exp[k] < '0' || exp[k] > '9') return std::nullopt;
    }
    return value * std::pow(10.0L, std::stold(std::string(exp)));
  }
  return std::nullopt;
}

void PrepareForCreate(const Kind& kind, json& obj) {
  if (HasStatus(kind) && !Is(kind, "", "nodes")) obj.erase("status");
  Defaults(kind, obj);
}

void PrepareForUpdate(const Kind& kind, const json& old, json& obj, bool status_subresource) {
  if (HasStatus(kind)) {
    if (status_subresource) {
      json status = obj.contains("status") ? obj["status"] : json();
      json metadata = obj.contains("metadata") ? obj["metadata"] : json::object();
      obj = old;
      if (status.is_null()) {
        obj.erase("status");
      } else {
        obj["status"] = std::move(status);
      }
      // Status writes may still change labels/annotations? No: the apiserver keeps the old
      // metadata except resourceVersion (the precondition).
      if (metadata.contains("resourceVersion")) {
        obj["metadata"]["resourceVersion"] = metadata["resourceVersion"];
      } else {
        obj["metadata"].erase("resourceVersion");
      }
    } else if (old.contains("status")) {
      obj["status"] = old["status"];
    } else {
      obj.erase("status");
    }
  }
  Defaults(kind, obj);
}

std::vector<FieldError> ValidateCreate(const Kind& kind, const json& obj) {
  std::vector<FieldError> errs;
  ValidateMeta(kind, obj, errs);
  if (Is(kind, "", "persistentvolumeclaims")) ValidatePvc(obj, errs);
  if (Is(kind, "", "persistentvolumes")) ValidatePv(obj, errs);
  if (Is(kind, "storage.k8s.io", "storageclasses")) ValidateStorageClass(obj, errs);
  if (Is(kind, "storage.k8s.io", "volumeattachments")) ValidateVolumeAttachment(obj, errs);
  if (Is(kind, "", "events") && !At(obj, {"involvedObject"}).is_object()) {
    errs.push_back(Required("involvedObject"));
  }
  return errs;
}

std::vector<FieldError> ValidateUpdate(const Kind& kind, const json& old, const json& obj) {
  std::vector<FieldError> errs = ValidateCreate(kind, obj);
  if (Is(kind, "storage.k8s.io", "storageclasses")) {
    json op = At(old, {"parameters"});
    json np = At(obj, {"parameters"});
    if (op.is_object() && op.empty()) op = nullptr;
    if (np.is_object() && np.empty()) np = nullptr;
    if (op != np) errs.push_back(Forbidden("parameters", "updates to parameters are forbidden."));
    if (At(old, {"provisioner"}) != At(obj, {"provisioner"})) {
      errs.push_back(Forbidden("provisioner", "updates to provisioner are forbidden."));
    }
    if (At(old, {"reclaimPolicy"}) != At(obj, {"reclaimPolicy"})) {
      errs.push_back(Forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
    }
    if (At(old, {"volumeBindingMode"}) != At(obj, {"volumeBindingMode"})) {
      errs.push_back(
          Invalid("volumeBindingMode", At(obj, {"volumeBindingMode"}), "field is immutable"));
    }
  } else if (Is(kind, "", "persistentvolumeclaims")) {
    json old_spec = At(old, {"spec"});
    json new_spec = At(obj, {"spec"});
    const bool bound = StringAt(old, {"status", "phase"}) == "Bound";
    if (StringAt(old_spec, {"volumeName"}).empty() && new_spec.is_object()) {
      new_spec.erase("volumeName");
      if (old_spec.is_object()) old_spec.erase("volumeName");
    }
    if (bound) {
      auto o = ParseQuantityValue(StringAt(old_spec, {"resources", "requests", "storage"}));
      auto n = ParseQuantityValue(StringAt(new_spec, {"resources", "requests", "storage"}));
      if (o && n && *n < *o) {
        errs.push_back(Forbidden("spec.resources.requests.storage",
                                 "field can not be less than previous value"));
      }
      if (new_spec.is_object() && old_spec.is_object() && old_spec.contains("resources")) {
        new_spec["resources"]["requests"]["storage"] = old_spec["resources"]["requests"]["storage"];
      }
    }
    if (old_spec != new_spec) {
      errs.push_back(Forbidden("spec",
                               "spec is immutable after creation except resources.requests for "
                               "bound claims"));
    }
  } else if (Is(kind, "", "persistentvolumes")) {
    for (const std::string& s : VolumeSources()) {
      if (At(old, {"spec"}).is_object() && At(obj, {"spec"}).is_object() &&
          At(old, {"spec"}).value(s, json()) != At(obj, {"spec"}).value(s, json())) {
        errs.push_back(Forbidden("spec.persistentvolumesource",
                                 "spec.persistentvolumesource is immutable after creation"));
        break;
      }
    }
  } else if (Is(kind, "storage.k8s.io", "volumeattachments")) {
    if (At(old, {"spec"}) != At(obj, {"spec"})) {
      errs.push_back(Invalid("spec", At(obj, {"spec"}), "field is immutable"));
    }
  }
  return errs;
}

std::vector<std::string> UnknownFields(const Kind& kind, const json& obj) {
  std::vector<std::string> out;
  if (!obj.is_object()) return out;
  std::set<std::string> known = {"apiVersion", "kind", "metadata"};
  if (Is(kind, "storage.k8s.io", "storageclasses")) {
    known.insert({"provisioner", "parameters", "reclaimPolicy", "mountOptions",
                  "allowVolumeExpansion", "volumeBindingMode", "allowedTopologies"});
  } else if (kind.resource == "events") {
    known.insert({"involvedObject",
                  "reason",
                  "message",
                  "source",
                  "firstTimestamp",
                  "lastTimestamp",
                  "count",
                  "type",
                  "eventTime",
                  "series",
                  "action",
                  "related",
                  "reportingComponent",
                  "reportingInstance",
                  "regarding",
                  "note",
                  "reportingController",
                  "deprecatedSource",
                  "deprecatedFirstTimestamp",
                  "deprecatedLastTimestamp",
                  "deprecatedCount"});
  } else {
    known.insert({"spec", "status"});
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (known.count(it.key()) == 0) out.push_back(fmt::format("unknown field \"{}\"", it.key()));
  }
  static const std::set<std::string> kMeta = {"name",
                                              "generateName",
                                              "namespace",
                                              "selfLink",
                                              "uid",
                                              "resourceVersion",
                                              "generation",
                                              "creationTimestamp",
                                              "deletionTimestamp",
                                              "deletionGracePeriodSeconds",
                                              "labels",
                                              "annotations",
                                              "ownerReferences",
                                              "finalizers",
                                              "managedFields"};
  const json& meta = At(obj, {"metadata"});
  if (meta.is_object()) {
    for (auto it = meta.begin(); it != meta.end(); ++it) {
      if (kMeta.count(it.key()) == 0) {
        out.push_back(fmt::format("unknown field \"metadata.{}\"", it.key()));
      }
    }
  }
  return out;
}

namespace {

void Move(const json& from, const char* from_key, json& to, const char* to_key) {
  if (from.contains(from_key)) to[to_key] = from[from_key];
}

}  // namespace

json CoreEventFromEventsV1(const json& e) {
  json out = json::object();
  for (const char* k : {"metadata", "eventTime", "series", "action", "reason", "related",
                        "reportingInstance", "type"}) {
    Move(e, k, out, k);
  }
  Move(e, "regarding", out, "involvedObject");
  Move(e, "note", out, "message");
  Move(e, "reportingController", out, "reportingComponent");
  Move(e, "deprecatedSource", out, "source");
  Move(e, "deprecatedFirstTimestamp", out, "firstTimestamp");
  Move(e, "deprecatedLastTimestamp", out, "lastTimestamp");
  Move(e, "deprecatedCount", out, "count");
  out["apiVersion"] = "v1";
  out["kind"] = "Event";
  return out;
}

json EventsV1FromCoreEvent(const json& e) {
  json out = json::object();
  for (const char* k : {"metadata", "eventTime", "series", "action", "reason", "related",
                        "reportingInstance", "type"}) {
    Move(e, k, out, k);
  }
  Move(e, "involvedObject", out, "regarding");
  Move(e, "message", out, "note");
  Move(e, "reportingComponent", out, "reportingController");
  Move(e, "source", out, "deprecatedSource");
  Move(e, "firstTimestamp", out, "deprecatedFirstTimestamp");
  Move(e, "lastTimestamp", out, "deprecatedLastTimestamp");
  Move(e, "count", out, "deprecatedCount");
  out["apiVersion"] = "events.k8s.io/v1";
  out["kind"] = "Event";
  return out;
}

}  // namespace byok::kube
