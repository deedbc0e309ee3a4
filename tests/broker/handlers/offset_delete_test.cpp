// OffsetDelete, in process: removed offsets stay removed across a restart.
#include <catch2/catch.hpp>

#include "common/protocol/messages/offset_delete.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace oc = proto::offset_commit;
namespace od = proto::offset_delete;

TEST_CASE("offsets deleted from an empty group stay deleted after a restart", "[handlers][offset_delete]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  auto c = b.call<oc::response>(oc::api_key, 8, test::commit_request("g", "", -1, "t", 7));
  REQUIRE(c.topics[0].partitions[0].error_code == 0);
  od::request req;
  req.group_id = "g";
  auto& t = req.topics.emplace_back();
  t.name = "t";
  t.partitions.emplace_back().partition_index = 0;
  auto resp = b.call<od::response>(od::api_key, 0, req);
  CHECK(resp.error_code == 0);
  b.restart();
  CHECK(test::committed_offset(b.client(), "g", "t") == -1);
}

TEST_CASE("with an authorizer OffsetDelete needs DELETE on the group and READ on each topic") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::group, "g", acl_operation::read),
               t::allowing(resource_type::topic, "a", acl_operation::read)});
  t::create_topic(b.client(), "a");
  t::create_topic(b.client(), "b");
  REQUIRE(b.call<oc::response>(oc::api_key, 8, t::commit_request("g", "", -1, "a", 2)).topics.at(0).partitions.at(0)
              .error_code == 0);
  od::request req;
  req.group_id = "g";
  for (const char* name : {"a", "b"}) req.topics.push_back({name, {{0}}});
  auto denied = b.call<od::response>(od::api_key, 0, req);
  CHECK(denied.error_code == common::wire_code(common::kafka_error::group_authorization_failed));
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::delete_)});
  auto resp = b.call<od::response>(od::api_key, 0, req);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].partitions.at(0).error_code == 0);
  CHECK(resp.topics[1].partitions.at(0).error_code == common::wire_code(common::kafka_error::topic_authorization_failed));
  CHECK(t::committed_offset(b.client(), "g", "a") == -1);
}
