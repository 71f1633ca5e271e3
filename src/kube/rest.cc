#include "kube/rest.h"

#include <algorithm>
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
#include "kube/node_objects.h"
#include "kube/openapi.h"
#include "kube/patch.h"
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

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) pos = s.size();
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// ---- Selectors. ----

struct Requirement {
  std::string key;
  std::string op;  // "=", "!=", "in", "notin", "exists", "!exists"
  std::vector<std::string> values;
};

// Splits at commas outside parentheses.
std::vector<std::string> SplitTerms(std::string_view s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!Trim(cur).empty()) out.push_back(Trim(cur));
  return out;
}

std::optional<std::vector<Requirement>> ParseSelector(std::string_view text, bool fields) {
  std::vector<Requirement> out;
  for (const std::string& term : SplitTerms(text)) {
    if (term.empty()) continue;
    Requirement r;
    size_t pos;
    if ((pos = term.find("!=")) != std::string::npos) {
      r = {Trim(term.substr(0, pos)), "!=", {Trim(term.substr(pos + 2))}};
    } else if ((pos = term.find("==")) != std::string::npos) {
      r = {Trim(term.substr(0, pos)), "=", {Trim(term.substr(pos + 2))}};
    } else if ((pos = term.find('=')) != std::string::npos) {
      r = {Trim(term.substr(0, pos)), "=", {Trim(term.substr(pos + 1))}};
    } else if (!fields && (pos = term.find(" notin ")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = "notin";
      std::string rest = Trim(term.substr(pos + 7));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return std::nullopt;
      for (const std::string& v : Split(rest.substr(1, rest.size() - 2), ',')) {
        r.values.push_back(Trim(v));
      }
    } else if (!fields && (pos = term.find(" in ")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = "in";
      std::string rest = Trim(term.substr(pos + 4));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return std::nullopt;
      for (const std::string& v : Split(rest.substr(1, rest.size() - 2), ',')) {
        r.values.push_back(Trim(v));
      }
    } else if (!fields && term[0] == '!') {
      r = {Trim(term.substr(1)), "!exists", {}};
    } else if (!fields) {
      r = {term, "exists", {}};
    } else {
      return std::nullopt;
    }
    if (r.key.empty()) return std::nullopt;
    out.push_back(std::move(r));
  }
  return out;
}

bool Matches(const Requirement& r, const std::optional<std::string>& value) {
  if (r.op == "exists") return value.has_value();
  if (r.op == "!exists") return !value.has_value();
  if (r.op == "=") return value.has_value() && *value == r.values[0];
  if (r.op == "!=") return !value.has_value() || *value != r.values[0];
  bool in =
      value.has_value() && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
  return r.op == "in" ? in : !in;
}

std::optional<std::string> LabelOf(const json& obj, const std::string& key) {
  if (!obj.contains("metadata")) return std::nullopt;
  const json& m = obj["metadata"];
  if (!m.contains("labels") || !m["labels"].is_object()) return std::nullopt;
  auto it = m["labels"].find(key);
  if (it == m["labels"].end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<std::string> FieldOf(const json& obj, const std::string& path) {
  const json* cur = &obj;
  for (const std::string& part : Split(path, '.')) {
    if (!cur->is_object()) return std::string();
    auto it = cur->find(part);
    if (it == cur->end()) return std::string();
    cur = &*it;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return std::string();
  return cur->dump();
}

// ---- Paths. ----

struct Target {
  const Kind* kind = nullptr;
  std::string ns;
  std::string name;
  std::string subresource;
};

// Parses the resource part after "api/v1" or "apis/{g}/{v}": segments.
std::optional<Target> ParseResourcePath(std::string_view group, std::string_view version,
                                        const std::vector<std::string>& segs) {
  Target t;
  size_t i = 0;
  if (segs.size() >= 3 && segs[0] == "namespaces" && segs[2] != "status" && segs[2] != "finalize") {
    t.ns = segs[1];
    i = 2;
  }
  if (i >= segs.size()) return std::nullopt;
  t.kind = FindKind(group, version, segs[i]);
  if (t.kind == nullptr) return std::nullopt;
  if (!t.ns.empty() && !t.kind->namespaced) return std::nullopt;
  if (i + 1 < segs.size()) t.name = segs[i + 1];
  if (i + 2 < segs.size()) t.subresource = segs[i + 2];
  if (i + 3 < segs.size()) return std::nullopt;
  if (!t.subresource.empty() && std::find(t.kind->subresources.begin(), t.kind->subresources.end(),
                                          t.subresource) == t.kind->subresources.end()) {
    return std::nullopt;
  }
  if (t.name.empty() && segs.size() > i + 1) return std::nullopt;
  return t;
}

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
          const http::Request& request)
      : deps_(deps), cluster_(cluster), request_(request) {}

  http::Response Serve(std::string_view rest);

 private:
  http::Response Discovery(const std::vector<std::string>& segs);
  http::Response OpenApi(const std::vector<std::string>& segs);
  http::Response Resource(const Target& t);
  http::Response Nodes(const Target& t);

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
  bool applying_ = false;  // server-side apply: the Apply entry replaces the Update one
};

http::Response Handler::Serve(std::string_view rest) {
  std::vector<std::string> segs = Split(rest, '/');
  if (segs.empty()) return Error(errors::kNotFound);
  if (segs[0] == "openapi") return OpenApi(segs);
  if (segs[0] != "api" && segs[0] != "apis") return Error(errors::kNotFound);
  const bool core = segs[0] == "api";
  if (segs.size() == 1 || (!core && segs.size() == 2) || (core && segs.size() == 2) ||
      (!core && segs.size() == 3)) {
    return Discovery(segs);
  }
  std::string group = core ? "" : segs[1];
  std::string version = core ? segs[1] : segs[2];
  std::vector<std::string> tail(segs.begin() + (core ? 2 : 3), segs.end());
  std::optional<Target> t = ParseResourcePath(group, version, tail);
  if (!t.has_value()) return Error(errors::kNotFound);
  if (request_.Query("watch").value_or("") == "1" ||
      request_.Query("watch").value_or("") == "true") {
    return Error(errors::kMethodNotAllowed);
  }
  if (Status s = deps_.objects->EnsureBuiltins(cluster_.unique_id); !s.ok()) {
    return FailureResponse(Internal(s));
  }
  if (t->kind->read_only) return Nodes(*t);
  return Resource(*t);
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
  auto key_of = [](const json& o) {
    return StringAt(o, "metadata", "namespace") + "/" + StringAt(o, "metadata", "name");
  };
  if (!start.empty()) {
    kept.erase(
        std::remove_if(kept.begin(), kept.end(), [&](const json& o) { return key_of(o) <= start; }),
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
      const ErrorSpec& spec =
          *type == PatchType::kJsonPatch ? errors::kJsonPatchFailed : errors::kPatchFailed;
      return Failure{MakeError(spec, patched.status().message()), nullptr};
    }
    json obj = std::move(patched).value();
    const bool pinned = patch.is_object() && patch.contains("metadata") &&
                        patch["metadata"].is_object() &&
                        patch["metadata"].contains("resourceVersion");
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

}  // namespace

http::Response HandleRest(const RestDeps& deps, const containerservice::ClusterRecord& cluster,
                          const http::Request& request, std::string_view rest) {
  Handler h(deps, cluster, request);
  return h.Serve(rest);
}

}  // namespace byok::kube
