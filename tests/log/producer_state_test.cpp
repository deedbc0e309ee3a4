#include <catch2/catch.hpp>

#include "common/record_batch.hpp"
#include "log/producer_state.hpp"

using brook::common::kafka_error;
using brook::log::producer_batch;
using brook::log::producer_state_table;

TEST_CASE("producer state: in-order batches are accepted and retries recognised") {
  producer_state_table t;
  REQUIRE(t.check(7, 0, 0, 4).ok());
  t.record(7, 0, {0, 4, 100, 104}, 1000);
  REQUIRE(t.check(7, 0, 5, 9).ok());
  CHECK_FALSE(t.check(7, 0, 5, 9)->duplicate_of.has_value());
  t.record(7, 0, {5, 9, 105, 109}, 1001);

  auto retry = t.check(7, 0, 0, 4);
  REQUIRE(retry.ok());
  REQUIRE(retry->duplicate_of.has_value());
  CHECK(retry->duplicate_of->first_offset == 100);
  CHECK(retry->duplicate_of->last_offset == 104);
  CHECK(t.covered_offset() == 110);
}

TEST_CASE("producer state: gaps, stale epochs and new epochs") {
  producer_state_table t;
  t.record(1, 3, {0, 0, 0, 0}, 1);
  CHECK(t.check(1, 3, 2, 2).code() == kafka_error::out_of_order_sequence_number);
  CHECK(t.check(1, 2, 1, 1).code() == kafka_error::invalid_producer_epoch);
  CHECK(t.check(1, 4, 5, 5).code() == kafka_error::out_of_order_sequence_number);
  CHECK(t.check(1, 4, 0, 3).ok());
  // A producer id never seen (its state expired, say) may start anywhere.
  CHECK(t.check(99, 0, 42, 43).ok());
}

TEST_CASE("producer state: only the last five batches are remembered") {
  producer_state_table t;
  for (int i = 0; i < 7; ++i) t.record(5, 0, {i, i, i, i}, i);
  CHECK(t.check(5, 0, 1, 1).code() == kafka_error::out_of_order_sequence_number);  // fell out of the cache
  CHECK(t.check(5, 0, 6, 6)->duplicate_of.has_value());
  CHECK(t.check(5, 0, 2, 2)->duplicate_of.has_value());
  CHECK(t.entries().at(5).batches.size() == producer_state_table::max_cached_batches);
}

TEST_CASE("producer state: sequence numbers wrap after INT32_MAX") {
  producer_state_table t;
  t.record(2, 0, {INT32_MAX - 1, INT32_MAX, 10, 11}, 1);
  CHECK(t.check(2, 0, 0, 3).ok());
}

TEST_CASE("producer state: record round trip, and a record breaking the table's invariants is refused") {
  producer_state_table t;
  t.record(1, 0, {0, 4, 0, 4}, 10);
  t.record(2, 7, {10, 19, 5, 14}, 20);
  t.set_covered_offset(15);
  auto record = t.to_record();
  REQUIRE(record.producers.size() == 2);
  CHECK(record.covered_offset == 15);
  CHECK(record.producers[1].producer_id == 2);
  CHECK(record.producers[1].producer_epoch == 7);
  auto back = producer_state_table::from_record(record);
  REQUIRE(back.ok());
  CHECK(back->entries() == t.entries());
  CHECK(back->covered_offset() == t.covered_offset());

  for (size_t i = 0; i < producer_state_table::max_cached_batches; ++i)
    record.producers[0].batches.push_back(record.producers[0].batches.front());
  auto refused = producer_state_table::from_record(record);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == brook::common::kafka_error::kafka_storage_error);
}

TEST_CASE("producer state: expiry drops producers idle for too long") {
  producer_state_table t;
  t.record(1, 0, {0, 0, 0, 0}, 100);
  t.record(2, 0, {0, 0, 1, 1}, 500);
  t.expire(200);
  CHECK(t.entries().count(1) == 0);
  CHECK(t.entries().count(2) == 1);
}

TEST_CASE("producer state: replay rebuilds from batches in the log") {
  using namespace brook::common;
  std::vector<uint8_t> log;
  for (int i = 0; i < 3; ++i) {
    record_batch_builder::options o;
    o.base_offset = i * 2;
    o.producer_id = 42;
    o.producer_epoch = 1;
    o.base_sequence = i * 2;
    record_batch_builder b(o);
    b.add(std::string("k"), std::string("v1"), 1000 + i);
    b.add(std::string("k"), std::string("v2"), 1000 + i);
    auto bytes = b.build();
    log.insert(log.end(), bytes.begin(), bytes.end());
  }
  producer_state_table t;
  t.replay(log);
  CHECK(t.covered_offset() == 6);
  auto dup = t.check(42, 1, 2, 3);
  REQUIRE(dup.ok());
  REQUIRE(dup->duplicate_of.has_value());
  CHECK(dup->duplicate_of->first_offset == 2);
  CHECK(t.check(42, 1, 6, 6).ok());
  CHECK(t.check(42, 1, 7, 7).code() == kafka_error::out_of_order_sequence_number);
}

namespace {
std::vector<uint8_t> marker_at(int64_t offset, int64_t pid, int16_t epoch, bool commit, int32_t coordinator_epoch) {
  brook::common::marker_batch_fields f;
  f.base_offset = offset;
  f.producer_id = pid;
  f.producer_epoch = epoch;
  f.timestamp = 5000 + offset;
  return brook::common::encode_end_txn_marker(
      f, {commit ? brook::common::control_record_type::commit : brook::common::control_record_type::abort,
          coordinator_epoch});
}
std::vector<uint8_t> txn_batch_at(int64_t offset, int64_t pid, int16_t epoch, int32_t seq, int n) {
  brook::common::record_batch_builder::options o;
  o.base_offset = offset;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  o.transactional = true;
  brook::common::record_batch_builder b(o);
  for (int i = 0; i < n; ++i) b.add(std::string("k"), std::string("v"), 1000 + offset);
  return b.build();
}
}  // namespace

TEST_CASE("producer state: transactions open at their first batch and close at their marker") {
  using brook::log::completed_txn;
  producer_state_table t;
  t.record(1, 0, {0, 1, 10, 11}, 100, /*transactional=*/true);
  t.record(2, 0, {0, 0, 12, 12}, 101, true);
  t.record(1, 0, {2, 2, 13, 13}, 102, true);  // same transaction: still open from 10
  CHECK(t.ongoing_transactions() == std::map<int64_t, int64_t>{{10, 1}, {12, 2}});
  CHECK(t.entries().at(1).current_txn_first_offset == 10);
  CHECK(t.first_unstable_offset() == 10);
  // A non-transactional batch while the transaction is open is refused (Kafka's InvalidTxnStateException).
  CHECK(t.check(1, 0, 3, 3, false).code() == kafka_error::invalid_txn_state);
  CHECK(t.check(1, 0, 3, 3, true).ok());

  REQUIRE(t.check_marker(1, 0, 5).ok());
  completed_txn expected{1, 10, 14, true};
  CHECK(t.last_stable_offset_after(expected) == 12);  // producer 2's transaction is still open
  auto done = t.record_marker(1, 0, 5, 14, /*commit=*/false, 200);
  REQUIRE(done);
  CHECK(*done == expected);
  CHECK(t.ongoing_transactions() == std::map<int64_t, int64_t>{{12, 2}});
  CHECK(t.first_unstable_offset() == 12);
  CHECK(t.entries().at(1).coordinator_epoch == 5);
  CHECK_FALSE(t.entries().at(1).current_txn_first_offset);
  CHECK(t.covered_offset() == 15);

  completed_txn second{2, 12, 15, false};
  CHECK(t.last_stable_offset_after(second) == 16);  // nothing else open: just past the marker
  CHECK(t.record_marker(2, 0, 5, 15, true, 201) == second);
  CHECK_FALSE(t.first_unstable_offset());
  // A marker with nothing open (an empty transaction) completes nothing.
  CHECK_FALSE(t.record_marker(2, 0, 5, 16, true, 202));
}

TEST_CASE("producer state: marker checks follow Kafka's epoch and coordinator epoch rules") {
  producer_state_table t;
  t.record(1, 3, {0, 0, 0, 0}, 1, true);
  CHECK(t.check_marker(1, 2, 0).code() == kafka_error::invalid_producer_epoch);
  CHECK(t.check_marker(1, 3, 0).ok());  // transaction version 0/1: the same epoch is fine
  CHECK(t.check_marker(1, 3, 0, brook::log::transaction_version_2).code() == kafka_error::invalid_producer_epoch);
  CHECK(t.check_marker(1, 4, 0, brook::log::transaction_version_2).ok());  // TV2: the bumped epoch
  CHECK(t.check_marker(77, 0, 0).ok());  // unknown producer
  // The marker takes its epoch; its cached batches go with the old epoch.
  CHECK(t.record_marker(1, 4, 6, 1, false, 2));
  CHECK(t.entries().at(1).epoch == 4);
  CHECK(t.entries().at(1).batches.empty());
  // TV2 retry of that marker (same epoch, nothing open): written again; an older coordinator is fenced.
  CHECK(t.check_marker(1, 4, 6, brook::log::transaction_version_2).ok());
  CHECK(t.check_marker(1, 4, 5).code() == kafka_error::transaction_coordinator_fenced);
  // The next transaction at the marker's epoch starts at sequence 0, as in Kafka (no batch at this epoch yet).
  CHECK(t.check(1, 4, 1, 1, true).code() == kafka_error::out_of_order_sequence_number);
  CHECK(t.check(1, 4, 0, 0, true).ok());
  t.record(1, 4, {0, 0, 2, 2}, 3, true);
  CHECK(t.check_marker(1, 4, 6, brook::log::transaction_version_2).code() == kafka_error::invalid_producer_epoch);
  // A marker for a producer with no state gives it the marker's epoch: its first batch starts at 0 too.
  CHECK(t.record_marker(8, 2, 6, 3, true, 4) == std::nullopt);
  CHECK(t.check(8, 2, 5, 5).code() == kafka_error::out_of_order_sequence_number);
  CHECK(t.check(8, 2, 0, 5).ok());
}

TEST_CASE("producer state: replay handles transactional and control batches and returns the aborts") {
  std::vector<uint8_t> log;
  auto put = [&](std::vector<uint8_t> b) { log.insert(log.end(), b.begin(), b.end()); };
  put(txn_batch_at(0, 1, 0, 0, 2));  // producer 1: 0-1
  put(txn_batch_at(2, 2, 0, 0, 1));  // producer 2: 2
  put(marker_at(3, 1, 0, false, 7));  // abort producer 1's [0, 3]; producer 2 still open from 2
  put(txn_batch_at(4, 1, 0, 2, 1));  // producer 1's next transaction: 4
  put(marker_at(5, 2, 0, true, 7));   // commit producer 2's
  put(marker_at(6, 1, 0, false, 7));  // abort producer 1's [4, 6]: nothing else open
  put(txn_batch_at(7, 3, 0, 0, 1));  // producer 3: open
  producer_state_table t;
  auto aborted = t.replay(log);
  CHECK(aborted == std::vector<brook::log::aborted_txn>{{1, 0, 3, 2}, {1, 4, 6, 7}});
  CHECK(t.ongoing_transactions() == std::map<int64_t, int64_t>{{7, 3}});
  CHECK(t.covered_offset() == 8);
  CHECK(t.entries().at(1).coordinator_epoch == 7);
}

TEST_CASE("producer state: open transactions survive the record round trip and expiry") {
  producer_state_table t;
  t.record(1, 0, {0, 0, 4, 4}, 10, true);
  t.record(2, 0, {0, 0, 5, 5}, 10, false);
  t.record_marker(3, 1, 9, 6, true, 10);
  auto record = t.to_record();
  auto back = producer_state_table::from_record(record);
  REQUIRE(back.ok());
  CHECK(back->entries() == t.entries());
  CHECK(back->ongoing_transactions() == std::map<int64_t, int64_t>{{4, 1}});
  CHECK(back->entries().at(3).coordinator_epoch == 9);
  // Version 0 carries no transaction: a record of it (defaults) opens none.
  record.producers[0].current_txn_first_offset = -1;
  CHECK(producer_state_table::from_record(record)->ongoing_transactions().empty());
  // Two transactions starting at one offset break the invariant.
  record = t.to_record();
  record.producers[1].current_txn_first_offset = 4;
  CHECK(producer_state_table::from_record(record).code() == kafka_error::kafka_storage_error);

  t.expire(1000);  // producer 1 has a transaction open: it stays
  CHECK(t.entries().count(1) == 1);
  CHECK(t.entries().count(2) == 0);
}
