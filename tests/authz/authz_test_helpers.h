// Shared fixtures for the authz tests: a private temp directory with a real SQLite store (manual
// clock), an Rbac over it with a known set of principals, and request/assertion helpers.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "authz/rbac.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/random.h"
#include "store/store.h"

namespace byok::authz::test {

inline constexpr char kTenant[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";
inline constexpr char kSub[] = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2";
inline constexpr char kOtherSub[] = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
// Principals the directory knows (RbacTest registers them).
inline constexpr char kAlice[] = "ce2ce14e-85d7-4629-bdbc-454d0519d987";
inline constexpr char kBob[] = "46c5a1d8-d5ac-453b-a00c-87ae59271eab";
inline constexpr char kCarol[] = "bc46cb3a-97e9-4d05-8e76-d2659a531a33";
inline constexpr char kCaller[] = "24bd450f-6acd-4c09-8eba-9a43207e2bdc";
// A GUID no principal has.
inline constexpr char kStranger[] = "0f14a80d-42e5-4d57-afe0-46acf9dfae05";

// "/subscriptions/{kSub}", "/subscriptions/{kSub}/resourceGroups/{rg}", a vault and a key in it.
std::string SubScope();
std::string RgScope(std::string_view rg);
std::string VaultScope(std::string_view rg, std::string_view vault);
std::string KeyScope(std::string_view rg, std::string_view vault, std::string_view key);
// "/subscriptions/{kSub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
std::string RoleDefId(std::string_view guid);

// {"properties":{"roleDefinitionId":..., "principalId":..., "principalType":"ServicePrincipal"}}
nlohmann::json AssignmentBody(std::string_view role_guid, std::string_view principal);

// A fresh directory from mkdtemp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// 2024-01-02T03:04:05Z, the start of every test clock.
TimePoint TestEpoch();

class RbacTest : public ::testing::Test {
 public:  // fixtures and free helpers of the tests use these
  RbacTest();
  void SetUp() override;

  // Opens the store and the Rbac (again after Close()).
  void Open();
  void Close();
  void Reopen() {
    Close();
    Open();
  }

  // PUT with a fresh GUID name (or `name`) by kCaller; the ApiResult as is.
  ApiResult<ApiResponse> Create(std::string_view scope, std::string_view role_guid,
                                std::string_view principal, std::string name = "");
  // Like Create but fails the test unless it answers 201; returns the new assignment's name.
  std::string Assign(std::string_view scope, std::string_view role_guid,
                     std::string_view principal);
  // IsAllowed, failing the test on an error status.
  bool Allowed(std::string_view principal, std::string_view action, std::string_view scope,
               bool data_action = false);
  std::string NewGuid() { return names_.Uuid(); }
  void AddPrincipal(const std::string& id);

  TempDir dir_;
  ManualClock clock_;
  SeededRandom names_{42};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Rbac> rbac_;
  std::mutex principals_mu_;
  std::set<std::string> principals_;
};

// gtest printers/expectations for ApiResult.
#define EXPECT_API_ERROR(result, status, error_code)                        \
  do {                                                                      \
    const auto& api_r_ = (result);                                          \
    ASSERT_FALSE(api_r_.ok()) << "expected " << (error_code);               \
    EXPECT_EQ(api_r_.error().http_status, (status));                        \
    EXPECT_EQ(api_r_.error().code, (error_code)) << api_r_.error().message; \
  } while (0)

#define ASSERT_API_OK(result)                                                          \
  do {                                                                                 \
    const auto& api_r_ = (result);                                                     \
    ASSERT_TRUE(api_r_.ok()) << api_r_.error().code << ": " << api_r_.error().message; \
  } while (0)

#define EXPECT_API_OK_STATUS(result, status)                                           \
  do {                                                                                 \
    const auto& api_r_ = (result);                                                     \
    EXPECT_TRUE(api_r_.ok()) << api_r_.error().code << ": " << api_r_.error().message; \
    if (api_r_.ok()) {                                                                 \
      EXPECT_EQ(api_r_.value().http_status, (status));                                 \
    }                                                                                  \
  } while (0)

}  // namespace byok::authz::test
