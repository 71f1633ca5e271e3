// The admin API (admin_routes.h) and its client (admin_client.h) against a real Daemon.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "common/clock.h"
#include "common/duration.h"
#include "common/files.h"
#include "common/json.h"
#include "daemon/admin_client.h"
#include "daemon/daemon.h"
#include "daemon/data_dir.h"
#include "daemon/emulated_clock.h"
#include "http/client.h"
#include "identity/admin.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::daemon {
namespace {

using nlohmann::json;

class AdminTest : public ::testing::Test {
 protected:
  AdminTest() {
    char tmpl[] = "/tmp/byok-admin-XXXXXX";
    tmp_ = mkdtemp(tmpl);
    opts_.data_dir = tmp_ + "/data";
    opts_.port = 0;
    opts_.nbd_listen = "127.0.0.1:0";
    opts_.shutdown_grace = std::chrono::milliseconds(200);
    dir_ = ResolveDataDir(opts_.data_dir);
  }
  ~AdminTest() override {
    daemon_.reset();
    std::filesystem::remove_all(tmp_);
  }

  void Start() {
    auto d = Daemon::Start(opts_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
  }
  void Stop() {
    daemon_->Shutdown();
    daemon_->Wait();
    daemon_.reset();
  }

  http::ClientResponse Raw(std::string_view method, const std::string& path,
                           const std::string& token, const std::string& body = "") {
    http::ClientOptions co;
    co.ca_file = daemon_->ca_path();
    http::Headers h;
    if (!token.empty()) h.Set("Authorization", "Bearer " + token);
    if (!body.empty()) h.Set("Content-Type", "application/json");
    auto r = http::HttpsRequest(method, daemon_->url() + path, h, body, co);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : http::ClientResponse{};
  }

  static json Body(const http::ClientResponse& r) {
    auto j = ParseJsonBody(r.body);
    return j.ok() ? *j : json();
  }

  std::string tmp_;
  DaemonOptions opts_;
  DataDir dir_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(AdminTest, ClockShowAdvanceAndRestartKeepsTheOffset) {
  Start();
  auto shown = ClockShow(dir_);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ((*shown)["offsetSeconds"], 0);
  EXPECT_EQ((*shown)["server"], true);

  for (const char* d : {"30m", "1h", "91d", "P91D"}) {
    ASSERT_TRUE(ClockAdvance(dir_, d).ok()) << d;
  }
  const int64_t expected = 1800 + 3600 + 2 * 91 * 86400;
  auto after = ClockShow(dir_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["offsetSeconds"], expected);
  auto now = ParseTimestamp((*after)["now"].get<std::string>());
  ASSERT_TRUE(now.ok());
  auto ahead = *now - SystemClock::Instance().Now();
  EXPECT_GT(ahead, std::chrono::seconds(expected - 60));
  EXPECT_LT(ahead, std::chrono::seconds(expected + 60));

  auto back = ClockAdvance(dir_, "-1h");
  EXPECT_TRUE(back.status().Is(StatusCode::kInvalidArgument));
  auto bad = ClockAdvance(dir_, "ninety days");
  EXPECT_TRUE(bad.status().Is(StatusCode::kInvalidArgument));

  Stop();
  // Offline: read from the store, and advanced under the data-directory lock.
  auto offline = ClockShow(dir_);
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  EXPECT_EQ((*offline)["offsetSeconds"], expected);
  EXPECT_EQ((*offline)["server"], false);
  auto adv = ClockAdvance(dir_, "1d");
  ASSERT_TRUE(adv.ok()) << adv.status().ToString();
  EXPECT_EQ((*adv)["offsetSeconds"], expected + 86400);

  Start();
  auto restarted = ClockShow(dir_);
  ASSERT_TRUE(restarted.ok());
  EXPECT_EQ((*restarted)["offsetSeconds"], expected + 86400);
}

TEST_F(AdminTest, RawEndpointsAndErrors) {
  Start();
  auto token = MintToken(dir_, {});
  ASSERT_TRUE(token.ok()) << token.status().ToString();

  auto clock = Raw("GET", "/_byok/admin/clock", *token);
  EXPECT_EQ(clock.status, 200);
  EXPECT_TRUE(Body(clock).contains("now"));

  auto neg = Raw("POST", "/_byok/admin/clock/advance", *token, R"({"duration":"-2h"})");
  EXPECT_EQ(neg.status, 400);
  EXPECT_EQ(Body(neg)["error"]["code"], "ClockCannotMoveBackwards");
  auto missing = Raw("POST", "/_byok/admin/clock/advance", *token, "{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Body(missing)["error"]["code"], "InvalidRequestContent");
  auto junk = Raw("POST", "/_byok/admin/clock/advance", *token, R"({"duration":"soon"})");
  EXPECT_EQ(junk.status, 400);
  EXPECT_EQ(Body(junk)["error"]["code"], "InvalidDuration");
  auto adv = Raw("POST", "/_byok/admin/clock/advance", *token, R"({"duration":"PT1H30M"})");
  EXPECT_EQ(adv.status, 200);
  EXPECT_EQ(Body(adv)["offsetSeconds"], 5400);
  EXPECT_EQ(Body(adv)["offset"], "1h30m");

  auto audit = Raw("GET", "/_byok/admin/audit?vault=v&since=1h", *token);
  EXPECT_EQ(audit.status, 200);
  EXPECT_TRUE(Body(audit)["value"].is_array());
  auto bad_since = Raw("GET", "/_byok/admin/audit?since=yesterday", *token);
  EXPECT_EQ(bad_since.status, 400);

  // No token, an expired token: 401 as ARM answers, with a challenge.
  auto none = Raw("GET", "/_byok/admin/clock", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Body(none)["error"]["code"], "AuthenticationFailed");
  EXPECT_TRUE(none.headers.Has("WWW-Authenticate"));
  TokenRequest expired_req;
  expired_req.expires_in = "-2h";
  auto expired = MintToken(dir_, expired_req);
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  auto refused = Raw("GET", "/_byok/admin/clock", *expired);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(Body(refused)["error"]["code"], "ExpiredAuthenticationToken");
  EXPECT_NE(refused.headers.Get("WWW-Authenticate").value_or("").find("invalid_token"),
            std::string::npos);

  // Token requests: limits and unknown principals.
  auto too_long = Raw("POST", "/_byok/admin/token", *token, R"({"expiresIn":"2d"})");
  EXPECT_EQ(too_long.status, 400);
  auto unknown = Raw("POST", "/_byok/admin/token", *token, R"({"appId":"nobody"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Body(unknown)["error"]["code"], "PrincipalNotFound");
  auto bad_res =
      Raw("POST", "/_byok/admin/token", *token, R"({"resource":"https://example.com/"})");
  EXPECT_EQ(bad_res.status, 400);
  auto ok = Raw("POST", "/_byok/admin/token", *token,
                R"({"resource":"https://vault.azure.net","expiresIn":"10m"})");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Body(ok)["expires_in"], 600);
  EXPECT_EQ(Body(ok)["resource"], "https://vault.azure.net");
  // A Key Vault token is not an ARM token.
  auto kv = Raw("GET", "/_byok/admin/clock", Body(ok)["access_token"].get<std::string>());
  EXPECT_EQ(kv.status, 401);
}

TEST_F(AdminTest, DiskRoutesCheckTheIdTheCallerAndTheDisk) {
  Start();
  EXPECT_NE(daemon_->nbd_port(), 0);
  EXPECT_EQ(daemon_->nbd_socket(), dir_.nbd_socket());
  auto info = ReadServerInfo(dir_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->nbd_port, daemon_->nbd_port());
  EXPECT_EQ(info->nbd_socket, dir_.nbd_socket());

  auto token = MintToken(dir_, {});
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto creds = ParseJsonBody(*ReadFile(dir_.Path("credentials.json")));
  ASSERT_TRUE(creds.ok());
  std::string disk = "/subscriptions/" + (*creds)["subscription"].get<std::string>() +
                     "/resourceGroups/rg/providers/Microsoft.Compute/disks/nope";

  auto bad = Raw("POST", "/_byok/admin/disks/attach", *token, R"({"diskId":"/subscriptions/x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"]["code"], "InvalidParameter");
  auto missing = Raw("POST", "/_byok/admin/disks/detach", *token, "{}");
  EXPECT_EQ(missing.status, 400);
  auto unknown = Raw("POST", "/_byok/admin/disks/attach", *token, json{{"diskId", disk}}.dump());
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Body(unknown)["error"]["code"], "ResourceNotFound");
  auto inspect = Raw("GET", "/_byok/admin/disks/inspect?diskId=" + disk, *token);
  EXPECT_EQ(inspect.status, 404);
  auto attach = DiskAttach(dir_, disk);
  EXPECT_TRUE(attach.status().Is(StatusCode::kNotFound)) << attach.status().ToString();
  EXPECT_TRUE(DiskDetach(dir_, disk).Is(StatusCode::kNotFound));

  // A principal without a role on the disk.
  identity::AdminOptions ao;
  ao.data_dir = dir_.root;
  ao.pbkdf2_iterations = 1000;
  auto sp = identity::AdminCreateServicePrincipal(ao, "no-disk-access");
  ASSERT_TRUE(sp.ok()) << sp.status().ToString();
  TokenRequest req;
  req.app_id = (*sp)["appId"].get<std::string>();
  auto plain = MintToken(dir_, req);
  ASSERT_TRUE(plain.ok());
  auto denied = Raw("POST", "/_byok/admin/disks/attach", *plain, json{{"diskId", disk}}.dump());
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("Microsoft.Compute/disks/beginGetAccess/action"), std::string::npos);
  auto denied_read = Raw("GET", "/_byok/admin/disks/inspect?diskId=" + disk, *plain);
  EXPECT_EQ(denied_read.status, 403);
  EXPECT_NE(denied_read.body.find("Microsoft.Compute/disks/read"), std::string::npos);
}

TEST_F(AdminTest, NonAdminPrincipalIsRefused) {
  Start();
  identity::AdminOptions ao;
  ao.data_dir = dir_.root;
  ao.pbkdf2_iterations = 1000;
  auto sp = identity::AdminCreateServicePrincipal(ao, "plain");
  ASSERT_TRUE(sp.ok()) << sp.status().ToString();
  TokenRequest req;
  req.app_id = (*sp)["appId"].get<std::string>();
  auto token = MintToken(dir_, req);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  for (auto [method, path] : {std::pair<const char*, const char*>{"GET", "/_byok/admin/clock"},
                              {"POST", "/_byok/admin/clock/advance"},
                              {"GET", "/_byok/admin/audit"},
                              {"POST", "/_byok/admin/token"}}) {
    auto r = Raw(method, path, *token, R"({"duration":"1d"})");
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_EQ(Body(r)["error"]["code"], "AuthorizationFailed") << path;
    EXPECT_NE(r.body.find("Microsoft.Authorization/roleAssignments/write"), std::string::npos);
  }
  auto shown = ClockShow(dir_);
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ((*shown)["offsetSeconds"], 0);  // the refused advance did nothing
}

TEST_F(AdminTest, AuditRecordsOfflineAndOnline) {
  Start();
  Stop();
  {
    // Write two records straight into the store, as byokd's audit log would.
    store::RootKeyOptions rk;
    rk.data_dir = dir_.root;
    auto key = store::LoadOrCreateRootKey(rk);
    ASSERT_TRUE(key.ok());
    store::SqliteOptions so;
    so.data_dir = dir_.root;
    auto st = store::OpenSqliteStore(so, SystemClock::Instance(), std::move(key).value());
    ASSERT_TRUE(st.ok());
    auto log = audit::AuditLog::Open(**st, SystemClock::Instance());
    audit::Record a;
    a.vault = "Vault1";
    a.operation = "KeyCreate";
    a.object = "k";
    a.version = "abc";
    a.status = 200;
    a.result = "Success";
    log->Append(a);
    a.vault = "vault2";
    a.operation = "KeyUnwrap";
    log->Append(a);
    ASSERT_TRUE(log->Flush().ok());
  }
  AuditFilter f;
  auto all = AuditRecords(dir_, f);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0]["operation"], "KeyCreate");
  std::string table = FormatAuditTable(*all);
  EXPECT_NE(table.find("KeyUnwrap"), std::string::npos);
  EXPECT_NE(table.find("k/abc"), std::string::npos);

  Start();
  f.vault = "VAULT1";
  auto one = AuditRecords(dir_, f);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0]["vault"], "Vault1");
  f.vault.reset();
  f.since = "2200-01-01T00:00:00Z";
  auto none = AuditRecords(dir_, f);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(EmulatedClockTest, StoredOffsetOnlyGrows) {
  char tmpl[] = "/tmp/byok-clock-XXXXXX";
  std::string tmp = mkdtemp(tmpl);
  {
    std::vector<uint8_t> bytes(store::kRootKeySize, 3);
    auto key = store::RootKey::FromBytes(bytes);
    ASSERT_TRUE(key.ok());
    store::SqliteOptions so;
    so.data_dir = tmp;
    auto st = store::OpenSqliteStore(so, SystemClock::Instance(), std::move(key).value());
    ASSERT_TRUE(st.ok());
    auto zero = LoadClockOffset(**st);
    ASSERT_TRUE(zero.ok());
    EXPECT_EQ(zero->count(), 0);
    auto one = AdvanceStoredClockOffset(**st, std::chrono::hours(1));
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(*one, std::chrono::hours(1));
    EXPECT_FALSE(AdvanceStoredClockOffset(**st, -std::chrono::seconds(1)).ok());
    auto two = AdvanceStoredClockOffset(**st, std::chrono::hours(1));
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(*two, std::chrono::hours(2));
    EXPECT_EQ(*LoadClockOffset(**st), std::chrono::hours(2));
    ASSERT_TRUE(store::RunInTransaction(**st, [](store::Transaction& tx) {
                  return tx.PutMeta(kClockOffsetMetaKey, "-5");
                }).ok());
    EXPECT_TRUE(LoadClockOffset(**st).status().Is(StatusCode::kDataLoss));
  }
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace byok::daemon
