#include "nbd/worker_pool.h"

#include <algorithm>
#include <system_error>

#include <spdlog/spdlog.h>

namespace byok::nbd {

WorkerPool::WorkerPool(unsigned core_threads, unsigned max_threads,
                       std::chrono::milliseconds extra_idle)
    : max_threads_(std::max({core_threads, max_threads, 1u})),
      max_running_per_queue_(std::max(core_threads, 1u)),
      extra_idle_(extra_idle) {
  ready_.reserve(64);
  idle_.reserve(max_threads_);
  std::lock_guard lock(mu_);
  for (unsigned i = 0; i < std::max(core_threads, 1u); ++i) StartWorkerLocked(/*extra=*/false);
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::StartWorkerLocked(bool extra) {
  Worker* w = &workers_.emplace_back();
  try {
    w->thread = std::thread([this, w, extra] { Loop(w, extra); });
    ++threads_;
  } catch (const std::system_error& e) {
    workers_.pop_back();
    spdlog::warn("nbd: cannot start an I/O worker thread: {}", e.what());
  }
}

bool WorkerPool::Submit(PoolQueue* queue, PoolTask* task, bool may_decline) {
  bool reap = false;
  {
    std::lock_guard lock(mu_);
    if (may_decline && idle_.empty() && running_ == threads_) return false;
    task->next_ = nullptr;
    if (queue->tail_) {
      queue->tail_->next_ = task;
    } else {
      queue->head_ = task;
    }
    queue->tail_ = task;
    if (!queue->ready_) {
      queue->ready_ = true;
      ready_.push_back(queue);
    }
    if (!idle_.empty()) {
      Worker* w = idle_.back();
      idle_.pop_back();
      w->claimed = true;
      w->cv.notify_one();
    } else if (queue->running_ == 0 && running_ == threads_ && threads_ < max_threads_ &&
               !stopping_) {
      // Every worker is inside a task of another connection: this one would wait behind them.
      // (A worker between two tasks looks at the queues again before sleeping.)
      StartWorkerLocked(/*extra=*/true);
    }
    reap = finished_ > 0;
  }
  if (reap) ReapFinished();
  return true;
}

PoolTask* WorkerPool::TakeLocked(PoolQueue** queue) {
  auto it = std::find_if(ready_.begin(), ready_.end(), [](PoolQueue* q) { return !q->running_; });
  if (it == ready_.end()) {
    it = std::find_if(ready_.begin(), ready_.end(),
                      [this](PoolQueue* q) { return q->running_ < max_running_per_queue_; });
  }
  if (it == ready_.end()) return nullptr;  // nothing, or only queues at their limit
  PoolQueue* q = *it;
  ready_.erase(it);
  PoolTask* task = q->head_;
  q->head_ = task->next_;
  if (!q->head_) q->tail_ = nullptr;
  ++q->running_;
  if (q->head_) {
    ready_.push_back(q);  // round robin
  } else {
    q->ready_ = false;
  }
  *queue = q;
  return task;
}

void WorkerPool::Loop(Worker* self, bool extra) {
  std::unique_lock lock(mu_);
  for (;;) {
    PoolQueue* queue = nullptr;
    if (PoolTask* task = TakeLocked(&queue)) {
      ++running_;
      lock.unlock();
      task->Run();
      lock.lock();
      --running_;
      --queue->running_;
      task->Release();  // last touch: may let the owner destroy `queue`
      continue;
    }
    if (stopping_) break;
    self->claimed = false;
    idle_.push_back(self);
    bool timed_out = false;
    if (extra) {
      timed_out = !self->cv.wait_for(lock, extra_idle_, [&] { return self->claimed || stopping_; });
    } else {
      self->cv.wait(lock, [&] { return self->claimed || stopping_; });
    }
    if (!self->claimed) std::erase(idle_, self);
    if (timed_out) break;  // a busy worker re-checks the queues after each task
  }
  --threads_;
  if (extra && !stopping_) {
    self->finished = true;
    ++finished_;
  }
}

void WorkerPool::ReapFinished() {
  std::list<Worker> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      auto next = std::next(it);
      if (it->finished) done.splice(done.end(), workers_, it);
      it = next;
    }
    finished_ = 0;
  }
  for (Worker& w : done) w.thread.join();
}

void WorkerPool::Stop() {
  std::list<Worker> all;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (Worker* w : idle_) w->cv.notify_one();
    all.splice(all.end(), workers_);
    finished_ = 0;
  }
  for (Worker& w : all) {
    if (w.thread.joinable()) w.thread.join();
  }
}

unsigned WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

}  // namespace byok::nbd
