#include "compute/disk_encryption_sets.h"

#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/locations.h"
#include "arm/resource_id.h"
#include "compute/disk_store.h"
#include "compute/errors.h"
#include "compute/key_reference.h"
#include "compute/provider_util.h"

namespace byok::compute {

using arm::EqualsIgnoreCase;
using arm::ResourceId;
using gateway::ArmError;
using gateway::ArmRequest;
using internal::StringOf;
using nlohmann::json;

namespace {

constexpr char kAssociatedType[] = "Microsoft.Compute/diskEncryptionSets/associatedResources";
constexpr char kSystemAssigned[] = "SystemAssigned";

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The validated active key: the versioned URL to store and the vault's id.
struct ResolvedKey {
  std::string key_url;
  std::string vault_id;
};

}  // namespace

class DiskEncryptionSets::Impl {
 public:
  explicit Impl(ComputeDeps deps) : d_(std::move(deps)) {}

  static void Register(const std::shared_ptr<Impl>& self, gateway::Frontend& fe) {
    gateway::ResourceTypeSpec des;
    des.type = kDesType;
    des.api_versions = ComputeApiVersions();
    des.put = [self](ArmRequest& r) { return self->Put(r); };
    des.patch = [self](ArmRequest& r) { return self->Patch(r); };
    des.get = [self](ArmRequest& r) { return self->Get(r); };
    des.del = [self](ArmRequest& r) { return self->Delete(r); };
    des.list = [self](ArmRequest& r) { return self->List(r); };
    des.on_cascade_delete = [self](store::Transaction& txn, const store::Resource& res) {
      return self->CascadeDelete(txn, res);
    };
    fe.Register(std::move(des));

    gateway::ResourceTypeSpec assoc;
    assoc.type = kAssociatedType;
    assoc.api_versions = ComputeApiVersions();
    assoc.list = [self](ArmRequest& r) { return self->ListAssociated(r); };
    // Reading a DES's associated resources is reading the DES.
    assoc.rbac_action = [](const ArmRequest&) {
      return std::string("Microsoft.Compute/diskEncryptionSets/read");
    };
    fe.Register(std::move(assoc));
  }

  Status CompleteRotation(std::string_view des_id);
  Status RunAutoKeyRotation(TimePoint now);

 private:
  http::Response NotFound(const ResourceId& id) const {
    return ArmError(MakeError(errors::kResourceNotFound, fmt::format("{}/{}", kDesType, id.Name()),
                              id.resource_group()));
  }

  // ---- Validation ----

  // Validates activeKey for the DES `des_name` in `location` (see the header).
  ApiResult<ResolvedKey> ValidateActiveKey(store::Transaction& txn, const json& active,
                                           const std::string& location, bool rotation,
                                           const std::string& des_name) const {
    if (!active.is_object()) return MakeError(errors::kMissingParameter, "activeKey");
    auto url_in = active.find("keyUrl");
    if (url_in == active.end() || !url_in->is_string() || url_in->get<std::string>().empty()) {
      return MakeError(errors::kMissingParameter, "activeKey.keyUrl");
    }
    const std::string key_url = url_in->get<std::string>();
    std::optional<KeyUrl> url = KeyUrl::Parse(key_url);
    if (!url) return MakeError(errors::kInvalidKeyUrl, key_url);
    if (url->version.empty() && !rotation) return MakeError(errors::kKeyVersionRequired, key_url);

    std::string source_vault = StringOf(active.value("sourceVault", json::object()), "id");
    if (!source_vault.empty()) {
      auto by_id = keyvault::FindVaultById(txn, source_vault);
      if (!by_id.ok()) return internal::InternalError(*d_.clock, by_id.status());
      if (!by_id->has_value()) return MakeError(errors::kSourceVaultNotFound, source_vault);
      if (arm::AsciiLower((*by_id)->name) != url->vault) {
        return MakeError(errors::kSourceVaultMismatch, source_vault, url->vault);
      }
    }
    auto found = LookupKey(txn, *url);
    if (!found.ok()) return internal::InternalError(*d_.clock, found.status());
    if (!found->vault || found->vault->deleted) {
      return MakeError(errors::kSourceVaultNotFound,
                       source_vault.empty() ? url->vault : source_vault);
    }
    const keyvault::VaultRecord& vault = *found->vault;
    if (!vault.enable_purge_protection) {
      return MakeError(errors::kVaultPurgeProtectionRequired, vault.name);
    }
    if (CanonicalOr(vault.location) != location) {
      return MakeError(errors::kVaultRegionMismatch, vault.name, vault.location, location);
    }
    if (!found->key_exists || found->key_deleted || !found->version) {
      return MakeError(
          errors::kKeyVaultKeyNotFound, key_url,
          fmt::format("A key with (name/id) {} was not found in this key vault.",
                      url->version.empty() ? url->name : url->name + "/" + url->version));
    }
    const keyvault::VersionDoc& v = *found->version;
    if (!v.attributes.enabled) {
      return MakeError(errors::kKeyVaultKeyNotEnabled, url->Versionless(), des_name);
    }
    if (v.attributes.exp && *v.attributes.exp <= UnixSeconds(d_.clock->Now())) {
      return MakeError(errors::kKeyVaultKeyExpired, key_url);
    }
    if (!keyvault::IsRsa(v.kty)) return MakeError(errors::kUnsupportedKeyType, key_url, v.kty);
    int bits = RsaKeyBits(v);
    if (bits != 2048 && bits != 3072 && bits != 4096) {
      return MakeError(errors::kUnsupportedKeySize, key_url, bits);
    }
    return ResolvedKey{url->WithVersion(v.version).ToString(), vault.id};
  }

  static std::string CanonicalOr(const std::string& loc) {
    std::string c = internal::CanonicalLocation(loc);
    return c.empty() ? loc : c;
  }

  // ---- Handlers ----

  http::Response Put(ArmRequest& r) {
    if (!r.body.is_object()) {
      return ArmError(MakeError(errors::kInvalidRequestContent, "the body must be a JSON object"));
    }
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return internal::Internal(r, *d_.clock, txn.status());
    auto existing = (*txn)->Get(r.path.id.ToString());
    if (!existing.ok()) return internal::Internal(r, *d_.clock, existing.status());
    txn->reset();
    std::optional<store::Resource> old;
    if (existing->has_value() && EqualsIgnoreCase((*existing)->type, kDesType)) old = **existing;
    return Apply(r, r.body, old);
  }

  http::Response Patch(ArmRequest& r) {
    if (!r.body.is_object()) {
      return ArmError(MakeError(errors::kInvalidRequestContent, "the body must be a JSON object"));
    }
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return internal::Internal(r, *d_.clock, txn.status());
    auto existing = (*txn)->Get(r.path.id.ToString());
    if (!existing.ok()) return internal::Internal(r, *d_.clock, existing.status());
    txn->reset();
    if (!existing->has_value() || !EqualsIgnoreCase((*existing)->type, kDesType)) {
      return NotFound(r.path.id);
    }
    // DiskEncryptionSetUpdate: tags, identity and properties {encryptionType, activeKey,
    // rotationToLatestKeyVersionEnabled} replace what they name.
    json merged = (*existing)->body;
    if (auto t = r.body.find("tags"); t != r.body.end()) merged["tags"] = *t;
    if (auto i = r.body.find("identity"); i != r.body.end() && !i->is_null()) {
      merged["identity"] = *i;
    }
    if (auto p = r.body.find("properties"); p != r.body.end() && !p->is_null()) {
      if (!p->is_object()) return ArmError(MakeError(errors::kMissingParameter, "properties"));
      for (const char* k : {"encryptionType", "activeKey", "rotationToLatestKeyVersionEnabled"}) {
        if (auto v = p->find(k); v != p->end() && !v->is_null()) merged["properties"][k] = *v;
      }
    }
    return Apply(r, merged, **existing);
  }

  // Creates or updates the DES from a full document `in` (PUT body, or PATCH merged into the
  // stored document).
  http::Response Apply(ArmRequest& r, const json& in, const std::optional<store::Resource>& old) {
    const std::string name = r.path.id.Name();
    const std::string id = r.path.id.ToString();
    if (!internal::ValidName(name, false)) {
      return ArmError(MakeError(errors::kInvalidParameter, name, "diskEncryptionSetName",
                                "The name can contain only letters, digits, '_' and '-', and be "
                                "at most 80 characters long."));
    }
    // location
    auto loc_in = in.find("location");
    if (loc_in == in.end() || !loc_in->is_string() || loc_in->get<std::string>().empty()) {
      return ArmError(MakeError(errors::kLocationRequired));
    }
    const std::string location = internal::CanonicalLocation(loc_in->get<std::string>());
    if (location.empty()) {
      return ArmError(MakeError(arm::errors::kLocationNotAvailableForResourceType,
                                loc_in->get<std::string>(), kDesType, arm::LocationNames()));
    }
    std::optional<DesRecord> before;
    if (old) {
      auto rec = DesRecordFromBody(old->body);
      if (!rec.ok()) return internal::Internal(r, *d_.clock, rec.status());
      before = std::move(rec).value();
      if (before->location != location) {
        return ArmError(MakeError(arm::errors::kInvalidResourceLocation, name, before->location,
                                  r.path.id.resource_group(), loc_in->get<std::string>()));
      }
    }
    // tags
    json tags = in.value("tags", json::object());
    if (tags.is_null()) tags = json::object();
    if (auto e = internal::CheckTags(tags, id)) return ArmError(*e);
    // identity
    auto ident = in.find("identity");
    if (ident == in.end() || ident->is_null()) {
      if (!old) return ArmError(MakeError(errors::kMissingParameter, "identity"));
    } else {
      std::string type = ident->is_object() ? StringOf(*ident, "type") : "";
      if (!EqualsIgnoreCase(type, kSystemAssigned)) {
        return ArmError(MakeError(errors::kUnsupportedIdentityType, type));
      }
    }
    // properties
    auto props_in = in.find("properties");
    if (props_in == in.end() || !props_in->is_object()) {
      return ArmError(MakeError(errors::kMissingParameter, "properties"));
    }
    const json& props = *props_in;
    EncryptionType type = before ? before->encryption_type : EncryptionType::kCustomerKey;
    if (auto t = props.find("encryptionType"); t != props.end() && !t->is_null()) {
      std::string v = t->is_string() ? t->get<std::string>() : t->dump();
      std::optional<EncryptionType> parsed = ParseEncryptionType(v);
      if (!parsed || *parsed == EncryptionType::kPlatformKey) {
        return ArmError(MakeError(errors::kUnsupportedDesEncryptionType, v));
      }
      type = *parsed;
    }
    bool rotation = before ? before->rotation_to_latest : false;
    if (auto v = props.find("rotationToLatestKeyVersionEnabled");
        v != props.end() && !v->is_null()) {
      if (!v->is_boolean()) {
        return ArmError(MakeError(errors::kInvalidParameter, v->dump(),
                                  "rotationToLatestKeyVersionEnabled", "It must be a boolean."));
      }
      rotation = v->get<bool>();
    }
    json active_in = props.value("activeKey", json());

    // The key: validated unless it is the one the DES already uses.
    ResolvedKey key;
    {
      std::optional<KeyUrl> want = active_in.is_object()
                                       ? KeyUrl::Parse(StringOf(active_in, "keyUrl"))
                                       : std::optional<KeyUrl>();
      std::optional<KeyUrl> have =
          before ? KeyUrl::Parse(before->active_key_url) : std::optional<KeyUrl>();
      std::string want_vault = StringOf(active_in.value("sourceVault", json::object()), "id");
      if (want && have && want->SameVersion(*have) &&
          (want_vault.empty() || EqualsIgnoreCase(want_vault, before->source_vault_id))) {
        key = ResolvedKey{before->active_key_url, before->source_vault_id};
      } else {
        auto txn = d_.store->BeginRead();
        if (!txn.ok()) return internal::Internal(r, *d_.clock, txn.status());
        ApiResult<ResolvedKey> resolved =
            ValidateActiveKey(**txn, active_in, location, rotation, name);
        if (!resolved.ok()) return ArmError(resolved.error());
        key = std::move(resolved).value();
      }
    }

    // Write: identity (creation), rotation bookkeeping.
    auto txn = d_.store->Begin();
    if (!txn.ok()) return internal::Internal(r, *d_.clock, txn.status());
    auto disks = ListDisksOfDes(**txn, id);
    if (!disks.ok()) return internal::Internal(r, *d_.clock, disks.status());
    if (before && before->encryption_type != type && !disks->empty()) {
      return ArmError(MakeError(errors::kDesEncryptionTypeChange, name,
                                EncryptionTypeName(before->encryption_type),
                                EncryptionTypeName(type)));
    }
    const std::string now = FormatAzureTime(d_.clock->Now());
    json doc = old ? old->body : json::object();
    doc["id"] = id;
    doc["name"] = name;
    doc["type"] = kDesType;
    doc["location"] = location;
    doc["tags"] = tags;
    if (!old || !doc.contains("identity") || StringOf(doc["identity"], "principalId").empty()) {
      auto principal = d_.directory->CreateManagedIdentity(**txn, id);
      if (!principal.ok()) return internal::Internal(r, *d_.clock, principal.status());
      doc["identity"] = {{"type", kSystemAssigned},
                         {"principalId", principal->object_id},
                         {"tenantId", principal->tenant_id.empty() ? d_.directory->tenant_id()
                                                                   : principal->tenant_id}};
    }
    json& p = doc["properties"];
    if (!p.is_object()) p = json::object();
    json previous = p.value("previousKeys", json::array());
    if (!previous.is_array()) previous = json::array();
    const bool rotated = before && before->active_key_url != key.key_url;
    if (rotated) {
      std::optional<KeyUrl> old_url = KeyUrl::Parse(before->active_key_url);
      std::optional<KeyUrl> new_url = KeyUrl::Parse(key.key_url);
      json kept = json::array();
      bool listed = false;
      for (const json& k : previous) {
        std::optional<KeyUrl> u = KeyUrl::Parse(StringOf(k, "keyUrl"));
        if (u && new_url && u->SameVersion(*new_url)) continue;  // rotating back to it
        if (u && old_url && u->SameVersion(*old_url)) listed = true;
        kept.push_back(k);
      }
      if (!listed) {
        kept.push_back({{"sourceVault", {{"id", before->source_vault_id}}},
                        {"keyUrl", before->active_key_url}});
      }
      previous = std::move(kept);
    }
    if (disks->empty()) previous = json::array();  // nothing to re-wrap
    p["activeKey"] = {{"sourceVault", {{"id", key.vault_id}}}, {"keyUrl", key.key_url}};
    p["encryptionType"] = std::string(EncryptionTypeName(type));
    p["previousKeys"] = previous;
    p["rotationToLatestKeyVersionEnabled"] = rotation;
    p["provisioningState"] = "Succeeded";
    if (!old || rotated) p["lastKeyRotationTimestamp"] = now;
    p.erase("autoKeyRotationError");  // an update clears it (and resumes automatic rotation)

    store::Resource res;
    res.id = id;
    res.type = kDesType;
    res.parent_id =
        ResourceId::ResourceGroup(r.path.id.subscription_id(), r.path.id.resource_group())
            .ToString();
    res.body = doc;
    auto put = (*txn)->Put(std::move(res));
    if (!put.ok()) return internal::Internal(r, *d_.clock, put.status());
    if (Status s = (*txn)->Commit(); !s.ok()) return internal::Internal(r, *d_.clock, s);
    if (!old) spdlog::info("created disk encryption set {}", id);
    if (rotated) spdlog::info("disk encryption set {}: active key rotated to {}", id, key.key_url);

    if (previous.empty()) return http::Response::Json(200, put->body);
    // Re-wrap the disks on the operations worker; clients poll until it is done.
    std::shared_ptr<Impl> self = self_.lock();
    return d_.operations->Start(
        r,
        [self, id, key_url = key.key_url, name]() -> ApiResult<json> {
          Status s = self->CompleteRotation(id);
          if (!s.ok()) return internal::KeyAccessError(s, key_url, name);
          return self->Document(id);
        },
        202, put->body);
  }

  ApiResult<json> Document(const std::string& id) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return internal::InternalError(*d_.clock, txn.status());
    auto res = (*txn)->Get(id);
    if (!res.ok()) return internal::InternalError(*d_.clock, res.status());
    if (!res->has_value()) return json();
    return (*res)->body;
  }

  http::Response Get(ArmRequest& r) {
    return internal::GetStored(r, *d_.clock, *d_.store, kDesType);
  }

  http::Response List(ArmRequest& r) {
    return internal::ListStored(r, *d_.clock, *d_.store, kDesType);
  }

  http::Response ListAssociated(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return internal::Internal(r, *d_.clock, txn.status());
    auto des = FindDes(**txn, r.path.id.ToString());
    if (!des.ok()) return internal::Internal(r, *d_.clock, des.status());
    if (!des->has_value()) return NotFound(r.path.id);
    auto disks = ListDisksOfDes(**txn, r.path.id.ToString());
    if (!disks.ok()) return internal::Internal(r, *d_.clock, disks.status());
    json value = json::array();
    for (const DiskRecord& d : *disks) value.push_back(d.id);
    return http::Response::Json(200, {{"value", value}});
  }

  http::Response Delete(ArmRequest& r) {
    const std::string id = r.path.id.ToString();
    auto txn = d_.store->Begin();
    if (!txn.ok()) return internal::Internal(r, *d_.clock, txn.status());
    auto res = (*txn)->Get(id);
    if (!res.ok()) return internal::Internal(r, *d_.clock, res.status());
    if (!res->has_value() || !EqualsIgnoreCase((*res)->type, kDesType)) {
      return http::Response::Empty(204);
    }
    auto users = DesUsers(**txn, id);
    if (!users.ok()) return internal::Internal(r, *d_.clock, users.status());
    if (!users->empty()) {
      std::string ids;
      for (const std::string& u : *users) ids += (ids.empty() ? "" : ", ") + u;
      return ArmError(MakeError(errors::kDesInUse, r.path.id.Name(), users->size(), ids));
    }
    if (Status s = d_.directory->DeleteManagedIdentity(**txn, id); !s.ok()) {
      return internal::Internal(r, *d_.clock, s);
    }
    if (Status s = (*txn)->Delete(id); !s.ok()) return internal::Internal(r, *d_.clock, s);
    if (Status s = (*txn)->Commit(); !s.ok()) return internal::Internal(r, *d_.clock, s);
    d_.vault_keys->Forget(id);
    spdlog::info("deleted disk encryption set {}", id);
    return http::Response::Empty(200);
  }

  // The disks that use the DES, then the other resources (ComputeDeps::des_users).
  Result<std::vector<std::string>> DesUsers(store::Transaction& txn, std::string_view des_id) {
    std::vector<std::string> users;
    BYOK_ASSIGN_OR_RETURN(auto disks, ListDisksOfDes(txn, des_id));
    for (const DiskRecord& d : disks) users.push_back(d.id);
    if (d_.des_users) {
      BYOK_ASSIGN_OR_RETURN(auto others, d_.des_users(txn, des_id));
      for (std::string& o : others) users.push_back(std::move(o));
    }
    return users;
  }

  // Resource-group cascade: refused (the whole cascade rolls back) while a disk or cluster outside
  // the group uses the DES; disks inside the group go with it (their own hook removes their files).
  Status CascadeDelete(store::Transaction& txn, const store::Resource& res) {
    BYOK_ASSIGN_OR_RETURN(ResourceId des_id, ResourceId::Parse(res.id));
    ResourceId group = ResourceId::ResourceGroup(des_id.subscription_id(), des_id.resource_group());
    BYOK_ASSIGN_OR_RETURN(auto users, DesUsers(txn, res.id));
    for (const std::string& u : users) {
      auto user_id = ResourceId::Parse(u);
      if (!user_id.ok() || !user_id->IsWithin(group)) {
        return Status::FailedPrecondition(fmt::format(
            "disk encryption set {} is in use by {} outside the resource group", res.id, u));
      }
    }
    BYOK_TRY(d_.directory->DeleteManagedIdentity(txn, res.id));
    d_.vault_keys->Forget(res.id);
    spdlog::info("disk encryption set {} deleted with its resource group", res.id);
    return Status::Ok();
  }

  // ---- Rotation ----

  // Re-wraps one disk's customer layer under `active` (no-op if it already is).
  Status RewrapDisk(const DiskRecord& disk, const DesRecord& des, const KeyUrl& active) {
    BYOK_ASSIGN_OR_RETURN(blockstore::DiskHeader header, d_.blocks->ReadHeader(disk.unique_id));
    for (const blockstore::WrappedDek& layer : header.layers) {
      if (layer.key.layer != blockstore::Layer::kCustomer) continue;
      std::optional<KeyUrl> current = KeyUrl::Parse(layer.key.key_id);
      if (current && current->SameVersion(active) && EqualsIgnoreCase(layer.key.des_id, des.id)) {
        return Status::Ok();
      }
      blockstore::KeyRef next{blockstore::Layer::kCustomer, des.active_key_url, des.id};
      BYOK_TRY(d_.blocks->Rewrap(disk.unique_id, blockstore::Layer::kCustomer, next));
      spdlog::info("disk {} re-wrapped from {} to {}", disk.id, layer.key.key_id,
                   des.active_key_url);
      return Status::Ok();
    }
    return Status::Ok();  // no customer layer
  }

 public:
  ComputeDeps d_;
  std::weak_ptr<Impl> self_;
  std::mutex rotation_mu_;
};

Status DiskEncryptionSets::Impl::CompleteRotation(std::string_view des_id) {
  std::lock_guard<std::mutex> lock(rotation_mu_);
  std::optional<DesRecord> des;
  std::vector<DiskRecord> disks;
  BYOK_TRY(store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(des, FindDes(txn, des_id));
    if (!des) return Status::Ok();
    BYOK_ASSIGN_OR_RETURN(disks, ListDisksOfDes(txn, des_id));
    return Status::Ok();
  }));
  if (!des || des->previous_key_urls.empty()) return Status::Ok();
  std::optional<KeyUrl> active = KeyUrl::Parse(des->active_key_url);
  if (!active) return Status::DataLoss(fmt::format("DES {} has no valid active key", des->id));
  Status first;
  for (const DiskRecord& disk : disks) {
    Status s = RewrapDisk(disk, *des, *active);
    if (!s.ok()) {
      spdlog::warn("key rotation of {}: disk {} not re-wrapped: {}", des->id, disk.id,
                   s.ToString());
      if (first.ok()) first = s;
    }
  }
  if (!first.ok()) return first;
  return store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(des_id));
    if (!res) return Status::Ok();
    BYOK_ASSIGN_OR_RETURN(DesRecord now, DesRecordFromBody(res->body));
    if (now.active_key_url != des->active_key_url) return Status::Ok();  // rotated again
    res->body["properties"]["previousKeys"] = json::array();
    BYOK_ASSIGN_OR_RETURN(auto stored, txn.Put(std::move(*res)));
    (void)stored;
    spdlog::info("key rotation of {} complete: {} disk(s) use {}", des->id, disks.size(),
                 des->active_key_url);
    return Status::Ok();
  });
}

Status DiskEncryptionSets::Impl::RunAutoKeyRotation(TimePoint now) {
  std::vector<DesRecord> all;
  BYOK_TRY(store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto list, txn.ListByType(kDesType));
    for (const store::Resource& res : list) {
      BYOK_ASSIGN_OR_RETURN(DesRecord rec, DesRecordFromBody(res.body));
      all.push_back(std::move(rec));
    }
    return Status::Ok();
  }));
  for (DesRecord& des : all) {
    if (des.has_auto_rotation_error) continue;
    if (des.rotation_to_latest) {
      // A new current version of the key: make it the active key.
      BYOK_TRY(store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
        BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(des.id));
        if (!res) return Status::Ok();
        BYOK_ASSIGN_OR_RETURN(DesRecord cur, DesRecordFromBody(res->body));
        std::optional<KeyUrl> active = KeyUrl::Parse(cur.active_key_url);
        if (!active || !cur.rotation_to_latest) return Status::Ok();
        BYOK_ASSIGN_OR_RETURN(KeyLookup found, LookupKey(txn, active->WithVersion("")));
        if (!found.vault || found.vault->deleted || !found.key_exists || found.key_deleted ||
            !found.version || found.current_version.empty() ||
            found.current_version == active->version || !found.version->attributes.enabled) {
          return Status::Ok();
        }
        const std::string next = active->WithVersion(found.current_version).ToString();
        BYOK_ASSIGN_OR_RETURN(auto disks, ListDisksOfDes(txn, des.id));
        json& p = res->body["properties"];
        json previous = p.value("previousKeys", json::array());
        if (!disks.empty()) {
          previous.push_back(
              {{"sourceVault", {{"id", cur.source_vault_id}}}, {"keyUrl", cur.active_key_url}});
        }
        p["previousKeys"] = previous;
        p["activeKey"]["keyUrl"] = next;
        p["lastKeyRotationTimestamp"] = FormatAzureTime(now);
        BYOK_ASSIGN_OR_RETURN(auto stored, txn.Put(std::move(*res)));
        (void)stored;
        spdlog::info("automatic key rotation of {}: {} -> {}", des.id, cur.active_key_url, next);
        des.active_key_url = next;
        des.previous_key_urls.assign(previous.size(), "");
        return Status::Ok();
      }));
    }
    if (des.previous_key_urls.empty()) continue;
    Status s = CompleteRotation(des.id);
    if (s.ok()) continue;
    if (!des.rotation_to_latest) {
      spdlog::warn("key rotation of {} still incomplete: {}", des.id, s.ToString());
      continue;
    }
    ApiError e = internal::KeyAccessError(s, des.active_key_url, des.name);
    BYOK_TRY(store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(des.id));
      if (!res) return Status::Ok();
      res->body["properties"]["autoKeyRotationError"] = {{"code", e.code}, {"message", e.message}};
      BYOK_ASSIGN_OR_RETURN(auto stored, txn.Put(std::move(*res)));
      (void)stored;
      return Status::Ok();
    }));
    spdlog::warn("automatic key rotation of {} failed: {}: {}", des.id, e.code, e.message);
  }
  return Status::Ok();
}

DiskEncryptionSets::DiskEncryptionSets(ComputeDeps deps)
    : impl_(std::make_shared<Impl>(std::move(deps))) {
  impl_->self_ = impl_;
}
DiskEncryptionSets::~DiskEncryptionSets() = default;

Status DiskEncryptionSets::RunAutoKeyRotation(TimePoint now) {
  return impl_->RunAutoKeyRotation(now);
}

Status DiskEncryptionSets::CompleteRotation(std::string_view des_id) {
  return impl_->CompleteRotation(des_id);
}

std::shared_ptr<DiskEncryptionSets> RegisterDiskEncryptionSetsProvider(gateway::Frontend& frontend,
                                                                       ComputeDeps deps) {
  auto des = std::make_shared<DiskEncryptionSets>(std::move(deps));
  DiskEncryptionSets::Impl::Register(des->impl_, frontend);
  return des;
}

}  // namespace byok::compute
