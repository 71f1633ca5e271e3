// Kubernetes watch through HandleRest with a fake stream sink: initial ADDED events, changes in
// order, resuming from a resourceVersion, 410 Expired, selectors (objects entering and leaving),
// single-item watches, namespaces, Table events, timeoutSeconds, and the ObjectStore's
// subscription guarantees (Unsubscribe waits for a delivery in progress, a throwing subscriber).
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube/object_store.h"
#include "kube/rest.h"
#include "kube/store_fixture_helpers.h"

namespace byok::kube {
namespace {

using nlohmann::json;

// Collects what a watch writes; Close runs the close callbacks at once (on the calling thread).
class FakeSink : public http::StreamSink {
 public:
  bool Write(std::string chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    data_ += chunk;
    return true;
  }
  void Close() override {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
      callbacks.swap(on_close_);
    }
    for (auto& fn : callbacks) fn();
  }
  bool closed() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  void OnClose(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_) {
        on_close_.push_back(std::move(fn));
        return;
      }
    }
    fn();
  }
  // The events written so far (one JSON document per line).
  std::vector<json> Events() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<json> out;
    size_t start = 0;
    while (start < data_.size()) {
      size_t nl = data_.find('\n', start);
      EXPECT_NE(nl, std::string::npos) << "an event without its newline";
      if (nl == std::string::npos) break;
      out.push_back(json::parse(data_.substr(start, nl - start)));
      start = nl + 1;
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::string data_;
  bool closed_ = false;
  std::vector<std::function<void()>> on_close_;
};

class WatchTest : public ClusterFixture {
 protected:
  void SetUp() override {
    ClusterFixture::SetUp();
    ASSERT_TRUE(objects_->EnsureBuiltins(cluster_.unique_id).ok());
    pvc_ = FindKind("", "v1", "persistentvolumeclaims");
    ns_ = FindKind("", "v1", "namespaces");
    ASSERT_NE(pvc_, nullptr);
    ASSERT_NE(ns_, nullptr);
  }
  // A GET (or `method`) with only an Accept header; hides ClusterFixture::Call.
  http::Response Call(const std::string& target, const std::string& accept = "application/json",
                      const std::string& method = "GET") {
    http::Request r;
    r.method = method;
    r.headers.Set("Accept", accept);
    return Handle(std::move(r), target);
  }

  // Starts a watch: the response must be a stream; the sink is attached as the server would.
  std::shared_ptr<FakeSink> Watch(const std::string& target,
                                  const std::string& accept = "application/json") {
    http::Response r = Call(target, accept);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/json");
    auto sink = std::make_shared<FakeSink>();
    EXPECT_TRUE(static_cast<bool>(r.stream));
    if (r.stream) r.stream(sink);
    return sink;
  }

  json Pvc(const std::string& name, const std::string& ns = "default", json labels = nullptr) {
    json obj = {{"apiVersion", "v1"},
                {"kind", "PersistentVolumeClaim"},
                {"metadata", {{"name", name}, {"namespace", ns}}},
                {"spec",
                 {{"accessModes", {"ReadWriteOnce"}},
                  {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
    if (!labels.is_null()) obj["metadata"]["labels"] = labels;
    return obj;
  }

  void CreateNamespace(const std::string& name) {
    ASSERT_TRUE(objects_->Create(cluster_.unique_id, *ns_, {{"metadata", {{"name", name}}}}).ok());
  }

  static std::vector<std::string> Summary(const std::vector<json>& events) {
    std::vector<std::string> out;
    for (const json& e : events) {
      out.push_back(e["type"].get<std::string>() + " " +
                    e["object"]["metadata"].value("name", std::string()));
    }
    return out;
  }

  const Kind* pvc_ = nullptr;
  const Kind* ns_ = nullptr;
};

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST_F(WatchTest, ExistingObjectsAreAddedThenChangesFollowInOrder) {
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("a")).ok());
  auto sink = Watch("api/v1/namespaces/default/persistentvolumeclaims?watch=1");
  EXPECT_THAT(Summary(sink->Events()), ElementsAre("ADDED a"));

  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("b")).ok());
  auto modified = objects_->Modify(cluster_.unique_id, *pvc_, "default", "a", [](json o) {
    o["metadata"]["labels"] = {{"x", "y"}};
    return Result<json>(std::move(o));
  });
  ASSERT_TRUE(modified.ok());
  ASSERT_TRUE(objects_->Delete(cluster_.unique_id, *pvc_, "default", "b").ok());
  // Other kinds and namespaces are not this watch's business.
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("c", "kube-system")).ok());
  std::vector<json> events = sink->Events();
  EXPECT_THAT(Summary(events), ElementsAre("ADDED a", "ADDED b", "MODIFIED a", "DELETED b"));
  EXPECT_EQ(events[2]["object"]["metadata"]["labels"]["x"], "y");
  EXPECT_EQ(events[2]["object"]["metadata"]["resourceVersion"],
            (*modified)["metadata"]["resourceVersion"]);

  // The client goes away: the watch unsubscribes.
  sink->Close();
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("d")).ok());
  EXPECT_EQ(sink->Events().size(), 4u);
}

TEST_F(WatchTest, ResumesAfterAResourceVersion) {
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("old")).ok());
  auto list = Call("api/v1/namespaces/default/persistentvolumeclaims");
  ASSERT_EQ(list.status, 200);
  std::string rv = json::parse(list.body)["metadata"]["resourceVersion"];
  // Written between the list and the watch (kubectl get -w lists, then watches from the list).
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("between")).ok());
  auto sink =
      Watch("api/v1/namespaces/default/persistentvolumeclaims?watch=true&resourceVersion=" + rv);
  EXPECT_THAT(Summary(sink->Events()), ElementsAre("ADDED between"));
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("after")).ok());
  EXPECT_THAT(Summary(sink->Events()), ElementsAre("ADDED between", "ADDED after"));

  // The current resourceVersion: nothing to replay.
  auto now = objects_->CurrentResourceVersion(cluster_.unique_id);
  ASSERT_TRUE(now.ok());
  auto quiet =
      Watch("api/v1/persistentvolumeclaims?watch=1&resourceVersion=" + std::to_string(*now));
  EXPECT_THAT(quiet->Events(), IsEmpty());
  EXPECT_FALSE(quiet->closed());
  quiet->Close();
  sink->Close();
}

TEST_F(WatchTest, TooOldResourceVersionIsAnExpiredErrorEvent) {
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("a")).ok());
  // A new ObjectStore (byokd restarted) keeps no events of before.
  objects_ = std::make_unique<ObjectStore>(ObjectStoreDeps{store_.get(), &clock_, &random_});
  auto sink = Watch("api/v1/persistentvolumeclaims?watch=1&resourceVersion=1");
  std::vector<json> events = sink->Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["kind"], "Status");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_EQ(events[0]["object"]["reason"], "Expired");
  EXPECT_THAT(events[0]["object"]["message"].get<std::string>(),
              ::testing::StartsWith("too old resource version: 1 ("));
  EXPECT_TRUE(sink->closed());

  EXPECT_EQ(Call("api/v1/persistentvolumeclaims?watch=1&resourceVersion=abc").status, 400);
}

TEST_F(WatchTest, SelectorsSendObjectsEnteringAndLeavingAsAddedAndDeleted) {
  ASSERT_TRUE(
      objects_->Create(cluster_.unique_id, *pvc_, Pvc("in", "default", {{"app", "x"}})).ok());
  ASSERT_TRUE(
      objects_->Create(cluster_.unique_id, *pvc_, Pvc("out", "default", {{"app", "z"}})).ok());
  auto sink = Watch("api/v1/persistentvolumeclaims?watch=1&labelSelector=app=x");
  EXPECT_THAT(Summary(sink->Events()), ElementsAre("ADDED in"));
  auto relabel = [&](const std::string& name, const std::string& app) {
    ASSERT_TRUE(objects_
                    ->Modify(cluster_.unique_id, *pvc_, "default", name,
                             [&](json o) {
                               o["metadata"]["labels"]["app"] = app;
                               return Result<json>(std::move(o));
                             })
                    .ok());
  };
  relabel("out", "x");  // enters
  relabel("in", "y");   // leaves
  relabel("in", "w");   // still out: nothing
  EXPECT_THAT(Summary(sink->Events()), ElementsAre("ADDED in", "ADDED out", "DELETED in"));
  sink->Close();
}

TEST_F(WatchTest, SingleItemWatches) {
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("one")).ok());
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("two")).ok());
  // What kubectl wait and kubectl delete send.
  auto by_field = Watch(
      "api/v1/namespaces/default/persistentvolumeclaims?fieldSelector=metadata.name=one&watch=1");
  // The item path form.
  auto by_path = Watch("api/v1/namespaces/default/persistentvolumeclaims/one?watch=1");
  ASSERT_TRUE(objects_->Delete(cluster_.unique_id, *pvc_, "default", "two").ok());
  ASSERT_TRUE(objects_->Delete(cluster_.unique_id, *pvc_, "default", "one").ok());
  EXPECT_THAT(Summary(by_field->Events()), ElementsAre("ADDED one", "DELETED one"));
  EXPECT_THAT(Summary(by_path->Events()), ElementsAre("ADDED one", "DELETED one"));
  by_field->Close();
  by_path->Close();
}

TEST_F(WatchTest, AllNamespacesAndClusterScopedKinds) {
  CreateNamespace("team");
  auto all = Watch("api/v1/persistentvolumeclaims?watch=1");
  auto team = Watch("api/v1/namespaces/team/persistentvolumeclaims?watch=1");
  auto namespaces = Watch("api/v1/namespaces?watch=1&resourceVersion=0");
  EXPECT_EQ(namespaces->Events().size(), 5u);  // four built-in namespaces and "team"
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("d1")).ok());
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("t1", "team")).ok());
  EXPECT_THAT(Summary(all->Events()), ElementsAre("ADDED d1", "ADDED t1"));
  EXPECT_THAT(Summary(team->Events()), ElementsAre("ADDED t1"));
  // Deleting the namespace deletes its claims first.
  ASSERT_TRUE(objects_->Delete(cluster_.unique_id, *ns_, "", "team").ok());
  EXPECT_THAT(Summary(team->Events()), ElementsAre("ADDED t1", "DELETED t1"));
  EXPECT_EQ(Summary(namespaces->Events()).back(), "DELETED team");
  all->Close();
  team->Close();
  namespaces->Close();
}

TEST_F(WatchTest, TableEventsCarryColumnDefinitionsOnlyFirst) {
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("a")).ok());
  auto sink = Watch("api/v1/namespaces/default/persistentvolumeclaims?watch=1",
                    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  ASSERT_TRUE(objects_->Delete(cluster_.unique_id, *pvc_, "default", "a").ok());
  std::vector<json> events = sink->Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["kind"], "Table");
  EXPECT_FALSE(events[0]["object"]["columnDefinitions"].empty());
  EXPECT_EQ(events[0]["object"]["rows"].size(), 1u);
  EXPECT_EQ(events[0]["object"]["rows"][0]["cells"][0], "a");
  EXPECT_EQ(events[1]["type"], "DELETED");
  EXPECT_TRUE(events[1]["object"]["columnDefinitions"].empty());
  EXPECT_EQ(events[1]["object"]["rows"][0]["cells"][0], "a");
  sink->Close();
}

TEST_F(WatchTest, TimeoutSecondsAndHead) {
  http::Response r = Call("api/v1/persistentvolumeclaims?watch=1&timeoutSeconds=7");
  EXPECT_EQ(r.stream_timeout, std::chrono::seconds(7));
  http::Response d = Call("api/v1/persistentvolumeclaims?watch=1&allowWatchBookmarks=true");
  EXPECT_EQ(d.stream_timeout, std::chrono::seconds(1800));
  // The server hands a closed sink when no body is sent (HEAD): the watch lets go at once.
  http::Response head = Call("api/v1/persistentvolumeclaims?watch=1", "application/json", "HEAD");
  auto sink = std::make_shared<FakeSink>();
  sink->Close();
  head.stream(sink);
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("x")).ok());
  EXPECT_THAT(sink->Events(), IsEmpty());
  EXPECT_EQ(Call("api/v1/persistentvolumeclaims?watch=1", "application/json", "POST").status, 405);
}

TEST_F(WatchTest, NodesAreSentAsTheyAreThenTheStreamWaits) {
  auto sink = Watch("api/v1/nodes?watch=1");
  EXPECT_THAT(sink->Events(), IsEmpty());  // this cluster has no node records
  EXPECT_FALSE(sink->closed());
  sink->Close();
}

// ---- ObjectStore subscriptions. ----

TEST_F(WatchTest, UnsubscribeWaitsForADeliveryInProgress) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  std::atomic<bool> unsubscribed{false};
  std::atomic<bool> called_after{false};
  uint64_t h = objects_->Subscribe(cluster_.unique_id, [&](std::string_view, const WatchEvent&) {
    if (unsubscribed) called_after = true;
    if (calls++ == 0) {
      entered.set_value();
      released.wait();
    }
  });
  std::thread writer(
      [&] { ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("w")).ok()); });
  entered.get_future().wait();
  std::atomic<bool> returned{false};
  std::thread unsubscriber([&] {
    objects_->Unsubscribe(h);
    unsubscribed = true;
    returned = true;
  });
  // Unsubscribe cannot return while the callback runs.
  std::this_thread::yield();
  EXPECT_FALSE(returned);
  release.set_value();
  unsubscriber.join();
  writer.join();
  EXPECT_TRUE(returned);
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("w2")).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(called_after);
}

TEST_F(WatchTest, UnsubscribeFromInsideTheCallbackAndAThrowingSubscriber) {
  uint64_t self = 0;
  int self_calls = 0;
  self = objects_->Subscribe(cluster_.unique_id, [&](std::string_view, const WatchEvent&) {
    ++self_calls;
    objects_->Unsubscribe(self);  // must not deadlock
  });
  uint64_t thrower = objects_->Subscribe(
      cluster_.unique_id,
      [](std::string_view, const WatchEvent&) { throw std::runtime_error("subscriber bug"); });
  EXPECT_THROW((void)objects_->Create(cluster_.unique_id, *pvc_, Pvc("t1")), std::runtime_error);
  objects_->Unsubscribe(thrower);
  // Delivery still works afterwards (the delivering flag was reset).
  int later = 0;
  uint64_t h = objects_->Subscribe(cluster_.unique_id,
                                   [&](std::string_view, const WatchEvent&) { ++later; });
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("t2")).ok());
  EXPECT_EQ(self_calls, 1);
  EXPECT_GE(later, 1);
  objects_->Unsubscribe(h);
}

TEST_F(WatchTest, StreamingListEndsTheInitialEventsWithABookmark) {
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("a")).ok());
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("b")).ok());
  const std::string rv = std::to_string(*objects_->CurrentResourceVersion(cluster_.unique_id));
  const std::string streaming =
      "api/v1/namespaces/default/persistentvolumeclaims?watch=1&sendInitialEvents=true&"
      "allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan";
  auto sink = Watch(streaming);
  std::vector<json> events = sink->Events();
  EXPECT_THAT(Summary(events), ElementsAre("ADDED a", "ADDED b", "BOOKMARK "));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2]["object"],
            json({{"kind", "PersistentVolumeClaim"},
                  {"apiVersion", "v1"},
                  {"metadata",
                   {{"resourceVersion", rv},
                    {"creationTimestamp", nullptr},
                    {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}}));
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("c")).ok());
  EXPECT_THAT(Summary(sink->Events()), ElementsAre("ADDED a", "ADDED b", "BOOKMARK ", "ADDED c"));
  sink->Close();

  // A resourceVersion: the current state is never older, so it is sent whole.
  auto again = Watch(streaming + "&resourceVersion=1");
  EXPECT_THAT(Summary(again->Events()), ElementsAre("ADDED a", "ADDED b", "ADDED c", "BOOKMARK "));
  again->Close();
  EXPECT_EQ(Call(streaming + "&resourceVersion=999").status, 504);

  // sendInitialEvents=false without a resourceVersion: from now on, no initial events.
  auto from_now = Watch(
      "api/v1/namespaces/default/persistentvolumeclaims?watch=1&sendInitialEvents=false&"
      "allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan");
  EXPECT_THAT(from_now->Events(), IsEmpty());
  ASSERT_TRUE(objects_->Create(cluster_.unique_id, *pvc_, Pvc("d")).ok());
  EXPECT_THAT(Summary(from_now->Events()), ElementsAre("ADDED d"));
  from_now->Close();
  // An empty value is true (the apiserver's conversion), so the end bookmark comes.
  auto empty_value = Watch(
      "api/v1/namespaces/default/persistentvolumeclaims?watch=1&sendInitialEvents=true&"
      "allowWatchBookmarks=&resourceVersionMatch=NotOlderThan");
  EXPECT_THAT(Summary(empty_value->Events()),
              ElementsAre("ADDED a", "ADDED b", "ADDED c", "ADDED d", "BOOKMARK "));
  empty_value->Close();

  // sendInitialEvents=false with a resourceVersion: a watch from it, no bookmark.
  auto legacy = Watch(
      "api/v1/namespaces/default/persistentvolumeclaims?watch=1&sendInitialEvents=false&"
      "allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=" +
      rv);
  EXPECT_THAT(Summary(legacy->Events()), ElementsAre("ADDED c", "ADDED d"));
  legacy->Close();

  // Nodes (not stored) too.
  auto nodes = Watch(
      "api/v1/nodes?watch=1&sendInitialEvents=true&allowWatchBookmarks=1&"
      "resourceVersionMatch=NotOlderThan");
  std::vector<json> node_events = nodes->Events();
  ASSERT_FALSE(node_events.empty());
  EXPECT_EQ(node_events.back()["type"], "BOOKMARK");
  EXPECT_EQ(node_events.back()["object"]["kind"], "Node");
  nodes->Close();
}

TEST_F(WatchTest, StreamingListOptionsAreCheckedAsTheApiserverDoes) {
  auto invalid = [&](const std::string& query) {
    auto r = Call("api/v1/persistentvolumeclaims?watch=1&" + query);
    EXPECT_EQ(r.status, 422) << query << " " << r.body;
    json body = json::parse(r.body);
    EXPECT_EQ(body["reason"], "Invalid");
    EXPECT_EQ(body["details"]["kind"], "ListOptions");
    EXPECT_EQ(body["details"]["group"], "meta.k8s.io");
    return body["message"].get<std::string>();
  };
  EXPECT_EQ(invalid("sendInitialEvents=true&allowWatchBookmarks=true"),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
  EXPECT_EQ(invalid("sendInitialEvents=false&resourceVersionMatch=Exact"),
            "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: "
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, "
            "resourceVersionMatch: Unsupported value: \"Exact\": supported values: "
            "\"NotOlderThan\"]");
  EXPECT_EQ(invalid("resourceVersionMatch=NotOlderThan"),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
  EXPECT_EQ(invalid("sendInitialEvents=1&resourceVersionMatch=NotOlderThan&continue=abc"),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "resourceVersionMatch is forbidden when continue is provided");
  // As the apiserver, allowWatchBookmarks is not required (no end bookmark without it).
  auto no_bookmarks = Watch(
      "api/v1/persistentvolumeclaims?watch=1&sendInitialEvents=true&"
      "resourceVersionMatch=NotOlderThan");
  EXPECT_THAT(no_bookmarks->Events(), IsEmpty());
  no_bookmarks->Close();
}

}  // namespace
}  // namespace byok::kube
