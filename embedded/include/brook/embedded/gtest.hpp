// GoogleTest fixtures that give a test a Brook broker in the same process (brook/embedded/broker.hpp).
//
//   #include <brook/embedded/gtest.hpp>
//   using OrdersTest = brook::embedded::gtest::shared_broker_test;
//   TEST_F(OrdersTest, Consumed) { auto servers = bootstrap_servers();  // "127.0.0.1:PORT"
//
// shared_broker_test: one broker for the whole test program (broker::shared()), reset in SetUp, so every
// test starts with no topics, groups or offsets. fresh_broker_test: a broker of the test's own, started
// in SetUp with options() (override it for other broker properties) and destroyed in TearDown.
// Both fail the test (ASSERT) when the broker cannot start or reset.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "brook/embedded/broker.hpp"

namespace brook::embedded::gtest {

class shared_broker_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shared = broker::shared();
    ASSERT_TRUE(shared) << shared.err().message;
    broker_ = *shared;
    auto reset = broker_->reset();
    ASSERT_TRUE(reset) << reset.err().message;
  }
  embedded::broker& brook() { return *broker_; }
  std::string bootstrap_servers() const { return broker_->bootstrap_servers(); }

 private:
  embedded::broker* broker_ = nullptr;
};

class fresh_broker_test : public ::testing::Test {
 protected:
  virtual embedded::options options() const { return {}; }
  void SetUp() override {
    auto started = broker::start(options());
    ASSERT_TRUE(started) << started.err().message;
    broker_ = std::move(*started);
  }
  void TearDown() override { broker_.reset(); }
  embedded::broker& brook() { return *broker_; }
  std::string bootstrap_servers() const { return broker_->bootstrap_servers(); }

 private:
  std::unique_ptr<embedded::broker> broker_;
};

}  // namespace brook::embedded::gtest
