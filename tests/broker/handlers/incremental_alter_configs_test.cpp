// IncrementalAlterConfigs on broker resources (dynamic broker configs, per broker and cluster-wide)
// and on group resources (KIP-848 group configs): Kafka's checks and messages, storage across
// restarts, and changes in force without a restart.
#include <catch2/catch.hpp>

#include <algorithm>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "config_test_util.hpp"
#include "common/protocol/messages/produce.hpp"
#include "group_test_util.hpp"
#include "tests/common/hostile_batches.hpp"
#include "acl_test_util.hpp"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"  // designated batch specs

using namespace brook;
namespace proto = common::protocol;
using common::kafka_error;
using common::wire_code;

using namespace brook::test::configs;
using brook::broker::dynamic_configs;
using brook::broker::effective_topic_config;

namespace {
int16_t produce_one_batch(test::broker_fixture& b, const std::string& name) {
  namespace pr = proto::produce;
  namespace h = test::hostile;
  pr::request req;
  req.acks = 1;
  req.timeout_ms = 10000;
  auto& t = req.topic_data.emplace_back();
  t.name = name;
  auto& p = t.partition_data.emplace_back();
  auto batch = h::batch({.record_count = 2}, h::records(2));
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  auto resp = b.call<pr::response>(pr::api_key, 9, req);
  return resp.responses.at(0).partition_responses.at(0).error_code;
}
}  // namespace

TEST_CASE("dynamic broker configs: per broker and cluster-wide, with Kafka's sources and synonyms, across a restart") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  require_ok(alter(b, broker_resource, "1", {{"log.retention.ms", op_set, "1000"}}));
  auto one = describe(b, broker_resource, "1", std::vector<std::string>{"log.retention.ms", "log.retention.hours"});
  REQUIRE(one.configs.size() == 2);
  CHECK(entry(one, "log.retention.ms").value == "1000");
  CHECK(entry(one, "log.retention.ms").config_source == 2);  // DYNAMIC_BROKER_CONFIG
  CHECK_FALSE(entry(one, "log.retention.ms").read_only);
  CHECK(entry(one, "log.retention.hours").read_only);
  CHECK(synonyms(entry(one, "log.retention.ms")) ==
        synonym_list{{"log.retention.ms", "1000", 2}, {"log.retention.hours", "168", 5}});

  require_ok(alter(b, broker_resource, "", {{"log.retention.ms", op_set, " 2000 "}}));
  one = describe(b, broker_resource, "1", std::vector<std::string>{"log.retention.ms"});
  CHECK(synonyms(entry(one, "log.retention.ms")) ==
        synonym_list{{"log.retention.ms", "1000", 2}, {"log.retention.ms", " 2000 ", 3}, {"log.retention.hours", "168", 5}});
  // The defaults resource lists only what is set there (a new directory's min.insync.replicas, and
  // this), as given, with only the synonyms set there.
  auto defaults = describe(b, broker_resource, "");
  CHECK(defaults.error_code == 0);
  REQUIRE(defaults.configs.size() == 2);
  const auto& retention = entry(defaults, "log.retention.ms");
  CHECK(retention.value == " 2000 ");
  CHECK(retention.config_source == 3);  // DYNAMIC_DEFAULT_BROKER_CONFIG
  CHECK(synonyms(retention) == synonym_list{{"log.retention.ms", " 2000 ", 3}});
  // A topic inherits the broker's value and reports where it comes from.
  auto t = describe(b, topic_resource, "t", std::vector<std::string>{"retention.ms"});
  CHECK(entry(t, "retention.ms").value == "1000");
  CHECK(entry(t, "retention.ms").config_source == 2);
  CHECK(b.server().topics().find("t")->config.retention_ms == 1000);

  b.restart();
  CHECK(entry(describe(b, topic_resource, "t"), "retention.ms").value == "1000");
  require_ok(alter(b, broker_resource, "1", {{"log.retention.ms", op_delete, std::nullopt}}));
  CHECK(entry(describe(b, topic_resource, "t"), "retention.ms").value == "2000");
  CHECK(entry(describe(b, topic_resource, "t"), "retention.ms").config_source == 3);
  require_ok(alter(b, broker_resource, "", {{"log.retention.ms", op_delete, std::nullopt}}));
  CHECK(entry(describe(b, topic_resource, "t"), "retention.ms").value == "604800000");
  CHECK(b.server().config().dynamic_defaults() == dynamic_configs{{"min.insync.replicas", "1"}});
}

TEST_CASE("dynamic message.max.bytes applies to produce at once, without a restart") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  CHECK(produce_one_batch(b, "t") == 0);
  require_ok(alter(b, broker_resource, "", {{"message.max.bytes", op_set, "20"}}));
  CHECK(produce_one_batch(b, "t") == wire_code(kafka_error::message_too_large));
  require_ok(alter(b, broker_resource, "", {{"message.max.bytes", op_delete, std::nullopt}}));
  CHECK(produce_one_batch(b, "t") == 0);
}

TEST_CASE("dynamic broker configs: Kafka's refusals and messages") {
  test::broker_fixture b;
  struct bad_case {
    std::string name;
    std::vector<op> ops;
    int16_t code;
    std::string message;
  };
  std::vector<bad_case> cases{
      {"1", {{"log.retention.hours", op_set, "5"}}, 42, "Cannot update these configs dynamically: [log.retention.hours]"},
      {"", {{"node.id", op_set, "5"}, {"log.retention.hours", op_set, "5"}}, 42,
       "Cannot update these configs dynamically: [log.retention.hours, node.id]"},
      {"1", {{"log.retention.ms", op_set, "abc"}}, 42,
       "Invalid value abc for configuration log.retention.ms: Not a number of type LONG"},
      {"1", {{"log.retention.ms", op_set, "0"}}, 42,
       "requirement failed: log.retention.ms must be unlimited (-1) or, greater than or equal to 1"},
      {"", {{"log.roll.ms", op_set, "0"}}, 42, "requirement failed: log.roll.ms must be greater than or equal to 1"},
      {"", {{"log.cleaner.min.cleanable.ratio", op_set, "2"}}, 42,
       "Invalid value 2.0 for configuration log.cleaner.min.cleanable.ratio: Value must be no more than 1"},
      {"2", {{"log.retention.ms", op_set, "5"}}, 42, "Unexpected broker id, expected 1, but received 2"},
      {"abc", {{"log.retention.ms", op_set, "5"}}, 42, "Node id must be an integer, but it is: abc"},
      {"1", {{"log.roll.ms", op_set, "5000"}, {"log.roll.ms", op_set, "6000"}}, 42, "Error due to duplicate config keys"},
      {"1", {{"log.roll.ms", op_set, std::nullopt}}, 42, "Null value not supported for : log.roll.ms"},
      {"1", {{"log.retention.ms", op_append, "5"}}, 40, "Config value append is not allowed for config key: log.retention.ms"},
  };
  for (auto& c : cases) {
    INFO(c.message);
    auto r = alter(b, broker_resource, c.name, c.ops);
    CHECK(r.error_code == c.code);
    CHECK(r.error_message == c.message);
  }
  CHECK(b.server().config().dynamic_defaults() == dynamic_configs{{"min.insync.replicas", "1"}});
  CHECK(b.server().config().dynamic_per_broker().empty());
}

TEST_CASE("dynamic broker configs: APPEND starts from the value in force, validate_only and custom keys") {
  test::broker_fixture b;
  require_ok(alter(b, broker_resource, "1", {{"log.cleanup.policy", op_append, "compact"}}));
  auto policy = entry(describe(b, broker_resource, "1"), "log.cleanup.policy");
  CHECK(policy.value == "delete,compact");
  CHECK(policy.config_source == 2);
  require_ok(alter(b, broker_resource, "1", {{"log.roll.ms", op_set, "5000"}}, true));
  CHECK(entry(describe(b, broker_resource, "1"), "log.roll.ms").config_source == 5);
  // Deleting a key that is not set, even a read-only one, is no error.
  require_ok(alter(b, broker_resource, "1", {{"log.retention.hours", op_delete, std::nullopt}}));
  // Keys that are not broker configs are kept and reported as Kafka reports them, changing nothing.
  require_ok(alter(b, broker_resource, "", {{"foo.bar", op_set, "5"}}));
  auto custom = describe(b, broker_resource, "", std::vector<std::string>{"foo.bar"});
  REQUIRE(custom.configs.size() == 1);
  CHECK_FALSE(custom.configs[0].value.has_value());
  CHECK(custom.configs[0].is_sensitive);
  CHECK(custom.configs[0].read_only);
  CHECK(custom.configs[0].config_type == 0);
}

TEST_CASE("group configs: bounded by the broker's settings, described with their sources, kept across a restart") {
  test::broker_fixture b;
  struct bad_case {
    op o;
    std::string message;
  };
  std::vector<bad_case> cases{
      {{"consumer.session.timeout.ms", op_set, "1000"}, "consumer.session.timeout.ms must be in the range 45000 to 60000 inclusive."},
      {{"consumer.heartbeat.interval.ms", op_set, "20000"},
       "consumer.heartbeat.interval.ms must be in the range 5000 to 15000 inclusive."},
      {{"consumer.heartbeat.interval.ms", op_set, "abc"},
       "Invalid value abc for configuration consumer.heartbeat.interval.ms: Not a number of type INT"},
      {{"foo.bar", op_set, "1"}, "Unknown group config name: foo.bar"},
      {{"group.consumer.session.timeout.ms", op_set, "50000"}, "Unknown group config name: group.consumer.session.timeout.ms"},
      {{"consumer.session.timeout.ms", op_append, "46000"},
       "Can't APPEND to key consumer.session.timeout.ms because its type is not LIST."},
  };
  for (auto& c : cases) {
    INFO(c.message);
    auto r = alter(b, group_resource, "g", {c.o});
    CHECK(r.error_code == 40);  // INVALID_CONFIG
    CHECK(r.error_message == c.message);
  }
  auto empty = alter(b, group_resource, "", {{"consumer.session.timeout.ms", op_set, "50000"}});
  CHECK(empty.error_code == 42);
  CHECK(empty.error_message == "Default group resources are not allowed.");
  CHECK(describe(b, group_resource, "").error_message == "Group name must not be empty");

  require_ok(alter(b, group_resource, "g", {{"consumer.session.timeout.ms", op_set, "50000"}}));
  auto g = describe(b, group_resource, "g");
  CHECK(g.error_code == 0);
  CHECK(entry(g, "consumer.session.timeout.ms").value == "50000");
  CHECK(entry(g, "consumer.session.timeout.ms").config_source == 8);  // GROUP_CONFIG
  CHECK(synonyms(entry(g, "consumer.session.timeout.ms")) ==
        synonym_list{{"consumer.session.timeout.ms", "50000", 8}, {"group.consumer.session.timeout.ms", "45000", 5}});
  CHECK(entry(g, "consumer.heartbeat.interval.ms").value == "5000");
  CHECK(entry(g, "consumer.heartbeat.interval.ms").config_source == 5);
  b.restart();
  CHECK(entry(describe(b, group_resource, "g"), "consumer.session.timeout.ms").value == "50000");
  // A group that does not exist (and has no configs) is described with the broker's values.
  CHECK(entry(describe(b, group_resource, "other"), "consumer.session.timeout.ms").value == "45000");
}

TEST_CASE("group configs: a consumer group's members get its heartbeat interval at their next heartbeat") {
  namespace cgh = proto::consumer_group_heartbeat;
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  cgh::request join;
  join.group_id = "g";
  join.member_id = "m1-aaaaaaaaaaaaaaaaaaaa";
  join.member_epoch = 0;
  join.rebalance_timeout_ms = 30000;
  join.subscribed_topic_names = std::vector<std::string>{"t"};
  join.topic_partitions.emplace();
  auto joined = b.call<cgh::response>(cgh::api_key, 1, join);
  REQUIRE(joined.error_code == 0);
  CHECK(joined.heartbeat_interval_ms == 5000);

  require_ok(alter(b, group_resource, "g", {{"consumer.heartbeat.interval.ms", op_set, "7000"},
                                   {"consumer.session.timeout.ms", op_set, "50000"}}));
  cgh::request beat;
  beat.group_id = "g";
  beat.member_id = joined.member_id.value_or(join.member_id);
  beat.member_epoch = joined.member_epoch;
  auto next = b.call<cgh::response>(cgh::api_key, 1, beat);
  REQUIRE(next.error_code == 0);
  CHECK(next.heartbeat_interval_ms == 7000);
  const auto* cg = b.server().groups().coordinator().find_consumer("g");
  REQUIRE(cg);
  CHECK(cg->limits().session_timeout_ms == 50000);
  CHECK(cg->limits().assignment_interval_ms == 1000);
  require_ok(alter(b, group_resource, "g", {{"consumer.heartbeat.interval.ms", op_set, "7000"},
                                   {"consumer.session.timeout.ms", op_set, "50000"},
                                   {"consumer.assignment.interval.ms", op_set, "0"}}));
  CHECK(cg->limits().assignment_interval_ms == 0);

  require_ok(alter(b, group_resource, "g", {{"consumer.heartbeat.interval.ms", op_delete, std::nullopt},
                                   {"consumer.session.timeout.ms", op_delete, std::nullopt},
                                   {"consumer.assignment.interval.ms", op_delete, std::nullopt}}));
  beat.member_epoch = next.member_epoch;
  CHECK(b.call<cgh::response>(cgh::api_key, 1, beat).heartbeat_interval_ms == 5000);
  CHECK(cg->limits().assignment_interval_ms == 1000);
}

TEST_CASE("group.consumer.assignment.interval.ms is dynamic: live groups follow it unless they set their own") {
  namespace cgh = proto::consumer_group_heartbeat;
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  for (std::string group : {"plain", "own-interval", "own-timeout"}) {
    cgh::request join;
    join.group_id = group;
    join.member_id = "m1-aaaaaaaaaaaaaaaaaaaa";
    join.member_epoch = 0;
    join.rebalance_timeout_ms = 30000;
    join.subscribed_topic_names = std::vector<std::string>{"t"};
    join.topic_partitions.emplace();
    REQUIRE(b.call<cgh::response>(cgh::api_key, 1, join).error_code == 0);
  }
  require_ok(alter(b, group_resource, "own-interval", {{"consumer.assignment.interval.ms", op_set, "200"}}));
  require_ok(alter(b, group_resource, "own-timeout", {{"consumer.session.timeout.ms", op_set, "50000"}}));
  auto& coordinator = b.server().groups().coordinator();
  auto interval_of = [&](const std::string& group) {
    const auto* cg = coordinator.find_consumer(group);
    REQUIRE(cg);
    return cg->limits().assignment_interval_ms;
  };
  CHECK(interval_of("plain") == 1000);
  CHECK(interval_of("own-interval") == 200);
  CHECK(interval_of("own-timeout") == 1000);

  require_ok(alter(b, broker_resource, "", {{"group.consumer.assignment.interval.ms", op_set, "3000"}}));
  CHECK(interval_of("plain") == 3000);
  CHECK(interval_of("own-interval") == 200);
  CHECK(interval_of("own-timeout") == 3000);
  CHECK(coordinator.find_consumer("own-timeout")->limits().session_timeout_ms == 50000);
  // This broker's value wins over the cluster-wide default; deleting it falls back to the default.
  require_ok(alter(b, broker_resource, "1", {{"group.consumer.assignment.interval.ms", op_set, "0"}}));
  CHECK(interval_of("plain") == 0);
  require_ok(alter(b, broker_resource, "1", {{"group.consumer.assignment.interval.ms", op_delete, std::nullopt}}));
  CHECK(interval_of("plain") == 3000);
  // A value past group.consumer.max.assignment.interval.ms is refused, with Kafka's message.
  auto refused = alter(b, broker_resource, "", {{"group.consumer.assignment.interval.ms", op_set, "20000"}});
  CHECK(refused.error_code == static_cast<int16_t>(kafka_error::invalid_request));
  CHECK(refused.error_message == "group.consumer.assignment.interval.ms must be less than or equal to "
                                    "group.consumer.max.assignment.interval.ms");
  CHECK(interval_of("plain") == 3000);
}

TEST_CASE("A broker reset forgets dynamic broker configs and group configs, back to a new directory's") {
  test::broker_fixture b;
  require_ok(alter(b, broker_resource, "", {{"message.max.bytes", op_set, "2000"}, {"min.insync.replicas", op_set, "3"}}));
  require_ok(alter(b, group_resource, "g", {{"consumer.session.timeout.ms", op_set, "50000"}}));
  REQUIRE(b.server().reset());
  const dynamic_configs fresh{{"min.insync.replicas", "1"}};
  CHECK(b.server().config().dynamic_defaults() == fresh);
  CHECK(describe(b, broker_resource, "").configs.size() == 1);
  CHECK(entry(describe(b, broker_resource, "1"), "message.max.bytes").value == "1048588");
  CHECK(entry(describe(b, broker_resource, "1"), "min.insync.replicas").value == "1");
  CHECK(entry(describe(b, group_resource, "g"), "consumer.session.timeout.ms").config_source == 5);
  b.restart();
  CHECK(b.server().config().dynamic_defaults() == fresh);
}

TEST_CASE("A new data directory starts with Kafka's cluster-wide min.insync.replicas, an existing one goes without") {
  SECTION("at its default") {
    test::broker_fixture b;
    test::create_topic(b.client(), "t");
    auto defaults = describe(b, broker_resource, "");
    REQUIRE(defaults.configs.size() == 1);
    const auto& cluster = defaults.configs[0];
    CHECK(cluster.name == "min.insync.replicas");
    CHECK(cluster.value == "1");
    CHECK(cluster.config_source == 3);  // DYNAMIC_DEFAULT_BROKER_CONFIG
    CHECK_FALSE(cluster.read_only);
    CHECK(synonyms(cluster) == synonym_list{{"min.insync.replicas", "1", 3}});
    const auto broker_configs = describe(b, broker_resource, "1");
    const auto& own = entry(broker_configs, "min.insync.replicas");
    CHECK(own.config_source == 3);
    CHECK(synonyms(own) == synonym_list{{"min.insync.replicas", "1", 3}, {"min.insync.replicas", "1", 5}});
    const auto topic_configs = describe(b, topic_resource, "t");
    const auto& topic = entry(topic_configs, "min.insync.replicas");
    CHECK(topic.value == "1");
    CHECK(topic.config_source == 3);
    CHECK(synonyms(topic) == synonym_list{{"min.insync.replicas", "1", 3}, {"min.insync.replicas", "1", 5}});

    // A data directory from before (no such record, as one written by an older Brook) keeps working,
    // with Kafka's default, and is not given the record at its next start.
    b.stop();
    {
      auto store = brook::log::metadata_store::open(b.data_dir() / "__brook_metadata", false);
      REQUIRE(store);
      brook::log::config_resource_record none;
      none.resource_type = broker_resource;
      REQUIRE((*store)->put_config_resource(none));
    }
    b.start();
    CHECK(describe(b, broker_resource, "").configs.empty());
    CHECK(entry(describe(b, topic_resource, "t"), "min.insync.replicas").config_source == 5);
    b.restart();
    CHECK(describe(b, broker_resource, "").configs.empty());
    // Setting it there is allowed, as on a Kafka cluster whose ELR is on.
    require_ok(alter(b, broker_resource, "", {{"min.insync.replicas", op_set, "1"}}));
    CHECK(entry(describe(b, topic_resource, "t"), "min.insync.replicas").config_source == 3);
  }
  SECTION("at the static value, as an integer") {
    test::broker_fixture b({"min.insync.replicas= 2"});
    auto defaults = describe(b, broker_resource, "");
    REQUIRE(defaults.configs.size() == 1);
    CHECK(defaults.configs[0].value == "2");
    CHECK(synonyms(defaults.configs[0]) == synonym_list{{"min.insync.replicas", "2", 3}});
    CHECK(synonyms(entry(describe(b, broker_resource, "1", std::vector<std::string>{"min.insync.replicas"}),
                         "min.insync.replicas")) ==
          synonym_list{{"min.insync.replicas", "2", 3}, {"min.insync.replicas", " 2", 4}, {"min.insync.replicas", "1", 5}});
  }
}

TEST_CASE("compression.type, min.insync.replicas and unclean.leader.election.enable are dynamic, as in Kafka") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  for (const char* name : {"compression.type", "min.insync.replicas", "unclean.leader.election.enable"})
    CHECK_FALSE(entry(describe(b, broker_resource, "1"), name).read_only);

  require_ok(alter(b, broker_resource, "1", {{"compression.type", op_set, "gzip"}}));
  require_ok(alter(b, broker_resource, "", {{"compression.type", op_set, "zstd"},
                                            {"unclean.leader.election.enable", op_set, "TRUE"},
                                            {"min.insync.replicas", op_set, " 3 "}}));
  const effective_topic_config& in_force = b.server().topics().find("t")->config;
  CHECK(in_force.compression_type == "gzip");
  CHECK(in_force.unclean_leader_election_enable);
  CHECK(in_force.min_insync_replicas == 3);
  auto topic = describe(b, topic_resource, "t");
  CHECK(entry(topic, "compression.type").value == "gzip");
  CHECK(synonyms(entry(topic, "compression.type")) == synonym_list{{"compression.type", "gzip", 2},
                                                                     {"compression.type", "zstd", 3},
                                                                     {"compression.type", "producer", 5}});
  CHECK(entry(topic, "unclean.leader.election.enable").value == "true");
  CHECK(entry(topic, "unclean.leader.election.enable").config_source == 3);
  CHECK(entry(topic, "min.insync.replicas").value == "3");
  b.restart();
  CHECK(b.server().topics().find("t")->config.compression_type == "gzip");
  CHECK(b.server().topics().find("t")->config.min_insync_replicas == 3);
  require_ok(alter(b, broker_resource, "1", {{"compression.type", op_delete, std::nullopt}}));
  CHECK(b.server().topics().find("t")->config.compression_type == "zstd");

  // Kafka's checks, the values' first (INVALID_REQUEST), then those of eligible leader replicas
  // (INVALID_CONFIG), validate_only or not.
  struct bad_case {
    std::string name;
    std::vector<op> ops;
    bool validate_only;
    int16_t code;
    std::string message;
  };
  const std::string broker_level = "Broker-level min.insync.replicas cannot be altered while ELR is enabled.";
  const std::string cluster_level = "Cluster-level min.insync.replicas cannot be removed while ELR is enabled.";
  std::vector<bad_case> cases{
      {"1", {{"min.insync.replicas", op_set, "2"}}, false, 40, broker_level},
      {"1", {{"min.insync.replicas", op_set, "2"}}, true, 40, broker_level},
      {"1", {{"min.insync.replicas", op_delete, std::nullopt}}, false, 40, broker_level},
      {"1", {{"compression.type", op_set, "lz4"}, {"min.insync.replicas", op_set, "2"}}, false, 40, broker_level},
      {"", {{"min.insync.replicas", op_delete, std::nullopt}}, false, 40, cluster_level},
      {"", {{"min.insync.replicas", op_delete, std::nullopt}}, true, 40, cluster_level},
      {"1", {{"min.insync.replicas", op_set, "0"}}, false, 42,
       "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"},
      {"", {{"min.insync.replicas", op_set, "x"}}, false, 42,
       "Invalid value x for configuration min.insync.replicas: Not a number of type INT"},
      {"", {{"min.insync.replicas", op_set, "2"}, {"compression.type", op_set, "GZIP"}}, false, 42,
       "Invalid value GZIP for configuration compression.type: String must be one of: uncompressed, zstd, lz4, "
       "snappy, gzip, producer"},
      {"1", {{"min.insync.replicas", op_set, "2"}, {"log.retention.hours", op_set, "2"}}, false, 42,
       "Cannot update these configs dynamically: [log.retention.hours]"},
      {"1", {{"unclean.leader.election.enable", op_set, "maybe"}}, false, 42,
       "Invalid value maybe for configuration unclean.leader.election.enable: Expected value to be either true or false"},
      {"1", {{"compression.type", op_append, "gzip"}}, false, 40,
       "Config value append is not allowed for config key: compression.type"},
  };
  for (auto& c : cases) {
    INFO(c.name << " " << c.ops.front().name << " validate_only=" << c.validate_only);
    auto r = alter(b, broker_resource, c.name, c.ops, c.validate_only);
    CHECK(r.error_code == c.code);
    CHECK(r.error_message == c.message);
  }
  CHECK(b.server().config().dynamic_per_broker().empty());
  CHECK(b.server().config().dynamic_defaults().at("min.insync.replicas") == " 3 ");
  CHECK(b.server().topics().find("t")->config.compression_type == "zstd");
}

TEST_CASE("with an authorizer IncrementalAlterConfigs needs ALTER_CONFIGS on the resource") {
  namespace t = brook::test;
  namespace iac = brook::common::protocol::incremental_alter_configs;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create)});
  t::create_topic(b.client(), "t");
  iac::request req;
  req.resources.push_back({2, "t", {{"retention.ms", 0, "1000"}}});
  req.resources.push_back({32, "g", {{"consumer.session.timeout.ms", 0, "50000"}}});
  auto refused = b.call<iac::response>(iac::api_key, 1, req);
  REQUIRE(refused.responses.size() == 2);
  CHECK(refused.responses[0].error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(refused.responses[1].error_code == wire_code(kafka_error::group_authorization_failed));
  t::grant(b, {t::allowing(resource_type::topic, "t", acl_operation::alter_configs),
               t::allowing(resource_type::group, "g", acl_operation::alter_configs)});
  auto allowed = b.call<iac::response>(iac::api_key, 1, req);
  CHECK(allowed.responses.at(0).error_code == 0);
  CHECK(allowed.responses.at(1).error_code == 0);
}
