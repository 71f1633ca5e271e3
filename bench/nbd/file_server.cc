// nbd_file_server: byok's NBD server (src/nbd) serving a plain file, no encryption — the
// "byok-nbd-plain" row of bench/nbd/run.sh, which separates the protocol layer's cost from the
// disk engine's. Not part of byok.
// Usage: nbd_file_server --file PATH (--unix SOCKET | --tcp HOST:PORT) [--export NAME]
//                        [--workers N]    Runs until SIGINT/SIGTERM.
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "blockstore/block_device.h"
#include "common/logging.h"
#include "nbd/server.h"

namespace {

using byok::Status;

Status Errno(const char* what) {
  return Status::DataLoss(std::string(what) + ": " + std::strerror(errno));
}

class FileDevice : public byok::blockstore::BlockDevice {
 public:
  FileDevice(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileDevice() override { close(fd_); }
  uint64_t size() const override { return size_; }
  uint32_t preferred_block_size() const override { return 4096; }
  Status Read(uint64_t offset, std::span<uint8_t> out) override {
    for (size_t done = 0; done < out.size();) {
      ssize_t n = pread(fd_, out.data() + done, out.size() - done, offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("pread");
      if (n == 0) return Status::OutOfRange("read past the end");
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  Status Write(uint64_t offset, std::span<uint8_t> data, bool fua) override {
    for (size_t done = 0; done < data.size();) {
      ssize_t n = pwrite(fd_, data.data() + done, data.size() - done, offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("pwrite");
      done += static_cast<size_t>(n);
    }
    return fua ? Flush() : Status::Ok();
  }
  Status Flush() override { return fdatasync(fd_) == 0 ? Status::Ok() : Errno("fdatasync"); }
  Status Trim(uint64_t offset, uint64_t length, bool fua) override {
    if (fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0) {
      return Errno("fallocate");
    }
    return fua ? Flush() : Status::Ok();
  }
  Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) override {
    return Trim(offset, length, fua);
  }

 private:
  int fd_;
  uint64_t size_;
};

int Usage() {
  std::fprintf(stderr,
               "usage: nbd_file_server --file PATH (--unix SOCKET | --tcp HOST:PORT) "
               "[--export NAME] [--workers N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string file, export_name;
  byok::nbd::ServerOptions options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--file") {
      file = value;
    } else if (flag == "--unix") {
      options.unix_path = value;
    } else if (flag == "--tcp") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos) return Usage();
      options.tcp_host = value.substr(0, colon);
      options.tcp_port = static_cast<uint16_t>(std::stoi(value.substr(colon + 1)));
    } else if (flag == "--export") {
      export_name = value;
    } else if (flag == "--workers") {
      options.workers = static_cast<unsigned>(std::stoi(value));
    } else {
      return Usage();
    }
  }
  if (argc % 2 == 0 || file.empty() || (!options.unix_path && !options.tcp_host)) return Usage();
  (void)byok::InitLogging("warn");
  int fd = open(file.c_str(), O_RDWR | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::perror(file.c_str());
    return 1;
  }
  std::shared_ptr<byok::blockstore::BlockDevice> device =
      std::make_shared<FileDevice>(fd, static_cast<uint64_t>(st.st_size));
  byok::nbd::Server server(
      options,
      [&](const std::string& name) -> byok::Result<std::shared_ptr<byok::blockstore::BlockDevice>> {
        if (name != export_name) return Status::NotFound("unknown export");
        return device;
      });
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before Start: every thread inherits it
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  server.Stop();
  return 0;
}
