// Parsing untrusted JSON request bodies.
//
// ParseJsonBody is the single entry point every API uses for request bodies (and a fuzz target:
// fuzz/json_body_fuzz.cc). It bounds size and nesting depth, requires valid UTF-8, and reports
// failures as InvalidArgument with a message that names the position, never echoing the body.
// DumpJson never throws: invalid UTF-8 in strings is replaced.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace byok {

struct JsonLimits {
  size_t max_bytes = 4 * 1024 * 1024;  // larger bodies are refused before parsing
  int max_depth = 64;                  // objects/arrays nested deeper are refused
};

Result<nlohmann::json> ParseJsonBody(std::string_view text, const JsonLimits& limits = {});

// Compact serialization; invalid UTF-8 replaced by U+FFFD.
std::string DumpJson(const nlohmann::json& j);

}  // namespace byok
