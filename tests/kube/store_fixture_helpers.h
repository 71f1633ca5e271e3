// Fixtures of the kube tests.
//   StoreFixture    a fresh SQLite store in a temp dir, a ManualClock at 2024-01-02T03:04:05Z and
//                   a SeededRandom: the base of the kube tests that need a store.
//   ClusterFixture  a StoreFixture with an ObjectStore and one cluster record ("c", unique id
//                   "uid1", Kubernetes 1.24.9): the base of the tests that call HandleRest.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "containerservice/cluster_store.h"
#include "http/message.h"
#include "kube/object_store.h"
#include "store/store.h"

namespace byok::kube {

class StoreFixture : public ::testing::Test {
 protected:
  StoreFixture();
  void SetUp() override;
  void TearDown() override;

  std::string dir_;
  ManualClock clock_;
  SeededRandom random_{42};
  std::unique_ptr<store::Store> store_;
};

class ClusterFixture : public StoreFixture {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs HandleRest as the server would for `target` (a path relative to the cluster's API root,
  // with at most one query string whose "&"- and "="-separated values are taken as given) with
  // the method, headers and body of `r`.
  http::Response Handle(http::Request r, const std::string& target);
  // A kubectl-like request: Content-Type, Accept and kubectl's User-Agent, the body as JSON.
  http::Response Call(const std::string& method, const std::string& target,
                      const nlohmann::json& body = nullptr,
                      const std::string& content_type = "application/json",
                      const std::string& accept = "application/json");
  static nlohmann::json Body(const http::Response& r) { return nlohmann::json::parse(r.body); }

  std::unique_ptr<ObjectStore> objects_;
  containerservice::ClusterRecord cluster_;
};

}  // namespace byok::kube
