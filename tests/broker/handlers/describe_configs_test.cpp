// DescribeConfigs, in process: which resources and keys are described, with Kafka's messages.
#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "config_test_util.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
using namespace brook::test::configs;

TEST_CASE("DescribeConfigs on broker resources: names that are not this broker are refused with Kafka's messages") {
  test::broker_fixture b;
  auto other = describe(b, broker_resource, "2");
  CHECK(other.error_code == 42);
  CHECK(other.error_message == "Unexpected broker id, expected 1 or empty string, but received 2");
  auto bad = describe(b, broker_resource, "abc");
  CHECK(bad.error_code == 42);
  CHECK(bad.error_message == "Broker id must be an integer, but it is: abc");
  auto ok = describe(b, broker_resource, "1", std::vector<std::string>{});  // an empty key list: every key
  CHECK(ok.error_code == 0);
  CHECK(ok.error_message == "");
  CHECK(ok.configs.size() > 50);
}

TEST_CASE("DescribeConfigs lists the named keys of a topic, every key for an empty list, and refuses v0") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  auto two = describe(b, topic_resource, "t", std::vector<std::string>{"retention.ms", "segment.ms"});
  CHECK(two.configs.size() == 2);
  CHECK(describe(b, topic_resource, "t", std::vector<std::string>{"retention"}).configs.empty());
  CHECK(describe(b, topic_resource, "t", std::vector<std::string>{}).configs.size() == describe(b, topic_resource, "t").configs.size());
  auto missing = describe(b, topic_resource, "nope");
  CHECK(missing.error_code == 3);
  CHECK(describe(b, 8, "1").error_code == 42);   // broker loggers: not supported
  CHECK(describe(b, 16, "x").error_code == 42);  // client metrics: not supported
  CHECK(dc::min_version == 1);                    // Kafka 4.0 removed v0
}

TEST_CASE("DescribeConfigs reports node.id and broker.id as Kafka does: either one set stands for both") {
  auto ids = [](test::broker_fixture& b) {
    auto one = describe(b, broker_resource, std::to_string(b.server().node_id()),
                        std::vector<std::string>{"node.id", "broker.id"});
    REQUIRE(one.configs.size() == 2);
    return std::pair{entry(one, "node.id"), entry(one, "broker.id")};
  };
  SECTION("node.id set, as in Kafka's server.properties") {
    test::broker_fixture b({"node.id=1"});
    auto [node, broker] = ids(b);
    CHECK(node.value == "1");
    CHECK(node.config_source == 4);  // STATIC_BROKER_CONFIG
    CHECK(node.read_only);
    CHECK(synonyms(node) == synonym_list{{"node.id", "1", 4}});  // node.id has no default
    CHECK(broker.value == "1");
    CHECK(broker.config_source == 4);
    CHECK(broker.read_only);
    CHECK(synonyms(broker) == synonym_list{{"broker.id", "1", 4}, {"broker.id", "-1", 5}});
  }
  SECTION("broker.id set") {
    test::broker_fixture b({"broker.id=3"});
    auto [node, broker] = ids(b);
    CHECK(synonyms(node) == synonym_list{{"node.id", "3", 4}});
    CHECK(synonyms(broker) == synonym_list{{"broker.id", "3", 4}, {"broker.id", "-1", 5}});
  }
  SECTION("neither: node 1, as if node.id=1 were set") {
    test::broker_fixture b;
    auto [node, broker] = ids(b);
    CHECK(synonyms(node) == synonym_list{{"node.id", "1", 4}});
    CHECK(synonyms(broker) == synonym_list{{"broker.id", "1", 4}, {"broker.id", "-1", 5}});
  }
}

TEST_CASE("with an authorizer DescribeConfigs needs DESCRIBE_CONFIGS on the topic, or on the cluster for brokers") {
  namespace t = brook::test;
  namespace dc = brook::common::protocol::describe_configs;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "open", acl_operation::alter_configs)});  // implies DESCRIBE_CONFIGS
  t::create_topic(b.client(), "open");
  t::create_topic(b.client(), "closed");
  dc::request req;
  req.resources.push_back({2, "open", std::nullopt});
  req.resources.push_back({2, "closed", std::nullopt});
  req.resources.push_back({4, std::to_string(b.server().node_id()), std::nullopt});
  req.resources.push_back({32, "g", std::nullopt});
  auto resp = b.call<dc::response>(dc::api_key, 4, req);
  REQUIRE(resp.results.size() == 4);
  CHECK(resp.results[0].error_code == 0);
  CHECK_FALSE(resp.results[0].configs.empty());
  CHECK(resp.results[1].error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(resp.results[1].error_message == "Topic authorization failed.");
  CHECK(resp.results[1].configs.empty());
  CHECK(resp.results[2].error_code == wire_code(kafka_error::cluster_authorization_failed));
  CHECK(resp.results[3].error_code == wire_code(kafka_error::group_authorization_failed));
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::describe_configs)});
  CHECK(b.call<dc::response>(dc::api_key, 4, req).results.at(2).error_code == 0);
}
