#include "compute/key_reference.h"

#include <fmt/format.h>

#include "arm/resource_id.h"
#include "common/encoding.h"

namespace byok::compute {
namespace {

constexpr std::string_view kHttps = "https://";
constexpr std::string_view kVaultSuffix = ".vault.localhost";

}  // namespace

std::optional<KeyUrl> KeyUrl::Parse(std::string_view url) {
  if (url.size() > 2048 || url.size() < kHttps.size() ||
      !arm::EqualsIgnoreCase(url.substr(0, kHttps.size()), kHttps)) {
    return std::nullopt;
  }
  url.remove_prefix(kHttps.size());
  size_t slash = url.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  KeyUrl out;
  out.authority = arm::AsciiLower(url.substr(0, slash));
  std::string_view host = out.authority;
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    host = host.substr(0, colon);
  }
  if (host.size() <= kVaultSuffix.size() ||
      host.substr(host.size() - kVaultSuffix.size()) != kVaultSuffix) {
    return std::nullopt;
  }
  out.vault = std::string(host.substr(0, host.size() - kVaultSuffix.size()));
  if (out.vault.find('.') != std::string::npos) return std::nullopt;

  std::string_view path = url.substr(slash);
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  constexpr std::string_view kKeys = "/keys/";
  if (path.size() <= kKeys.size() || !arm::EqualsIgnoreCase(path.substr(0, kKeys.size()), kKeys)) {
    return std::nullopt;
  }
  path.remove_prefix(kKeys.size());
  size_t sep = path.find('/');
  out.name = std::string(path.substr(0, sep));
  if (!keyvault::IsValidKeyName(out.name)) return std::nullopt;
  if (sep != std::string_view::npos) {
    std::string_view version = path.substr(sep + 1);
    if (!keyvault::IsValidVersion(version)) return std::nullopt;
    out.version = arm::AsciiLower(version);
  }
  return out;
}

std::string KeyUrl::ToString() const {
  return version.empty() ? Versionless() : fmt::format("{}/{}", Versionless(), version);
}

KeyUrl KeyUrl::WithVersion(std::string_view v) const {
  KeyUrl out = *this;
  out.version = arm::AsciiLower(v);
  return out;
}

std::string KeyUrl::Versionless() const {
  return fmt::format("https://{}/keys/{}", authority, name);
}

bool KeyUrl::SameKey(const KeyUrl& other) const {
  return vault == other.vault && arm::EqualsIgnoreCase(name, other.name);
}

bool KeyUrl::SameVersion(const KeyUrl& other) const {
  return SameKey(other) && version == other.version;
}

Result<KeyLookup> LookupKey(store::Transaction& txn, const KeyUrl& url) {
  KeyLookup out;
  BYOK_ASSIGN_OR_RETURN(out.vault, keyvault::FindVaultByName(txn, url.vault));
  if (!out.vault) return out;
  BYOK_ASSIGN_OR_RETURN(auto key_res, txn.Get(keyvault::KeyResourceId(out.vault->guid, url.name)));
  if (!key_res) return out;
  BYOK_ASSIGN_OR_RETURN(keyvault::KeyDoc key, keyvault::KeyDoc::FromJson(key_res->body));
  out.key_exists = true;
  out.key_deleted = key.deleted.has_value();
  out.current_version = key.current_version;
  std::string version = url.version.empty() ? key.current_version : url.version;
  BYOK_ASSIGN_OR_RETURN(auto ver_res,
                        txn.Get(keyvault::VersionResourceId(out.vault->guid, url.name, version)));
  if (!ver_res) return out;
  BYOK_ASSIGN_OR_RETURN(keyvault::VersionDoc doc,
                        keyvault::VersionDoc::FromJson(version, ver_res->body));
  out.version = std::move(doc);
  return out;
}

int RsaKeyBits(const keyvault::VersionDoc& version) {
  auto n = version.jwk.find("n");
  if (n == version.jwk.end() || !n->is_string()) return 0;
  auto bytes = Base64UrlDecode(n->get<std::string>());
  if (!bytes.ok()) return 0;
  size_t i = 0;
  while (i < bytes->size() && (*bytes)[i] == 0) ++i;  // leading zero octets
  if (i == bytes->size()) return 0;
  int bits = static_cast<int>((bytes->size() - i) * 8);
  for (uint8_t top = (*bytes)[i]; (top & 0x80) == 0; top <<= 1) --bits;
  return bits;
}

}  // namespace byok::compute
