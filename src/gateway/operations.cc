#include "gateway/operations.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/errors.h"

namespace byok::gateway {

Operations::Operations(const Clock& clock, Random& random) : clock_(clock), random_(random) {
  worker_ = std::thread([this] { WorkerLoop(); });
}

Operations::~Operations() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void Operations::WorkerLoop() {
  for (;;) {
    std::shared_ptr<Op> op;
    Work work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left
      op = std::move(queue_.front().first);
      work = std::move(queue_.front().second);
      queue_.erase(queue_.begin());
    }
    ApiResult<nlohmann::json> result = nlohmann::json();
    try {
      result = work();
    } catch (const std::exception& e) {
      spdlog::error("long-running operation {} failed: {}", op->id, e.what());
      result = MakeError(arm::errors::kInternalError, FormatAzureTime(clock_.Now()), op->id);
    }
    std::lock_guard<std::mutex> lock(mu_);
    op->end = clock_.Now();
    if (result.ok()) {
      op->status = "Succeeded";
      op->result = std::move(result).value();
    } else {
      op->status = "Failed";
      op->error = result.error();
    }
    --running_;
    cv_.notify_all();
  }
}

void Operations::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return running_ == 0; });
}

http::Response Operations::Start(const ArmRequest& r, Work work, int status, nlohmann::json body) {
  auto op = std::make_shared<Op>();
  op->id = random_.Uuid();
  op->subscription = r.path.id.subscription_id();
  op->start = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ops_[op->id] = op;
    ++running_;
    queue_.emplace_back(op, std::move(work));
  }
  cv_.notify_all();
  std::string host = r.http->headers.Get("host").value_or("localhost");
  std::string base = fmt::format("https://{}/subscriptions/{}", host, op->subscription);
  http::Response res =
      body.is_null() ? http::Response::Empty(status) : http::Response::Json(status, body);
  res.headers.Set(
      "Azure-AsyncOperation",
      fmt::format("{}/providers/Microsoft.Resources/operationStatuses/{}?api-version={}", base,
                  op->id, r.api_version));
  res.headers.Set("Location", fmt::format("{}/operationresults/{}?api-version={}", base, op->id,
                                          r.api_version));
  res.headers.Set("Retry-After", "1");
  return res;
}

void Operations::Enqueue(std::string what, Work work) {
  auto op = std::make_shared<Op>();
  op->id = std::move(what);  // never in ops_: nobody can poll it
  op->start = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++running_;
    queue_.emplace_back(op, [op, work = std::move(work)]() -> ApiResult<nlohmann::json> {
      ApiResult<nlohmann::json> result = work();
      if (!result.ok()) {
        spdlog::error("{} failed: {} {}", op->id, result.error().code, result.error().message);
      }
      return result;
    });
  }
  cv_.notify_all();
}

http::Response Operations::GetStatus(ArmRequest& r) {
  std::string opid = r.path.id.Name();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(opid);
  if (it == ops_.end() || it->second->subscription != r.path.id.subscription_id()) {
    return ArmError(MakeError(arm::errors::kOperationNotFound, opid));
  }
  const Op& op = *it->second;
  nlohmann::json doc = {{"id", r.http->path},
                        {"name", op.id},
                        {"status", op.status},
                        {"startTime", FormatAzureTime(op.start)}};
  if (op.status != "InProgress") doc["endTime"] = FormatAzureTime(op.end);
  if (op.status == "Failed")
    doc["error"] = {{"code", op.error.code}, {"message", op.error.message}};
  http::Response res = http::Response::Json(200, doc);
  if (op.status == "InProgress") res.headers.Set("Retry-After", "1");
  return res;
}

http::Response Operations::GetResult(ArmRequest& r) {
  std::string opid = r.path.action;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(opid);
  if (it == ops_.end() || it->second->subscription != r.path.id.subscription_id()) {
    return ArmError(MakeError(arm::errors::kOperationNotFound, opid));
  }
  const Op& op = *it->second;
  if (op.status == "InProgress") {
    http::Response res = http::Response::Empty(202);
    res.headers.Set(
        "Location",
        fmt::format("https://{}{}", r.http->headers.Get("host").value_or(""), r.http->target));
    res.headers.Set("Retry-After", "1");
    return res;
  }
  if (op.status == "Failed") return ArmError(op.error);
  if (op.result.is_null()) return http::Response::Empty(204);
  return http::Response::Json(200, op.result);
}

void Operations::Register(Frontend& frontend) {
  ResourceTypeSpec status;
  status.type = "Microsoft.Resources/operationStatuses";
  status.api_versions = {"*"};
  status.get = [this](ArmRequest& r) { return GetStatus(r); };
  status.rbac_action = [](const ArmRequest&) { return std::string(); };
  frontend.Register(std::move(status));

  ResourceTypeSpec result;
  result.type = "Microsoft.Resources/operationResults";
  result.api_versions = {"*"};
  result.get = [this](ArmRequest& r) { return GetResult(r); };
  result.rbac_action = [](const ArmRequest&) { return std::string(); };
  frontend.Register(std::move(result));
}

}  // namespace byok::gateway
