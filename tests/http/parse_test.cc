// ParseRequest (Beast parser + normalization) and the normalization helpers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/internal/request_normalize.h"
#include "http/server.h"

namespace byok::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

ServerOptions Limits() {
  ServerOptions o;
  o.max_header_bytes = 1024;
  o.max_body_bytes = 100;
  return o;
}

Result<Request> Parse(std::string_view wire) { return ParseRequest(wire, Limits()); }

TEST(ParseRequestTest, SimpleGet) {
  auto r = Parse(
      "GET /subscriptions/s%201/resourceGroups/rg?api-version=2021-04-01&%24filter=a+eq+%27b%27 "
      "HTTP/1.1\r\nHost: LocalHost:8443\r\nUser-Agent: test\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->target,
            "/subscriptions/s%201/resourceGroups/rg?api-version=2021-04-01&%24filter=a+eq+%27b%27");
  EXPECT_EQ(r->path, "/subscriptions/s 1/resourceGroups/rg");
  EXPECT_THAT(r->query,
              ElementsAre(Pair("api-version", "2021-04-01"), Pair("$filter", "a eq 'b'")));
  EXPECT_EQ(r->Query("API-VERSION"), "2021-04-01");
  EXPECT_EQ(r->Query("missing"), std::nullopt);
  EXPECT_EQ(r->host, "localhost");
  EXPECT_EQ(r->version, 11);
  EXPECT_EQ(r->headers.Get("user-agent"), "test");
  EXPECT_THAT(r->headers.GetAll("X-MULTI"), ElementsAre("1", "2"));
  EXPECT_TRUE(r->body.empty());
  EXPECT_TRUE(r->request_id.empty());
}

TEST(ParseRequestTest, BodyWithContentLength) {
  auto r = Parse(
      "POST /keys/k/create HTTP/1.1\r\nHost: v.vault.localhost\r\n"
      "Content-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->host, "v.vault.localhost");
}

TEST(ParseRequestTest, ChunkedBody) {
  auto r = Parse(
      "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "abcde");
}

TEST(ParseRequestTest, PlusInPathIsLiteralButSpaceInQuery) {
  auto r = Parse("GET /a+b?q=a+b&r=a%2Bb HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/a+b");
  EXPECT_THAT(r->query, ElementsAre(Pair("q", "a b"), Pair("r", "a+b")));
}

TEST(ParseRequestTest, QueryEdgeCases) {
  auto r = Parse("GET /?&flag&=v&a=&b=1=2&& HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->query,
              ElementsAre(Pair("flag", ""), Pair("", "v"), Pair("a", ""), Pair("b", "1=2")));
}

TEST(ParseRequestTest, Ipv6HostLiteral) {
  auto r = Parse("GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->host, "::1");
  r = Parse("GET / HTTP/1.1\r\nHost: [FE80::1]\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "fe80::1");
}

TEST(ParseRequestTest, HostForms) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n")->host, "127.0.0.1");
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: MyVault.Vault.LOCALHOST\r\n\r\n")->host,
            "myvault.vault.localhost");
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: localhost.\r\n\r\n")->host, "localhost");
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: localhost:\r\n\r\n")->host, "localhost");
}

TEST(ParseRequestTest, AbsoluteFormTargetOverridesHost) {
  auto r = Parse("GET https://KV.vault.localhost:8443/keys/k?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->host, "kv.vault.localhost");
  EXPECT_EQ(r->path, "/keys/k");
  EXPECT_THAT(r->query, ElementsAre(Pair("x", "1")));
  r = Parse("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/");
}

TEST(ParseRequestTest, Http10WithoutHost) {
  auto r = Parse("GET /x HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 10);
  EXPECT_EQ(r->host, "");
}

TEST(ParseRequestTest, ConnectAndAsteriskForms) {
  auto r =
      Parse("CONNECT kv.vault.localhost:8443 HTTP/1.1\r\nHost: kv.vault.localhost:8443\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->host, "kv.vault.localhost");
  EXPECT_EQ(r->path, "");
  r = Parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, "*");
}

struct BadCase {
  const char* name;
  const char* wire;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class MalformedRequestTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(MalformedRequestTest, IsInvalidArgument) {
  auto r = Parse(GetParam().wire);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedRequestTest,
    ::testing::Values(
        BadCase{"Empty", ""}, BadCase{"Garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"},
        BadCase{"NoVersion", "GET /\r\nHost: h\r\n\r\n"},
        BadCase{"SpaceInTarget", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"},
        BadCase{"Http2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
        BadCase{"Incomplete", "GET / HTTP/1.1\r\nHost: h\r\n"},
        BadCase{"IncompleteBody", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"},
        BadCase{"MissingHost", "GET / HTTP/1.1\r\n\r\n"},
        BadCase{"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
        BadCase{"HostWithUserinfo", "GET / HTTP/1.1\r\nHost: user@h\r\n\r\n"},
        BadCase{"HostBadPort", "GET / HTTP/1.1\r\nHost: h:99999\r\n\r\n"},
        BadCase{"HostNonNumericPort", "GET / HTTP/1.1\r\nHost: h:http\r\n\r\n"},
        BadCase{"HostUnclosedBracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"},
        BadCase{"HostBadIpv6", "GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n"},
        BadCase{"HostSlash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"},
        BadCase{"BadPercentInPath", "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n"},
        BadCase{"TruncatedPercent", "GET /a%4 HTTP/1.1\r\nHost: h\r\n\r\n"},
        BadCase{"NulInPath", "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n"},
        BadCase{"NewlineInPath", "GET /a%0d%0ab HTTP/1.1\r\nHost: h\r\n\r\n"},
        BadCase{"BadPercentInQuery", "GET /?a=%g0 HTTP/1.1\r\nHost: h\r\n\r\n"},
        BadCase{"RelativeTarget", "GET keys HTTP/1.1\r\nHost: h\r\n\r\n"},
        BadCase{"FtpTarget", "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"},
        BadCase{"BadChunk",
                "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
        BadCase{"ConflictingLengths",
                "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
        BadCase{"ChunkedAndLength",
                "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: "
                "chunked\r\n\r\n0\r\n\r\n"},
        BadCase{"NegativeLength", "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"},
        BadCase{"HeaderWithoutColon", "GET / HTTP/1.1\r\nHost: h\r\nBroken\r\n\r\n"},
        BadCase{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n"},
        BadCase{"BareLf", "GET / HTTP/1.1\nHost: h\n\n"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(ParseRequestTest, HeaderLimit) {
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  auto r = Parse(wire);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("RequestHeaderFieldsTooLarge"));
}

TEST(ParseRequestTest, HeaderLimitCountsRequestLineAndAllFields) {
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 100; ++i) many += "X-H" + std::to_string(i) + ": 0123456789\r\n";
  many += "\r\n";
  auto r = Parse(many);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);

  std::string long_target = "GET /" + std::string(1020, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  r = Parse(long_target);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);

  std::string incomplete = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(1100, 'a');
  r = Parse(incomplete);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);

  std::string fits = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(900, 'a') + "\r\n\r\n";
  EXPECT_TRUE(Parse(fits).ok());
}

TEST(ParseRequestTest, BodyLimitByContentLength) {
  auto r = Parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("RequestBodyTooLarge"));
  EXPECT_TRUE(
      Parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'))
          .ok());
}

TEST(ParseRequestTest, BodyLimitChunked) {
  std::string wire = "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) wire += "28\r\n" + std::string(40, 'x') + "\r\n";
  wire += "0\r\n\r\n";
  auto r = Parse(wire);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("RequestBodyTooLarge"));
}

TEST(ParseRequestTest, TrailingBytesAreIgnored) {
  auto r = Parse("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/a");
}

TEST(PercentDecodeTest, Cases) {
  using internal::PercentDecode;
  EXPECT_EQ(*PercentDecode("a%2Fb%2fc", false), "a/b/c");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("%e2%82%ac", false), "\xe2\x82\xac");
  EXPECT_EQ(*PercentDecode("", false), "");
  EXPECT_FALSE(PercentDecode("%", false).ok());
  EXPECT_FALSE(PercentDecode("%a", false).ok());
  EXPECT_FALSE(PercentDecode("abc%", false).ok());
  EXPECT_FALSE(PercentDecode("%-1", false).ok());
}

TEST(NormalizeHostTest, Cases) {
  using internal::NormalizeHost;
  EXPECT_EQ(*NormalizeHost("A.b:1"), "a.b");
  EXPECT_EQ(*NormalizeHost("[::FFFF:127.0.0.1]:65535"), "::ffff:127.0.0.1");
  EXPECT_EQ(*NormalizeHost(""), "");
  EXPECT_FALSE(NormalizeHost("a:65536").ok());
  EXPECT_FALSE(NormalizeHost("a:1:2").ok());
  EXPECT_FALSE(NormalizeHost("[::1]x").ok());
  EXPECT_FALSE(NormalizeHost("[]").ok());
  EXPECT_FALSE(NormalizeHost("a b").ok());
  EXPECT_FALSE(NormalizeHost("a%20b").ok());
}

}  // namespace
}  // namespace byok::http
