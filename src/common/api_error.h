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
#include <variant>

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

namespace byok {

// Holds a T or an ApiError: what service methods return when their failure is an Azure error
// the caller renders as is. REQUIRES: value() only when ok(); error() only when !ok().
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace byok
