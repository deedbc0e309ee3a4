// EndTxn end to end, over the wire: a transactional producer's records are invisible to read_committed
// fetches (and ListOffsets) until its commit marker; an aborted transaction's records are listed in
// aborted_transactions; staged offsets (AddOffsetsToTxn, TxnOffsetCommit) appear with the commit; a batch
// to a partition outside the transaction is refused; a transaction past its timeout is aborted and its
// producer fenced; EndTxn in the wrong state or from a fenced producer gets Kafka's errors.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <tuple>
#include <vector>

#include "broker/broker.hpp"
#include "broker/fault/fault_injector.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/add_offsets_to_txn.hpp"
#include "common/protocol/messages/describe_transactions.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
#include "common/protocol/messages/txn_offset_commit.hpp"
#include "txn_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
using common::kafka_error;
using common::wire_code;

using test::produce_txn;
using test::txn_produce_request;

namespace {

struct fetched_partition {
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  size_t bytes = 0;
  std::optional<std::vector<std::pair<int64_t, int64_t>>> aborted;  // (producer id, first offset)
};

fetched_partition fetch_t0(test::broker_fixture& b, int64_t offset, bool read_committed) {
  namespace fe = proto::fetch;
  fe::request req;
  req.replica_id = -1;
  req.max_wait_ms = 0;
  req.min_bytes = 0;
  req.max_bytes = 1 << 20;
  req.isolation_level = read_committed ? 1 : 0;
  req.session_epoch = -1;
  auto& t = req.topics.emplace_back();
  t.topic = "t";
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.fetch_offset = offset;
  p.partition_max_bytes = 1 << 20;
  auto resp = b.call<fe::response>(fe::api_key, 11, req);
  const auto& part = resp.responses.at(0).partitions.at(0);
  REQUIRE(part.error_code == 0);
  fetched_partition out;
  out.high_watermark = part.high_watermark;
  out.last_stable_offset = part.last_stable_offset;
  out.bytes = part.records ? part.records->size() : 0;
  if (part.aborted_transactions) {
    out.aborted.emplace();
    for (const auto& a : *part.aborted_transactions) out.aborted->emplace_back(a.producer_id, a.first_offset);
  }
  return out;
}

int64_t latest_offset(test::broker_fixture& b, bool read_committed) {
  namespace lo = proto::list_offsets;
  lo::request req;
  req.replica_id = -1;
  req.isolation_level = read_committed ? 1 : 0;
  auto& t = req.topics.emplace_back();
  t.name = "t";
  t.partitions.push_back({0, -1, -1});
  auto resp = b.call<lo::response>(lo::api_key, 7, req);
  return resp.topics.at(0).partitions.at(0).offset;
}

std::string txn_state(test::broker_fixture& b, const std::string& id) {
  proto::describe_transactions::request req;
  req.transactional_ids = {id};
  auto resp = b.call<proto::describe_transactions::response>(proto::describe_transactions::api_key, 0, req);
  return resp.transaction_states.at(0).transaction_state;
}

}  // namespace

TEST_CASE("EndTxn: read_committed sees a transaction's records only after its commit marker",
          "[handlers][end_txn]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  auto p = test::init_txn(b, "tx");
  REQUIRE(test::add_partitions(b, p, "t", {0}) == 0);
  REQUIRE(produce_txn(b, p, 0, 0, 3) == 0);  // offsets 0-2

  auto open = fetch_t0(b, 0, true);
  CHECK(open.high_watermark == 3);
  CHECK(open.last_stable_offset == 0);
  CHECK(open.bytes == 0);
  REQUIRE(open.aborted);
  CHECK(open.aborted->empty());
  auto uncommitted = fetch_t0(b, 0, false);
  CHECK(uncommitted.bytes > 0);
  CHECK(uncommitted.last_stable_offset == 0);
  CHECK_FALSE(uncommitted.aborted);
  CHECK(latest_offset(b, true) == 0);
  CHECK(latest_offset(b, false) == 3);

  REQUIRE(test::end_txn(b, p, true).error_code == 0);
  REQUIRE(test::eventually([&] { return txn_state(b, "tx") == "CompleteCommit"; }));
  auto committed = fetch_t0(b, 0, true);
  CHECK(committed.high_watermark == 4);  // the records and the marker
  CHECK(committed.last_stable_offset == 4);
  CHECK(committed.bytes > uncommitted.bytes);
  CHECK(committed.aborted == std::vector<std::pair<int64_t, int64_t>>{});
  CHECK(latest_offset(b, true) == 4);

  // A second transaction, aborted: its records are listed for read_committed clients to drop.
  REQUIRE(test::add_partitions(b, p, "t", {0}) == 0);
  REQUIRE(produce_txn(b, p, 0, 3, 2) == 0);  // offsets 4-5
  REQUIRE(test::end_txn(b, p, false).error_code == 0);
  REQUIRE(test::eventually([&] { return txn_state(b, "tx") == "CompleteAbort"; }));
  auto aborted = fetch_t0(b, 4, true);
  CHECK(aborted.last_stable_offset == 7);
  CHECK(aborted.aborted == std::vector<std::pair<int64_t, int64_t>>{{p.id, 4}});
  // A third transaction, committed after the abort: visible in turn.
  REQUIRE(test::add_partitions(b, p, "t", {0}) == 0);
  REQUIRE(produce_txn(b, p, 0, 5, 2) == 0);  // offsets 7-8
  REQUIRE(fetch_t0(b, 0, true).last_stable_offset == 7);
  REQUIRE(test::end_txn(b, p, true).error_code == 0);
  REQUIRE(test::eventually([&] { return txn_state(b, "tx") == "CompleteCommit"; }));
  auto third = fetch_t0(b, 7, true);
  CHECK(third.high_watermark == 10);
  CHECK(third.last_stable_offset == 10);
  CHECK(third.bytes > 0);
  CHECK(third.aborted == std::vector<std::pair<int64_t, int64_t>>{});
  // Kept across a restart (the .txnindex and the producer state).
  b.restart();
  CHECK(fetch_t0(b, 4, true).aborted == std::vector<std::pair<int64_t, int64_t>>{{p.id, 4}});
  CHECK(fetch_t0(b, 0, true).last_stable_offset == 10);
}

TEST_CASE("EndTxn: staged offsets of AddOffsetsToTxn and TxnOffsetCommit appear with the commit",
          "[handlers][end_txn]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  auto p = test::init_txn(b, "tx");
  REQUIRE(test::add_offsets(b, p, "g") == 0);

  auto commit = test::txn_offset_commit_request(p, "g", "t", 17, "m");
  auto staged = b.call<proto::txn_offset_commit::response>(proto::txn_offset_commit::api_key, 3, commit);
  REQUIRE(staged.topics.at(0).partitions.at(0).error_code == 0);
  CHECK(test::committed_offset(b.client(), "g", "t") == -1);

  // A producer whose transaction does not hold the group's offsets partition is refused.
  auto other = test::init_txn(b, "other");
  commit.transactional_id = "other";
  commit.producer_id = other.id;
  commit.producer_epoch = other.epoch;
  auto refused = b.call<proto::txn_offset_commit::response>(proto::txn_offset_commit::api_key, 3, commit);
  CHECK(refused.topics.at(0).partitions.at(0).error_code == wire_code(kafka_error::invalid_txn_state));

  REQUIRE(test::end_txn(b, p, true).error_code == 0);
  REQUIRE(test::eventually([&] { return test::committed_offset(b.client(), "g", "t") == 17; }));
}

TEST_CASE("Produce: a transactional batch to a partition outside the transaction is refused",
          "[handlers][end_txn]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 2);
  auto p = test::init_txn(b, "tx");
  REQUIRE(test::add_partitions(b, p, "t", {0}) == 0);
  CHECK(produce_txn(b, p, 1, 0, 1, 9) == wire_code(kafka_error::invalid_txn_state));
  CHECK(produce_txn(b, p, 1, 0, 1, 11) == wire_code(kafka_error::transaction_abortable));
  CHECK(produce_txn(b, p, 0, 0, 1, 9) == 0);
}

TEST_CASE("EndTxn: wrong states and fenced producers, a transaction past its timeout is aborted",
          "[handlers][end_txn]") {
  test::broker_fixture b({"transaction.abort.timed.out.transaction.cleanup.interval.ms=20"});
  test::create_topic(b.client(), "t", 1);
  // A timeout long enough for the requests below to run inside the transaction on a loaded machine.
  auto p = test::init_txn(b, "tx", 1000);
  // Nothing added yet: EndTxn in Empty is INVALID_TXN_STATE.
  CHECK(test::end_txn(b, p, true).error_code == wire_code(kafka_error::invalid_txn_state));
  REQUIRE(test::add_partitions(b, p, "t", {0}) == 0);
  REQUIRE(produce_txn(b, p, 0, 0, 2) == 0);
  REQUIRE(fetch_t0(b, 0, true).last_stable_offset == 0);

  // The timeout passes: the coordinator fences the producer and aborts.
  REQUIRE(test::eventually([&] { return txn_state(b, "tx") == "CompleteAbort"; }));
  auto after = fetch_t0(b, 0, true);
  CHECK(after.last_stable_offset == 3);
  CHECK(after.aborted == std::vector<std::pair<int64_t, int64_t>>{{p.id, 0}});
  CHECK(test::end_txn(b, p, true, 4).error_code == wire_code(kafka_error::producer_fenced));
  // Produce answers a fenced producer INVALID_PRODUCER_EPOCH, as Kafka does.
  CHECK(produce_txn(b, p, 0, 2, 1) == wire_code(kafka_error::invalid_producer_epoch));
  CHECK(test::end_txn(b, p, true, 1).error_code == wire_code(kafka_error::invalid_producer_epoch));
}

TEST_CASE("transaction version 2: pipelined Produce v12 requests append each partition in request order",
          "[handlers][end_txn]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 2);
  auto p = test::init_txn(b, "tx");
  REQUIRE(produce_txn(b, p, 0, 0, 1, 12) == 0);  // t-0 joins the transaction
  // As a producer with several requests in flight: the first adds t-1 to the transaction (a write of
  // the transaction state) and carries t-0's next batch; the second, sent before the first is
  // answered, carries only t-0's batch after that, a partition already in the transaction. It must
  // not overtake the first: t-0 would see sequence 2 before 1 (OUT_OF_ORDER_SEQUENCE_NUMBER).
  auto& c = b.client();
  for (const auto& req : {txn_produce_request(p, {{1, 0, 1}, {0, 1, 1}}), txn_produce_request(p, {{0, 2, 1}})}) {
    proto::writer w;
    req.encode(w, 12);
    c.send_raw(proto::produce::api_key, 12, w.take());
  }
  for (int i = 0; i < 2; ++i) {
    auto body = c.receive_body(proto::produce::api_key, 12);
    REQUIRE(body);
    proto::reader r(*body);
    proto::produce::response resp;
    resp.decode(r, 12);
    for (const auto& part : resp.responses.at(0).partition_responses) {
      INFO("request " << i << ", partition " << part.index);
      CHECK(part.error_code == 0);
    }
  }
  CHECK(fetch_t0(b, 0, false).high_watermark == 3);
  REQUIRE(test::end_txn(b, p, true, 5).error_code == 0);
}

TEST_CASE("transaction version 2: a pipelined Produce v12 behind a failed add fails with it, not past the gap",
          "[handlers][end_txn]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  auto p = test::init_txn(b, "tx");
  REQUIRE(produce_txn(b, p, 0, 0, 1, 12) == 0);
  // The commit's marker fails to append twice (disk full), 100 ms apart: the transaction completes
  // about 200 ms later, after the first add has given up retrying CONCURRENT_TRANSACTIONS (100 ms)
  // and while the second, behind it, could still be retrying.
  broker::fault::fault_rule full;
  full.kind = broker::fault::fault_kind::disk;
  full.op = log::disk_op::append;
  full.sys_errno = ENOSPC;
  full.topic = "t";
  full.count = 2;
  REQUIRE(b.server().faults().add(full));
  auto ended = test::end_txn(b, p, true, 5);
  REQUIRE(ended.error_code == 0);
  test::txn_producer next = p;
  next.epoch = ended.producer_epoch;

  // The next transaction's first two batches, pipelined: the first's add gives up while the previous
  // transaction completes; the second, waiting behind it, must not be appended at sequence 1 once the
  // transaction has completed (OUT_OF_ORDER_SEQUENCE_NUMBER): it fails as the first did.
  auto send_pair = [&] {
    auto& c = b.client();
    for (const auto& req : {txn_produce_request(next, {{0, 0, 1}}), txn_produce_request(next, {{0, 1, 1}})}) {
      proto::writer w;
      req.encode(w, 12);
      c.send_raw(proto::produce::api_key, 12, w.take());
    }
    std::vector<int16_t> errors;
    for (int i = 0; i < 2; ++i) {
      auto body = c.receive_body(proto::produce::api_key, 12);
      REQUIRE(body);
      proto::reader r(*body);
      proto::produce::response resp;
      resp.decode(r, 12);
      errors.push_back(resp.responses.at(0).partition_responses.at(0).error_code);
    }
    return errors;
  };
  auto first = send_pair();
  CHECK(first[0] != 0);
  CHECK(first[1] == first[0]);
  CHECK(first[1] != wire_code(kafka_error::out_of_order_sequence_number));

  // Once the commit is complete, the client sends both again, in order, and both are appended.
  REQUIRE(test::eventually([&] { return txn_state(b, "tx") == "CompleteCommit"; }));
  auto again = send_pair();
  CHECK(again == std::vector<int16_t>{0, 0});
  REQUIRE(test::end_txn(b, next, true, 5).error_code == 0);
}

TEST_CASE("transaction version 2: Produce v12 adds its partition, EndTxn v5 bumps the epoch", "[handlers][end_txn]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  auto p = test::init_txn(b, "tx");
  // No AddPartitionsToTxn: the produce request (v12) adds t-0 to the transaction itself.
  REQUIRE(produce_txn(b, p, 0, 0, 2, 12) == 0);
  CHECK(txn_state(b, "tx") == "Ongoing");
  CHECK(fetch_t0(b, 0, true).last_stable_offset == 0);
  auto ended = test::end_txn(b, p, true, 5);
  REQUIRE(ended.error_code == 0);
  CHECK(ended.producer_id == p.id);
  CHECK(ended.producer_epoch == p.epoch + 1);  // the next transaction runs at the bumped epoch
  REQUIRE(test::eventually([&] { return txn_state(b, "tx") == "CompleteCommit"; }));
  CHECK(fetch_t0(b, 0, true).last_stable_offset == 3);
  // The old epoch is fenced; the new one starts the next transaction at sequence 0.
  CHECK(produce_txn(b, p, 0, 2, 1, 12) == wire_code(kafka_error::invalid_producer_epoch));
  test::txn_producer next = p;
  next.epoch = ended.producer_epoch;
  REQUIRE(produce_txn(b, next, 0, 0, 1, 12) == 0);
  REQUIRE(test::end_txn(b, next, false, 5).error_code == 0);
  REQUIRE(test::eventually([&] { return txn_state(b, "tx") == "CompleteAbort"; }));
  CHECK(fetch_t0(b, 3, true).aborted == std::vector<std::pair<int64_t, int64_t>>{{p.id, 3}});
}

TEST_CASE("with an authorizer EndTxn needs WRITE on the transactional id") {
  namespace t = brook::test;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::transactional_id, "tx", acl_operation::write)});
  auto p = t::init_txn(b, "tx");
  t::txn_producer other{"other", p.id, p.epoch};
  auto refused = t::end_txn(b, other, true, 5);
  CHECK(refused.error_code == wire_code(kafka_error::transactional_id_authorization_failed));
  CHECK(refused.producer_id == -1);
  // Allowed: the coordinator's own answer (no transaction is open).
  CHECK(t::end_txn(b, p, false).error_code == wire_code(kafka_error::invalid_txn_state));
}
