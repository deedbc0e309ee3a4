// The scenario harness itself, proved with raw protocol calls on each cluster (brook, mock, kafka): the
// cluster answers, topics it creates have leaders among the brokers it advertises, unique names keep tests
// apart, and the mock's faults (leader moves, brokers down and up) show on the wire.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "tests/client/harness/cluster_under_test.hpp"

namespace {

namespace proto = brook::common::protocol;
namespace av = proto::api_versions;
namespace md = proto::metadata;
using brook::test::cluster_under_test;
using namespace std::chrono_literals;

std::set<int32_t> node_ids(const md::response& r) {
  std::set<int32_t> ids;
  for (const auto& b : r.brokers) ids.insert(b.node_id);
  return ids;
}

const md::response_topic& only_topic(const md::response& r, const std::string& name) {
  REQUIRE(r.topics.size() == 1);
  REQUIRE(r.topics[0].name == name);
  REQUIRE(r.topics[0].error_code == 0);
  return r.topics[0];
}

bool answers_api_versions(brook::test::wire_client& c) {
  auto raw = c.call_raw(av::api_key, 0, proto::bytes{}, 5s);
  if (!raw) return false;
  proto::reader r(*raw);
  av::response resp;
  resp.decode(r, 0);
  return resp.error_code == 0;
}

struct coordinator_answer {
  int16_t error_code = 0;
  int32_t node_id = -1;
};

// FindCoordinator for one key at a version that carries a single key (v1-v3), read by hand: the mock
// answers an error with a null host, which the codec's non-nullable host does not accept.
coordinator_answer find_coordinator(cluster_under_test& cluster, const std::string& key, int8_t key_type) {
  namespace fc = proto::find_coordinator;
  const int16_t version = std::min<int16_t>(cluster.version_for(fc::api_key), 3);
  REQUIRE(version >= 1);
  fc::request req;
  req.key = key;
  req.key_type = key_type;
  proto::writer w;
  req.encode(w, version);
  auto c = cluster.connect();
  auto raw = c.call_raw(fc::api_key, version, w.take());
  REQUIRE(raw);
  proto::reader r(*raw);
  const bool flexible = fc::is_flexible(version);
  r.int32();  // throttle_time_ms
  coordinator_answer answer;
  answer.error_code = r.int16();
  r.nullable_string(flexible);  // error_message
  answer.node_id = r.int32();
  return answer;
}

}  // namespace

TEST_CASE("the cluster under test answers ApiVersions") {
  auto& cluster = cluster_under_test::current();
  INFO("cluster " << cluster.name() << " at " << cluster.bootstrap());
  auto c = cluster.connect();
  auto v0 = c.call<av::response>(av::api_key, 0, av::request{});
  CHECK(v0.error_code == 0);
  auto has = [&](int16_t key) {
    return std::any_of(v0.api_keys.begin(), v0.api_keys.end(), [&](const auto& k) { return k.api_key == key; });
  };
  CHECK(has(av::api_key));
  CHECK(has(md::api_key));

  // The newest version both sides speak answers too (v3+ is flexible, with tagged fields).
  const int16_t newest = cluster.version_for(av::api_key);
  REQUIRE(newest >= 0);
  av::request req;
  req.client_software_name = "brook-scenario-test";
  req.client_software_version = BROOK_VERSION;
  auto resp = c.call<av::response>(av::api_key, newest, req);
  CHECK(resp.error_code == 0);
  CHECK(resp.api_keys.size() == v0.api_keys.size());
}

TEST_CASE("a created topic has a leader for every partition among the advertised brokers") {
  auto& cluster = cluster_under_test::current();
  const std::string topic = cluster.unique_name("harness-leaders");
  cluster.create_topic(topic, 3);

  auto r = cluster.metadata({topic});
  CHECK(r.brokers.size() == static_cast<size_t>(cluster.broker_count()));
  const auto brokers = node_ids(r);
  const auto& t = only_topic(r, topic);
  REQUIRE(t.partitions.size() == 3);
  std::set<int32_t> indexes;
  for (const auto& p : t.partitions) {
    indexes.insert(p.partition_index);
    CHECK(p.error_code == 0);
    CHECK(brokers.count(p.leader_id) == 1);
  }
  CHECK(indexes == std::set<int32_t>{0, 1, 2});
  // Every advertised broker accepts a connection and answers.
  for (const auto& b : cluster.brokers()) {
    auto c = brook::test::wire_client::try_connect(b.host, b.port);
    REQUIRE(c);
    CHECK(answers_api_versions(*c));
  }
}

TEST_CASE("unique names keep the topics of tests apart") {
  auto& cluster = cluster_under_test::current();
  const std::string a = cluster.unique_name("harness-unique");
  const std::string b = cluster.unique_name("harness-unique");
  REQUIRE(a != b);
  cluster.create_topic(a, 1);
  cluster.create_topic(b, 2);
  CHECK(only_topic(cluster.metadata({a}), a).partitions.size() == 1);
  CHECK(only_topic(cluster.metadata({b}), b).partitions.size() == 2);
}

TEST_CASE("a topic is created with configs") {
  auto& cluster = cluster_under_test::current();
  if (cluster.kind() == brook::test::cluster_kind::mock) BROOK_SKIP("the mock cluster has no topic configs");
  const std::string topic = cluster.unique_name("harness-configs");
  cluster.create_topic(topic, 1, {{"retention.ms", "3600000"}, {"cleanup.policy", "delete"}});
  CHECK(only_topic(cluster.metadata({topic}), topic).partitions.size() == 1);
}

TEST_CASE("set_leader moves a partition's leader, as Metadata shows") {
  auto& cluster = cluster_under_test::current();
  if (!cluster.supports_faults()) BROOK_SKIP(std::string("the ") + std::string(cluster.name()) + " cluster cannot move leaders");
  const std::string topic = cluster.unique_name("harness-move");
  cluster.create_topic(topic, 2);
  const int32_t before = cluster.leader_of(topic, 1);
  const int32_t after = before % cluster.broker_count() + 1;
  cluster.set_leader(topic, 1, after);
  CHECK(cluster.leader_of(topic, 1) == after);
  cluster.set_leader(topic, 1, before);
  CHECK(cluster.leader_of(topic, 1) == before);
}

TEST_CASE("a broker that is down refuses connections until it is up again") {
  auto& cluster = cluster_under_test::current();
  if (!cluster.supports_faults()) BROOK_SKIP(std::string("the ") + std::string(cluster.name()) + " cluster cannot take a broker down");
  const auto brokers = cluster.brokers();
  REQUIRE(brokers.size() == 3);
  const auto& victim = brokers[1];
  auto open = brook::test::wire_client::try_connect(victim.host, victim.port);
  REQUIRE(open);
  REQUIRE(answers_api_versions(*open));

  cluster.broker_down(victim.node_id);
  // Its connections are closed and new ones refused; the other brokers still answer.
  CHECK(open->closed_by_peer(5s));
  CHECK_FALSE(brook::test::wire_client::try_connect(victim.host, victim.port, "down-test", 2s));
  for (const auto& b : brokers) {
    if (b.node_id == victim.node_id) continue;
    auto c = brook::test::wire_client::try_connect(b.host, b.port);
    REQUIRE(c);
    CHECK(answers_api_versions(*c));
  }

  cluster.broker_up(victim.node_id);
  auto again = brook::test::wire_client::try_connect(victim.host, victim.port);
  REQUIRE(again);
  CHECK(answers_api_versions(*again));
}

TEST_CASE("set_coordinator pins the coordinator of a group and of a transactional id") {
  auto& cluster = cluster_under_test::current();
  if (!cluster.supports_faults()) BROOK_SKIP(std::string("the ") + std::string(cluster.name()) + " cluster cannot pin coordinators");
  const std::string group = cluster.unique_name("harness-group");
  for (int32_t broker : {2, 3, 1}) {
    cluster.set_coordinator("group", group, broker);
    auto answer = find_coordinator(cluster, group, 0);
    CHECK(answer.error_code == 0);
    CHECK(answer.node_id == broker);
  }
  const std::string transactional_id = cluster.unique_name("harness-txn");
  cluster.set_coordinator("txn", transactional_id, 3);
  auto answer = find_coordinator(cluster, transactional_id, 1);
  CHECK(answer.error_code == 0);
  CHECK(answer.node_id == 3);
}

TEST_CASE("push_request_errors fails the next requests of an API with the given codes") {
  auto& cluster = cluster_under_test::current();
  if (!cluster.supports_faults()) BROOK_SKIP(std::string("the ") + std::string(cluster.name()) + " cluster cannot inject errors");
  const std::string group = cluster.unique_name("harness-errors");
  const int16_t coordinator_not_available = 15, not_coordinator = 16;
  cluster.push_request_errors(proto::find_coordinator::api_key, {coordinator_not_available, not_coordinator});
  CHECK(find_coordinator(cluster, group, 0).error_code == coordinator_not_available);
  CHECK(find_coordinator(cluster, group, 0).error_code == not_coordinator);
  auto answer = find_coordinator(cluster, group, 0);
  CHECK(answer.error_code == 0);
  CHECK(answer.node_id >= 1);
}
