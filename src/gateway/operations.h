// Long-running operations, the way ARM reports them.
//
// Start() runs the work on a background worker thread (one; operations run in start order) and
// answers the request at once with 202 (or the given status), `Azure-AsyncOperation` (an
// operation-status URL: {"status":"InProgress"} until the work ends, then "Succeeded" or "Failed"
// with the error), `Location` (an operation-result URL: 202 while running, then 200 with the result
// body or 204) and `Retry-After: 1`, so the Azure CLI and SDKs poll quickly. URLs use the Host the
// client called. Only operations that are long-running in Azure use this; the rest answer
// synchronously.
//
// Operation state lives in memory: after a restart an old operation id is OperationNotFound.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/random.h"
#include "gateway/frontend.h"

namespace byok::gateway {

class Operations {
 public:
  Operations(const Clock& clock, Random& random);
  ~Operations();  // waits for running work

  using Work = std::function<ApiResult<nlohmann::json>()>;

  // Starts `work`; returns the response for the initial request. `body` is the initial response
  // body (e.g. the resource with provisioningState "Deleting"), null for none.
  http::Response Start(const ArmRequest& r, Work work, int status = 202,
                       nlohmann::json body = nullptr);

  // Queues `work` behind the started operations, with no request and no status URL: server work
  // that must be serialized with them (resuming operations a restart cut short). `what` names it
  // in the log if it fails.
  void Enqueue(std::string what, Work work);
  // Registers the operation-status and operation-result resource types on the front end.
  void Register(Frontend& frontend);

  // Blocks until every started operation has finished (tests, shutdown).
  void Drain();

 private:
  struct Op {
    std::string id;
    std::string subscription;
    std::string status = "InProgress";  // InProgress, Succeeded, Failed
    TimePoint start, end;
    nlohmann::json result;  // success body (may be null)
    ApiError error;
  };
  http::Response GetStatus(ArmRequest& r);
  http::Response GetResult(ArmRequest& r);

  const Clock& clock_;
  Random& random_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Op>> ops_;
  void WorkerLoop();

  std::vector<std::pair<std::shared_ptr<Op>, Work>> queue_;
  bool stopping_ = false;
  int running_ = 0;  // queued or executing
  std::thread worker_;
};

}  // namespace byok::gateway
