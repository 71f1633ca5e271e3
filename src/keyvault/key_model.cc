#include "keyvault/key_model.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/encoding.h"

namespace byok::keyvault {
namespace {

using nlohmann::json;

std::optional<int64_t> OptInt(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::string Str(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty() || name.size() > 127) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsValidVersion(std::string_view version) {
  if (version.size() != 32) return false;
  return std::all_of(version.begin(), version.end(), [](char c) {
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9');
  });
}

std::string NewVersionId(Random& random) { return HexEncode(random.Bytes(16)); }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string KeyResourceId(std::string_view vault_guid, std::string_view key_name) {
  return fmt::format("{}/keys/{}", VaultDataPrefix(vault_guid), ToLower(key_name));
}

std::string VersionResourceId(std::string_view vault_guid, std::string_view key_name,
                              std::string_view version) {
  return fmt::format("{}/versions/{}", KeyResourceId(vault_guid, key_name), ToLower(version));
}

std::string KeySecretPrefix(std::string_view vault_guid, std::string_view key_name) {
  return fmt::format("{}keys/{}/", VaultSecretPrefix(vault_guid), ToLower(key_name));
}

std::string KeySecretName(std::string_view vault_guid, std::string_view key_name,
                          std::string_view version) {
  return KeySecretPrefix(vault_guid, key_name) + ToLower(version);
}

json KeyDoc::ToJson() const {
  json j = {{"name", name},         {"vault", vault},     {"current_version", current_version},
            {"next_seq", next_seq}, {"deleted", nullptr}, {"rotation_policy", rotation_policy}};
  if (deleted) {
    j["deleted"] = {{"deletedDate", deleted->deleted_date},
                    {"scheduledPurgeDate", deleted->scheduled_purge_date},
                    {"recoveryId", deleted->recovery_id}};
  }
  return j;
}

Result<KeyDoc> KeyDoc::FromJson(const json& j) {
  if (!j.is_object()) return Status::DataLoss("key document is not an object");
  KeyDoc d;
  d.name = Str(j, "name");
  d.vault = Str(j, "vault");
  d.current_version = Str(j, "current_version");
  d.next_seq = OptInt(j, "next_seq").value_or(1);
  if (d.name.empty() || d.current_version.empty()) {
    return Status::DataLoss("key document lacks name or current_version");
  }
  auto del = j.find("deleted");
  if (del != j.end() && del->is_object()) {
    DeletedInfo info;
    info.deleted_date = OptInt(*del, "deletedDate").value_or(0);
    info.scheduled_purge_date = OptInt(*del, "scheduledPurgeDate").value_or(0);
    info.recovery_id = Str(*del, "recoveryId");
    d.deleted = info;
  }
  auto rp = j.find("rotation_policy");
  if (rp != j.end() && rp->is_object()) d.rotation_policy = *rp;
  return d;
}

json VersionDoc::ToJson(const VaultRecord& vault) const {
  json attrs = {{"enabled", attributes.enabled},
                {"created", attributes.created},
                {"updated", attributes.updated},
                {"recoveryLevel", RecoveryLevel(vault)},
                {"recoverableDays", vault.soft_delete_retention_days}};
  if (attributes.nbf) attrs["nbf"] = *attributes.nbf;
  if (attributes.exp) attrs["exp"] = *attributes.exp;
  return {{"kty", kty},          {"key_ops", key_ops}, {"jwk", jwk},
          {"attributes", attrs}, {"tags", tags},       {"created_seq", created_seq}};
}

Result<VersionDoc> VersionDoc::FromJson(std::string version, const json& j) {
  if (!j.is_object()) return Status::DataLoss("key version document is not an object");
  VersionDoc v;
  v.version = std::move(version);
  v.kty = Str(j, "kty");
  auto ops = j.find("key_ops");
  if (ops != j.end() && ops->is_array()) {
    for (const json& o : *ops) {
      if (o.is_string()) v.key_ops.push_back(o.get<std::string>());
    }
  }
  auto jwk = j.find("jwk");
  if (jwk == j.end() || !jwk->is_object() || v.kty.empty()) {
    return Status::DataLoss("key version document lacks kty or jwk");
  }
  v.jwk = *jwk;
  auto attrs = j.find("attributes");
  if (attrs != j.end() && attrs->is_object()) {
    auto en = attrs->find("enabled");
    v.attributes.enabled = en == attrs->end() || !en->is_boolean() || en->get<bool>();
    v.attributes.nbf = OptInt(*attrs, "nbf");
    v.attributes.exp = OptInt(*attrs, "exp");
    v.attributes.created = OptInt(*attrs, "created").value_or(0);
    v.attributes.updated = OptInt(*attrs, "updated").value_or(0);
  }
  auto tags = j.find("tags");
  if (tags != j.end() && tags->is_object()) v.tags = *tags;
  v.created_seq = OptInt(j, "created_seq").value_or(0);
  return v;
}

std::string RecoveryLevel(const VaultRecord& vault) {
  std::string level =
      vault.soft_delete_retention_days >= 90 ? "Recoverable" : "CustomizedRecoverable";
  if (!vault.enable_purge_protection) level += "+Purgeable";
  return level;
}

bool IsRsa(std::string_view kty) { return kty == "RSA" || kty == "RSA-HSM"; }
bool IsEc(std::string_view kty) { return kty == "EC" || kty == "EC-HSM"; }

std::vector<std::string> AllowedKeyOps(std::string_view kty) {
  if (IsEc(kty)) return {"sign", "verify"};
  return {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"};
}

std::vector<std::string> DefaultKeyOps(std::string_view kty) { return AllowedKeyOps(kty); }

json RenderAttributes(const KeyAttributes& a, const VaultRecord& vault) {
  json j = {{"enabled", a.enabled}};
  if (a.nbf) j["nbf"] = *a.nbf;
  if (a.exp) j["exp"] = *a.exp;
  j["created"] = a.created;
  j["updated"] = a.updated;
  j["recoveryLevel"] = RecoveryLevel(vault);
  j["recoverableDays"] = vault.soft_delete_retention_days;
  return j;
}

std::string KidOf(std::string_view base, std::string_view name, std::string_view version) {
  return fmt::format("{}/keys/{}/{}", base, name, version);
}

std::string RecoveryIdOf(std::string_view base, std::string_view name) {
  return fmt::format("{}/deletedkeys/{}", base, name);
}

json RenderKeyBundle(std::string_view base, const KeyDoc& key, const VersionDoc& v,
                     const VaultRecord& vault) {
  json jwk = {{"kid", KidOf(base, key.name, v.version)}, {"kty", v.kty}, {"key_ops", v.key_ops}};
  for (const auto& [k, val] : v.jwk.items()) jwk[k] = val;
  json j = {{"key", std::move(jwk)}, {"attributes", RenderAttributes(v.attributes, vault)}};
  if (v.tags.is_object() && !v.tags.empty()) j["tags"] = v.tags;
  return j;
}

json RenderKeyItem(std::string_view base, const KeyDoc& key, const VersionDoc& v,
                   const VaultRecord& vault, bool with_version) {
  json j = {{"kid", with_version ? KidOf(base, key.name, v.version)
                                 : fmt::format("{}/keys/{}", base, key.name)},
            {"attributes", RenderAttributes(v.attributes, vault)}};
  if (v.tags.is_object() && !v.tags.empty()) j["tags"] = v.tags;
  return j;
}

json RenderDeletedKey(std::string_view base, const KeyDoc& key, const VersionDoc& v,
                      const VaultRecord& vault, bool item) {
  json j = item ? RenderKeyItem(base, key, v, vault, false) : RenderKeyBundle(base, key, v, vault);
  j["recoveryId"] = RecoveryIdOf(base, key.name);
  if (key.deleted) {
    j["deletedDate"] = key.deleted->deleted_date;
    j["scheduledPurgeDate"] = key.deleted->scheduled_purge_date;
  }
  return j;
}

}  // namespace byok::keyvault
