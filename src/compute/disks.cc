#include "compute/disks.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/locations.h"
#include "arm/resource_id.h"
#include "compute/attachments.h"
#include "compute/disk_store.h"
#include "compute/errors.h"
#include "compute/provider_util.h"
#include "identity/principal.h"

namespace byok::compute {

using arm::EqualsIgnoreCase;
using arm::ResourceId;
using gateway::ArmError;
using gateway::ArmRequest;
using internal::StringOf;
using nlohmann::json;

namespace {

constexpr int64_t kMaxDiskSizeGb = 32767;
constexpr char kLinkedReadAction[] = "Microsoft.Compute/diskEncryptionSets/read";
constexpr char kDiskWriteAction[] = "Microsoft.Compute/disks/write";

struct SkuInfo {
  std::string_view name;
  std::string_view tier;
};
constexpr SkuInfo kSkus[] = {{"Standard_LRS", "Standard"},    {"Premium_LRS", "Premium"},
                             {"StandardSSD_LRS", "Standard"}, {"UltraSSD_LRS", "Ultra"},
                             {"Premium_ZRS", "Premium"},      {"StandardSSD_ZRS", "Standard"},
                             {"PremiumV2_LRS", "Premium"}};

const SkuInfo* FindSku(std::string_view name) {
  for (const SkuInfo& s : kSkus) {
    if (EqualsIgnoreCase(s.name, name)) return &s;
  }
  return nullptr;
}

bool PerformanceSettable(std::string_view sku) {
  return EqualsIgnoreCase(sku, "UltraSSD_LRS") || EqualsIgnoreCase(sku, "PremiumV2_LRS");
}

struct TierRow {
  int64_t max_gb;
  std::string_view name;
  int64_t iops;
  int64_t mbps;
};
// Azure's published baseline performance per size (managed disk pricing pages).
constexpr TierRow kPremiumTiers[] = {
    {4, "P1", 120, 25},         {8, "P2", 120, 25},        {16, "P3", 120, 25},
    {32, "P4", 120, 25},        {64, "P6", 240, 50},       {128, "P10", 500, 100},
    {256, "P15", 1100, 125},    {512, "P20", 2300, 150},   {1024, "P30", 5000, 200},
    {2048, "P40", 7500, 250},   {4096, "P50", 7500, 250},  {8192, "P60", 16000, 500},
    {16384, "P70", 18000, 750}, {32767, "P80", 20000, 900}};
constexpr TierRow kStandardSsdTiers[] = {
    {4, "E1", 500, 60},        {8, "E2", 500, 60},       {16, "E3", 500, 60},
    {32, "E4", 500, 60},       {64, "E6", 500, 60},      {128, "E10", 500, 60},
    {256, "E15", 500, 60},     {512, "E20", 500, 60},    {1024, "E30", 500, 60},
    {2048, "E40", 500, 60},    {4096, "E50", 500, 60},   {8192, "E60", 2000, 400},
    {16384, "E70", 4000, 600}, {32767, "E80", 6000, 750}};
constexpr TierRow kStandardHddTiers[] = {
    {32, "S4", 500, 60},       {64, "S6", 500, 60},      {128, "S10", 500, 60},
    {256, "S15", 500, 60},     {512, "S20", 500, 60},    {1024, "S30", 500, 60},
    {2048, "S40", 500, 60},    {4096, "S50", 500, 60},   {8192, "S60", 1300, 300},
    {16384, "S70", 2000, 500}, {32767, "S80", 2000, 500}};

template <size_t N>
const TierRow& RowFor(const TierRow (&rows)[N], int64_t size_gb) {
  for (const TierRow& r : rows) {
    if (size_gb <= r.max_gb) return r;
  }
  return rows[N - 1];
}

// Properties copied from the request as given (not interpreted by byok).
constexpr const char* kPassThrough[] = {"osType",
                                        "hyperVGeneration",
                                        "maxShares",
                                        "networkAccessPolicy",
                                        "publicNetworkAccess",
                                        "dataAccessAuthMode",
                                        "burstingEnabled",
                                        "supportsHibernation",
                                        "optimizedForFrequentAttach",
                                        "diskAccessId",
                                        "diskIOPSReadOnly",
                                        "diskMBpsReadOnly"};

// What a request asks a disk to be.
struct DesiredDisk {
  std::string location;  // canonical
  std::string location_in;
  json tags = json::object();
  std::string sku;  // canonical spelling
  json zones;       // null or array
  int64_t size_gb = 0;
  EncryptionType type = EncryptionType::kPlatformKey;
  std::string des_id;
  std::optional<int64_t> iops, mbps;
  json passthrough = json::object();
};

}  // namespace

DiskPerformance PerformanceOf(std::string_view sku, int64_t size_gb) {
  DiskPerformance p;
  if (EqualsIgnoreCase(sku, "UltraSSD_LRS")) {
    p.iops = std::clamp<int64_t>(size_gb * 300, 100, 160000);
    p.mbps = std::clamp<int64_t>(p.iops / 4, 1, 4000);
    return p;
  }
  if (EqualsIgnoreCase(sku, "PremiumV2_LRS")) {
    p.iops = 3000;
    p.mbps = 125;
    return p;
  }
  if (EqualsIgnoreCase(sku, "Premium_LRS") || EqualsIgnoreCase(sku, "Premium_ZRS")) {
    const TierRow& r = RowFor(kPremiumTiers, size_gb);
    p.tier = std::string(r.name);
    p.iops = r.iops;
    p.mbps = r.mbps;
    return p;
  }
  const TierRow& r = EqualsIgnoreCase(sku, "Standard_LRS") ? RowFor(kStandardHddTiers, size_gb)
                                                           : RowFor(kStandardSsdTiers, size_gb);
  p.iops = r.iops;
  p.mbps = r.mbps;
  return p;
}

namespace {

// Who asks for a disk: an ARM caller (whose read permission on the DES is checked, as Azure
// checks the linked scope) or the platform itself (DiskService: no caller).
struct Requester {
  const identity::Principal* caller = nullptr;  // null: the platform
  std::string request_id;                       // quoted by InternalServerError
};

class DisksProvider final : public DiskService {
 public:
  explicit DisksProvider(ComputeDeps deps) : d_(std::move(deps)) {}

  // ---- DiskService ----

  ApiResult<json> Create(std::string_view id, const json& body,
                         std::string_view managed_by) override {
    auto parsed = ResourceId::Parse(id);
    if (!parsed.ok() || parsed->kind() != ResourceId::Kind::kResource ||
        !EqualsIgnoreCase(parsed->ResourceType(), kDiskType)) {
      return MakeError(errors::kInvalidParameter, id, "id", "It must be a disk resource id.");
    }
    if (!body.is_object()) {
      return MakeError(errors::kInvalidRequestContent, "the body must be a JSON object");
    }
    return CreateDisk(*parsed, body, Requester{}, managed_by);
  }

  ApiResult<bool> Delete(std::string_view id) override {
    return DeleteDisk(id, /*attached_ok=*/true, Requester{});
  }

  static void Register(const std::shared_ptr<DisksProvider>& self, gateway::Frontend& fe) {
    gateway::ResourceTypeSpec disks;
    disks.type = kDiskType;
    disks.api_versions = ComputeApiVersions();
    disks.put = [self](ArmRequest& r) { return self->Put(r); };
    disks.patch = [self](ArmRequest& r) { return self->Patch(r); };
    disks.get = [self](ArmRequest& r) { return self->Get(r); };
    disks.del = [self](ArmRequest& r) { return self->Delete(r); };
    disks.list = [self](ArmRequest& r) { return self->List(r); };
    disks.on_cascade_delete = [self](store::Transaction& txn, const store::Resource& res) {
      return self->CascadeDelete(txn, res);
    };
    disks.after_cascade_delete = [self](const store::Resource& res) { self->DeleteFile(res); };
    fe.Register(std::move(disks));
  }

 private:
  http::Response NotFound(const ResourceId& id) const {
    return ArmError(MakeError(errors::kResourceNotFound, fmt::format("{}/{}", kDiskType, id.Name()),
                              id.resource_group()));
  }

  // ---- Request parsing ----

  // Parses a full disk document (a PUT body, or a PATCH merged into the stored document).
  // `before`: the existing disk (update) or null (create).
  static ApiResult<DesiredDisk> Parse(const json& in, const DiskRecord* before,
                                      const json& before_doc, const std::string& id) {
    DesiredDisk d;
    auto loc_in = in.find("location");
    if (loc_in == in.end() || !loc_in->is_string() || loc_in->get<std::string>().empty()) {
      return MakeError(errors::kLocationRequired);
    }
    d.location_in = loc_in->get<std::string>();
    d.location = internal::CanonicalLocation(d.location_in);
    if (d.location.empty()) {
      return MakeError(arm::errors::kLocationNotAvailableForResourceType, d.location_in, kDiskType,
                       arm::LocationNames());
    }
    if (auto t = in.find("tags"); t != in.end() && !t->is_null()) d.tags = *t;
    if (auto e = internal::CheckTags(d.tags, id)) return *e;

    d.sku = before ? StringOf(before_doc.value("sku", json::object()), "name") : "";
    if (d.sku.empty()) d.sku = "Standard_LRS";
    if (auto s = in.find("sku"); s != in.end() && !s->is_null()) {
      std::string name = s->is_object() ? StringOf(*s, "name") : "";
      if (!name.empty()) {
        const SkuInfo* sku = FindSku(name);
        if (!sku) return MakeError(errors::kInvalidSku, name);
        d.sku = std::string(sku->name);
      }
    }
    if (const SkuInfo* sku = FindSku(d.sku)) d.sku = std::string(sku->name);
    if (auto z = in.find("zones"); z != in.end() && z->is_array()) d.zones = *z;

    auto props_in = in.find("properties");
    if (props_in == in.end() || !props_in->is_object()) {
      return MakeError(errors::kMissingParameter, "properties");
    }
    const json& props = *props_in;

    // creationData.createOption: "Empty" only; never changes.
    const json creation = props.value("creationData", json());
    std::string option = creation.is_object() ? StringOf(creation, "createOption") : "";
    if (!before && option.empty()) {
      return MakeError(errors::kMissingParameter, "creationData.createOption");
    }
    if (!option.empty() && !EqualsIgnoreCase(option, "Empty")) {
      if (before) return MakeError(errors::kPropertyChangeNotAllowed, "creationData.createOption");
      return MakeError(errors::kUnsupportedCreateOption, option);
    }

    // diskSizeGB
    if (auto s = props.find("diskSizeGB"); s != props.end() && !s->is_null()) {
      if (!s->is_number_integer()) {
        return MakeError(errors::kInvalidParameter, s->dump(), "diskSizeGB",
                         "It must be an integer.");
      }
      d.size_gb = s->get<int64_t>();
      if (d.size_gb < 1 || d.size_gb > kMaxDiskSizeGb) {
        return MakeError(errors::kDiskSizeOutOfRange, d.size_gb);
      }
    } else if (before) {
      d.size_gb = static_cast<int64_t>(before->size_bytes >> 30);
    } else {
      return MakeError(errors::kMissingParameter, "diskSizeGB");
    }

    // encryption
    const json enc = props.value("encryption", json());
    if (enc.is_null()) {
      d.type = before ? before->encryption : EncryptionType::kPlatformKey;
      d.des_id = before ? before->des_id : "";
    } else {
      if (!enc.is_object()) {
        return MakeError(errors::kInvalidParameter, enc.dump(), "encryption",
                         "It must be an object.");
      }
      d.des_id = StringOf(enc, "diskEncryptionSetId");
      std::string type = StringOf(enc, "type");
      if (!type.empty()) {
        std::optional<EncryptionType> parsed = ParseEncryptionType(type);
        if (!parsed) return MakeError(errors::kInvalidDiskEncryptionType, type);
        d.type = *parsed;
      } else {
        d.type = d.des_id.empty() ? EncryptionType::kPlatformKey : EncryptionType::kCustomerKey;
      }
    }
    if (d.type == EncryptionType::kPlatformKey && !d.des_id.empty()) {
      return MakeError(errors::kDiskEncryptionSetNotAllowed);
    }
    if (d.type != EncryptionType::kPlatformKey && d.des_id.empty()) {
      return MakeError(errors::kDiskEncryptionSetRequired, EncryptionTypeName(d.type));
    }

    // Performance: settable for Ultra and Premium v2 only; the read-only tier values the CLI
    // echoes back on updates are ignored for other skus.
    if (PerformanceSettable(d.sku)) {
      for (auto [member, target] :
           {std::pair{"diskIOPSReadWrite", &d.iops}, std::pair{"diskMBpsReadWrite", &d.mbps}}) {
        if (auto v = props.find(member); v != props.end() && !v->is_null()) {
          if (!v->is_number_integer() || v->get<int64_t>() < 1) {
            return MakeError(errors::kInvalidParameter, v->dump(), member,
                             "It must be a positive integer.");
          }
          *target = v->get<int64_t>();
        }
      }
    }
    for (const char* member : kPassThrough) {
      if (auto v = props.find(member); v != props.end() && !v->is_null()) {
        d.passthrough[member] = *v;
      }
    }
    return d;
  }

  // The stored document.
  static json BuildDoc(const ResourceId& id, const DesiredDisk& d, const std::string& unique_id,
                       const std::string& time_created, DiskState state,
                       const std::string& managed_by, const json& old_props) {
    const SkuInfo* sku = FindSku(d.sku);
    DiskPerformance perf = PerformanceOf(d.sku, d.size_gb);
    json props = json::object();
    // Pass-through members kept from before unless the request replaced them.
    if (old_props.is_object()) {
      for (const char* member : kPassThrough) {
        if (auto v = old_props.find(member); v != old_props.end()) props[member] = *v;
      }
    }
    for (const auto& [k, v] : d.passthrough.items()) props[k] = v;
    if (!props.contains("networkAccessPolicy")) props["networkAccessPolicy"] = "AllowAll";
    if (!props.contains("publicNetworkAccess")) props["publicNetworkAccess"] = "Enabled";
    props["creationData"] = {{"createOption", "Empty"}};
    props["diskSizeGB"] = d.size_gb;
    props["diskSizeBytes"] = static_cast<uint64_t>(d.size_gb) << 30;
    props["uniqueId"] = unique_id;
    props["timeCreated"] = time_created;
    props["provisioningState"] = "Succeeded";
    props["diskState"] = std::string(DiskStateName(state));
    json enc = {{"type", std::string(EncryptionTypeName(d.type))}};
    if (!d.des_id.empty()) enc["diskEncryptionSetId"] = d.des_id;
    props["encryption"] = enc;
    props["diskIOPSReadWrite"] = d.iops.value_or(perf.iops);
    props["diskMBpsReadWrite"] = d.mbps.value_or(perf.mbps);
    if (!perf.tier.empty()) props["tier"] = perf.tier;

    json doc = {{"id", id.ToString()},
                {"name", id.Name()},
                {"type", kDiskType},
                {"location", d.location},
                {"tags", d.tags},
                {"sku", {{"name", d.sku}, {"tier", sku ? std::string(sku->tier) : "Standard"}}},
                {"properties", props}};
    if (d.zones.is_array()) doc["zones"] = d.zones;
    if (state != DiskState::kUnattached && !managed_by.empty()) doc["managedBy"] = managed_by;
    return doc;
  }

  // 500 InternalServerError for a store or library failure (details go to the log only).
  ApiError Internal(const Requester& who, const Status& s) const {
    spdlog::error("compute: disks: {}", s.ToString());
    return MakeError(errors::kInternalError, FormatAzureTime(d_.clock->Now()), who.request_id);
  }

  static Requester From(const ArmRequest& r) {
    return Requester{&r.caller, r.http != nullptr ? r.http->request_id : std::string()};
  }

  // The DES checks of a disk create or DES change (see disks.h), in Azure's order; the linked
  // scope only for an ARM caller.
  ApiResult<DesRecord> CheckDes(const ResourceId& disk_id, const DesiredDisk& d,
                                const Requester& who) {
    auto parsed = ResourceId::Parse(d.des_id);
    if (!parsed.ok() || parsed->kind() != ResourceId::Kind::kResource ||
        !EqualsIgnoreCase(parsed->ResourceType(), kDesType)) {
      return MakeError(errors::kInvalidDesId, d.des_id);
    }
    if (who.caller != nullptr) {
      const identity::Principal& caller = *who.caller;
      auto allowed = d_.authorizer->IsAllowed(caller.object_id, kLinkedReadAction, d.des_id);
      if (!allowed.ok()) return Internal(who, allowed.status());
      if (!*allowed) {
        std::string client = caller.app_id.empty() ? caller.object_id : caller.app_id;
        return MakeError(errors::kLinkedAuthorizationFailed, client, caller.object_id,
                         kDiskWriteAction, disk_id.ToString(), kLinkedReadAction, d.des_id);
      }
    }
    std::optional<DesRecord> des;
    Status s = store::RunInReadTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      BYOK_ASSIGN_OR_RETURN(des, FindDes(txn, d.des_id));
      return Status::Ok();
    });
    if (!s.ok()) return Internal(who, s);
    if (!des) {
      return MakeError(errors::kResourceNotFound, fmt::format("{}/{}", kDesType, parsed->Name()),
                       parsed->resource_group());
    }
    if (des->location != d.location) {
      return MakeError(errors::kDesRegionMismatch, des->id, des->location, d.location);
    }
    EncryptionType want = d.type == EncryptionType::kPlatformAndCustomerKeys
                              ? EncryptionType::kPlatformAndCustomerKeys
                              : EncryptionType::kCustomerKey;
    if (des->encryption_type != want) {
      return MakeError(errors::kDesEncryptionTypeMismatch, des->id,
                       EncryptionTypeName(des->encryption_type), EncryptionTypeName(d.type));
    }
    if (Status access = d_.vault_keys->CheckAccess(des->id, des->active_key_url); !access.ok()) {
      spdlog::info("disk {}: the identity of {} cannot use {}: {}", disk_id.ToString(), des->id,
                   des->active_key_url, access.ToString());
      return internal::KeyAccessError(access, des->active_key_url, des->name);
    }
    return std::move(*des);
  }

  // A blockstore failure as the ARM error to answer.
  static ApiError StorageError(const Status& s, const DesRecord* des) {
    switch (s.code()) {
      case StatusCode::kPermissionDenied:
      case StatusCode::kFailedPrecondition:
      case StatusCode::kNotFound:
      case StatusCode::kDataLoss:
      case StatusCode::kUnavailable:
        if (des) return internal::KeyAccessError(s, des->active_key_url, des->name);
        [[fallthrough]];
      default:
        spdlog::error("compute: disk storage: {}", s.ToString());
        return MakeError(errors::kDiskStorageError, s.message());
    }
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
    if (existing->has_value() && EqualsIgnoreCase((*existing)->type, kDiskType)) {
      return Update(r, r.body, **existing);
    }
    ApiResult<json> created = CreateDisk(r.path.id, r.body, From(r), "");
    if (!created.ok()) return ArmError(created.error());
    return http::Response::Json(200, *created);
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
    if (!existing->has_value() || !EqualsIgnoreCase((*existing)->type, kDiskType)) {
      return NotFound(r.path.id);
    }
    // DiskUpdate: tags, sku and properties members replace what they name.
    json merged = (*existing)->body;
    if (auto t = r.body.find("tags"); t != r.body.end()) merged["tags"] = *t;
    if (auto s = r.body.find("sku"); s != r.body.end() && !s->is_null()) merged["sku"] = *s;
    if (auto p = r.body.find("properties"); p != r.body.end() && !p->is_null()) {
      if (!p->is_object()) return ArmError(MakeError(errors::kMissingParameter, "properties"));
      for (const auto& [k, v] : p->items()) {
        if (!v.is_null()) merged["properties"][k] = v;
      }
    }
    return Update(r, merged, **existing);
  }

  // The one create path of ARM PUTs and DiskService::Create (see disks.h).
  ApiResult<json> CreateDisk(const ResourceId& id, const json& body, const Requester& who,
                             std::string_view managed_by) {
    if (!internal::ValidName(id.Name(), true)) {
      return MakeError(errors::kInvalidParameter, id.Name(), "diskName",
                       "The name can contain only letters, digits, '_', '-' and '.', "
                       "and be at most 80 characters long.");
    }
    ApiResult<DesiredDisk> d = Parse(body, nullptr, json(), id.ToString());
    if (!d.ok()) return d.error();
    std::optional<DesRecord> des;
    if (!d->des_id.empty()) {
      ApiResult<DesRecord> checked = CheckDes(id, *d, who);
      if (!checked.ok()) return checked.error();
      des = std::move(checked).value();
      d->des_id = des->id;
    }
    const std::string unique_id = d_.random->Uuid();
    const uint64_t size_bytes = static_cast<uint64_t>(d->size_gb) << 30;
    if (Status s =
            d_.blocks->Create(unique_id, size_bytes, DiskLayers(d->type, des ? &*des : nullptr));
        !s.ok()) {
      return StorageError(s, des ? &*des : nullptr);
    }
    const DiskState state = managed_by.empty() ? DiskState::kUnattached : DiskState::kAttached;
    store::Resource res;
    res.id = id.ToString();
    res.type = kDiskType;
    res.parent_id = ResourceId::ResourceGroup(id.subscription_id(), id.resource_group()).ToString();
    res.body = BuildDoc(id, *d, unique_id, FormatAzureTime(d_.clock->Now()), state,
                        std::string(managed_by), json());
    Result<store::Resource> stored = Status::Internal("not written");
    std::optional<ApiError> refused;
    Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      BYOK_ASSIGN_OR_RETURN(auto group, txn.Get(res.parent_id));
      if (!group) {
        refused = MakeError(arm::errors::kResourceGroupNotFound, id.resource_group());
        return Status::Aborted("no resource group");
      }
      stored = txn.Create(res);
      if (stored.status().Is(StatusCode::kAlreadyExists)) {
        refused = MakeError(errors::kDiskExists, id.Name());
      }
      return stored.status();
    });
    if (!s.ok()) {
      if (Status del = d_.blocks->Delete(unique_id); !del.ok()) {
        spdlog::error("disk {}: removing file {} after a failed create: {}", res.id, unique_id,
                      del.ToString());
      }
      if (refused) return *refused;
      return Internal(who, s);
    }
    spdlog::info("created disk {} ({} GiB, {}, file {}{}{})", res.id, d->size_gb,
                 EncryptionTypeName(d->type), unique_id, managed_by.empty() ? "" : ", managed by ",
                 managed_by);
    return stored->body;
  }

  http::Response Update(ArmRequest& r, const json& in, const store::Resource& existing) {
    auto rec = DiskRecordFromBody(existing.body);
    if (!rec.ok()) return internal::Internal(r, *d_.clock, rec.status());
    const DiskRecord& before = *rec;
    ApiResult<DesiredDisk> d = Parse(in, &before, existing.body, existing.id);
    if (!d.ok()) return ArmError(d.error());
    const std::string name = r.path.id.Name();
    if (d->location != before.location) {
      return ArmError(MakeError(arm::errors::kInvalidResourceLocation, name, before.location,
                                r.path.id.resource_group(), d->location_in));
    }
    const bool attached = before.state != DiskState::kUnattached;
    const int64_t before_gb = static_cast<int64_t>(before.size_bytes >> 30);
    if (d->size_gb < before_gb) {
      return ArmError(MakeError(errors::kDiskShrink, name, before_gb, d->size_gb));
    }
    if (d->size_gb > before_gb && attached) {
      return ArmError(MakeError(errors::kResizeWhileAttached, name, before.managed_by));
    }
    const bool type_changes = d->type != before.encryption;
    const bool des_changes = !EqualsIgnoreCase(d->des_id, before.des_id);
    if ((type_changes || des_changes) && attached) {
      return ArmError(MakeError(errors::kEncryptionChangeWhileAttached, name, before.managed_by));
    }
    if (type_changes) {
      return ArmError(MakeError(errors::kEncryptionTypeChange, name,
                                EncryptionTypeName(before.encryption),
                                EncryptionTypeName(d->type)));
    }
    if (des_changes) {
      ApiResult<DesRecord> des = CheckDes(r.path.id, *d, From(r));
      if (!des.ok()) return ArmError(des.error());
      d->des_id = des->id;
      blockstore::KeyRef next{blockstore::Layer::kCustomer, des->active_key_url, des->id};
      if (Status s = d_.blocks->Rewrap(before.unique_id, blockstore::Layer::kCustomer, next);
          !s.ok()) {
        return ArmError(StorageError(s, &*des));
      }
      spdlog::info("disk {} moved to disk encryption set {}", before.id, des->id);
    } else {
      d->des_id = before.des_id;  // keep the stored spelling
    }
    if (d->size_gb > before_gb) {
      if (Status s = d_.blocks->Resize(before.unique_id, static_cast<uint64_t>(d->size_gb) << 30);
          !s.ok()) {
        return ArmError(StorageError(s, nullptr));
      }
      spdlog::info("disk {} resized from {} to {} GiB", before.id, before_gb, d->size_gb);
    }
    store::Resource res = existing;
    const json& old_props = existing.body.value("properties", json::object());
    res.body = BuildDoc(r.path.id, *d, before.unique_id, StringOf(old_props, "timeCreated"),
                        before.state, before.managed_by, old_props);
    res.body["id"] = existing.id;
    res.body["name"] = existing.body.value("name", name);
    Result<store::Resource> stored = Status::Internal("not written");
    Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      // If-Match: an attachment made meanwhile must not be overwritten.
      stored = txn.Put(res, existing.etag);
      return stored.status();
    });
    if (!s.ok()) {
      if (s.Is(StatusCode::kAborted)) {
        return ArmError(MakeError(arm::errors::kPreconditionFailed));
      }
      return internal::Internal(r, *d_.clock, s);
    }
    return http::Response::Json(200, stored->body);
  }

  http::Response Get(ArmRequest& r) {
    return internal::GetStored(r, *d_.clock, *d_.store, kDiskType);
  }

  http::Response List(ArmRequest& r) {
    return internal::ListStored(r, *d_.clock, *d_.store, kDiskType);
  }

  http::Response Delete(ArmRequest& r) {
    ApiResult<bool> deleted = DeleteDisk(r.path.id.ToString(), /*attached_ok=*/false, From(r));
    if (!deleted.ok()) return ArmError(deleted.error());
    return http::Response::Empty(*deleted ? 200 : 204);
  }

  // Removes the resource (and any NBD attachment record of it), then its file (an open Volume is
  // locked first). `attached_ok`: false refuses an attached or reserved disk (ARM DELETE).
  ApiResult<bool> DeleteDisk(std::string_view id, bool attached_ok, const Requester& who) {
    std::optional<DiskRecord> gone;
    std::optional<ApiError> refused;
    Status s = store::RunInTransaction(*d_.store, [&](store::Transaction& txn) -> Status {
      BYOK_ASSIGN_OR_RETURN(auto disk, FindDisk(txn, id));
      if (!disk) return Status::Ok();
      if (disk->state != DiskState::kUnattached && !attached_ok) {
        refused = MakeError(errors::kDiskAttached, disk->name, disk->managed_by);
        return Status::Aborted("attached");
      }
      BYOK_TRY(txn.Delete(disk->id));
      if (disk->state != DiskState::kUnattached) {
        BYOK_ASSIGN_OR_RETURN(auto attachments, txn.ListByType(kAttachmentType));
        for (const store::Resource& a : attachments) {
          auto it = a.body.find("diskId");
          if (it != a.body.end() && it->is_string() &&
              EqualsIgnoreCase(it->get<std::string>(), disk->id)) {
            BYOK_TRY(txn.Delete(a.id));
          }
        }
      }
      gone = std::move(disk);
      return Status::Ok();
    });
    if (refused) return *refused;
    if (!s.ok()) return Internal(who, s);
    if (!gone) return false;
    if (Status del = d_.blocks->Delete(gone->unique_id); !del.ok()) {
      spdlog::error("disk {} deleted but its file {} was not removed: {}", gone->id,
                    gone->unique_id, del.ToString());
    }
    spdlog::info("deleted disk {} (file {})", gone->id, gone->unique_id);
    return true;
  }

  // Resource-group cascade. The hook runs inside the cascade's transaction, before it commits,
  // so it first makes sure no disk of the group is attached (the cascade then fails before any
  // file is gone); only a store failure after that could leave a disk resource without its file.
  Status CascadeDelete(store::Transaction& txn, const store::Resource& res) {
    BYOK_ASSIGN_OR_RETURN(DiskRecord disk, DiskRecordFromBody(res.body));
    BYOK_ASSIGN_OR_RETURN(ResourceId id, ResourceId::Parse(disk.id));
    BYOK_ASSIGN_OR_RETURN(
        auto group_disks,
        txn.ListByType(
            kDiskType,
            ResourceId::ResourceGroup(id.subscription_id(), id.resource_group()).ToString()));
    for (const store::Resource& other : group_disks) {
      BYOK_ASSIGN_OR_RETURN(DiskRecord o, DiskRecordFromBody(other.body));
      if (o.state != DiskState::kUnattached) {
        return Status::FailedPrecondition(
            fmt::format("disk {} is attached to {}", o.id, o.managed_by));
      }
    }
    return Status::Ok();
  }

  // After the cascade committed: the disk's file goes (never before its record is gone for good).
  void DeleteFile(const store::Resource& res) {
    auto disk = DiskRecordFromBody(res.body);
    if (!disk.ok()) return;
    if (Status s = d_.blocks->Delete(disk->unique_id); !s.ok()) {
      spdlog::error("disk {} was deleted with its resource group but its file {} was not: {}",
                    disk->id, disk->unique_id, s.ToString());
      return;
    }
    spdlog::info("disk {} (file {}) deleted with its resource group", disk->id, disk->unique_id);
  }

  ComputeDeps d_;
};

}  // namespace

std::shared_ptr<DiskService> RegisterDisksProvider(gateway::Frontend& frontend, ComputeDeps deps) {
  auto provider = std::make_shared<DisksProvider>(std::move(deps));
  DisksProvider::Register(provider, frontend);
  return provider;
}

ApiError DesKeyAccessError(const Status& s, const std::string& key_url,
                           const std::string& des_name) {
  return internal::KeyAccessError(s, key_url, des_name);
}

}  // namespace byok::compute
