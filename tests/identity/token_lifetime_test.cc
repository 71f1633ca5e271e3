// TokenService::Issue with an explicit lifetime (what `byok token --expires-in` uses).
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "identity/identity_test_helpers.h"
#include "identity/token_service.h"

namespace byok::identity {
namespace {

using json = nlohmann::json;

class TokenLifetimeTest : public test::IdentityFixture {
 protected:
  json Claims(const std::string& jwt) {
    size_t a = jwt.find('.');
    size_t b = jwt.find('.', a + 1);
    auto bytes = Base64UrlDecode(jwt.substr(a + 1, b - a - 1));
    EXPECT_TRUE(bytes.ok());
    return json::parse(ToString(*bytes));
  }
  IssuedToken Issue(int64_t lifetime) {
    auto t = service_->tokens().Issue(boot_.principal, "https://management.azure.com",
                                      AdfsIssuer("localhost:8443"), TokenVersion::kV1, lifetime);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : IssuedToken{};
  }
  ApiResult<Principal> Auth(const std::string& token) {
    return service_->authenticator().AuthenticateToken(token, Audience::kArm);
  }
};

TEST_F(TokenLifetimeTest, DefaultLifetimeIsAnHour) {
  auto t = service_->tokens().Issue(boot_.principal, "https://management.azure.com",
                                    AdfsIssuer("localhost:8443"), TokenVersion::kV1);
  ASSERT_TRUE(t.ok());
  json c = Claims(t->access_token);
  EXPECT_EQ(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), kAccessTokenLifetimeSeconds);
  EXPECT_EQ(t->expires_in, kAccessTokenExpiresIn);
}

TEST_F(TokenLifetimeTest, ShortLifetime) {
  IssuedToken t = Issue(600);
  json c = Claims(t.access_token);
  EXPECT_EQ(c["exp"].get<int64_t>(), clock_.NowUnix() + 600);
  EXPECT_EQ(c["iat"].get<int64_t>(), clock_.NowUnix());
  EXPECT_EQ(c["nbf"].get<int64_t>(), clock_.NowUnix());
  EXPECT_EQ(t.expires_in, 600);
  EXPECT_TRUE(Auth(t.access_token).ok());
}

TEST_F(TokenLifetimeTest, NegativeLifetimeIsAnAlreadyExpiredToken) {
  IssuedToken t = Issue(-7200);
  json c = Claims(t.access_token);
  const int64_t now = clock_.NowUnix();
  EXPECT_EQ(c["exp"].get<int64_t>(), now - 7200);
  EXPECT_EQ(c["iat"].get<int64_t>(), now - 7200 - kAccessTokenLifetimeSeconds);
  EXPECT_EQ(c["nbf"], c["iat"]);
  EXPECT_EQ(t.expires_on, now - 7200);
  auto p = Auth(t.access_token);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "ExpiredAuthenticationToken");
}

}  // namespace
}  // namespace byok::identity
