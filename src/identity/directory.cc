#include "identity/directory.h"

#include <openssl/crypto.h>

#include "common/encoding.h"
#include "crypto/sign.h"
#include "identity/internal/util.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;

constexpr char kKindServicePrincipal[] = "ServicePrincipal";
constexpr char kKindManagedIdentity[] = "ManagedIdentity";

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string StringField(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<Principal> PrincipalFromDoc(const store::Resource& r) {
  const json& b = r.body;
  Principal p;
  p.object_id = StringField(b, "objectId");
  p.app_id = StringField(b, "appId");
  p.tenant_id = StringField(b, "tenantId");
  p.display_name = StringField(b, "displayName");
  p.kind = StringField(b, "kind") == kKindManagedIdentity ? PrincipalKind::kManagedIdentity
                                                          : PrincipalKind::kServicePrincipal;
  p.resource_id = StringField(b, "resourceId");
  if (p.object_id.empty() || p.app_id.empty()) {
    return Status::DataLoss("malformed principal document " + r.id);
  }
  return p;
}

PrincipalInfo InfoFromDoc(const store::Resource& r, Principal p) {
  PrincipalInfo info;
  info.principal = std::move(p);
  info.created = r.created;
  if (auto it = r.body.find("servicePrincipalNames"); it != r.body.end() && it->is_array()) {
    for (const auto& n : *it) {
      if (n.is_string()) info.service_principal_names.push_back(n.get<std::string>());
    }
  }
  if (auto it = r.body.find("passwordCredentials"); it != r.body.end() && it->is_array()) {
    for (const auto& c : *it) {
      PasswordCredentialInfo pc;
      pc.key_id = StringField(c, "keyId");
      if (auto s = c.find("startUnix"); s != c.end() && s->is_number_integer()) {
        pc.start = TimePoint(std::chrono::seconds(s->get<int64_t>()));
      }
      info.password_credentials.push_back(std::move(pc));
    }
  }
  return info;
}

// The last path segment of a resource id ("/subscriptions/s/.../diskEncryptionSets/des1").
std::string ResourceName(std::string_view resource_id) {
  while (!resource_id.empty() && resource_id.back() == '/') resource_id.remove_suffix(1);
  size_t slash = resource_id.rfind('/');
  return std::string(slash == std::string_view::npos ? resource_id : resource_id.substr(slash + 1));
}

}  // namespace

struct Directory::NewSecret {
  std::string secret;
  SecretHash hash;
  ~NewSecret() { OPENSSL_cleanse(secret.data(), secret.size()); }
  NewSecret() = default;
  NewSecret(NewSecret&&) = default;
};

std::string TenantResourceId(std::string_view tenant_id) {
  return "/byok/tenants/" + std::string(tenant_id);
}

std::string PrincipalResourceId(std::string_view tenant_id, std::string_view object_id) {
  return TenantResourceId(tenant_id) + "/principals/" + std::string(object_id);
}

bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

nlohmann::json ServicePrincipalCredentials::ToJson() const {
  return {{"appId", app_id},
          {"password", password},
          {"tenant", tenant},
          {"objectId", object_id},
          {"displayName", display_name}};
}

Directory::Directory(store::Store& store, const Clock& clock, Random& random, std::string tenant_id,
                     DirectoryOptions options)
    : store_(store),
      clock_(clock),
      random_(random),
      tenant_id_(internal::ToLowerAscii(tenant_id)),
      options_(options) {}

std::string Directory::AppIdIndexId(std::string_view app_id) const {
  return TenantResourceId(tenant_id_) + "/appids/" + internal::ToLowerAscii(app_id);
}

std::string Directory::ManagedIdentityIndexId(std::string_view resource_id) const {
  std::string normalized = store::NormalizeId(resource_id);
  while (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  auto digest = crypto::Digest(crypto::HashAlgorithm::kSha256, AsBytes(normalized));
  // SHA-256 of a short string cannot fail; fall back to the raw id to stay total.
  std::string key = digest.ok() ? HexEncode(*digest) : normalized;
  return TenantResourceId(tenant_id_) + "/managedidentities/" + key;
}

Status Directory::EnsureTenant(store::Transaction& txn) {
  std::string id = TenantResourceId(tenant_id_);
  BYOK_ASSIGN_OR_RETURN(auto existing, txn.Get(id));
  if (existing) return Status::Ok();
  store::Resource r;
  r.id = id;
  r.type = kTenantResourceType;
  r.body = {{"tenantId", tenant_id_}, {"displayName", "byok"}, {"tenantType", "AAD"}};
  BYOK_ASSIGN_OR_RETURN(auto created, txn.Create(std::move(r)));
  (void)created;
  return Status::Ok();
}

Result<Directory::NewSecret> Directory::MakeSecret() {
  NewSecret s;
  s.secret = GenerateClientSecret(random_);
  BYOK_ASSIGN_OR_RETURN(s.hash, HashClientSecret(s.secret, random_, options_.pbkdf2_iterations));
  return s;
}

Result<ServicePrincipalCredentials> Directory::InsertServicePrincipal(store::Transaction& txn,
                                                                      std::string_view display_name,
                                                                      NewSecret secret) {
  if (display_name.empty()) {
    return Status::InvalidArgument("a service principal needs a display name");
  }
  BYOK_TRY(EnsureTenant(txn));
  std::string object_id = random_.Uuid();
  std::string app_id = random_.Uuid();
  std::string key_id = random_.Uuid();
  json cred = {
      {"keyId", key_id}, {"startUnix", clock_.NowUnix()}, {"secretHash", secret.hash.ToJson()}};
  store::Resource doc;
  doc.id = PrincipalResourceId(tenant_id_, object_id);
  doc.type = kPrincipalResourceType;
  doc.parent_id = TenantResourceId(tenant_id_);
  doc.body = {{"objectId", object_id},
              {"appId", app_id},
              {"tenantId", tenant_id_},
              {"displayName", std::string(display_name)},
              {"kind", kKindServicePrincipal},
              {"resourceId", ""},
              {"servicePrincipalNames", json::array({app_id})},
              {"passwordCredentials", json::array({cred})}};
  BYOK_ASSIGN_OR_RETURN(auto created_doc, txn.Create(std::move(doc)));
  store::Resource index;
  index.id = AppIdIndexId(app_id);
  index.type = kAppIdIndexResourceType;
  index.parent_id = TenantResourceId(tenant_id_);
  index.body = {{"objectId", object_id}};
  BYOK_ASSIGN_OR_RETURN(auto created_index, txn.Create(std::move(index)));
  (void)created_doc;
  (void)created_index;
  ServicePrincipalCredentials out;
  out.app_id = app_id;
  out.password = std::move(secret.secret);
  out.tenant = tenant_id_;
  out.object_id = object_id;
  out.display_name = std::string(display_name);
  return out;
}

Result<ServicePrincipalCredentials> Directory::CreateServicePrincipal(
    std::string_view display_name) {
  if (display_name.empty()) {
    return Status::InvalidArgument("a service principal needs a display name");
  }
  // Hash before taking the write lock: PBKDF2 is deliberately slow.
  BYOK_ASSIGN_OR_RETURN(NewSecret secret, MakeSecret());
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.Begin());
  BYOK_ASSIGN_OR_RETURN(auto out, InsertServicePrincipal(*txn, display_name, std::move(secret)));
  BYOK_TRY(txn->Commit());
  return out;
}

Result<ServicePrincipalCredentials> Directory::CreateServicePrincipal(
    store::Transaction& txn, std::string_view display_name) {
  BYOK_ASSIGN_OR_RETURN(NewSecret secret, MakeSecret());
  return InsertServicePrincipal(txn, display_name, std::move(secret));
}

Result<std::optional<store::Resource>> Directory::GetPrincipalDoc(
    store::Transaction& txn, std::string_view app_or_object_id) {
  if (!IsGuid(app_or_object_id)) return std::optional<store::Resource>();
  BYOK_ASSIGN_OR_RETURN(auto by_oid, txn.Get(PrincipalResourceId(tenant_id_, app_or_object_id)));
  if (by_oid) return by_oid;
  return GetDocByAppId(txn, app_or_object_id);
}

Result<ServicePrincipalCredentials> Directory::ResetSecret(std::string_view app_or_object_id) {
  BYOK_ASSIGN_OR_RETURN(NewSecret secret, MakeSecret());
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.Begin());
  BYOK_ASSIGN_OR_RETURN(auto doc, GetPrincipalDoc(*txn, app_or_object_id));
  if (!doc) return Status::NotFound("no service principal '" + std::string(app_or_object_id) + "'");
  BYOK_ASSIGN_OR_RETURN(Principal p, PrincipalFromDoc(*doc));
  if (p.kind == PrincipalKind::kManagedIdentity) {
    return Status::FailedPrecondition("'" + p.object_id +
                                      "' is a managed identity; it has no client secret");
  }
  json cred = {{"keyId", random_.Uuid()},
               {"startUnix", clock_.NowUnix()},
               {"secretHash", secret.hash.ToJson()}};
  store::Resource updated = std::move(*doc);
  updated.body["passwordCredentials"] = json::array({cred});
  std::string etag = updated.etag;
  BYOK_ASSIGN_OR_RETURN(auto stored, txn->Put(std::move(updated), etag));
  (void)stored;
  BYOK_TRY(txn->Commit());
  ServicePrincipalCredentials out;
  out.app_id = p.app_id;
  out.password = std::move(secret.secret);
  out.tenant = tenant_id_;
  out.object_id = p.object_id;
  out.display_name = p.display_name;
  return out;
}

Status Directory::DeletePrincipal(std::string_view app_or_object_id) {
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.Begin());
  BYOK_ASSIGN_OR_RETURN(auto doc, GetPrincipalDoc(*txn, app_or_object_id));
  if (!doc) return Status::NotFound("no service principal '" + std::string(app_or_object_id) + "'");
  BYOK_ASSIGN_OR_RETURN(Principal p, PrincipalFromDoc(*doc));
  if (p.kind == PrincipalKind::kManagedIdentity) {
    return Status::FailedPrecondition("'" + p.object_id +
                                      "' is a managed identity; it is deleted with its resource '" +
                                      p.resource_id + "'");
  }
  BYOK_TRY(txn->Delete(doc->id));
  Status s = txn->Delete(AppIdIndexId(p.app_id));
  if (!s.ok() && !s.Is(StatusCode::kNotFound)) return s;
  return txn->Commit();
}

Result<Principal> Directory::VerifyClientSecret(std::string_view app_id, std::string_view secret) {
  std::optional<store::Resource> doc;
  {
    BYOK_ASSIGN_OR_RETURN(auto txn, store_.BeginRead());
    BYOK_ASSIGN_OR_RETURN(doc, GetDocByAppId(*txn, app_id));
  }
  if (!doc) return Status::NotFound("no application '" + std::string(app_id) + "'");
  BYOK_ASSIGN_OR_RETURN(Principal p, PrincipalFromDoc(*doc));
  auto creds = doc->body.find("passwordCredentials");
  bool match = false;
  if (creds != doc->body.end() && creds->is_array()) {
    // Check every credential (no early exit) so timing does not tell which one matched.
    for (const auto& c : *creds) {
      auto h = c.find("secretHash");
      if (h == c.end()) continue;
      auto hash = SecretHash::FromJson(*h);
      if (hash.ok() && VerifyClientSecretHash(*hash, secret)) match = true;
    }
  }
  if (!match) return Status::Unauthenticated("invalid client secret");
  return p;
}

Result<Principal> Directory::FindByObjectId(std::string_view object_id) {
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.BeginRead());
  return FindByObjectId(*txn, object_id);
}

Result<Principal> Directory::FindByObjectId(store::Transaction& txn, std::string_view object_id) {
  auto not_found = [&] {
    return Status::NotFound("no principal '" + std::string(object_id) + "'");
  };
  if (!IsGuid(object_id)) return not_found();
  BYOK_ASSIGN_OR_RETURN(auto doc, txn.Get(PrincipalResourceId(tenant_id_, object_id)));
  if (!doc) return not_found();
  return PrincipalFromDoc(*doc);
}

Result<Principal> Directory::FindByAppId(std::string_view app_id) {
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.BeginRead());
  return FindByAppId(*txn, app_id);
}

Result<Principal> Directory::FindByAppId(store::Transaction& txn, std::string_view app_id) {
  BYOK_ASSIGN_OR_RETURN(auto doc, GetDocByAppId(txn, app_id));
  if (!doc) return Status::NotFound("no application '" + std::string(app_id) + "'");
  return PrincipalFromDoc(*doc);
}

Result<std::optional<store::Resource>> Directory::GetDocByAppId(store::Transaction& txn,
                                                                std::string_view app_id) {
  if (!IsGuid(app_id)) return std::optional<store::Resource>();
  BYOK_ASSIGN_OR_RETURN(auto index, txn.Get(AppIdIndexId(app_id)));
  if (!index) return std::optional<store::Resource>();
  std::string oid = StringField(index->body, "objectId");
  if (!IsGuid(oid)) return Status::DataLoss("malformed appId index " + index->id);
  return txn.Get(PrincipalResourceId(tenant_id_, oid));
}

Result<PrincipalInfo> Directory::Describe(std::string_view object_id) {
  if (!IsGuid(object_id)) return Status::NotFound("no principal '" + std::string(object_id) + "'");
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.BeginRead());
  BYOK_ASSIGN_OR_RETURN(auto doc, txn->Get(PrincipalResourceId(tenant_id_, object_id)));
  if (!doc) return Status::NotFound("no principal '" + std::string(object_id) + "'");
  BYOK_ASSIGN_OR_RETURN(Principal p, PrincipalFromDoc(*doc));
  return InfoFromDoc(*doc, std::move(p));
}

Result<std::vector<PrincipalInfo>> Directory::ListPrincipals() {
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.BeginRead());
  BYOK_ASSIGN_OR_RETURN(auto docs, txn->ListChildren(TenantResourceId(tenant_id_),
                                                     std::string(kPrincipalResourceType)));
  std::vector<PrincipalInfo> out;
  out.reserve(docs.size());
  for (const auto& doc : docs) {
    BYOK_ASSIGN_OR_RETURN(Principal p, PrincipalFromDoc(doc));
    out.push_back(InfoFromDoc(doc, std::move(p)));
  }
  return out;
}

Result<Principal> Directory::CreateManagedIdentity(std::string_view resource_id) {
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.Begin());
  BYOK_ASSIGN_OR_RETURN(Principal p, CreateManagedIdentity(*txn, resource_id));
  BYOK_TRY(txn->Commit());
  return p;
}

Result<Principal> Directory::CreateManagedIdentity(store::Transaction& txn,
                                                   std::string_view resource_id) {
  if (resource_id.empty() || resource_id.front() != '/') {
    return Status::InvalidArgument("a managed identity needs a resource id");
  }
  auto existing = FindManagedIdentity(txn, resource_id);
  if (existing.ok()) return existing;
  if (!existing.status().Is(StatusCode::kNotFound)) return existing.status();
  BYOK_TRY(EnsureTenant(txn));
  Principal p;
  p.object_id = random_.Uuid();
  p.app_id = random_.Uuid();
  p.tenant_id = tenant_id_;
  p.display_name = ResourceName(resource_id);
  p.kind = PrincipalKind::kManagedIdentity;
  p.resource_id = std::string(resource_id);
  store::Resource doc;
  doc.id = PrincipalResourceId(tenant_id_, p.object_id);
  doc.type = kPrincipalResourceType;
  doc.parent_id = TenantResourceId(tenant_id_);
  doc.body = {{"objectId", p.object_id},
              {"appId", p.app_id},
              {"tenantId", tenant_id_},
              {"displayName", p.display_name},
              {"kind", kKindManagedIdentity},
              {"resourceId", p.resource_id},
              {"servicePrincipalNames", json::array({p.app_id})},
              {"passwordCredentials", json::array()}};
  BYOK_ASSIGN_OR_RETURN(auto created_doc, txn.Create(std::move(doc)));
  store::Resource app_index;
  app_index.id = AppIdIndexId(p.app_id);
  app_index.type = kAppIdIndexResourceType;
  app_index.parent_id = TenantResourceId(tenant_id_);
  app_index.body = {{"objectId", p.object_id}};
  BYOK_ASSIGN_OR_RETURN(auto created_app_index, txn.Create(std::move(app_index)));
  store::Resource mi_index;
  mi_index.id = ManagedIdentityIndexId(resource_id);
  mi_index.type = kManagedIdentityIndexResourceType;
  mi_index.parent_id = TenantResourceId(tenant_id_);
  mi_index.body = {{"objectId", p.object_id}, {"resourceId", p.resource_id}};
  BYOK_ASSIGN_OR_RETURN(auto created_mi_index, txn.Create(std::move(mi_index)));
  (void)created_doc;
  (void)created_app_index;
  (void)created_mi_index;
  return p;
}

Result<Principal> Directory::FindManagedIdentity(std::string_view resource_id) {
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.BeginRead());
  return FindManagedIdentity(*txn, resource_id);
}

Result<Principal> Directory::FindManagedIdentity(store::Transaction& txn,
                                                 std::string_view resource_id) {
  auto not_found = [&] {
    return Status::NotFound("resource '" + std::string(resource_id) + "' has no managed identity");
  };
  BYOK_ASSIGN_OR_RETURN(auto index, txn.Get(ManagedIdentityIndexId(resource_id)));
  if (!index) return not_found();
  std::string oid = StringField(index->body, "objectId");
  if (!IsGuid(oid)) return Status::DataLoss("malformed managed identity index " + index->id);
  BYOK_ASSIGN_OR_RETURN(auto doc, txn.Get(PrincipalResourceId(tenant_id_, oid)));
  if (!doc) return not_found();
  return PrincipalFromDoc(*doc);
}

Status Directory::DeleteManagedIdentity(std::string_view resource_id) {
  BYOK_ASSIGN_OR_RETURN(auto txn, store_.Begin());
  BYOK_TRY(DeleteManagedIdentity(*txn, resource_id));
  return txn->Commit();
}

Status Directory::DeleteManagedIdentity(store::Transaction& txn, std::string_view resource_id) {
  std::string index_id = ManagedIdentityIndexId(resource_id);
  BYOK_ASSIGN_OR_RETURN(auto index, txn.Get(index_id));
  if (!index) return Status::Ok();
  std::string oid = StringField(index->body, "objectId");
  if (IsGuid(oid)) {
    BYOK_ASSIGN_OR_RETURN(auto doc, txn.Get(PrincipalResourceId(tenant_id_, oid)));
    if (doc) {
      std::string app_id = StringField(doc->body, "appId");
      BYOK_TRY(txn.Delete(doc->id));
      if (IsGuid(app_id)) {
        Status s = txn.Delete(AppIdIndexId(app_id));
        if (!s.ok() && !s.Is(StatusCode::kNotFound)) return s;
      }
    }
  }
  return txn.Delete(index_id);
}

}  // namespace byok::identity
