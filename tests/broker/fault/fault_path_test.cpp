// Fault injection through the real request path: an in-process broker, a raw protocol client, and rules
// set on broker::faults(). Errors reach the client where it reads them, delays hold one response without
// holding the broker, drops close the connection, version caps change ApiVersions, pause holds answers
// until resume, disk faults take the log's real storage-error path, and the request log records requests.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <functional>
#include <thread>

#include "broker/api_table.hpp"
#include "broker/handlers/broker_fixture.hpp"
#include "broker/handlers/group_test_util.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/produce.hpp"
#include "tests/common/hostile_batches.hpp"

using namespace brook;
namespace proto = common::protocol;
using broker::fault::fault_kind;
using broker::fault::fault_rule;
using common::kafka_error;
using common::wire_code;
using clock_type = std::chrono::steady_clock;

namespace {

fault_rule rule(fault_kind kind, int16_t api, std::optional<int32_t> count = 1) {
  fault_rule r;
  r.kind = kind;
  r.api_key = api;
  r.count = count;
  return r;
}

size_t logged(broker::broker& b, int16_t api_key) {
  size_t n = 0;
  for (const auto& r : b.faults().requests()) n += r.api_key == api_key;
  return n;
}

proto::bytes encoded(const proto::api_versions::request& req, int16_t version) {
  proto::writer w;
  req.encode(w, version);
  return w.take();
}

proto::metadata::response metadata(test::kafka_client& c) {
  proto::metadata::request req;
  req.topics = std::nullopt;
  return c.call<proto::metadata::response>(proto::metadata::api_key, 12, req);
}

proto::produce::response produce_one(test::kafka_client& c, const std::string& topic, int16_t acks) {
  proto::produce::request req;
  req.acks = acks;
  req.timeout_ms = 10000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  auto batch = test::hostile::batch({}, test::hostile::records(1));
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  auto resp = c.call<proto::produce::response>(proto::produce::api_key, 9, req);
  REQUIRE(resp.responses.size() == 1);
  REQUIRE(resp.responses[0].partition_responses.size() == 1);
  return resp;
}

int16_t produce_error(test::kafka_client& c, const std::string& topic, int16_t acks) {
  return produce_one(c, topic, acks).responses[0].partition_responses[0].error_code;
}

int64_t offset_at(test::kafka_client& c, const std::string& topic, int64_t timestamp) {
  proto::list_offsets::request req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.timestamp = timestamp;
  auto resp = c.call<proto::list_offsets::response>(proto::list_offsets::api_key, 7, req);
  REQUIRE(resp.topics.at(0).partitions.at(0).error_code == 0);
  return resp.topics[0].partitions[0].offset;
}

// The bytes of the records Fetch returns from offset 0.
size_t fetched_bytes(test::kafka_client& c, const std::string& topic) {
  proto::fetch::request req;
  req.max_wait_ms = 0;
  req.min_bytes = 0;
  req.max_bytes = 1 << 20;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.fetch_offset = 0;
  p.partition_max_bytes = 1 << 20;
  auto resp = c.call<proto::fetch::response>(proto::fetch::api_key, 12, req);
  const auto& part = resp.responses.at(0).partitions.at(0);
  REQUIRE(part.error_code == 0);
  return part.records ? part.records->size() : 0;
}

}  // namespace

TEST_CASE("an injected NOT_COORDINATOR on OffsetCommit reaches the client, and the next commit succeeds",
          "[fault][path]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  auto r = rule(fault_kind::errors, proto::offset_commit::api_key);
  r.error_code = wire_code(kafka_error::not_coordinator);
  REQUIRE(b.server().faults().add(r));
  namespace oc = proto::offset_commit;
  auto first = b.call<oc::response>(oc::api_key, 8, test::commit_request("g", "", -1, "t", 5));
  CHECK(first.topics.at(0).partitions.at(0).error_code == wire_code(kafka_error::not_coordinator));
  CHECK(test::committed_offset(b.client(), "g", "t") == -1);  // the handler did not run
  auto second = b.call<oc::response>(oc::api_key, 8, test::commit_request("g", "", -1, "t", 5));
  CHECK(second.topics.at(0).partitions.at(0).error_code == 0);
  CHECK(test::committed_offset(b.client(), "g", "t") == 5);
}

TEST_CASE("an error rule limited to one group leaves other groups' requests alone", "[fault][path]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  auto r = rule(fault_kind::errors, proto::offset_commit::api_key);
  r.error_code = wire_code(kafka_error::coordinator_load_in_progress);
  r.group = "slow";
  REQUIRE(b.server().faults().add(r));
  namespace oc = proto::offset_commit;
  auto other = b.call<oc::response>(oc::api_key, 8, test::commit_request("fast", "", -1, "t", 1));
  CHECK(other.topics.at(0).partitions.at(0).error_code == 0);
  auto named = b.call<oc::response>(oc::api_key, 8, test::commit_request("slow", "", -1, "t", 1));
  CHECK(named.topics.at(0).partitions.at(0).error_code == wire_code(kafka_error::coordinator_load_in_progress));
}

TEST_CASE("a delay holds one API's responses without holding other connections", "[fault][path]") {
  test::broker_fixture b;
  constexpr auto delay = std::chrono::milliseconds(1500);
  auto r = rule(fault_kind::delay, proto::metadata::api_key, std::nullopt);
  r.delay = delay;
  REQUIRE(b.server().faults().add(r));
  auto slow = b.connect("slow");
  auto other = b.connect("other");
  proto::metadata::request req;
  req.topics = std::nullopt;
  proto::writer w;
  req.encode(w, 12);
  auto body = w.take();
  const auto sent = clock_type::now();
  slow.send_raw(proto::metadata::api_key, 12, body);
  // Another connection is answered meanwhile: the network thread is not blocked.
  auto versions = other.call_raw(proto::api_versions::api_key, 3, encoded({"brook-test", "1.0"}, 3));
  REQUIRE(versions);
  CHECK(clock_type::now() - sent < delay);
  auto answered = slow.receive_body(proto::metadata::api_key, 12, std::chrono::seconds(10));
  REQUIRE(answered);
  CHECK(clock_type::now() - sent >= delay);
  b.server().faults().clear_rules();
  metadata(slow);  // the connection goes on serving
}

TEST_CASE("a drop rule closes the connection on receipt, once", "[fault][path]") {
  test::broker_fixture b;
  REQUIRE(b.server().faults().add(rule(fault_kind::drop, proto::metadata::api_key)));
  auto c = b.connect();
  proto::metadata::request req;
  req.topics = std::nullopt;
  proto::writer w;
  req.encode(w, 12);
  auto body = w.take();
  const auto sent = clock_type::now();
  CHECK_FALSE(c.call_raw(proto::metadata::api_key, 12, body, std::chrono::seconds(10)));
  CHECK(clock_type::now() - sent < std::chrono::seconds(10));  // closed, not merely unanswered
  auto again = b.connect();
  CHECK(metadata(again).brokers.size() == 1);
}

TEST_CASE("a version cap lowers what ApiVersions advertises until it is cleared", "[fault][path]") {
  test::broker_fixture b;
  auto cap = rule(fault_kind::version_cap, proto::produce::api_key, std::nullopt);
  cap.max_version = 7;
  REQUIRE(b.server().faults().add(cap));
  namespace av = proto::api_versions;
  auto max_of = [&](int16_t key) {
    auto resp = b.call<av::response>(av::api_key, 3, av::request{"brook-test", "1.0"});
    for (const auto& k : resp.api_keys)
      if (k.api_key == key) return k.max_version;
    return int16_t{-1};
  };
  CHECK(max_of(proto::produce::api_key) == 7);
  CHECK(max_of(proto::produce::api_key) == 7);  // not spent
  CHECK(max_of(proto::fetch::api_key) == proto::fetch::max_version);
  b.server().faults().clear_rules();
  CHECK(max_of(proto::produce::api_key) == proto::produce::max_version);
}

TEST_CASE("a paused broker accepts and reads but answers only after resume", "[fault][path]") {
  test::broker_fixture b;
  auto& faults = b.server().faults();
  auto c = b.connect();
  metadata(c);
  faults.clear_requests();
  faults.pause();
  c.send_raw(proto::api_versions::api_key, 3, encoded({"brook-test", "1.0"}, 3));
  auto late = b.connect("late");  // a new connection is accepted while paused
  late.send_raw(proto::api_versions::api_key, 3, encoded({"brook-test", "1.0"}, 3));
  REQUIRE(test::eventually([&] { return logged(b.server(), proto::api_versions::api_key) == 2; }));
  CHECK_FALSE(c.receive_body(proto::api_versions::api_key, 3, std::chrono::milliseconds(300)));
  faults.resume();
  CHECK(c.receive_body(proto::api_versions::api_key, 3, std::chrono::seconds(10)));
  CHECK(late.receive_body(proto::api_versions::api_key, 3, std::chrono::seconds(10)));
}

TEST_CASE("a paused request is answered when the broker stops", "[fault][path]") {
  test::broker_fixture b;
  auto c = b.connect();
  b.server().faults().pause();
  c.send_raw(proto::api_versions::api_key, 3, encoded({"brook-test", "1.0"}, 3));
  REQUIRE(test::eventually([&] { return logged(b.server(), proto::api_versions::api_key) == 1; }));
  const auto stopping = clock_type::now();
  b.stop();  // answers in-flight requests (or closes), however paused: it does not wait for a resume
  CHECK(clock_type::now() - stopping < std::chrono::seconds(30));
}

TEST_CASE("a full disk on append gives KAFKA_STORAGE_ERROR and keeps everything acknowledged", "[fault][path]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  REQUIRE(produce_error(b.client(), "t", 1) == 0);
  REQUIRE(produce_error(b.client(), "t", -1) == 0);
  const size_t before = fetched_bytes(b.client(), "t");
  auto disk = rule(fault_kind::disk, -1);
  disk.op = log::disk_op::append;
  disk.sys_errno = ENOSPC;
  disk.topic = "t";
  REQUIRE(b.server().faults().add(disk));
  CHECK(produce_error(b.client(), "t", -1) == wire_code(kafka_error::kafka_storage_error));
  CHECK(offset_at(b.client(), "t", -1) == 2);
  CHECK(fetched_bytes(b.client(), "t") == before);
  // A full disk is not a failed disk: once there is space, appends work again.
  CHECK(produce_error(b.client(), "t", -1) == 0);
  CHECK(offset_at(b.client(), "t", -1) == 3);
}

TEST_CASE("an fsync I/O error fails acks=all with KAFKA_STORAGE_ERROR and loses nothing acknowledged",
          "[fault][path]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  test::create_topic(b.client(), "other");
  for (int i = 0; i < 3; ++i) REQUIRE(produce_error(b.client(), "t", -1) == 0);
  auto disk = rule(fault_kind::disk, -1);
  disk.op = log::disk_op::fsync;
  disk.sys_errno = EIO;
  disk.topic = "t";
  REQUIRE(b.server().faults().add(disk));
  REQUIRE(produce_error(b.client(), "other", -1) == 0);  // another topic's fsync is not the one
  CHECK(produce_error(b.client(), "t", -1) == wire_code(kafka_error::kafka_storage_error));
  // As after a real I/O error, the log dir has failed: nothing more is acknowledged.
  CHECK(produce_error(b.client(), "t", -1) == wire_code(kafka_error::kafka_storage_error));
  b.restart();
  CHECK(offset_at(b.client(), "t", -2) == 0);
  CHECK(offset_at(b.client(), "t", -1) >= 3);  // the three acknowledged batches survived
  CHECK(produce_error(b.client(), "t", -1) == 0);
}

TEST_CASE("the request log records API, version, client id and correlation id", "[fault][path]") {
  test::broker_fixture b;
  b.server().faults().clear_requests();
  auto c = b.connect("logged-client");
  metadata(c);
  c.call_raw(proto::api_versions::api_key, 3, encoded({"brook-test", "1.0"}, 3));
  auto log = b.server().faults().requests();
  REQUIRE(log.size() == 2);
  CHECK(log[0].api_key == proto::metadata::api_key);
  CHECK(log[0].api_version == 12);
  CHECK(log[0].client_id == "logged-client");
  CHECK(log[1].api_key == proto::api_versions::api_key);
  CHECK(log[1].api_version == 3);
  CHECK(log[1].correlation_id == log[0].correlation_id + 1);
}

TEST_CASE("the request log records a request for an API Brook does not serve, then the connection closes",
          "[fault][path]") {
  test::broker_fixture b;
  b.server().faults().clear_requests();
  auto c = b.connect("telemetry-client");
  // GetTelemetrySubscriptions (KIP-714), which ApiVersions does not offer: a client that sends it anyway
  // shows up in the log, so that a test can check that clients stay quiet.
  constexpr int16_t get_telemetry_subscriptions = 71;
  REQUIRE(broker::find_api(get_telemetry_subscriptions) == nullptr);
  c.send_raw(get_telemetry_subscriptions, 0, std::vector<uint8_t>(17, 0));
  CHECK(c.closed_by_peer(std::chrono::seconds(10)));
  auto log = b.server().faults().requests();
  REQUIRE(log.size() == 1);
  CHECK(log[0].api_key == get_telemetry_subscriptions);
  CHECK(log[0].api_version == 0);
  CHECK(log[0].client_id == "telemetry-client");
}

TEST_CASE("a delayed response does not hold up the broker's stop", "[fault][path]") {
  test::broker_fixture b;
  auto r = rule(fault_kind::delay, proto::api_versions::api_key, std::nullopt);
  r.delay = std::chrono::minutes(10);
  REQUIRE(b.server().faults().add(r));
  auto c = b.connect();
  c.send_raw(proto::api_versions::api_key, 3, encoded({"brook-test", "1.0"}, 3));
  REQUIRE(test::eventually([&] { return logged(b.server(), proto::api_versions::api_key) == 1; }));
  const auto stopping = clock_type::now();
  b.stop();  // cancels the delay's timer with the connection's other waits
  CHECK(clock_type::now() - stopping < std::chrono::seconds(30));
}
