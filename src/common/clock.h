// Injectable wall clock.
//
// Everything that reads time takes a Clock&, so tests (and `byok clock advance`) can move time
// instead of sleeping. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace byok {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Seconds since the Unix epoch.
  int64_t NowUnix() const;
};

// The real system clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& Instance();
};

// A clock that only moves when told to. Starts at `start`.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start);
  TimePoint Now() const override;
  void Advance(std::chrono::nanoseconds d);
  void Set(TimePoint t);

 private:
  std::atomic<int64_t> ns_since_epoch_;
};

// The system clock shifted by an adjustable offset (the server's emulated clock: tests and
// `byok clock advance` move it forward; it never moves backwards).
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(const Clock& base) : base_(base) {}
  TimePoint Now() const override;
  void Advance(std::chrono::nanoseconds d);
  std::chrono::nanoseconds offset() const;

 private:
  const Clock& base_;
  std::atomic<int64_t> offset_ns_{0};
};

// RFC 3339 / ISO 8601 UTC with seven fractional digits, as Azure writes timestamps
// ("2023-01-02T03:04:05.1234567Z").
std::string FormatAzureTime(TimePoint t);

}  // namespace byok
