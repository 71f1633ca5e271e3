// Accept-header matching for the Kubernetes API's parameterised media types
// ("application/json;as=Table;v=v1;g=meta.k8s.io", "application/json;g=apidiscovery.k8s.io;
// v=v2;as=APIGroupDiscoveryList"): which variant of a response a client asks for.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace byok::kube {

struct MediaRange {
  std::string type;  // "application/json", lower case
  std::vector<std::pair<std::string, std::string>>
      params;  // in order; keys lower case, "q" dropped
  // The value of parameter `key` ("" when absent).
  std::string_view Param(std::string_view key) const;
};

// The media ranges of an Accept header, in order (empty elements skipped; spaces trimmed; quoted
// values unquoted).
std::vector<MediaRange> ParseAccept(std::string_view accept);

}  // namespace byok::kube
