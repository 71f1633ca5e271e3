#include "kube/rest.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/encoding.h"
#include "common/json.h"
#include "containerservice/nodes.h"
#include "kube/discovery.h"
#include "kube/errors.h"
#include "kube/internal/path.h"
#include "kube/internal/selector.h"
#include "kube/internal/time.h"
#include "kube/media_type.h"
#include "kube/node_objects.h"
#include "kube/openapi.h"
#include "kube/patch.h"
#include "kube/protobuf.h"
#include "kube/resources.h"
#include "kube/status.h"
#include "kube/table.h"

namespace byok::kube {
namespace {

using nlohmann::json;

// An error with the Status details it carries.
struct Failure {
  ApiError error;
  json details;  // null: none
};

template <typename T>
using Outcome = std::variant<T, Failure>;

http::Response JsonResponse(int status, const json& body,
                            std::string_view content_type = "application/json") {
  http::Response r = http::Response::Json(status, body);
  r.headers.Set("Content-Type", std::string(content_type));
  r.headers.Set("Cache-Control", "no-cache, private");
  return r;
}

http::Response FailureResponse(const Failure& f) { return StatusResponse(f.error, f.details); }

http::Response Error(const ErrorSpec& spec) { return StatusResponse(MakeError(spec)); }

json ResourceDetails(const Kind& kind, std::string_view name) {
  json d = {{"name", name}, {"kind", kind.resource}};
  if (!kind.group.empty()) d["group"] = kind.group;
  return d;
}

Failure Internal(const Status& s) {
  spdlog::error("kube api: {}", s.ToString());
  return {MakeError(errors::kInternalError), nullptr};
}

// Maps an ObjectStore error to the apiserver's Status.
Failure StoreFailure(const Kind& kind, std::string_view ns, std::string_view name,
                     const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      if (s.message().rfind("namespaces \"", 0) == 0 && kind.resource != "namespaces") {
        return {MakeError(errors::kNamespaceNotFound, ns),
                json{{"name", ns}, {"kind", "namespaces"}}};
      }
      return {MakeError(errors::kObjectNotFound, QualifiedResource(kind), name),
              ResourceDetails(kind, name)};
    case StatusCode::kAlreadyExists:
      return {MakeError(errors::kAlreadyExists, QualifiedResource(kind), name),
              ResourceDetails(kind, name)};
    case StatusCode::kAborted:
      return {MakeError(errors::kConflict, QualifiedResource(kind), name),
              ResourceDetails(kind, name)};
    case StatusCode::kInvalidArgument:
      return {MakeError(errors::kBadRequest, s.message()), nullptr};
    default:
      return Internal(s);
  }
}

std::string StringAt(const json& obj, const char* a, const char* b) {
  if (!obj.is_object() || !obj.contains(a) || !obj[a].is_object()) return "";
  const json& v = obj[a];
  auto it = v.find(b);
  return it != v.end() && it->is_string() ? it->get<std::string>() : "";
}

// ---- Selectors and paths (kube/internal). ----

using internal::FieldOf;
using internal::LabelOf;
using internal::Matches;
using internal::ParseSelector;
using internal::Requirement;
using internal::Target;

bool IsEventsGroup(const Kind& kind) { return kind.group == "events.k8s.io"; }

const Kind& StorageKindOf(const Kind& kind) {
  if (IsEventsGroup(kind)) {
    if (const Kind* core = FindKind("", "v1", "events"); core != nullptr) return *core;
  }
  return kind;
}

// Objects as the client's group-version shows them.
json Outward(const Kind& kind, json obj) {
  return IsEventsGroup(kind) ? EventsV1FromCoreEvent(obj) : obj;
}
json Inward(const Kind& kind, json obj) {
  return IsEventsGroup(kind) ? CoreEventFromEventsV1(obj) : obj;
}

std::string DefaultFieldManager(const http::Request& request) {
  if (auto fm = request.Query("fieldManager"); fm.has_value() && !fm->empty()) return *fm;
  std::string ua = request.headers.Get("User-Agent").value_or("");
  std::string prefix = ua.substr(0, ua.find('/'));
  return prefix.substr(0, 128);
}

bool DryRun(const http::Request& request) {
  for (const auto& [k, v] : request.query) {
    if (k == "dryRun" && v == "All") return true;
  }
  return false;
}

class Handler {
 public:
  Handler(const RestDeps& deps, const containerservice::ClusterRecord& cluster,
          const http::Request& request, const containerservice::ClientIdentity& caller)
      : deps_(deps), cluster_(cluster), request_(request), caller_(caller) {}

  http::Response Serve(std::string_view rest);

 private:
  http::Response SelfSubjectAccessReview();
  http::Response SelfSubjectReview();
  // The body of a review: a JSON object of `kind` (when the body names a kind at all).
  Outcome<json> ReviewBody(std::string_view kind);
  http::Response Discovery(const std::vector<std::string>& segs);
  http::Response OpenApi(const std::vector<std::string>& segs);
  http::Response Resource(const Target& t);
  http::Response Nodes(const Target& t);
  http::Response Watch(const Target& t);

  http::Response List(const Target& t, std::vector<json> items, int64_t rv);
  http::Response One(const Kind& kind, const json& obj, int status = 200);

  Outcome<json> ParseBody();
  Outcome<json> Create(const Target& t, json obj);
  Outcome<json> Update(const Target& t, json obj);
  Outcome<json> Patch(const Target& t);
  http::Response DeleteItem(const Target& t);
  http::Response DeleteCollection(const Target& t);
  std::optional<Failure> Selectors(std::optional<std::vector<Requirement>>& labels,
                                   std::optional<std::vector<Requirement>>& fields);
  Outcome<json> Validated(const Kind& kind, const json* old, json obj);

  const RestDeps& deps_;
  const containerservice::ClusterRecord& cluster_;
  const http::Request& request_;
  const containerservice::ClientIdentity& caller_;
  bool applying_ = false;  // server-side apply: the Apply entry replaces the Update one
};

// The self reviews kubectl auth can-i and kubectl auth whoami post (not listed in discovery).
constexpr std::string_view kAccessReviewPath =
    "apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
constexpr std::string_view kSelfReviewPath = "apis/authentication.k8s.io/v1/selfsubjectreviews";
// byok's clusters have no RBAC: every client certificate of a cluster's kubeconfigs may use every
// verb the API serves.
constexpr std::string_view kAllowedReason =
    "byok: the cluster has no RBAC; every client of its kubeconfigs may do everything";

http::Response Handler::Serve(std::string_view rest) {
  if (rest == kAccessReviewPath) return SelfSubjectAccessReview();
  if (rest == kSelfReviewPath) return SelfSubjectReview();
  internal::ParsedPath path = internal::ParsePath(rest);
  if (path.route == internal::Route::kOpenApi) return OpenApi(path.segments);
  if (path.route == internal::Route::kDiscovery) return Discovery(path.segments);
  if (path.route != internal::Route::kResource) return Error(errors::kNotFound);
  std::optional<Target> t = std::move(path.target);
  if (Status s = deps_.objects->EnsureBuiltins(cluster_.unique_id); !s.ok()) {
    return FailureResponse(Internal(s));
  }
  if (const std::string w = request_.Query("watch").value_or(""); w == "1" || w == "true") {
    // The same routing as a GET: no item path of a namespaced kind outside a namespace, and no
    // watch of a subresource (the apiserver serves neither).
    if (!t->subresource.empty() || (t->kind->namespaced && t->ns.empty() && !t->name.empty())) {
      return Error(errors::kNotFound);
    }
    return Watch(*t);
  }
  if (t->kind->read_only) return Nodes(*t);
  return Resource(*t);
}

// A client's value, quoted, escaped and cut, for an error message.
std::string Quoted(const json& v) {
  constexpr size_t kMax = 256;
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

Outcome<json> Handler::ReviewBody(std::string_view kind) {
  auto body = ParseBody();
  if (auto* f = std::get_if<Failure>(&body)) return std::move(*f);
  json obj = std::move(std::get<json>(body));
  if (!obj.is_object()) {
    return Failure{MakeError(errors::kBodyNotDecodable, "not a JSON object"), nullptr};
  }
  // No kind (or an empty one) is the endpoint's own, as the apiserver's decoder defaults it.
  const json& k = obj.contains("kind") ? obj["kind"] : json();
  if (!k.is_null() && k != "" && k != kind) {
    return Failure{
        MakeError(errors::kWrongBodyKind, Quoted(k), Quoted(obj.value("apiVersion", json())), kind),
        nullptr};
  }
  return obj;
}

// The attributes of a SelfSubjectAccessReview spec as the apiserver decodes them: the known string
// fields, empty ones dropped; null or absent → null. A value of another type: nullopt.
std::optional<json> ReviewAttributes(const json& spec, const char* field,
                                     std::initializer_list<const char*> names) {
  if (!spec.contains(field) || spec[field].is_null()) return json();
  const json& in = spec[field];
  if (!in.is_object()) return std::nullopt;
  json out = json::object();
  for (const char* name : names) {
    if (!in.contains(name) || in[name].is_null()) continue;
    if (!in[name].is_string()) return std::nullopt;
    if (!in[name].get_ref<const std::string&>().empty()) out[name] = in[name];
  }
  return out;
}

// POST selfsubjectaccessreviews: allowed, whatever is asked (kAllowedReason), once the spec names
// exactly one of resourceAttributes and nonResourceAttributes (the apiserver's validation and
// wording: its error names the kind of the decoded object, which is empty, hence
// ".authorization.k8s.io"). The spec comes back as decoded.
http::Response Handler::SelfSubjectAccessReview() {
  if (request_.method != "POST") return Error(errors::kMethodNotAllowed);
  auto body = ReviewBody("SelfSubjectAccessReview");
  if (auto* f = std::get_if<Failure>(&body)) return FailureResponse(*f);
  const json& obj = std::get<json>(body);
  const json in = obj.contains("spec") && obj["spec"].is_object() ? obj["spec"] : json::object();
  std::optional<json> resource = ReviewAttributes(
      in, "resourceAttributes",
      {"namespace", "verb", "group", "version", "resource", "subresource", "name"});
  std::optional<json> non_resource =
      ReviewAttributes(in, "nonResourceAttributes", {"path", "verb"});
  if (!resource || !non_resource) {
    return FailureResponse(
        Failure{MakeError(errors::kBodyNotDecodable, "spec attributes must be objects of strings"),
                nullptr});
  }
  json spec = json::object();
  if (!resource->is_null()) spec["resourceAttributes"] = *resource;
  if (!non_resource->is_null()) spec["nonResourceAttributes"] = *non_resource;
  std::vector<FieldError> errs;
  if (!resource->is_null() && !non_resource->is_null()) {
    errs.push_back({"FieldValueInvalid", "spec.nonResourceAttributes",
                    fmt::format("Invalid value: &authorization.NonResourceAttributes{{Path:{}, "
                                "Verb:{}}}: cannot be specified in combination with "
                                "resourceAttributes",
                                Quoted(non_resource->value("path", "")),
                                Quoted(non_resource->value("verb", "")))});
  } else if (resource->is_null() && non_resource->is_null()) {
    errs.push_back({"FieldValueInvalid", "spec.resourceAttributes",
                    "Invalid value: \"null\": exactly one of nonResourceAttributes or "
                    "resourceAttributes must be specified"});
  }
  if (!errs.empty()) {
    return FailureResponse(
        Failure{MakeError(errors::kInvalid, ".authorization.k8s.io", "", AggregateMessage(errs)),
                json{{"group", "authorization.k8s.io"}, {"causes", InvalidCauses(errs)}}});
  }
  json out = {{"kind", "SelfSubjectAccessReview"},
              {"apiVersion", "authorization.k8s.io/v1"},
              {"metadata", {{"creationTimestamp", nullptr}}},
              {"spec", std::move(spec)},
              {"status", {{"allowed", true}, {"reason", kAllowedReason}}}};
  return JsonResponse(201, out);
}

// POST selfsubjectreviews: the caller as the apiserver sees a client certificate: the CN as the
// username, the O as a group, and system:authenticated. (byok honours no Impersonate-* headers:
// `kubectl auth whoami --as` still shows the certificate's user.)
http::Response Handler::SelfSubjectReview() {
  if (request_.method != "POST") return Error(errors::kMethodNotAllowed);
  auto body = ReviewBody("SelfSubjectReview");
  if (auto* f = std::get_if<Failure>(&body)) return FailureResponse(*f);
  json groups = json::array();
  if (!caller_.group.empty()) groups.push_back(caller_.group);
  if (caller_.group != "system:authenticated") groups.push_back("system:authenticated");
  json out = {{"kind", "SelfSubjectReview"},
              {"apiVersion", "authentication.k8s.io/v1"},
              {"metadata", {{"creationTimestamp", internal::KubeTime(deps_.clock->Now())}}},
              {"status", {{"userInfo", {{"username", caller_.user}, {"groups", groups}}}}}};
  return JsonResponse(201, out);
}

http::Response Handler::Discovery(const std::vector<std::string>& segs) {
  if (request_.method != "GET" && request_.method != "HEAD") {
    return Error(errors::kMethodNotAllowed);
  }
  const bool core = segs[0] == "api";
  if (segs.size() == 1) {
    std::string accept = request_.headers.Get("Accept").value_or("");
    std::string_view v = AggregatedDiscoveryVersion(accept);
    if (!v.empty()) {
      return JsonResponse(200, AggregatedDiscovery(core, v), AggregatedDiscoveryContentType(v));
    }
    return JsonResponse(200, core ? ApiVersions() : ApiGroupList());
  }
  if (!core && segs.size() == 2) {
    json groups = ApiGroupList();
    for (const json& g : groups.value("groups", json::array())) {
      if (g.value("name", "") == segs[1]) {
        json group = g;
        group["kind"] = "APIGroup";
        group["apiVersion"] = "v1";
        return JsonResponse(200, group);
      }
    }
    return Error(errors::kNotFound);
  }
  std::string gv = core ? segs[1] : segs[1] + "/" + segs[2];
  std::optional<json> list = ApiResourceList(gv);
  if (!list.has_value()) return Error(errors::kNotFound);
  return JsonResponse(200, *list);
}

http::Response Handler::OpenApi(const std::vector<std::string>& segs) {
  if (request_.method != "GET" && request_.method != "HEAD") {
    return Error(errors::kMethodNotAllowed);
  }
  if (segs.size() < 2 || segs[1] != "v3") return Error(errors::kNotFound);
  if (segs.size() == 2) return JsonResponse(200, OpenApiIndex());
  std::string path;
  for (size_t i = 2; i < segs.size(); ++i) {
    if (!path.empty()) path += "/";
    path += segs[i];
  }
  std::optional<json> doc = OpenApiDocument(path);
  if (!doc.has_value()) return Error(errors::kNotFound);
  http::Response r = JsonResponse(200, *doc);
  std::string hash = OpenApiDocumentHash(path);
  if (!hash.empty() && request_.Query("hash").value_or("") == hash) {
    r.headers.Set("Cache-Control", "public, immutable");
  }
  return r;
}

http::Response Handler::One(const Kind& kind, const json& obj, int status) {
  std::string accept = request_.headers.Get("Accept").value_or("");
  if (WantsTable(accept)) {
    bool full = request_.Query("includeObject").value_or("") == "Object";
    return JsonResponse(status, ToTable(kind, {obj}, deps_.clock->Now(), full, ""));
  }
  return JsonResponse(status, obj);
}

std::optional<Failure> Handler::Selectors(std::optional<std::vector<Requirement>>& labels,
                                          std::optional<std::vector<Requirement>>& fields) {
  std::string ls = request_.Query("labelSelector").value_or("");
  std::string fs = request_.Query("fieldSelector").value_or("");
  labels = ParseSelector(ls, false);
  if (!labels.has_value()) {
    return Failure{MakeError(errors::kBadRequest,
                             fmt::format("unable to parse requirement: found '{}', expected: "
                                         "identifier",
                                         ls)),
                   nullptr};
  }
  fields = ParseSelector(fs, true);
  if (!fields.has_value()) {
    return Failure{MakeError(errors::kBadRequest,
                             fmt::format("invalid selector: '{}'; can't understand '{}'", fs, fs)),
                   nullptr};
  }
  return std::nullopt;
}

http::Response Handler::List(const Target& t, std::vector<json> items, int64_t rv) {
  std::optional<std::vector<Requirement>> labels, fields;
  if (auto f = Selectors(labels, fields)) return FailureResponse(*f);
  std::vector<json> kept;
  for (json& o : items) {
    o = Outward(*t.kind, std::move(o));
    bool ok = true;
    for (const Requirement& r : *labels) ok = ok && Matches(r, LabelOf(o, r.key));
    for (const Requirement& r : *fields) ok = ok && Matches(r, FieldOf(o, r.key));
    if (ok) kept.push_back(std::move(o));
  }
  // limit / continue: the token names the list's resourceVersion and the last key returned.
  std::string start;
  if (auto c = request_.Query("continue"); c.has_value() && !c->empty()) {
    auto raw = Base64Decode(*c);
    json token =
        raw.ok() ? json::parse(std::string(raw->begin(), raw->end()), nullptr, false) : json();
    if (!token.is_object() || !token.contains("start") || !token["start"].is_string()) {
      return StatusResponse(MakeError(errors::kBadRequest,
                                      "continue key is not valid: "
                                      "incorrect encoded start resourceVersion "
                                      "(version meta.k8s.io/v1)"));
    }
    start = token["start"].get<std::string>();
  }
  // Items are in (namespace, name) order; the token's key "ns/name" is split back into that pair
  // (neither part can hold '/'), so names with characters below '/' ('-', '.') page correctly.
  auto key_of = [](const json& o) {
    return StringAt(o, "metadata", "namespace") + "/" + StringAt(o, "metadata", "name");
  };
  auto pair_of = [](const json& o) {
    return std::make_pair(StringAt(o, "metadata", "namespace"), StringAt(o, "metadata", "name"));
  };
  if (!start.empty()) {
    const size_t slash = start.find('/');
    const std::pair<std::string, std::string> after =
        slash == std::string::npos
            ? std::make_pair(std::string(), start)
            : std::make_pair(start.substr(0, slash), start.substr(slash + 1));
    kept.erase(std::remove_if(kept.begin(), kept.end(),
                              [&](const json& o) { return pair_of(o) <= after; }),
               kept.end());
  }
  std::string continue_token;
  int64_t remaining = 0;
  int64_t limit = 0;
  if (auto l = request_.Query("limit"); l.has_value()) {
    limit = std::atoll(l->c_str());
  }
  if (limit > 0 && static_cast<int64_t>(kept.size()) > limit) {
    remaining = static_cast<int64_t>(kept.size()) - limit;
    kept.resize(static_cast<size_t>(limit));
    json token = {{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", key_of(kept.back())}};
    std::string text = token.dump();
    continue_token = Base64Encode(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  std::string accept = request_.headers.Get("Accept").value_or("");
  if (WantsTable(accept)) {
    bool full = request_.Query("includeObject").value_or("") == "Object";
    return JsonResponse(
        200, ToTable(*t.kind, kept, deps_.clock->Now(), full, std::to_string(rv), continue_token));
  }
  json list = {{"kind", t.kind->list_kind},
               {"apiVersion", t.kind->ApiVersion()},
               {"metadata", {{"resourceVersion", std::to_string(rv)}}},
               {"items", json::array()}};
  if (!continue_token.empty()) {
    list["metadata"]["continue"] = continue_token;
    list["metadata"]["remainingItemCount"] = remaining;
  }
  for (json& o : kept) list["items"].push_back(std::move(o));
  return JsonResponse(200, list);
}

http::Response Handler::Nodes(const Target& t) {
  // Pods: byok runs no workloads, so there are none (kubectl describe pvc lists them).
  if (t.kind->resource == "pods") {
    if (request_.method != "GET" && request_.method != "HEAD") return Error(errors::kPodsNotServed);
    if (t.name.empty()) {
      return List(t, {}, deps_.objects->CurrentResourceVersion(cluster_.unique_id).value_or(0));
    }
    return StatusResponse(MakeError(errors::kObjectNotFound, QualifiedResource(*t.kind), t.name),
                          ResourceDetails(*t.kind, t.name));
  }
  if (request_.method != "GET" && request_.method != "HEAD") return Error(errors::kReadOnlyKind);
  std::vector<json> items;
  {
    auto txn = deps_.store->BeginRead();
    if (!txn.ok()) return FailureResponse(Internal(txn.status()));
    auto pools = containerservice::ListAgentPools(**txn, cluster_.id);
    if (!pools.ok()) return FailureResponse(Internal(pools.status()));
    auto rows =
        (*txn)->ListByPrefix(std::string(containerservice::kNodePrefix) + cluster_.unique_id);
    if (!rows.ok()) return FailureResponse(Internal(rows.status()));
    for (const store::Resource& r : *rows) {
      auto node = containerservice::NodeFromJson(r.body);
      if (!node.ok()) continue;
      std::string mode;
      for (const auto& p : *pools) {
        if (p.name == node->pool_name) mode = p.mode;
      }
      items.push_back(NodeObject(*node, cluster_, mode));
    }
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return StringAt(a, "metadata", "name") < StringAt(b, "metadata", "name");
  });
  if (t.name.empty()) {
    int64_t rv = deps_.objects->CurrentResourceVersion(cluster_.unique_id).value_or(0);
    return List(t, std::move(items), rv);
  }
  for (const json& n : items) {
    if (StringAt(n, "metadata", "name") == t.name) return One(*t.kind, n);
  }
  return StatusResponse(MakeError(errors::kObjectNotFound, QualifiedResource(*t.kind), t.name),
                        ResourceDetails(*t.kind, t.name));
}

Outcome<json> Handler::ParseBody() {
  std::string ct = request_.headers.Get("Content-Type").value_or("application/json");
  std::vector<MediaRange> media = ParseAccept(ct);
  if (!media.empty() && media.front().type == kProtobufMediaType) {
    auto decoded = DecodeProtobufObject(request_.body);
    if (decoded.ok()) return std::move(decoded).value();
    if (decoded.status().Is(StatusCode::kNotFound)) {
      return Failure{MakeError(errors::kProtobufKindUnsupported, decoded.status().message()),
                     nullptr};
    }
    return Failure{MakeError(errors::kBodyNotDecodable, decoded.status().message()), nullptr};
  }
  auto body = ParseJsonBody(request_.body);
  if (!body.ok()) {
    if (ct.find("yaml") != std::string::npos || ct.find("protobuf") != std::string::npos) {
      return Failure{MakeError(errors::kUnsupportedMediaType), nullptr};
    }
    return Failure{MakeError(errors::kBodyNotDecodable, body.status().message()), nullptr};
  }
  return std::move(body).value();
}

Outcome<json> Handler::Validated(const Kind& kind, const json* old, json obj) {
  const Kind& shown = kind;
  const Kind& stored = StorageKindOf(kind);
  std::vector<FieldError> errs =
      old == nullptr ? ValidateCreate(stored, obj) : ValidateUpdate(stored, *old, obj);
  if (!errs.empty()) {
    std::string name = StringAt(obj, "metadata", "name");
    return Failure{MakeError(errors::kInvalid, QualifiedKind(shown), name, AggregateMessage(errs)),
                   InvalidDetails(shown, name, errs)};
  }
  return obj;
}

Outcome<json> Handler::Create(const Target& t, json obj) {
  const Kind& kind = *t.kind;
  const Kind& stored = StorageKindOf(kind);
  if (!obj.is_object()) {
    return Failure{MakeError(errors::kBodyNotDecodable, "not a JSON object"), nullptr};
  }
  if (request_.Query("fieldValidation").value_or("") == "Strict") {
    std::vector<std::string> unknown = UnknownFields(kind, obj);
    if (!unknown.empty()) {
      std::string msg = "strict decoding error: ";
      for (size_t i = 0; i < unknown.size(); ++i) msg += (i ? ", " : "") + unknown[i];
      return Failure{MakeError(errors::kStrictDecoding, msg), nullptr};
    }
  }
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  if (kind.namespaced) {
    std::string ns = StringAt(obj, "metadata", "namespace");
    if (ns.empty()) {
      obj["metadata"]["namespace"] = t.ns;
    } else if (ns != t.ns) {
      return Failure{MakeError(errors::kBadRequest,
                               "the namespace of the provided object does not match the namespace "
                               "sent on the request"),
                     nullptr};
    }
  } else {
    obj["metadata"].erase("namespace");
  }
  if (!StringAt(obj, "metadata", "resourceVersion").empty()) {
    return Failure{MakeError(errors::kBadRequest,
                             "resourceVersion should not be set on objects to be created"),
                   nullptr};
  }
  obj = Inward(kind, std::move(obj));
  PrepareForCreate(stored, obj);
  if (StringAt(obj, "metadata", "name").empty() &&
      !StringAt(obj, "metadata", "generateName").empty()) {
    obj["metadata"]["name"] = StringAt(obj, "metadata", "generateName") + "xxxxx";
    auto v = Validated(kind, nullptr, obj);
    if (auto* f = std::get_if<Failure>(&v)) return *f;
    obj["metadata"].erase("name");
  } else {
    auto v = Validated(kind, nullptr, obj);
    if (auto* f = std::get_if<Failure>(&v)) return *f;
  }
  obj.erase("apiVersion");
  obj.erase("kind");
  obj["apiVersion"] = stored.ApiVersion();
  obj["kind"] = stored.kind;
  if (!applying_) {
    RecordUpdateManager(stored, json(), obj, DefaultFieldManager(request_), deps_.clock->Now());
  }
  std::string name = StringAt(obj, "metadata", "name");
  if (DryRun(request_)) {
    auto existing = deps_.objects->Get(cluster_.unique_id, stored, t.ns, name);
    if (existing.ok()) {
      return StoreFailure(kind, t.ns, name, Status::AlreadyExists(""));
    }
    obj["metadata"]["creationTimestamp"] = nullptr;
    return Outward(kind, std::move(obj));
  }
  Result<json> created = deps_.objects->Create(cluster_.unique_id, stored, std::move(obj));
  if (!created.ok()) return StoreFailure(kind, t.ns, name, created.status());
  return Outward(kind, std::move(created).value());
}

// Update of an existing object (PUT or the result of a PATCH): preconditions, status rules,
// validation, managedFields.
Outcome<json> Handler::Update(const Target& t, json obj) {
  const Kind& kind = *t.kind;
  const Kind& stored = StorageKindOf(kind);
  if (!obj.is_object()) {
    return Failure{MakeError(errors::kBodyNotDecodable, "not a JSON object"), nullptr};
  }
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  std::string name = StringAt(obj, "metadata", "name");
  if (name.empty()) obj["metadata"]["name"] = t.name;
  if (!name.empty() && name != t.name) {
    return Failure{MakeError(errors::kBadRequest,
                             fmt::format("the name of the object ({}) does not match the name on "
                                         "the URL ({})",
                                         name, t.name)),
                   nullptr};
  }
  if (kind.namespaced) {
    std::string ns = StringAt(obj, "metadata", "namespace");
    if (ns.empty()) {
      obj["metadata"]["namespace"] = t.ns;
    } else if (ns != t.ns) {
      return Failure{MakeError(errors::kBadRequest,
                               "the namespace of the provided object does not match the namespace "
                               "sent on the request"),
                     nullptr};
    }
  }
  if (request_.Query("fieldValidation").value_or("") == "Strict") {
    std::vector<std::string> unknown = UnknownFields(kind, obj);
    if (!unknown.empty()) {
      std::string msg = "strict decoding error: ";
      for (size_t i = 0; i < unknown.size(); ++i) msg += (i ? ", " : "") + unknown[i];
      return Failure{MakeError(errors::kStrictDecoding, msg), nullptr};
    }
  }
  obj = Inward(kind, std::move(obj));
  auto current = deps_.objects->Get(cluster_.unique_id, stored, t.ns, t.name);
  if (!current.ok()) return StoreFailure(kind, t.ns, t.name, current.status());
  const std::string given_rv = StringAt(obj, "metadata", "resourceVersion");
  if (!given_rv.empty() && given_rv != StringAt(*current, "metadata", "resourceVersion")) {
    return StoreFailure(kind, t.ns, t.name, Status::Aborted(""));
  }
  PrepareForUpdate(stored, *current, obj, t.subresource == "status");
  // The stored bookkeeping the client can't change.
  for (const char* k : {"uid", "creationTimestamp", "generation"}) {
    if (current->at("metadata").contains(k)) obj["metadata"][k] = current->at("metadata")[k];
  }
  if (!obj["metadata"].contains("managedFields") &&
      current->at("metadata").contains("managedFields")) {
    obj["metadata"]["managedFields"] = current->at("metadata")["managedFields"];
  }
  auto v = Validated(kind, &*current, obj);
  if (auto* f = std::get_if<Failure>(&v)) return *f;
  obj["metadata"]["resourceVersion"] = StringAt(*current, "metadata", "resourceVersion");
  if (!applying_) {
    RecordUpdateManager(stored, *current, obj, DefaultFieldManager(request_), deps_.clock->Now());
  }
  if (DryRun(request_)) return Outward(kind, std::move(obj));
  Result<json> updated = deps_.objects->Update(cluster_.unique_id, stored, std::move(obj));
  if (!updated.ok()) return StoreFailure(kind, t.ns, t.name, updated.status());
  return Outward(kind, std::move(updated).value());
}

Outcome<json> Handler::Patch(const Target& t) {
  const Kind& kind = *t.kind;
  const Kind& stored = StorageKindOf(kind);
  std::optional<PatchType> type =
      PatchTypeFromContentType(request_.headers.Get("Content-Type").value_or(""));
  if (!type.has_value()) return Failure{MakeError(errors::kUnsupportedPatchType), nullptr};
  auto body = ParseBody();
  if (auto* f = std::get_if<Failure>(&body)) return *f;
  const json& patch = std::get<json>(body);
  std::string manager;
  if (*type == PatchType::kApplyPatch) {
    auto fm = request_.Query("fieldManager");
    if (!fm.has_value() || fm->empty()) {
      return Failure{MakeError(errors::kFieldManagerRequired), nullptr};
    }
    manager = *fm;
    applying_ = true;
  }
  // Retried when a concurrent write wins between the read and the write (as the apiserver's
  // GuaranteedUpdate), unless the patch itself names a resourceVersion.
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto current = deps_.objects->Get(cluster_.unique_id, stored, t.ns, t.name);
    if (!current.ok()) {
      if (current.status().Is(StatusCode::kNotFound) && *type == PatchType::kApplyPatch &&
          t.subresource.empty()) {
        auto applied = ServerSideApply(kind, json(), patch, manager, deps_.clock->Now());
        if (!applied.ok()) {
          return Failure{MakeError(errors::kBadRequest, applied.status().message()), nullptr};
        }
        json obj = std::move(applied).value();
        obj["metadata"]["name"] = t.name;
        Target create_target = t;
        return Create(create_target, std::move(obj));
      }
      return StoreFailure(kind, t.ns, t.name, current.status());
    }
    json shown = Outward(kind, *current);
    Result<json> patched = Status::Internal("unset");
    switch (*type) {
      case PatchType::kJsonPatch:
        patched = ApplyJsonPatch(shown, patch);
        break;
      case PatchType::kMergePatch:
        patched = ApplyMergePatch(shown, patch);
        break;
      case PatchType::kStrategicMergePatch:
        patched = ApplyStrategicMergePatch(kind, shown, patch);
        break;
      case PatchType::kApplyPatch:
        patched = ServerSideApply(kind, shown, patch, manager, deps_.clock->Now());
        break;
    }
    if (!patched.ok()) {
      if (*type != PatchType::kJsonPatch) {
        return Failure{MakeError(errors::kPatchFailed, patched.status().message()), nullptr};
      }
      if (patched.status().Is(StatusCode::kInvalidArgument)) {
        return Failure{MakeError(errors::kJsonPatchNotDecodable, patched.status().message()),
                       nullptr};
      }
      return Failure{MakeError(errors::kJsonPatchFailed), json::object()};
    }
    json obj = std::move(patched).value();
    // A patch that names a resourceVersion (a merge patch's metadata.resourceVersion, or any
    // patch whose result carries another one than the stored object, e.g. a JSON patch replacing
    // /metadata/resourceVersion) is a precondition: 409 when it is not the stored one.
    const std::string patched_rv =
        obj.is_object() ? StringAt(obj, "metadata", "resourceVersion") : std::string();
    const bool pinned =
        (patch.is_object() && patch.contains("metadata") && patch["metadata"].is_object() &&
         patch["metadata"].contains("resourceVersion")) ||
        (!patched_rv.empty() && patched_rv != StringAt(*current, "metadata", "resourceVersion"));
    if (!pinned && obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object()) {
      obj["metadata"]["resourceVersion"] = StringAt(*current, "metadata", "resourceVersion");
    }
    Outcome<json> r = Update(t, std::move(obj));
    if (auto* f = std::get_if<Failure>(&r);
        f != nullptr && f->error.code == "Conflict" && !pinned) {
      continue;
    }
    return r;
  }
  return StoreFailure(kind, t.ns, t.name, Status::Aborted(""));
}

http::Response Handler::DeleteItem(const Target& t) {
  const Kind& kind = *t.kind;
  if (kind.group.empty() && kind.resource == "namespaces" &&
      (t.name == "default" || t.name == "kube-system" || t.name == "kube-public")) {
    return StatusResponse(MakeError(errors::kNamespaceProtected, t.name));
  }
  const Kind& stored = StorageKindOf(kind);
  auto current = deps_.objects->Get(cluster_.unique_id, stored, t.ns, t.name);
  if (!current.ok()) return FailureResponse(StoreFailure(kind, t.ns, t.name, current.status()));
  // DeleteOptions.preconditions.
  if (!request_.body.empty()) {
    auto opts = ParseJsonBody(request_.body);
    if (opts.ok() && opts->is_object() && opts->contains("preconditions")) {
      const json& p = (*opts)["preconditions"];
      if (p.is_object() && p.contains("resourceVersion") && p["resourceVersion"].is_string() &&
          p["resourceVersion"] != StringAt(*current, "metadata", "resourceVersion")) {
        return FailureResponse(StoreFailure(kind, t.ns, t.name, Status::Aborted("")));
      }
      if (p.is_object() && p.contains("uid") && p["uid"].is_string() &&
          p["uid"] != StringAt(*current, "metadata", "uid")) {
        return FailureResponse(StoreFailure(kind, t.ns, t.name, Status::Aborted("")));
      }
    }
  }
  json deleted = *current;
  if (!DryRun(request_)) {
    auto r = deps_.objects->Delete(cluster_.unique_id, stored, t.ns, t.name);
    if (!r.ok()) return FailureResponse(StoreFailure(kind, t.ns, t.name, r.status()));
    deleted = std::move(r).value();
  }
  json details = ResourceDetails(kind, t.name);
  details["uid"] = StringAt(deleted, "metadata", "uid");
  json status = {{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", json::object()},
                 {"status", "Success"},
                 {"details", details}};
  return JsonResponse(200, status);
}

http::Response Handler::DeleteCollection(const Target& t) {
  const Kind& kind = *t.kind;
  const Kind& stored = StorageKindOf(kind);
  std::optional<std::vector<Requirement>> labels, fields;
  if (auto f = Selectors(labels, fields)) return FailureResponse(*f);
  auto list = deps_.objects->List(cluster_.unique_id, stored, t.ns);
  if (!list.ok()) return FailureResponse(Internal(list.status()));
  json out = {{"kind", kind.list_kind},
              {"apiVersion", kind.ApiVersion()},
              {"metadata", json::object()},
              {"items", json::array()}};
  for (json& o : list->items) {
    json shown = Outward(kind, o);
    bool ok = true;
    for (const Requirement& r : *labels) ok = ok && Matches(r, LabelOf(shown, r.key));
    for (const Requirement& r : *fields) ok = ok && Matches(r, FieldOf(shown, r.key));
    if (!ok) continue;
    if (!DryRun(request_)) {
      auto r =
          deps_.objects->Delete(cluster_.unique_id, stored, StringAt(o, "metadata", "namespace"),
                                StringAt(o, "metadata", "name"));
      if (!r.ok() && !r.status().Is(StatusCode::kNotFound)) {
        return FailureResponse(Internal(r.status()));
      }
    }
    out["items"].push_back(std::move(shown));
  }
  int64_t rv = deps_.objects->CurrentResourceVersion(cluster_.unique_id).value_or(0);
  out["metadata"]["resourceVersion"] = std::to_string(rv);
  return JsonResponse(200, out);
}

http::Response Handler::Resource(const Target& t) {
  const Kind& kind = *t.kind;
  const Kind& stored = StorageKindOf(kind);
  const std::string& m = request_.method;
  // A namespaced kind outside a namespace: the apiserver routes only the all-namespaces list
  // (GET; 405 for other methods) there, no item path (404).
  if (kind.namespaced && t.ns.empty()) {
    if (!t.name.empty()) return Error(errors::kNotFound);
    if (m != "GET" && m != "HEAD") return Error(errors::kMethodNotAllowed);
  }
  if (t.name.empty()) {
    if (m == "GET" || m == "HEAD") {
      auto list = deps_.objects->List(cluster_.unique_id, stored, t.ns);
      if (!list.ok()) return FailureResponse(Internal(list.status()));
      return List(t, std::move(list->items), list->resource_version);
    }
    if (m == "POST") {
      auto body = ParseBody();
      if (auto* f = std::get_if<Failure>(&body)) return FailureResponse(*f);
      auto r = Create(t, std::move(std::get<json>(body)));
      if (auto* f = std::get_if<Failure>(&r)) return FailureResponse(*f);
      return JsonResponse(201, std::get<json>(r));
    }
    if (m == "DELETE" &&
        std::find(kind.verbs.begin(), kind.verbs.end(), "deletecollection") != kind.verbs.end()) {
      return DeleteCollection(t);
    }
    return Error(errors::kMethodNotAllowed);
  }
  if (m == "GET" || m == "HEAD") {
    auto obj = deps_.objects->Get(cluster_.unique_id, stored, t.ns, t.name);
    if (!obj.ok()) return FailureResponse(StoreFailure(kind, t.ns, t.name, obj.status()));
    return One(kind, Outward(kind, std::move(obj).value()));
  }
  if (m == "PUT") {
    auto body = ParseBody();
    if (auto* f = std::get_if<Failure>(&body)) return FailureResponse(*f);
    auto r = Update(t, std::move(std::get<json>(body)));
    if (auto* f = std::get_if<Failure>(&r)) return FailureResponse(*f);
    return JsonResponse(200, std::get<json>(r));
  }
  if (m == "PATCH") {
    bool existed = deps_.objects->Get(cluster_.unique_id, stored, t.ns, t.name).ok();
    auto r = Patch(t);
    if (auto* f = std::get_if<Failure>(&r)) return FailureResponse(*f);
    return JsonResponse(existed ? 200 : 201, std::get<json>(r));
  }
  if (m == "DELETE" && t.subresource.empty()) return DeleteItem(t);
  return Error(errors::kMethodNotAllowed);
}

// ---- Watch (GET <collection>?watch=1). ----

// The node objects of the cluster (nodes are projections, not stored), sorted by name.
Result<std::vector<json>> NodeItems(const RestDeps& deps,
                                    const containerservice::ClusterRecord& cluster) {
  std::vector<json> items;
  BYOK_ASSIGN_OR_RETURN(auto txn, deps.store->BeginRead());
  BYOK_ASSIGN_OR_RETURN(auto pools, containerservice::ListAgentPools(*txn, cluster.id));
  BYOK_ASSIGN_OR_RETURN(
      auto rows, txn->ListByPrefix(std::string(containerservice::kNodePrefix) + cluster.unique_id));
  for (const store::Resource& r : rows) {
    auto node = containerservice::NodeFromJson(r.body);
    if (!node.ok()) continue;
    std::string mode;
    for (const auto& p : pools) {
      if (p.name == node->pool_name) mode = p.mode;
    }
    items.push_back(NodeObject(*node, cluster, mode));
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return StringAt(a, "metadata", "name") < StringAt(b, "metadata", "name");
  });
  return items;
}

// One watch: turns the store's events of a cluster into the apiserver's watch events
// ({"type":...,"object":...} lines) for one collection, namespace and selectors, and writes them
// to the response's sink. Events that arrive before the sink (or before the initial events are
// known) wait in order. Owned by the response's producer and, once the stream runs, by the
// sink's close callback, which unsubscribes; the store's callback holds it weakly.
class WatchStream : public std::enable_shared_from_this<WatchStream> {
 public:
  struct Config {
    ObjectStore* objects = nullptr;
    const Clock* clock = nullptr;
    std::string cluster_uid;
    const Kind* kind = nullptr;  // as the client sees it
    std::string ns;              // "" = every namespace
    std::vector<Requirement> labels, fields;
    bool table = false;  // meta.k8s.io/v1 Table objects (Accept), one row each
    bool include_object = false;
  };

  explicit WatchStream(Config config) : c_(std::move(config)) {}
  ~WatchStream() { Stop(); }

  void set_handle(uint64_t handle) {
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = handle;
  }

  // From the store's delivery thread.
  void OnEvent(const WatchEvent& e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) {
      early_.push_back(e);
      return;
    }
    std::string line;
    try {
      line = Translate(e);
    } catch (const std::exception& ex) {
      // Never into the writer: its change is committed and other subscribers still need it.
      // The client re-lists after the stream ends, as after any broken watch.
      spdlog::warn("kube watch ended: event {} rv {} could not be rendered: {}", e.type,
                   e.resource_version, ex.what());
      if (sink_ != nullptr) sink_->Close();
      end_ = true;
      return;
    }
    if (line.empty()) return;
    if (sink_ != nullptr) {
      sink_->Write(std::move(line));
    } else {
      pending_ += line;
    }
  }

  // Where a streaming list's initial events end: after the first `events` of Begin's list, a
  // BOOKMARK at `resource_version`.
  struct EndOfInitialEvents {
    size_t events = 0;
    int64_t resource_version = 0;
  };

  // The events before any the store callback gets: the initial ADDED events and the replay, with
  // (sendInitialEvents) the BOOKMARK that ends the initial events between them.
  void Begin(const std::vector<WatchEvent>& initial,
             std::optional<EndOfInitialEvents> end_of_initial = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < initial.size(); ++i) {
      if (end_of_initial && end_of_initial->events == i) {
        pending_ += InitialEventsEnd(end_of_initial->resource_version);
      }
      pending_ += Translate(initial[i]);
    }
    if (end_of_initial && end_of_initial->events >= initial.size()) {
      pending_ += InitialEventsEnd(end_of_initial->resource_version);
    }
    for (const WatchEvent& e : early_) pending_ += Translate(e);
    early_.clear();
    started_ = true;
  }

  // The watch cannot start: one ERROR event, then the stream ends.
  void Fail(const json& status) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = json{{"type", "ERROR"}, {"object", status}}.dump() + "\n";
    started_ = true;
    end_ = true;
  }

  // The http server's producer callback.
  void Attach(std::shared_ptr<http::StreamSink> sink) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      sink_ = sink;
      if (!pending_.empty()) sink->Write(std::exchange(pending_, std::string()));
      if (end_) sink->Close();
    }
    sink->OnClose([self = shared_from_this()] { self->Stop(); });
  }

  void Stop() {
    uint64_t handle = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::swap(handle, handle_);
    }
    if (handle != 0) c_.objects->Unsubscribe(handle);
  }

 private:
  bool Selected(const json& shown) const {
    bool ok = true;
    for (const Requirement& r : c_.labels) ok = ok && Matches(r, LabelOf(shown, r.key));
    for (const Requirement& r : c_.fields) ok = ok && Matches(r, FieldOf(shown, r.key));
    return ok;
  }

  // The apiserver's bookmark after the initial events of a streaming list: an object of the
  // watched kind with only its resourceVersion and the annotation k8s.io/initial-events-end.
  std::string InitialEventsEnd(int64_t rv) const {
    json object = {{"kind", c_.kind->kind},
                   {"apiVersion", c_.kind->ApiVersion()},
                   {"metadata",
                    {{"resourceVersion", std::to_string(rv)},
                     {"creationTimestamp", nullptr},
                     {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
    return json{{"type", "BOOKMARK"}, {"object", std::move(object)}}.dump() + "\n";
  }

  // The event as this watch shows it, or "" when it is not for this watch. As the apiserver: an
  // object that starts matching the selectors is ADDED, one that stops matching DELETED.
  std::string Translate(const WatchEvent& e) {
    const Kind& stored = StorageKindOf(*c_.kind);
    if (e.kind == nullptr || e.kind->group != stored.group || e.kind->resource != stored.resource) {
      return "";
    }
    if (!c_.ns.empty() && StringAt(e.object, "metadata", "namespace") != c_.ns) return "";
    json shown = Outward(*c_.kind, e.object);
    const bool now = Selected(shown);
    std::string type = e.type;
    if (e.type == "MODIFIED") {
      json old_shown = e.old_object.is_object() ? Outward(*c_.kind, e.old_object) : json();
      const bool before = old_shown.is_object() && Selected(old_shown);
      if (!now && !before) return "";
      if (now && !before) type = "ADDED";
      if (!now && before) {
        // As the apiserver's cacher: the object as the client last saw it (it matched), at the
        // event's resourceVersion.
        type = "DELETED";
        old_shown["metadata"]["resourceVersion"] = std::to_string(e.resource_version);
        shown = std::move(old_shown);
      }
    } else if (!now) {
      return "";
    }
    json object = std::move(shown);
    if (c_.table) {
      std::string rv = StringAt(object, "metadata", "resourceVersion");
      object = ToTable(*c_.kind, {object}, c_.clock->Now(), c_.include_object, rv);
      // As the apiserver: column definitions in the first event only (kubectl reuses them).
      if (sent_columns_) object["columnDefinitions"] = json::array();
      sent_columns_ = true;
    }
    return json{{"type", type}, {"object", std::move(object)}}.dump(
               -1, ' ', false, json::error_handler_t::replace) +
           "\n";
  }

  const Config c_;
  std::mutex mu_;
  uint64_t handle_ = 0;                     // guarded by mu_
  bool started_ = false;                    // guarded by mu_
  bool end_ = false;                        // guarded by mu_
  bool sent_columns_ = false;               // guarded by mu_
  std::vector<WatchEvent> early_;           // guarded by mu_
  std::string pending_;                     // guarded by mu_
  std::shared_ptr<http::StreamSink> sink_;  // guarded by mu_
};

constexpr int64_t kDefaultWatchTimeoutSeconds = 1800;  // the apiserver's --min-request-timeout
constexpr int64_t kMaxWatchTimeoutSeconds = 24 * 3600;

// A boolean query parameter as the apiserver converts one: absent → nullopt; "0" or "false" (any
// case) → false; anything else, "" included → true.
std::optional<bool> QueryBool(const std::optional<std::string>& v) {
  if (!v.has_value()) return std::nullopt;
  return !(*v == "0" || http::EqualsIgnoreCase(*v, "false"));
}

// The apiserver's ListOptions checks of a watch's streaming-list parameters (422 Invalid
// "ListOptions.meta.k8s.io"), or nullopt.
std::optional<Failure> WatchListOptionErrors(const http::Request& request) {
  constexpr size_t kMaxEchoed = 256;
  std::vector<FieldError> errs;
  const std::string match = request.Query("resourceVersionMatch").value_or("");
  const bool send_initial_given = request.Query("sendInitialEvents").has_value();
  if (send_initial_given && match != "NotOlderThan") {
    errs.push_back({"FieldValueForbidden", "resourceVersionMatch",
                    "Forbidden: sendInitialEvents requires setting resourceVersionMatch to "
                    "NotOlderThan"});
  }
  if (!match.empty()) {
    if (!send_initial_given) {
      errs.push_back({"FieldValueForbidden", "resourceVersionMatch",
                      "Forbidden: resourceVersionMatch is forbidden for watch unless "
                      "sendInitialEvents is provided"});
    }
    if (match != "NotOlderThan") {
      errs.push_back({"FieldValueNotSupported", "resourceVersionMatch",
                      fmt::format("Unsupported value: \"{}\": supported values: \"NotOlderThan\"",
                                  match.substr(0, kMaxEchoed))});
    }
    if (!request.Query("continue").value_or("").empty()) {
      errs.push_back({"FieldValueForbidden", "resourceVersionMatch",
                      "Forbidden: resourceVersionMatch is forbidden when continue is provided"});
    }
  }
  if (errs.empty()) return std::nullopt;
  return Failure{
      MakeError(errors::kInvalid, "ListOptions.meta.k8s.io", "", AggregateMessage(errs)),
      json{{"group", "meta.k8s.io"}, {"kind", "ListOptions"}, {"causes", InvalidCauses(errs)}}};
}

http::Response Handler::Watch(const Target& t) {
  if (request_.method != "GET" && request_.method != "HEAD") {
    return Error(errors::kMethodNotAllowed);
  }
  std::optional<std::vector<Requirement>> labels, fields;
  if (auto f = Selectors(labels, fields)) return FailureResponse(*f);
  if (!t.name.empty()) fields->push_back({"metadata.name", "=", {t.name}});
  // resourceVersion: "" or "0" → the current objects as ADDED events first; else changes after it.
  int64_t after = -1;
  std::string rv = request_.Query("resourceVersion").value_or("");
  if (!rv.empty() && rv != "0") {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(rv.c_str(), &end, 10);
    if (end == rv.c_str() || *end != '\0' || v < 0 || errno == ERANGE) {
      return StatusResponse(MakeError(errors::kInvalidResourceVersion, rv));
    }
    after = v;
  }
  int64_t timeout = kDefaultWatchTimeoutSeconds;
  if (auto ts = request_.Query("timeoutSeconds"); ts.has_value() && !ts->empty()) {
    char* end = nullptr;
    long long v = std::strtoll(ts->c_str(), &end, 10);
    if (end != ts->c_str() && *end == '\0' && v > 0)
      timeout = std::min<int64_t>(v, kMaxWatchTimeoutSeconds);
  }
  // Streaming lists (with resourceVersionMatch=NotOlderThan): sendInitialEvents=true sends the
  // current objects as ADDED events whatever the resourceVersion (the current state is never
  // older than it), then, with allowWatchBookmarks, the BOOKMARK that ends them;
  // sendInitialEvents=false without a resourceVersion watches from now, with no initial events.
  // byok sends no periodic BOOKMARK events.
  if (auto f = WatchListOptionErrors(request_)) return FailureResponse(*f);
  const std::optional<bool> send_initial = QueryBool(request_.Query("sendInitialEvents"));
  const bool initial_events = send_initial.value_or(false);
  const bool end_bookmark =
      initial_events && QueryBool(request_.Query("allowWatchBookmarks")).value_or(false);
  if (send_initial.has_value() && (after > 0 || (!*send_initial && after < 0))) {
    auto current = deps_.objects->CurrentResourceVersion(cluster_.unique_id);
    if (!current.ok()) return FailureResponse(Internal(current.status()));
    if (after > *current) {
      return StatusResponse(MakeError(errors::kResourceVersionTooLarge, after, *current));
    }
    if (*send_initial) {
      after = -1;
    } else if (after < 0) {
      after = *current;
    }
  }

  WatchStream::Config config;
  config.objects = deps_.objects;
  config.clock = deps_.clock;
  config.cluster_uid = cluster_.unique_id;
  config.kind = t.kind;
  config.ns = t.ns;
  config.labels = std::move(*labels);
  config.fields = std::move(*fields);
  config.table = WantsTable(request_.headers.Get("Accept").value_or(""));
  config.include_object = request_.Query("includeObject").value_or("") == "Object";
  auto stream = std::make_shared<WatchStream>(std::move(config));
  const Kind& stored = StorageKindOf(*t.kind);

  std::vector<WatchEvent> initial;
  if (t.kind->read_only) {
    // Nodes (and pods, always none) are not stored: the current ones, then nothing until the
    // timeout (byok's node records change only through ARM operations; a client relists then).
    if (after < 0 && t.kind->resource == "nodes") {
      auto nodes = NodeItems(deps_, cluster_);
      if (!nodes.ok()) return FailureResponse(Internal(nodes.status()));
      for (json& n : *nodes) initial.push_back(WatchEvent{"ADDED", t.kind, std::move(n), 0, {}});
    }
    std::optional<WatchStream::EndOfInitialEvents> end_of_initial;
    if (end_bookmark) {
      auto current = deps_.objects->CurrentResourceVersion(cluster_.unique_id);
      if (!current.ok()) return FailureResponse(Internal(current.status()));
      end_of_initial = WatchStream::EndOfInitialEvents{initial.size(), *current};
    }
    stream->Begin(initial, end_of_initial);
  } else {
    int64_t from = after;
    if (after > 0) {
      auto current = deps_.objects->CurrentResourceVersion(cluster_.unique_id);
      if (!current.ok()) return FailureResponse(Internal(current.status()));
      if (after > *current) {
        return StatusResponse(MakeError(errors::kResourceVersionTooLarge, after, *current));
      }
    }
    std::optional<WatchStream::EndOfInitialEvents> end_of_initial;
    if (after < 0) {
      auto list = deps_.objects->List(cluster_.unique_id, stored, t.ns);
      if (!list.ok()) return FailureResponse(Internal(list.status()));
      for (json& o : list->items) {
        initial.push_back(WatchEvent{"ADDED", &stored, std::move(o), list->resource_version, {}});
      }
      from = list->resource_version;
      if (end_bookmark) {
        end_of_initial = WatchStream::EndOfInitialEvents{initial.size(), list->resource_version};
      }
    }
    std::weak_ptr<WatchStream> weak = stream;
    auto started = deps_.objects->Watch(cluster_.unique_id, from,
                                        [weak](std::string_view, const WatchEvent& e) {
                                          if (auto s = weak.lock()) s->OnEvent(e);
                                        });
    if (started.ok()) {
      stream->set_handle(started->handle);
      for (WatchEvent& e : started->replay) initial.push_back(std::move(e));
      stream->Begin(initial, end_of_initial);
    } else if (started.status().Is(StatusCode::kOutOfRange)) {
      stream->Fail(
          StatusObject(MakeError(errors::kResourceVersionExpired, started.status().message())));
    } else {
      return FailureResponse(Internal(started.status()));
    }
  }

  http::Response r;
  r.status = 200;
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Cache-Control", "no-cache, private");
  r.stream_timeout = std::chrono::seconds(timeout);
  r.stream = [stream](std::shared_ptr<http::StreamSink> sink) { stream->Attach(std::move(sink)); };
  return r;
}

}  // namespace

http::Response HandleRest(const RestDeps& deps, const containerservice::ClusterRecord& cluster,
                          const http::Request& request, std::string_view rest,
                          const containerservice::ClientIdentity& caller) {
  Handler h(deps, cluster, request, caller);
  return h.Serve(rest);
}

}  // namespace byok::kube
