// Dynamic broker configs in server_config (with_dynamic, validate_dynamic, synonyms) and group configs.
#include <catch2/catch.hpp>

#include "tests/broker/config/config_test_support.hpp"

#include "broker/config/group_config.hpp"
#include "broker/config/server_config.hpp"
#include "broker/config/topic_config.hpp"

#include <set>

using namespace brook::broker;
using brook::common::kafka_error;
using brook::test::entry_named;
using brook::test::server_config_of;

TEST_CASE("dynamic configs: this broker's over the defaults over the static settings, with Kafka's precedence") {
  auto base = server_config_of({{"log.retention.hours", "10"}, {"message.max.bytes", "5000"}});
  auto d = base.with_dynamic({{"message.max.bytes", "7000"}}, {{"message.max.bytes", "6000"}, {"log.retention.ms", "1234"}});
  REQUIRE(d);
  CHECK(d->message_max_bytes() == 7000);
  CHECK(d->source("message.max.bytes") == config_source::dynamic_broker_config);
  // log.retention.ms (a dynamic default) wins over the static log.retention.hours, as the finer key.
  CHECK(d->log_retention_ms() == 1234);
  CHECK(d->source("log.retention.ms") == config_source::dynamic_default_broker_config);
  auto syn = d->synonyms_of("message.max.bytes");
  REQUIRE(syn.size() == 4);
  CHECK(syn[0].source == config_source::dynamic_broker_config);
  CHECK(syn[1].source == config_source::dynamic_default_broker_config);
  CHECK(syn[2].source == config_source::static_broker_config);
  CHECK(syn[3].source == config_source::default_config);
  CHECK(d->synonyms_of("message.max.bytes", false).size() == 3);
  // Topics inherit the dynamic values.
  auto topic = resolve_topic_config(*d, {});
  REQUIRE(topic);
  CHECK(topic->max_message_bytes == 7000);
  CHECK(topic->retention_ms == 1234);
  // Replacing the layers with nothing gives the static settings back.
  auto plain = d->with_dynamic({}, {});
  REQUIRE(plain);
  CHECK(plain->message_max_bytes() == 5000);
  CHECK(plain->source("message.max.bytes") == config_source::static_broker_config);
  CHECK(plain->log_retention_ms() == 10 * 3600 * 1000LL);
}

TEST_CASE("dynamic configs: only Kafka's dynamic keys that Brook honours, validated as Kafka validates them") {
  CHECK(server_config::is_dynamic("log.retention.ms"));
  CHECK(server_config::is_dynamic("message.max.bytes"));
  CHECK(server_config::is_dynamic("log.cleaner.backoff.ms"));
  CHECK_FALSE(server_config::is_dynamic("log.retention.hours"));  // read-only in Kafka too
  CHECK_FALSE(server_config::is_dynamic("num.io.threads"));       // dynamic in Kafka, no equivalent in Brook
  for (const auto& name : server_config::dynamic_names()) {
    INFO(name);
    const auto* d = server_config::find_definition(name);
    REQUIRE(d);
    CHECK_FALSE(d->read_only);
  }
  auto refused = server_config::validate_dynamic({{"node.id", "2"}, {"listeners", "PLAINTEXT://:1"}});
  REQUIRE_FALSE(refused);
  CHECK(refused.code() == kafka_error::invalid_request);
  CHECK(refused.err().message == "Cannot update these configs dynamically: [listeners, node.id]");
  CHECK(server_config::validate_dynamic({{"custom.key", "x"}}));
  auto bad = server_config::validate_dynamic({{"log.message.timestamp.type", "foo"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.err().message ==
        "Invalid value foo for configuration log.message.timestamp.type: String must be one of: CreateTime, LogAppendTime");
  auto described = server_config_of().describe();
  CHECK_FALSE(entry_named(described, "log.segment.bytes").read_only);
  CHECK(entry_named(described, "num.partitions").read_only);
}

TEST_CASE("dynamic configs: compression.type, min.insync.replicas and unclean.leader.election.enable, as Kafka 4.4 has them") {
  for (const char* name : {"compression.type", "min.insync.replicas", "unclean.leader.election.enable"}) {
    INFO(name);
    CHECK(server_config::is_dynamic(name));
    CHECK_FALSE(entry_named(server_config_of().describe(), name).read_only);
  }
  auto d = server_config_of({{"min.insync.replicas", "2"}})
               .with_dynamic({{"compression.type", "lz4"}}, {{"min.insync.replicas", "3"}, {"unclean.leader.election.enable", "true"}});
  REQUIRE(d);
  CHECK(d->compression_type() == "lz4");
  CHECK(d->min_insync_replicas() == 3);
  CHECK(d->unclean_leader_election_enable());
  auto topic = resolve_topic_config(*d, {});
  REQUIRE(topic);
  CHECK(topic->compression_type == "lz4");
  CHECK(topic->min_insync_replicas == 3);
  CHECK(topic->unclean_leader_election_enable);
  auto bad = server_config::validate_dynamic({{"compression.type", "none"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.code() == kafka_error::invalid_request);
  CHECK(bad.err().message ==
        "Invalid value none for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, "
        "gzip, producer");
}

TEST_CASE("dynamic configs: a new data directory's cluster-wide min.insync.replicas is the static value") {
  CHECK(server_config_of().initial_dynamic_defaults() == dynamic_configs{{"min.insync.replicas", "1"}});
  CHECK(server_config_of({{"min.insync.replicas", " 02 "}}).initial_dynamic_defaults() ==
        dynamic_configs{{"min.insync.replicas", "2"}});
  // The static value, not a dynamic one in force.
  auto d = server_config_of().with_dynamic({}, {{"min.insync.replicas", "4"}});
  REQUIRE(d);
  CHECK(d->initial_dynamic_defaults() == dynamic_configs{{"min.insync.replicas", "1"}});
}

TEST_CASE("dynamic configs: min.insync.replicas with eligible leader replicas on, as Kafka refuses its changes") {
  const dynamic_configs set{{"min.insync.replicas", "2"}};
  const std::set<std::string> named{"min.insync.replicas"};
  // Per broker: neither set nor deleted.
  for (const dynamic_configs& after : {set, dynamic_configs{}}) {
    auto own = server_config::check_min_insync_replicas_change(false, named, after);
    REQUIRE_FALSE(own);
    CHECK(own.code() == kafka_error::invalid_config);
    CHECK(own.err().message == "Broker-level min.insync.replicas cannot be altered while ELR is enabled.");
  }
  // Cluster-wide: set, but not removed.
  CHECK(server_config::check_min_insync_replicas_change(true, named, set));
  auto removed = server_config::check_min_insync_replicas_change(true, named, {});
  REQUIRE_FALSE(removed);
  CHECK(removed.code() == kafka_error::invalid_config);
  CHECK(removed.err().message == "Cluster-level min.insync.replicas cannot be removed while ELR is enabled.");
  // Requests that do not name it pass, whatever the resource holds.
  CHECK(server_config::check_min_insync_replicas_change(false, {"compression.type"}, {}));
  CHECK(server_config::check_min_insync_replicas_change(true, {"compression.type"}, {}));
}

TEST_CASE("dynamic configs: the defaults resource lists only what is set there, custom keys as Kafka shows them") {
  auto d = server_config_of().with_dynamic({{"log.roll.ms", "5"}}, {{"log.roll.ms", " 9 "}, {"x.y", "1"}});
  REQUIRE(d);
  auto defaults = d->describe_dynamic_defaults();
  REQUIRE(defaults.size() == 2);
  CHECK(entry_named(defaults, "log.roll.ms").value == " 9 ");
  // Only the synonyms set there: neither this broker's own nor log.roll.hours' default (Kafka 4.4).
  REQUIRE(entry_named(defaults, "log.roll.ms").synonyms.size() == 1);
  CHECK(entry_named(defaults, "log.roll.ms").synonyms[0].source == config_source::dynamic_default_broker_config);
  CHECK(entry_named(defaults, "x.y").sensitive);
  CHECK(entry_named(defaults, "x.y").type == config_type::unknown);
  CHECK(d->log_roll_ms() == 5);
}

TEST_CASE("group configs: bounded by the broker's group.consumer bounds, described over the broker's values") {
  auto b = server_config_of({{"group.consumer.min.session.timeout.ms", "10000"}, {"group.consumer.session.timeout.ms", "20000"}});
  auto ok = resolve_group_config(b, {{"consumer.session.timeout.ms", "15000"}});
  REQUIRE(ok);
  CHECK(ok->session_timeout_ms == 15000);
  CHECK(ok->heartbeat_interval_ms == 5000);
  auto low = resolve_group_config(b, {{"consumer.session.timeout.ms", "9999"}});
  REQUIRE_FALSE(low);
  CHECK(low.code() == kafka_error::invalid_config);
  CHECK(low.err().message == "consumer.session.timeout.ms must be in the range 10000 to 60000 inclusive.");
  auto narrow = server_config_of({{"group.consumer.min.session.timeout.ms", "5000"}, {"group.consumer.max.heartbeat.interval.ms", "20000"}});
  auto crossed = resolve_group_config(narrow, {{"consumer.session.timeout.ms", "6000"}, {"consumer.heartbeat.interval.ms", "6000"}});
  REQUIRE_FALSE(crossed);
  CHECK(crossed.err().message == "consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms");
  auto interval = resolve_group_config(b, {{"consumer.assignment.interval.ms", "0"}});
  REQUIRE(interval);
  CHECK(interval->assignment_interval_ms == 0);
  CHECK(resolve_group_config(b, {})->assignment_interval_ms == 1000);
  auto slow = resolve_group_config(b, {{"consumer.assignment.interval.ms", "15001"}});
  REQUIRE_FALSE(slow);
  CHECK(slow.err().message == "consumer.assignment.interval.ms must be in the range 0 to 15000 inclusive.");
  auto described = describe_group_config(b, {{"consumer.heartbeat.interval.ms", "6000"}});
  CHECK(entry_named(described, "consumer.assignment.interval.ms").value == "1000");
  CHECK(entry_named(described, "consumer.assignment.interval.ms").source == config_source::default_config);
  CHECK(entry_named(described, "consumer.heartbeat.interval.ms").source == config_source::group_config);
  CHECK(entry_named(described, "consumer.session.timeout.ms").value == "20000");
  CHECK(entry_named(described, "consumer.session.timeout.ms").source == config_source::static_broker_config);
}
