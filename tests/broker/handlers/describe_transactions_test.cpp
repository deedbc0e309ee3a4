// DescribeTransactions: each transactional id's state as the coordinator holds it (Empty after
// InitProducerId, Ongoing with its partitions and start time once partitions are added,
// CompleteCommit after EndTxn), TRANSACTIONAL_ID_NOT_FOUND for an unknown id; kept across a restart.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/describe_transactions.hpp"
#include "txn_test_util.hpp"
#include "acl_test_util.hpp"
#include "common/protocol/messages/list_transactions.hpp"

namespace proto = brook::common::protocol;
namespace dt = proto::describe_transactions;
using brook::common::kafka_error;
using brook::common::wire_code;

namespace {
dt::described_transaction describe_one(brook::test::broker_fixture& b, const std::string& id) {
  dt::request req;
  req.transactional_ids = {id};
  auto resp = b.call<dt::response>(dt::api_key, 0, req);
  REQUIRE(resp.transaction_states.size() == 1);
  return resp.transaction_states[0];
}
}  // namespace

TEST_CASE("DescribeTransactions follows a transaction from Empty to CompleteCommit, also after a restart",
          "[handlers][describe_transactions]") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "t", 2);
  auto unknown = describe_one(b, "nobody");
  CHECK(unknown.error_code == wire_code(kafka_error::transactional_id_not_found));

  auto p = brook::test::init_txn(b, "tx", 45000);
  auto empty = describe_one(b, "tx");
  CHECK(empty.error_code == 0);
  CHECK(empty.transaction_state == "Empty");
  CHECK(empty.producer_id == p.id);
  CHECK(empty.producer_epoch == p.epoch);
  CHECK(empty.transaction_timeout_ms == 45000);
  CHECK(empty.transaction_start_time_ms == -1);
  CHECK(empty.topics.empty());

  REQUIRE(brook::test::add_partitions(b, p, "t", {1, 0}) == 0);
  for (int round = 0; round < 2; ++round) {
    INFO((round == 0 ? "before" : "after") << " a restart");
    auto ongoing = describe_one(b, "tx");
    CHECK(ongoing.transaction_state == "Ongoing");
    CHECK(ongoing.transaction_start_time_ms > 0);
    REQUIRE(ongoing.topics.size() == 1);
    CHECK(ongoing.topics[0].topic == "t");
    CHECK(ongoing.topics[0].partitions == std::vector<int32_t>{0, 1});
    if (round == 0) b.restart();
  }

  REQUIRE(brook::test::end_txn(b, p, true).error_code == 0);
  REQUIRE(brook::test::eventually([&] { return describe_one(b, "tx").transaction_state == "CompleteCommit"; }));
  auto done = describe_one(b, "tx");
  CHECK(done.topics.empty());
}

TEST_CASE("with an authorizer DescribeTransactions and ListTransactions need DESCRIBE on each transactional id") {
  namespace t = brook::test;
  namespace dt = brook::common::protocol::describe_transactions;
  namespace lt = brook::common::protocol::list_transactions;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::transactional_id, "tx-", acl_operation::write, t::sec::pattern_type::prefixed)});
  t::init_txn(b, "tx-seen");
  t::init_txn(b, "tx-hidden");
  t::grant(b, {t::denying(resource_type::transactional_id, "tx-hidden", acl_operation::describe)});
  dt::request req;
  req.transactional_ids = {"tx-seen", "tx-hidden"};
  auto described = b.call<dt::response>(dt::api_key, 0, req);
  REQUIRE(described.transaction_states.size() == 2);
  CHECK(described.transaction_states[0].error_code == 0);
  CHECK(described.transaction_states[0].transaction_state == "Empty");
  CHECK(described.transaction_states[1].error_code == wire_code(kafka_error::transactional_id_authorization_failed));
  CHECK(described.transaction_states[1].transactional_id == "tx-hidden");
  auto listed = b.call<lt::response>(lt::api_key, 1, lt::request{});
  REQUIRE(listed.transaction_states.size() == 1);
  CHECK(listed.transaction_states[0].transactional_id == "tx-seen");
}
