#include "audit/audit.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/duration.h"

namespace byok::audit {
namespace {

constexpr std::string_view kLog = "audit";
constexpr size_t kPage = 1000;

int64_t UnixNanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// "{20-digit unix-ns}": every key of a record at or after t sorts after this, every key of an
// earlier record before it.
std::string TimeKey(TimePoint t) {
  return fmt::format("{:020}", std::max<int64_t>(0, UnixNanos(t)));
}

// "{20-digit unix-ns}-{8-digit seq}"
std::string RecordKey(TimePoint t, uint64_t seq) {
  return fmt::format("{}-{:08}", TimeKey(t), seq);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

class AuditLogImpl final : public AuditLog {
 public:
  AuditLogImpl(store::Store& store, const Clock& clock, Options options)
      : store_(store), clock_(clock), options_(options) {
    thread_ = std::thread([this] { Loop(); });
  }

  ~AuditLogImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (Status s = Flush(); !s.ok()) spdlog::error("audit: final flush failed: {}", s.ToString());
  }

  void Append(Record r) override {
    if (r.time == TimePoint{}) r.time = clock_.Now();
    // Stored times have Azure's 100 ns resolution; keep the id and the body consistent.
    r.time = std::chrono::floor<std::chrono::duration<int64_t, std::ratio<1, 10000000>>>(r.time);
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() >= options_.max_queue) {
        queue_.pop_front();
        if (dropped_.fetch_add(1) % 10000 == 0) {
          spdlog::warn("audit: queue full ({} records); dropping the oldest pending records",
                       options_.max_queue);
        }
      }
      queue_.push_back(Pending{std::move(r), seq_++ % 100000000});
      wake = queue_.size() >= options_.max_batch;
    }
    if (wake) cv_.notify_all();
  }

  Status Flush() override {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    while (true) {
      std::vector<Pending> batch = Take();
      if (batch.empty()) return Status::Ok();
      BYOK_TRY(WriteBatch(batch));
    }
  }

  Result<std::vector<Record>> List(const Query& q) override {
    BYOK_TRY(Flush());
    std::vector<Record> out;
    store::ListOptions lo;
    lo.limit = kPage;
    if (q.since) lo.after = TimeKey(*q.since);
    while (true) {
      std::vector<store::LogEntry> page;
      BYOK_TRY(store::RunInReadTransaction(store_, [&](store::Transaction& tx) -> Status {
        BYOK_ASSIGN_OR_RETURN(page, tx.ListLog(kLog, lo));
        return Status::Ok();
      }));
      for (const store::LogEntry& entry : page) {
        auto json = nlohmann::json::parse(entry.value, nullptr, /*allow_exceptions=*/false);
        auto r = FromJson(json);
        if (!r.ok()) {
          spdlog::warn("audit: skipping unreadable record {}: {}", entry.key,
                       r.status().ToString());
          continue;
        }
        if (q.since && r->time < *q.since) continue;
        if (q.vault && !EqualsIgnoreCase(r->vault, *q.vault)) continue;
        out.push_back(std::move(r).value());
        if (q.limit != 0 && out.size() >= q.limit) return out;
      }
      if (page.size() < kPage) break;
      lo.after = page.back().key;
    }
    return out;
  }

  Result<int> Prune() override {
    const std::string cutoff = TimeKey(clock_.Now() - options_.retention);
    const size_t batch = std::max<size_t>(1, options_.prune_batch);
    int total = 0;
    while (true) {
      int64_t n = 0;
      BYOK_TRY(store::RunInTransaction(store_, [&](store::Transaction& tx) -> Status {
        BYOK_ASSIGN_OR_RETURN(n, tx.TrimLog(kLog, cutoff, batch));
        return Status::Ok();
      }));
      total += static_cast<int>(n);
      if (n < static_cast<int64_t>(batch)) break;
    }
    if (total > 0) spdlog::info("audit: pruned {} records older than the retention", total);
    return total;
  }

  uint64_t dropped() const override { return dropped_.load(); }

 private:
  struct Pending {
    Record record;
    uint64_t seq;
  };

  std::vector<Pending> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = std::min(queue_.size(), options_.max_batch);
    std::vector<Pending> batch;
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return batch;
  }

  // One transaction. On failure the records go back to the front of the queue (so a later flush
  // retries them), unless that would overflow it.
  Status WriteBatch(std::vector<Pending>& batch) {
    Status s = store::RunInTransaction(store_, [&](store::Transaction& tx) -> Status {
      for (const Pending& p : batch) {
        // Fields can carry client bytes (a key name from the path): invalid UTF-8 is stored as
        // U+FFFD rather than failing the batch (dump() would throw).
        std::string value =
            ToJson(p.record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        BYOK_TRY(tx.AppendLog(kLog, RecordKey(p.record.time, p.seq), value));
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      size_t room = options_.max_queue > queue_.size() ? options_.max_queue - queue_.size() : 0;
      size_t keep = std::min(room, batch.size());
      dropped_ += batch.size() - keep;
      for (size_t i = keep; i-- > 0;) queue_.push_front(std::move(batch[i]));
      return s.WithContext("audit: cannot write records");
    }
    return Status::Ok();
  }

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, options_.flush_interval,
                   [this] { return stop_ || queue_.size() >= options_.max_batch; });
      if (stop_) break;
      if (queue_.empty()) continue;
      lock.unlock();
      if (Status s = Flush(); !s.ok()) spdlog::error("{}", s.ToString());
      lock.lock();
    }
  }

  store::Store& store_;
  const Clock& clock_;
  const Options options_;
  std::mutex write_mu_;  // serializes writers (the thread, Flush callers)
  std::mutex mu_;        // guards queue_, seq_, stop_
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  // Starts at a random point: keys stay unique even if a restarted process meets an old
  // timestamp (the wall clock stepped back), since records are inserted without a read.
  uint64_t seq_ = std::random_device{}() % 100000000;
  bool stop_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace

nlohmann::json ToJson(const Record& r) {
  return {{"time", FormatAzureTime(r.time)},
          {"callerObjectId", r.caller_object_id},
          {"callerAppId", r.caller_app_id},
          {"vault", r.vault},
          {"object", r.object},
          {"version", r.version},
          {"operation", r.operation},
          {"status", r.status},
          {"result", r.result},
          {"requestId", r.request_id},
          {"clientIp", r.client_ip}};
}

Result<Record> FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("audit record is not an object");
  Record r;
  auto str = [&](const char* key, std::string* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) return Status::InvalidArgument(fmt::format("{} is not a string", key));
    *out = it->get<std::string>();
    return Status::Ok();
  };
  std::string time;
  BYOK_TRY(str("time", &time));
  BYOK_ASSIGN_OR_RETURN(r.time, ParseTimestamp(time));
  BYOK_TRY(str("callerObjectId", &r.caller_object_id));
  BYOK_TRY(str("callerAppId", &r.caller_app_id));
  BYOK_TRY(str("vault", &r.vault));
  BYOK_TRY(str("object", &r.object));
  BYOK_TRY(str("version", &r.version));
  BYOK_TRY(str("operation", &r.operation));
  BYOK_TRY(str("result", &r.result));
  BYOK_TRY(str("requestId", &r.request_id));
  BYOK_TRY(str("clientIp", &r.client_ip));
  if (auto it = j.find("status"); it != j.end() && it->is_number_integer()) {
    r.status = it->get<int>();
  }
  return r;
}

std::unique_ptr<AuditLog> AuditLog::Open(store::Store& store, const Clock& clock, Options options) {
  return std::make_unique<AuditLogImpl>(store, clock, options);
}

}  // namespace byok::audit
