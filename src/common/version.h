// The byok release version.
#pragma once

namespace byok {
inline constexpr char kByokVersion[] = "0.1.0";
}  // namespace byok
