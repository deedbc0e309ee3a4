#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "common/protocol/messages/create_partitions.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "acl_test_util.hpp"

namespace proto = brook::common::protocol;
namespace cp = proto::create_partitions;
namespace ct = proto::create_topics;

TEST_CASE("CreatePartitions adding more than 10,000 partitions is refused with POLICY_VIOLATION") {
  brook::test::broker_fixture b;
  ct::request create;
  ct::creatable_topic t;
  t.name = "grows";
  t.num_partitions = 1;
  t.replication_factor = 1;
  create.topics = {t};
  REQUIRE(b.call<ct::response>(ct::api_key, 7, create).topics.at(0).error_code == 0);

  cp::request req;
  cp::create_partitions_topic grow;
  grow.name = "grows";
  grow.count = 1'000'001;
  grow.assignments = std::nullopt;
  req.topics = {grow};
  auto resp = b.call<cp::response>(cp::api_key, 3, req);
  REQUIRE(resp.results.size() == 1);
  CHECK(resp.results[0].error_code == 44);
  CHECK(b.server().topics().find("grows")->record.partitions == 1);

  req.topics[0].count = 3;
  CHECK(b.call<cp::response>(cp::api_key, 3, req).results.at(0).error_code == 0);
  CHECK(b.server().topics().find("grows")->record.partitions == 3);
}

// kafka-topics --alter prints the message: Kafka 4.4's controller words it so.
TEST_CASE("CreatePartitions refuses a decrease or the same count with Kafka's messages") {
  brook::test::broker_fixture b;
  ct::request create;
  ct::creatable_topic t;
  t.name = "steady";
  t.num_partitions = 3;
  t.replication_factor = 1;
  create.topics = {t};
  REQUIRE(b.call<ct::response>(ct::api_key, 7, create).topics.at(0).error_code == 0);

  cp::request req;
  cp::create_partitions_topic change;
  change.name = "steady";
  change.count = 2;
  change.assignments = std::nullopt;
  req.topics = {change};
  auto fewer = b.call<cp::response>(cp::api_key, 3, req);
  CHECK(fewer.results.at(0).error_code == 37);  // INVALID_PARTITIONS
  CHECK(fewer.results.at(0).error_message == "The topic steady currently has 3 partition(s); 2 would not be an increase.");
  req.topics[0].count = 3;
  auto same = b.call<cp::response>(cp::api_key, 3, req);
  CHECK(same.results.at(0).error_code == 37);
  CHECK(same.results.at(0).error_message == "Topic already has 3 partition(s).");
}

TEST_CASE("with an authorizer CreatePartitions needs ALTER on the cluster or the topic") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "grow", acl_operation::alter)});
  for (const char* name : {"grow", "fixed"}) {
    ct::request create;
    create.topics.push_back({});
    create.topics.back().name = name;
    create.topics.back().num_partitions = 1;
    create.topics.back().replication_factor = 1;
    REQUIRE(b.call<ct::response>(ct::api_key, 5, create).topics.at(0).error_code == 0);
  }
  cp::request req;
  req.timeout_ms = 1000;
  for (const char* name : {"grow", "fixed"}) {
    cp::create_partitions_topic topic;
    topic.name = name;
    topic.count = 2;
    topic.assignments = std::nullopt;
    req.topics.push_back(topic);
  }
  auto resp = b.call<cp::response>(cp::api_key, 3, req);
  REQUIRE(resp.results.size() == 2);
  CHECK(resp.results[0].error_code == 0);
  CHECK(resp.results[1].error_code == brook::common::wire_code(brook::common::kafka_error::topic_authorization_failed));
  CHECK(b.server().topics().find(std::string("grow"))->record.partitions == 2);
  CHECK(b.server().topics().find(std::string("fixed"))->record.partitions == 1);
}
