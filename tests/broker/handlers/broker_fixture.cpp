#include "broker_fixture.hpp"

#include <catch2/catch.hpp>

namespace brook::test {

namespace {
void require_ok(const common::result<void>& r) {
  INFO((r ? std::string() : r.err().message));
  REQUIRE(r);
}
}  // namespace

broker_fixture::broker_fixture(std::vector<std::string> overrides) {
  auto started = embedded::broker::start({.overrides = std::move(overrides)});
  INFO((started ? std::string() : started.err().message));
  REQUIRE(started);
  broker_ = std::move(*started);
}

broker_fixture::~broker_fixture() { client_.reset(); }

void broker_fixture::start() {
  client_.reset();
  require_ok(broker_->restart());
}

void broker_fixture::stop() {
  client_.reset();
  require_ok(broker_->stop());
}

void broker_fixture::restart() { start(); }

kafka_client& broker_fixture::client() {
  if (!client_) client_.emplace(port());
  return *client_;
}

}  // namespace brook::test
