#include "common/duration.h"

#include <cctype>
#include <cstdint>
#include <ctime>
#include <limits>

#include <fmt/format.h>

namespace byok {
namespace {

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;
// Larger totals are refused: far beyond any retention or rotation period, and safe from overflow
// when converted to nanoseconds.
constexpr int64_t kMaxSeconds = int64_t{100} * 366 * kDay;

Status Invalid(std::string_view text, std::string_view why) {
  return Status::InvalidArgument(fmt::format(
      "invalid duration '{}': {} (expected e.g. 45s, 30m, 1h, 91d, 2w, P91D, PT1H30M)", text, why));
}

// Reads the digits at text[*pos...]; false if there are none or the value is too large.
bool ReadNumber(std::string_view text, size_t* pos, int64_t* out) {
  size_t start = *pos;
  int64_t v = 0;
  while (*pos < text.size() && std::isdigit(static_cast<unsigned char>(text[*pos]))) {
    v = v * 10 + (text[*pos] - '0');
    if (v > kMaxSeconds) return false;
    ++*pos;
  }
  if (*pos == start) return false;
  *out = v;
  return true;
}

Result<int64_t> Add(std::string_view text, int64_t total, int64_t n, int64_t unit) {
  if (n > kMaxSeconds / unit || total + n * unit > kMaxSeconds) {
    return Invalid(text, "too large");
  }
  return total + n * unit;
}

Result<int64_t> ParseCompact(std::string_view all, std::string_view text) {
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    int64_t n = 0;
    if (!std::isdigit(static_cast<unsigned char>(text[pos]))) {
      return Invalid(all, fmt::format("unexpected '{}'", text[pos]));
    }
    if (!ReadNumber(text, &pos, &n)) return Invalid(all, "number too large");
    if (pos == text.size()) return Invalid(all, "missing unit after the number");
    int64_t unit = 0;
    switch (std::tolower(static_cast<unsigned char>(text[pos]))) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = kMinute;
        break;
      case 'h':
        unit = kHour;
        break;
      case 'd':
        unit = kDay;
        break;
      case 'w':
        unit = kWeek;
        break;
      default:
        return Invalid(all, fmt::format("unknown unit '{}'", text[pos]));
    }
    ++pos;
    BYOK_ASSIGN_OR_RETURN(total, Add(all, total, n, unit));
  }
  return total;
}

// text starts after the 'P'.
Result<int64_t> ParseIso(std::string_view all, std::string_view text) {
  int64_t total = 0;
  bool time_part = false;
  bool any = false;
  // Designators must appear in this order; `last` is the index of the previous one.
  static constexpr std::string_view kDate = "YMWD";
  static constexpr std::string_view kTime = "HMS";
  int last = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos])));
    if (c == 'T') {
      if (time_part) return Invalid(all, "'T' appears twice");
      time_part = true;
      last = -1;
      ++pos;
      if (pos == text.size()) return Invalid(all, "nothing after 'T'");
      continue;
    }
    int64_t n = 0;
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Invalid(all, fmt::format("unexpected '{}'", text[pos]));
    }
    if (!ReadNumber(text, &pos, &n)) return Invalid(all, "number too large");
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      return Invalid(all, "fractions are not supported");
    }
    if (pos == text.size()) return Invalid(all, "missing designator after the number");
    char d = static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos])));
    std::string_view order = time_part ? kTime : kDate;
    size_t idx = order.find(d);
    if (idx == std::string_view::npos) {
      return Invalid(all, fmt::format("'{}' is not a {} designator", text[pos],
                                      time_part ? "time (H, M, S)" : "date (Y, M, W, D)"));
    }
    if (static_cast<int>(idx) <= last) return Invalid(all, "designators out of order");
    last = static_cast<int>(idx);
    int64_t unit = 0;
    if (time_part) {
      unit = d == 'H' ? kHour : d == 'M' ? kMinute : 1;
    } else {
      unit = d == 'Y' ? 365 * kDay : d == 'M' ? 30 * kDay : d == 'W' ? kWeek : kDay;
    }
    ++pos;
    any = true;
    BYOK_ASSIGN_OR_RETURN(total, Add(all, total, n, unit));
  }
  if (!any) return Invalid(all, "no duration after 'P'");
  return total;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  std::string_view t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  bool negative = false;
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) {
    negative = t.front() == '-';
    t.remove_prefix(1);
  }
  if (t.empty()) return Invalid(text, "empty");
  int64_t seconds = 0;
  if (t.front() == 'P' || t.front() == 'p') {
    BYOK_ASSIGN_OR_RETURN(seconds, ParseIso(text, t.substr(1)));
  } else {
    BYOK_ASSIGN_OR_RETURN(seconds, ParseCompact(text, t));
  }
  return std::chrono::seconds(negative ? -seconds : seconds);
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out = s < 0 ? "-" : "";
  uint64_t u = s < 0 ? static_cast<uint64_t>(-(s + 1)) + 1 : static_cast<uint64_t>(s);
  const std::pair<uint64_t, char> units[] = {{kDay, 'd'}, {kHour, 'h'}, {kMinute, 'm'}, {1, 's'}};
  for (auto [size, letter] : units) {
    if (u >= size) {
      out += fmt::format("{}{}", u / size, letter);
      u %= size;
    }
  }
  return out;
}

Result<TimePoint> ParseTimestamp(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid timestamp '{}': {} (expected e.g. 2024-01-02T03:04:05Z or 2024-01-02)",
                    text, why));
  };
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !Digits(text, 5, 2, &month) || text[7] != '-' || !Digits(text, 8, 2, &day)) {
    return bad("the date must be YYYY-MM-DD");
  }
  size_t pos = 10;
  int64_t frac_ns = 0;
  int64_t offset_s = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return bad("expected 'T'");
    ++pos;
    if (!Digits(text, pos, 2, &hour) || pos + 2 >= text.size() || text[pos + 2] != ':' ||
        !Digits(text, pos + 3, 2, &minute)) {
      return bad("the time must be HH:MM:SS");
    }
    pos += 5;
    if (pos < text.size() && text[pos] == ':') {
      if (!Digits(text, pos + 1, 2, &second)) return bad("the time must be HH:MM:SS");
      pos += 3;
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int64_t scale = 100000000;
      size_t start = pos;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        frac_ns += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return bad("empty fraction");
    }
    if (pos == text.size()) return bad("missing time zone ('Z' or an offset)");
    if (text[pos] == 'Z' || text[pos] == 'z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int oh = 0, om = 0;
      if (!Digits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
          !Digits(text, pos + 4, 2, &om)) {
        return bad("the offset must be +HH:MM");
      }
      offset_s = (text[pos] == '-' ? -1 : 1) * (oh * kHour + om * kMinute);
      pos += 6;
    } else {
      return bad("missing time zone ('Z' or an offset)");
    }
    if (pos != text.size()) return bad("trailing characters");
  }
  // TimePoint counts nanoseconds in 64 bits: it ends in 2262.
  if (year < 1970 || year > 2261) return bad("the year must be between 1970 and 2261");
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad("a field is out of range");
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  std::tm check{};
  gmtime_r(&t, &check);
  if (check.tm_mday != day && second != 60) return bad("no such day");
  return TimePoint(std::chrono::seconds(t - offset_s)) +
         std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(frac_ns));
}

}  // namespace byok
