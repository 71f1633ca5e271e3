// Headers, Response factories, the error table and the access-log line format.
#include "http/message.h"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/errors.h"
#include "http/internal/access_log.h"
#include "http/internal/response_head.h"

namespace byok::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

TEST(HeadersTest, CaseInsensitiveOrderKeptMultipleValues) {
  Headers h;
  h.Add("Accept", "a");
  h.Add("X-Thing", "1");
  h.Add("x-thing", "2");
  EXPECT_EQ(h.Get("X-THING"), "1");
  EXPECT_THAT(h.GetAll("x-Thing"), ElementsAre("1", "2"));
  EXPECT_TRUE(h.Has("accept"));
  EXPECT_FALSE(h.Has("accepts"));
  EXPECT_EQ(h.Get("missing"), std::nullopt);
  EXPECT_THAT(h, ElementsAre(Pair("Accept", "a"), Pair("X-Thing", "1"), Pair("x-thing", "2")));

  h.Set("X-THING", "3");  // replaces both, at the first one's position
  EXPECT_THAT(h, ElementsAre(Pair("Accept", "a"), Pair("X-THING", "3")));
  h.Set("New", "n");
  EXPECT_THAT(h, ElementsAre(Pair("Accept", "a"), Pair("X-THING", "3"), Pair("New", "n")));
  h.Remove("accept");
  EXPECT_THAT(h, ElementsAre(Pair("X-THING", "3"), Pair("New", "n")));
  EXPECT_EQ(h.size(), 2u);
}

TEST(ResponseTest, Json) {
  Response r = Response::Json(201, {{"a", 1}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers.Get("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.body, R"({"a":1})");
}

TEST(ResponseTest, JsonReplacesInvalidUtf8InsteadOfThrowing) {
  Response r = Response::Json(200, {{"name", std::string("a\xff")}});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("\"name\""));
}

TEST(ResponseTest, ErrorEnvelope) {
  Response r = Response::Error(MakeError(errors::kNotFound, "/x"));
  EXPECT_EQ(r.status, 404);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "NotFound");
  EXPECT_EQ(j["error"]["message"], "The requested resource '/x' was not found on this server.");
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json; charset=utf-8");
}

TEST(ResponseTest, Empty) {
  Response r = Response::Empty(204);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.headers.empty());
}

TEST(ErrorTableTest, StatusesAndUniqueCodes) {
  const ErrorSpec* all[] = {&errors::kNotFound,
                            &errors::kMethodNotAllowed,
                            &errors::kRequestBodyTooLarge,
                            &errors::kRequestHeadersTooLarge,
                            &errors::kBadRequest,
                            &errors::kExpectationFailed,
                            &errors::kHttpsRequired,
                            &errors::kInternalServerError,
                            &errors::kServerShuttingDown,
                            &errors::kServerBusy};
  std::set<std::string_view> codes;
  for (const ErrorSpec* s : all) {
    EXPECT_TRUE(codes.insert(s->code).second) << s->code;
    EXPECT_GE(s->http_status, 400);
    EXPECT_LE(s->http_status, 599);
  }
  EXPECT_EQ(errors::kMethodNotAllowed.http_status, 405);
  EXPECT_EQ(errors::kRequestBodyTooLarge.http_status, 413);
  EXPECT_EQ(errors::kRequestHeadersTooLarge.http_status, 431);
  EXPECT_EQ(errors::kInternalServerError.http_status, 500);
  EXPECT_EQ(errors::kServerShuttingDown.http_status, 503);
}

TEST(AccessLogTest, RedactsSensitiveQueryValues) {
  using internal::RedactTarget;
  EXPECT_EQ(RedactTarget("/a/b"), "/a/b");
  EXPECT_EQ(RedactTarget("/token?client_secret=s3cr3t&api-version=1&code=abc&x"),
            "/token?client_secret=REDACTED&api-version=1&code=REDACTED&x");
  EXPECT_EQ(RedactTarget("/?Password=p&SIG=s&access_token=t&client_assertion=a&b=1"),
            "/?Password=REDACTED&SIG=REDACTED&access_token=REDACTED&client_assertion=REDACTED&b=1");
  EXPECT_EQ(RedactTarget("/?client%5Fsecret=x"), "/?client%5Fsecret=REDACTED");
  EXPECT_EQ(RedactTarget("/?%zz=x"), "/?%zz=REDACTED");
  EXPECT_EQ(RedactTarget("/?"), "/?");
}

TEST(AccessLogTest, LineFormatEscapesAndTruncates) {
  internal::AccessRecord r;
  r.remote = "127.0.0.1:5";
  r.method = "GET";
  r.target = "/x?token=abc";
  r.status = 200;
  r.response_bytes = 12;
  r.duration_us = 345;
  r.request_id = "rid";
  r.user_agent =
      "evil\"\n\x01"
      "agent";
  std::string line = internal::FormatAccessLine(r);
  EXPECT_EQ(line, R"(127.0.0.1:5 "GET /x?token=REDACTED" 200 12 345us rid "evil\"\x0a\x01agent")");
  r.principal = "0b1c\"oid";
  EXPECT_EQ(
      internal::FormatAccessLine(r),
      R"(127.0.0.1:5 "GET /x?token=REDACTED" 200 12 345us rid "evil\"\x0a\x01agent" oid=0b1c\"oid)");
  r.principal = "";
  std::string long_target = "/" + std::string(5000, 'a');
  r.target = long_target;
  line = internal::FormatAccessLine(r);
  EXPECT_LT(line.size(), 2300u);
  EXPECT_THAT(line, HasSubstr("..."));
  r.method = "";
  EXPECT_THAT(internal::FormatAccessLine(r), HasSubstr("\"-\""));
  EXPECT_THAT(internal::FormatAccessLine(r), Not(HasSubstr("aaaa")));
}

TEST(ResponseHeadTest, SerializesStandardFields) {
  Response r = Response::Json(201, {{"a", 1}});
  r.headers.Add("Location", "https://localhost/x");
  r.headers.Add("Content-Length", "99");       // the server's
  r.headers.Add("X-Bad", "a\r\nInjected: 1");  // response splitting
  r.headers.Add("Bad Name", "v");              // not a token
  internal::ResponseContext ctx;
  ctx.request_id = "rid";
  ctx.client_request_id = "cid";
  ctx.now = std::chrono::system_clock::from_time_t(784111777);  // RFC 9110's example date
  std::vector<std::string> dropped;
  std::string head = internal::SerializeResponseHead(r, ctx, &dropped);
  EXPECT_EQ(head,
            "HTTP/1.1 201 Created\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            "Location: https://localhost/x\r\n"
            "x-ms-request-id: rid\r\n"
            "x-ms-client-request-id: cid\r\n"
            "x-ms-correlation-request-id: rid\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Server: byok\r\n"
            "Content-Length: 7\r\n"
            "\r\n");
  EXPECT_THAT(dropped, ElementsAre("X-Bad", "Bad Name"));
}

TEST(ResponseHeadTest, ConnectionAndBodylessStatuses) {
  internal::ResponseContext ctx;
  ctx.request_id = "rid";
  ctx.correlation_id = "corr";
  ctx.keep_alive = false;
  std::string head = internal::SerializeResponseHead(Response::Empty(204), ctx, nullptr);
  EXPECT_THAT(head, HasSubstr("HTTP/1.1 204 No Content\r\n"));
  EXPECT_THAT(head, HasSubstr("x-ms-correlation-request-id: corr\r\n"));
  EXPECT_THAT(head, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(head, Not(HasSubstr("Content-Length")));
  ctx.keep_alive = true;
  ctx.request_version = 10;
  head = internal::SerializeResponseHead(Response::Json(200, "x"), ctx, nullptr);
  EXPECT_THAT(head, HasSubstr("Connection: keep-alive\r\n"));
  ctx.head = true;
  head = internal::SerializeResponseHead(Response::Json(200, "abc"), ctx, nullptr);
  EXPECT_THAT(head, HasSubstr("Content-Length: 5\r\n"));  // what GET would send
  EXPECT_FALSE(internal::ResponseHasBody(200, /*head=*/true));
  EXPECT_FALSE(internal::ResponseHasBody(304, false));
  EXPECT_TRUE(internal::ResponseHasBody(404, false));
  EXPECT_EQ(internal::ReasonPhrase(299), "Unknown");
  EXPECT_EQ(internal::ReasonPhrase(431), "Request Header Fields Too Large");
}

}  // namespace
}  // namespace byok::http
