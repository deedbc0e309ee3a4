// DescribeTransactions: each transactional id's state as the coordinator holds it (Empty after
// InitProducerId, Ongoing with its partitions and start time once partitions are added,
// CompleteCommit after EndTxn), TRANSACTIONAL_ID_NOT_FOUND for an unknown id; kept across a restart.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/describe_transactions.hpp"
#include "txn_test_util.hpp"

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
