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
