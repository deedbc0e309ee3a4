// Client quotas enforced end to end: a Produce over its producer_byte_rate is answered at once with
// Kafka's throttle_time_ms, then its connection is not read for that long; a Fetch over its
// consumer_byte_rate gets an answer without records; any API's request over request_percentage is
// throttled, and a long poll's wait does not count as handling time. The broker's quota clock is the
// test's.
#include <atomic>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <string>

#include "broker/broker.hpp"
#include "broker/quota/sampled_rate.hpp"
#include "broker_fixture.hpp"
#include "common/protocol/messages/alter_client_quotas.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/produce.hpp"
#include "tests/common/hostile_batches.hpp"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"  // designated batch specs

using namespace brook;
namespace proto = common::protocol;

namespace {

void quota_test_topic(test::broker_fixture& b, const std::string& name) {
  proto::create_topics::request req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = 1;
  t.replication_factor = 1;
  auto resp = b.call<proto::create_topics::response>(proto::create_topics::api_key, 5, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].error_code == 0);
}

void set_client_quota(test::broker_fixture& b, const std::string& client_id, const std::string& key, double value) {
  namespace acq = proto::alter_client_quotas;
  acq::request req;
  auto& e = req.entries.emplace_back();
  e.entity.push_back({"client-id", client_id});
  e.ops.push_back({key, value, false});
  auto resp = b.call<acq::response>(acq::api_key, 1, req);
  REQUIRE(resp.entries.size() == 1);
  REQUIRE(resp.entries[0].error_code == 0);
}

// The broker's quota manager reads `clock` from now on (set on its network thread).
void use_quota_clock(test::broker_fixture& b, std::atomic<int64_t>& clock) {
  std::promise<void> done;
  boost::asio::post(b.server().io(), [&] {
    b.server().quota_manager().set_clock([&clock] { return clock.load(); });
    done.set_value();
  });
  done.get_future().wait();
}

// Request handling time on a clock that moves 1 ms each time it is read: every slice of a request's
// handling then counts at least 1 ms, whatever the machine's speed.
std::atomic<int64_t> ticking_nanos{0};
int64_t ticking_clock() { return ticking_nanos.fetch_add(1'000'000) + 1'000'000; }

void use_request_clock(test::broker_fixture& b, brook::broker::quota::request_clock clock) {
  std::promise<void> done;
  boost::asio::post(b.server().io(), [&] {
    b.server().set_request_clock(clock);
    done.set_value();
  });
  done.get_future().wait();
}

// A fetch of partition 0 of `topic` from offset 0, for at least one byte.
proto::fetch::request quota_fetch_request(const std::string& topic, int32_t max_wait_ms, int32_t session_epoch) {
  proto::fetch::request req;
  req.replica_id = -1;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = 1;
  req.max_bytes = 1 << 20;
  req.session_epoch = session_epoch;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.fetch_offset = 0;
  p.partition_max_bytes = 1 << 20;
  return req;
}

proto::produce::request quota_produce_request(const std::string& topic, int32_t records) {
  proto::produce::request req;
  req.acks = 1;
  req.timeout_ms = 10000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  auto batch = test::hostile::batch({.record_count = records}, test::hostile::records(records));
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  return req;
}

}  // namespace

TEST_CASE("A produce over producer_byte_rate gets Kafka's throttle time and its connection is muted meanwhile",
          "[handlers][quota]") {
  test::broker_fixture b;
  std::atomic<int64_t> clock{1'000'000};
  use_quota_clock(b, clock);
  quota_test_topic(b, "metered");

  const std::string client_id = "metered-producer";
  const int16_t version = 8;  // request header v1: api key, version, correlation id, client id
  auto req = quota_produce_request("metered", 100);
  proto::writer body;
  req.encode(body, version);
  // producer_byte_rate counts the request's header and body, as Kafka's request.sizeInBytes.
  const double request_size = 2 + 2 + 4 + 2 + static_cast<double>(client_id.size()) + static_cast<double>(body.size());
  REQUIRE(request_size > 1000);
  // A new sensor spreads its first bytes over ten one-second windows: request_size / 10 B/s. A bound
  // a little under that throttles for about 300 ms.
  const double bound = std::floor(request_size / 10.0 / 1.03);
  set_client_quota(b, client_id, "producer_byte_rate", bound);
  const auto expected = broker::quota::throttle_time_ms(request_size / 10.0, bound, 10000);
  REQUIRE(expected > 100);

  auto c = b.connect(client_id);
  const auto sent = std::chrono::steady_clock::now();  // the throttle begins after this
  auto resp = c.call<proto::produce::response>(proto::produce::api_key, version, req);
  REQUIRE(resp.responses.size() == 1);
  REQUIRE(resp.responses[0].partition_responses.size() == 1);
  CHECK(resp.responses[0].partition_responses[0].error_code == 0);  // the records are appended all the same
  CHECK(resp.throttle_time_ms == expected);

  // The connection is not read until the throttle ends: the next request is answered no sooner.
  proto::api_versions::request av;
  av.client_software_name = "brook-test";
  av.client_software_version = "1";
  auto versions = c.call<proto::api_versions::response>(proto::api_versions::api_key, 3, av);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  CHECK(versions.error_code == 0);
  CHECK(waited.count() >= expected);

  // Another client is not throttled, and this one, once the throttle is over, is answered at once.
  auto other = b.connect("unmetered-producer");
  auto free_resp = other.call<proto::produce::response>(proto::produce::api_key, version, req);
  CHECK(free_resp.throttle_time_ms == 0);
}

TEST_CASE("A produce within its quota is not throttled, with the quota clock's windows", "[handlers][quota]") {
  test::broker_fixture b;
  std::atomic<int64_t> clock{0};
  use_quota_clock(b, clock);
  quota_test_topic(b, "roomy");
  set_client_quota(b, "roomy-producer", "producer_byte_rate", 1'000'000);
  auto c = b.connect("roomy-producer");
  for (int i = 0; i < 3; ++i) {
    auto resp = c.call<proto::produce::response>(proto::produce::api_key, 9, quota_produce_request("roomy", 10));
    CHECK(resp.throttle_time_ms == 0);
    clock += 1000;
  }
}

TEST_CASE("A fetch over consumer_byte_rate is answered without records and throttled", "[handlers][quota]") {
  test::broker_fixture b;
  std::atomic<int64_t> clock{0};
  use_quota_clock(b, clock);
  quota_test_topic(b, "watched");
  auto producer = b.connect("filler");
  auto produced = producer.call<proto::produce::response>(proto::produce::api_key, 9, quota_produce_request("watched", 40));
  REQUIRE(produced.responses[0].partition_responses[0].error_code == 0);
  set_client_quota(b, "slow-consumer", "consumer_byte_rate", 10);

  // A full request (epoch 0): it would open a session.
  const auto req = quota_fetch_request("watched", 0, 0);
  auto c = b.connect("slow-consumer");
  auto resp = c.call<proto::fetch::response>(proto::fetch::api_key, 12, req);
  CHECK(resp.error_code == 0);
  CHECK(resp.throttle_time_ms > 0);
  CHECK(resp.responses.empty());
  CHECK(resp.session_id == 0);  // as on Kafka, a throttled full request opens no session

  // Without a quota the same fetch returns the records.
  auto free = b.connect("fast-consumer");
  auto full = free.call<proto::fetch::response>(proto::fetch::api_key, 12, req);
  CHECK(full.throttle_time_ms == 0);
  CHECK(full.session_id != 0);
  REQUIRE(full.responses.size() == 1);
  REQUIRE(full.responses[0].partitions.size() == 1);
  REQUIRE(full.responses[0].partitions[0].records);
  CHECK_FALSE(full.responses[0].partitions[0].records->empty());
}

TEST_CASE("Any API's request over request_percentage is throttled for at most one quota window",
          "[handlers][quota]") {
  test::broker_fixture b;
  std::atomic<int64_t> clock{5'000'000};
  use_quota_clock(b, clock);
  use_request_clock(b, &ticking_clock);
  quota_test_topic(b, "listed");
  // At least 1 ms of handling is 0.1 % of a thread, over the first sample's ten seconds 0.01 %/s:
  // ten times this bound. Kafka's request quota throttles for at most quota.window.size.seconds.
  set_client_quota(b, "busy-admin", "request_percentage", 0.001);

  proto::metadata::request all_topics;
  all_topics.topics = std::nullopt;
  auto c = b.connect("busy-admin");
  const auto sent = std::chrono::steady_clock::now();
  auto meta = c.call<proto::metadata::response>(proto::metadata::api_key, 12, all_topics);
  CHECK(meta.throttle_time_ms == 1000);
  bool listed = false;
  for (const auto& t : meta.topics) listed = listed || (t.name && *t.name == "listed");
  CHECK(listed);  // answered in full all the same

  // Muted meanwhile: the next request is read only once the throttle is over.
  proto::api_versions::request av;
  av.client_software_name = "brook-test";
  av.client_software_version = "1";
  auto versions = c.call<proto::api_versions::response>(proto::api_versions::api_key, 3, av);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  CHECK(versions.error_code == 0);
  CHECK(waited.count() >= 1000);
  CHECK(versions.throttle_time_ms == 1000);  // still over its quota: the rate has not come down yet

  // Another client id has no quota and is neither metered nor throttled.
  auto other = b.connect("idle-admin");
  auto free_meta = other.call<proto::metadata::response>(proto::metadata::api_key, 12, proto::metadata::request{});
  CHECK(free_meta.throttle_time_ms == 0);
}

TEST_CASE("A fetch's long-poll wait is not counted against request_percentage", "[handlers][quota]") {
  test::broker_fixture b;
  quota_test_topic(b, "quiet");
  // Counting the 600 ms wait would be 60 % of a thread, six times this bound even spread over ten
  // seconds; the handling itself is a few milliseconds at most.
  set_client_quota(b, "patient-consumer", "request_percentage", 10);

  const auto req = quota_fetch_request("quiet", 600, -1);  // no session
  auto c = b.connect("patient-consumer");
  const auto sent = std::chrono::steady_clock::now();
  auto resp = c.call<proto::fetch::response>(proto::fetch::api_key, 12, req);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  CHECK(resp.error_code == 0);
  CHECK(waited.count() >= 600);  // it did wait for records
  CHECK(resp.throttle_time_ms == 0);
}
