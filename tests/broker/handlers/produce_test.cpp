// Produce, in process: batches that Kafka's LogValidator refuses get its error codes and record_errors
// and leave the log untouched, while the request's good partitions are appended; bombs are refused at
// their bound. v13 names topics by id; v12 is v11.
#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/produce.hpp"
#include "tests/common/hostile_batches.hpp"
#include "acl_test_util.hpp"
#include "common/record_batch.hpp"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"  // designated batch specs

using namespace brook;
namespace proto = common::protocol;
namespace pr = proto::produce;
namespace h = test::hostile;
using common::kafka_error;
using common::wire_code;

namespace {

void create_topic(test::broker_fixture& b, const std::string& name, int32_t partitions) {
  proto::create_topics::request req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  auto resp = b.call<proto::create_topics::response>(proto::create_topics::api_key, 5, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].error_code == 0);
}

int64_t log_end_offset(test::broker_fixture& b, const std::string& topic, int32_t partition) {
  proto::list_offsets::request req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = partition;
  p.timestamp = -1;
  auto resp = b.call<proto::list_offsets::response>(proto::list_offsets::api_key, 7, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].partitions.size() == 1);
  REQUIRE(resp.topics[0].partitions[0].error_code == 0);
  return resp.topics[0].partitions[0].offset;
}

// One Produce request with a batch per partition (partition i gets batches[i]).
pr::response produce(test::broker_fixture& b, const std::string& topic, const std::vector<std::vector<uint8_t>>& batches,
                     int16_t acks = 1) {
  pr::request req;
  req.acks = acks;
  req.timeout_ms = 10000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  for (size_t i = 0; i < batches.size(); ++i) {
    auto& p = t.partition_data.emplace_back();
    p.index = static_cast<int32_t>(i);
    p.records = proto::record_set(proto::bytes(batches[i].begin(), batches[i].end()));
  }
  auto resp = b.call<pr::response>(pr::api_key, 9, req);
  REQUIRE(resp.responses.size() == 1);
  REQUIRE(resp.responses[0].partition_responses.size() == batches.size());
  return resp;
}

const pr::partition_produce_response& part(const pr::response& r, size_t i) { return r.responses[0].partition_responses[i]; }

}  // namespace

TEST_CASE("malformed batches are refused with Kafka's errors and nothing is appended", "[handlers][produce]") {
  test::broker_fixture b;
  create_topic(b, "t", 1);
  struct bad_case {
    std::string name;
    std::vector<uint8_t> batch;
    kafka_error code;
    std::optional<int32_t> record_index;  // the record named in record_errors
  };
  const int32_t huge = std::numeric_limits<int32_t>::max();
  std::vector<bad_case> cases;
  cases.push_back({"count 2^31-1 over one record", h::batch({.record_count = huge}, h::records(1)),
                   kafka_error::invalid_record, 1});
  cases.push_back({"fewer records than counted", h::batch({.record_count = 3}, h::records(2)),
                   kafka_error::invalid_record, 2});
  cases.push_back({"more records than counted", h::batch({.record_count = 1}, h::records(2)),
                   kafka_error::invalid_record, std::nullopt});
  cases.push_back({"value length overruns the record",
                   h::batch({}, h::concat({h::varints({7}), {0}, h::varints({0, 0, -1, 50}), {'a', 'b'}})),
                   kafka_error::invalid_record, 0});
  cases.push_back({"6-byte varint", h::batch({}, std::vector<uint8_t>{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}),
                   kafka_error::invalid_record, 0});
  cases.push_back({"trailing bytes", h::batch({}, h::concat({h::records(1), {7, 7}})), kafka_error::invalid_record,
                   std::nullopt});
  cases.push_back({"codec bits 6", h::batch({.attributes = 6}, h::records(1)), kafka_error::unsupported_compression_type,
                   std::nullopt});
  cases.push_back({"garbage zstd", h::batch({.attributes = 4}, std::vector<uint8_t>(100, 0x5A)),
                   kafka_error::corrupt_message, std::nullopt});
  cases.push_back({"client control batch",
                   h::batch({.attributes = common::batch_layout::control_bit}, h::records(1)),
                   kafka_error::invalid_record, std::nullopt});
  for (const auto& c : cases) {
    INFO(c.name);
    auto resp = produce(b, "t", {c.batch});
    const auto& p = part(resp, 0);
    CHECK(p.error_code == wire_code(c.code));
    CHECK(p.base_offset == -1);
    REQUIRE(p.error_message);
    if (c.record_index) {
      REQUIRE(p.record_errors.size() == 1);
      CHECK(p.record_errors[0].batch_index == *c.record_index);
      CHECK(p.record_errors[0].batch_index_error_message);
    } else {
      CHECK(p.record_errors.empty());
    }
    CHECK(log_end_offset(b, "t", 0) == 0);
  }
  // The partition still takes good batches at offset 0.
  auto ok = produce(b, "t", {h::batch({.record_count = 3}, h::records(3))});
  CHECK(part(ok, 0).error_code == 0);
  CHECK(part(ok, 0).base_offset == 0);
  CHECK(log_end_offset(b, "t", 0) == 3);
}

TEST_CASE("good partitions of a request are appended next to a refused one", "[handlers][produce]") {
  test::broker_fixture b;
  create_topic(b, "t", 3);
  auto resp = produce(b, "t",
                      {h::compressed_batch(common::compression_codec::lz4, 4),
                       h::batch({.record_count = std::numeric_limits<int32_t>::max()}, h::records(1)), h::batch({.record_count = 2}, h::records(2))});
  CHECK(part(resp, 0).error_code == 0);
  CHECK(part(resp, 1).error_code == wire_code(kafka_error::invalid_record));
  CHECK(part(resp, 2).error_code == 0);
  CHECK(log_end_offset(b, "t", 0) == 4);
  CHECK(log_end_offset(b, "t", 1) == 0);
  CHECK(log_end_offset(b, "t", 2) == 2);
}

TEST_CASE("a compressed bomb is refused at its bound and the broker keeps serving", "[handlers][produce]") {
  test::broker_fixture b;  // max.message.bytes 1048588: one record may expand to that much at most
  create_topic(b, "t", 1);
  // 16 MiB of zeros behind a record that claims them as its value.
  const int32_t value = 16 << 20;
  std::vector<uint8_t> body = {0, 0, 0, 1};  // attributes, timestamp delta 0, offset delta 0, null key
  common::append_varint(body, value);
  std::vector<uint8_t> plain;
  common::append_varint(plain, static_cast<int32_t>(body.size()) + value + 1);
  plain.insert(plain.end(), body.begin(), body.end());
  plain.resize(plain.size() + value, 0);
  plain.push_back(0);  // header count
  for (auto codec : {common::compression_codec::gzip, common::compression_codec::snappy, common::compression_codec::lz4,
                     common::compression_codec::zstd}) {
    INFO(common::codec_name(codec));
    auto packed = *common::compress(codec, plain);
    REQUIRE(packed.size() < 1000000);
    auto resp = produce(b, "t", {h::batch({.attributes = static_cast<uint16_t>(codec)}, packed)});
    CHECK(part(resp, 0).error_code == wire_code(kafka_error::message_too_large));
    CHECK(log_end_offset(b, "t", 0) == 0);
  }
  CHECK(part(produce(b, "t", {h::compressed_batch(common::compression_codec::zstd, 10)}), 0).error_code == 0);
  CHECK(log_end_offset(b, "t", 0) == 10);
}

TEST_CASE("per-record refusals list every offending record", "[handlers][produce]") {
  test::broker_fixture b;
  create_topic(b, "t", 1);
  // Offset deltas 0, 3, 2: the second record is named.
  auto resp = produce(b, "t", {h::batch({.record_count = 3}, h::concat({h::record(0), h::record(3), h::record(2)}))});
  const auto& p = part(resp, 0);
  CHECK(p.error_code == wire_code(kafka_error::invalid_record));
  REQUIRE(p.record_errors.size() == 1);
  CHECK(p.record_errors[0].batch_index == 1);
  CHECK(log_end_offset(b, "t", 0) == 0);
}

namespace {
common::uuid topic_id_of(test::broker_fixture& b, const std::string& name) {
  proto::metadata::request req;
  req.topics.emplace().emplace_back().name = name;
  auto resp = b.call<proto::metadata::response>(proto::metadata::api_key, 12, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].error_code == 0);
  REQUIRE_FALSE(resp.topics[0].topic_id.is_zero());
  return resp.topics[0].topic_id;
}

pr::partition_produce_data partition_with(int32_t index, int32_t records) {
  pr::partition_produce_data p;
  p.index = index;
  auto batch = h::batch({.record_count = records}, h::records(records));
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  return p;
}
}  // namespace

TEST_CASE("v13 names topics by id: known ids are appended and answered by id, unknown ones get UNKNOWN_TOPIC_ID",
          "[handlers][produce]") {
  test::broker_fixture b;
  create_topic(b, "t", 2);
  const common::uuid id = topic_id_of(b, "t");
  const common::uuid unknown = common::uuid::random();
  pr::request req;
  req.acks = -1;
  req.timeout_ms = 10000;
  auto& known = req.topic_data.emplace_back();
  known.topic_id = id;
  known.partition_data.push_back(partition_with(0, 3));
  known.partition_data.push_back(partition_with(1, 2));
  known.partition_data.push_back(partition_with(5, 1));  // no such partition
  auto& missing = req.topic_data.emplace_back();
  missing.topic_id = unknown;
  missing.partition_data.push_back(partition_with(0, 1));
  missing.partition_data.push_back(partition_with(1, 1));
  auto& zero = req.topic_data.emplace_back();  // a client that did not know the id
  zero.partition_data.push_back(partition_with(0, 1));

  auto resp = b.call<pr::response>(pr::api_key, 13, req);
  REQUIRE(resp.responses.size() == 3);
  CHECK(resp.responses[0].topic_id == id);
  CHECK(resp.responses[0].name.empty());  // not on the wire from v13
  REQUIRE(resp.responses[0].partition_responses.size() == 3);
  CHECK(resp.responses[0].partition_responses[0].error_code == 0);
  CHECK(resp.responses[0].partition_responses[0].base_offset == 0);
  CHECK(resp.responses[0].partition_responses[1].error_code == 0);
  CHECK(resp.responses[0].partition_responses[1].base_offset == 0);
  CHECK(resp.responses[0].partition_responses[2].error_code == wire_code(kafka_error::unknown_topic_or_partition));
  for (size_t t : {size_t{1}, size_t{2}}) {
    INFO("topic entry " << t);
    CHECK(resp.responses[t].topic_id == req.topic_data[t].topic_id);
    REQUIRE(resp.responses[t].partition_responses.size() == req.topic_data[t].partition_data.size());
    for (const auto& p : resp.responses[t].partition_responses) {
      CHECK(p.error_code == wire_code(kafka_error::unknown_topic_id));
      CHECK(p.base_offset == -1);
    }
  }
  CHECK(log_end_offset(b, "t", 0) == 3);
  CHECK(log_end_offset(b, "t", 1) == 2);

  // The same topic by name at v12 goes on where v13 left it.
  auto more = produce(b, "t", {h::batch({.record_count = 1}, h::records(1))});
  CHECK(part(more, 0).base_offset == 3);
}

TEST_CASE("v12 is served as v11: topics by name, a transactional id alone changes nothing", "[handlers][produce]") {
  test::broker_fixture b;
  create_topic(b, "t", 1);
  int64_t next = 0;
  for (int16_t v : {int16_t{11}, int16_t{12}}) {
    INFO("v" << v);
    pr::request req;
    req.acks = 1;
    req.timeout_ms = 10000;
    auto& t = req.topic_data.emplace_back();
    t.name = "t";
    t.partition_data.push_back(partition_with(0, 2));
    auto resp = b.call<pr::response>(pr::api_key, v, req);
    REQUIRE(resp.responses.size() == 1);
    CHECK(resp.responses[0].name == "t");
    REQUIRE(resp.responses[0].partition_responses.size() == 1);
    CHECK(resp.responses[0].partition_responses[0].error_code == 0);
    CHECK(resp.responses[0].partition_responses[0].base_offset == next);
    next += 2;

    // As in Kafka, only transactional batches are checked against the transaction: a plain batch sent
    // with a transactional id is appended as any other.
    req.transactional_id = "tx";
    auto plain = b.call<pr::response>(pr::api_key, v, req);
    CHECK(plain.responses.at(0).partition_responses.at(0).error_code == 0);
    CHECK(plain.responses.at(0).partition_responses.at(0).base_offset == next);
    next += 2;
  }
  CHECK(log_end_offset(b, "t", 0) == 8);
}

TEST_CASE("with an authorizer Produce needs WRITE on the topic, and on the transactional id for transactional batches",
          "[handlers][produce]") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  test::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "w", acl_operation::write)});
  create_topic(b, "w", 1);
  create_topic(b, "r", 1);
  pr::request req;
  req.acks = 1;
  req.timeout_ms = 10000;
  for (const char* name : {"w", "r", "absent"}) {
    auto& entry = req.topic_data.emplace_back();
    entry.name = name;
    auto batch = h::batch({.record_count = 1}, h::records(1));
    entry.partition_data.push_back({0, proto::record_set(proto::bytes(batch.begin(), batch.end()))});
  }
  auto resp = b.call<pr::response>(pr::api_key, 9, req);
  REQUIRE(resp.responses.size() == 3);
  CHECK(resp.responses[0].partition_responses.at(0).error_code == 0);
  CHECK(resp.responses[1].partition_responses.at(0).error_code == wire_code(kafka_error::topic_authorization_failed));
  // Checked before whether the topic exists.
  CHECK(resp.responses[2].partition_responses.at(0).error_code == wire_code(kafka_error::topic_authorization_failed));

  // A transactional batch from a transactional id the principal may not WRITE.
  common::record_batch_builder::options o;
  o.producer_id = 7;
  o.producer_epoch = 0;
  o.base_sequence = 0;
  o.transactional = true;
  common::record_batch_builder builder(o);
  builder.add(std::nullopt, "v", 0);
  auto txn = builder.build();
  pr::request txn_req;
  txn_req.transactional_id = "tx";
  txn_req.acks = 1;
  txn_req.timeout_ms = 10000;
  auto& topic = txn_req.topic_data.emplace_back();
  topic.name = "w";
  topic.partition_data.push_back({0, proto::record_set(proto::bytes(txn.begin(), txn.end()))});
  auto refused = b.call<pr::response>(pr::api_key, 9, txn_req);
  CHECK(refused.responses.at(0).partition_responses.at(0).error_code ==
        wire_code(kafka_error::transactional_id_authorization_failed));
}
