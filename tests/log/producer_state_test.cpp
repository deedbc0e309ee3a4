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
