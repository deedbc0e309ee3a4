#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "common/protocol/messages/create_partitions.hpp"
#include "common/protocol/messages/create_topics.hpp"

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
