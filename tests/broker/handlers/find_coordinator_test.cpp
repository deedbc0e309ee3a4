// FindCoordinator, in process: this broker for every group and transactional id; with an authorizer
// only for keys the principal may DESCRIBE.
#include <catch2/catch.hpp>

#include "acl_test_util.hpp"
#include "common/protocol/messages/find_coordinator.hpp"

namespace fc = brook::common::protocol::find_coordinator;
using brook::common::kafka_error;
using brook::common::wire_code;

TEST_CASE("FindCoordinator answers this broker for groups and transactional ids") {
  brook::test::broker_fixture b;
  fc::request req;
  req.key_type = 0;
  req.key = "g";
  auto old = b.call<fc::response>(fc::api_key, 3, req);
  CHECK(old.error_code == 0);
  CHECK(old.node_id == b.server().node_id());
  req.key_type = 1;
  req.coordinator_keys = {"tx-1", "tx-2"};
  auto batched = b.call<fc::response>(fc::api_key, 4, req);
  REQUIRE(batched.coordinators.size() == 2);
  for (const auto& c : batched.coordinators) CHECK(c.error_code == 0);
}

TEST_CASE("with an authorizer FindCoordinator needs DESCRIBE on the group or transactional id") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::read),
               t::allowing(resource_type::transactional_id, "tx-1", acl_operation::write)});
  fc::request req;
  req.key_type = 0;
  req.key = "g";
  CHECK(b.call<fc::response>(fc::api_key, 3, req).error_code == 0);
  req.key = "h";
  auto refused = b.call<fc::response>(fc::api_key, 3, req);
  CHECK(refused.error_code == wire_code(kafka_error::group_authorization_failed));
  CHECK(refused.error_message == "Group authorization failed.");
  CHECK(refused.node_id == -1);
  CHECK(refused.port == -1);
  req.key_type = 1;
  req.coordinator_keys = {"tx-1", "tx-2"};
  auto batched = b.call<fc::response>(fc::api_key, 4, req);
  REQUIRE(batched.coordinators.size() == 2);
  CHECK(batched.coordinators[0].error_code == 0);
  CHECK(batched.coordinators[0].node_id == b.server().node_id());
  CHECK(batched.coordinators[1].error_code == wire_code(kafka_error::transactional_id_authorization_failed));
  CHECK(batched.coordinators[1].error_message == "Transactional Id authorization failed.");
  CHECK(batched.coordinators[1].node_id == -1);
}
