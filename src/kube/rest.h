// The REST surface of each cluster's Kubernetes API, behind the ApiServer's authentication
// (api_server.h). Paths are relative to the cluster's prefix (/k8s/{uniqueId}/):
//
//   GET api, apis                 discovery: aggregated (APIGroupDiscoveryList, its own
//                                 Content-Type) when Accept asks for it, legacy otherwise
//                                 (discovery.h); GET apis/{g} → APIGroup
//   GET api/v1, apis/{g}/{v}      APIResourceList
//   GET openapi/v3[/...]          OpenAPI v3 index and documents (openapi.h); openapi/v2 → 404
//   api/v1[/namespaces/{ns}]/{resource}[/{name}[/status]]
//   apis/{g}/{v}[/namespaces/{ns}]/{resource}[/{name}[/status]]
//     GET collection   list: labelSelector (=, ==, !=, in, notin, exists, !exists), fieldSelector
//                      (=, ==, != on any dotted field path, e.g. metadata.name,
//                      involvedObject.name), limit/continue.
//                      A meta.k8s.io/v1 Table when Accept asks for one (table.h), else the
//                      {Kind}List.
//     GET collection?watch=1 (or true; also on an item path = fieldSelector metadata.name)
//                      a streaming response (http::Response::stream) of newline-delimited watch
//                      events {"type":"ADDED|MODIFIED|DELETED|ERROR","object":...}, Content-Type
//                      application/json, objects as Tables (one row; column definitions in the
//                      first event only, as the apiserver) when Accept asks for a Table.
//                      resourceVersion ""/"0": ADDED for every current matching object first;
//                      N: the changes after N, replayed from the ObjectStore's recent events
//                      (ObjectStore::Watch); too old to replay → one ERROR event with a 410
//                      Expired Status, then the end. labelSelector/fieldSelector as for lists;
//                      an object that starts matching comes as ADDED, one that stops matching as
//                      DELETED. timeoutSeconds (byokd's real time, not the emulated clock;
//                      default 1800, at most 86400) ends the stream normally.
//                      sendInitialEvents=true (a streaming list; requires
//                      resourceVersionMatch=NotOlderThan, else 422 Invalid ListOptions with the
//                      apiserver's field errors): every current matching object as ADDED whatever
//                      the resourceVersion, then, with allowWatchBookmarks, a BOOKMARK (an object
//                      of the kind with only metadata.resourceVersion and annotation
//                      k8s.io/initial-events-end "true"), then the changes. sendInitialEvents=false
//                      without a resourceVersion: the changes from now. Booleans as the apiserver
//                      converts them ("0"/"false" false, anything else true). No periodic
//                      BOOKMARK events are sent. Nodes
//                      (projections, not stored): the current nodes as ADDED, then nothing until
//                      the timeout.
//     POST collection  create → 201 (dryRun=All: validated, not stored); fieldManager recorded.
//     DELETE collection  deletecollection (selectors honoured) → the list of deleted objects.
//     GET item         the object (or a one-row Table)
//     PUT item         update (resourceVersion precondition when given → 409 Conflict)
//     PATCH item       json-patch, merge-patch, strategic-merge-patch, apply-patch+yaml (server-
//                      side apply: ?fieldManager= required, creates when absent); other types 415.
//                      A JSON patch that is not an array of operations → 400; an operation that
//                      fails (test, missing path) → 422 Invalid "the server rejected our request
//                      due to an error in our request" (the apiserver's words); a bad merge or
//                      strategic patch → 400. A patch whose result carries another
//                      resourceVersion than the stored one (e.g. a JSON patch replacing
//                      /metadata/resourceVersion) is a precondition → 409 Conflict.
//   Namespaced kinds outside a namespace (api/v1/persistentvolumeclaims): only the
//   all-namespaces list and watch (other methods → 405), no item paths (→ 404), as the apiserver
//   routes them. Lists are in (namespace, name) order; the continue token names the last pair.
//   The path grammar and the selectors are kube/internal/path.h and selector.h.
//     DELETE item      immediate delete (no finalizers) → Status Success with details
//                      {name, group, kind, uid}, as the apiserver answers for an object deleted at
//                      once; dryRun=All honoured; propagationPolicy accepted.
//     …/status         GET, PUT, PATCH of the status subresource (only status changes).
//   Nodes are read-only projections of the cluster's node records (node_objects.h): writes
//   answer 405.
// Not kinds (not in discovery), answered without storing anything:
//     POST apis/authorization.k8s.io/v1/selfsubjectaccessreviews  (kubectl auth can-i) → 201,
//                      status.allowed true whatever is asked (byok's clusters have no RBAC), once
//                      spec names exactly one of resourceAttributes and nonResourceAttributes
//                      (else 422 Invalid, the apiserver's messages).
//     POST apis/authentication.k8s.io/v1/selfsubjectreviews  (kubectl auth whoami) → 201,
//                      status.userInfo: the caller's certificate CN as username, its O and
//                      system:authenticated as groups.
// events.k8s.io/v1 Events are the stored core v1 Events, converted (resources.h).
// Request bodies are JSON (kubectl sends JSON even for apply-patch+yaml), or protobuf for the
// kinds of protobuf.h; fieldValidation=Strict refuses unknown top-level and metadata fields
// (resources.h UnknownFields), other values ignore them. Every response carries Cache-Control
// "no-cache, private"; errors are Status objects (errors.h) with the apiserver's messages and
// details.
// The built-in objects (ObjectStore::EnsureBuiltins) are created on the first request.
//
// Thread safety: thread-safe. REQUIRES: deps outlive the handler.
#pragma once

#include <string_view>

#include "common/clock.h"
#include "containerservice/cluster_pki.h"
#include "containerservice/cluster_store.h"
#include "http/message.h"
#include "kube/object_store.h"
#include "store/store.h"

namespace byok::kube {

struct RestDeps {
  store::Store* store = nullptr;  // node records, agent pools
  ObjectStore* objects = nullptr;
  const Clock* clock = nullptr;  // Table ages, managedFields times
};

// Serves `request` for the (authenticated) cluster; rest is the path after the cluster prefix,
// without the leading '/' (no trailing '/'); `caller` is who the client certificate names.
// Returns a 404 Status for paths it does not serve.
http::Response HandleRest(const RestDeps& deps, const containerservice::ClusterRecord& cluster,
                          const http::Request& request, std::string_view rest,
                          const containerservice::ClientIdentity& caller);

}  // namespace byok::kube
