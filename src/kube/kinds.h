// The kinds each cluster's Kubernetes API serves, with the facts discovery, OpenAPI, Table output
// and the REST handler need about them. One table, in the order discovery lists them:
//
//   group             version  kind               resource (plural)   scope       short names
//   ""                v1       Namespace          namespaces          Cluster     ns
//   ""                v1       Node               nodes               Cluster     no
//   ""                v1       PersistentVolume   persistentvolumes   Cluster     pv
//   ""                v1       PersistentVolumeClaim persistentvolumeclaims Namespaced pvc
//   ""                v1       Pod                pods                Namespaced  po
//   ""                v1       Event              events              Namespaced  ev
//   "storage.k8s.io"  v1       StorageClass       storageclasses      Cluster     sc
//   "storage.k8s.io"  v1       VolumeAttachment   volumeattachments   Cluster     (none)
//   "events.k8s.io"   v1       Event              events              Namespaced  ev
//
// Nodes are read-only projections of the cluster's agent-pool nodes (node_objects.h); pods are
// read-only and always none (byok runs no workloads; `kubectl describe pvc` lists them); every
// other kind is stored (object_store.h). events.k8s.io/v1 Events are the same stored objects as
// core v1 Events, converted on the way out (kubectl describe reads core v1).
//
// Thread safety: constants.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace byok::kube {

struct Kind {
  std::string group;      // "" for the core group
  std::string version;    // "v1"
  std::string kind;       // "PersistentVolumeClaim"
  std::string list_kind;  // "PersistentVolumeClaimList"
  std::string resource;   // plural, lower case: "persistentvolumeclaims"
  std::string singular;   // "persistentvolumeclaim"
  bool namespaced = false;
  std::vector<std::string> short_names;  // {"pvc"}
  // Verbs for discovery: "create","delete","deletecollection","get","list","patch","update",
  // "watch" (nodes: get, list, watch only).
  std::vector<std::string> verbs;
  // Subresources served (e.g. {"status"} for PVCs, PVs, nodes, volumeattachments).
  std::vector<std::string> subresources;
  bool read_only = false;  // nodes, pods

  // "v1" or "storage.k8s.io/v1": the apiVersion of objects.
  std::string ApiVersion() const;
};

// Every served kind, in the order of the table above.
const std::vector<Kind>& ServedKinds();

// The kind served at (group, version, resource), or nullptr. Comparison is exact (Kubernetes
// paths are case-sensitive).
const Kind* FindKind(std::string_view group, std::string_view version, std::string_view resource);

// The kind with this apiVersion ("v1", "storage.k8s.io/v1") and kind ("StorageClass"), or nullptr
// (what a manifest's apiVersion/kind name).
const Kind* FindKindByName(std::string_view api_version, std::string_view kind);

// The group-versions served, core first: {"v1", "storage.k8s.io/v1", "events.k8s.io/v1"}.
std::vector<std::string> ServedGroupVersions();

}  // namespace byok::kube
