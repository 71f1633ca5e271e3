#include "compute/disk_store.h"

#include <fmt/format.h>

#include "arm/resource_id.h"

namespace byok::compute {
namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& Obj(const json& obj, const char* key) {
  static const json kEmpty = json::object();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

}  // namespace

std::string_view EncryptionTypeName(EncryptionType type) {
  switch (type) {
    case EncryptionType::kPlatformKey:
      return "EncryptionAtRestWithPlatformKey";
    case EncryptionType::kCustomerKey:
      return "EncryptionAtRestWithCustomerKey";
    case EncryptionType::kPlatformAndCustomerKeys:
      return "EncryptionAtRestWithPlatformAndCustomerKeys";
  }
  return "EncryptionAtRestWithPlatformKey";
}

std::optional<EncryptionType> ParseEncryptionType(std::string_view name) {
  for (EncryptionType t : {EncryptionType::kPlatformKey, EncryptionType::kCustomerKey,
                           EncryptionType::kPlatformAndCustomerKeys}) {
    if (arm::EqualsIgnoreCase(name, EncryptionTypeName(t))) return t;
  }
  return std::nullopt;
}

std::string_view DiskStateName(DiskState state) {
  switch (state) {
    case DiskState::kUnattached:
      return "Unattached";
    case DiskState::kAttached:
      return "Attached";
    case DiskState::kReserved:
      return "Reserved";
  }
  return "Unattached";
}

std::optional<DiskState> ParseDiskState(std::string_view name) {
  for (DiskState s : {DiskState::kUnattached, DiskState::kAttached, DiskState::kReserved}) {
    if (arm::EqualsIgnoreCase(name, DiskStateName(s))) return s;
  }
  return std::nullopt;
}

Result<DiskRecord> DiskRecordFromBody(const json& body) {
  if (!body.is_object()) return Status::DataLoss("disk document is not an object");
  const json& props = Obj(body, "properties");
  DiskRecord r;
  r.id = Str(body, "id");
  r.name = Str(body, "name");
  r.location = Str(body, "location");
  r.unique_id = Str(props, "uniqueId");
  if (auto b = props.find("diskSizeBytes"); b != props.end() && b->is_number_unsigned()) {
    r.size_bytes = b->get<uint64_t>();
  } else if (auto g = props.find("diskSizeGB"); g != props.end() && g->is_number_integer()) {
    r.size_bytes = g->get<uint64_t>() << 30;
  }
  const json& enc = Obj(props, "encryption");
  r.encryption = ParseEncryptionType(Str(enc, "type")).value_or(EncryptionType::kPlatformKey);
  r.des_id = Str(enc, "diskEncryptionSetId");
  r.state = ParseDiskState(Str(props, "diskState")).value_or(DiskState::kUnattached);
  r.managed_by = Str(body, "managedBy");
  if (r.id.empty() || r.unique_id.empty()) {
    return Status::DataLoss(fmt::format("disk document {} lacks id or uniqueId", r.id));
  }
  return r;
}

Result<DesRecord> DesRecordFromBody(const json& body) {
  if (!body.is_object()) return Status::DataLoss("disk encryption set document is not an object");
  const json& props = Obj(body, "properties");
  const json& identity = Obj(body, "identity");
  const json& active = Obj(props, "activeKey");
  DesRecord r;
  r.id = Str(body, "id");
  r.name = Str(body, "name");
  r.location = Str(body, "location");
  r.principal_id = Str(identity, "principalId");
  r.tenant_id = Str(identity, "tenantId");
  r.source_vault_id = Str(Obj(active, "sourceVault"), "id");
  r.active_key_url = Str(active, "keyUrl");
  r.encryption_type =
      ParseEncryptionType(Str(props, "encryptionType")).value_or(EncryptionType::kCustomerKey);
  if (auto prev = props.find("previousKeys"); prev != props.end() && prev->is_array()) {
    for (const json& k : *prev) {
      std::string url = Str(k, "keyUrl");
      if (!url.empty()) r.previous_key_urls.push_back(std::move(url));
    }
  }
  if (auto rot = props.find("rotationToLatestKeyVersionEnabled");
      rot != props.end() && rot->is_boolean()) {
    r.rotation_to_latest = rot->get<bool>();
  }
  r.has_auto_rotation_error =
      props.contains("autoKeyRotationError") && !props["autoKeyRotationError"].is_null();
  if (r.id.empty()) return Status::DataLoss("disk encryption set document lacks its id");
  return r;
}

Result<std::optional<DiskRecord>> FindDisk(store::Transaction& txn, std::string_view id) {
  BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(id));
  if (!res || !arm::EqualsIgnoreCase(res->type, kDiskType)) return std::optional<DiskRecord>();
  BYOK_ASSIGN_OR_RETURN(DiskRecord r, DiskRecordFromBody(res->body));
  return std::optional<DiskRecord>(std::move(r));
}

Result<std::optional<DesRecord>> FindDes(store::Transaction& txn, std::string_view id) {
  BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(id));
  if (!res || !arm::EqualsIgnoreCase(res->type, kDesType)) return std::optional<DesRecord>();
  BYOK_ASSIGN_OR_RETURN(DesRecord r, DesRecordFromBody(res->body));
  return std::optional<DesRecord>(std::move(r));
}

Result<std::vector<DiskRecord>> ListDisksOfDes(store::Transaction& txn, std::string_view des_id) {
  BYOK_ASSIGN_OR_RETURN(auto all, txn.ListByType(kDiskType));
  std::vector<DiskRecord> out;
  for (const store::Resource& res : all) {
    BYOK_ASSIGN_OR_RETURN(DiskRecord r, DiskRecordFromBody(res.body));
    if (!r.des_id.empty() && arm::EqualsIgnoreCase(r.des_id, des_id)) out.push_back(std::move(r));
  }
  return out;
}

Status SetDiskState(store::Transaction& txn, std::string_view id, DiskState state,
                    std::string_view managed_by) {
  if (state != DiskState::kUnattached && managed_by.empty()) {
    return Status::InvalidArgument("an attached or reserved disk needs managedBy");
  }
  BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(id));
  if (!res || !arm::EqualsIgnoreCase(res->type, kDiskType)) {
    return Status::NotFound(fmt::format("no disk {}", id));
  }
  store::Resource updated = std::move(*res);
  updated.body["properties"]["diskState"] = std::string(DiskStateName(state));
  if (state == DiskState::kUnattached) {
    updated.body.erase("managedBy");
  } else {
    updated.body["managedBy"] = std::string(managed_by);
  }
  BYOK_ASSIGN_OR_RETURN(auto stored, txn.Put(std::move(updated)));
  (void)stored;
  return Status::Ok();
}

std::vector<blockstore::KeyRef> DiskLayers(EncryptionType type, const DesRecord* des) {
  blockstore::KeyRef platform{blockstore::Layer::kPlatform, kPlatformKeyId, ""};
  if (type == EncryptionType::kPlatformKey || des == nullptr) return {platform};
  blockstore::KeyRef customer{blockstore::Layer::kCustomer, des->active_key_url, des->id};
  if (type == EncryptionType::kCustomerKey) return {customer};
  return {customer, platform};
}

}  // namespace byok::compute
