// Kubernetes timestamps (metav1.Time in JSON): RFC 3339 in UTC with whole seconds,
// "2024-01-02T03:04:05Z". Shared by the object store, patches, the provisioner and the node
// projections.
//
// Thread safety: pure function.
#pragma once

#include <string>

#include "common/clock.h"

namespace byok::kube::internal {

// `t` rounded down to the second.
std::string KubeTime(TimePoint t);

}  // namespace byok::kube::internal
