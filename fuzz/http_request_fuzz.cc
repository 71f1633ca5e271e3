// Fuzz target: the HTTP/1.1 request parser and normalization the server runs on every request
// (Beast parser with byok's limits, Host/path/query decoding).
#include <cstdint>
#include <string_view>

#include "http/server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const byok::http::ServerOptions* limits = [] {
    auto* o = new byok::http::ServerOptions();
    o->max_header_bytes = 8 * 1024;
    o->max_body_bytes = 64 * 1024;
    return o;
  }();
  std::string_view wire(reinterpret_cast<const char*>(data), size);
  auto r = byok::http::ParseRequest(wire, *limits);
  if (r.ok()) {
    // Invariants the router relies on.
    if (r->path.empty() || r->path.front() != '/') {
      if (r->method != "CONNECT" && r->path != "*") __builtin_trap();
    }
    if (r->body.size() > limits->max_body_bytes) __builtin_trap();
    for (char c : r->host) {
      if (c >= 'A' && c <= 'Z') __builtin_trap();  // host is lower-cased
    }
  }
  return 0;
}
