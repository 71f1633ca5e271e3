// Helpers shared by the compute providers (not a public interface of the module).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/status.h"
#include "gateway/frontend.h"
#include "http/message.h"
#include "store/store.h"

namespace byok::compute::internal {

// 500 InternalServerError for a store or library failure (details go to the log only).
http::Response Internal(const gateway::ArmRequest& r, const Clock& clock, const Status& s);
ApiError InternalError(const Clock& clock, const Status& s);

// nullopt if `tags` is an object of at most 50 string values.
std::optional<ApiError> CheckTags(const nlohmann::json& tags, std::string_view resource_id);

// Resource names: 1-80 characters, letters, digits, '_', '-' (and '.' when allow_dot).
bool ValidName(std::string_view name, bool allow_dot);

// The canonical region name ("eastus") of `location` ("East US"), or "" if unknown.
std::string CanonicalLocation(std::string_view location);

// A $top query parameter, or SIZE_MAX.
size_t Top(const gateway::ArmRequest& r);

// The ARM error for a failed Key Vault access through the DES identity (VaultKeyWrapper and
// blockstore errors; see vault_key_wrapper.h for the message format): KeyVaultAccessForbidden,
// KeyVaultKeyNotEnabled, the expired-key error, KeyVaultKeyNotFound, KeyVaultUnavailable.
ApiError KeyAccessError(const Status& s, const std::string& key_url, const std::string& des_name);

// 404 ResourceNotFound for a resource of `type` ("Microsoft.Compute/disks").
http::Response NotFound(std::string_view type, const gateway::ArmRequest& r);
// GET of the addressed resource of `type`: its stored body, or NotFound.
http::Response GetStored(const gateway::ArmRequest& r, const Clock& clock, store::Store& store,
                         std::string_view type);
// List of the resources of `type` in the addressed scope (resource group or subscription), at
// most $top of them: {"value": [...]}.
http::Response ListStored(const gateway::ArmRequest& r, const Clock& clock, store::Store& store,
                          std::string_view type);

// A string member, or "" (absent, null or not a string).
std::string StringOf(const nlohmann::json& obj, const char* key);

}  // namespace byok::compute::internal
