#include "kube/object_store.h"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "containerservice/cluster_store.h"
#include "kube/internal/time.h"

namespace byok::kube {

using nlohmann::json;

namespace {

constexpr int kModifyAttempts = 16;

std::string MetaKey(std::string_view cluster_uid, std::string_view what) {
  return fmt::format("kube/{}/{}", cluster_uid, what);
}

bool IsEventsGroupEvent(const Kind& kind) {
  return kind.group == "events.k8s.io" && kind.resource == "events";
}

// The kind objects of `kind` are stored as: events.k8s.io Events are core v1 Events.
const Kind& StorageKind(const Kind& kind) {
  if (IsEventsGroupEvent(kind)) {
    if (const Kind* core = FindKind("", "v1", "events"); core != nullptr) return *core;
  }
  return kind;
}

// A pointer that outlives the call (WatchEvent::kind): the registry's entry for `kind`.
const Kind* StableKind(const Kind& kind) {
  const Kind* k = FindKind(kind.group, kind.version, kind.resource);
  return k != nullptr ? k : &kind;
}

std::string KindPrefix(std::string_view cluster_uid, const Kind& kind) {
  return fmt::format("{}/{}.{}", containerservice::KubeObjectsPrefix(cluster_uid), kind.resource,
                     kind.group.empty() ? "core" : kind.group);
}

std::string NamespacePrefix(std::string_view cluster_uid, const Kind& kind, std::string_view ns) {
  return fmt::format("{}/{}", KindPrefix(cluster_uid, kind), ns.empty() ? "-" : ns);
}

std::string ObjectId(std::string_view cluster_uid, const Kind& kind, std::string_view ns,
                     std::string_view name) {
  return fmt::format("{}/{}", NamespacePrefix(cluster_uid, kind, ns), name);
}

std::string StringAt(const json& obj, const char* a, const char* b) {
  auto ia = obj.find(a);
  if (ia == obj.end() || !ia->is_object()) return "";
  auto ib = ia->find(b);
  if (ib == ia->end() || !ib->is_string()) return "";
  return ib->get<std::string>();
}

std::string NameOf(const json& obj) { return StringAt(obj, "metadata", "name"); }
std::string NamespaceOf(const json& obj) { return StringAt(obj, "metadata", "namespace"); }

Result<int64_t> ParseRv(std::string_view s) {
  if (s.empty() || s.size() > 18) return Status::InvalidArgument("malformed resourceVersion");
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Status::InvalidArgument("malformed resourceVersion");
    v = v * 10 + (c - '0');
  }
  return v;
}

// The name generateName asks for: prefix + 5 characters of the apiserver's alphabet
// (k8s.io/apiserver names.SimpleNameGenerator: no vowels, no look-alikes).
std::string GenerateName(Random& random, std::string_view prefix) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::vector<uint8_t> bytes = random.Bytes(5);
  std::string out(prefix.substr(0, 58));
  for (uint8_t b : bytes) out.push_back(kAlphabet[b % (sizeof(kAlphabet) - 1)]);
  return out;
}

// Everything but metadata and status: what bumps metadata.generation.
json SpecPart(const json& obj) {
  json out = obj;
  if (out.is_object()) {
    out.erase("metadata");
    out.erase("status");
    out.erase("apiVersion");
    out.erase("kind");
  }
  return out;
}

int64_t GenerationOf(const json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return 0;
  auto g = m->find("generation");
  return g != m->end() && g->is_number_integer() ? g->get<int64_t>() : 0;
}

Status CheckScope(const Kind& kind, std::string_view ns) {
  if (kind.namespaced && ns.empty()) {
    return Status::InvalidArgument(fmt::format("{} objects need a namespace", kind.kind));
  }
  if (!kind.namespaced && !ns.empty()) {
    return Status::InvalidArgument(fmt::format("{} objects are not namespaced", kind.kind));
  }
  return Status::Ok();
}

json StorageClass(std::string_view name, std::string_view provisioner, json parameters,
                  std::string_view binding_mode, bool is_default, json mount_options) {
  json sc = {{"apiVersion", "storage.k8s.io/v1"},
             {"kind", "StorageClass"},
             {"metadata",
              {{"name", name},
               {"labels",
                {{"addonmanager.kubernetes.io/mode", "EnsureExists"},
                 {"kubernetes.io/cluster-service", "true"}}}}},
             {"provisioner", provisioner},
             {"parameters", std::move(parameters)},
             {"reclaimPolicy", "Delete"},
             {"volumeBindingMode", binding_mode},
             {"allowVolumeExpansion", true}};
  if (is_default) {
    sc["metadata"]["annotations"] = {{"storageclass.kubernetes.io/is-default-class", "true"}};
  }
  if (!mount_options.is_null()) sc["mountOptions"] = std::move(mount_options);
  return sc;
}

// AKS's built-in storage classes (Kubernetes 1.21+, CSI drivers).
std::vector<json> BuiltinStorageClasses() {
  const json file_mount = {"mfsymlinks", "actimeo=30", "nosharesock"};
  constexpr char kDisk[] = "disk.csi.azure.com";
  constexpr char kFile[] = "file.csi.azure.com";
  constexpr char kWait[] = "WaitForFirstConsumer";
  constexpr char kImmediate[] = "Immediate";
  return {
      StorageClass("azurefile", kFile, {{"skuName", "Standard_LRS"}}, kImmediate, false,
                   file_mount),
      StorageClass("azurefile-csi", kFile, {{"skuName", "Standard_LRS"}}, kImmediate, false,
                   file_mount),
      StorageClass("azurefile-csi-premium", kFile, {{"skuName", "Premium_LRS"}}, kImmediate, false,
                   file_mount),
      StorageClass("azurefile-premium", kFile, {{"skuName", "Premium_LRS"}}, kImmediate, false,
                   file_mount),
      StorageClass("default", kDisk, {{"skuname", "StandardSSD_LRS"}}, kWait, true, nullptr),
      StorageClass("managed", kDisk,
                   {{"cachingmode", "ReadOnly"},
                    {"kind", "Managed"},
                    {"storageaccounttype", "StandardSSD_LRS"}},
                   kWait, false, nullptr),
      StorageClass("managed-csi", kDisk, {{"skuname", "StandardSSD_LRS"}}, kWait, false, nullptr),
      StorageClass("managed-csi-premium", kDisk, {{"skuname", "Premium_LRS"}}, kWait, false,
                   nullptr),
      StorageClass(
          "managed-premium", kDisk,
          {{"cachingmode", "ReadOnly"}, {"kind", "Managed"}, {"storageaccounttype", "Premium_LRS"}},
          kWait, false, nullptr),
  };
}

constexpr size_t kRecentEvents = 1024;  // per cluster, for watches that resume (Watch)

thread_local bool t_delivering = false;

// Sets t_delivering for its lifetime (reset even when a subscriber throws).
class DeliveringScope {
 public:
  DeliveringScope() { t_delivering = true; }
  ~DeliveringScope() { t_delivering = false; }
  DeliveringScope(const DeliveringScope&) = delete;
  DeliveringScope& operator=(const DeliveringScope&) = delete;
};

}  // namespace

class ObjectStore::Impl {
 public:
  explicit Impl(ObjectStoreDeps deps) : deps_(deps) {}

  // One write transaction: the counter, and the events it will publish after the commit.
  struct Write {
    store::Transaction* txn = nullptr;
    std::string cluster;
    int64_t rv = 0;  // last value handed out
    bool rv_loaded = false;
    std::vector<WatchEvent> events;

    Result<int64_t> NextRv() {
      if (!rv_loaded) {
        BYOK_ASSIGN_OR_RETURN(auto cur, txn->GetMeta(MetaKey(cluster, "resourceVersion")));
        if (cur.has_value()) {
          BYOK_ASSIGN_OR_RETURN(rv, ParseRv(*cur));
        }
        rv_loaded = true;
      }
      return ++rv;
    }
    Status Finish() {
      if (rv_loaded) {
        BYOK_TRY(txn->PutMeta(MetaKey(cluster, "resourceVersion"), std::to_string(rv)));
      }
      return Status::Ok();
    }
  };

  // Runs fn in a write transaction; commits, then publishes the write's events.
  template <typename T>
  Result<T> RunWrite(std::string_view cluster_uid, const std::function<Result<T>(Write&)>& fn) {
    std::optional<T> out;
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      BYOK_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, deps_.store->Begin());
      Write w;
      w.txn = txn.get();
      w.cluster = std::string(cluster_uid);
      Result<T> r = fn(w);
      if (!r.ok()) return r.status();
      BYOK_TRY(w.Finish());
      BYOK_TRY(txn->Commit());
      out = std::move(r).value();
      std::lock_guard<std::mutex> qlock(queue_mu_);
      if (!w.events.empty()) {
        std::deque<WatchEvent>& recent = recent_[w.cluster];
        for (const WatchEvent& e : w.events) recent.push_back(e);
        while (recent.size() > kRecentEvents) recent.pop_front();
      }
      for (WatchEvent& e : w.events) queue_.push_back({w.cluster, std::move(e)});
    }
    Deliver();
    return std::move(*out);
  }

  // A subscription. `call_mu` is held while fn runs, so Unsubscribe can wait for a call in
  // progress; `removed` (guarded by call_mu) stops later calls.
  struct Sub {
    std::string cluster;  // "" = every cluster
    Subscriber fn;
    int64_t min_rv = 0;  // events with resource_version <= min_rv are skipped (Watch's replay)
    std::mutex call_mu;
    bool removed = false;
  };

  // Delivers queued events in order. A subscriber's own writes are queued and delivered by the
  // loop that called it, after the current event reached every subscriber.
  void Deliver() {
    if (t_delivering) return;
    std::lock_guard<std::mutex> dlock(deliver_mu_);
    DeliveringScope scope;
    for (;;) {
      std::pair<std::string, WatchEvent> item;
      std::vector<std::shared_ptr<Sub>> subs;
      {
        std::lock_guard<std::mutex> qlock(queue_mu_);
        if (queue_.empty()) break;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      {
        std::lock_guard<std::mutex> slock(subs_mu_);
        for (const auto& [handle, s] : subscribers_) {
          if (s->cluster.empty() || s->cluster == item.first) subs.push_back(s);
        }
      }
      for (const std::shared_ptr<Sub>& sub : subs) {
        if (item.second.resource_version <= sub->min_rv && !sub->cluster.empty()) continue;
        std::lock_guard<std::mutex> clock(sub->call_mu);
        if (sub->removed) continue;
        t_calling = sub.get();
        struct Reset {
          ~Reset() { t_calling = nullptr; }
        } reset;
        sub->fn(item.first, item.second);
      }
    }
  }

  // The subscription whose callback this thread is running (Unsubscribe from inside it must not
  // wait for itself).
  static thread_local Sub* t_calling;

  Result<std::optional<json>> ReadObject(store::Transaction& txn, std::string_view cluster_uid,
                                         const Kind& kind, std::string_view ns,
                                         std::string_view name) {
    BYOK_ASSIGN_OR_RETURN(auto r, txn.Get(ObjectId(cluster_uid, kind, ns, name)));
    if (!r.has_value()) return std::optional<json>();
    // Store keys are case-insensitive; Kubernetes names are not.
    if (NameOf(r->body) != name) return std::optional<json>();
    return std::optional<json>(std::move(r->body));
  }

  Status PutObject(Write& w, const Kind& kind, const json& obj, bool create) {
    store::Resource res;
    res.id = ObjectId(w.cluster, kind, NamespaceOf(obj), NameOf(obj));
    res.type = kObjectType;
    res.body = obj;
    if (create) {
      Result<store::Resource> r = w.txn->Create(std::move(res));
      if (!r.ok()) return r.status();
    } else {
      Result<store::Resource> r = w.txn->Put(std::move(res));
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  }

  static std::string NotFoundMessage(const Kind& kind, std::string_view name) {
    return fmt::format("{} \"{}\" not found", kind.resource, name);
  }

  Result<json> CreateIn(Write& w, const Kind& kind, json object) {
    if (!object.is_object()) return Status::InvalidArgument("object is not a JSON object");
    if (!object.contains("metadata") || !object["metadata"].is_object()) {
      object["metadata"] = json::object();
    }
    json& meta = object["metadata"];
    std::string name = NameOf(object);
    if (name.empty()) {
      std::string gen = StringAt(object, "metadata", "generateName");
      if (gen.empty()) return Status::InvalidArgument("metadata.name is required");
      name = GenerateName(*deps_.random, gen);
      meta["name"] = name;
    }
    std::string ns = NamespaceOf(object);
    BYOK_TRY(CheckScope(kind, ns));
    if (kind.namespaced && !(kind.group.empty() && kind.resource == "namespaces")) {
      const Kind* ns_kind = FindKind("", "v1", "namespaces");
      if (ns_kind != nullptr) {
        BYOK_ASSIGN_OR_RETURN(auto nso, ReadObject(*w.txn, w.cluster, *ns_kind, "", ns));
        if (!nso.has_value()) return Status::NotFound(NotFoundMessage(*ns_kind, ns));
      }
    }
    BYOK_ASSIGN_OR_RETURN(auto existing, w.txn->Get(ObjectId(w.cluster, kind, ns, name)));
    if (existing.has_value()) {
      return Status::AlreadyExists(fmt::format("{} \"{}\" already exists", kind.resource, name));
    }
    BYOK_ASSIGN_OR_RETURN(int64_t rv, w.NextRv());
    object["apiVersion"] = kind.ApiVersion();
    object["kind"] = kind.kind;
    meta["uid"] = deps_.random->Uuid();
    meta["creationTimestamp"] = internal::KubeTime(deps_.clock->Now());
    meta["resourceVersion"] = std::to_string(rv);
    meta["generation"] = 1;
    meta.erase("deletionTimestamp");
    meta.erase("deletionGracePeriodSeconds");
    BYOK_TRY(PutObject(w, kind, object, /*create=*/true));
    w.events.push_back(WatchEvent{"ADDED", StableKind(kind), object, rv, {}});
    return object;
  }

  Result<json> UpdateIn(Write& w, const Kind& kind, json object) {
    if (!object.is_object()) return Status::InvalidArgument("object is not a JSON object");
    std::string name = NameOf(object);
    if (name.empty()) return Status::InvalidArgument("metadata.name is required");
    std::string ns = NamespaceOf(object);
    BYOK_TRY(CheckScope(kind, ns));
    BYOK_ASSIGN_OR_RETURN(auto stored_opt, ReadObject(*w.txn, w.cluster, kind, ns, name));
    if (!stored_opt.has_value()) return Status::NotFound(NotFoundMessage(kind, name));
    const json& stored = *stored_opt;
    const std::string stored_rv = StringAt(stored, "metadata", "resourceVersion");
    const std::string given_rv = StringAt(object, "metadata", "resourceVersion");
    if (!given_rv.empty() && given_rv != stored_rv) {
      return Status::Aborted(fmt::format(
          "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply "
          "your changes to the latest version and try again",
          kind.group.empty() ? kind.resource : kind.resource + "." + kind.group, name));
    }
    json& meta = object["metadata"];
    object["apiVersion"] = kind.ApiVersion();
    object["kind"] = kind.kind;
    meta["uid"] = stored["metadata"].value("uid", "");
    meta["creationTimestamp"] = stored["metadata"].value("creationTimestamp", "");
    int64_t generation = std::max<int64_t>(GenerationOf(stored), 1);
    if (SpecPart(object) != SpecPart(stored)) ++generation;
    meta["generation"] = generation;
    meta["resourceVersion"] = stored_rv;
    if (object == stored) return object;  // a no-op update writes nothing (as the apiserver)
    BYOK_ASSIGN_OR_RETURN(int64_t rv, w.NextRv());
    meta["resourceVersion"] = std::to_string(rv);
    BYOK_TRY(PutObject(w, kind, object, /*create=*/false));
    w.events.push_back(WatchEvent{"MODIFIED", StableKind(kind), object, rv, stored});
    return object;
  }

  Status DeleteOne(Write& w, const Kind& kind, json obj) {
    BYOK_TRY(w.txn->Delete(ObjectId(w.cluster, kind, NamespaceOf(obj), NameOf(obj))));
    BYOK_ASSIGN_OR_RETURN(int64_t rv, w.NextRv());
    obj["metadata"]["resourceVersion"] = std::to_string(rv);
    w.events.push_back(WatchEvent{"DELETED", StableKind(kind), std::move(obj), rv, {}});
    return Status::Ok();
  }

  Result<json> DeleteIn(Write& w, const Kind& kind, std::string_view ns, std::string_view name) {
    BYOK_TRY(CheckScope(kind, ns));
    BYOK_ASSIGN_OR_RETURN(auto stored, ReadObject(*w.txn, w.cluster, kind, ns, name));
    if (!stored.has_value()) return Status::NotFound(NotFoundMessage(kind, name));
    if (kind.group.empty() && kind.resource == "namespaces") {
      // Synchronous namespace deletion: everything in it goes first.
      for (const Kind& k : ServedKinds()) {
        if (!k.namespaced || k.read_only || IsEventsGroupEvent(k)) continue;
        BYOK_ASSIGN_OR_RETURN(auto rows, w.txn->ListByPrefix(NamespacePrefix(w.cluster, k, name)));
        for (store::Resource& r : rows) {
          if (NamespaceOf(r.body) != name) continue;  // another case of the same name
          BYOK_TRY(DeleteOne(w, k, std::move(r.body)));
        }
      }
    }
    BYOK_TRY(DeleteOne(w, kind, *stored));
    return w.events.back().object;
  }

  ObjectStoreDeps deps_;
  std::mutex write_mu_;  // orders commits and their events
  std::mutex queue_mu_;
  std::deque<std::pair<std::string, WatchEvent>> queue_;
  std::mutex deliver_mu_;
  std::map<std::string, std::deque<WatchEvent>> recent_;  // guarded by queue_mu_; per cluster
  std::mutex subs_mu_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, std::shared_ptr<Sub>> subscribers_;  // guarded by subs_mu_
  std::mutex builtins_mu_;
  std::set<std::string> builtins_done_;
};

thread_local ObjectStore::Impl::Sub* ObjectStore::Impl::t_calling = nullptr;

ObjectStore::ObjectStore(ObjectStoreDeps deps) : impl_(std::make_unique<Impl>(deps)) {}
ObjectStore::~ObjectStore() = default;

Result<json> ObjectStore::Get(std::string_view cluster_uid, const Kind& kind_in,
                              std::string_view ns, std::string_view name) {
  const Kind& kind = StorageKind(kind_in);
  BYOK_TRY(CheckScope(kind, ns));
  BYOK_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, impl_->deps_.store->BeginRead());
  BYOK_ASSIGN_OR_RETURN(auto obj, impl_->ReadObject(*txn, cluster_uid, kind, ns, name));
  if (!obj.has_value()) return Status::NotFound(Impl::NotFoundMessage(kind, name));
  return std::move(*obj);
}

Result<ListResult> ObjectStore::List(std::string_view cluster_uid, const Kind& kind_in,
                                     std::string_view ns) {
  const Kind& kind = StorageKind(kind_in);
  const bool one_ns = kind.namespaced && !ns.empty();
  BYOK_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, impl_->deps_.store->BeginRead());
  ListResult out;
  BYOK_ASSIGN_OR_RETURN(auto cur, txn->GetMeta(MetaKey(cluster_uid, "resourceVersion")));
  if (cur.has_value()) {
    BYOK_ASSIGN_OR_RETURN(out.resource_version, ParseRv(*cur));
  }
  BYOK_ASSIGN_OR_RETURN(auto rows, txn->ListByPrefix(one_ns ? NamespacePrefix(cluster_uid, kind, ns)
                                                            : KindPrefix(cluster_uid, kind)));
  for (store::Resource& r : rows) {
    if (one_ns && NamespaceOf(r.body) != ns) continue;
    out.items.push_back(std::move(r.body));
  }
  std::sort(out.items.begin(), out.items.end(), [](const json& a, const json& b) {
    return std::make_tuple(NamespaceOf(a), NameOf(a)) < std::make_tuple(NamespaceOf(b), NameOf(b));
  });
  return out;
}

Result<json> ObjectStore::Create(std::string_view cluster_uid, const Kind& kind_in, json object) {
  const Kind& kind = StorageKind(kind_in);
  return impl_->RunWrite<json>(cluster_uid, [&](Impl::Write& w) -> Result<json> {
    return impl_->CreateIn(w, kind, std::move(object));
  });
}

Result<json> ObjectStore::Update(std::string_view cluster_uid, const Kind& kind_in, json object) {
  const Kind& kind = StorageKind(kind_in);
  return impl_->RunWrite<json>(cluster_uid, [&](Impl::Write& w) -> Result<json> {
    return impl_->UpdateIn(w, kind, std::move(object));
  });
}

Result<json> ObjectStore::Modify(std::string_view cluster_uid, const Kind& kind_in,
                                 std::string_view ns, std::string_view name,
                                 const std::function<Result<json>(json)>& mutate) {
  const Kind& kind = StorageKind(kind_in);
  Status last;
  for (int attempt = 0; attempt < kModifyAttempts; ++attempt) {
    BYOK_ASSIGN_OR_RETURN(json current, Get(cluster_uid, kind, ns, name));
    const std::string rv = StringAt(current, "metadata", "resourceVersion");
    BYOK_ASSIGN_OR_RETURN(json next, mutate(std::move(current)));
    if (!next.is_object()) return Status::InvalidArgument("object is not a JSON object");
    next["metadata"]["resourceVersion"] = rv;
    next["metadata"]["name"] = std::string(name);
    if (!ns.empty()) next["metadata"]["namespace"] = std::string(ns);
    Result<json> r = Update(cluster_uid, kind, std::move(next));
    if (r.ok() || !r.status().Is(StatusCode::kAborted)) return r;
    last = r.status();
  }
  return last;
}

Result<json> ObjectStore::Delete(std::string_view cluster_uid, const Kind& kind_in,
                                 std::string_view ns, std::string_view name) {
  const Kind& kind = StorageKind(kind_in);
  return impl_->RunWrite<json>(cluster_uid, [&](Impl::Write& w) -> Result<json> {
    return impl_->DeleteIn(w, kind, ns, name);
  });
}

Status ObjectStore::EnsureBuiltins(std::string_view cluster_uid) {
  std::lock_guard<std::mutex> lock(impl_->builtins_mu_);
  if (impl_->builtins_done_.count(std::string(cluster_uid)) != 0) return Status::Ok();
  {
    BYOK_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, impl_->deps_.store->BeginRead());
    BYOK_ASSIGN_OR_RETURN(auto marker, txn->GetMeta(MetaKey(cluster_uid, "builtins")));
    if (marker.has_value()) {
      impl_->builtins_done_.insert(std::string(cluster_uid));
      return Status::Ok();
    }
  }
  const Kind* ns_kind = FindKind("", "v1", "namespaces");
  const Kind* sc_kind = FindKind("storage.k8s.io", "v1", "storageclasses");
  if (ns_kind == nullptr || sc_kind == nullptr) return Status::Internal("kinds not registered");
  Result<bool> r = impl_->RunWrite<bool>(cluster_uid, [&](Impl::Write& w) -> Result<bool> {
    auto ensure = [&](const Kind& kind, json obj) -> Status {
      BYOK_ASSIGN_OR_RETURN(auto existing,
                            impl_->ReadObject(*w.txn, w.cluster, kind, "", NameOf(obj)));
      if (existing.has_value()) return Status::Ok();
      Result<json> c = impl_->CreateIn(w, kind, std::move(obj));
      return c.status();
    };
    for (const char* ns : {"default", "kube-node-lease", "kube-public", "kube-system"}) {
      json obj = {{"metadata", {{"name", ns}, {"labels", {{"kubernetes.io/metadata.name", ns}}}}},
                  {"spec", json::object()},
                  {"status", {{"phase", "Active"}}}};
      BYOK_TRY(ensure(*ns_kind, std::move(obj)));
    }
    for (json& sc : BuiltinStorageClasses()) BYOK_TRY(ensure(*sc_kind, std::move(sc)));
    BYOK_TRY(w.txn->PutMeta(MetaKey(w.cluster, "builtins"), "1"));
    return true;
  });
  if (!r.ok()) return r.status();
  impl_->builtins_done_.insert(std::string(cluster_uid));
  return Status::Ok();
}

Result<int64_t> ObjectStore::CurrentResourceVersion(std::string_view cluster_uid) {
  BYOK_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, impl_->deps_.store->BeginRead());
  BYOK_ASSIGN_OR_RETURN(auto cur, txn->GetMeta(MetaKey(cluster_uid, "resourceVersion")));
  if (!cur.has_value()) return int64_t{0};
  return ParseRv(*cur);
}

uint64_t ObjectStore::Subscribe(std::string_view cluster_uid, Subscriber fn) {
  auto sub = std::make_shared<Impl::Sub>();
  sub->cluster = std::string(cluster_uid);
  sub->fn = std::move(fn);
  std::lock_guard<std::mutex> lock(impl_->subs_mu_);
  uint64_t h = impl_->next_handle_++;
  impl_->subscribers_[h] = std::move(sub);
  return h;
}

Result<ObjectStore::WatchStart> ObjectStore::Watch(std::string_view cluster_uid, int64_t after,
                                                   Subscriber fn) {
  if (cluster_uid.empty()) return Status::InvalidArgument("Watch needs a cluster");
  auto sub = std::make_shared<Impl::Sub>();
  sub->cluster = std::string(cluster_uid);
  sub->fn = std::move(fn);
  // No write commits meanwhile: the counter read below and the recent events agree.
  std::lock_guard<std::mutex> wlock(impl_->write_mu_);
  BYOK_ASSIGN_OR_RETURN(int64_t current, CurrentResourceVersion(cluster_uid));
  WatchStart out;
  out.resource_version = current;
  std::lock_guard<std::mutex> qlock(impl_->queue_mu_);
  // Committed events still queued reach the new subscriber through Deliver; the replay is the
  // recent events after `after` that were already taken off the queue.
  int64_t first_queued = INT64_MAX;
  for (const auto& [cluster, e] : impl_->queue_) {
    if (cluster == cluster_uid) first_queued = std::min(first_queued, e.resource_version);
  }
  if (after < current) {
    auto it = impl_->recent_.find(std::string(cluster_uid));
    if (it == impl_->recent_.end() || it->second.empty() ||
        it->second.front().resource_version > after + 1) {
      int64_t oldest = it == impl_->recent_.end() || it->second.empty()
                           ? current
                           : it->second.front().resource_version - 1;
      return Status::OutOfRange(fmt::format("too old resource version: {} ({})", after, oldest));
    }
    for (const WatchEvent& e : it->second) {
      if (e.resource_version > after && e.resource_version < first_queued) {
        out.replay.push_back(e);
      }
    }
  }
  // An event being delivered right now (off the queue, so replayed) must not come twice.
  sub->min_rv = out.replay.empty() ? after : std::max(after, out.replay.back().resource_version);
  std::lock_guard<std::mutex> slock(impl_->subs_mu_);
  out.handle = impl_->next_handle_++;
  impl_->subscribers_[out.handle] = std::move(sub);
  return out;
}

void ObjectStore::ForgetCluster(std::string_view cluster_uid) {
  std::lock_guard<std::mutex> lock(impl_->queue_mu_);
  impl_->recent_.erase(std::string(cluster_uid));
}

void ObjectStore::Unsubscribe(uint64_t handle) {
  std::shared_ptr<Impl::Sub> sub;
  {
    std::lock_guard<std::mutex> lock(impl_->subs_mu_);
    auto it = impl_->subscribers_.find(handle);
    if (it == impl_->subscribers_.end()) return;
    sub = std::move(it->second);
    impl_->subscribers_.erase(it);
  }
  if (Impl::t_calling == sub.get()) {  // from inside its own callback: no later call
    sub->removed = true;
    return;
  }
  std::lock_guard<std::mutex> clock(sub->call_mu);  // waits for a call in progress
  sub->removed = true;
}

}  // namespace byok::kube
