// DeleteRecords, in process: with an authorizer each topic needs DELETE.
#include <catch2/catch.hpp>

#include "acl_test_util.hpp"
#include "common/protocol/messages/delete_records.hpp"
#include "group_test_util.hpp"

TEST_CASE("with an authorizer DeleteRecords needs DELETE on each topic") {
  namespace t = brook::test;
  namespace dr = brook::common::protocol::delete_records;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "mine", acl_operation::delete_)});
  t::create_topic(b.client(), "mine");
  t::create_topic(b.client(), "theirs");
  dr::request req;
  req.timeout_ms = 1000;
  for (const char* name : {"mine", "theirs"}) req.topics.push_back({name, {{0, -1}}});
  auto resp = b.call<dr::response>(dr::api_key, 2, req);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].partitions.at(0).error_code == 0);
  CHECK(resp.topics[0].partitions.at(0).low_watermark == 0);
  CHECK(resp.topics[1].partitions.at(0).error_code ==
        brook::common::wire_code(brook::common::kafka_error::topic_authorization_failed));
  CHECK(resp.topics[1].partitions.at(0).low_watermark == -1);
}
