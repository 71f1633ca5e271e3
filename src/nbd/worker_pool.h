// WorkerPool (internal to nbd): the I/O threads shared by every NBD connection.
//
// Each connection owns a PoolQueue; its reader thread Submits PoolTasks to it. Workers take tasks
// queue by queue: first a queue that has nothing running (so a connection waiting behind another
// connection's requests is served next), otherwise round robin; a queue never has more than
// core_threads tasks running. When every worker is busy and a task arrives on a queue that has
// nothing running, an extra worker is started (at most max_threads in all): one connection's slow
// requests (a long fdatasync, a stalled device) never hold up another connection. Extra workers
// exit after being idle for a while.
//
// A worker calls task->Run() and then, after its last access to the queue, task->Release() (with
// the pool's lock held: Release may take the owner's locks, never the pool's): the owner may
// destroy the queue once every task it submitted has been Released.
// No allocation on Submit in steady state (intrusive lists).
//
// Thread safety: Submit from any thread; Stop once, after every queue has been drained.
#pragma once

#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace byok::nbd {

class PoolTask {
 public:
  virtual void Run() = 0;      // on a worker thread
  virtual void Release() = 0;  // after Run, under the pool's lock; the pool's last touch

 protected:
  ~PoolTask() = default;

 private:
  friend class WorkerPool;
  PoolTask* next_ = nullptr;
};

class PoolQueue {
 private:
  friend class WorkerPool;
  PoolTask* head_ = nullptr;
  PoolTask* tail_ = nullptr;
  unsigned running_ = 0;
  bool ready_ = false;  // listed in WorkerPool::ready_
};

class WorkerPool {
 public:
  // core_threads (≥ 1) start at once and live until Stop; extras come and go up to max_threads.
  WorkerPool(unsigned core_threads, unsigned max_threads,
             std::chrono::milliseconds extra_idle = std::chrono::seconds(2));
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues the task. With may_decline, a saturated pool (every worker inside a task, none idle)
  // declines instead and returns false: the caller runs the task itself, which costs no thread
  // wake-up and keeps its connection moving.
  bool Submit(PoolQueue* queue, PoolTask* task, bool may_decline = false);
  // Joins every worker. REQUIRES: no task is queued or running, and no Submit follows.
  void Stop();

  unsigned threads() const;  // current number of workers (tests)

 private:
  struct Worker {
    std::thread thread;
    std::condition_variable cv;
    bool claimed = false;   // a Submit chose this idle worker for its task
    bool finished = false;  // an extra worker that has exited (to be joined)
  };
  void Loop(Worker* self, bool extra);
  void StartWorkerLocked(bool extra);
  PoolTask* TakeLocked(PoolQueue** queue);
  void ReapFinished();

  const unsigned max_threads_;
  const unsigned max_running_per_queue_;
  const std::chrono::milliseconds extra_idle_;
  mutable std::mutex mu_;
  std::vector<PoolQueue*> ready_;  // queues with queued tasks
  std::vector<Worker*> idle_;      // workers waiting for a task, not yet claimed
  std::list<Worker> workers_;
  unsigned threads_ = 0;   // live workers
  unsigned running_ = 0;   // workers inside PoolTask::Run
  unsigned finished_ = 0;  // exited extra workers not joined yet
  bool stopping_ = false;
};

}  // namespace byok::nbd
