// DescribeProducers, in process: the idempotent producers a partition remembers (id, epoch, last
// sequence and timestamp, no transaction), also after a restart, and Kafka's errors for partitions
// and topics that do not exist.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/describe_producers.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/record_batch.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace dp = proto::describe_producers;
using common::kafka_error;
using common::wire_code;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct producer_id_and_epoch {
  int64_t id;
  int16_t epoch;
};

producer_id_and_epoch init_producer(test::broker_fixture& b) {
  proto::init_producer_id::request req;
  req.transactional_id = std::nullopt;
  req.transaction_timeout_ms = 60000;
  auto resp = b.call<proto::init_producer_id::response>(proto::init_producer_id::api_key, 4, req);
  REQUIRE(resp.error_code == 0);
  return {resp.producer_id, resp.producer_epoch};
}

// One batch of `count` records from the producer (-1: not idempotent), starting at `sequence`.
void produce(test::broker_fixture& b, const std::string& topic, int32_t partition, int64_t producer_id,
             int16_t epoch, int32_t sequence, int32_t count, int64_t timestamp) {
  std::vector<uint8_t> section;
  for (int32_t i = 0; i < count; ++i) common::append_record(section, 0, 0, i, std::nullopt, common::bytes_view(), {});
  common::batch_header_fields h;
  h.last_offset_delta = count - 1;
  h.record_count = count;
  h.base_timestamp = h.max_timestamp = timestamp;
  h.producer_id = producer_id;
  h.producer_epoch = epoch;
  h.base_sequence = sequence;
  auto batch = common::encode_batch(h, section);
  proto::produce::request req;
  req.acks = -1;
  req.timeout_ms = 10000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  auto resp = b.call<proto::produce::response>(proto::produce::api_key, 9, req);
  REQUIRE(resp.responses.at(0).partition_responses.at(0).error_code == 0);
}

dp::response describe(test::broker_fixture& b, std::vector<dp::topic_request> topics) {
  dp::request req;
  req.topics = std::move(topics);
  return b.call<dp::response>(dp::api_key, 0, req);
}

}  // namespace

TEST_CASE("DescribeProducers lists each partition's idempotent producers, also after a restart",
          "[handlers][describe_producers]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 3);
  const auto first = init_producer(b);
  const auto second = init_producer(b);
  const int64_t t1 = now_ms(), t2 = t1 + 5, t3 = t1 + 9;
  produce(b, "t", 1, first.id, first.epoch, 0, 3, t1);   // sequences 0-2
  produce(b, "t", 1, first.id, first.epoch, 3, 2, t2);   // sequences 3-4
  produce(b, "t", 1, second.id, second.epoch, 0, 1, t3);
  produce(b, "t", 2, -1, -1, -1, 4, t1);  // not idempotent: no producer state

  for (int round = 0; round < 2; ++round) {
    INFO((round == 0 ? "before" : "after") << " a restart");
    auto resp = describe(b, {{"t", {0, 1, 2}}});
    REQUIRE(resp.topics.size() == 1);
    CHECK(resp.topics[0].name == "t");
    const auto& parts = resp.topics[0].partitions;
    REQUIRE(parts.size() == 3);
    for (const auto& p : parts) {
      CHECK(p.error_code == 0);
      CHECK_FALSE(p.error_message);
    }
    CHECK(parts[0].active_producers.empty());
    CHECK(parts[2].active_producers.empty());
    REQUIRE(parts[1].active_producers.size() == 2);
    const auto& a = parts[1].active_producers[0];  // in producer id order
    const auto& c = parts[1].active_producers[1];
    CHECK(a.producer_id == first.id);
    CHECK(a.producer_epoch == first.epoch);
    CHECK(a.last_sequence == 4);
    CHECK(a.last_timestamp == t2);
    CHECK(c.producer_id == second.id);
    CHECK(c.last_sequence == 0);
    CHECK(c.last_timestamp == t3);
    for (const auto& s : parts[1].active_producers) {
      CHECK(s.coordinator_epoch == -1);  // no transactions
      CHECK(s.current_txn_start_offset == -1);
    }
    b.restart();
  }
}

TEST_CASE("DescribeProducers answers missing partitions and topics, and invalid names, as Kafka does",
          "[handlers][describe_producers]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  auto resp = describe(b, {{"t", {0, 5, -1}}, {"missing", {0, 1}}, {"bad name", {0}}});
  REQUIRE(resp.topics.size() == 3);
  const auto& known = resp.topics[0].partitions;
  REQUIRE(known.size() == 3);
  CHECK(known[0].error_code == 0);
  for (size_t i : {size_t{1}, size_t{2}}) {
    CHECK(known[i].error_code == wire_code(kafka_error::unknown_topic_or_partition));
    CHECK_FALSE(known[i].error_message);
  }
  CHECK(known[1].partition_index == 5);
  const auto& missing = resp.topics[1];
  CHECK(missing.name == "missing");
  REQUIRE(missing.partitions.size() == 2);
  for (const auto& p : missing.partitions) {
    CHECK(p.error_code == wire_code(kafka_error::unknown_topic_or_partition));
    CHECK(p.error_message == "This server does not host this topic-partition.");
  }
  REQUIRE(resp.topics[2].partitions.size() == 1);
  CHECK(resp.topics[2].partitions[0].error_code == wire_code(kafka_error::invalid_topic_exception));
  CHECK(resp.topics[2].partitions[0].error_message ==
        "Topic name is invalid: 'bad name' contains one or more characters other than ASCII alphanumerics, '.', '_' "
        "and '-'");
}

TEST_CASE("producers idle for producer.id.expiration.ms are forgotten at the next expiration check, as Kafka's",
          "[handlers][describe_producers]") {
  test::broker_fixture b({"producer.id.expiration.ms=60000", "producer.id.expiration.check.interval.ms=20"});
  test::create_topic(b.client(), "t", 1);
  const auto idle = init_producer(b);
  const auto recent = init_producer(b);
  // Kafka compares the timestamp of a producer's last batch with the clock: a batch stamped two minutes
  // ago is past a one-minute expiration at once.
  produce(b, "t", 0, idle.id, idle.epoch, 0, 1, now_ms() - 120000);
  produce(b, "t", 0, recent.id, recent.epoch, 0, 1, now_ms());
  auto producers_of_t = [&] {
    std::vector<int64_t> ids;
    const auto resp = describe(b, {{"t", {0}}});
    for (const auto& s : resp.topics.at(0).partitions.at(0).active_producers) ids.push_back(s.producer_id);
    return ids;
  };
  REQUIRE(test::eventually([&] { return producers_of_t() == std::vector<int64_t>{recent.id}; }));
}

TEST_CASE("with an authorizer DescribeProducers needs READ on each topic") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "open", acl_operation::read)});
  t::create_topic(b.client(), "open");
  t::create_topic(b.client(), "closed");
  brook::common::protocol::describe_producers::request req;
  for (const char* name : {"open", "closed"}) req.topics.push_back({name, {0}});
  auto resp = b.call<brook::common::protocol::describe_producers::response>(
      brook::common::protocol::describe_producers::api_key, 0, req);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].partitions.at(0).error_code == 0);
  CHECK(resp.topics[1].partitions.at(0).error_code ==
        brook::common::wire_code(brook::common::kafka_error::topic_authorization_failed));
}
