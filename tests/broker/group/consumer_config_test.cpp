// group.consumer.* broker keys as the coordinator receives them, and Kafka's bounds on them.
#include <catch2/catch.hpp>

#include "broker/config/server_config.hpp"
#include "broker/group/group_service.hpp"

using namespace brook::broker;
using brook::common::kafka_error;

namespace {

brook::common::result<server_config> parse(property_list props) { return server_config::from_properties(props); }

}  // namespace

TEST_CASE("group.consumer defaults are Kafka's") {
  auto c = parse({});
  REQUIRE(c.ok());
  auto cfg = brook::broker::group::coordinator_config_from(*c);
  CHECK(cfg.consumer.session_timeout_ms == 45000);
  CHECK(cfg.consumer.heartbeat_interval_ms == 5000);
  CHECK(cfg.consumer.max_size == 2147483647);
  CHECK(cfg.consumer.assignors == std::vector<std::string>{"uniform", "range"});
  CHECK(cfg.consumer.assignment_interval_ms == 1000);  // KIP-1263's batching
}

TEST_CASE("group.consumer.assignment.interval.ms is bounded by its min and max") {
  auto none = parse({{"group.consumer.assignment.interval.ms", "0"}});
  REQUIRE(none.ok());
  CHECK(brook::broker::group::coordinator_config_from(*none).consumer.assignment_interval_ms == 0);
  auto high = parse({{"group.consumer.assignment.interval.ms", "15001"}});
  REQUIRE_FALSE(high.ok());
  CHECK(high.code() == kafka_error::invalid_config);
  CHECK(high.err().message ==
        "group.consumer.assignment.interval.ms must be less than or equal to group.consumer.max.assignment.interval.ms");
  auto low = parse({{"group.consumer.min.assignment.interval.ms", "2000"}});
  REQUIRE_FALSE(low.ok());
  CHECK(low.err().message ==
        "group.consumer.assignment.interval.ms must be greater than or equal to group.consumer.min.assignment.interval.ms");
  auto crossed = parse({{"group.consumer.min.assignment.interval.ms", "2000"},
                        {"group.consumer.max.assignment.interval.ms", "1000"}});
  REQUIRE_FALSE(crossed.ok());
}

TEST_CASE("group.consumer keys are bounded and cross-checked") {
  auto small = parse({{"group.consumer.min.session.timeout.ms", "1000"},
                      {"group.consumer.session.timeout.ms", "2000"},
                      {"group.consumer.min.heartbeat.interval.ms", "100"},
                      {"group.consumer.heartbeat.interval.ms", "200"},
                      {"group.consumer.assignors", "org.apache.kafka.coordinator.group.assignor.RangeAssignor,uniform"}});
  REQUIRE(small.ok());
  auto cfg = brook::broker::group::coordinator_config_from(*small);
  CHECK(cfg.consumer.session_timeout_ms == 2000);
  CHECK(cfg.consumer.heartbeat_interval_ms == 200);
  CHECK(cfg.consumer.assignors == std::vector<std::string>{"range", "uniform"});

  // Below the minimum (45 s by default).
  auto low = parse({{"group.consumer.session.timeout.ms", "10000"}});
  REQUIRE_FALSE(low.ok());
  CHECK(low.code() == kafka_error::invalid_config);
  // The heartbeat interval must stay below the session timeout.
  auto hb = parse({{"group.consumer.min.session.timeout.ms", "1000"},
                   {"group.consumer.session.timeout.ms", "5000"},
                   {"group.consumer.heartbeat.interval.ms", "5000"}});
  REQUIRE_FALSE(hb.ok());
  auto one = parse({{"group.consumer.assignors", "range"}});
  REQUIRE(one.ok());
  CHECK(brook::broker::group::coordinator_config_from(*one).consumer.assignors == std::vector<std::string>{"range"});
  // Unknown assignors are refused at start-up.
  auto bad = parse({{"group.consumer.assignors", "sticky"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.code() == kafka_error::invalid_config);
}
