// Test fixture for the Key Vault management plane: an in-process ARM front end (fake bearer
// authentication "Bearer <object id>", an authorizer that allows principal "good" and records
// every action asked), a SQLite store in a temp directory, a ManualClock, the Microsoft.Resources
// provider (resource groups, cascade delete, generic listing) and the vaults provider.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "authz/authorizer.h"
#include "common/clock.h"
#include "common/random.h"
#include "gateway/frontend.h"
#include "gateway/operations.h"
#include "http/message.h"
#include "http/router.h"
#include "store/store.h"

namespace byok::keyvault::mgmt_test {

inline constexpr char kSub[] = "00000000-0000-0000-0000-00000000000a";
inline constexpr char kTenant[] = "00000000-0000-0000-0000-00000000000b";
inline constexpr char kOid[] = "11111111-2222-3333-4444-555555555555";

class RecordingAuthorizer : public authz::Authorizer {
 public:
  Result<bool> IsAllowed(std::string_view principal, std::string_view action,
                         std::string_view scope, bool) override;
  std::vector<std::string> actions;  // every action asked, in order
  std::string last_scope;
};

// A temp-dir SQLite store (removed by the destructor).
class TempStore {
 public:
  explicit TempStore(const Clock& clock);
  ~TempStore();
  store::Store& operator*() { return *store_; }
  store::Store* get() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

class MgmtTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // One request through the front end. `query` is appended to api-version (e.g. "$top=1").
  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& api_version = "2022-07-01",
                      const nlohmann::json& body = nullptr, const std::string& who = "good",
                      const std::vector<std::pair<std::string, std::string>>& query = {});
  static std::string Code(const http::Response& r);
  static nlohmann::json Body(const http::Response& r);

  std::string RgPath(const std::string& rg) const;
  std::string VaultPath(const std::string& rg, const std::string& name) const;
  // PUT a resource group in eastus (asserts success).
  void CreateGroup(const std::string& rg);
  // A create body: tenant kTenant, sku standard, one access policy for kOid, plus `extra`
  // merged into properties.
  static nlohmann::json VaultBody(const nlohmann::json& extra = nlohmann::json::object(),
                                  const std::string& location = "eastus");
  // Creates vault `name` in `rg` (asserts 200); returns the response body.
  nlohmann::json CreateVault(const std::string& rg, const std::string& name,
                             const nlohmann::json& extra = nlohmann::json::object(),
                             const std::string& api_version = "2022-07-01");
  // Completes queued long-running operations.
  void Drain() { ops_->Drain(); }

  ManualClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  SeededRandom random_{11};
  std::unique_ptr<TempStore> store_;
  RecordingAuthorizer authz_;
  std::unique_ptr<gateway::Frontend> fe_;
  std::unique_ptr<gateway::Operations> ops_;
  http::Router router_;
  std::shared_ptr<void> resources_;
};

}  // namespace byok::keyvault::mgmt_test
