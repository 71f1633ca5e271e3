#include "common/scheduler.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace byok {
namespace {

using namespace std::chrono_literals;

TimePoint Epoch() { return TimePoint(std::chrono::seconds(1'700'000'000)); }

TEST(SchedulerTest, RunNowRunsEveryTaskInOrderAtTheClocksTime) {
  ManualClock clock(Epoch());
  Scheduler s(clock, 1h);
  std::vector<std::string> calls;
  std::vector<TimePoint> times;
  s.Add("a", [&](TimePoint now) {
    calls.push_back("a");
    times.push_back(now);
    return Status::Ok();
  });
  s.Add("b", [&](TimePoint now) {
    calls.push_back("b");
    times.push_back(now);
    return Status::Ok();
  });
  ASSERT_TRUE(s.RunNow().ok());
  clock.Advance(24h * 91);
  ASSERT_TRUE(s.RunNow().ok());
  EXPECT_EQ(calls, (std::vector<std::string>{"a", "b", "a", "b"}));
  EXPECT_EQ(times[0], Epoch());
  EXPECT_EQ(times[1], Epoch());
  EXPECT_EQ(times[2], Epoch() + 24h * 91);
  EXPECT_EQ(times[3], Epoch() + 24h * 91);
}

TEST(SchedulerTest, AFailingTaskDoesNotStopTheOthersAndTheFirstFailureIsReturned) {
  ManualClock clock(Epoch());
  Scheduler s(clock, 1h);
  int ran = 0;
  s.Add("first", [&](TimePoint) {
    ++ran;
    return Status::Unavailable("busy");
  });
  s.Add("throws", [&](TimePoint) -> Status {
    ++ran;
    throw std::runtime_error("boom");
  });
  s.Add("last", [&](TimePoint) {
    ++ran;
    return Status::Ok();
  });
  Status st = s.RunNow();
  EXPECT_EQ(ran, 3);
  EXPECT_TRUE(st.Is(StatusCode::kUnavailable)) << st.ToString();
  EXPECT_NE(st.message().find("first"), std::string::npos) << st.message();
}

TEST(SchedulerTest, NoTasksIsOk) {
  ManualClock clock(Epoch());
  Scheduler s(clock, 1h);
  EXPECT_TRUE(s.RunNow().ok());
}

TEST(SchedulerTest, BackgroundThreadRunsTasksPeriodicallyAndStops) {
  ManualClock clock(Epoch());
  Scheduler s(clock, 1ms);
  std::mutex mu;
  std::condition_variable cv;
  int runs = 0;
  s.Add("count", [&](TimePoint) {
    std::lock_guard<std::mutex> lock(mu);
    ++runs;
    cv.notify_all();
    return Status::Ok();
  });
  s.Start();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return runs >= 3; }));
  }
  s.Stop();
  int after_stop = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    after_stop = runs;
  }
  // RunNow still works after Stop, and the thread no longer runs anything.
  ASSERT_TRUE(s.RunNow().ok());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(runs, after_stop + 1);
}

TEST(SchedulerTest, RunNowFromSeveralThreadsIsSerialized) {
  ManualClock clock(Epoch());
  Scheduler s(clock, 1h);
  int inside = 0;
  int max_inside = 0;
  int total = 0;
  std::mutex mu;
  s.Add("t", [&](TimePoint) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++inside;
      max_inside = std::max(max_inside, inside);
    }
    std::this_thread::yield();
    std::lock_guard<std::mutex> lock(mu);
    --inside;
    ++total;
    return Status::Ok();
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) (void)s.RunNow();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total, 200);
  EXPECT_EQ(max_inside, 1);
}

TEST(SchedulerTest, StopWithoutStartAndDestructorAreSafe) {
  ManualClock clock(Epoch());
  Scheduler s(clock, 1h);
  s.Stop();
  s.Stop();
  Scheduler t(clock, 1h);
  t.Start();
}

}  // namespace
}  // namespace byok
