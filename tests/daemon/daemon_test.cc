#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "common/files.h"
#include "crypto/x509.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/daemon_test_helpers.h"
#include "daemon/data_dir.h"
#include "daemon/tls_material.h"
#include "http/client.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::daemon {
namespace {

TEST(ListenAddressTest, Forms) {
  auto a = ParseListenAddress("127.0.0.1:8443");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8443);
  auto b = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "::1");
  EXPECT_EQ(b->second, 0);
  auto c = ParseListenAddress(":9000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first, "127.0.0.1");
  for (const char* bad : {"", "8443", "host:", "host:99999", "host:12x", "::1:80", "[::1]80"}) {
    EXPECT_FALSE(ParseListenAddress(bad).ok()) << bad;
  }
}

TEST(ShellQuoteTest, SurvivesQuotes) {
  EXPECT_EQ(ShellQuote("/a b/c"), "'/a b/c'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

TEST(DataDirTest, LockIsExclusive) {
  TempDir tmp;
  DataDir dir = ResolveDataDir(tmp.path());
  auto first = DataDirLock::Acquire(dir);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = DataDirLock::Acquire(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("already running"), std::string::npos);
}

TEST(DataDirTest, ServerInfoRoundTrip) {
  TempDir tmp;
  DataDir dir = ResolveDataDir(tmp.path());
  EXPECT_TRUE(ReadServerInfo(dir).status().Is(StatusCode::kNotFound));
  ServerInfo info{"https://127.0.0.1:1234",
                  "127.0.0.1",
                  1234,
                  42,
                  "/x/ca.crt",
                  "127.0.0.1",
                  10809,
                  "/x/nbd.sock"};
  ASSERT_TRUE(WriteServerInfo(dir, info).ok());
  auto back = ReadServerInfo(dir);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->url, info.url);
  EXPECT_EQ(back->port, 1234);
  EXPECT_EQ(back->pid, 42);
  EXPECT_EQ(back->nbd_host, "127.0.0.1");
  EXPECT_EQ(back->nbd_port, 10809);
  EXPECT_EQ(back->nbd_socket, "/x/nbd.sock");
  ASSERT_TRUE(WriteFileAtomic(dir.server_info(), "{not json").ok());
  EXPECT_FALSE(ReadServerInfo(dir).ok());
}

TEST(DataDirTest, ProbeWithStaleInfoSaysNotRunning) {
  TempDir tmp;
  DataDir dir = ResolveDataDir(tmp.path());
  // A pid that cannot exist (above pid_max).
  ServerInfo info{"https://127.0.0.1:1", "127.0.0.1", 1, 99999999, dir.ca_cert(), "", 0, ""};
  ASSERT_TRUE(WriteServerInfo(dir, info).ok());
  auto probe = ProbeServer(dir);
  EXPECT_TRUE(probe.status().Is(StatusCode::kUnavailable));
}

class TlsMaterialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ResolveDataDir(tmp_.path());
    store::RootKeyOptions rk;
    rk.data_dir = dir_.root;
    rk.getenv = [](const char*) { return std::optional<std::string>(); };
    auto key = store::LoadOrCreateRootKey(rk);
    ASSERT_TRUE(key.ok());
    store::SqliteOptions so;
    so.data_dir = dir_.root;
    auto s = store::OpenSqliteStore(so, clock_, std::move(key).value());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  TempDir tmp_;
  DataDir dir_;
  ManualClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<store::Store> store_;
};

TEST_F(TlsMaterialTest, CreatedOnceThenReused) {
  auto first = EnsureTlsMaterial(*store_, dir_, clock_, "127.0.0.1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::string ca = *ReadFile(dir_.ca_cert());
  std::string server = *ReadFile(dir_.server_cert());
  auto cert = crypto::Certificate::FromPem(server);
  ASSERT_TRUE(cert.ok());
  auto dns = cert->DnsNames();
  for (const char* n : {"localhost", "*.localhost", "*.vault.localhost"}) {
    EXPECT_NE(std::find(dns.begin(), dns.end(), n), dns.end()) << n;
  }
  auto ips = cert->IpAddresses();
  for (const char* n : {"127.0.0.1", "::1"}) {
    EXPECT_NE(std::find(ips.begin(), ips.end(), n), ips.end()) << n;
  }
  EXPECT_NE(ToString(first->server_key_pem.span()).find("PRIVATE KEY"), std::string::npos);

  auto second = EnsureTlsMaterial(*store_, dir_, clock_, "127.0.0.1");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*ReadFile(dir_.ca_cert()), ca);
  EXPECT_EQ(*ReadFile(dir_.server_cert()), server);
  EXPECT_TRUE(second->server_key_pem == first->server_key_pem);
}

TEST_F(TlsMaterialTest, ReissuedNearExpiryAndForNewListenNameKeepingTheCa) {
  ASSERT_TRUE(EnsureTlsMaterial(*store_, dir_, clock_, "127.0.0.1").ok());
  std::string ca = *ReadFile(dir_.ca_cert());
  std::string server = *ReadFile(dir_.server_cert());

  ASSERT_TRUE(EnsureTlsMaterial(*store_, dir_, clock_, "byok.example").ok());
  std::string server2 = *ReadFile(dir_.server_cert());
  EXPECT_NE(server2, server);
  auto cert = crypto::Certificate::FromPem(server2);
  auto dns = cert->DnsNames();
  EXPECT_NE(std::find(dns.begin(), dns.end(), "byok.example"), dns.end());

  clock_.Advance(std::chrono::hours(24 * 810));  // within 30 days of the 825-day expiry
  ASSERT_TRUE(EnsureTlsMaterial(*store_, dir_, clock_, "byok.example").ok());
  EXPECT_NE(*ReadFile(dir_.server_cert()), server2);
  EXPECT_EQ(*ReadFile(dir_.ca_cert()), ca);
}

TEST(DaemonTest, StartsServesStatusAndStops) {
  TempDir tmp;
  DaemonOptions opts;
  opts.data_dir = tmp.path() + "/data";
  opts.port = 0;
  opts.nbd_listen = "127.0.0.1:0";
  opts.shutdown_grace = std::chrono::milliseconds(500);
  auto d = Daemon::Start(opts);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_NE((*d)->port(), 0);

  // A second daemon on the same data directory is refused.
  auto again = Daemon::Start(opts);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("already running"), std::string::npos);

  DataDir dir = ResolveDataDir(opts.data_dir);
  auto live = ProbeServer(dir);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(live->status["service"], "byok");
  EXPECT_EQ(live->info.url, (*d)->url());

  http::ClientOptions co;
  co.ca_file = (*d)->ca_path();
  auto res = http::HttpsRequest("GET", (*d)->url() + "/nope", {}, "", co);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(res->headers.Has("x-ms-request-id"));

  (*d)->Shutdown();
  (*d)->Wait();
  EXPECT_FALSE(FileExists(dir.server_info()));
  d->reset();
  // The lock is released with the daemon: a new one starts.
  auto d2 = Daemon::Start(opts);
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
}

TEST(HttpsClientTest, RefusesUnknownCaAndBadUrls) {
  TempDir tmp;
  DaemonOptions opts;
  opts.data_dir = tmp.path() + "/data";
  opts.port = 0;
  opts.nbd_listen = "127.0.0.1:0";
  auto d = Daemon::Start(opts);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  TempDir other;
  DaemonOptions other_opts = opts;
  other_opts.data_dir = other.path() + "/data";
  auto d2 = Daemon::Start(other_opts);
  ASSERT_TRUE(d2.ok());
  http::ClientOptions co;
  co.ca_file = (*d2)->ca_path();  // the other server's CA
  auto res = http::HttpsRequest("GET", (*d)->url() + "/", {}, "", co);
  EXPECT_TRUE(res.status().Is(StatusCode::kUnavailable)) << res.status().ToString();
  EXPECT_FALSE(http::HttpsRequest("GET", "http://127.0.0.1/", {}, "", co).ok());
  EXPECT_FALSE(http::HttpsRequest("BREW", (*d)->url() + "/", {}, "", co).ok());
}

}  // namespace
}  // namespace byok::daemon
