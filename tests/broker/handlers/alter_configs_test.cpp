// AlterConfigs (the legacy, replace-everything form) on broker and group resources.
#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "common/protocol/messages/alter_configs.hpp"
#include "config_test_util.hpp"
#include "acl_test_util.hpp"
#include "group_test_util.hpp"

using namespace brook;
using namespace brook::test::configs;
namespace ac = brook::common::protocol::alter_configs;

namespace {
ac::alter_configs_resource_response replace(test::broker_fixture& b, int8_t type, const std::string& name,
                                            std::vector<std::pair<std::string, std::optional<std::string>>> configs) {
  ac::request req;
  auto& r = req.resources.emplace_back();
  r.resource_type = type;
  r.resource_name = name;
  for (auto& [k, v] : configs) r.configs.push_back({k, v});
  auto resp = b.call<ac::response>(ac::api_key, 2, req);
  REQUIRE(resp.responses.size() == 1);
  return resp.responses[0];
}
}  // namespace

TEST_CASE("AlterConfigs replaces a broker resource's dynamic configs whole") {
  test::broker_fixture b;
  REQUIRE(replace(b, broker_resource, "1", {{"log.roll.ms", "7000"}, {"log.cleanup.policy", "compact"}}).error_code == 0);
  auto one = describe(b, broker_resource, "1");
  CHECK(entry(one, "log.roll.ms").value == "7000");
  CHECK(entry(one, "log.roll.ms").config_source == 2);
  CHECK(synonyms(entry(one, "log.roll.ms")) == synonym_list{{"log.roll.ms", "7000", 2}, {"log.roll.hours", "168", 5}});
  REQUIRE(replace(b, broker_resource, "1", {{"log.roll.ms", "8000"}}).error_code == 0);
  one = describe(b, broker_resource, "1");
  CHECK(entry(one, "log.roll.ms").value == "8000");
  CHECK(entry(one, "log.cleanup.policy").value == "delete");  // no longer set: back to the default
  CHECK(entry(one, "log.cleanup.policy").config_source == 5);

  auto null_value = replace(b, broker_resource, "1", {{"log.roll.ms", std::nullopt}});
  CHECK(null_value.error_code == 42);
  CHECK(null_value.error_message == "Null value not supported for : log.roll.ms");
  auto fixed = replace(b, broker_resource, "1", {{"log.retention.hours", "3"}});
  CHECK(fixed.error_code == 42);
  CHECK(fixed.error_message == "Cannot update these configs dynamically: [log.retention.hours]");
  REQUIRE(replace(b, broker_resource, "1", {}).error_code == 0);
  CHECK(entry(describe(b, broker_resource, "1"), "log.roll.ms").config_source == 5);
}

TEST_CASE("AlterConfigs sets a group's configs") {
  test::broker_fixture b;
  REQUIRE(replace(b, group_resource, "g", {{"consumer.session.timeout.ms", "46000"}}).error_code == 0);
  CHECK(entry(describe(b, group_resource, "g"), "consumer.session.timeout.ms").value == "46000");
  auto bad = replace(b, group_resource, "g", {{"consumer.session.timeout.ms", "1"}});
  CHECK(bad.error_code == 40);
  REQUIRE(replace(b, group_resource, "g", {}).error_code == 0);
  CHECK(entry(describe(b, group_resource, "g"), "consumer.session.timeout.ms").config_source == 5);
}

TEST_CASE("AlterConfigs keeps Kafka's rules on min.insync.replicas: the cluster-wide one stays, none per broker") {
  test::broker_fixture b;
  // Replacing the defaults without min.insync.replicas would drop the one a new directory starts with.
  auto dropped = replace(b, broker_resource, "", {{"log.roll.ms", "7000"}});
  CHECK(dropped.error_code == 40);
  CHECK(dropped.error_message == "Cluster-level min.insync.replicas cannot be removed while ELR is enabled.");
  CHECK(replace(b, broker_resource, "", {}).error_code == 40);
  REQUIRE(replace(b, broker_resource, "", {{"min.insync.replicas", "2"}, {"log.roll.ms", "7000"}}).error_code == 0);
  CHECK(entry(describe(b, broker_resource, "1"), "min.insync.replicas").value == "2");
  CHECK(entry(describe(b, broker_resource, "1"), "log.roll.ms").config_source == 3);
  auto own = replace(b, broker_resource, "1", {{"min.insync.replicas", "2"}});
  CHECK(own.error_code == 40);
  CHECK(own.error_message == "Broker-level min.insync.replicas cannot be altered while ELR is enabled.");
  // Other keys per broker are fine, and the value checks come first.
  REQUIRE(replace(b, broker_resource, "1", {{"unclean.leader.election.enable", "true"}}).error_code == 0);
  auto bad = replace(b, broker_resource, "1", {{"min.insync.replicas", "0"}});
  CHECK(bad.error_code == 42);
  CHECK(bad.error_message == "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1");
}

TEST_CASE("with an authorizer AlterConfigs needs ALTER_CONFIGS on the topic, or on the cluster for brokers") {
  namespace t = brook::test;
  namespace ac = brook::common::protocol::alter_configs;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "open", acl_operation::alter_configs)});
  t::create_topic(b.client(), "open");
  t::create_topic(b.client(), "closed");
  ac::request req;
  req.resources.push_back({2, "open", {{"retention.ms", "1000"}}});
  req.resources.push_back({2, "closed", {{"retention.ms", "1000"}}});
  req.resources.push_back({4, "", {{"log.retention.ms", "1000"}}});
  req.validate_only = true;
  auto resp = b.call<ac::response>(ac::api_key, 1, req);
  REQUIRE(resp.responses.size() == 3);
  CHECK(resp.responses[0].error_code == 0);
  CHECK(resp.responses[1].error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(resp.responses[2].error_code == wire_code(kafka_error::cluster_authorization_failed));
  CHECK(resp.responses[2].error_message == "Cluster authorization failed.");
}
