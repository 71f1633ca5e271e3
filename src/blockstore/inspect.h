// Internal to the blockstore module: `byok disk inspect` of a disk file (BlockStore::Inspect has
// the contract and the JSON fields). Reads the file only; needs no key.
//
// Thread safety: stateless; safe to run while the disk is in use (it may see a mix of old and
// new sectors, which is fine for a proof of encryption).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "blockstore/blockstore.h"
#include "common/status.h"

namespace byok::blockstore::internal {

inline constexpr uint64_t kEntropySampleLimit = 64 * 1024 * 1024;
inline constexpr size_t kMaxInspectPattern = 64 * 1024;

// InvalidArgument for an empty pattern, one longer than kMaxInspectPattern, or one of only zero
// bytes (never-written sectors read as zeros, so it would prove nothing).
Result<nlohmann::json> InspectDiskFile(const std::string& path, const InspectOptions& options);

}  // namespace byok::blockstore::internal
