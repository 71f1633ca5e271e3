// Shared fixtures for the identity tests: temp directories, a real SQLite store with a
// ManualClock, a bootstrapped IdentityService with its routes, and calling route handlers
// directly with constructed requests (no TLS).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "http/message.h"
#include "http/router.h"
#include "identity/bootstrap.h"
#include "identity/identity_service.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"
#include "store/store.h"

#define ASSERT_OK(expr)                                                         \
  do {                                                                          \
    const ::byok::Status assert_ok_s_ = ::byok::identity::test::ToStatus(expr); \
    ASSERT_TRUE(assert_ok_s_.ok()) << assert_ok_s_.ToString();                  \
  } while (0)
#define EXPECT_OK(expr)                                                         \
  do {                                                                          \
    const ::byok::Status expect_ok_s_ = ::byok::identity::test::ToStatus(expr); \
    EXPECT_TRUE(expect_ok_s_.ok()) << expect_ok_s_.ToString();                  \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(BYOK_CONCAT_(assert_result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)  \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

namespace byok::identity::test {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}

// A fresh directory from mkdtemp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// 2024-01-02T03:04:05Z.
TimePoint TestEpoch();
int64_t TestEpochUnix();

// A fixed root key.
store::RootKey TestRootKey();

// The whole file ("" if missing).
std::string ReadFileOrEmpty(const std::string& path);

// The base URLs the fixtures configure.
inline const std::vector<std::string> kTestBaseUrls = {"https://localhost:8443",
                                                       "https://127.0.0.1:8443"};

// A request as the server would hand it to a handler. `target` is origin-form with an optional
// query; `host_header` is the Host header as sent ("localhost:8443"; "" for none).
http::Request MakeRequest(std::string method, std::string target, std::string host_header,
                          std::string body = "",
                          std::vector<std::pair<std::string, std::string>> headers = {});

// application/x-www-form-urlencoded from pairs.
std::string FormBody(const std::vector<std::pair<std::string, std::string>>& fields);

// Decodes a JWT's claims without verifying (test inspection only).
nlohmann::json JwtClaims(const std::string& token);

// A SQLite store in a temp dir with a ManualClock at TestEpoch().
class StoreFixture : public ::testing::Test {
 protected:
  StoreFixture() : clock_(TestEpoch()) {}
  void SetUp() override { OpenStore(); }
  void OpenStore();
  void ReopenStore();

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
};

// StoreFixture + Bootstrap + IdentityService (base URLs kTestBaseUrls) + routes.
class IdentityFixture : public StoreFixture {
 protected:
  void SetUp() override;

  DirectoryOptions FastDirectoryOptions() const {
    DirectoryOptions o;
    o.pbkdf2_iterations = kMinPbkdf2Iterations;
    return o;
  }
  // Routes the request through router_ and runs its handler (404/405 as plain statuses).
  http::Response Call(http::Request req);
  // A bearer token for `principal` and `resource` with the ADFS issuer on localhost:8443.
  std::string TokenFor(const Principal& principal, std::string_view resource,
                       std::string_view authority = "localhost:8443");
  // A service principal with its secret.
  ServicePrincipalCredentials NewServicePrincipal(std::string_view name = "app");
  Principal PrincipalOf(const ServicePrincipalCredentials& c);

  BootstrapResult boot_;
  std::unique_ptr<IdentityService> service_;
  http::Router router_;
};

}  // namespace byok::identity::test
