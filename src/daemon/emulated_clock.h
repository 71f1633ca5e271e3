// The persisted offset of byokd's emulated clock.
//
// byokd's clock is an OffsetClock: the system clock plus an offset that `byok clock advance`
// increases (never decreases). The offset is kept in the store's meta table under
// kClockOffsetMetaKey (decimal nanoseconds) so that a restarted byokd keeps the emulated time.
// AdvanceStoredClockOffset is also what `byok clock advance` uses when no server is running
// (holding the data-directory lock).
//
// Thread safety: functions are thread-safe (each is one store transaction).
#pragma once

#include <chrono>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace byok::daemon {

inline constexpr std::string_view kClockOffsetMetaKey = "clock.offset_ns";

// The stored offset (0 if none). kDataLoss if the stored value is not a non-negative integer.
Result<std::chrono::nanoseconds> LoadClockOffset(store::Store& store);

// Adds d to the stored offset; returns the new offset. REQUIRES d >= 0 (kInvalidArgument
// otherwise: the emulated clock never moves backwards).
Result<std::chrono::nanoseconds> AdvanceStoredClockOffset(store::Store& store,
                                                          std::chrono::nanoseconds d);

}  // namespace byok::daemon
