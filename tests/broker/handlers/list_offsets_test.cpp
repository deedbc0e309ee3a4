// ListOffsets, in process: the tiered-storage specs answered as Kafka answers them on a broker
// without remote storage.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/delete_records.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/produce.hpp"
#include "tests/common/hostile_batches.hpp"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"  // designated batch specs

using namespace brook;
namespace proto = common::protocol;
namespace lo = proto::list_offsets;
namespace h = test::hostile;

namespace {

void create_topic_with_records(test::broker_fixture& b, const std::string& name, int32_t records) {
  proto::create_topics::request create;
  auto& t = create.topics.emplace_back();
  t.name = name;
  t.num_partitions = 1;
  t.replication_factor = 1;
  REQUIRE(b.call<proto::create_topics::response>(proto::create_topics::api_key, 5, create).topics.at(0).error_code == 0);

  proto::produce::request produce;
  produce.acks = -1;
  produce.timeout_ms = 10000;
  auto& data = produce.topic_data.emplace_back();
  data.name = name;
  auto& p = data.partition_data.emplace_back();
  p.index = 0;
  auto batch = h::batch({.record_count = records, .timestamp = 1'700'000'000'000}, h::records(records));
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  auto produced = b.call<proto::produce::response>(proto::produce::api_key, 9, produce);
  REQUIRE(produced.responses.at(0).partition_responses.at(0).error_code == 0);
}

lo::list_offsets_partition_response list(test::broker_fixture& b, const std::string& topic, int64_t timestamp,
                                         int16_t version) {
  lo::request req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.timestamp = timestamp;
  auto resp = b.call<lo::response>(lo::api_key, version, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].partitions.size() == 1);
  return resp.topics[0].partitions[0];
}

}  // namespace

TEST_CASE("ListOffsets earliest-local is the log start offset without a timestamp, latest-tiered is -1") {
  test::broker_fixture b;
  create_topic_with_records(b, "tiers", 5);

  auto local = list(b, "tiers", -4, 8);
  CHECK(local.error_code == 0);
  CHECK(local.offset == 0);
  CHECK(local.timestamp == -1);
  CHECK(local.leader_epoch == 0);
  auto tiered = list(b, "tiers", -5, 9);
  CHECK(tiered.error_code == 0);
  CHECK(tiered.offset == -1);
  CHECK(tiered.timestamp == -1);
  CHECK(tiered.leader_epoch == -1);

  // After DeleteRecords the earliest local offset follows the log start, up to the end of the log.
  proto::delete_records::request del;
  del.timeout_ms = 10000;
  auto& dt = del.topics.emplace_back();
  dt.name = "tiers";
  auto& dp = dt.partitions.emplace_back();
  dp.partition_index = 0;
  dp.offset = 5;
  auto deleted = b.call<proto::delete_records::response>(proto::delete_records::api_key, 2, del);
  REQUIRE(deleted.topics.at(0).partitions.at(0).error_code == 0);
  auto after = list(b, "tiers", -4, 10);
  CHECK(after.error_code == 0);
  CHECK(after.offset == 5);
  CHECK(after.timestamp == -1);
  CHECK(after.leader_epoch == 0);
}

TEST_CASE("ListOffsets refuses the tiered-storage specs below the versions that introduced them") {
  test::broker_fixture b;
  create_topic_with_records(b, "old-clients", 1);
  CHECK(list(b, "old-clients", -4, 7).error_code == 35);  // UNSUPPORTED_VERSION
  CHECK(list(b, "old-clients", -5, 8).error_code == 35);
  CHECK(list(b, "old-clients", -4, 8).error_code == 0);
  CHECK(list(b, "old-clients", -5, 9).error_code == 0);
}
