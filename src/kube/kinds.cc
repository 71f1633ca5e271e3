#include "kube/kinds.h"

namespace byok::kube {
namespace {

const std::vector<std::string>& StoredVerbs() {
  static const std::vector<std::string> v = {"create", "delete", "deletecollection", "get",
                                             "list",   "patch",  "update",           "watch"};
  return v;
}

Kind Make(std::string group, std::string kind, std::string resource, bool namespaced,
          std::vector<std::string> short_names, std::vector<std::string> subresources) {
  Kind k;
  k.group = std::move(group);
  k.version = "v1";
  k.kind = kind;
  k.list_kind = kind + "List";
  k.resource = resource;
  k.singular.reserve(kind.size());
  for (char c : kind) {
    k.singular.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  k.namespaced = namespaced;
  k.short_names = std::move(short_names);
  k.verbs = StoredVerbs();
  k.subresources = std::move(subresources);
  return k;
}

std::vector<Kind> BuildKinds() {
  std::vector<Kind> kinds;
  Kind ns = Make("", "Namespace", "namespaces", false, {"ns"}, {"status"});
  // The apiserver has no deletecollection on namespaces.
  ns.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  kinds.push_back(ns);
  Kind node = Make("", "Node", "nodes", false, {"no"}, {"status"});
  node.verbs = {"get", "list", "watch"};
  node.read_only = true;
  kinds.push_back(node);
  kinds.push_back(Make("", "PersistentVolume", "persistentvolumes", false, {"pv"}, {"status"}));
  kinds.push_back(
      Make("", "PersistentVolumeClaim", "persistentvolumeclaims", true, {"pvc"}, {"status"}));
  // byok runs no workloads: pods are listed (always none) so `kubectl describe pvc` can fill
  // "Used By". "create" is listed (and documented in OpenAPI, which kubectl's validation of a Pod
  // manifest needs) so that `kubectl apply` reaches the server, which refuses it (405).
  Kind pod = Make("", "Pod", "pods", true, {"po"}, {});
  pod.verbs = {"create", "get", "list"};
  pod.read_only = true;
  kinds.push_back(pod);
  kinds.push_back(Make("", "Event", "events", true, {"ev"}, {}));
  kinds.push_back(Make("storage.k8s.io", "StorageClass", "storageclasses", false, {"sc"}, {}));
  kinds.push_back(
      Make("storage.k8s.io", "VolumeAttachment", "volumeattachments", false, {}, {"status"}));
  kinds.push_back(Make("events.k8s.io", "Event", "events", true, {"ev"}, {}));
  return kinds;
}

}  // namespace

std::string Kind::ApiVersion() const { return group.empty() ? version : group + "/" + version; }

const std::vector<Kind>& ServedKinds() {
  static const std::vector<Kind> kinds = BuildKinds();
  return kinds;
}

const Kind* FindKind(std::string_view group, std::string_view version, std::string_view resource) {
  for (const Kind& k : ServedKinds()) {
    if (k.group == group && k.version == version && k.resource == resource) return &k;
  }
  return nullptr;
}

const Kind* FindKindByName(std::string_view api_version, std::string_view kind) {
  for (const Kind& k : ServedKinds()) {
    if (k.kind == kind && k.ApiVersion() == api_version) return &k;
  }
  return nullptr;
}

std::vector<std::string> ServedGroupVersions() {
  std::vector<std::string> out;
  for (const Kind& k : ServedKinds()) {
    std::string gv = k.ApiVersion();
    bool seen = false;
    for (const auto& s : out) seen = seen || s == gv;
    if (!seen) out.push_back(gv);
  }
  return out;
}

}  // namespace byok::kube
