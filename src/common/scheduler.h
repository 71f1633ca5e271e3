// Scheduler: periodic housekeeping tasks that run on the server's (emulated) clock — purging
// soft-deleted objects whose retention ended, executing key rotation policies, pruning audit
// records.
//
// Each task is a function of "now" (the injected Clock's time) that does whatever is due at that
// time and returns. Tasks run one after another on one background thread every `interval` of
// real time, and synchronously, in registration order, when RunNow() is called — which is what
// `byok clock advance` does after moving the clock, so that when the command returns every
// purge and rotation due at the new time has happened (tests need no sleeping or polling).
// A failing task is logged and does not stop the others. Tasks must be idempotent (running one
// twice at the same time does nothing the second time).
//
// Thread safety: Add() before Start(); RunNow() may be called from any thread (runs are
// serialized: a RunNow() during a background run waits for it, then runs).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace byok {

class Scheduler {
 public:
  using Task = std::function<Status(TimePoint now)>;

  Scheduler(const Clock& clock, std::chrono::milliseconds interval);
  ~Scheduler();  // stops the thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void Add(std::string name, Task task);
  void Start();
  void Stop();
  // Runs every task now; returns the first failure (all tasks run regardless).
  Status RunNow();

 private:
  void Loop();

  const Clock& clock_;
  const std::chrono::milliseconds interval_;
  std::vector<std::pair<std::string, Task>> tasks_;
  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace byok
