// Catch2 (v2) fixtures that give a test a Brook broker in the same process (brook/embedded/broker.hpp).
//
//   #include <brook/embedded/catch2.hpp>
//   TEST_CASE_METHOD(brook::embedded::catch2::shared_broker, "orders are consumed") {
//     auto servers = bootstrap_servers();  // "127.0.0.1:PORT" for any Kafka client
//
// shared_broker: one broker for the whole test program (broker::shared()), reset before each test, so
// every test starts with no topics, groups or offsets (a reset takes a few milliseconds).
// fresh_broker: a broker of the test's own (its own port and temporary directory), for tests that
// restart or crash it or need other broker properties: derive and pass options to the constructor.
// Both fail the test (REQUIRE) when the broker cannot start or reset.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <utility>

#include "brook/embedded/broker.hpp"

namespace brook::embedded::catch2 {

class shared_broker {
 public:
  shared_broker() {
    auto shared = broker::shared();
    INFO((shared ? std::string() : shared.err().message));
    REQUIRE(shared);
    broker_ = *shared;
    auto reset = broker_->reset();
    INFO((reset ? std::string() : reset.err().message));
    REQUIRE(reset);
  }
  embedded::broker& brook() { return *broker_; }
  std::string bootstrap_servers() const { return broker_->bootstrap_servers(); }

 private:
  embedded::broker* broker_ = nullptr;
};

class fresh_broker {
 public:
  explicit fresh_broker(options opts = {}) {
    auto started = broker::start(std::move(opts));
    INFO((started ? std::string() : started.err().message));
    REQUIRE(started);
    broker_ = std::move(*started);
  }
  embedded::broker& brook() { return *broker_; }
  std::string bootstrap_servers() const { return broker_->bootstrap_servers(); }

 private:
  std::unique_ptr<embedded::broker> broker_;
};

}  // namespace brook::embedded::catch2
