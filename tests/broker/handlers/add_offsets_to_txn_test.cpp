// AddOffsetsToTxn, in process: a group's offsets join the producer's transaction; with an authorizer
// the transactional id needs WRITE and the group READ.
#include <catch2/catch.hpp>

#include "acl_test_util.hpp"
#include "txn_test_util.hpp"

using brook::common::kafka_error;
using brook::common::wire_code;

TEST_CASE("AddOffsetsToTxn adds a group to the producer's transaction, INVALID_GROUP_ID for an empty one") {
  brook::test::broker_fixture b;
  auto p = brook::test::init_txn(b, "tx");
  CHECK(brook::test::add_offsets(b, p, "g") == 0);
  CHECK(brook::test::add_offsets(b, p, "") == wire_code(kafka_error::invalid_group_id));
}

TEST_CASE("with an authorizer AddOffsetsToTxn needs WRITE on the transactional id, then READ on the group") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::transactional_id, "tx", acl_operation::write)});
  auto p = t::init_txn(b, "tx");
  CHECK(t::add_offsets(b, p, "g") == wire_code(kafka_error::group_authorization_failed));
  t::txn_producer other{"other", p.id, p.epoch};
  CHECK(t::add_offsets(b, other, "g") == wire_code(kafka_error::transactional_id_authorization_failed));
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::read)});
  CHECK(t::add_offsets(b, p, "g") == 0);
}
