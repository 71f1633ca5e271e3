// Durations and timestamps as operators type them (`byok clock advance 91d`, `--since`).
//
// ParseDuration accepts:
//   - compact form: one or more <integer><unit> groups, units s, m, h, d, w (seconds, minutes,
//     hours, days, weeks), e.g. "45s", "30m", "1h", "91d", "2w", "1h30m";
//   - ISO 8601 durations: P[nY][nM][nW][nD][T[nH][nM][nS]], e.g. "P91D", "PT1H30M", "P1DT2H"
//     (letters in any case; a year counts as 365 days and a month as 30 days, as Key Vault
//     rotation policies do);
//   both with an optional leading '-' or '+'. Whether a negative duration is acceptable is the
//   caller's decision. Errors are kInvalidArgument with a message naming what is wrong (meant for
//   the operator; it quotes the input, which is never a secret).
//
// FormatDuration writes the compact form ("91d", "1h30m", "-2h", "0s").
//
// ParseTimestamp accepts RFC 3339 / ISO 8601 UTC or offset timestamps as Azure writes them:
// "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.1234567Z", "2024-01-02T03:04:05+01:00", and a bare
// date "2024-01-02" (midnight UTC). Years 1970..2261 (what a TimePoint holds).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace byok {

Result<std::chrono::seconds> ParseDuration(std::string_view text);
std::string FormatDuration(std::chrono::seconds d);

Result<TimePoint> ParseTimestamp(std::string_view text);

}  // namespace byok
