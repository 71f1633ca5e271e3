#include "common/duration.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace byok {
namespace {

using namespace std::chrono_literals;
using std::chrono::seconds;

seconds Parse(const std::string& text) {
  auto r = ParseDuration(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : seconds(-999);
}

std::string Error(const std::string& text) {
  auto r = ParseDuration(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r->count() : 0);
  EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument));
  return r.status().message();
}

TEST(DurationTest, CompactForm) {
  EXPECT_EQ(Parse("45s"), 45s);
  EXPECT_EQ(Parse("30m"), 30min);
  EXPECT_EQ(Parse("1h"), 1h);
  EXPECT_EQ(Parse("91d"), 91 * 24h);
  EXPECT_EQ(Parse("2w"), 14 * 24h);
  EXPECT_EQ(Parse("1h30m"), 90min);
  EXPECT_EQ(Parse("1d2h3m4s"), 24h + 2h + 3min + 4s);
  EXPECT_EQ(Parse("0s"), 0s);
  EXPECT_EQ(Parse("1H"), 1h);
  EXPECT_EQ(Parse(" 5m "), 5min);
}

TEST(DurationTest, Signs) {
  EXPECT_EQ(Parse("-2h"), -2h);
  EXPECT_EQ(Parse("+2h"), 2h);
  EXPECT_EQ(Parse("-PT1H"), -1h);
}

TEST(DurationTest, Iso8601) {
  EXPECT_EQ(Parse("P91D"), 91 * 24h);
  EXPECT_EQ(Parse("PT1H30M"), 90min);
  EXPECT_EQ(Parse("P1DT2H"), 26h);
  EXPECT_EQ(Parse("PT45S"), 45s);
  EXPECT_EQ(Parse("P2W"), 14 * 24h);
  EXPECT_EQ(Parse("P1Y"), 365 * 24h);
  EXPECT_EQ(Parse("P1M"), 30 * 24h);
  EXPECT_EQ(Parse("P1Y2M3DT4H5M6S"), (365 + 60 + 3) * 24h + 4h + 5min + 6s);
  EXPECT_EQ(Parse("p91d"), 91 * 24h);
  EXPECT_EQ(Parse("PT0S"), 0s);
}

TEST(DurationTest, ClearErrors) {
  EXPECT_NE(Error("").find("empty"), std::string::npos);
  EXPECT_NE(Error("90").find("missing unit"), std::string::npos);
  EXPECT_NE(Error("5x").find("unknown unit 'x'"), std::string::npos);
  EXPECT_NE(Error("h").find("unexpected 'h'"), std::string::npos);
  EXPECT_NE(Error("P").find("no duration"), std::string::npos);
  EXPECT_NE(Error("PT").find("nothing after 'T'"), std::string::npos);
  EXPECT_NE(Error("P1H").find("not a date"), std::string::npos);
  EXPECT_NE(Error("PT1D").find("not a time"), std::string::npos);
  EXPECT_NE(Error("P1D2Y").find("out of order"), std::string::npos);
  EXPECT_NE(Error("PT1.5S").find("fractions"), std::string::npos);
  EXPECT_NE(Error("P1").find("missing designator"), std::string::npos);
  EXPECT_NE(Error("99999999999999999999d").find("too large"), std::string::npos);
  EXPECT_NE(Error("40000d").find("too large"), std::string::npos);
  EXPECT_NE(Error("--1h").find("invalid duration '--1h'"), std::string::npos);
  Error("1h 30m");
  Error("PT1H1H");
}

TEST(DurationTest, Format) {
  EXPECT_EQ(FormatDuration(0s), "0s");
  EXPECT_EQ(FormatDuration(91 * 24h), "91d");
  EXPECT_EQ(FormatDuration(90min), "1h30m");
  EXPECT_EQ(FormatDuration(-2h), "-2h");
  EXPECT_EQ(FormatDuration(24h + 1s), "1d1s");
  EXPECT_EQ(Parse(FormatDuration(26h + 3min + 4s)), 26h + 3min + 4s);
}

TEST(TimestampTest, Parses) {
  auto t = ParseTimestamp("2024-01-02T03:04:05Z");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, TimePoint(seconds(1704164645)));
  auto f = ParseTimestamp("2024-01-02T03:04:05.1234567Z");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(FormatAzureTime(*f), "2024-01-02T03:04:05.1234567Z");
  auto o = ParseTimestamp("2024-01-02T04:04:05+01:00");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, TimePoint(seconds(1704164645)));
  auto d = ParseTimestamp("2024-01-02");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(FormatAzureTime(*d), "2024-01-02T00:00:00.0000000Z");
  auto m = ParseTimestamp("2024-01-02T03:04Z");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, TimePoint(seconds(1704164640)));
}

TEST(TimestampTest, RoundTripsAzureTime) {
  TimePoint t = TimePoint(seconds(1'672'628'645)) +
                std::chrono::duration_cast<TimePoint::duration>(123456700ns);
  auto p = ParseTimestamp(FormatAzureTime(t));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, t);
}

TEST(TimestampTest, Errors) {
  for (const char* bad : {"", "yesterday", "2024-13-01", "2024-02-30", "2024-01-02T03:04:05",
                          "2024-01-02T25:00:00Z", "2024-01-02T03:04:05Zjunk", "2024-1-2",
                          "2024-01-02T03:04:05+0100", "2999-01-01", "1969-12-31"}) {
    auto r = ParseTimestamp(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace byok
