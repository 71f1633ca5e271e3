// A gtest fixture with a fresh SQLite store in a temp dir, a ManualClock at
// 2024-01-02T03:04:05Z and a SeededRandom: the base of the kube tests that need a store.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/random.h"
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

}  // namespace byok::kube
