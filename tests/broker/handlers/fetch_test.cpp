#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "group_test_util.hpp"
#include "common/protocol/messages/fetch.hpp"
#include <chrono>
#include "common/error.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/produce.hpp"
#include "tests/common/hostile_batches.hpp"
#include "acl_test_util.hpp"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"  // designated batch specs

namespace proto = brook::common::protocol;
namespace fe = proto::fetch;

namespace {
constexpr int16_t version = 12;  // sessions, topics by name

fe::request fetch_of(int32_t session_id, int32_t epoch, int32_t max_wait_ms, bool name_partition) {
  fe::request req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = 1;
  req.session_id = session_id;
  req.session_epoch = epoch;
  if (name_partition) {
    auto& t = req.topics.emplace_back();
    t.topic = "t";
    auto& p = t.partitions.emplace_back();
    p.partition = 0;
    p.fetch_offset = 0;
    p.partition_max_bytes = 1 << 20;
  }
  return req;
}

proto::bytes encode(const fe::request& req) {
  proto::writer w;
  req.encode(w, version);
  return w.take();
}
}  // namespace

// Build with -fsanitize=address: before the session was held by the request, the parked fetch read
// (and wrote) the session a reconnecting consumer had freed meanwhile.
TEST_CASE("a fetch session freed by a reconnecting consumer during a long poll is not used by the parked fetch") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "t");

  auto consumer = b.connect();
  auto full = consumer.call<fe::response>(fe::api_key, version, fetch_of(0, 0, 0, true));
  REQUIRE(full.error_code == 0);
  const int32_t session = full.session_id;
  REQUIRE(session > 0);

  // An incremental fetch of the session parks: nothing to read yet.
  consumer.send_raw(fe::api_key, version, encode(fetch_of(session, 1, 1000, false)));
  // The consumer reconnects and starts over on the old id: the session is freed and replaced.
  auto reconnected = b.connect();
  auto fresh = reconnected.call<fe::response>(fe::api_key, version, fetch_of(session, 0, 0, true));
  REQUIRE(fresh.error_code == 0);
  CHECK(fresh.session_id != session);

  auto parked = consumer.receive_body(fe::api_key, version, std::chrono::seconds(5));
  REQUIRE(parked);
  proto::reader r(*parked);
  fe::response resp;
  resp.decode(r, version);
  CHECK(resp.error_code == 0);
  CHECK(resp.session_id == 0);  // answered without the session it no longer has
  // The replacement session is intact and usable.
  auto next = reconnected.call<fe::response>(fe::api_key, version, fetch_of(fresh.session_id, 1, 0, false));
  CHECK(next.error_code == 0);
  CHECK(next.session_id == fresh.session_id);
}

// kgo gives up its session after an answer without one and then fetches with the final epoch (-1)
// and its old session id for good: refusing that with FETCH_SESSION_ID_NOT_FOUND kept such a consumer
// from ever fetching again. Kafka closes the named session if it still exists and answers regardless.
TEST_CASE("a full fetch naming a session that no longer exists is answered, as Kafka does, an incremental one is not") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "t");
  constexpr int16_t not_found = 70, invalid_epoch = 71;  // FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH

  auto opened = b.call<fe::response>(fe::api_key, version, fetch_of(0, 0, 0, true));
  REQUIRE(opened.error_code == 0);
  const int32_t first = opened.session_id;
  REQUIRE(first > 0);

  auto closed = b.call<fe::response>(fe::api_key, version, fetch_of(first, -1, 0, true));  // closes it
  CHECK(closed.error_code == 0);
  CHECK(closed.session_id == 0);
  auto again = b.call<fe::response>(fe::api_key, version, fetch_of(first, -1, 0, true));  // gone: sessionless
  CHECK(again.error_code == 0);
  CHECK(again.session_id == 0);
  REQUIRE(again.responses.size() == 1);
  CHECK(again.responses[0].partitions.at(0).error_code == 0);

  auto reopened = b.call<fe::response>(fe::api_key, version, fetch_of(first, 0, 0, true));  // gone: a new one
  CHECK(reopened.error_code == 0);
  const int32_t second = reopened.session_id;
  CHECK(second > 0);
  CHECK(second != first);

  CHECK(b.call<fe::response>(fe::api_key, version, fetch_of(first, 1, 0, false)).error_code == not_found);
  CHECK(b.call<fe::response>(fe::api_key, version, fetch_of(0, 1, 0, false)).error_code == not_found);
  CHECK(b.call<fe::response>(fe::api_key, version, fetch_of(second, 5, 0, false)).error_code == invalid_epoch);
  auto incremental = b.call<fe::response>(fe::api_key, version, fetch_of(second, 1, 0, false));
  CHECK(incremental.error_code == 0);
  CHECK(incremental.session_id == second);
}

// v18 adds the high watermark a follower knows (KIP-1166). Kafka's KRaft controllers answer a parked
// fetch at once when it is behind theirs; its brokers, like this one, ignore it.
TEST_CASE("Fetch v18 is served as v17: by topic id, with a follower's high watermark ignored") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "t");
  proto::metadata::request md;
  md.topics.emplace().emplace_back().name = "t";
  const auto id = b.call<proto::metadata::response>(proto::metadata::api_key, 12, md).topics.at(0).topic_id;
  REQUIRE_FALSE(id.is_zero());

  proto::produce::request produce;
  produce.acks = 1;
  produce.timeout_ms = 10000;
  auto& pt = produce.topic_data.emplace_back();
  pt.topic_id = id;
  auto& pp = pt.partition_data.emplace_back();
  pp.index = 0;
  auto batch = brook::test::hostile::batch({.record_count = 3}, brook::test::hostile::records(3));
  pp.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  REQUIRE(b.call<proto::produce::response>(proto::produce::api_key, 13, produce)
              .responses.at(0).partition_responses.at(0).error_code == 0);

  auto fetch_at = [&](int64_t offset, int32_t max_wait_ms, brook::common::uuid topic_id) {
    fe::request req;
    req.max_wait_ms = max_wait_ms;
    req.min_bytes = 1;
    req.session_epoch = -1;  // no session
    auto& t = req.topics.emplace_back();
    t.topic_id = topic_id;
    auto& p = t.partitions.emplace_back();
    p.partition = 0;
    p.fetch_offset = offset;
    p.partition_max_bytes = 1 << 20;
    p.high_watermark = 0;  // what a follower that knows nothing yet would say
    return b.call<fe::response>(fe::api_key, 18, req);
  };
  auto read = fetch_at(0, 0, id);
  CHECK(read.error_code == 0);
  REQUIRE(read.responses.size() == 1);
  CHECK(read.responses[0].topic_id == id);
  REQUIRE(read.responses[0].partitions.size() == 1);
  const auto& part = read.responses[0].partitions[0];
  CHECK(part.error_code == 0);
  CHECK(part.high_watermark == 3);
  REQUIRE(part.records);
  CHECK(part.records->size() == batch.size());

  // At the end of the log the request waits for data as any consumer's would: the follower's lower
  // high watermark does not answer it early.
  const auto started = std::chrono::steady_clock::now();
  auto parked = fetch_at(3, 300, id);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(250));
  REQUIRE(parked.responses.size() == 1);
  CHECK(parked.responses[0].partitions.at(0).error_code == 0);
  CHECK(parked.responses[0].partitions.at(0).high_watermark == 3);

  auto unknown = fetch_at(0, 0, brook::common::uuid::random());
  REQUIRE(unknown.responses.size() == 1);
  CHECK(unknown.responses[0].partitions.at(0).error_code ==
        brook::common::wire_code(brook::common::kafka_error::unknown_topic_id));
}

// A Java consumer's close() ends its fetch session with a final (-1 epoch) request naming no partition,
// and waits for the answer: parked for max_wait_ms, that added half a second to every close (a Kafka
// Streams thread closes two consumers). Kafka answers a request with nothing to read at once.
TEST_CASE("a fetch with no partition to read is answered at once, not after max_wait_ms, as Kafka does") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "t");
  constexpr int32_t long_wait = 5000;
  auto quick = [&](const fe::request& req) {
    const auto started = std::chrono::steady_clock::now();
    auto resp = b.call<fe::response>(fe::api_key, version, req);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(long_wait / 2));
    return resp;
  };

  // A session with the partition, at the end of the empty log: closing it names no partition.
  auto opened = b.call<fe::response>(fe::api_key, version, fetch_of(0, 0, 0, true));
  REQUIRE(opened.error_code == 0);
  REQUIRE(opened.session_id > 0);
  auto closed = quick(fetch_of(opened.session_id, -1, long_wait, false));
  CHECK(closed.error_code == 0);
  CHECK(closed.session_id == 0);
  CHECK(closed.responses.empty());

  // Without a session, and a new session of no partition and its incremental request.
  CHECK(quick(fetch_of(0, -1, long_wait, false)).responses.empty());
  auto empty = quick(fetch_of(0, 0, long_wait, false));
  REQUIRE(empty.error_code == 0);
  REQUIRE(empty.session_id > 0);
  auto incremental = quick(fetch_of(empty.session_id, 1, long_wait, false));
  CHECK(incremental.error_code == 0);
  CHECK(incremental.session_id == empty.session_id);

  // What has a partition to read still waits for data.
  const auto started = std::chrono::steady_clock::now();
  auto parked = b.call<fe::response>(fe::api_key, version, fetch_of(0, -1, 300, true));
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(250));
  REQUIRE(parked.responses.size() == 1);
  CHECK(parked.responses[0].partitions.at(0).error_code == 0);
}

TEST_CASE("with an authorizer Fetch reads only topics the principal may READ") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "readable", acl_operation::read)});
  t::create_topic(b.client(), "readable");
  t::create_topic(b.client(), "secret");
  fe::request req;
  req.max_wait_ms = 0;
  req.min_bytes = 1;
  req.session_id = 0;
  req.session_epoch = 0;
  for (const char* name : {"readable", "secret"}) {
    auto& topic = req.topics.emplace_back();
    topic.topic = name;
    topic.partitions.push_back({});
    topic.partitions.back().partition = 0;
    topic.partitions.back().fetch_offset = 0;
    topic.partitions.back().partition_max_bytes = 1 << 20;
  }
  auto resp = b.call<fe::response>(fe::api_key, version, req);
  REQUIRE(resp.responses.size() == 2);
  CHECK(resp.responses[0].topic == "readable");
  CHECK(resp.responses[0].partitions.at(0).error_code == 0);
  CHECK(resp.responses[1].topic == "secret");
  CHECK(resp.responses[1].partitions.at(0).error_code ==
        brook::common::wire_code(brook::common::kafka_error::topic_authorization_failed));
  // As in Kafka, the refused partition stays in the session: once READ is granted, the next incremental
  // fetch reads it.
  REQUIRE(resp.session_id > 0);
  auto still = b.call<fe::response>(fe::api_key, version, fetch_of(resp.session_id, 1, 0, false));
  REQUIRE(still.responses.size() == 1);
  CHECK(still.responses[0].topic == "secret");
  CHECK(still.responses[0].partitions.at(0).error_code ==
        brook::common::wire_code(brook::common::kafka_error::topic_authorization_failed));
  t::grant(b, {t::allowing(resource_type::topic, "secret", acl_operation::read)});
  auto next = b.call<fe::response>(fe::api_key, version, fetch_of(resp.session_id, 2, 0, false));
  CHECK(next.error_code == 0);
  REQUIRE(next.responses.size() == 1);
  CHECK(next.responses[0].topic == "secret");
  CHECK(next.responses[0].partitions.at(0).error_code == 0);
}
