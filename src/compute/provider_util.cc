#include "compute/provider_util.h"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/locations.h"
#include "arm/resource_id.h"
#include "compute/compute.h"
#include "compute/errors.h"
#include "compute/key_reference.h"

namespace byok::compute {

const std::vector<std::string>& ComputeApiVersions() {
  static const std::vector<std::string> kVersions = {
      "2025-01-02", "2024-03-02", "2023-10-02", "2023-04-02", "2023-01-02", "2022-07-02",
      "2022-03-02", "2021-12-01", "2021-08-01", "2021-04-01", "2020-12-01", "2020-09-30",
      "2020-06-30", "2020-05-01", "2019-11-01", "2019-07-01"};
  return kVersions;
}

namespace internal {

ApiError InternalError(const Clock& clock, const Status& s) {
  spdlog::error("compute: {}", s.ToString());
  return MakeError(errors::kInternalError, FormatAzureTime(clock.Now()), "");
}

http::Response Internal(const gateway::ArmRequest& r, const Clock& clock, const Status& s) {
  spdlog::error("{} {}: {}", r.http->method, r.http->path, s.ToString());
  return gateway::ArmError(
      MakeError(errors::kInternalError, FormatAzureTime(clock.Now()), r.http->request_id));
}

std::optional<ApiError> CheckTags(const nlohmann::json& tags, std::string_view resource_id) {
  if (tags.is_null()) return std::nullopt;
  if (!tags.is_object()) {
    return MakeError(errors::kInvalidRequestContent, "'tags' must be an object");
  }
  if (tags.size() > 50) return MakeError(arm::errors::kTooManyTags, resource_id);
  for (const auto& [k, v] : tags.items()) {
    if (k.empty() || !v.is_string()) {
      return MakeError(errors::kInvalidRequestContent, "tag values must be strings");
    }
  }
  return std::nullopt;
}

bool ValidName(std::string_view name, bool allow_dot) {
  if (name.empty() || name.size() > 80) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || (allow_dot && c == '.');
    if (!ok) return false;
  }
  return true;
}

std::string CanonicalLocation(std::string_view location) {
  const arm::Location* loc = arm::FindLocation(location);
  return loc ? std::string(loc->name) : std::string();
}

size_t Top(const gateway::ArmRequest& r) {
  auto top = r.http->Query("$top");
  size_t n = 0;
  if (!top || std::from_chars(top->data(), top->data() + top->size(), n).ec != std::errc()) {
    return SIZE_MAX;
  }
  return n;
}

ApiError KeyAccessError(const Status& s, const std::string& key_url, const std::string& des_name) {
  const std::string& m = s.message();
  std::optional<KeyUrl> url = KeyUrl::Parse(key_url);
  std::string versionless = url ? url->Versionless() : key_url;
  switch (s.code()) {
    case StatusCode::kPermissionDenied:
      return MakeError(errors::kKeyVaultAccessForbidden, key_url, des_name);
    case StatusCode::kFailedPrecondition:
      if (m.find("KeyDisabled") != std::string::npos) {
        return MakeError(errors::kKeyVaultKeyNotEnabled, versionless, des_name);
      }
      if (m.find("KeyExpired") != std::string::npos) {
        return MakeError(errors::kKeyVaultKeyExpired, key_url);
      }
      if (m.find("soft-deleted") != std::string::npos) {
        return MakeError(errors::kKeyVaultKeyNotFound, key_url, m);
      }
      return MakeError(errors::kKeyVaultKeyUnusable, key_url, m);
    case StatusCode::kNotFound:
      return MakeError(errors::kKeyVaultKeyNotFound, key_url, m);
    case StatusCode::kUnavailable:
      return MakeError(errors::kKeyVaultUnavailable, key_url);
    case StatusCode::kDataLoss:
      return MakeError(errors::kKeyVaultKeyUnusable, key_url, m);
    default:
      spdlog::error("compute: key access to {} failed: {}", key_url, s.ToString());
      return MakeError(errors::kDiskStorageError, m);
  }
}

std::string StringOf(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

http::Response NotFound(std::string_view type, const gateway::ArmRequest& r) {
  return gateway::ArmError(MakeError(errors::kResourceNotFound,
                                     fmt::format("{}/{}", type, r.path.id.Name()),
                                     r.path.id.resource_group()));
}

http::Response GetStored(const gateway::ArmRequest& r, const Clock& clock, store::Store& store,
                         std::string_view type) {
  auto txn = store.BeginRead();
  if (!txn.ok()) return Internal(r, clock, txn.status());
  auto res = (*txn)->Get(r.path.id.ToString());
  if (!res.ok()) return Internal(r, clock, res.status());
  if (!res->has_value() || !arm::EqualsIgnoreCase((*res)->type, type)) return NotFound(type, r);
  return http::Response::Json(200, (*res)->body);
}

http::Response ListStored(const gateway::ArmRequest& r, const Clock& clock, store::Store& store,
                          std::string_view type) {
  auto txn = store.BeginRead();
  if (!txn.ok()) return Internal(r, clock, txn.status());
  auto all = (*txn)->ListByType(type, r.path.id.ToString());
  if (!all.ok()) return Internal(r, clock, all.status());
  nlohmann::json value = nlohmann::json::array();
  const size_t top = Top(r);
  for (const auto& v : *all) {
    if (value.size() >= top) break;
    value.push_back(v.body);
  }
  return http::Response::Json(200, {{"value", value}});
}

}  // namespace internal
}  // namespace byok::compute
