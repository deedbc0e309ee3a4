// ListOffsets, in process: what a Kafka 4.4 broker without tiered storage answers for each special
// timestamp at each version (earliest, earliest local, latest, max timestamp, latest tiered, earliest
// pending upload), lookups by time, the versions each special timestamp needs, and partitions named twice.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/delete_records.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/produce.hpp"
#include "tests/common/hostile_batches.hpp"
#include "acl_test_util.hpp"
#include "group_test_util.hpp"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"  // designated batch specs

using namespace brook;
namespace proto = common::protocol;
namespace lo = proto::list_offsets;
namespace h = test::hostile;
using common::kafka_error;
using common::wire_code;

namespace {

void create_topic(test::broker_fixture& b, const std::string& name) {
  proto::create_topics::request req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = 1;
  t.replication_factor = 1;
  auto resp = b.call<proto::create_topics::response>(proto::create_topics::api_key, 5, req);
  REQUIRE(resp.topics.at(0).error_code == 0);
}

// Timestamps of records in these tests: recent, so that retention (which DeleteRecords also applies)
// keeps their segment.
int64_t a_minute_ago() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
             .count() -
         60000;
}

// Appends one single-record batch with this timestamp to t-0.
void append_at(test::broker_fixture& b, int64_t timestamp) {
  proto::produce::request req;
  req.acks = 1;
  req.timeout_ms = 10000;
  auto& t = req.topic_data.emplace_back();
  t.name = "t";
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  auto batch = h::batch({.record_count = 1, .timestamp = timestamp}, h::records(1));
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  auto resp = b.call<proto::produce::response>(proto::produce::api_key, 11, req);
  REQUIRE(resp.responses.at(0).partition_responses.at(0).error_code == 0);
}

// The answer for t-0 (or `topic`) at `timestamp`, asked at `version`.
lo::list_offsets_partition_response ask(test::broker_fixture& b, int16_t version, int64_t timestamp,
                                        const std::string& topic = "t") {
  lo::request req;
  req.replica_id = -1;
  req.timeout_ms = 1000;
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

struct expected {
  int64_t offset;
  int64_t timestamp;
  int32_t leader_epoch;
};

void check(const lo::list_offsets_partition_response& r, expected e) {
  CHECK(r.error_code == 0);
  CHECK(r.offset == e.offset);
  CHECK(r.timestamp == e.timestamp);
  CHECK(r.leader_epoch == e.leader_epoch);
}

}  // namespace

TEST_CASE("every special timestamp at v11 answers as Kafka without tiered storage", "[handlers][list_offsets]") {
  test::broker_fixture b;
  create_topic(b, "t");
  SECTION("an empty partition") {
    check(ask(b, 11, -2), {0, -1, 0});    // earliest
    check(ask(b, 11, -4), {0, -1, 0});    // earliest local: the whole log is local
    check(ask(b, 11, -1), {0, -1, 0});    // latest
    check(ask(b, 11, -3), {-1, -1, -1});  // max timestamp: no records
    check(ask(b, 11, -5), {-1, -1, -1});  // latest tiered: nothing tiered
    check(ask(b, 11, -6), {-1, -1, -1});  // earliest pending upload: nothing to upload
    check(ask(b, 11, 0), {-1, -1, -1});   // by time: no record at or after it
  }
  SECTION("three records, then the first deleted") {
    const int64_t base = a_minute_ago();
    append_at(b, base);
    append_at(b, base + 4000);
    append_at(b, base + 2000);
    check(ask(b, 11, -2), {0, -1, 0});
    check(ask(b, 11, -4), {0, -1, 0});
    check(ask(b, 11, -1), {3, -1, 0});
    check(ask(b, 11, -3), {1, base + 4000, 0});
    check(ask(b, 11, -5), {-1, -1, -1});
    check(ask(b, 11, -6), {-1, -1, -1});
    check(ask(b, 11, base + 1500), {1, base + 4000, 0});  // the first record at or after it
    check(ask(b, 11, base), {0, base, 0});
    check(ask(b, 11, base + 5000), {-1, -1, -1});

    proto::delete_records::request del;
    auto& t = del.topics.emplace_back();
    t.name = "t";
    auto& p = t.partitions.emplace_back();
    p.partition_index = 0;
    p.offset = 1;
    del.timeout_ms = 10000;
    auto deleted = b.call<proto::delete_records::response>(proto::delete_records::api_key, 2, del);
    REQUIRE(deleted.topics.at(0).partitions.at(0).error_code == 0);
    check(ask(b, 11, -2), {1, -1, 0});
    check(ask(b, 11, -4), {1, -1, 0});  // the local log starts where the log starts
    check(ask(b, 11, -1), {3, -1, 0});
  }
}

TEST_CASE("a special timestamp newer than the request's version is UNSUPPORTED_VERSION", "[handlers][list_offsets]") {
  test::broker_fixture b;
  create_topic(b, "t");
  append_at(b, a_minute_ago());
  struct when {
    int64_t timestamp;
    int16_t first_version;
  };
  for (when w : {when{-1, 1}, when{-2, 1}, when{-3, 7}, when{-4, 8}, when{-5, 9}, when{-6, 11}}) {
    INFO("timestamp " << w.timestamp);
    if (w.first_version > lo::min_version)
      CHECK(ask(b, static_cast<int16_t>(w.first_version - 1), w.timestamp).error_code ==
            wire_code(kafka_error::unsupported_version));
    for (int16_t v = w.first_version; v <= lo::max_version; ++v) CHECK(ask(b, v, w.timestamp).error_code == 0);
  }
  // Timestamps Kafka gives no meaning are refused at every version, ahead of the topic's existence.
  for (int64_t undefined : {int64_t{-7}, int64_t{-100}}) {
    INFO("timestamp " << undefined);
    CHECK(ask(b, 11, undefined).error_code == wire_code(kafka_error::unsupported_version));
    CHECK(ask(b, 11, undefined, "missing").error_code == wire_code(kafka_error::unsupported_version));
  }
  // Lookups by time need no particular version.
  CHECK(ask(b, 1, 0).offset == 0);
  auto missing = ask(b, 11, -1, "missing");
  CHECK(missing.error_code == wire_code(kafka_error::unknown_topic_or_partition));
  CHECK(missing.offset == -1);
}

TEST_CASE("a partition named twice is INVALID_REQUEST, answered once", "[handlers][list_offsets]") {
  test::broker_fixture b;
  create_topic(b, "t");
  lo::request req;
  req.replica_id = -1;
  for (int i = 0; i < 2; ++i) {
    auto& t = req.topics.emplace_back();
    t.name = "t";
    auto& p = t.partitions.emplace_back();
    p.partition_index = 0;
    p.timestamp = -1;
  }
  auto& other = req.topics.emplace_back();
  other.name = "missing";
  other.partitions.emplace_back().partition_index = 0;
  auto resp = b.call<lo::response>(lo::api_key, 11, req);
  int answers_for_t = 0;
  for (const auto& t : resp.topics)
    for (const auto& p : t.partitions) {
      if (t.name == "t") {
        ++answers_for_t;
        CHECK(p.error_code == wire_code(kafka_error::invalid_request));
        CHECK(p.offset == -1);
      } else {
        CHECK(p.error_code == wire_code(kafka_error::unknown_topic_or_partition));
      }
    }
  CHECK(answers_for_t == 1);
}

TEST_CASE("with an authorizer ListOffsets needs DESCRIBE on each topic") {
  namespace t = brook::test;
  namespace lo = brook::common::protocol::list_offsets;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "open", acl_operation::read)});  // READ implies DESCRIBE
  t::create_topic(b.client(), "open");
  t::create_topic(b.client(), "closed");
  lo::request req;
  req.replica_id = -1;
  for (const char* name : {"open", "closed"}) {
    auto& topic = req.topics.emplace_back();
    topic.name = name;
    auto& p = topic.partitions.emplace_back();
    p.partition_index = 0;
    p.timestamp = -1;
  }
  auto resp = b.call<lo::response>(lo::api_key, 7, req);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].partitions.at(0).error_code == 0);
  CHECK(resp.topics[0].partitions.at(0).offset == 0);
  CHECK(resp.topics[1].partitions.at(0).error_code ==
        brook::common::wire_code(brook::common::kafka_error::topic_authorization_failed));
}
