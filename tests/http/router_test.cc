#include "http/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace byok::http {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// A handler that answers with its own name, so a match can be identified.
Handler Named(std::string name) {
  return [name](Request&) { return Response::Json(200, name); };
}

std::string Call(const Router::Match& m) {
  if (m.handler == nullptr) return "<none>";
  Request r;
  return (*m.handler)(r).body;
}

TEST(RouterTest, LiteralSegmentsMatchCaseInsensitivelyAndCapturesKeepCase) {
  Router r;
  r.Add("PUT", "*", "/subscriptions/{sub}/resourcegroups/{rg}", Named("rg"));
  auto m = r.Find("PUT", "localhost", "/Subscriptions/ABC/resourceGroups/MyRG");
  EXPECT_EQ(Call(m), "\"rg\"");
  EXPECT_THAT(m.params, UnorderedElementsAre(Pair("sub", "ABC"), Pair("rg", "MyRG")));
}

TEST(RouterTest, CaptureNeedsANonEmptySegmentAndExactSegmentCount) {
  Router r;
  r.Add("GET", "*", "/keys/{name}", Named("key"));
  EXPECT_EQ(r.Find("GET", "h", "/keys/").handler, nullptr);
  EXPECT_EQ(r.Find("GET", "h", "/keys").handler, nullptr);
  EXPECT_EQ(r.Find("GET", "h", "/keys/a/b").handler, nullptr);
  EXPECT_EQ(r.Find("GET", "h", "/keys//").handler, nullptr);
  EXPECT_NE(r.Find("GET", "h", "/keys/a").handler, nullptr);
}

TEST(RouterTest, TrailingSlashIsTolerated) {
  Router r;
  r.Add("GET", "*", "/keys/{name}", Named("key"));
  auto m = r.Find("GET", "v.vault.localhost", "/keys/k/");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_THAT(m.params, ElementsAre(Pair("name", "k")));
}

TEST(RouterTest, MatchCarriesTheRoutesDispatch) {
  Router r;
  r.Add("POST", "*", "/keys/{name}/{version}/unwrapkey", Named("unwrap"), Dispatch::kInline);
  r.Add("GET", "*", "/keys/{name}", Named("get"));
  Router::Match m = r.Find("POST", "h", "/keys/k/v/unwrapkey");
  EXPECT_EQ(Call(m), "\"unwrap\"");
  EXPECT_EQ(m.dispatch, Dispatch::kInline);
  m = r.Find("GET", "h", "/keys/k");
  EXPECT_EQ(Call(m), "\"get\"");
  EXPECT_EQ(m.dispatch, Dispatch::kWorker);
}

TEST(RouterTest, RootPath) {
  Router r;
  r.Add("GET", "*", "/", Named("root"));
  EXPECT_EQ(Call(r.Find("GET", "h", "/")), "\"root\"");
  EXPECT_EQ(r.Find("GET", "h", "/x").handler, nullptr);
  EXPECT_EQ(r.Find("GET", "h", "").handler, nullptr);
  EXPECT_EQ(r.Find("GET", "h", "*").handler, nullptr);
}

TEST(RouterTest, RestCapturesTheRemainderIncludingEmpty) {
  Router r;
  r.Add("*", "*", "/graph/{*rest}", Named("graph"));
  auto m = r.Find("POST", "h", "/graph/v1.0/directoryObjects/getByIds");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_THAT(m.params, ElementsAre(Pair("rest", "v1.0/directoryObjects/getByIds")));
  m = r.Find("GET", "h", "/graph");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_THAT(m.params, ElementsAre(Pair("rest", "")));
  m = r.Find("GET", "h", "/graph/");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_THAT(m.params, ElementsAre(Pair("rest", "")));
  m = r.Find("GET", "h", "/graph/a/b/");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_THAT(m.params, ElementsAre(Pair("rest", "a/b/")));
  EXPECT_EQ(r.Find("GET", "h", "/graphs").handler, nullptr);
}

TEST(RouterTest, LiteralBeatsCaptureBeatsRestRegardlessOfOrder) {
  Router r;
  r.Add("*", "*", "/keys/{*rest}", Named("rest"));
  r.Add("POST", "*", "/keys/{name}/create", Named("capture"));
  r.Add("POST", "*", "/keys/special/create", Named("literal"));
  EXPECT_EQ(Call(r.Find("POST", "h", "/keys/special/create")), "\"literal\"");
  EXPECT_EQ(Call(r.Find("POST", "h", "/KEYS/Special/Create")), "\"literal\"");
  EXPECT_EQ(Call(r.Find("POST", "h", "/keys/other/create")), "\"capture\"");
  EXPECT_EQ(Call(r.Find("POST", "h", "/keys/other/x")), "\"rest\"");
}

TEST(RouterTest, EarlierLiteralPositionWins) {
  Router r;
  r.Add("GET", "*", "/{a}/b", Named("second-literal"));
  r.Add("GET", "*", "/a/{b}", Named("first-literal"));
  EXPECT_EQ(Call(r.Find("GET", "h", "/a/b")), "\"first-literal\"");
}

TEST(RouterTest, InsertionOrderBreaksTies) {
  Router r;
  r.Add("GET", "*", "/x/{a}", Named("first"));
  r.Add("GET", "*", "/x/{b}", Named("second"));
  EXPECT_EQ(Call(r.Find("GET", "h", "/x/1")), "\"first\"");
}

TEST(RouterTest, ExactMethodBeatsAnyMethodAtEqualSpecificity) {
  Router r;
  r.Add("*", "*", "/x", Named("any"));
  r.Add("GET", "*", "/x", Named("get"));
  EXPECT_EQ(Call(r.Find("GET", "h", "/x")), "\"get\"");
  EXPECT_EQ(Call(r.Find("DELETE", "h", "/x")), "\"any\"");
}

TEST(RouterTest, HostSpecificity) {
  Router r;
  r.Add("GET", "*", "/", Named("any"));
  r.Add("GET", "*.vault.localhost", "/", Named("vault"));
  r.Add("GET", "special.vault.localhost", "/", Named("exact"));
  EXPECT_EQ(Call(r.Find("GET", "localhost", "/")), "\"any\"");
  EXPECT_EQ(Call(r.Find("GET", "special.vault.localhost", "/")), "\"exact\"");
  auto m = r.Find("GET", "myvault.vault.localhost", "/");
  EXPECT_EQ(Call(m), "\"vault\"");
  EXPECT_THAT(m.params, ElementsAre(Pair("host_label", "myvault")));
}

TEST(RouterTest, HostWildcardIsExactlyOneLabel) {
  Router r;
  r.Add("GET", "*.vault.localhost", "/keys/{name}", Named("vault"));
  EXPECT_EQ(r.Find("GET", "vault.localhost", "/keys/k").handler, nullptr);
  EXPECT_EQ(r.Find("GET", ".vault.localhost", "/keys/k").handler, nullptr);
  EXPECT_EQ(r.Find("GET", "a.b.vault.localhost", "/keys/k").handler, nullptr);
  EXPECT_EQ(r.Find("GET", "avault.localhost", "/keys/k").handler, nullptr);
  auto m = r.Find("GET", "kv1.vault.localhost", "/keys/K1");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_THAT(m.params, UnorderedElementsAre(Pair("host_label", "kv1"), Pair("name", "K1")));
}

TEST(RouterTest, ExactHostPatternIsCaseInsensitive) {
  Router r;
  r.Add("GET", "LocalHost", "/", Named("local"));
  EXPECT_NE(r.Find("GET", "localhost", "/").handler, nullptr);
  EXPECT_EQ(r.Find("GET", "127.0.0.1", "/").handler, nullptr);
}

TEST(RouterTest, MethodMismatchIsReportedFor405) {
  Router r;
  r.Add("GET", "*", "/keys/{name}", Named("get"));
  r.Add("DELETE", "*", "/keys/{name}", Named("delete"));
  r.Add("GET", "other", "/keys/{name}", Named("other-host"));
  auto m = r.Find("PATCH", "localhost", "/keys/k");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_matched_other_method);
  EXPECT_THAT(m.allowed_methods, ElementsAre("DELETE", "GET"));
  EXPECT_THAT(m.params, IsEmpty());

  auto none = r.Find("PATCH", "localhost", "/nothing");
  EXPECT_EQ(none.handler, nullptr);
  EXPECT_FALSE(none.path_matched_other_method);
}

TEST(RouterTest, MethodIsCaseSensitive) {
  Router r;
  r.Add("GET", "*", "/x", Named("get"));
  EXPECT_EQ(r.Find("get", "h", "/x").handler, nullptr);
}

TEST(RouterTest, ParamsComeFromTheWinningRouteOnly) {
  Router r;
  r.Add("GET", "*", "/a/{x}", Named("capture"));
  r.Add("GET", "*", "/a/b", Named("literal"));
  auto m = r.Find("GET", "h", "/a/b");
  EXPECT_EQ(Call(m), "\"literal\"");
  EXPECT_THAT(m.params, IsEmpty());
}

TEST(RouterDeathTest, BadPatternsAbort) {
  EXPECT_DEATH(Router().Add("GET", "*", "no-slash", Named("x")), "must start with");
  EXPECT_DEATH(Router().Add("GET", "*", "/{*rest}/x", Named("x")), "must be last");
  EXPECT_DEATH(Router().Add("GET", "*", "/{a}/{a}", Named("x")), "duplicate");
  EXPECT_DEATH(Router().Add("GET", "*", "/a{b}", Named("x")), "braces");
  EXPECT_DEATH(Router().Add("GET", "a.*.b", "/", Named("x")), "host");
  EXPECT_DEATH(Router().Add("GET", "*", "/", Handler()), "null handler");
}

}  // namespace
}  // namespace byok::http
