#include <catch2/catch.hpp>

#include <chrono>

#include "broker_fixture.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/delete_records.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/produce.hpp"
#include "tests/common/hostile_batches.hpp"

namespace proto = brook::common::protocol;
namespace lo = proto::list_offsets;

namespace {

constexpr int16_t unsupported_version = 35;

// A topic "t" of one partition holding three records (offsets 0-2).
void topic_with_three_records(brook::test::broker_fixture& b) {
  proto::create_topics::request create;
  auto& topic = create.topics.emplace_back();
  topic.name = "t";
  topic.num_partitions = 1;
  topic.replication_factor = 1;
  REQUIRE(b.call<proto::create_topics::response>(proto::create_topics::api_key, 5, create).topics.at(0).error_code == 0);

  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  auto section = brook::test::hostile::records(3);
  brook::test::hostile::batch_spec spec;
  spec.record_count = 3;
  spec.timestamp = now;
  auto batch = brook::test::hostile::batch(spec, brook::common::bytes_view(section.data(), section.size()));
  proto::produce::request produce;
  produce.acks = 1;
  produce.timeout_ms = 10000;
  auto& t = produce.topic_data.emplace_back();
  t.name = "t";
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  auto resp = b.call<proto::produce::response>(proto::produce::api_key, 9, produce);
  REQUIRE(resp.responses.at(0).partition_responses.at(0).error_code == 0);
}

lo::list_offsets_partition_response list(brook::test::broker_fixture& b, int16_t version, int64_t timestamp) {
  lo::request req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.timestamp = timestamp;
  auto resp = b.call<lo::response>(lo::api_key, version, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].partitions.size() == 1);
  return resp.topics[0].partitions[0];
}

}  // namespace

TEST_CASE("ListOffsets: the local log start (-4) is the log start, the latest tiered offset (-5) is none, as in Kafka without remote storage") {
  brook::test::broker_fixture b;
  topic_with_three_records(b);

  auto earliest = list(b, 8, -2);
  REQUIRE(earliest.error_code == 0);
  auto local = list(b, 8, -4);
  CHECK(local.error_code == 0);
  CHECK(local.offset == earliest.offset);
  CHECK(local.offset == 0);
  CHECK(local.timestamp == -1);
  CHECK(local.leader_epoch == earliest.leader_epoch);

  auto tiered = list(b, 9, -5);
  CHECK(tiered.error_code == 0);
  CHECK(tiered.offset == -1);
  CHECK(tiered.timestamp == -1);
  CHECK(tiered.leader_epoch == -1);

  CHECK(list(b, 10, -1).offset == 3);
}

TEST_CASE("ListOffsets refuses a special timestamp older than its version, and unknown ones, with UNSUPPORTED_VERSION") {
  brook::test::broker_fixture b;
  topic_with_three_records(b);
  struct asked {
    int16_t version;
    int64_t timestamp;
  };
  for (auto [version, timestamp] : {asked{6, -3}, asked{7, -4}, asked{8, -5}, asked{10, -6}, asked{10, -7}, asked{10, -100}}) {
    CAPTURE(version, timestamp);
    auto r = list(b, version, timestamp);
    CHECK(r.error_code == unsupported_version);
    CHECK(r.offset == -1);
  }
  for (auto [version, timestamp] : {asked{1, -1}, asked{1, -2}, asked{7, -3}, asked{8, -4}, asked{9, -5}}) {
    CAPTURE(version, timestamp);
    CHECK(list(b, version, timestamp).error_code == 0);
  }
}

TEST_CASE("ListOffsets: after DeleteRecords the local log start (-4) follows the log start") {
  brook::test::broker_fixture b;
  topic_with_three_records(b);
  proto::delete_records::request del;
  del.timeout_ms = 10000;
  auto& dt = del.topics.emplace_back();
  dt.name = "t";
  auto& dp = dt.partitions.emplace_back();
  dp.partition_index = 0;
  dp.offset = 3;
  auto deleted = b.call<proto::delete_records::response>(proto::delete_records::api_key, 2, del);
  REQUIRE(deleted.topics.at(0).partitions.at(0).error_code == 0);
  auto after = list(b, 10, -4);
  CHECK(after.error_code == 0);
  CHECK(after.offset == 3);
  CHECK(after.timestamp == -1);
  CHECK(after.leader_epoch == 0);
}
