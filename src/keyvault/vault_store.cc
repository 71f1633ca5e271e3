#include "keyvault/vault_store.h"

#include <chrono>

#include <fmt/format.h>

#include "arm/resource_id.h"

namespace byok::keyvault {
namespace {

using nlohmann::json;

constexpr char kNamesPrefix[] = "/byok/keyvault/names/";

int64_t ToNs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TimePoint FromNs(int64_t ns) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(ns)));
}

bool BoolProp(const json& props, const char* name, bool fallback) {
  auto it = props.find(name);
  return it != props.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

}  // namespace

std::string NameIndexId(std::string_view name) { return kNamesPrefix + arm::AsciiLower(name); }

std::string DeletedVaultId(std::string_view subscription_id, std::string_view location,
                           std::string_view name) {
  return fmt::format("/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}",
                     subscription_id, location, name);
}

std::string VaultDataPrefix(std::string_view guid) {
  return fmt::format("/byok/keyvault/vaults/{}", guid);
}

std::string VaultSecretPrefix(std::string_view guid) { return fmt::format("keyvault/{}/", guid); }

Result<VaultRecord> RecordFromVaultBody(const json& body) {
  if (!body.is_object() || !body.contains("internal") || !body["internal"].is_object() ||
      body["internal"].value("guid", "").empty()) {
    return Status::DataLoss("stored vault has no internal guid");
  }
  const json props = body.value("properties", json::object());
  VaultRecord v;
  v.guid = body["internal"]["guid"].get<std::string>();
  v.id = body.value("id", "");
  v.name = body.value("name", "");
  v.location = body.value("location", "");
  v.tenant_id = props.value("tenantId", "");
  v.sku = props.value("sku", json::object()).value("name", "standard");
  v.enable_rbac_authorization = BoolProp(props, "enableRbacAuthorization", false);
  v.enable_purge_protection = BoolProp(props, "enablePurgeProtection", false);
  auto r = props.find("softDeleteRetentionInDays");
  v.soft_delete_retention_days = r != props.end() && r->is_number_integer() ? r->get<int>() : 90;
  auto ap = props.find("accessPolicies");
  v.access_policies = ap != props.end() && ap->is_array() ? *ap : json::array();
  return v;
}

Result<std::optional<VaultRecord>> FindVaultByName(store::Transaction& txn, std::string_view name) {
  BYOK_ASSIGN_OR_RETURN(auto index, txn.Get(NameIndexId(name)));
  if (!index) return std::optional<VaultRecord>();
  const json& ib = index->body;
  if (ib.value("deleted", false)) {
    BYOK_ASSIGN_OR_RETURN(auto deleted, txn.Get(ib.value("deleted_id", "")));
    if (!deleted) return Status::DataLoss("vault name index points at a missing deleted vault");
    json vault = deleted->body.value("internal", json::object()).value("vault", json::object());
    BYOK_ASSIGN_OR_RETURN(VaultRecord rec, RecordFromVaultBody(vault));
    rec.deleted = true;
    return std::optional<VaultRecord>(std::move(rec));
  }
  BYOK_ASSIGN_OR_RETURN(auto vault, txn.Get(ib.value("vault_id", "")));
  if (!vault) return Status::DataLoss("vault name index points at a missing vault");
  BYOK_ASSIGN_OR_RETURN(VaultRecord rec, RecordFromVaultBody(vault->body));
  return std::optional<VaultRecord>(std::move(rec));
}

Result<std::optional<VaultRecord>> FindVaultById(store::Transaction& txn, std::string_view id) {
  BYOK_ASSIGN_OR_RETURN(auto vault, txn.Get(id));
  if (!vault || !arm::EqualsIgnoreCase(vault->type, kVaultType)) {
    return std::optional<VaultRecord>();
  }
  BYOK_ASSIGN_OR_RETURN(VaultRecord rec, RecordFromVaultBody(vault->body));
  return std::optional<VaultRecord>(std::move(rec));
}

Status PurgeVaultData(store::Transaction& txn, std::string_view guid) {
  if (guid.empty()) return Status::InvalidArgument("empty vault guid");
  BYOK_ASSIGN_OR_RETURN(int removed, txn.DeleteByPrefix(VaultDataPrefix(guid)));
  (void)removed;
  // Secret names are listed in pages so a vault with many key versions does not load at once.
  const std::string prefix = VaultSecretPrefix(guid);
  for (;;) {
    store::ListOptions page;
    page.limit = 500;
    BYOK_ASSIGN_OR_RETURN(auto names, txn.ListSecrets(prefix, page));
    for (const auto& n : names) BYOK_TRY(txn.DeleteSecret(n));
    if (names.size() < page.limit) break;
  }
  return Status::Ok();
}

Result<store::Resource> SoftDeleteVault(store::Transaction& txn, const store::Resource& vault,
                                        TimePoint now) {
  BYOK_ASSIGN_OR_RETURN(VaultRecord rec, RecordFromVaultBody(vault.body));
  BYOK_ASSIGN_OR_RETURN(arm::ResourceId id, arm::ResourceId::Parse(vault.id));
  TimePoint purge_at = now + std::chrono::hours(24) * rec.soft_delete_retention_days;

  store::Resource deleted;
  deleted.id = DeletedVaultId(id.subscription_id(), rec.location, rec.name);
  deleted.type = kDeletedVaultType;
  deleted.parent_id = arm::ResourceId::Subscription(id.subscription_id()).ToString();
  json props = {{"vaultId", vault.id},
                {"location", rec.location},
                {"deletionDate", FormatAzureTime(now)},
                {"scheduledPurgeDate", FormatAzureTime(purge_at)},
                {"tags", vault.body.value("tags", json::object())}};
  // As Azure: purgeProtectionEnabled is only reported for vaults that had it.
  if (rec.enable_purge_protection) props["purgeProtectionEnabled"] = true;
  deleted.body = {{"id", deleted.id},
                  {"name", rec.name},
                  {"type", kDeletedVaultType},
                  {"properties", props},
                  {"internal",
                   {{"guid", rec.guid},
                    {"vault", vault.body},
                    {"scheduled_purge_ns", ToNs(purge_at)},
                    {"purge_protection", rec.enable_purge_protection}}}};
  BYOK_ASSIGN_OR_RETURN(store::Resource stored, txn.Put(std::move(deleted)));

  store::Resource index;
  index.id = NameIndexId(rec.name);
  index.type = kNameIndexType;
  index.body = {
      {"guid", rec.guid}, {"vault_id", vault.id}, {"deleted", true}, {"deleted_id", stored.id}};
  BYOK_ASSIGN_OR_RETURN(auto put_index, txn.Put(std::move(index)));
  (void)put_index;
  BYOK_TRY(txn.Delete(vault.id));
  return stored;
}

Result<TimePoint> ScheduledPurgeTime(const store::Resource& deleted) {
  auto internal = deleted.body.find("internal");
  if (internal == deleted.body.end() || !internal->contains("scheduled_purge_ns") ||
      !(*internal)["scheduled_purge_ns"].is_number_integer()) {
    return Status::DataLoss("deleted vault " + deleted.id + " has no scheduled purge time");
  }
  return FromNs((*internal)["scheduled_purge_ns"].get<int64_t>());
}

Status PurgeDeletedVault(store::Transaction& txn, const store::Resource& deleted) {
  const json internal = deleted.body.value("internal", json::object());
  std::string guid = internal.value("guid", "");
  BYOK_TRY(PurgeVaultData(txn, guid));
  BYOK_TRY(txn.Delete(deleted.id));
  // The index may already name a newer vault only if something went wrong; only drop ours.
  std::string index_id = NameIndexId(deleted.body.value("name", ""));
  BYOK_ASSIGN_OR_RETURN(auto index, txn.Get(index_id));
  if (index && index->body.value("guid", "") == guid) BYOK_TRY(txn.Delete(index_id));
  return Status::Ok();
}

}  // namespace byok::keyvault
