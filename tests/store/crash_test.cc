// Crash consistency: a forked child writes through its own Store and is SIGKILLed at a moment it
// announces through a pipe; the parent reopens the data directory and checks all-or-nothing
// (every committed transaction complete, no trace of the uncommitted one) and integrity.
//
// The parent never has the data directory open while a child runs, and the child opens its own
// connections after fork() and leaves with _exit(), so no SQLite state crosses the fork.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/store_test_helpers.h"

namespace byok::store::test {
namespace {

// A forked child running body(notify_fd). The body writes one byte to notify_fd to tell the
// parent "kill me now"; its return value becomes the exit code (it may also never return).
class Child {
 public:
  explicit Child(const std::function<int(int notify_fd)>& body) {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      ::close(fds[0]);
      int code = body(fds[1]);
      ::_exit(code);
    }
    ::close(fds[1]);
    read_fd_ = fds[0];
  }

  ~Child() {
    if (pid_ > 0) Kill();
    if (read_fd_ >= 0) ::close(read_fd_);
  }

  // True once the child has sent its byte; false if it exited (or timed out) first.
  bool WaitForSignal(std::chrono::milliseconds timeout) {
    pollfd p{.fd = read_fd_, .events = POLLIN, .revents = 0};
    int n;
    do {
      n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    char c;
    return ::read(read_fd_, &c, 1) == 1;
  }

  // SIGKILLs the child (if still running) and reaps it. Returns a description of how it ended.
  std::string Kill() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
    return "ended";
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
};

void Notify(int fd) {
  char c = 'x';
  while (::write(fd, &c, 1) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void WaitForDeath() {
  for (;;) ::pause();
}

std::unique_ptr<Store> OpenInChild(const std::string& dir, const Clock& clock) {
  SqliteOptions o;
  o.data_dir = dir;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(o, clock, TestRootKey());
  if (!store.ok()) ::_exit(90);
  return std::move(store).value();
}

std::string ResourceId(std::string_view group, int i) {
  return fmt::format("/subscriptions/s/resourceGroups/{}/providers/Microsoft.Compute/disks/d{:05}",
                     group, i);
}

const std::string kPad(1000, 'p');

class CrashTest : public ::testing::Test {
 protected:
  CrashTest() : clock_(TestEpoch()) {}

  // Reopens the data dir after the child died and checks database integrity.
  std::unique_ptr<Store> Recover() {
    SqliteOptions o;
    o.data_dir = dir_.path();
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(o, clock_, TestRootKey());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    EXPECT_OK((*store)->CheckIntegrity());
    RawDb raw(SqliteDbPath(dir_.path()));
    std::vector<std::string> check = raw.Column("PRAGMA integrity_check");
    EXPECT_EQ(check, std::vector<std::string>{"ok"});
    return std::move(store).value();
  }

  TempDir dir_;
  ManualClock clock_;
};

TEST_F(CrashTest, UncommittedTransactionLeavesNoTrace) {
  const std::string dir = dir_.path();
  Child child([&](int fd) -> int {
    ManualClock clock(TestEpoch());
    std::unique_ptr<Store> store = OpenInChild(dir, clock);
    Result<std::unique_ptr<Transaction>> txn = store->Begin();
    if (!txn.ok()) return 2;
    // ~3 MB: more than SQLite's page cache, so uncommitted pages spill into the WAL file.
    for (int i = 0; i < 3000; ++i) {
      if (!(*txn)
               ->Put(MakeResource(ResourceId("rg", i), "Microsoft.Compute/disks",
                                  "/subscriptions/s/resourceGroups/rg", {{"i", i}, {"pad", kPad}}))
               .ok()) {
        return 3;
      }
    }
    for (int i = 0; i < 200; ++i) {
      if (!(*txn)->PutSecret(fmt::format("secret/{}", i), AsBytes(kPad)).ok()) return 4;
    }
    if (!(*txn)->PutMeta("written", "yes").ok()) return 5;
    Notify(fd);
    WaitForDeath();
  });
  ASSERT_TRUE(child.WaitForSignal(std::chrono::seconds(120))) << "child " << child.Kill();
  EXPECT_EQ(child.Kill(), "killed by signal 9");

  std::unique_ptr<Store> store = Recover();
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto resources, txn->ListByPrefix(""));
  EXPECT_TRUE(resources.empty()) << resources.size() << " uncommitted resources survived";
  ASSERT_OK_AND_ASSIGN(auto secrets, txn->ListSecrets(""));
  EXPECT_TRUE(secrets.empty()) << secrets.size() << " uncommitted secrets survived";
  ASSERT_OK_AND_ASSIGN(auto meta, txn->GetMeta("written"));
  EXPECT_FALSE(meta.has_value());
}

TEST_F(CrashTest, KilledInTheMiddleOfASecondTransaction) {
  constexpr int kResources = 300;
  constexpr int kSecrets = 50;
  const std::string dir = dir_.path();
  Child child([&](int fd) -> int {
    ManualClock clock(TestEpoch());
    std::unique_ptr<Store> store = OpenInChild(dir, clock);
    {
      Result<std::unique_ptr<Transaction>> txn = store->Begin();
      if (!txn.ok()) return 2;
      for (int i = 0; i < kResources; ++i) {
        if (!(*txn)
                 ->Put(MakeResource(ResourceId("rg", i), "Microsoft.Compute/disks",
                                    "/subscriptions/s/resourceGroups/rg",
                                    {{"generation", 1}, {"i", i}, {"pad", kPad}}))
                 .ok()) {
          return 3;
        }
      }
      for (int i = 0; i < kSecrets; ++i) {
        if (!(*txn)
                 ->PutSecret(fmt::format("secret/{}", i), AsBytes(fmt::format("v1-{}", i)))
                 .ok()) {
          return 4;
        }
      }
      if (!(*txn)->PutMeta("generation", "1").ok()) return 5;
      if (!(*txn)->Commit().ok()) return 6;
    }
    Result<std::unique_ptr<Transaction>> txn = store->Begin();
    if (!txn.ok()) return 7;
    if (!(*txn)->PutMeta("generation", "2").ok()) return 8;
    if (!(*txn)
             ->DeleteByPrefix(
                 "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d00007")
             .ok()) {
      return 9;
    }
    for (int i = 0; i < 200000; ++i) {
      if (!(*txn)
               ->Put(MakeResource(ResourceId("rg", i % kResources), "Microsoft.Compute/disks",
                                  "/subscriptions/s/resourceGroups/rg",
                                  {{"generation", 2}, {"i", i}, {"pad", kPad}}))
               .ok()) {
        return 10;
      }
      if (!(*txn)
               ->Put(MakeResource(ResourceId("new", i), "Microsoft.Compute/disks",
                                  "/subscriptions/s/resourceGroups/new", {{"pad", kPad}}))
               .ok()) {
        return 11;
      }
      if (i < kSecrets && !(*txn)->DeleteSecret(fmt::format("secret/{}", i)).ok()) return 12;
      if (!(*txn)->PutSecret(fmt::format("new/{}", i), AsBytes("v2")).ok()) return 13;
      if (i == 2000) Notify(fd);  // keep writing: the kill lands mid-transaction
    }
    WaitForDeath();
  });
  ASSERT_TRUE(child.WaitForSignal(std::chrono::seconds(120))) << "child " << child.Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(child.Kill(), "killed by signal 9");

  std::unique_ptr<Store> store = Recover();
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginRead());
  ASSERT_OK_AND_ASSIGN(auto resources, txn->ListByPrefix(""));
  ASSERT_EQ(resources.size(), static_cast<size_t>(kResources));
  for (int i = 0; i < kResources; ++i) {
    EXPECT_EQ(resources[i].id, ResourceId("rg", i));
    EXPECT_EQ(resources[i].body["generation"], 1);
    EXPECT_EQ(resources[i].body["i"], i);
  }
  ASSERT_OK_AND_ASSIGN(auto names, txn->ListSecrets(""));
  EXPECT_EQ(names.size(), static_cast<size_t>(kSecrets));
  for (int i = 0; i < kSecrets; ++i) {
    ASSERT_OK_AND_ASSIGN(SecretBytes v, txn->GetSecret(fmt::format("secret/{}", i)));
    EXPECT_EQ(ToString(v.span()), fmt::format("v1-{}", i));
  }
  ASSERT_OK_AND_ASSIGN(auto generation, txn->GetMeta("generation"));
  EXPECT_EQ(generation, std::optional<std::string>("1"));
}

// The child commits small transactions back to back; the kill lands at an arbitrary point,
// often inside a commit. Every batch must be entirely present or entirely absent, and the
// present ones must be exactly the first m, as recorded in the same transactions' meta counter.
TEST_F(CrashTest, KilledAtArbitraryPointsOfACommitLoop) {
  constexpr int kPerBatch = 20;
  for (int delay_ms : {0, 7, 40, 150}) {
    SCOPED_TRACE(fmt::format("kill {} ms after the first commit", delay_ms));
    TempDir round_dir;
    const std::string dir = round_dir.path();
    Child child([&](int fd) -> int {
      ManualClock clock(TestEpoch());
      std::unique_ptr<Store> store = OpenInChild(dir, clock);
      for (int batch = 0;; ++batch) {
        Result<std::unique_ptr<Transaction>> txn = store->Begin();
        if (!txn.ok()) return 2;
        for (int i = 0; i < kPerBatch; ++i) {
          if (!(*txn)
                   ->Put(MakeResource(fmt::format("/batches/b{:06}/r{:02}", batch, i), "t",
                                      fmt::format("/batches/b{:06}", batch),
                                      {{"batch", batch}, {"pad", kPad}}))
                   .ok()) {
            return 3;
          }
        }
        if (!(*txn)
                 ->PutSecret(fmt::format("batch/{:06}", batch),
                             AsBytes(fmt::format("payload-{}", batch)))
                 .ok()) {
          return 4;
        }
        if (!(*txn)->PutMeta("batches", std::to_string(batch + 1)).ok()) return 5;
        if (!(*txn)->Commit().ok()) return 6;
        if (batch == 0) Notify(fd);
      }
    });
    ASSERT_TRUE(child.WaitForSignal(std::chrono::seconds(120))) << "child " << child.Kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    EXPECT_EQ(child.Kill(), "killed by signal 9");

    SqliteOptions o;
    o.data_dir = dir;
    ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(o, clock_, TestRootKey()));
    EXPECT_OK(store->CheckIntegrity());
    ASSERT_OK_AND_ASSIGN(auto txn, store->BeginRead());
    ASSERT_OK_AND_ASSIGN(auto counter, txn->GetMeta("batches"));
    ASSERT_TRUE(counter.has_value());
    const int batches = std::stoi(*counter);
    EXPECT_GE(batches, 1);
    ASSERT_OK_AND_ASSIGN(auto resources, txn->ListByPrefix("/batches"));
    ASSERT_EQ(resources.size(), static_cast<size_t>(batches * kPerBatch));
    for (size_t k = 0; k < resources.size(); ++k) {
      EXPECT_EQ(resources[k].body["batch"], static_cast<int>(k) / kPerBatch);
    }
    ASSERT_OK_AND_ASSIGN(auto names, txn->ListSecrets("batch/"));
    ASSERT_EQ(names.size(), static_cast<size_t>(batches));
    for (int b = 0; b < batches; ++b) {
      EXPECT_EQ(names[b], fmt::format("batch/{:06}", b));
      ASSERT_OK_AND_ASSIGN(SecretBytes v, txn->GetSecret(names[b]));
      EXPECT_EQ(ToString(v.span()), fmt::format("payload-{}", b));
    }
  }
}

}  // namespace
}  // namespace byok::store::test
