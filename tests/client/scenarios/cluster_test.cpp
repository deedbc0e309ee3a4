// The client core against each cluster (Brook, librdkafka's mock cluster of 3 brokers, a real Kafka):
// bootstrap and metadata, a connection to every advertised broker, coordinators, and on the mock cluster
// leader moves and brokers that go down and come back.
#include <catch2/catch.hpp>

#include "client/core/cluster.hpp"
#include "client/core/io_thread.hpp"
#include "tests/client/harness/cluster_under_test.hpp"
#include "tests/support/result_string.hpp"

namespace {

using namespace brook::client::core;
using brook::test::cluster_under_test;
using brook::common::kafka_error;

cluster_options options_for(const cluster_under_test& c) {
  cluster_options o;
  auto parsed = parse_bootstrap_servers(c.bootstrap());
  REQUIRE(parsed);
  o.bootstrap = *parsed;
  o.connection.client_id = "brook-cluster-scenario";
  o.connection.request_timeout = std::chrono::seconds(10);
  o.reconnect_backoff = std::chrono::milliseconds(20);
  o.reconnect_backoff_max = std::chrono::milliseconds(200);
  return o;
}

}  // namespace

TEST_CASE("cluster: metadata from the bootstrap list names every broker and each partition's leader") {
  auto& under_test = cluster_under_test::current();
  const auto topic = under_test.unique_name("cluster-md");
  under_test.create_topic(topic, 3);

  io_thread io;
  cluster c(io.executor(), options_for(under_test));
  auto md = io.run(c.metadata_for({topic}));
  REQUIRE(md);
  CHECK((*md)->brokers.size() == static_cast<size_t>(under_test.broker_count()));
  const auto* t = (*md)->topic(topic);
  REQUIRE(t);
  CHECK(t->error == kafka_error::none);
  REQUIRE(t->partitions.size() == 3);
  for (int32_t p = 0; p < 3; ++p) {
    CHECK(t->partitions[static_cast<size_t>(p)].partition == p);
    CHECK((*md)->leader_for(topic, p).has_value());
  }

  // Every advertised broker accepts a connection and tells its API versions.
  for (const auto& [id, b] : (*md)->brokers) {
    auto conn = io.run(c.connection_to(id));
    REQUIRE(conn);
    CHECK((*conn)->node_id() == id);
    CHECK((*conn)->version_for<proto::produce::request>().has_value());
    CHECK((*conn)->version_for<proto::fetch::request>().has_value());
  }

  // A second question with the topic cached is answered from the cache.
  auto again = io.run(c.metadata_for({topic}));
  REQUIRE(again);
  CHECK(again->get() == md->get());

  // A topic that does not exist is reported so, without being created. (The mock serves Metadata up to
  // v2, which cannot ask the broker not to create it: v4 brought allow_auto_topic_creation.)
  if (under_test.kind() == brook::test::cluster_kind::mock) {
    c.close();
    return;
  }
  const auto missing = under_test.unique_name("cluster-missing");
  auto none = io.run(c.refresh_metadata(std::vector<std::string>{missing}));
  REQUIRE(none);
  const auto* mt = (*none)->topic(missing);
  REQUIRE(mt);
  CHECK(mt->error == kafka_error::unknown_topic_or_partition);
  c.close();
}

TEST_CASE("cluster: the group coordinator is found and reachable") {
  auto& under_test = cluster_under_test::current();
  io_thread io;
  cluster c(io.executor(), options_for(under_test));
  const auto group = under_test.unique_name("cluster-group");
  auto node = io.run(c.coordinator(coordinator_type::group, group));
  REQUIRE(node);
  auto conn = io.run(c.connection_to(*node));
  REQUIRE(conn);
  CHECK((*conn)->version_for<proto::join_group::request>().has_value());
  // Cached until forgotten.
  auto cached = io.run(c.coordinator(coordinator_type::group, group));
  REQUIRE(cached);
  CHECK(*cached == *node);
  c.forget_coordinator(coordinator_type::group, group);
  c.close();
}

TEST_CASE("cluster: a moved leader shows after a refresh, and a broker that was down is reconnected") {
  auto& under_test = cluster_under_test::current();
  if (!under_test.supports_faults()) BROOK_SKIP("needs a cluster that can move leaders and stop brokers (mock)");
  const auto topic = under_test.unique_name("cluster-move");
  under_test.create_topic(topic, 1);

  io_thread io;
  cluster c(io.executor(), options_for(under_test));
  auto md = io.run(c.metadata_for({topic}));
  REQUIRE(md);
  const int32_t before = *(*md)->leader_for(topic, 0);
  int32_t target = -1;
  for (const auto& [id, b] : (*md)->brokers)
    if (id != before) target = id;
  REQUIRE(target >= 0);
  under_test.set_leader(topic, 0, target);
  auto refreshed = io.run(c.refresh_metadata(std::vector<std::string>{topic}));
  REQUIRE(refreshed);
  CHECK((*refreshed)->leader_for(topic, 0) == target);

  // Down: the open connection breaks and new ones are refused; up again: the client reconnects.
  auto conn = io.run(c.connection_to(target));
  REQUIRE(conn);
  under_test.broker_down(target);
  proto::metadata::request req;
  req.topics.emplace();
  auto lost = io.run([](std::shared_ptr<connection> cn, proto::metadata::request rq) -> asio::awaitable<kafka_error> {
    auto r = co_await cn->call(rq);
    co_return r.ok() ? kafka_error::none : r.err().code;
  }(*conn, req));
  CHECK(lost == kafka_error::network_exception);
  auto refused = io.run(c.connection_to(target));
  REQUIRE_FALSE(refused);
  CHECK(refused.err().code == kafka_error::network_exception);

  under_test.broker_up(target);
  result<std::shared_ptr<connection>> back = brook::common::error{kafka_error::network_exception, "not tried"};
  for (int i = 0; i < 50 && !back; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the reconnect backoff (20-200 ms) passes
    back = io.run(c.connection_to(target));
  }
  REQUIRE(back);
  CHECK((*back)->is_open());
  c.close();
}
