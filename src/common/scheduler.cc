#include "common/scheduler.h"

#include <spdlog/spdlog.h>

namespace byok {

Scheduler::Scheduler(const Clock& clock, std::chrono::milliseconds interval)
    : clock_(clock), interval_(interval) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Add(std::string name, Task task) {
  std::lock_guard<std::mutex> lock(run_mu_);
  tasks_.emplace_back(std::move(name), std::move(task));
}

void Scheduler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Status Scheduler::RunNow() {
  std::lock_guard<std::mutex> lock(run_mu_);
  Status first;
  TimePoint now = clock_.Now();
  for (auto& [name, task] : tasks_) {
    Status s;
    try {
      s = task(now);
    } catch (const std::exception& e) {
      s = Status::Internal(std::string("exception: ") + e.what());
    }
    if (!s.ok()) {
      spdlog::warn("scheduled task {} failed: {}", name, s.ToString());
      if (first.ok()) first = s.WithContext(name);
    }
  }
  return first;
}

void Scheduler::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (cv_.wait_for(lock, interval_, [this] { return stop_; })) break;
    lock.unlock();
    (void)RunNow();
    lock.lock();
  }
}

}  // namespace byok
