// The server driven by real NBD clients from Debian (qemu-io from qemu-utils, nbdinfo and
// nbdcopy from libnbd-bin); each test is skipped when its client is not installed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "nbd/nbd_test_helpers.h"

namespace byok::nbd {
namespace {

using test::MemoryDevice;

constexpr uint64_t kDiskSize = 64 << 20;
constexpr const char* kName = "disk-7.Zm9vYmFyYmF6cXV4";

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool Installed(const char* path) { return access(path, X_OK) == 0; }

class NbdRealClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = std::make_shared<MemoryDevice>(kDiskSize);
    server_.AddExport(kName, device_);
  }
  std::string TcpUri(const std::string& name = kName) {
    return fmt::format("nbd://127.0.0.1:{}/{}", server_.port(), name);
  }
  std::string UnixUri() {
    return fmt::format("nbd+unix:///{}?socket={}", kName, server_.unix_path());
  }

  test::TestServer server_;
  std::shared_ptr<MemoryDevice> device_;
};

TEST_F(NbdRealClientTest, QemuIoWritesAndReadsBack) {
  if (!Installed("/usr/bin/qemu-io")) GTEST_SKIP() << "qemu-io is not installed";
  auto w = RunCommand(fmt::format("qemu-io -f raw -c 'write -P 0xab 0 1M' '{}'", TcpUri()));
  ASSERT_EQ(w.exit_code, 0) << w.output;
  EXPECT_EQ(device_->Contents(0, 1 << 20), std::vector<uint8_t>(1 << 20, 0xab));
  auto r = RunCommand(fmt::format("qemu-io -f raw -c 'read -P 0xab 0 1M' '{}'", TcpUri()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("verification failed"), std::string::npos) << r.output;
  auto bad = RunCommand(fmt::format("qemu-io -f raw -c 'read -P 0xcd 0 4k' '{}'", TcpUri()));
  EXPECT_NE(bad.output.find("verification failed"), std::string::npos) << bad.output;
}

TEST_F(NbdRealClientTest, QemuIoFuaFlushTrimZeroesOverUnixSocket) {
  if (!Installed("/usr/bin/qemu-io")) GTEST_SKIP() << "qemu-io is not installed";
  auto run = RunCommand(
      fmt::format("qemu-io -f raw -c 'write -f -P 0x11 1M 64k' -c 'flush' -c 'write -z 1M 4k' "
                  "-c 'discard 1056768 4k' -c 'read -P 0 1M 4k' -c 'read -P 0x11 1052672 4k' '{}'",
                  UnixUri()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("verification failed"), std::string::npos) << run.output;
  EXPECT_GE(device_->fua_writes, 1);
  EXPECT_GE(device_->flushes, 1);
  EXPECT_GE(device_->zeroes, 1);
  EXPECT_GE(device_->trims, 1);
}

TEST_F(NbdRealClientTest, QemuIoUnknownExportFails) {
  if (!Installed("/usr/bin/qemu-io")) GTEST_SKIP() << "qemu-io is not installed";
  auto r = RunCommand(fmt::format("qemu-io -f raw -c 'read 0 4k' '{}'", TcpUri("guessed")));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(test::TestServer::kUnknownMessage), std::string::npos) << r.output;
}

TEST_F(NbdRealClientTest, NbdinfoJson) {
  if (!Installed("/usr/bin/nbdinfo")) GTEST_SKIP() << "nbdinfo is not installed";
  auto r = RunCommand(fmt::format("nbdinfo --json '{}'", TcpUri()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto json = nlohmann::json::parse(r.output, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << r.output;
  EXPECT_EQ(json["protocol"], "newstyle-fixed");
  EXPECT_EQ(json["structured"], false);
  const auto& e = json["exports"][0];
  EXPECT_EQ(e["export-name"], kName);
  EXPECT_EQ(e["export-size"], kDiskSize);
  EXPECT_EQ(e["can_flush"], true);
  EXPECT_EQ(e["can_fua"], true);
  EXPECT_EQ(e["can_trim"], true);
  EXPECT_EQ(e["can_zero"], true);
  EXPECT_EQ(e["can_multi_conn"], true);
  EXPECT_EQ(e["is_read_only"], false);
  EXPECT_EQ(e["block_size_minimum"], 1);
  EXPECT_EQ(e["block_size_preferred"], 4096);
  EXPECT_EQ(e["block_size_maximum"], 32 << 20);

  auto unknown = RunCommand(fmt::format("nbdinfo --json '{}'", TcpUri("guessed")));
  EXPECT_NE(unknown.exit_code, 0) << unknown.output;  // libnbd shows NBD_REP_ERR_UNKNOWN as ENOENT
}

TEST_F(NbdRealClientTest, NbdcopyRoundTrip) {
  if (!Installed("/usr/bin/nbdcopy")) GTEST_SKIP() << "nbdcopy is not installed";
  char tmpl[] = "/tmp/byok-nbdcopy-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  auto data = test::Pattern(kDiskSize, 42);
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
  std::string in = tmpl, out = in + ".out";
  auto up = RunCommand(fmt::format("nbdcopy '{}' '{}'", in, UnixUri()));
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_TRUE(device_->Contents(0, kDiskSize) == data);
  auto down = RunCommand(fmt::format("nbdcopy '{}' '{}'", TcpUri(), out));
  ASSERT_EQ(down.exit_code, 0) << down.output;
  auto cmp = RunCommand(fmt::format("cmp '{}' '{}'", in, out));
  EXPECT_EQ(cmp.exit_code, 0) << cmp.output;
  unlink(in.c_str());
  unlink(out.c_str());
}

}  // namespace
}  // namespace byok::nbd
