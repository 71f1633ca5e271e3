#include "keyvault/key_store.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "common/encoding.h"
#include "crypto/jwk.h"
#include "crypto/keys.h"
#include "crypto/rsa.h"
#include "crypto/sign.h"
#include "http/message.h"
#include "keyvault/backup.h"
#include "keyvault/rotation_policy.h"

namespace byok::keyvault {

namespace e = errors;
using nlohmann::json;

namespace {

constexpr int64_t kDay = 86400;
constexpr size_t kListBatch = 200;
constexpr size_t kMaxTags = 15;

KvError Internal(const Status& s, std::string_view what) {
  spdlog::error("keyvault: {}: {}", what, s.ToString());
  return MakeKvError(e::kInternalError);
}

int64_t UnixOf(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string LastSegment(std::string_view id) {
  size_t slash = id.rfind('/');
  return std::string(slash == std::string_view::npos ? id : id.substr(slash + 1));
}

// "/byok/keyvault/vaults/{guid}/keys/{name}" → guid.
std::string GuidOfKeyId(std::string_view id) {
  constexpr std::string_view kPrefix = "/byok/keyvault/vaults/";
  if (id.size() <= kPrefix.size()) return "";
  std::string_view rest = id.substr(kPrefix.size());
  return std::string(rest.substr(0, rest.find('/')));
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string NameOrVersion(std::string_view name, std::string_view version) {
  return version.empty() ? std::string(name) : fmt::format("{}/{}", name, version);
}

// ---- Request body parsing ----

// A required string member.
KvResult<std::string> RequiredString(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return MakeKvError(e::kPropertyRequired, name);
  if (!it->is_string()) return MakeKvError(e::kInvalidProperty, name, "expected a string");
  return it->get<std::string>();
}

// A required base64url member, decoded.
KvResult<std::vector<uint8_t>> RequiredBytes(const json& body, const char* name) {
  KvResult<std::string> s = RequiredString(body, name);
  if (!s.ok()) return s.error();
  Result<std::vector<uint8_t>> bytes = Base64UrlDecode(*s);
  if (!bytes.ok()) return MakeKvError(e::kInvalidProperty, name, "not base64url");
  return std::move(bytes).value();
}

std::optional<KvError> ApplyAttributes(const json& body, KeyAttributes* a) {
  auto it = body.find("attributes");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return MakeKvError(e::kInvalidProperty, "attributes", "expected an object");
  if (auto en = it->find("enabled"); en != it->end() && !en->is_null()) {
    if (!en->is_boolean()) {
      return MakeKvError(e::kInvalidProperty, "attributes.enabled", "expected a boolean");
    }
    a->enabled = en->get<bool>();
  }
  for (const char* field : {"nbf", "exp"}) {
    auto f = it->find(field);
    if (f == it->end()) continue;
    std::optional<int64_t>& target = std::string_view(field) == "nbf" ? a->nbf : a->exp;
    if (f->is_null()) {
      target.reset();
    } else if (f->is_number()) {
      target = f->is_number_integer() ? f->get<int64_t>() : static_cast<int64_t>(f->get<double>());
    } else {
      return MakeKvError(e::kInvalidProperty, fmt::format("attributes.{}", field),
                         "expected a Unix time in seconds");
    }
  }
  return std::nullopt;
}

// nullopt when absent; the tags object otherwise.
KvResult<std::optional<json>> ParseTags(const json& body) {
  auto it = body.find("tags");
  if (it == body.end() || it->is_null()) return std::optional<json>();
  if (!it->is_object()) return MakeKvError(e::kInvalidProperty, "tags", "expected an object");
  if (it->size() > kMaxTags) {
    return MakeKvError(e::kInvalidProperty, "tags", "at most 15 tags are allowed");
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string() || k.size() > 512 || v.get_ref<const std::string&>().size() > 256) {
      return MakeKvError(e::kInvalidProperty, "tags",
                         "tag names (up to 512 characters) map to strings (up to 256)");
    }
  }
  return std::optional<json>(*it);
}

// nullopt when absent; the canonical operation names otherwise.
KvResult<std::optional<std::vector<std::string>>> ParseKeyOps(const json& holder,
                                                              std::string_view kty) {
  auto it = holder.find("key_ops");
  if (it == holder.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  if (!it->is_array()) return MakeKvError(e::kInvalidProperty, "key_ops", "expected an array");
  std::vector<std::string> allowed = AllowedKeyOps(kty);
  std::vector<std::string> out;
  for (const json& op : *it) {
    if (!op.is_string()) return MakeKvError(e::kInvalidProperty, "key_ops", "expected strings");
    const std::string& s = op.get_ref<const std::string&>();
    auto match = std::find_if(allowed.begin(), allowed.end(),
                              [&](const std::string& a) { return http::EqualsIgnoreCase(a, s); });
    if (match == allowed.end()) {
      return MakeKvError(e::kInvalidKeyOperation, TruncateForError(s), kty);
    }
    if (!Contains(out, *match)) out.push_back(*match);
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

// "RSA", "RSA-HSM", "EC", "EC-HSM" from any case; nullopt for anything else.
std::optional<std::string> CanonicalKty(std::string_view kty) {
  for (std::string_view k : {"RSA", "RSA-HSM", "EC", "EC-HSM"}) {
    if (http::EqualsIgnoreCase(k, kty)) return std::string(k);
  }
  return std::nullopt;
}

bool IsHsm(std::string_view kty) { return kty.size() > 4 && kty.substr(kty.size() - 4) == "-HSM"; }

std::optional<KvError> CheckSkuAllows(const VaultRecord& vault, std::string_view kty) {
  if (IsHsm(kty) && !http::EqualsIgnoreCase(vault.sku, "premium")) {
    return MakeKvError(e::kHsmRequiresPremium, kty, vault.sku);
  }
  return std::nullopt;
}

// The public JWK members without kty.
Result<json> PublicMembers(const crypto::PublicKey& pub) {
  BYOK_ASSIGN_OR_RETURN(json jwk, crypto::PublicKeyToJwk(pub));
  jwk.erase("kty");
  return jwk;
}

KvResult<std::optional<KeyDoc>> ReadKeyDoc(store::Transaction& txn, std::string_view guid,
                                           std::string_view name) {
  auto r = txn.Get(KeyResourceId(guid, name));
  if (!r.ok()) return Internal(r.status(), "read key");
  if (!r->has_value()) return std::optional<KeyDoc>();
  auto d = KeyDoc::FromJson((*r)->body);
  if (!d.ok()) return Internal(d.status(), "parse key");
  return std::optional<KeyDoc>(std::move(d).value());
}

// The soft-deleted key `name`, or DeletedKeyNotFound (no such key, or it is not deleted).
KvResult<KeyDoc> ReadDeletedKeyDoc(store::Transaction& txn, std::string_view guid,
                                   std::string_view name) {
  auto key = ReadKeyDoc(txn, guid, name);
  if (!key.ok()) return key.error();
  if (!key->has_value() || !(*key)->deleted) {
    return MakeKvError(e::kDeletedKeyNotFound, TruncateForError(name));
  }
  return std::move(**key);
}

KvResult<std::optional<VersionDoc>> ReadVersionDoc(store::Transaction& txn, std::string_view guid,
                                                   std::string_view name,
                                                   std::string_view version) {
  if (!IsValidVersion(version)) return std::optional<VersionDoc>();
  auto r = txn.Get(VersionResourceId(guid, name, version));
  if (!r.ok()) return Internal(r.status(), "read key version");
  if (!r->has_value()) return std::optional<VersionDoc>();
  auto d = VersionDoc::FromJson(ToLower(version), (*r)->body);
  if (!d.ok()) return Internal(d.status(), "parse key version");
  return std::optional<VersionDoc>(std::move(d).value());
}

store::Resource KeyResource(const VaultRecord& vault, const KeyDoc& key) {
  store::Resource r;
  r.id = KeyResourceId(vault.guid, key.name);
  r.type = std::string(kKeyType);
  r.parent_id = VaultDataPrefix(vault.guid);
  r.body = key.ToJson();
  return r;
}

store::Resource VersionResource(const VaultRecord& vault, const KeyDoc& key, const VersionDoc& v) {
  store::Resource r;
  r.id = VersionResourceId(vault.guid, key.name, v.version);
  r.type = std::string(kKeyVersionType);
  r.parent_id = KeyResourceId(vault.guid, key.name);
  r.body = v.ToJson(vault);
  return r;
}

// One page of the children of `parent` (of `type`) that `keep` accepts. id_prefix + token is the
// id a page token stands for.
template <typename Keep>
KvResult<std::pair<std::vector<store::Resource>, std::optional<std::string>>> Page(
    store::Transaction& txn, const std::string& parent, std::string_view type,
    const std::string& id_prefix, const PageRequest& page, Keep keep) {
  std::vector<store::Resource> out;
  std::string after = page.after.empty() ? std::string() : id_prefix + page.after;
  const size_t max = static_cast<size_t>(std::max(1, page.max_results));
  bool more = false;
  while (!more) {
    store::ListOptions lo;
    lo.limit = kListBatch;
    lo.after = after;
    auto batch = txn.ListChildren(parent, std::string(type), lo);
    if (!batch.ok()) return Internal(batch.status(), "list");
    for (store::Resource& r : *batch) {
      if (!keep(r)) continue;
      if (out.size() == max) {
        more = true;
        break;
      }
      out.push_back(std::move(r));
    }
    if (batch->size() < kListBatch) break;
    after = batch->back().id;
  }
  std::optional<std::string> next;
  if (more) next = LastSegment(out.back().id);
  return std::make_pair(std::move(out), std::move(next));
}

}  // namespace

std::string_view CryptoOpName(CryptoOp op) {
  switch (op) {
    case CryptoOp::kEncrypt:
      return "encrypt";
    case CryptoOp::kDecrypt:
      return "decrypt";
    case CryptoOp::kWrapKey:
      return "wrapKey";
    case CryptoOp::kUnwrapKey:
      return "unwrapKey";
    case CryptoOp::kSign:
      return "sign";
    case CryptoOp::kVerify:
      return "verify";
  }
  return "unknown";
}

struct KeyStore::NewVersion {
  VersionDoc doc;
  SecretBytes der;
  std::shared_ptr<const CachedKey> key;
};

struct KeyStore::Loaded {
  KeyDoc key;
  VersionDoc version;
};

struct KeyStore::CryptoTarget {
  Loaded loaded;
  std::shared_ptr<const CachedKey> material;
};

KeyStore::KeyStore(store::Store& store, const Clock& clock, Random& random, SecretBytes backup_key)
    : store_(store), clock_(clock), random_(random), backup_key_(std::move(backup_key)) {}

// ---- Creating versions ----

namespace {

KvResult<std::shared_ptr<const CachedKey>> Wrap(crypto::PrivateKey key) {
  auto cached = std::make_shared<CachedKey>(CachedKey{key.Clone(), key.Public()});
  return std::shared_ptr<const CachedKey>(std::move(cached));
}

}  // namespace

KvResult<KeyStore::NewVersion> KeyStore::GenerateMaterial(const VaultRecord& vault,
                                                          const json& body) {
  if (!body.is_object()) return MakeKvError(e::kInvalidBody, "expected a JSON object");
  KvResult<std::string> kty_in = RequiredString(body, "kty");
  if (!kty_in.ok()) return kty_in.error();
  std::optional<std::string> kty = CanonicalKty(*kty_in);
  if (!kty) return MakeKvError(e::kUnsupportedKeyType, TruncateForError(*kty_in));
  if (auto err = CheckSkuAllows(vault, *kty)) return *err;

  Result<crypto::PrivateKey> key = Status::Internal("unset");
  if (IsRsa(*kty)) {
    int bits = 2048;
    if (auto ks = body.find("key_size"); ks != body.end() && !ks->is_null()) {
      if (!ks->is_number_integer()) return MakeKvError(e::kInvalidKeySize, ks->dump());
      bits = ks->get<int>();
      if (bits != 2048 && bits != 3072 && bits != 4096)
        return MakeKvError(e::kInvalidKeySize, bits);
    }
    if (auto pe = body.find("public_exponent"); pe != body.end() && !pe->is_null()) {
      if (!pe->is_number_integer() || pe->get<int64_t>() != 65537) {
        return MakeKvError(e::kInvalidProperty, "public_exponent", "only 65537 is supported");
      }
    }
    key = crypto::GenerateRsaKey(bits);
  } else {
    std::string crv = "P-256";
    if (auto c = body.find("crv"); c != body.end() && !c->is_null()) {
      if (!c->is_string()) return MakeKvError(e::kUnsupportedCurve, c->dump());
      crv = c->get<std::string>();
    }
    Result<crypto::Curve> curve = crypto::ParseCurve(crv);
    if (!curve.ok()) return MakeKvError(e::kUnsupportedCurve, TruncateForError(crv));
    key = crypto::GenerateEcKey(*curve);
  }
  if (!key.ok()) return Internal(key.status(), "generate key");

  NewVersion nv;
  nv.doc.kty = *kty;
  auto ops = ParseKeyOps(body, *kty);
  if (!ops.ok()) return ops.error();
  nv.doc.key_ops = ops->value_or(DefaultKeyOps(*kty));
  if (auto err = ApplyAttributes(body, &nv.doc.attributes)) return *err;
  auto tags = ParseTags(body);
  if (!tags.ok()) return tags.error();
  nv.doc.tags = tags->value_or(json::object());
  auto members = PublicMembers(key->Public());
  if (!members.ok()) return Internal(members.status(), "export public key");
  nv.doc.jwk = std::move(members).value();
  auto der = PrivateKeyToDer(*key);
  if (!der.ok()) return Internal(der.status(), "encode key");
  nv.der = std::move(der).value();
  auto cached = Wrap(std::move(key).value());
  nv.key = std::move(cached).value();
  return nv;
}

KvResult<KeyStore::NewVersion> KeyStore::ImportMaterial(const VaultRecord& vault,
                                                        const json& body) {
  if (!body.is_object()) return MakeKvError(e::kInvalidBody, "expected a JSON object");
  auto jwk = body.find("key");
  if (jwk == body.end() || jwk->is_null()) return MakeKvError(e::kPropertyRequired, "key");
  if (!jwk->is_object()) return MakeKvError(e::kInvalidProperty, "key", "expected a JSON Web Key");
  KvResult<std::string> kty_in = RequiredString(*jwk, "kty");
  if (!kty_in.ok()) return kty_in.error();
  std::optional<std::string> kty = CanonicalKty(*kty_in);
  if (!kty) return MakeKvError(e::kUnsupportedKeyType, TruncateForError(*kty_in));
  bool hsm = IsHsm(*kty);
  if (auto h = body.find("Hsm"); h != body.end() && !h->is_null()) {
    if (!h->is_boolean()) return MakeKvError(e::kInvalidProperty, "Hsm", "expected a boolean");
    hsm = hsm || h->get<bool>();
  }
  std::string base_kty = IsRsa(*kty) ? "RSA" : "EC";
  std::string final_kty = hsm ? base_kty + "-HSM" : base_kty;
  if (auto err = CheckSkuAllows(vault, final_kty)) return *err;
  if (!jwk->contains("d")) {
    return MakeKvError(e::kInvalidImportKey, "the JSON Web Key has no private key material (d)");
  }
  Result<crypto::PrivateKey> key = crypto::PrivateKeyFromJwk(*jwk);
  if (!key.ok()) return MakeKvError(e::kInvalidImportKey, key.status().message());

  NewVersion nv;
  nv.doc.kty = final_kty;
  auto ops = ParseKeyOps(*jwk, final_kty);
  if (!ops.ok()) return ops.error();
  nv.doc.key_ops = ops->value_or(DefaultKeyOps(final_kty));
  if (auto err = ApplyAttributes(body, &nv.doc.attributes)) return *err;
  auto tags = ParseTags(body);
  if (!tags.ok()) return tags.error();
  nv.doc.tags = tags->value_or(json::object());
  auto members = PublicMembers(key->Public());
  if (!members.ok()) return Internal(members.status(), "export public key");
  nv.doc.jwk = std::move(members).value();
  auto der = PrivateKeyToDer(*key);
  if (!der.ok()) return Internal(der.status(), "encode key");
  nv.der = std::move(der).value();
  nv.key = Wrap(std::move(key).value()).value();
  return nv;
}

KvResult<KeyStore::NewVersion> KeyStore::RotationMaterial(const VaultRecord& vault,
                                                          const Loaded& current, int64_t now) {
  const VersionDoc& cur = current.version;
  Result<crypto::PrivateKey> key = Status::Internal("unset");
  if (IsRsa(cur.kty)) {
    Result<std::vector<uint8_t>> n = Base64UrlDecode(cur.jwk.value("n", ""));
    if (!n.ok() || n->empty()) return Internal(Status::DataLoss("bad modulus"), "rotate");
    key = crypto::GenerateRsaKey(static_cast<int>(n->size() * 8));
  } else {
    Result<crypto::Curve> curve = crypto::ParseCurve(cur.jwk.value("crv", ""));
    if (!curve.ok()) return Internal(curve.status(), "rotate");
    key = crypto::GenerateEcKey(*curve);
  }
  if (!key.ok()) return Internal(key.status(), "generate key");
  if (auto err = CheckSkuAllows(vault, cur.kty)) return *err;
  NewVersion nv;
  nv.doc.kty = cur.kty;
  nv.doc.key_ops = cur.key_ops;
  nv.doc.tags = cur.tags.is_object() ? cur.tags : json::object();
  if (std::optional<int64_t> expiry = PolicyExpirySeconds(current.key.rotation_policy)) {
    nv.doc.attributes.exp = now + *expiry;
  }
  auto members = PublicMembers(key->Public());
  if (!members.ok()) return Internal(members.status(), "export public key");
  nv.doc.jwk = std::move(members).value();
  auto der = PrivateKeyToDer(*key);
  if (!der.ok()) return Internal(der.status(), "encode key");
  nv.der = std::move(der).value();
  nv.key = Wrap(std::move(key).value()).value();
  return nv;
}

KvResult<KvResponse> KeyStore::StoreNewVersion(const VaultRecord& vault, std::string_view base,
                                               std::string_view name, NewVersion nv,
                                               std::optional<std::string> expect_current,
                                               int64_t now) {
  auto txn = store_.Begin();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto existing = ReadKeyDoc(**txn, vault.guid, name);
  if (!existing.ok()) return existing.error();
  if (existing->has_value() && (*existing)->deleted) {
    return MakeKvError(e::kObjectIsDeletedButRecoverable, (*existing)->name);
  }
  if (expect_current &&
      (!existing->has_value() || (*existing)->current_version != *expect_current)) {
    return MakeKvError(e::kKeyNotFound, NameOrVersion(name, *expect_current));
  }
  KeyDoc key;
  if (existing->has_value()) {
    key = std::move(**existing);
  } else {
    key.name = std::string(name);
    key.rotation_policy = nullptr;
  }
  key.vault = vault.name;
  nv.doc.version = NewVersionId(random_);
  nv.doc.attributes.created = now;
  nv.doc.attributes.updated = now;
  nv.doc.created_seq = key.next_seq++;
  key.current_version = nv.doc.version;

  auto put_v = (*txn)->Put(VersionResource(vault, key, nv.doc));
  if (!put_v.ok()) return Internal(put_v.status(), "write key version");
  Status s = (*txn)->PutSecret(KeySecretName(vault.guid, name, nv.doc.version), nv.der.span());
  if (!s.ok()) return Internal(s, "write key material");
  auto put_k = (*txn)->Put(KeyResource(vault, key));
  if (!put_k.ok()) return Internal(put_k.status(), "write key");
  s = (*txn)->Commit();
  if (!s.ok()) return Internal(s, "commit");
  cache_.Insert(fmt::format("{}/{}/{}", vault.guid, ToLower(name), nv.doc.version), nv.key);
  KvResponse resp;
  resp.body = RenderKeyBundle(base, key, nv.doc, vault);
  resp.version = nv.doc.version;
  return resp;
}

KvResult<KvResponse> KeyStore::CreateKey(const VaultRecord& vault, std::string_view base,
                                         std::string_view name, const json& body) {
  if (!IsValidKeyName(name)) return MakeKvError(e::kInvalidName, TruncateForError(name));
  auto nv = GenerateMaterial(vault, body);
  if (!nv.ok()) return nv.error();
  return StoreNewVersion(vault, base, name, std::move(nv).value(), std::nullopt, clock_.NowUnix());
}

KvResult<KvResponse> KeyStore::ImportKey(const VaultRecord& vault, std::string_view base,
                                         std::string_view name, const json& body) {
  if (!IsValidKeyName(name)) return MakeKvError(e::kInvalidName, TruncateForError(name));
  auto nv = ImportMaterial(vault, body);
  if (!nv.ok()) return nv.error();
  return StoreNewVersion(vault, base, name, std::move(nv).value(), std::nullopt, clock_.NowUnix());
}

// ---- Reading ----

KvResult<KeyStore::Loaded> KeyStore::LoadLive(store::Transaction& txn, const VaultRecord& vault,
                                              std::string_view name, std::string_view version) {
  if (!IsValidKeyName(name)) return MakeKvError(e::kInvalidName, TruncateForError(name));
  auto key = ReadKeyDoc(txn, vault.guid, name);
  if (!key.ok()) return key.error();
  if (!key->has_value() || (*key)->deleted) {
    return MakeKvError(e::kKeyNotFound, TruncateForError(NameOrVersion(name, version)));
  }
  std::string_view ver = version.empty() ? std::string_view((*key)->current_version) : version;
  auto v = ReadVersionDoc(txn, vault.guid, name, ver);
  if (!v.ok()) return v.error();
  if (!v->has_value()) {
    return MakeKvError(e::kKeyNotFound, TruncateForError(NameOrVersion(name, version)));
  }
  return Loaded{std::move(**key), std::move(**v)};
}

KvResult<std::shared_ptr<const CachedKey>> KeyStore::Material(store::Transaction& txn,
                                                              std::string_view guid,
                                                              std::string_view name,
                                                              std::string_view version) {
  std::string id = fmt::format("{}/{}/{}", guid, ToLower(name), ToLower(version));
  if (auto hit = cache_.Find(id)) return hit;
  auto der = txn.GetSecret(KeySecretName(guid, name, version));
  if (!der.ok()) return Internal(der.status(), "read key material");
  auto key = PrivateKeyFromDer(der->span());
  if (!key.ok()) return Internal(key.status(), "parse key material");
  auto cached = Wrap(std::move(key).value());
  cache_.Insert(id, cached.value());
  return cached;
}

KvResult<KvResponse> KeyStore::GetKey(const VaultRecord& vault, std::string_view base,
                                      std::string_view name, std::string_view version) {
  auto txn = store_.BeginRead();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto loaded = LoadLive(**txn, vault, name, version);
  if (!loaded.ok()) return loaded.error();
  if (!loaded->version.attributes.enabled) return MakeKvError(e::kKeyDisabled, "get");
  KvResponse resp;
  resp.body = RenderKeyBundle(base, loaded->key, loaded->version, vault);
  resp.version = loaded->version.version;
  return resp;
}

KvResult<KvResponse> KeyStore::ListKeys(const VaultRecord& vault, std::string_view base,
                                        const PageRequest& page) {
  return ListCurrentVersions(vault, base, page, /*deleted=*/false);
}

KvResult<KvResponse> KeyStore::ListVersions(const VaultRecord& vault, std::string_view base,
                                            std::string_view name, const PageRequest& page) {
  auto txn = store_.BeginRead();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto loaded = LoadLive(**txn, vault, name, "");
  if (!loaded.ok()) return loaded.error();
  std::string parent = KeyResourceId(vault.guid, name);
  auto page_r = Page(**txn, parent, kKeyVersionType, parent + "/versions/", page,
                     [](const store::Resource&) { return true; });
  if (!page_r.ok()) return page_r.error();
  json value = json::array();
  for (const store::Resource& r : page_r->first) {
    auto v = VersionDoc::FromJson(LastSegment(r.id), r.body);
    if (!v.ok()) return Internal(v.status(), "parse key version");
    value.push_back(RenderKeyItem(base, loaded->key, *v, vault, true));
  }
  KvResponse resp;
  resp.body = {{"value", std::move(value)}};
  resp.next_token = page_r->second;
  return resp;
}

KvResult<KvResponse> KeyStore::UpdateKey(const VaultRecord& vault, std::string_view base,
                                         std::string_view name, std::string_view version,
                                         const json& body) {
  if (!body.is_object()) return MakeKvError(e::kInvalidBody, "expected a JSON object");
  auto txn = store_.Begin();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto loaded = LoadLive(**txn, vault, name, version);
  if (!loaded.ok()) return loaded.error();
  VersionDoc& v = loaded->version;
  auto ops = ParseKeyOps(body, v.kty);
  if (!ops.ok()) return ops.error();
  if (ops->has_value()) v.key_ops = **ops;
  if (auto err = ApplyAttributes(body, &v.attributes)) return *err;
  auto tags = ParseTags(body);
  if (!tags.ok()) return tags.error();
  if (tags->has_value()) v.tags = **tags;
  v.attributes.updated = clock_.NowUnix();
  auto put = (*txn)->Put(VersionResource(vault, loaded->key, v));
  if (!put.ok()) return Internal(put.status(), "write key version");
  Status s = (*txn)->Commit();
  if (!s.ok()) return Internal(s, "commit");
  KvResponse resp;
  resp.body = RenderKeyBundle(base, loaded->key, v, vault);
  resp.version = v.version;
  return resp;
}

// ---- Soft delete, recover, purge ----

KvResult<KvResponse> KeyStore::DeleteKey(const VaultRecord& vault, std::string_view base,
                                         std::string_view name) {
  auto txn = store_.Begin();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto loaded = LoadLive(**txn, vault, name, "");
  if (!loaded.ok()) return loaded.error();
  int64_t now = clock_.NowUnix();
  KeyDoc& key = loaded->key;
  key.deleted = DeletedInfo{now, now + int64_t{vault.soft_delete_retention_days} * kDay,
                            RecoveryIdOf(base, key.name)};
  auto put = (*txn)->Put(KeyResource(vault, key));
  if (!put.ok()) return Internal(put.status(), "write key");
  Status s = (*txn)->Commit();
  if (!s.ok()) return Internal(s, "commit");
  KvResponse resp;
  resp.body = RenderDeletedKey(base, key, loaded->version, vault, false);
  resp.version = loaded->version.version;
  return resp;
}

KvResult<KvResponse> KeyStore::GetDeletedKey(const VaultRecord& vault, std::string_view base,
                                             std::string_view name) {
  if (!IsValidKeyName(name)) return MakeKvError(e::kInvalidName, TruncateForError(name));
  auto txn = store_.BeginRead();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto key = ReadDeletedKeyDoc(**txn, vault.guid, name);
  if (!key.ok()) return key.error();
  auto v = ReadVersionDoc(**txn, vault.guid, name, key->current_version);
  if (!v.ok()) return v.error();
  if (!v->has_value()) return Internal(Status::DataLoss("current version missing"), "get deleted");
  KvResponse resp;
  resp.body = RenderDeletedKey(base, *key, **v, vault, false);
  resp.version = (*v)->version;
  return resp;
}

KvResult<KvResponse> KeyStore::ListDeletedKeys(const VaultRecord& vault, std::string_view base,
                                               const PageRequest& page) {
  return ListCurrentVersions(vault, base, page, /*deleted=*/true);
}

// One page of the vault's live (deleted = false: KeyItems) or soft-deleted (DeletedKeyItems) keys,
// each rendered from its current version.
KvResult<KvResponse> KeyStore::ListCurrentVersions(const VaultRecord& vault, std::string_view base,
                                                   const PageRequest& page, bool deleted) {
  auto txn = store_.BeginRead();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  std::string parent = VaultDataPrefix(vault.guid);
  auto keep = [deleted](const store::Resource& r) {
    auto d = KeyDoc::FromJson(r.body);
    return d.ok() && d->deleted.has_value() == deleted;
  };
  auto page_r = Page(**txn, parent, kKeyType, parent + "/keys/", page, keep);
  if (!page_r.ok()) return page_r.error();
  json value = json::array();
  for (const store::Resource& r : page_r->first) {
    auto key = KeyDoc::FromJson(r.body);
    if (!key.ok()) continue;
    auto v = ReadVersionDoc(**txn, vault.guid, key->name, key->current_version);
    if (!v.ok()) return v.error();
    if (!v->has_value()) continue;
    value.push_back(deleted ? RenderDeletedKey(base, *key, **v, vault, true)
                            : RenderKeyItem(base, *key, **v, vault, false));
  }
  KvResponse resp;
  resp.body = {{"value", std::move(value)}};
  resp.next_token = page_r->second;
  return resp;
}

KvResult<KvResponse> KeyStore::RecoverDeletedKey(const VaultRecord& vault, std::string_view base,
                                                 std::string_view name) {
  if (!IsValidKeyName(name)) return MakeKvError(e::kInvalidName, TruncateForError(name));
  auto txn = store_.Begin();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto key = ReadDeletedKeyDoc(**txn, vault.guid, name);
  if (!key.ok()) return key.error();
  KeyDoc k = std::move(key).value();
  k.deleted.reset();
  auto v = ReadVersionDoc(**txn, vault.guid, name, k.current_version);
  if (!v.ok()) return v.error();
  if (!v->has_value()) return Internal(Status::DataLoss("current version missing"), "recover");
  auto put = (*txn)->Put(KeyResource(vault, k));
  if (!put.ok()) return Internal(put.status(), "write key");
  Status s = (*txn)->Commit();
  if (!s.ok()) return Internal(s, "commit");
  KvResponse resp;
  resp.body = RenderKeyBundle(base, k, **v, vault);
  resp.version = (*v)->version;
  return resp;
}

Status KeyStore::PurgeKeyData(store::Transaction& txn, std::string_view guid,
                              std::string_view name) {
  BYOK_ASSIGN_OR_RETURN(int removed, txn.DeleteByPrefix(KeyResourceId(guid, name)));
  (void)removed;
  BYOK_ASSIGN_OR_RETURN(std::vector<std::string> secrets,
                        txn.ListSecrets(KeySecretPrefix(guid, name)));
  for (const std::string& s : secrets) BYOK_TRY(txn.DeleteSecret(s));
  return Status::Ok();
}

KvResult<KvResponse> KeyStore::PurgeDeletedKey(const VaultRecord& vault, std::string_view name) {
  if (!IsValidKeyName(name)) return MakeKvError(e::kInvalidName, TruncateForError(name));
  auto txn = store_.Begin();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto key = ReadDeletedKeyDoc(**txn, vault.guid, name);
  if (!key.ok()) return key.error();
  if (vault.enable_purge_protection && clock_.NowUnix() < key->deleted->scheduled_purge_date) {
    return MakeKvError(e::kPurgeProtected, vault.name, vault.location);
  }
  Status s = PurgeKeyData(**txn, vault.guid, name);
  if (!s.ok()) return Internal(s, "purge key");
  s = (*txn)->Commit();
  if (!s.ok()) return Internal(s, "commit");
  cache_.ForgetPrefix(fmt::format("{}/{}/", vault.guid, ToLower(name)));
  KvResponse resp;
  resp.status = 204;
  resp.body = nullptr;
  return resp;
}

// ---- Backup and restore ----

KvResult<KvResponse> KeyStore::BackupKey(const VaultRecord& vault, std::string_view name) {
  auto txn = store_.BeginRead();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto loaded = LoadLive(**txn, vault, name, "");
  if (!loaded.ok()) return loaded.error();
  auto versions =
      (*txn)->ListChildren(KeyResourceId(vault.guid, name), std::string(kKeyVersionType));
  if (!versions.ok()) return Internal(versions.status(), "list versions");
  json payload = {{"format", 1},
                  {"name", loaded->key.name},
                  {"current_version", loaded->key.current_version},
                  {"next_seq", loaded->key.next_seq},
                  {"rotation_policy", loaded->key.rotation_policy},
                  {"versions", json::array()}};
  for (const store::Resource& r : *versions) {
    std::string ver = LastSegment(r.id);
    auto der = (*txn)->GetSecret(KeySecretName(vault.guid, name, ver));
    if (!der.ok()) return Internal(der.status(), "read key material");
    payload["versions"].push_back(
        {{"version", ver}, {"doc", r.body}, {"material", Base64UrlEncode(der->span())}});
  }
  auto blob = SealBackup(backup_key_.span(), payload);
  for (json& v : payload["versions"]) {
    std::string& m = v["material"].get_ref<std::string&>();
    OPENSSL_cleanse(m.data(), m.size());
  }
  if (!blob.ok()) return Internal(blob.status(), "seal backup");
  KvResponse resp;
  resp.body = {{"value", std::move(blob).value()}};
  resp.version = loaded->key.current_version;
  return resp;
}

KvResult<KvResponse> KeyStore::RestoreKey(const VaultRecord& vault, std::string_view base,
                                          const json& body) {
  if (!body.is_object()) return MakeKvError(e::kInvalidBody, "expected a JSON object");
  KvResult<std::string> value = RequiredString(body, "value");
  if (!value.ok()) return value.error();
  Result<json> payload = OpenBackup(backup_key_.span(), *value);
  if (!payload.ok()) return MakeKvError(e::kInvalidBackup);
  const json& p = *payload;
  KeyDoc key;
  key.name = p.value("name", "");
  key.vault = vault.name;
  key.current_version = p.value("current_version", "");
  key.next_seq = p.value("next_seq", int64_t{1});
  key.rotation_policy = p.value("rotation_policy", json());
  if (!IsValidKeyName(key.name) || !IsValidVersion(key.current_version) ||
      !p.contains("versions") || !p["versions"].is_array()) {
    return MakeKvError(e::kInvalidBackup);
  }
  struct Restored {
    VersionDoc doc;
    SecretBytes der;
  };
  std::vector<Restored> versions;
  const VersionDoc* current = nullptr;
  for (const json& v : p["versions"]) {
    if (!v.is_object() || !v.contains("doc")) return MakeKvError(e::kInvalidBackup);
    std::string ver = v.value("version", "");
    auto doc = VersionDoc::FromJson(ToLower(ver), v["doc"]);
    auto der = Base64UrlDecode(v.value("material", ""));
    if (!IsValidVersion(ver) || !doc.ok() || !der.ok()) return MakeKvError(e::kInvalidBackup);
    versions.push_back(Restored{std::move(doc).value(), SecretBytes(*der)});
    OPENSSL_cleanse(der->data(), der->size());
  }
  for (const Restored& r : versions) {
    if (r.doc.version == key.current_version) current = &r.doc;
  }
  if (current == nullptr) return MakeKvError(e::kInvalidBackup);
  for (const Restored& r : versions) {
    if (auto err = CheckSkuAllows(vault, r.doc.kty)) return *err;
  }

  auto txn = store_.Begin();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto existing = ReadKeyDoc(**txn, vault.guid, key.name);
  if (!existing.ok()) return existing.error();
  if (existing->has_value()) {
    if ((*existing)->deleted) return MakeKvError(e::kObjectIsDeletedButRecoverable, key.name);
    return MakeKvError(e::kKeyAlreadyExists, key.name);
  }
  for (const Restored& r : versions) {
    auto put = (*txn)->Put(VersionResource(vault, key, r.doc));
    if (!put.ok()) return Internal(put.status(), "write key version");
    Status s = (*txn)->PutSecret(KeySecretName(vault.guid, key.name, r.doc.version), r.der.span());
    if (!s.ok()) return Internal(s, "write key material");
  }
  auto put = (*txn)->Put(KeyResource(vault, key));
  if (!put.ok()) return Internal(put.status(), "write key");
  Status s = (*txn)->Commit();
  if (!s.ok()) return Internal(s, "commit");
  KvResponse resp;
  resp.body = RenderKeyBundle(base, key, *current, vault);
  resp.version = key.current_version;
  return resp;
}

// ---- Rotation ----

KvResult<KvResponse> KeyStore::RotateKey(const VaultRecord& vault, std::string_view base,
                                         std::string_view name) {
  int64_t now = clock_.NowUnix();
  KvResult<Loaded> loaded = MakeKvError(e::kInternalError);
  {
    auto txn = store_.BeginRead();
    if (!txn.ok()) return Internal(txn.status(), "begin");
    loaded = LoadLive(**txn, vault, name, "");
  }
  if (!loaded.ok()) return loaded.error();
  auto nv = RotationMaterial(vault, *loaded, now);
  if (!nv.ok()) return nv.error();
  return StoreNewVersion(vault, base, loaded->key.name, std::move(nv).value(), std::nullopt, now);
}

KvResult<KvResponse> KeyStore::GetRotationPolicy(const VaultRecord& vault, std::string_view base,
                                                 std::string_view name) {
  auto txn = store_.BeginRead();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto loaded = LoadLive(**txn, vault, name, "");
  if (!loaded.ok()) return loaded.error();
  KvResponse resp;
  resp.body = RenderRotationPolicy(base, loaded->key.name, loaded->key.rotation_policy);
  return resp;
}

KvResult<KvResponse> KeyStore::SetRotationPolicy(const VaultRecord& vault, std::string_view base,
                                                 std::string_view name, const json& body) {
  auto txn = store_.Begin();
  if (!txn.ok()) return Internal(txn.status(), "begin");
  auto loaded = LoadLive(**txn, vault, name, "");
  if (!loaded.ok()) return loaded.error();
  KeyDoc& key = loaded->key;
  auto policy = ValidateRotationPolicy(body, clock_.NowUnix(), key.rotation_policy);
  if (!policy.ok()) return policy.error();
  key.rotation_policy = std::move(policy).value();
  auto put = (*txn)->Put(KeyResource(vault, key));
  if (!put.ok()) return Internal(put.status(), "write key");
  Status s = (*txn)->Commit();
  if (!s.ok()) return Internal(s, "commit");
  KvResponse resp;
  resp.body = RenderRotationPolicy(base, key.name, key.rotation_policy);
  return resp;
}

// ---- Cryptography ----

KvResult<KvResponse> KeyStore::Crypto(const VaultRecord& vault, std::string_view base,
                                      std::string_view name, std::string_view version, CryptoOp op,
                                      const json& body) {
  if (!body.is_object()) return MakeKvError(e::kInvalidBody, "expected a JSON object");
  const std::string_view op_name = CryptoOpName(op);
  // The key version and its material: from the cache while no write happened since they were
  // read (generation_cache.h), else from a read transaction begun after reading the generation
  // (so what is cached is at least as new as that generation).
  const uint64_t generation = store_.change_generation();
  const std::string cache_key =
      fmt::format("{}/{}/{}", vault.guid, store::NormalizeId(name), store::NormalizeId(version));
  std::shared_ptr<const CryptoTarget> target = targets_.Find(cache_key, generation);
  if (target == nullptr) {
    auto begun = store_.BeginRead();
    if (!begun.ok()) return Internal(begun.status(), "begin");
    std::unique_ptr<store::Transaction> txn = std::move(begun).value();
    KvResult<Loaded> loaded = LoadLive(*txn, vault, name, version);
    if (!loaded.ok()) return loaded.error();
    auto m = Material(*txn, vault.guid, name, loaded->version.version);
    if (!m.ok()) return m.error();
    txn.reset();  // no database work below: free the connection before the private-key op
    auto fresh = std::make_shared<CryptoTarget>();
    fresh->loaded = std::move(loaded).value();
    fresh->material = std::move(m).value();
    targets_.Insert(cache_key, generation, fresh);
    target = std::move(fresh);
  }
  const Loaded* loaded = &target->loaded;
  const CachedKey* material = target->material.get();
  {
    const KeyAttributes& a = loaded->version.attributes;
    if (!a.enabled) return MakeKvError(e::kKeyDisabled, op_name);
    if (!Contains(loaded->version.key_ops, op_name)) {
      return MakeKvError(e::kKeyOperationForbidden, op_name);
    }
    if (op == CryptoOp::kEncrypt || op == CryptoOp::kWrapKey || op == CryptoOp::kSign) {
      int64_t now = clock_.NowUnix();
      if (a.nbf && now < *a.nbf) return MakeKvError(e::kKeyNotYetValid, op_name);
      if (a.exp && now >= *a.exp) return MakeKvError(e::kKeyExpired, op_name);
    }
  }
  const std::string& kty = loaded->version.kty;
  KvResult<std::string> alg = RequiredString(body, "alg");
  if (!alg.ok()) return alg.error();
  KvResponse resp;
  resp.version = loaded->version.version;
  const std::string kid = KidOf(base, loaded->key.name, loaded->version.version);

  if (op == CryptoOp::kSign || op == CryptoOp::kVerify) {
    Result<crypto::SignatureAlgorithm> sa = crypto::ParseSignatureAlgorithm(*alg);
    if (!sa.ok()) return MakeKvError(e::kUnsupportedAlgorithm, TruncateForError(*alg), op_name);
    if ((crypto::SignatureKeyType(*sa) == crypto::KeyType::kRsa) != IsRsa(kty)) {
      return MakeKvError(e::kAlgorithmKeyMismatch, *alg, kty);
    }
    const char* digest_field = op == CryptoOp::kSign ? "value" : "digest";
    auto digest = RequiredBytes(body, digest_field);
    if (!digest.ok()) return digest.error();
    if (digest->size() != crypto::HashSize(crypto::SignatureHash(*sa))) {
      return MakeKvError(e::kInvalidProperty, digest_field,
                         fmt::format("a {} digest is {} bytes", *alg,
                                     crypto::HashSize(crypto::SignatureHash(*sa))));
    }
    if (op == CryptoOp::kSign) {
      auto sig = crypto::SignDigest(material->private_key, *sa, *digest);
      if (!sig.ok()) return MakeKvError(e::kAlgorithmKeyMismatch, *alg, kty);
      resp.body = {{"kid", kid}, {"value", Base64UrlEncode(*sig)}};
      return resp;
    }
    auto sig = RequiredBytes(body, "value");
    if (!sig.ok()) return sig.error();
    auto ok = crypto::VerifyDigest(material->public_key, *sa, *digest, *sig);
    if (!ok.ok()) return MakeKvError(e::kAlgorithmKeyMismatch, *alg, kty);
    resp.body = {{"value", *ok}};
    return resp;
  }

  Result<crypto::RsaPadding> padding = crypto::ParseRsaPadding(*alg);
  if (!padding.ok()) return MakeKvError(e::kUnsupportedAlgorithm, TruncateForError(*alg), op_name);
  if (!IsRsa(kty)) return MakeKvError(e::kAlgorithmKeyMismatch, *alg, kty);
  auto input = RequiredBytes(body, "value");
  if (!input.ok()) return input.error();
  if (op == CryptoOp::kEncrypt || op == CryptoOp::kWrapKey) {
    if (input->size() > crypto::RsaMaxPlaintextSize(material->public_key.bits(), *padding)) {
      return MakeKvError(e::kInvalidProperty, "value",
                         "the value is too long for this key and algorithm");
    }
    auto out = crypto::RsaEncrypt(material->public_key, *padding, *input);
    if (!out.ok()) return Internal(out.status(), "encrypt");
    resp.body = {{"kid", kid}, {"value", Base64UrlEncode(*out)}};
    return resp;
  }
  auto out = crypto::RsaDecrypt(material->private_key, *padding, *input);
  OPENSSL_cleanse(input->data(), input->size());
  if (!out.ok()) return MakeKvError(e::kDecryptionFailed);
  resp.body = {{"kid", kid}, {"value", Base64UrlEncode(out->span())}};
  return resp;
}

KvResult<KvResponse> KeyStore::GetRandomBytes(const json& body) {
  if (!body.is_object()) return MakeKvError(e::kInvalidBody, "expected a JSON object");
  auto count = body.find("count");
  if (count == body.end() || count->is_null()) return MakeKvError(e::kPropertyRequired, "count");
  if (!count->is_number_integer()) return MakeKvError(e::kInvalidRandomCount, count->dump());
  int64_t n = count->get<int64_t>();
  if (n < 1 || n > 128) return MakeKvError(e::kInvalidRandomCount, n);
  KvResponse resp;
  resp.body = {{"value", Base64UrlEncode(random_.Bytes(static_cast<size_t>(n)))}};
  return resp;
}

// ---- Housekeeping ----

namespace {

// Every key document (all vaults), as (resource id, doc).
Result<std::vector<std::pair<std::string, KeyDoc>>> AllKeys(store::Store& store) {
  std::vector<std::pair<std::string, KeyDoc>> out;
  BYOK_ASSIGN_OR_RETURN(auto txn, store.BeginRead());
  std::string after;
  while (true) {
    store::ListOptions lo;
    lo.limit = 500;
    lo.after = after;
    BYOK_ASSIGN_OR_RETURN(std::vector<store::Resource> batch,
                          txn->ListByType(std::string(kKeyType), std::nullopt, lo));
    for (store::Resource& r : batch) {
      auto d = KeyDoc::FromJson(r.body);
      if (!d.ok()) {
        spdlog::warn("keyvault housekeeping: skipping unreadable key {}", r.id);
        continue;
      }
      out.emplace_back(r.id, std::move(d).value());
    }
    if (batch.size() < lo.limit) break;
    after = batch.back().id;
  }
  return out;
}

}  // namespace

Result<std::vector<HousekeepingEvent>> KeyStore::PurgeExpired(TimePoint now) {
  const int64_t now_unix = UnixOf(now);
  std::vector<HousekeepingEvent> events;
  BYOK_ASSIGN_OR_RETURN(auto keys, AllKeys(store_));
  for (const auto& [id, key] : keys) {
    if (!key.deleted || key.deleted->scheduled_purge_date > now_unix) continue;
    std::string guid = GuidOfKeyId(id);
    bool purged = false;
    Status s = store::RunInTransaction(store_, [&](store::Transaction& txn) -> Status {
      auto current = ReadKeyDoc(txn, guid, key.name);
      if (!current.ok()) return Status::Internal(current.error().message);
      if (!current->has_value() || !(*current)->deleted ||
          (*current)->deleted->scheduled_purge_date > now_unix) {
        return Status::Ok();
      }
      BYOK_TRY(PurgeKeyData(txn, guid, key.name));
      purged = true;
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (!purged) continue;
    cache_.ForgetPrefix(fmt::format("{}/{}/", guid, ToLower(key.name)));
    spdlog::info("keyvault: purged deleted key {} of vault {} (retention ended)", key.name,
                 key.vault);
    events.push_back(HousekeepingEvent{key.vault, key.name, "", "KeyPurge"});
  }
  return events;
}

Result<std::vector<HousekeepingEvent>> KeyStore::RunRotationPolicies(TimePoint now) {
  const int64_t now_unix = UnixOf(now);
  std::vector<HousekeepingEvent> events;
  BYOK_ASSIGN_OR_RETURN(auto keys, AllKeys(store_));
  for (const auto& [id, key] : keys) {
    if (key.deleted || !key.rotation_policy.is_object()) continue;
    std::string guid = GuidOfKeyId(id);
    std::optional<VaultRecord> vault;
    KvResult<Loaded> loaded = MakeKvError(e::kInternalError);
    {
      BYOK_ASSIGN_OR_RETURN(auto txn, store_.BeginRead());
      BYOK_ASSIGN_OR_RETURN(vault, FindVaultByName(*txn, key.vault));
      if (!vault || vault->deleted || vault->guid != guid) continue;
      loaded = LoadLive(*txn, *vault, key.name, "");
    }
    if (!loaded.ok()) continue;  // deleted meanwhile
    std::optional<int64_t> due =
        RotationDueTime(loaded->key.rotation_policy, loaded->version.attributes);
    if (!due || now_unix < *due) continue;
    auto nv = RotationMaterial(*vault, *loaded, now_unix);
    if (!nv.ok()) {
      spdlog::warn("keyvault: rotation of {}/{} failed: {}", key.vault, key.name,
                   nv.error().message);
      continue;
    }
    auto stored = StoreNewVersion(*vault, "", key.name, std::move(nv).value(),
                                  loaded->version.version, now_unix);
    if (!stored.ok()) {
      spdlog::info("keyvault: rotation of {}/{} skipped: {}", key.vault, key.name,
                   stored.error().message);
      continue;
    }
    spdlog::info("keyvault: rotated key {} of vault {} by its rotation policy (new version {})",
                 key.name, key.vault, stored->version);
    events.push_back(HousekeepingEvent{key.vault, key.name, stored->version, "KeyRotate"});
  }
  return events;
}

}  // namespace byok::keyvault
