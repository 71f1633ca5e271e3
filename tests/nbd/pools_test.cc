// The nbd module's internals: buffer reuse and the worker pool's isolation of slow queues.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "nbd/buffer_pool.h"
#include "nbd/worker_pool.h"

namespace byok::nbd {
namespace {

TEST(NbdBufferPoolTest, BuffersAreAlignedAndReused) {
  BufferPool pool(1 << 20);
  AlignedBuffer a = pool.Get(100);
  ASSERT_NE(a.data(), nullptr);
  EXPECT_EQ(a.capacity(), 4096u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 4096, 0u);
  uint8_t* first = a.data();
  pool.Put(std::move(a));
  EXPECT_EQ(pool.cached_bytes(), 4096u);
  AlignedBuffer b = pool.Get(4096);
  EXPECT_EQ(b.data(), first);  // the same block again: no allocation
  EXPECT_EQ(pool.cached_bytes(), 0u);

  AlignedBuffer big = pool.Get((256 << 10) + 1);
  EXPECT_EQ(big.capacity(), 512u << 10);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.data()) % 4096, 0u);
}

TEST(NbdBufferPoolTest, CacheIsBounded) {
  BufferPool pool(8192);
  pool.Put(pool.Get(4096));
  pool.Put(pool.Get(4096));  // the cached one again
  AlignedBuffer x = pool.Get(4096), y = pool.Get(4096), z = pool.Get(4096);
  pool.Put(std::move(x));
  pool.Put(std::move(y));
  pool.Put(std::move(z));  // over the limit: freed
  EXPECT_EQ(pool.cached_bytes(), 8192u);
}

struct Latch {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;
  void Wait() {
    std::unique_lock lock(mu);
    ++waiting;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void Open() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  bool WaitForWaiting(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return waiting >= n; });
  }
};

struct CountingTask : PoolTask {
  Latch* latch = nullptr;  // Run waits on it when set
  std::atomic<int>* done = nullptr;
  void Run() override {
    if (latch) latch->Wait();
  }
  void Release() override { ++*done; }
};

TEST(NbdWorkerPoolTest, SlowQueueDoesNotHoldUpAnother) {
  WorkerPool pool(2, 8);
  std::atomic<int> done{0};
  Latch latch;
  PoolQueue slow, fast;
  CountingTask slow_tasks[4];
  for (auto& t : slow_tasks) {
    t.latch = &latch;
    t.done = &done;
    pool.Submit(&slow, &t);
  }
  ASSERT_TRUE(latch.WaitForWaiting(2));  // both core workers are held
  EXPECT_EQ(done.load(), 0);
  CountingTask declined;
  declined.done = &done;
  EXPECT_FALSE(pool.Submit(&fast, &declined, /*may_decline=*/true));  // saturated: run it yourself
  CountingTask fast_tasks[3];
  for (auto& t : fast_tasks) {
    t.done = &done;
    pool.Submit(&fast, &t);
  }
  // An extra worker runs the fast queue; the slow queue never holds more than 2 workers.
  while (done.load() < 3) std::this_thread::yield();
  EXPECT_EQ(done.load(), 3);
  EXPECT_LE(pool.threads(), 3u);
  latch.Open();
  while (done.load() < 7) std::this_thread::yield();
  pool.Stop();
}

}  // namespace
}  // namespace byok::nbd
