// OffsetForLeaderEpoch, in process: with an authorizer each topic needs DESCRIBE, unless the client
// may CLUSTER_ACTION (a follower).
#include <catch2/catch.hpp>

#include "acl_test_util.hpp"
#include "common/protocol/messages/offset_for_leader_epoch.hpp"
#include "group_test_util.hpp"

TEST_CASE("with an authorizer OffsetForLeaderEpoch needs DESCRIBE on each topic, or CLUSTER_ACTION") {
  namespace t = brook::test;
  namespace ofle = brook::common::protocol::offset_for_leader_epoch;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "seen", acl_operation::describe)});
  t::create_topic(b.client(), "seen");
  t::create_topic(b.client(), "unseen");
  ofle::request req;
  req.replica_id = -1;
  for (const char* name : {"seen", "unseen"}) req.topics.push_back({name, {{0, -1, 0}}});
  auto resp = b.call<ofle::response>(ofle::api_key, 4, req);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].partitions.at(0).error_code == 0);
  CHECK(resp.topics[0].partitions.at(0).end_offset == 0);
  const int16_t refused = brook::common::wire_code(brook::common::kafka_error::topic_authorization_failed);
  CHECK(resp.topics[1].partitions.at(0).error_code == refused);
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::cluster_action)});
  CHECK(b.call<ofle::response>(ofle::api_key, 4, req).topics.at(1).partitions.at(0).error_code == 0);
}
