// Fuzz target: request bodies in the Kubernetes protobuf encoding (kube/protobuf.h).
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kube/protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = byok::kube::DecodeProtobufObject(body);
  if (!decoded.ok()) {
    if (decoded.status().message().empty()) __builtin_trap();
    return 0;
  }
  // A decoded object names its kind and serializes (valid UTF-8) as it is.
  const nlohmann::json& j = *decoded;
  if (!j.is_object() || !j.contains("apiVersion") || !j.contains("kind")) __builtin_trap();
  (void)j.dump();
  return 0;
}
