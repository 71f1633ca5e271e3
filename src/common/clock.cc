#include "common/clock.h"

#include <ctime>
#include <string>

#include <fmt/format.h>

namespace byok {

int64_t Clock::NowUnix() const {
  return std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

ManualClock::ManualClock(TimePoint start)
    : ns_since_epoch_(
          std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()) {}

TimePoint ManualClock::Now() const {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::nanoseconds(ns_since_epoch_.load())));
}

void ManualClock::Advance(std::chrono::nanoseconds d) { ns_since_epoch_ += d.count(); }

void ManualClock::Set(TimePoint t) {
  ns_since_epoch_ =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TimePoint OffsetClock::Now() const {
  return base_.Now() + std::chrono::duration_cast<TimePoint::duration>(offset());
}

void OffsetClock::Advance(std::chrono::nanoseconds d) {
  if (d.count() > 0) offset_ns_ += d.count();
}

std::chrono::nanoseconds OffsetClock::offset() const {
  return std::chrono::nanoseconds(offset_ns_.load());
}

std::string FormatAzureTime(TimePoint t) {
  auto since = t.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since);
  auto frac = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count() / 100;
  std::time_t tt = secs.count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

}  // namespace byok
