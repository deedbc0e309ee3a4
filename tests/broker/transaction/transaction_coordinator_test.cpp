// The transaction coordinator's state machine driven with a fake clock and a persistence that the
// test completes or fails by hand, against Kafka 4.4's TransactionCoordinator.
#include <catch2/catch.hpp>

#include <climits>

#include "broker/transaction/transaction_coordinator.hpp"
#include "common/protocol/wire.hpp"

using namespace brook::broker::transaction;
using brook::common::kafka_error;

namespace {

constexpr int64_t TXN_T0 = 1'700'000'000'000;

struct txn_fixture {
  int64_t now = TXN_T0;
  int64_t next_producer_id = 1000;
  std::optional<kafka_error> allocator_error;
  transaction_coordinator coord;

  explicit txn_fixture(transaction_config config = {})
      : coord(config,
              [this]() -> brook::common::result<int64_t> {
                if (allocator_error) return brook::common::error{*allocator_error, "no producer id block"};
                return next_producer_id++;
              },
              TXN_T0) {}

  const transaction_metadata& meta(const std::string& id) {
    const auto* m = coord.find(id);
    REQUIRE(m != nullptr);
    return *m;
  }

  // Persists what `r` asks for (successfully) and returns the request's answer. An end's markers
  // are left for the caller (see end()).
  txn_answer settle(txn_result r) {
    last = {};
    if (!r.persist) return r.answer;
    auto c = coord.complete(r.persist->transactional_id, now);
    REQUIRE(c.ok());
    REQUIRE(c->answer);
    last = *c;
    return *c->answer;
  }

  txn_answer init(const std::string& id, int32_t timeout = 60000,
                  std::optional<std::pair<int64_t, int16_t>> expected = std::nullopt) {
    init_producer_id_request rq;
    rq.transactional_id = id;
    rq.transaction_timeout_ms = timeout;
    rq.expected = expected;
    auto a = settle(coord.init_producer_id(rq, now));
    if (last.markers || last.persist) finish(id, last);  // an abort the re-initialisation started
    last = {};
    return a;
  }

  txn_answer add(const std::string& id, int64_t pid, int16_t epoch, partition_set partitions, int16_t tv = 2) {
    return settle(coord.add_partitions(id, pid, epoch, partitions, tv, now));
  }

  // EndTxn, then the markers and the Complete record, all persisted.
  txn_answer end(const std::string& id, int64_t pid, int16_t epoch, bool commit, int16_t tv,
                 marker_request* markers = nullptr) {
    auto r = coord.end_txn(id, pid, epoch, commit, tv, now);
    if (!r.persist) return r.answer;
    auto a = settle(r);
    if (markers && last.markers) *markers = *last.markers;
    finish(id, last);
    return a;
  }

  // Writes the markers of a completion (if any) and persists its Complete record.
  void finish(const std::string& id, const txn_completion& c) {
    if (c.markers) {
      auto p = coord.markers_written(id);
      REQUIRE(p.ok());
      REQUIRE(p->record);
    } else {
      REQUIRE(c.persist);
    }
    REQUIRE(coord.complete(id, now).ok());
    CHECK_FALSE(coord.pending_state(id));
  }

  txn_completion last;
};

const topic_partition txn_p0{"t", 0};
const topic_partition txn_p1{"t", 1};
const topic_partition txn_p2{"t", 2};

std::vector<std::pair<std::string, std::vector<int32_t>>> txn_record_partitions(const transaction_state_record& r) {
  std::vector<std::pair<std::string, std::vector<int32_t>>> out;
  if (r.transaction_partitions)
    for (const auto& t : *r.transaction_partitions) out.emplace_back(t.topic, t.partition_ids);
  return out;
}

transaction_metadata txn_stored(int64_t pid, int16_t epoch, txn_state state, partition_set partitions, int16_t tv,
                            int64_t start = TXN_T0 - 1000) {
  transaction_metadata m;
  m.producer_id = pid;
  m.prev_producer_id = pid;
  m.producer_epoch = epoch;
  m.txn_timeout_ms = 60000;
  m.state = state;
  m.partitions = std::move(partitions);
  m.txn_start_timestamp = state == txn_state::empty ? -1 : start;
  m.txn_last_update_timestamp = TXN_T0 - 500;
  m.client_transaction_version = tv;
  return m;
}

}  // namespace

TEST_CASE("a new transactional id gets a producer id at epoch 0 once Empty is persisted", "[transaction]") {
  txn_fixture f;
  init_producer_id_request rq;
  rq.transactional_id = "tx";
  rq.transaction_timeout_ms = 60000;
  auto r = f.coord.init_producer_id(rq, f.now);
  REQUIRE(r.persist);
  CHECK(r.persist->transactional_id == "tx");
  REQUIRE(r.persist->record);
  const auto& rec = *r.persist->record;
  CHECK(rec.producer_id == 1000);
  CHECK(rec.producer_epoch == 0);
  CHECK(rec.transaction_status == state_id(txn_state::empty));
  CHECK_FALSE(rec.transaction_partitions);  // Empty has none, as in Kafka's log
  CHECK(rec.transaction_timeout_ms == 60000);
  CHECK(rec.transaction_start_timestamp_ms == -1);
  CHECK(rec.transaction_last_update_timestamp_ms == TXN_T0);
  CHECK(rec.next_producer_id == -1);

  // Not applied until persisted; a second InitProducerId meanwhile is asked to retry.
  CHECK(f.coord.pending_state("tx") == txn_state::empty);
  CHECK(f.meta("tx").producer_epoch == -1);
  CHECK(f.coord.init_producer_id(rq, f.now).answer.error == kafka_error::concurrent_transactions);

  auto c = f.coord.complete("tx", f.now);
  REQUIRE(c.ok());
  CHECK(c->origin == txn_request::init_producer_id);
  REQUIRE(c->answer);
  CHECK(c->answer->error == kafka_error::none);
  CHECK(c->answer->producer_id == 1000);
  CHECK(c->answer->producer_epoch == 0);
  CHECK_FALSE(c->markers);

  auto d = f.coord.describe("tx");
  CHECK(d.error == kafka_error::none);
  CHECK(d.state == "Empty");
  CHECK(d.producer_id == 1000);
  CHECK(d.producer_epoch == 0);
  CHECK(d.transaction_timeout_ms == 60000);
  CHECK(d.transaction_start_time_ms == -1);
  CHECK(d.topics.empty());
}

TEST_CASE("InitProducerId validates its request as Kafka does", "[transaction]") {
  txn_fixture f;
  CHECK(f.init("").error == kafka_error::invalid_request);
  CHECK(f.init("tx", 0).error == kafka_error::invalid_transaction_timeout);
  CHECK(f.init("tx", -5).error == kafka_error::invalid_transaction_timeout);
  CHECK(f.init("tx", 900001).error == kafka_error::invalid_transaction_timeout);
  CHECK(f.coord.find("tx") == nullptr);
  CHECK(f.init("tx", 900000).error == kafka_error::none);

  init_producer_id_request rq;
  rq.transactional_id = "two-phase";
  rq.transaction_timeout_ms = 0;
  rq.enable_two_phase_commit = true;
  CHECK(f.coord.init_producer_id(rq, f.now).answer.error == kafka_error::transactional_id_authorization_failed);
  rq.enable_two_phase_commit = false;
  rq.transaction_timeout_ms = 1000;
  rq.keep_prepared_txn = true;
  CHECK(f.coord.init_producer_id(rq, f.now).answer.error == kafka_error::unsupported_version);

  // No producer id to hand out: the allocator's error, and no metadata is created.
  f.allocator_error = kafka_error::coordinator_load_in_progress;
  CHECK(f.init("other").error == kafka_error::coordinator_load_in_progress);
  CHECK(f.coord.find("other") == nullptr);
}

TEST_CASE("re-initialising bumps the epoch and fences the previous producer", "[transaction]") {
  txn_fixture f;
  REQUIRE(f.init("tx").producer_epoch == 0);
  auto a = f.init("tx");
  CHECK(a.error == kafka_error::none);
  CHECK(a.producer_id == 1000);
  CHECK(a.producer_epoch == 1);
  CHECK(f.meta("tx").last_producer_epoch == -1);

  // The old producer, at epoch 0.
  auto add = f.coord.add_partitions("tx", 1000, 0, {txn_p0}, 2, f.now);
  CHECK(add.answer.error == kafka_error::producer_fenced);
  CHECK_FALSE(add.persist);
  CHECK(f.coord.end_txn("tx", 1000, 0, true, 1, f.now).answer.error == kafka_error::producer_fenced);
  CHECK(f.coord.end_txn("tx", 1000, 0, false, 2, f.now).answer.error == kafka_error::producer_fenced);
  for (auto [tp, err] : f.coord.verify_partitions("tx", 1000, 0, {txn_p0})) CHECK(err == kafka_error::producer_fenced);

  // Clients too old for PRODUCER_FENCED get INVALID_PRODUCER_EPOCH (KafkaApis).
  CHECK(error_for_version(kafka_error::producer_fenced, 22, 3) == kafka_error::invalid_producer_epoch);
  CHECK(error_for_version(kafka_error::producer_fenced, 22, 4) == kafka_error::producer_fenced);
  CHECK(error_for_version(kafka_error::producer_fenced, 24, 1) == kafka_error::invalid_producer_epoch);
  CHECK(error_for_version(kafka_error::producer_fenced, 24, 2) == kafka_error::producer_fenced);
  CHECK(error_for_version(kafka_error::producer_fenced, 25, 1) == kafka_error::invalid_producer_epoch);
  CHECK(error_for_version(kafka_error::producer_fenced, 26, 1) == kafka_error::invalid_producer_epoch);
  CHECK(error_for_version(kafka_error::producer_fenced, 26, 2) == kafka_error::producer_fenced);
  CHECK(error_for_version(kafka_error::concurrent_transactions, 26, 0) == kafka_error::concurrent_transactions);
}

TEST_CASE("InitProducerId with the producer's id and epoch (KIP-360)", "[transaction]") {
  txn_fixture f;
  REQUIRE(f.init("tx").producer_epoch == 0);
  auto a = f.init("tx", 60000, std::pair<int64_t, int16_t>{1000, 0});
  CHECK(a.producer_epoch == 1);
  CHECK(f.meta("tx").last_producer_epoch == 0);
  // A retry of that call (its answer was lost) gets the same epoch.
  auto retry = f.init("tx", 60000, std::pair<int64_t, int16_t>{1000, 0});
  CHECK(retry.error == kafka_error::none);
  CHECK(retry.producer_epoch == 1);
  // Neither the current nor the last epoch, or another producer id: fenced.
  CHECK(f.init("tx", 60000, std::pair<int64_t, int16_t>{1000, 5}).error == kafka_error::producer_fenced);
  CHECK(f.init("tx", 60000, std::pair<int64_t, int16_t>{999, 1}).error == kafka_error::producer_fenced);
  // A producer without an id forgets the last epoch: the old one cannot retry any more.
  CHECK(f.init("tx").producer_epoch == 2);
  CHECK(f.meta("tx").last_producer_epoch == -1);
  CHECK(f.init("tx", 60000, std::pair<int64_t, int16_t>{1000, 1}).error == kafka_error::producer_fenced);
}

TEST_CASE("re-initialising with an Ongoing transaction aborts it with the producer fenced first", "[transaction]") {
  for (int16_t tv : {transaction_version_1, transaction_version_2}) {
    INFO("transaction.version " << tv);
    transaction_config config;
    config.transaction_version = tv;
    txn_fixture f(config);
    REQUIRE(f.init("tx").producer_epoch == 0);
    REQUIRE(f.add("tx", 1000, 0, {txn_p0, txn_p1}, tv).error == kafka_error::none);

    init_producer_id_request rq;
    rq.transactional_id = "tx";
    rq.transaction_timeout_ms = 60000;
    auto r = f.coord.init_producer_id(rq, f.now);
    REQUIRE(r.persist);
    REQUIRE(r.persist->record);
    CHECK(r.persist->record->transaction_status == state_id(txn_state::prepare_abort));
    CHECK(r.persist->record->producer_epoch == 1);  // the fenced epoch, never handed out
    CHECK(txn_record_partitions(*r.persist->record) ==
          std::vector<std::pair<std::string, std::vector<int32_t>>>{{"t", {0, 1}}});
    // Version 1 writes the fenced epoch into the metadata at once: the producer is fenced already.
    CHECK(f.coord.end_txn("tx", 1000, 0, false, tv, f.now).answer.error ==
          (tv == 1 ? kafka_error::producer_fenced : kafka_error::concurrent_transactions));

    auto c = f.coord.complete("tx", f.now);
    REQUIRE(c.ok());
    CHECK(c->origin == txn_request::init_producer_id);
    REQUIRE(c->answer);
    CHECK(c->answer->error == kafka_error::concurrent_transactions);  // the producer retries
    REQUIRE(c->markers);
    CHECK(c->markers->producer_id == 1000);
    CHECK(c->markers->producer_epoch == 1);
    CHECK_FALSE(c->markers->commit);
    CHECK(c->markers->partitions == std::vector<topic_partition>{txn_p0, txn_p1});
    CHECK(f.meta("tx").state == txn_state::prepare_abort);
    CHECK(f.coord.pending_state("tx") == txn_state::complete_abort);

    // While the markers are written the producer keeps retrying.
    CHECK(f.coord.init_producer_id(rq, f.now).answer.error == kafka_error::concurrent_transactions);
    auto p = f.coord.markers_written("tx");
    REQUIRE(p.ok());
    REQUIRE(p->record);
    CHECK(p->record->transaction_status == state_id(txn_state::complete_abort));
    CHECK(p->record->producer_epoch == 1);
    CHECK(txn_record_partitions(*p->record).empty());
    REQUIRE(f.coord.complete("tx", f.now).ok());

    CHECK(f.add("tx", 1000, 0, {txn_p2}, tv).error == kafka_error::producer_fenced);
    auto again = f.init("tx");
    CHECK(again.error == kafka_error::none);
    CHECK(again.producer_id == 1000);
    CHECK(again.producer_epoch == 2);
  }
}

TEST_CASE("an exhausted epoch rolls the producer id over at InitProducerId", "[transaction]") {
  txn_fixture f;
  auto m = txn_stored(500, INT16_MAX - 1, txn_state::complete_commit, {}, transaction_version_1);
  REQUIRE(f.coord.load({{"tx", to_record(m)}}, f.now).ok());

  SECTION("a new producer") {
    auto a = f.init("tx");
    CHECK(a.producer_id == 1000);
    CHECK(a.producer_epoch == 0);
    CHECK(f.meta("tx").prev_producer_id == 500);
    CHECK(f.meta("tx").last_producer_epoch == -1);
  }
  SECTION("the producer recovering, and its retry") {
    auto a = f.init("tx", 60000, std::pair<int64_t, int16_t>{500, INT16_MAX - 1});
    CHECK(a.producer_id == 1000);
    CHECK(a.producer_epoch == 0);
    CHECK(f.meta("tx").last_producer_epoch == INT16_MAX - 1);
    // The same request again (its answer was lost): the previous producer id with an exhausted epoch
    // is accepted and gets the same answer.
    auto retry = f.init("tx", 60000, std::pair<int64_t, int16_t>{500, INT16_MAX - 1});
    CHECK(retry.error == kafka_error::none);
    CHECK(retry.producer_id == 1000);
    CHECK(retry.producer_epoch == 0);
    CHECK(f.next_producer_id == 1001);
  }
}

TEST_CASE("AddPartitionsToTxn checks the producer and persists the partitions", "[transaction]") {
  txn_fixture f;
  CHECK(f.add("", 1, 0, {txn_p0}).error == kafka_error::invalid_request);
  CHECK(f.add("tx", 1000, 0, {txn_p0}).error == kafka_error::invalid_producer_id_mapping);  // unknown id
  REQUIRE(f.init("tx").producer_epoch == 0);
  CHECK(f.add("tx", 999, 0, {txn_p0}).error == kafka_error::invalid_producer_id_mapping);
  CHECK(f.add("tx", 1000, 1, {txn_p0}).error == kafka_error::producer_fenced);

  auto r = f.coord.add_partitions("tx", 1000, 0, {txn_p0}, 2, f.now);
  REQUIRE(r.persist);
  REQUIRE(r.persist->record);
  CHECK(r.persist->record->transaction_status == state_id(txn_state::ongoing));
  CHECK(r.persist->record->transaction_start_timestamp_ms == TXN_T0);
  CHECK(r.persist->record->client_transaction_version == 2);
  // Pending: the producer's next request is asked to retry.
  CHECK(f.add("tx", 1000, 0, {txn_p1}).error == kafka_error::concurrent_transactions);
  CHECK(f.settle(r).error == kafka_error::none);
  CHECK(f.meta("tx").state == txn_state::ongoing);

  f.now += 100;
  // Partitions already in the transaction: answered at once.
  auto same = f.coord.add_partitions("tx", 1000, 0, {txn_p0}, 2, f.now);
  CHECK(same.answer.error == kafka_error::none);
  CHECK_FALSE(same.persist);
  auto more = f.coord.add_partitions("tx", 1000, 0, {txn_p1}, 2, f.now);
  REQUIRE(more.persist);
  CHECK(txn_record_partitions(*more.persist->record) ==
        std::vector<std::pair<std::string, std::vector<int32_t>>>{{"t", {0, 1}}});
  CHECK(more.persist->record->transaction_start_timestamp_ms == TXN_T0);  // the transaction's start stays
  CHECK(more.persist->record->transaction_last_update_timestamp_ms == TXN_T0 + 100);
  CHECK(f.settle(more).error == kafka_error::none);
}

TEST_CASE("AddPartitionsToTxn while the transaction is being committed is asked to retry", "[transaction]") {
  txn_fixture f;
  REQUIRE(f.init("tx").producer_epoch == 0);
  REQUIRE(f.add("tx", 1000, 0, {txn_p0}).error == kafka_error::none);
  auto r = f.coord.end_txn("tx", 1000, 0, true, 2, f.now);
  REQUIRE(r.persist);
  CHECK(f.add("tx", 1000, 0, {txn_p1}).error == kafka_error::concurrent_transactions);
  REQUIRE(f.coord.complete("tx", f.now).ok());
  REQUIRE(f.meta("tx").state == txn_state::prepare_commit);
  CHECK(f.add("tx", 1000, 0, {txn_p1}).error == kafka_error::concurrent_transactions);
  CHECK(f.add("tx", 1000, 1, {txn_p1}).error == kafka_error::concurrent_transactions);
  // The verification has no pending check: it answers from the state.
  for (auto [tp, err] : f.coord.verify_partitions("tx", 1000, 1, {txn_p0})) CHECK(err == kafka_error::concurrent_transactions);
  CHECK(f.coord.init_producer_id({"tx", 60000, std::nullopt}, f.now).answer.error == kafka_error::concurrent_transactions);
}

TEST_CASE("verify-only AddPartitionsToTxn reports each partition", "[transaction]") {
  txn_fixture f;
  auto all_are = [](const std::map<topic_partition, kafka_error>& m, kafka_error e) {
    for (auto [tp, err] : m)
      if (err != e) return false;
    return !m.empty();
  };
  CHECK(all_are(f.coord.verify_partitions("", 1, 0, {txn_p0}), kafka_error::invalid_request));
  CHECK(all_are(f.coord.verify_partitions("tx", 1000, 0, {txn_p0, txn_p1}), kafka_error::invalid_producer_id_mapping));
  REQUIRE(f.init("tx").producer_epoch == 0);
  REQUIRE(f.add("tx", 1000, 0, {txn_p0}).error == kafka_error::none);
  auto v = f.coord.verify_partitions("tx", 1000, 0, {txn_p0, txn_p1});
  CHECK(v.at(txn_p0) == kafka_error::none);
  CHECK(v.at(txn_p1) == kafka_error::transaction_abortable);
  CHECK(f.meta("tx").partitions == partition_set{txn_p0});  // nothing added
  CHECK(all_are(f.coord.verify_partitions("tx", 7, 0, {txn_p0}), kafka_error::invalid_producer_id_mapping));
  CHECK(all_are(f.coord.verify_partitions("tx", 1000, 3, {txn_p0}), kafka_error::producer_fenced));
}

TEST_CASE("EndTxn under transaction version 1", "[transaction]") {
  txn_fixture f;
  REQUIRE(f.init("tx").producer_epoch == 0);
  CHECK(f.end("tx", 1000, 0, true, 1).error == kafka_error::invalid_txn_state);  // Empty
  CHECK(f.end("tx", 1000, 0, false, 1).error == kafka_error::invalid_txn_state);
  CHECK(f.end("unknown", 1000, 0, true, 1).error == kafka_error::invalid_producer_id_mapping);
  CHECK(f.end("", 1000, 0, true, 1).error == kafka_error::invalid_request);
  REQUIRE(f.add("tx", 1000, 0, {txn_p0}, 1).error == kafka_error::none);
  CHECK(f.end("tx", 999, 0, true, 1).error == kafka_error::invalid_producer_id_mapping);
  CHECK(f.end("tx", 1000, 1, true, 1).error == kafka_error::producer_fenced);  // strict from a client

  auto r = f.coord.end_txn("tx", 1000, 0, true, 1, f.now);
  REQUIRE(r.persist);
  CHECK(r.persist->record->transaction_status == state_id(txn_state::prepare_commit));
  CHECK(r.persist->record->producer_epoch == 0);  // no bump under version 1
  CHECK(r.persist->record->client_transaction_version == 0);  // as Kafka records it
  CHECK(f.coord.end_txn("tx", 1000, 0, true, 1, f.now).answer.error == kafka_error::concurrent_transactions);
  auto c = f.coord.complete("tx", f.now);
  REQUIRE(c.ok());
  REQUIRE(c->answer);
  CHECK(c->answer->error == kafka_error::none);
  CHECK(c->answer->producer_id == -1);
  CHECK(c->answer->producer_epoch == -1);
  REQUIRE(c->markers);
  CHECK(c->markers->commit);
  CHECK(c->markers->producer_epoch == 0);
  CHECK(c->markers->partitions == std::vector<topic_partition>{txn_p0});
  // Retried while the markers are written.
  CHECK(f.coord.end_txn("tx", 1000, 0, true, 1, f.now).answer.error == kafka_error::concurrent_transactions);
  CHECK(f.coord.end_txn("tx", 1000, 0, false, 1, f.now).answer.error == kafka_error::concurrent_transactions);
  f.finish("tx", *c);
  CHECK(f.meta("tx").state == txn_state::complete_commit);
  CHECK(f.meta("tx").partitions.empty());

  // Retried after completion: the same end succeeds again, the other is refused.
  auto retry = f.coord.end_txn("tx", 1000, 0, true, 1, f.now);
  CHECK(retry.answer.error == kafka_error::none);
  CHECK_FALSE(retry.persist);
  CHECK(f.end("tx", 1000, 0, false, 1).error == kafka_error::invalid_txn_state);

  REQUIRE(f.add("tx", 1000, 0, {txn_p1}, 1).error == kafka_error::none);
  CHECK(f.end("tx", 1000, 0, false, 1).error == kafka_error::none);
  CHECK(f.meta("tx").state == txn_state::complete_abort);
  CHECK(f.end("tx", 1000, 0, false, 1).error == kafka_error::none);
  CHECK(f.end("tx", 1000, 0, true, 1).error == kafka_error::invalid_txn_state);
  CHECK(f.meta("tx").producer_epoch == 0);
}

TEST_CASE("EndTxn under transaction version 2 bumps the epoch at every end (KIP-890)", "[transaction]") {
  txn_fixture f;
  REQUIRE(f.init("tx").producer_epoch == 0);
  REQUIRE(f.add("tx", 1000, 0, {txn_p0}).error == kafka_error::none);
  CHECK(f.end("tx", 1000, 1, true, 2).error == kafka_error::producer_fenced);  // Ongoing wants the current epoch

  marker_request markers;
  auto a = f.end("tx", 1000, 0, true, 2, &markers);
  CHECK(a.error == kafka_error::none);
  CHECK(a.producer_id == 1000);
  CHECK(a.producer_epoch == 1);
  CHECK(markers.producer_epoch == 1);  // markers carry the bumped epoch
  CHECK(markers.commit);
  CHECK(f.meta("tx").state == txn_state::complete_commit);
  CHECK(f.meta("tx").last_producer_epoch == 0);

  // CompleteCommit: a retried commit (previous epoch) succeeds with the current id and epoch.
  auto retry = f.coord.end_txn("tx", 1000, 0, true, 2, f.now);
  CHECK(retry.answer.error == kafka_error::none);
  CHECK(retry.answer.producer_epoch == 1);
  CHECK_FALSE(retry.persist);
  CHECK(f.end("tx", 1000, 0, false, 2).error == kafka_error::invalid_txn_state);  // retried abort
  CHECK(f.end("tx", 1000, 1, true, 2).error == kafka_error::invalid_txn_state);   // commit, current epoch
  CHECK(f.end("tx", 1000, 2, false, 2).error == kafka_error::producer_fenced);    // a future epoch

  // An abort with the current epoch is a new (empty) transaction: bumped, no markers.
  auto r = f.coord.end_txn("tx", 1000, 1, false, 2, f.now);
  REQUIRE(r.persist);
  CHECK(r.persist->record->transaction_status == state_id(txn_state::prepare_abort));
  CHECK(r.persist->record->producer_epoch == 2);
  CHECK(r.persist->record->transaction_start_timestamp_ms == f.now);  // no partition added: starts now
  auto c = f.coord.complete("tx", f.now);
  REQUIRE(c.ok());
  CHECK(c->answer->producer_epoch == 2);
  CHECK_FALSE(c->markers);
  REQUIRE(c->persist);  // nothing to write: the Complete record at once
  CHECK(c->persist->record->transaction_status == state_id(txn_state::complete_abort));
  REQUIRE(f.coord.complete("tx", f.now).ok());

  // CompleteAbort: a retried abort succeeds, a commit never does; a current abort bumps again.
  CHECK(f.end("tx", 1000, 1, false, 2).producer_epoch == 2);
  CHECK(f.end("tx", 1000, 2, true, 2).error == kafka_error::invalid_txn_state);
  CHECK(f.end("tx", 1000, 1, true, 2).error == kafka_error::invalid_txn_state);
  CHECK(f.end("tx", 1000, 2, false, 2).producer_epoch == 3);

  // Empty: an abort with the current epoch bumps; a commit is refused; the previous epoch is fenced.
  REQUIRE(f.init("tx").producer_epoch == 4);
  CHECK(f.end("tx", 1000, 3, false, 2).error == kafka_error::producer_fenced);
  CHECK(f.end("tx", 1000, 4, true, 2).error == kafka_error::invalid_txn_state);
  CHECK(f.end("tx", 1000, 4, false, 2).producer_epoch == 5);
}

TEST_CASE("a transaction version 2 end at an exhausted epoch moves to a new producer id", "[transaction]") {
  txn_fixture f;
  auto m = txn_stored(500, INT16_MAX - 1, txn_state::ongoing, {txn_p0}, transaction_version_2);
  REQUIRE(f.coord.load({{"tx", to_record(m)}}, f.now).ok());

  auto r = f.coord.end_txn("tx", 500, INT16_MAX - 1, true, 2, f.now);
  REQUIRE(r.persist);
  CHECK(r.persist->record->producer_id == 500);
  CHECK(r.persist->record->producer_epoch == INT16_MAX);
  CHECK(r.persist->record->next_producer_id == 1000);
  auto c = f.coord.complete("tx", f.now);
  REQUIRE(c.ok());
  CHECK(c->answer->producer_id == 1000);
  CHECK(c->answer->producer_epoch == 0);
  REQUIRE(c->markers);
  CHECK(c->markers->producer_id == 500);  // the markers close the old producer id's transaction
  CHECK(c->markers->producer_epoch == INT16_MAX);
  auto p = f.coord.markers_written("tx");
  REQUIRE(p.ok());
  CHECK(p->record->producer_id == 1000);
  CHECK(p->record->producer_epoch == 0);
  CHECK(p->record->previous_producer_id == 500);
  CHECK(p->record->next_producer_id == -1);
  REQUIRE(f.coord.complete("tx", f.now).ok());
  CHECK(f.meta("tx").last_producer_epoch == INT16_MAX - 1);  // what the client last saw

  // The client retries its EndTxn with the old id: answered with the new one.
  auto retry = f.coord.end_txn("tx", 500, INT16_MAX - 1, true, 2, f.now);
  CHECK_FALSE(retry.persist);
  CHECK(retry.answer.error == kafka_error::none);
  CHECK(retry.answer.producer_id == 1000);
  CHECK(retry.answer.producer_epoch == 0);
  CHECK(f.add("tx", 1000, 0, {txn_p1}).error == kafka_error::none);
  CHECK(f.add("tx", 500, INT16_MAX, {txn_p1}).error == kafka_error::invalid_producer_id_mapping);
}

TEST_CASE("an Ongoing transaction past its timeout is aborted with its producer fenced", "[transaction]") {
  for (int16_t tv : {transaction_version_1, transaction_version_2}) {
    INFO("transaction.version " << tv);
    transaction_config config;
    config.transaction_version = tv;
    txn_fixture f(config);
    REQUIRE(f.init("tx", 60000).producer_epoch == 0);
    REQUIRE(f.add("tx", 1000, 0, {txn_p0}, tv).error == kafka_error::none);
    CHECK(f.coord.next_deadline() == TXN_T0 + 10000);  // transaction.abort.timed.out.transaction.cleanup.interval.ms

    f.now = TXN_T0 + 10000;
    CHECK(f.coord.advance(f.now).empty());
    CHECK(f.coord.next_deadline() == TXN_T0 + 20000);
    f.now = TXN_T0 + 60000;  // start + timeout is not yet past
    CHECK(f.coord.advance(f.now).empty());
    f.now = TXN_T0 + 70000;
    auto due = f.coord.advance(f.now);
    REQUIRE(due.size() == 1);
    CHECK(due[0].transactional_id == "tx");
    REQUIRE(due[0].record);
    CHECK(due[0].record->transaction_status == state_id(txn_state::prepare_abort));
    CHECK(due[0].record->producer_epoch == 1);
    CHECK(due[0].record->client_transaction_version == (tv == 2 ? 2 : 0));
    CHECK(f.coord.next_deadline() == TXN_T0 + 80000);

    auto c = f.coord.complete("tx", f.now);
    REQUIRE(c.ok());
    CHECK(c->origin == txn_request::none);
    CHECK_FALSE(c->answer);
    REQUIRE(c->markers);
    CHECK_FALSE(c->markers->commit);
    CHECK(c->markers->producer_epoch == 1);
    f.finish("tx", *c);
    CHECK(f.meta("tx").state == txn_state::complete_abort);

    // The producer is fenced.
    CHECK(f.add("tx", 1000, 0, {txn_p0}, tv).error == kafka_error::producer_fenced);
    CHECK(f.end("tx", 1000, 0, true, 1).error == kafka_error::producer_fenced);
    CHECK(f.init("tx").producer_epoch == 2);
  }
}

TEST_CASE("a KIP-939 transaction has no timeout", "[transaction]") {
  transaction_config config;
  config.two_phase_commit_enable = true;
  txn_fixture f(config);
  init_producer_id_request rq;
  rq.transactional_id = "tx";
  rq.transaction_timeout_ms = 0;  // not checked
  rq.enable_two_phase_commit = true;
  REQUIRE(f.settle(f.coord.init_producer_id(rq, f.now)).error == kafka_error::none);
  CHECK(f.meta("tx").txn_timeout_ms == INT32_MAX);
  REQUIRE(f.add("tx", 1000, 0, {txn_p0}).error == kafka_error::none);
  f.now += 30LL * 24 * 3600 * 1000;
  CHECK(f.coord.advance(f.now).empty());
  CHECK(f.meta("tx").state == txn_state::ongoing);
}

TEST_CASE("a transition that fails to persist is reverted and answered with Kafka's append error", "[transaction]") {
  CHECK(append_error(kafka_error::not_enough_replicas) == kafka_error::coordinator_not_available);
  CHECK(append_error(kafka_error::not_enough_replicas_after_append) == kafka_error::coordinator_not_available);
  CHECK(append_error(kafka_error::request_timed_out) == kafka_error::coordinator_not_available);
  CHECK(append_error(kafka_error::unknown_topic_or_partition) == kafka_error::coordinator_not_available);
  CHECK(append_error(kafka_error::not_leader_or_follower) == kafka_error::not_coordinator);
  CHECK(append_error(kafka_error::kafka_storage_error) == kafka_error::not_coordinator);
  CHECK(append_error(kafka_error::message_too_large) == kafka_error::unknown_server_error);
  CHECK(append_error(kafka_error::record_list_too_large) == kafka_error::unknown_server_error);
  CHECK(append_error(kafka_error::invalid_record) == kafka_error::invalid_record);

  txn_fixture f;
  SECTION("a new id's first epoch") {
    REQUIRE(f.coord.init_producer_id({"tx", 60000, std::nullopt}, f.now).persist);
    auto c = f.coord.abort_pending("tx", kafka_error::not_enough_replicas);
    REQUIRE(c.ok());
    CHECK(c->origin == txn_request::init_producer_id);
    CHECK(c->answer->error == kafka_error::coordinator_not_available);
    // The metadata stays (as in Kafka), without an epoch; the retry gets the same producer id.
    CHECK(f.meta("tx").producer_epoch == -1);
    CHECK_FALSE(f.coord.pending_state("tx"));
    auto a = f.init("tx");
    CHECK(a.producer_id == 1000);
    CHECK(a.producer_epoch == 0);
  }
  SECTION("added partitions") {
    REQUIRE(f.init("tx").producer_epoch == 0);
    REQUIRE(f.coord.add_partitions("tx", 1000, 0, {txn_p0}, 2, f.now).persist);
    auto c = f.coord.abort_pending("tx", kafka_error::kafka_storage_error);
    REQUIRE(c.ok());
    CHECK(c->answer->error == kafka_error::not_coordinator);
    CHECK(f.meta("tx").state == txn_state::empty);
    CHECK(f.meta("tx").partitions.empty());
    CHECK(f.add("tx", 1000, 0, {txn_p0}).error == kafka_error::none);
  }
  SECTION("an end") {
    REQUIRE(f.init("tx").producer_epoch == 0);
    REQUIRE(f.add("tx", 1000, 0, {txn_p0}).error == kafka_error::none);
    REQUIRE(f.coord.end_txn("tx", 1000, 0, true, 2, f.now).persist);
    auto c = f.coord.abort_pending("tx", kafka_error::request_timed_out);
    REQUIRE(c.ok());
    CHECK(c->origin == txn_request::end_txn);
    CHECK(c->answer->error == kafka_error::coordinator_not_available);
    CHECK_FALSE(c->markers);
    CHECK(f.meta("tx").state == txn_state::ongoing);
    CHECK(f.meta("tx").producer_epoch == 0);
    CHECK(f.end("tx", 1000, 0, true, 2).producer_epoch == 1);
  }
  SECTION("the Complete record after the markers is persisted again") {
    REQUIRE(f.init("tx").producer_epoch == 0);
    REQUIRE(f.add("tx", 1000, 0, {txn_p0}).error == kafka_error::none);
    REQUIRE(f.coord.end_txn("tx", 1000, 0, true, 2, f.now).persist);
    REQUIRE(f.coord.complete("tx", f.now).ok());
    auto p = f.coord.markers_written("tx");
    REQUIRE(p.ok());
    auto c = f.coord.abort_pending("tx", kafka_error::kafka_storage_error);
    REQUIRE(c.ok());
    CHECK_FALSE(c->answer);
    REQUIRE(c->persist);
    CHECK(c->persist->record == p->record);
    CHECK(f.coord.pending_state("tx") == txn_state::complete_commit);
    REQUIRE(f.coord.complete("tx", f.now).ok());
    CHECK(f.meta("tx").state == txn_state::complete_commit);
  }
  SECTION("nothing pending") {
    CHECK_FALSE(f.coord.complete("tx", f.now).ok());
    CHECK_FALSE(f.coord.abort_pending("tx", kafka_error::kafka_storage_error).ok());
    CHECK_FALSE(f.coord.markers_written("tx").ok());
  }
}

TEST_CASE("a fence that failed to persist does not bump the epoch again (transaction version 1)", "[transaction]") {
  transaction_config config;
  config.transaction_version = transaction_version_1;
  txn_fixture f(config);
  REQUIRE(f.init("tx").producer_epoch == 0);
  REQUIRE(f.add("tx", 1000, 0, {txn_p0}, 1).error == kafka_error::none);
  init_producer_id_request rq{"tx", 60000, std::nullopt};
  auto r = f.coord.init_producer_id(rq, f.now);
  REQUIRE(r.persist);
  CHECK(r.persist->record->producer_epoch == 1);
  auto c = f.coord.abort_pending("tx", kafka_error::kafka_storage_error);
  REQUIRE(c.ok());
  CHECK(c->origin == txn_request::init_producer_id);
  CHECK(c->answer->error == kafka_error::not_coordinator);
  // Kafka keeps the fenced epoch in the metadata: the old producer stays fenced.
  CHECK(f.meta("tx").state == txn_state::ongoing);
  CHECK(f.meta("tx").producer_epoch == 1);
  CHECK(f.add("tx", 1000, 0, {txn_p1}, 1).error == kafka_error::producer_fenced);

  auto again = f.coord.init_producer_id(rq, f.now);
  REQUIRE(again.persist);
  CHECK(again.persist->record->producer_epoch == 1);  // not bumped twice
  auto done = f.coord.complete("tx", f.now);
  REQUIRE(done.ok());
  CHECK(done->answer->error == kafka_error::concurrent_transactions);
  f.finish("tx", *done);
  CHECK(f.init("tx").producer_epoch == 2);
}

TEST_CASE("load() restores every id and completes interrupted ends", "[transaction]") {
  txn_fixture f;
  std::vector<std::pair<std::string, transaction_state_record>> records{
      {"empty", to_record(txn_stored(1, 0, txn_state::empty, {}, 0))},
      {"ongoing", to_record(txn_stored(2, 1, txn_state::ongoing, {txn_p0}, 2, TXN_T0 - 1000))},
      {"committing", to_record(txn_stored(3, 3, txn_state::prepare_commit, {txn_p0, txn_p1}, 1))},
      {"aborting", to_record(txn_stored(4, 4, txn_state::prepare_abort, {}, 2))},
      {"aborted", to_record(txn_stored(5, 2, txn_state::complete_abort, {}, 2))},
  };
  auto loaded = f.coord.load(records, f.now);
  REQUIRE(loaded.ok());
  CHECK(f.coord.size() == 5);
  REQUIRE(loaded->size() == 2);
  for (const auto& c : *loaded) {
    CHECK(c.origin == txn_request::none);
    CHECK_FALSE(c.answer);
  }
  // "aborting" (no partitions) comes first by id: its Complete record at once.
  REQUIRE((*loaded)[0].persist);
  CHECK((*loaded)[0].persist->transactional_id == "aborting");
  CHECK((*loaded)[0].persist->record->transaction_status == state_id(txn_state::complete_abort));
  REQUIRE((*loaded)[1].markers);
  const auto& m = *(*loaded)[1].markers;
  CHECK(m.transactional_id == "committing");
  CHECK(m.producer_id == 3);
  CHECK(m.producer_epoch == 3);
  CHECK(m.commit);
  CHECK(m.partitions == std::vector<topic_partition>{txn_p0, txn_p1});
  CHECK(f.coord.pending_state("committing") == txn_state::complete_commit);
  CHECK(f.coord.end_txn("committing", 3, 3, true, 1, f.now).answer.error == kafka_error::concurrent_transactions);
  f.finish("committing", (*loaded)[1]);
  f.finish("aborting", (*loaded)[0]);
  CHECK(f.meta("committing").state == txn_state::complete_commit);
  CHECK(f.meta("aborting").state == txn_state::complete_abort);

  // The last epoch is not persisted (as in Kafka).
  CHECK(f.meta("empty").last_producer_epoch == -1);
  CHECK(f.init("empty").producer_epoch == 1);

  // The Ongoing one's timeout runs on from its persisted start.
  f.now = TXN_T0 + 60000;
  auto due = f.coord.advance(f.now);
  REQUIRE(due.size() == 1);
  CHECK(due[0].transactional_id == "ongoing");
  CHECK(due[0].record->transaction_status == state_id(txn_state::prepare_abort));

  // A record that cannot be loaded fails the load and changes nothing.
  auto bad = to_record(txn_stored(9, 0, txn_state::empty, {}, 0));
  bad.transaction_status = state_id(txn_state::dead);
  auto failed = f.coord.load({{"bad", bad}}, f.now);
  CHECK_FALSE(failed.ok());
  CHECK(failed.code() == kafka_error::kafka_storage_error);
  CHECK(f.coord.size() == 5);
}

TEST_CASE("transactional ids idle past transactional.id.expiration.ms are removed", "[transaction]") {
  transaction_config config;
  config.transactional_id_expiration_ms = 1'000'000;
  config.abort_timed_out_transaction_cleanup_interval_ms = 1'000'000'000;
  txn_fixture f(config);
  REQUIRE(f.init("idle").producer_epoch == 0);
  REQUIRE(f.init("busy").producer_epoch == 0);
  REQUIRE(f.add("busy", 1001, 0, {txn_p0}).error == kafka_error::none);
  CHECK(f.coord.next_deadline() == TXN_T0 + 3'600'000);  // transaction.remove.expired.transaction.cleanup.interval.ms

  f.now = TXN_T0 + 3'600'000;
  auto due = f.coord.advance(f.now);
  REQUIRE(due.size() == 1);  // Ongoing never expires
  CHECK(due[0].transactional_id == "idle");
  CHECK_FALSE(due[0].record);  // a tombstone
  CHECK(f.coord.pending_state("idle") == txn_state::dead);
  CHECK(f.init("idle").error == kafka_error::concurrent_transactions);
  CHECK(f.coord.describe("idle").state == "Empty");  // until the removal is persisted

  SECTION("removed once the tombstone is persisted") {
    REQUIRE(f.coord.complete("idle", f.now).ok());
    CHECK(f.coord.find("idle") == nullptr);
    CHECK(f.coord.describe("idle").error == kafka_error::transactional_id_not_found);
    auto a = f.init("idle");
    CHECK(a.producer_id == 1002);  // a new id
    CHECK(a.producer_epoch == 0);
  }
  SECTION("kept when the tombstone fails") {
    auto c = f.coord.abort_pending("idle", kafka_error::kafka_storage_error);
    REQUIRE(c.ok());
    CHECK_FALSE(c->answer);
    CHECK_FALSE(f.coord.pending_state("idle"));
    CHECK(f.init("idle").producer_epoch == 1);
  }
}

TEST_CASE("DescribeTransactions and ListTransactions data", "[transaction]") {
  txn_fixture f;
  REQUIRE(f.init("a").producer_id == 1000);
  REQUIRE(f.add("a", 1000, 0, {txn_p0, txn_p1, {"u", 3}}).error == kafka_error::none);
  REQUIRE(f.init("b").producer_id == 1001);
  REQUIRE(f.init("c").producer_id == 1002);
  REQUIRE(f.add("c", 1002, 0, {txn_p0}).error == kafka_error::none);
  REQUIRE(f.end("c", 1002, 0, true, 2).error == kafka_error::none);

  auto d = f.coord.describe("a");
  CHECK(d.error == kafka_error::none);
  CHECK(d.state == "Ongoing");
  CHECK(d.producer_id == 1000);
  CHECK(d.transaction_start_time_ms == TXN_T0);
  CHECK(d.topics == std::map<std::string, std::vector<int32_t>>{{"t", {0, 1}}, {"u", {3}}});
  CHECK(f.coord.describe("").error == kafka_error::invalid_request);
  CHECK(f.coord.describe("zz").error == kafka_error::transactional_id_not_found);

  auto ids = [](const txn_listing& l) {
    std::vector<std::string> out;
    for (const auto& t : l.transactions) out.push_back(t.transactional_id);
    return out;
  };
  f.now = TXN_T0 + 5000;
  list_filter all;
  auto l = f.coord.list(all, f.now);
  CHECK(ids(l) == std::vector<std::string>{"a", "b", "c"});
  CHECK(l.transactions[2].state == "CompleteCommit");
  CHECK(l.transactions[2].producer_id == 1002);

  list_filter ongoing;
  ongoing.states = {"Ongoing", "Bogus"};
  l = f.coord.list(ongoing, f.now);
  CHECK(ids(l) == std::vector<std::string>{"a"});
  CHECK(l.unknown_state_filters == std::vector<std::string>{"Bogus"});
  list_filter bogus;
  bogus.states = {"Bogus"};
  CHECK(f.coord.list(bogus, f.now).transactions.empty());

  list_filter by_id;
  by_id.producer_ids = {1001};
  CHECK(ids(f.coord.list(by_id, f.now)) == std::vector<std::string>{"b"});

  // Started more than 5000 ms ago: only the Empty one (start -1); "a" and "c" started exactly then.
  list_filter old;
  old.duration_ms = 5000;
  CHECK(ids(f.coord.list(old, f.now)) == std::vector<std::string>{"b"});
  old.duration_ms = 4999;
  CHECK(ids(f.coord.list(old, f.now)) == std::vector<std::string>{"a", "b", "c"});

  list_filter pattern;
  pattern.transactional_id_matches = [](const std::string& id) { return id == "c"; };
  CHECK(ids(f.coord.list(pattern, f.now)) == std::vector<std::string>{"c"});
}

TEST_CASE("the metadata round-trips through transaction_state_record", "[transaction]") {
  transaction_metadata m;
  m.producer_id = 7;
  m.prev_producer_id = 6;
  m.next_producer_id = 9;
  m.producer_epoch = 3;
  m.last_producer_epoch = 2;
  m.txn_timeout_ms = 1234;
  m.state = txn_state::prepare_commit;
  m.partitions = {{"b", 1}, {"a", 2}, {"a", 0}};
  m.txn_start_timestamp = 100;
  m.txn_last_update_timestamp = 200;
  m.client_transaction_version = 2;

  auto rec = to_record(m);
  CHECK(txn_record_partitions(rec) ==
        std::vector<std::pair<std::string, std::vector<int32_t>>>{{"a", {0, 2}}, {"b", {1}}});
  namespace schema = brook::common::protocol::transaction_state_record;
  brook::common::protocol::writer w;
  rec.encode(w, schema::max_version);
  brook::common::protocol::reader r(w.data());
  transaction_state_record decoded;
  decoded.decode(r, schema::max_version);
  CHECK(r.remaining() == 0);
  CHECK(decoded == rec);
  auto back = from_record(decoded);
  REQUIRE(back.ok());
  m.last_producer_epoch = -1;  // not persisted
  CHECK(*back == m);

  transaction_metadata e;
  e.producer_id = 1;
  e.producer_epoch = 0;
  e.txn_timeout_ms = 10;
  auto empty_rec = to_record(e);
  CHECK_FALSE(empty_rec.transaction_partitions);
  brook::common::protocol::writer w2;
  empty_rec.encode(w2, schema::max_version);
  brook::common::protocol::reader r2(w2.data());
  transaction_state_record empty_back;
  empty_back.decode(r2, schema::max_version);
  CHECK_FALSE(empty_back.transaction_partitions);
  REQUIRE(from_record(empty_back).ok());
  CHECK(*from_record(empty_back) == e);

  auto unknown = rec;
  unknown.transaction_status = 9;
  CHECK(from_record(unknown).code() == kafka_error::kafka_storage_error);
}
