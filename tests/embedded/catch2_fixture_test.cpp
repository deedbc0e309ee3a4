// The Catch2 fixtures of brook/embedded/catch2.hpp as a test program uses them.
#include "brook/embedded/catch2.hpp"

#include "tests/embedded/embedded_test_util.hpp"

using brook::embedded::catch2::fresh_broker;
using brook::embedded::catch2::shared_broker;
using namespace brook::embedded::testing;

// Two tests on the shared broker that both create the same topic: each starts from a reset broker.
TEST_CASE_METHOD(shared_broker, "shared broker fixture: a test creates a topic and produces") {
  REQUIRE(brook().create_topic("fixture-topic", 1));
  produce(bootstrap_servers(), "fixture-topic", {"first test"});
  CHECK(end_offset(bootstrap_servers(), "fixture-topic") == 1);
}

TEST_CASE_METHOD(shared_broker, "shared broker fixture: the next test finds the broker reset") {
  REQUIRE(brook().create_topic("fixture-topic", 1));
  CHECK(end_offset(bootstrap_servers(), "fixture-topic") == 0);
}

namespace {
struct three_partitions_by_default : fresh_broker {
  three_partitions_by_default() : fresh_broker({.overrides = {"num.partitions=3"}}) {}
};
}  // namespace

TEST_CASE_METHOD(three_partitions_by_default, "fresh broker fixture: a broker of the test's own with its options") {
  REQUIRE(brook().create_topic("own", -1));
  auto shared = brook::embedded::broker::shared();
  REQUIRE(shared);
  CHECK((*shared)->port() != brook().port());
  REQUIRE(brook().restart());
  produce(bootstrap_servers(), "own", {"x"});
  CHECK(end_offset(bootstrap_servers(), "own") == 1);
}
