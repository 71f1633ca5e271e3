#include "keyvault/vaults.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/errors.h"
#include "arm/locations.h"
#include "arm/resource_id.h"
#include "keyvault/vault_errors.h"
#include "keyvault/vault_store.h"

namespace byok::keyvault {
namespace {

namespace errors = vault_errors;
namespace arm_errors = arm::errors;
using arm::AsciiLower;
using arm::EqualsIgnoreCase;
using arm::ResourceId;
using gateway::ArmError;
using gateway::ArmRequest;
using nlohmann::json;

// Microsoft.KeyVault/vaults api-versions, newest first: the current SDKs' (2026-02-01), the
// published ones back to the one Azure CLI 2.45 uses (2022-07-01), and the older ones other
// tools still send.
const std::vector<std::string> kVersions = {
    "2026-02-01",         "2025-05-01",         "2024-12-01-preview", "2024-11-01",
    "2024-04-01-preview", "2023-08-01-preview", "2023-07-01",         "2023-02-01",
    "2022-11-01",         "2022-07-01",         "2022-02-01-preview", "2021-11-01-preview",
    "2021-10-01",         "2021-06-01-preview", "2021-04-01-preview", "2019-09-01",
    "2018-02-14",         "2016-10-01"};
// From this api-version on, a new vault defaults to Azure RBAC (enableRbacAuthorization true).
constexpr std::string_view kRbacDefaultSince = "2026-02-01";

constexpr size_t kMaxAccessPolicies = 1024;
constexpr size_t kMaxTags = 50;
constexpr int kMinRetentionDays = 7;
constexpr int kMaxRetentionDays = 90;

// Permission names as the 2022-07-01 spec (and later versions) spell them; requests may use any
// case, responses use these spellings.
const std::vector<std::string_view> kKeyPermissions = {"all",
                                                       "encrypt",
                                                       "decrypt",
                                                       "wrapKey",
                                                       "unwrapKey",
                                                       "sign",
                                                       "verify",
                                                       "get",
                                                       "list",
                                                       "create",
                                                       "update",
                                                       "import",
                                                       "delete",
                                                       "backup",
                                                       "restore",
                                                       "recover",
                                                       "purge",
                                                       "release",
                                                       "rotate",
                                                       "getrotationpolicy",
                                                       "setrotationpolicy"};
const std::vector<std::string_view> kSecretPermissions = {
    "all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge"};
const std::vector<std::string_view> kCertificatePermissions = {
    "all",        "get",           "list",           "delete",     "create",
    "import",     "update",        "managecontacts", "getissuers", "listissuers",
    "setissuers", "deleteissuers", "manageissuers",  "recover",    "purge",
    "backup",     "restore"};
const std::vector<std::string_view> kStoragePermissions = {
    "all",   "get",    "list",    "delete", "set",     "update", "regeneratekey", "recover",
    "purge", "backup", "restore", "setsas", "listsas", "getsas", "deletesas"};

struct PermissionCategory {
  const char* member;  // "keys"
  const char* noun;    // "key" (for messages)
  const std::vector<std::string_view>* allowed;
};
const PermissionCategory kCategories[] = {{"keys", "key", &kKeyPermissions},
                                          {"secrets", "secret", &kSecretPermissions},
                                          {"certificates", "certificate", &kCertificatePermissions},
                                          {"storage", "storage", &kStoragePermissions}};

http::Response Internal(const ArmRequest& r, const Clock& clock, const Status& s) {
  spdlog::error("{} {}: {}", r.http->method, r.http->path, s.ToString());
  return ArmError(
      MakeError(arm_errors::kInternalError, FormatAzureTime(clock.Now()), r.http->request_id));
}

// ---- Validation helpers ----

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool ValidVaultName(std::string_view n) {
  if (n.size() < 3 || n.size() > 24) return false;
  if (!IsAsciiLetter(n.front())) return false;
  if (!IsAsciiLetter(n.back()) && !IsAsciiDigit(n.back())) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '-') return false;
    if (c == '-' && i > 0 && n[i - 1] == '-') return false;
  }
  return true;
}

bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<ApiError> CheckTags(const json& tags) {
  if (!tags.is_object() || tags.size() > kMaxTags) return MakeError(errors::kInvalidTags);
  for (const auto& [k, v] : tags.items()) {
    if (!v.is_string() || k.empty()) return MakeError(errors::kInvalidTags);
  }
  return std::nullopt;
}

// The canonical spelling of `perm` in `allowed` (case-insensitive), or nullopt.
std::optional<std::string> CanonicalPermission(const std::vector<std::string_view>& allowed,
                                               std::string_view perm) {
  for (auto a : allowed) {
    if (EqualsIgnoreCase(a, perm)) return std::string(a);
  }
  return std::nullopt;
}

// Validates one access policy entry (index i for messages) and returns it normalized: tenantId,
// objectId, applicationId if given, and permissions with all four categories (canonical names,
// duplicates dropped).
ApiResult<json> NormalizeAccessPolicy(const json& in, size_t i) {
  if (!in.is_object()) return MakeError(errors::kAccessPolicyInvalid, i, "tenantId");
  auto tenant = in.find("tenantId");
  if (tenant == in.end() || !tenant->is_string()) {
    return MakeError(errors::kAccessPolicyInvalid, i, "tenantId");
  }
  if (!IsGuid(tenant->get<std::string>())) {
    return MakeError(errors::kInvalidTenantId, tenant->get<std::string>(),
                     fmt::format("accessPolicies[{}].tenantId", i));
  }
  auto object = in.find("objectId");
  if (object == in.end() || !object->is_string() || object->get<std::string>().empty()) {
    return MakeError(errors::kAccessPolicyInvalid, i, "objectId");
  }
  auto perms = in.find("permissions");
  if (perms == in.end() || !perms->is_object()) {
    return MakeError(errors::kAccessPolicyInvalid, i, "permissions");
  }
  json out = {{"tenantId", *tenant}, {"objectId", *object}, {"permissions", json::object()}};
  auto app = in.find("applicationId");
  if (app != in.end() && !app->is_null()) {
    if (!app->is_string() || !IsGuid(app->get<std::string>())) {
      return MakeError(errors::kPropertyType, fmt::format("accessPolicies[{}].applicationId", i),
                       "a GUID");
    }
    out["applicationId"] = *app;
  }
  for (const auto& cat : kCategories) {
    json list = json::array();
    auto given = perms->find(cat.member);
    if (given != perms->end() && !given->is_null()) {
      if (!given->is_array()) {
        return MakeError(errors::kPropertyType,
                         fmt::format("accessPolicies[{}].permissions.{}", i, cat.member),
                         "an array of strings");
      }
      for (const auto& p : *given) {
        std::string s = p.is_string() ? p.get<std::string>() : p.dump();
        auto canon = p.is_string() ? CanonicalPermission(*cat.allowed, s) : std::nullopt;
        if (!canon) return MakeError(errors::kInvalidPermission, i, s, cat.noun);
        if (std::find(list.begin(), list.end(), json(*canon)) == list.end()) {
          list.push_back(*canon);
        }
      }
    }
    out["permissions"][cat.member] = std::move(list);
  }
  return out;
}

ApiResult<json> NormalizeAccessPolicies(const json& in) {
  if (!in.is_array()) {
    return MakeError(errors::kPropertyType, "properties.accessPolicies", "an array");
  }
  if (in.size() > kMaxAccessPolicies) return MakeError(errors::kTooManyAccessPolicies, in.size());
  json out = json::array();
  for (size_t i = 0; i < in.size(); ++i) {
    ApiResult<json> e = NormalizeAccessPolicy(in[i], i);
    if (!e.ok()) return e.error();
    out.push_back(std::move(e).value());
  }
  return out;
}

// A boolean property: nullopt if absent or null, the error if not a boolean.
ApiResult<std::optional<bool>> OptionalBool(const json& props, const char* name) {
  auto it = props.find(name);
  if (it == props.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) {
    return MakeError(errors::kPropertyType, fmt::format("properties.{}", name), "a boolean");
  }
  return std::optional<bool>(it->get<bool>());
}

// Builds the stored properties of a vault from a request's `in` properties.
//   existing: the vault's current properties (update) or null (create).
//   patch:    PATCH semantics (every member optional; absent members keep their value).
// Read-only members (vaultUri, provisioningState, hsmPoolResourceId, ...) are ignored.
ApiResult<json> BuildProperties(const json& in, const json& existing, bool patch,
                                const std::string& api_version) {
  const bool creating = existing.is_null();
  json out = creating ? json::object() : existing;

  // tenantId
  if (auto t = in.find("tenantId"); t != in.end() && !t->is_null()) {
    if (!t->is_string() || !IsGuid(t->get<std::string>())) {
      return MakeError(errors::kInvalidTenantId, t->is_string() ? t->get<std::string>() : t->dump(),
                       "properties.tenantId");
    }
    out["tenantId"] = *t;
  } else if (!patch) {
    return MakeError(errors::kPropertyRequired, "properties.tenantId");
  }

  // sku {family: "A", name: standard|premium}
  if (auto s = in.find("sku"); s != in.end() && !s->is_null()) {
    if (!s->is_object()) return MakeError(errors::kPropertyType, "properties.sku", "an object");
    std::string family = s->value("family", "A");
    if (!s->contains("family") || !(*s)["family"].is_string()) family = "A";
    if (!EqualsIgnoreCase(family, "A")) return MakeError(errors::kInvalidSkuFamily, family);
    auto n = s->find("name");
    if (n == s->end() || !n->is_string()) {
      return MakeError(errors::kPropertyRequired, "properties.sku.name");
    }
    std::string name = AsciiLower(n->get<std::string>());
    if (name != "standard" && name != "premium") {
      return MakeError(errors::kInvalidSkuName, n->get<std::string>());
    }
    out["sku"] = {{"family", "A"}, {"name", name}};
  } else if (!patch) {
    return MakeError(errors::kPropertyRequired, "properties.sku");
  }

  // enableSoftDelete: always true.
  {
    ApiResult<std::optional<bool>> sd = OptionalBool(in, "enableSoftDelete");
    if (!sd.ok()) return sd.error();
    if (sd->has_value() && !**sd) return MakeError(errors::kSoftDeleteCannotBeDisabled);
    out["enableSoftDelete"] = true;
  }

  // softDeleteRetentionInDays: 7-90, default 90, fixed at creation.
  if (auto d = in.find("softDeleteRetentionInDays"); d != in.end() && !d->is_null()) {
    if (!d->is_number_integer()) {
      return MakeError(errors::kPropertyType, "properties.softDeleteRetentionInDays", "an integer");
    }
    int64_t days = d->get<int64_t>();
    if (days < kMinRetentionDays || days > kMaxRetentionDays) {
      return MakeError(errors::kRetentionOutOfRange, days);
    }
    if (!creating && existing.value("softDeleteRetentionInDays", 90) != days) {
      return MakeError(errors::kRetentionImmutable);
    }
    out["softDeleteRetentionInDays"] = days;
  } else if (creating) {
    out["softDeleteRetentionInDays"] = 90;
  }

  // enablePurgeProtection: only true is accepted; once on it stays on.
  {
    ApiResult<std::optional<bool>> pp = OptionalBool(in, "enablePurgeProtection");
    if (!pp.ok()) return pp.error();
    if (pp->has_value()) {
      if (!**pp) return MakeError(errors::kPurgeProtectionCannotBeDisabled);
      out["enablePurgeProtection"] = true;
    }
  }

  // enableRbacAuthorization: default false before 2026-02-01, true from it (new vaults only).
  {
    ApiResult<std::optional<bool>> rbac = OptionalBool(in, "enableRbacAuthorization");
    if (!rbac.ok()) return rbac.error();
    if (rbac->has_value()) {
      out["enableRbacAuthorization"] = **rbac;
    } else if (creating) {
      out["enableRbacAuthorization"] = api_version >= kRbacDefaultSince;
    }
  }

  for (const char* flag :
       {"enabledForDeployment", "enabledForDiskEncryption", "enabledForTemplateDeployment"}) {
    ApiResult<std::optional<bool>> b = OptionalBool(in, flag);
    if (!b.ok()) return b.error();
    if (b->has_value()) {
      out[flag] = **b;
    } else if (creating) {
      out[flag] = false;
    }
  }

  if (auto ap = in.find("accessPolicies"); ap != in.end() && !ap->is_null()) {
    ApiResult<json> policies = NormalizeAccessPolicies(*ap);
    if (!policies.ok()) return policies.error();
    out["accessPolicies"] = std::move(policies).value();
  } else if (creating) {
    out["accessPolicies"] = json::array();
  }

  if (auto pna = in.find("publicNetworkAccess"); pna != in.end() && !pna->is_null()) {
    std::string v = pna->is_string() ? pna->get<std::string>() : pna->dump();
    if (EqualsIgnoreCase(v, "enabled")) {
      out["publicNetworkAccess"] = "Enabled";
    } else if (EqualsIgnoreCase(v, "disabled")) {
      out["publicNetworkAccess"] = "Disabled";
    } else {
      return MakeError(errors::kInvalidPublicNetworkAccess, v);
    }
  } else if (creating) {
    out["publicNetworkAccess"] = "Enabled";
  }

  // networkAcls: stored and returned as given (not enforced: every client is local).
  if (auto acls = in.find("networkAcls"); acls != in.end()) {
    if (acls->is_null()) {
      out.erase("networkAcls");
    } else if (!acls->is_object()) {
      return MakeError(errors::kPropertyType, "properties.networkAcls", "an object");
    } else {
      out["networkAcls"] = *acls;
    }
  }

  out["provisioningState"] = "Succeeded";
  out.erase("createMode");
  return out;
}

json SystemData(const identity::Principal& caller, const std::string& now, const json& existing) {
  std::string who = caller.app_id.empty() ? caller.object_id : caller.app_id;
  json sd = existing.is_object()
                ? existing
                : json{{"createdBy", who}, {"createdByType", "Application"}, {"createdAt", now}};
  sd["lastModifiedBy"] = who;
  sd["lastModifiedByType"] = "Application";
  sd["lastModifiedAt"] = now;
  return sd;
}

// Access-policy entries are the same identity when tenant, object and application ids match.
bool SameIdentity(const json& a, const json& b) {
  auto str = [](const json& e, const char* k) {
    auto it = e.find(k);
    return it != e.end() && it->is_string() ? AsciiLower(it->get<std::string>()) : std::string();
  };
  return str(a, "tenantId") == str(b, "tenantId") && str(a, "objectId") == str(b, "objectId") &&
         str(a, "applicationId") == str(b, "applicationId");
}

bool NoPermissions(const json& entry) {
  for (const auto& cat : kCategories) {
    if (!entry["permissions"][cat.member].empty()) return false;
  }
  return true;
}

// Applies an accessPolicies/{add|replace|remove} operation (kind lower-case) to `policies`.
json ApplyAccessPolicyUpdate(json policies, const std::string& kind, const json& changes) {
  for (const json& change : changes) {
    auto match = std::find_if(policies.begin(), policies.end(),
                              [&](const json& e) { return SameIdentity(e, change); });
    if (kind == "remove") {
      if (match == policies.end()) continue;
      if (NoPermissions(change)) {
        policies.erase(match);
        continue;
      }
      for (const auto& cat : kCategories) {
        json& have = (*match)["permissions"][cat.member];
        json kept = json::array();
        for (const auto& p : have) {
          const json& drop = change["permissions"][cat.member];
          if (std::find(drop.begin(), drop.end(), p) == drop.end()) kept.push_back(p);
        }
        have = std::move(kept);
      }
      if (NoPermissions(*match)) policies.erase(match);
      continue;
    }
    if (match == policies.end()) {
      policies.push_back(change);
      continue;
    }
    if (kind == "replace") {
      (*match)["permissions"] = change["permissions"];
      continue;
    }
    for (const auto& cat : kCategories) {  // add: union
      json& have = (*match)["permissions"][cat.member];
      for (const auto& p : change["permissions"][cat.member]) {
        if (std::find(have.begin(), have.end(), p) == have.end()) have.push_back(p);
      }
    }
  }
  return policies;
}

class VaultsProvider {
 public:
  explicit VaultsProvider(VaultsDeps deps) : d_(std::move(deps)) {}

  // Registers the types; every handler holds `self`, so the front end owns the provider.
  static void Register(const std::shared_ptr<VaultsProvider>& self, gateway::Frontend& fe) {
    gateway::ResourceTypeSpec vaults;
    vaults.type = kVaultType;
    vaults.api_versions = kVersions;
    vaults.put = [self](ArmRequest& r) { return self->Put(r); };
    vaults.patch = [self](ArmRequest& r) { return self->Patch(r); };
    vaults.get = [self](ArmRequest& r) { return self->Get(r); };
    vaults.del = [self](ArmRequest& r) { return self->Delete(r); };
    vaults.list = [self](ArmRequest& r) { return self->List(r); };
    // A resource-group delete soft-deletes its vaults (recoverable), as Azure does.
    const Clock* clock = self->d_.clock;
    vaults.on_cascade_delete = [clock](store::Transaction& txn, const store::Resource& res) {
      auto deleted = SoftDeleteVault(txn, res, clock->Now());
      if (deleted.ok()) spdlog::info("vault {} soft-deleted with its resource group", res.id);
      return deleted.status();
    };
    fe.Register(std::move(vaults));

    gateway::ResourceTypeSpec policies;
    policies.type = "Microsoft.KeyVault/vaults/accessPolicies";
    policies.api_versions = kVersions;
    policies.put = [self](ArmRequest& r) { return self->UpdateAccessPolicies(r); };
    fe.Register(std::move(policies));

    gateway::ResourceTypeSpec deleted_list;
    deleted_list.type = "Microsoft.KeyVault/deletedVaults";
    deleted_list.api_versions = kVersions;
    deleted_list.list = [self](ArmRequest& r) { return self->ListDeleted(r); };
    fe.Register(std::move(deleted_list));

    gateway::ResourceTypeSpec deleted;
    deleted.type = "Microsoft.KeyVault/locations/deletedVaults";
    deleted.api_versions = kVersions;
    deleted.get = [self](ArmRequest& r) { return self->GetDeleted(r); };
    deleted.actions["purge"] = [self](ArmRequest& r) { return self->Purge(r); };
    fe.Register(std::move(deleted));

    gateway::ResourceTypeSpec ns;
    ns.type = "Microsoft.KeyVault";  // POST {sub}/providers/Microsoft.KeyVault/{action}
    ns.api_versions = {"*"};
    ns.actions["checknameavailability"] = [self](ArmRequest& r) { return self->CheckName(r); };
    ns.rbac_action = [](const ArmRequest&) {
      return std::string("Microsoft.KeyVault/checkNameAvailability/read");
    };
    fe.Register(std::move(ns));

    // The Azure CLI lists managed HSMs beside vaults (`az keyvault list`, `list-deleted`).
    for (const char* type :
         {"Microsoft.KeyVault/managedHSMs", "Microsoft.KeyVault/deletedManagedHSMs"}) {
      gateway::ResourceTypeSpec hsm;
      hsm.type = type;
      hsm.api_versions = kVersions;
      hsm.list = [](ArmRequest&) { return http::Response::Json(200, {{"value", json::array()}}); };
      fe.Register(std::move(hsm));
    }
  }

 private:
  std::string Now() const { return FormatAzureTime(d_.clock->Now()); }

  // The document a client sees: the stored body without "internal", vaultUri for this server.
  json PublicDoc(const json& body) const {
    json doc = body;
    doc.erase("internal");
    if (doc.contains("properties") && d_.vault_dns_suffix) {
      doc["properties"]["vaultUri"] =
          fmt::format("https://{}{}/", AsciiLower(doc.value("name", "")), d_.vault_dns_suffix());
    }
    return doc;
  }

  static http::Response NotFound(const ResourceId& id) {
    return ArmError(MakeError(arm_errors::kResourceNotFound,
                              fmt::format("Microsoft.KeyVault/vaults/{}", id.Name()),
                              id.resource_group()));
  }

  static http::Response StoreError(const ArmRequest& r, const Clock& clock, const Status& s) {
    if (s.Is(StatusCode::kAborted)) return ArmError(MakeError(arm_errors::kPreconditionFailed));
    return Internal(r, clock, s);
  }

  // ---- vaults ----

  http::Response Put(ArmRequest& r) {
    const std::string name = r.path.id.Name();
    if (!ValidVaultName(name)) return ArmError(MakeError(errors::kVaultNameNotValid, name));
    if (!r.body.is_object()) {
      return ArmError(
          MakeError(arm_errors::kInvalidRequestContent, "the body must be a JSON object"));
    }
    auto loc_in = r.body.find("location");
    if (loc_in == r.body.end() || !loc_in->is_string() || loc_in->get<std::string>().empty()) {
      return ArmError(MakeError(arm_errors::kLocationRequired));
    }
    const arm::Location* loc = arm::FindLocation(loc_in->get<std::string>());
    if (!loc) {
      return ArmError(MakeError(arm_errors::kLocationNotAvailableForResourceType,
                                loc_in->get<std::string>(), kVaultType, arm::LocationNames()));
    }
    json tags = r.body.value("tags", json::object());
    if (tags.is_null()) tags = json::object();
    if (auto e = CheckTags(tags)) return ArmError(*e);
    auto props_in = r.body.find("properties");
    if (props_in == r.body.end() || !props_in->is_object()) {
      return ArmError(MakeError(errors::kPropertiesRequired));
    }
    std::string mode = "default";
    if (auto m = props_in->find("createMode"); m != props_in->end() && !m->is_null()) {
      std::string v = m->is_string() ? m->get<std::string>() : m->dump();
      if (!EqualsIgnoreCase(v, "default") && !EqualsIgnoreCase(v, "recover")) {
        return ArmError(MakeError(errors::kInvalidCreateMode, v));
      }
      mode = AsciiLower(v);
    }

    const std::string id = r.path.id.ToString();
    auto txn = d_.store->Begin();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto existing = (*txn)->Get(id);
    if (!existing.ok()) return Internal(r, *d_.clock, existing.status());
    auto index = (*txn)->Get(NameIndexId(name));
    if (!index.ok()) return Internal(r, *d_.clock, index.status());

    if (mode == "recover") return Recover(r, **txn, *index, std::string(loc->name));

    store::Resource res;
    json old_props;  // null: creating
    if (existing->has_value()) {
      res = **existing;
      old_props = res.body.value("properties", json::object());
      std::string have = res.body.value("location", "");
      if (have != loc->name) {
        return ArmError(MakeError(arm_errors::kInvalidResourceLocation, name, have,
                                  r.path.id.resource_group(), loc_in->get<std::string>()));
      }
    } else if (index->has_value()) {
      if ((*index)->body.value("deleted", false)) {
        return ArmError(MakeError(errors::kNameHeldByDeletedVault));
      }
      return ArmError(MakeError(errors::kVaultAlreadyExists, name));
    }
    ApiResult<json> props = BuildProperties(*props_in, old_props, false, r.api_version);
    if (!props.ok()) return ArmError(props.error());

    const bool creating = !existing->has_value();
    if (creating) {
      res.id = id;
      res.type = kVaultType;
      res.parent_id =
          ResourceId::ResourceGroup(r.path.id.subscription_id(), r.path.id.resource_group())
              .ToString();
      res.body = {{"id", id},
                  {"name", name},
                  {"type", kVaultType},
                  {"location", loc->name},
                  {"internal", {{"guid", d_.random->Uuid()}}}};
    }
    res.body["tags"] = tags;
    res.body["systemData"] = SystemData(r.caller, Now(), res.body.value("systemData", json()));
    res.body["properties"] = std::move(props).value();
    if (creating) spdlog::info("creating vault {}", res.id);
    return Commit(r, **txn, std::move(res), creating);
  }

  // Writes a live vault (and, when creating, its name index entry) and answers with it.
  http::Response Commit(const ArmRequest& r, store::Transaction& txn, store::Resource res,
                        bool creating) {
    std::string guid = res.body["internal"].value("guid", "");
    std::string vault_id = res.id;
    std::string name = res.body.value("name", "");
    auto put = txn.Put(std::move(res), r.http->headers.Get("if-match"));
    if (!put.ok()) return StoreError(r, *d_.clock, put.status());
    if (creating) {
      store::Resource index;
      index.id = NameIndexId(name);
      index.type = kNameIndexType;
      index.body = {{"guid", guid}, {"vault_id", vault_id}, {"deleted", false}, {"deleted_id", ""}};
      auto idx = txn.Put(std::move(index));
      if (!idx.ok()) return Internal(r, *d_.clock, idx.status());
    }
    if (Status s = txn.Commit(); !s.ok()) return Internal(r, *d_.clock, s);
    return http::Response::Json(200, PublicDoc(put->body));
  }

  // PUT with createMode "recover": brings a soft-deleted vault of this subscription back as it
  // was (its keys included), under the id the request names.
  http::Response Recover(const ArmRequest& r, store::Transaction& txn,
                         const std::optional<store::Resource>& index, const std::string& location) {
    const std::string name = r.path.id.Name();
    if (!index || !index->body.value("deleted", false)) {
      return ArmError(MakeError(errors::kSoftDeletedVaultDoesNotExist, name));
    }
    auto deleted = txn.Get(index->body.value("deleted_id", ""));
    if (!deleted.ok()) return Internal(r, *d_.clock, deleted.status());
    if (!deleted->has_value() ||
        !EqualsIgnoreCase(
            ResourceId::Parse((*deleted)->id).value_or(ResourceId()).subscription_id(),
            r.path.id.subscription_id())) {
      return ArmError(MakeError(errors::kSoftDeletedVaultDoesNotExist, name));
    }
    json vault = (*deleted)->body["internal"]["vault"];
    std::string was_at = vault.value("location", "");
    if (was_at != location) {
      return ArmError(MakeError(arm_errors::kInvalidResourceLocation, name, was_at,
                                r.path.id.resource_group(), location));
    }
    store::Resource res;
    res.id = r.path.id.ToString();
    res.type = kVaultType;
    res.parent_id =
        ResourceId::ResourceGroup(r.path.id.subscription_id(), r.path.id.resource_group())
            .ToString();
    vault["id"] = res.id;
    vault["systemData"] = SystemData(r.caller, Now(), vault.value("systemData", json()));
    vault["properties"]["provisioningState"] = "Succeeded";
    res.body = std::move(vault);
    if (Status s = txn.Delete((*deleted)->id); !s.ok()) return Internal(r, *d_.clock, s);
    spdlog::info("recovering vault {}", res.id);
    return Commit(r, txn, std::move(res), /*creating=*/true);
  }

  http::Response Patch(ArmRequest& r) {
    if (!r.body.is_object()) {
      return ArmError(
          MakeError(arm_errors::kInvalidRequestContent, "the body must be a JSON object"));
    }
    auto txn = d_.store->Begin();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto existing = (*txn)->Get(r.path.id.ToString());
    if (!existing.ok()) return Internal(r, *d_.clock, existing.status());
    if (!existing->has_value() || !EqualsIgnoreCase((*existing)->type, kVaultType)) {
      return NotFound(r.path.id);
    }
    store::Resource res = **existing;
    if (auto t = r.body.find("tags"); t != r.body.end()) {
      json tags = t->is_null() ? json::object() : *t;
      if (auto e = CheckTags(tags)) return ArmError(*e);
      res.body["tags"] = tags;
    }
    if (auto p = r.body.find("properties"); p != r.body.end() && !p->is_null()) {
      if (!p->is_object()) return ArmError(MakeError(errors::kPropertiesRequired));
      ApiResult<json> props =
          BuildProperties(*p, res.body.value("properties", json::object()), true, r.api_version);
      if (!props.ok()) return ArmError(props.error());
      res.body["properties"] = std::move(props).value();
    }
    res.body["systemData"] = SystemData(r.caller, Now(), res.body.value("systemData", json()));
    return Commit(r, **txn, std::move(res), false);
  }

  http::Response Get(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto res = (*txn)->Get(r.path.id.ToString());
    if (!res.ok()) return Internal(r, *d_.clock, res.status());
    if (!res->has_value() || !EqualsIgnoreCase((*res)->type, kVaultType)) {
      return NotFound(r.path.id);
    }
    return http::Response::Json(200, PublicDoc((*res)->body));
  }

  http::Response Delete(ArmRequest& r) {
    auto txn = d_.store->Begin();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto res = (*txn)->Get(r.path.id.ToString());
    if (!res.ok()) return Internal(r, *d_.clock, res.status());
    if (!res->has_value() || !EqualsIgnoreCase((*res)->type, kVaultType)) {
      return http::Response::Empty(204);
    }
    if (auto m = r.http->headers.Get("if-match"); m && *m != "*" && *m != (*res)->etag) {
      return ArmError(MakeError(arm_errors::kPreconditionFailed));
    }
    auto deleted = SoftDeleteVault(**txn, **res, d_.clock->Now());
    if (!deleted.ok()) return Internal(r, *d_.clock, deleted.status());
    if (Status s = (*txn)->Commit(); !s.ok()) return Internal(r, *d_.clock, s);
    spdlog::info("vault {} soft-deleted; scheduled purge {}", (*res)->id,
                 deleted->body["properties"].value("scheduledPurgeDate", ""));
    return http::Response::Empty(200);
  }

  // $top: at most that many (no nextLink paging: every result fits one page).
  static size_t Top(const ArmRequest& r) {
    auto top = r.http->Query("$top");
    size_t n = 0;
    if (!top || std::from_chars(top->data(), top->data() + top->size(), n).ec != std::errc()) {
      return SIZE_MAX;
    }
    return n;
  }

  http::Response List(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto all = (*txn)->ListByType(kVaultType, r.path.id.ToString());
    if (!all.ok()) return Internal(r, *d_.clock, all.status());
    json value = json::array();
    size_t top = Top(r);
    for (const auto& v : *all) {
      if (value.size() >= top) break;
      value.push_back(PublicDoc(v.body));
    }
    return http::Response::Json(200, {{"value", value}});
  }

  // ---- access policies ----

  http::Response UpdateAccessPolicies(ArmRequest& r) {
    const std::string kind = AsciiLower(r.path.id.Name());
    if (kind != "add" && kind != "replace" && kind != "remove") {
      return ArmError(MakeError(errors::kInvalidOperationKind, r.path.id.Name()));
    }
    const ResourceId vault_id = r.path.id.Parent();
    json changes;
    if (r.body.is_object() && r.body.contains("properties") && r.body["properties"].is_object()) {
      changes = r.body["properties"].value("accessPolicies", json());
    }
    if (changes.is_null()) {
      return ArmError(MakeError(errors::kPropertyRequired, "properties.accessPolicies"));
    }
    ApiResult<json> normalized = NormalizeAccessPolicies(changes);
    if (!normalized.ok()) return ArmError(normalized.error());

    auto txn = d_.store->Begin();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto existing = (*txn)->Get(vault_id.ToString());
    if (!existing.ok()) return Internal(r, *d_.clock, existing.status());
    if (!existing->has_value() || !EqualsIgnoreCase((*existing)->type, kVaultType)) {
      return NotFound(vault_id);
    }
    store::Resource res = **existing;
    json policies = ApplyAccessPolicyUpdate(
        res.body["properties"].value("accessPolicies", json::array()), kind, *normalized);
    if (policies.size() > kMaxAccessPolicies) {
      return ArmError(MakeError(errors::kTooManyAccessPolicies, policies.size()));
    }
    res.body["properties"]["accessPolicies"] = policies;
    res.body["systemData"] = SystemData(r.caller, Now(), res.body.value("systemData", json()));
    std::string location = res.body.value("location", "");
    auto put = (*txn)->Put(std::move(res));
    if (!put.ok()) return StoreError(r, *d_.clock, put.status());
    if (Status s = (*txn)->Commit(); !s.ok()) return Internal(r, *d_.clock, s);
    return http::Response::Json(200, {{"id", r.path.id.ToString()},
                                      {"name", kind},
                                      {"type", "Microsoft.KeyVault/vaults/accessPolicies"},
                                      {"location", location},
                                      {"properties", {{"accessPolicies", policies}}}});
  }

  // ---- deleted vaults ----

  static json DeletedDoc(const json& body) {
    json doc = body;
    doc.erase("internal");
    return doc;
  }

  http::Response ListDeleted(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto all = (*txn)->ListByType(kDeletedVaultType, r.path.id.ToString());
    if (!all.ok()) return Internal(r, *d_.clock, all.status());
    json value = json::array();
    for (const auto& v : *all) value.push_back(DeletedDoc(v.body));
    return http::Response::Json(200, {{"value", value}});
  }

  // The deleted vault the path names (.../locations/{loc}/deletedVaults/{name}), or nullopt.
  static Result<std::optional<store::Resource>> FindDeleted(store::Transaction& txn,
                                                            const ResourceId& id) {
    const auto& types = id.types();
    std::string loc_in = types.empty() ? std::string() : types.front().name;
    const arm::Location* loc = arm::FindLocation(loc_in);
    if (!loc) return std::optional<store::Resource>();
    BYOK_ASSIGN_OR_RETURN(auto res,
                          txn.Get(DeletedVaultId(id.subscription_id(), loc->name, id.Name())));
    if (res && !EqualsIgnoreCase(res->type, kDeletedVaultType)) {
      return std::optional<store::Resource>();
    }
    return res;
  }

  static std::string PathLocation(const ResourceId& id) {
    return id.types().empty() ? std::string() : id.types().front().name;
  }

  http::Response GetDeleted(ArmRequest& r) {
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto res = FindDeleted(**txn, r.path.id);
    if (!res.ok()) return Internal(r, *d_.clock, res.status());
    if (!res->has_value()) {
      return ArmError(
          MakeError(errors::kDeletedVaultNotFound, r.path.id.Name(), PathLocation(r.path.id)));
    }
    return http::Response::Json(200, DeletedDoc((*res)->body));
  }

  http::Response Purge(ArmRequest& r) {
    std::string deleted_id;
    {
      auto txn = d_.store->BeginRead();
      if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
      auto res = FindDeleted(**txn, r.path.id);
      if (!res.ok()) return Internal(r, *d_.clock, res.status());
      if (!res->has_value()) {
        return ArmError(
            MakeError(errors::kDeletedVaultNotFound, r.path.id.Name(), PathLocation(r.path.id)));
      }
      auto purge_at = ScheduledPurgeTime(**res);
      if (!purge_at.ok()) return Internal(r, *d_.clock, purge_at.status());
      bool protected_vault = (*res)->body["internal"].value("purge_protection", false) ||
                             (*res)->body["properties"].value("purgeProtectionEnabled", false);
      if (protected_vault && d_.clock->Now() < *purge_at) {
        return ArmError(MakeError(errors::kDeletedVaultPurgeNotAllowed));
      }
      deleted_id = (*res)->id;
    }
    store::Store* st = d_.store;
    return d_.operations->Start(r, [st, deleted_id]() -> ApiResult<json> {
      Status s = store::RunInTransaction(*st, [&](store::Transaction& txn) -> Status {
        BYOK_ASSIGN_OR_RETURN(auto res, txn.Get(deleted_id));
        if (!res) return Status::Ok();  // purged meanwhile (the scheduler, another request)
        return PurgeDeletedVault(txn, *res);
      });
      if (!s.ok()) {
        spdlog::error("purge of {} failed: {}", deleted_id, s.ToString());
        return MakeError(arm_errors::kInternalError, "", s.message());
      }
      spdlog::info("deleted vault {} purged", deleted_id);
      return json();
    });
  }

  // ---- checkNameAvailability ----

  http::Response CheckName(ArmRequest& r) {
    if (!r.body.is_object() || !r.body.contains("name") || !r.body["name"].is_string()) {
      return ArmError(MakeError(errors::kPropertyRequired, "name"));
    }
    std::string name = r.body["name"].get<std::string>();
    if (auto t = r.body.find("type"); t != r.body.end() && !t->is_null()) {
      std::string type = t->is_string() ? t->get<std::string>() : t->dump();
      if (!EqualsIgnoreCase(type, kVaultType)) {
        return ArmError(MakeError(errors::kInvalidCheckNameType, type));
      }
    }
    if (!ValidVaultName(name)) {
      return http::Response::Json(
          200, {{"nameAvailable", false},
                {"reason", "AccountNameInvalid"},
                {"message", MakeError(errors::kVaultNameNotValid, name).message}});
    }
    auto txn = d_.store->BeginRead();
    if (!txn.ok()) return Internal(r, *d_.clock, txn.status());
    auto index = (*txn)->Get(NameIndexId(name));
    if (!index.ok()) return Internal(r, *d_.clock, index.status());
    if (index->has_value()) {
      return http::Response::Json(
          200, {{"nameAvailable", false},
                {"reason", "AlreadyExists"},
                {"message", MakeError(errors::kVaultAlreadyExists, name).message}});
    }
    return http::Response::Json(200, {{"nameAvailable", true}});
  }

  VaultsDeps d_;
};

}  // namespace

const std::vector<std::string>& VaultApiVersions() { return kVersions; }

void RegisterVaultsProvider(gateway::Frontend& frontend, VaultsDeps deps) {
  VaultsProvider::Register(std::make_shared<VaultsProvider>(std::move(deps)), frontend);
}

Status PurgeExpiredVaults(store::Store& store, TimePoint now) {
  int purged = 0;
  Status s = store::RunInTransaction(store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto deleted, txn.ListByType(kDeletedVaultType));
    for (const auto& d : deleted) {
      BYOK_ASSIGN_OR_RETURN(TimePoint at, ScheduledPurgeTime(d));
      if (at > now) continue;
      BYOK_TRY(PurgeDeletedVault(txn, d));
      ++purged;
    }
    return Status::Ok();
  });
  if (s.ok() && purged > 0) spdlog::info("purged {} deleted vaults whose retention ended", purged);
  return s;
}

}  // namespace byok::keyvault
