// Azure-shaped API errors built from per-API error tables.
//
// Every API (http, ARM, Key Vault, Compute, ...) declares its errors once, as ErrorSpec constants
// in its own errors.h: the Azure error code, the HTTP status, and a message template in fmt
// syntax. Handlers never write ad-hoc code strings; they call MakeError(kSpec, args...), and the
// http layer renders the result as the Azure envelope {"error":{"code":...,"message":...}}.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace byok {

struct ErrorSpec {
  std::string_view code;     // Azure's error.code, e.g. "ResourceGroupNotFound"
  int http_status;           // e.g. 404
  std::string_view message;  // fmt template, e.g. "Resource group '{}' could not be found."
};

struct ApiError {
  int http_status = 500;
  std::string code;
  std::string message;

  // {"error":{"code":...,"message":...}}
  nlohmann::json ToJson() const;
};

// Formats spec.message with args. REQUIRES: the argument count matches the template's fields.
template <typename... Args>
ApiError MakeError(const ErrorSpec& spec, Args&&... args) {
  return ApiError{spec.http_status, std::string(spec.code),
                  fmt::format(fmt::runtime(spec.message), std::forward<Args>(args)...)};
}

}  // namespace byok
