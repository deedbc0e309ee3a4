// KIP-848 membership (group.protocol=consumer) against a scripted coordinator on loopback: joining at
// epoch 0, assignments by topic id, revoke-then-assign reconciliation acknowledged by the next
// heartbeat, fencing, and leaving with epoch -1 (or -2 for a static member).
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "brook/client/async_consumer.hpp"
#include "client/core/fake_broker.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/offset_fetch.hpp"

namespace {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;
namespace cgh = proto::consumer_group_heartbeat;
using brook::client::async_consumer;
using brook::client::topic_partition;
using brook::test::fake_broker;
using brook::test::encoded;
using brook::test::run_until_done;

brook::common::uuid group_topic_id() {
  brook::common::uuid id;
  id.bytes[0] = 5;
  return id;
}

struct heartbeat_script {
  uint16_t port = 0;
  std::vector<cgh::request> heartbeats;
  // The target assignment the coordinator hands out, by heartbeat number (from 0); nullopt: unchanged.
  std::function<std::optional<std::vector<int32_t>>(size_t)> target;
  std::function<int16_t(size_t)> error = [](size_t) { return int16_t{0}; };

  std::optional<fake_broker::reply> handle(const proto::request_header& h, proto::reader& body) {
    auto reply = [&](const auto& message) { return fake_broker::reply{encoded(message, h.api_version), std::nullopt}; };
    switch (h.api_key) {
      case 18:
        return fake_broker::reply{fake_broker::api_versions_body(h.api_version), std::nullopt};
      case 3: {
        proto::metadata::response r;
        r.brokers.push_back({1, "127.0.0.1", port, std::nullopt});
        proto::metadata::response_topic t;
        t.name = "t";
        t.topic_id = group_topic_id();
        for (int32_t p = 0; p < 2; ++p) t.partitions.push_back({0, p, 1, 0, {1}, {1}, {}});
        r.topics.push_back(t);
        return reply(r);
      }
      case 10: {
        proto::find_coordinator::request req;
        req.decode(body, h.api_version);
        proto::find_coordinator::response r;
        r.node_id = 1;
        r.host = "127.0.0.1";
        r.port = port;
        for (const auto& key : req.coordinator_keys) r.coordinators.push_back({key, 1, "127.0.0.1", port, 0, std::nullopt});
        return reply(r);
      }
      case 68: {
        cgh::request req;
        req.decode(body, h.api_version);
        const size_t n = heartbeats.size();
        heartbeats.push_back(req);
        cgh::response r;
        r.error_code = error(n);
        if (r.error_code != 0) return reply(r);
        r.member_id = req.member_id;
        r.member_epoch = req.member_epoch < 0 ? req.member_epoch : static_cast<int32_t>(n + 1);
        r.heartbeat_interval_ms = 50;
        if (auto partitions = target(n)) {
          cgh::member_assignment a;
          a.topic_partitions.push_back({group_topic_id(), *partitions});
          r.assignment = a;
        }
        return reply(r);
      }
      case 9: {  // no committed offsets
        proto::offset_fetch::request req;
        req.decode(body, h.api_version);
        proto::offset_fetch::response r;
        proto::offset_fetch::offset_fetch_response_group g;
        g.group_id = req.groups.at(0).group_id;
        for (const auto& t : *req.groups.at(0).topics) {
          g.topics.push_back({t.name, t.topic_id, {}});  // v10+ names it by id
          for (int32_t p : t.partition_indexes) g.topics.back().partitions.push_back({p, -1, -1, std::nullopt, 0});
        }
        r.groups.push_back(g);
        return reply(r);
      }
      case 2: {
        proto::list_offsets::request req;
        req.decode(body, h.api_version);
        proto::list_offsets::response r;
        for (const auto& t : req.topics) {
          r.topics.push_back({t.name, {}});
          for (const auto& p : t.partitions) {
            proto::list_offsets::list_offsets_partition_response pr;
            pr.partition_index = p.partition_index;
            pr.offset = 0;
            r.topics.back().partitions.push_back(pr);
          }
        }
        return reply(r);
      }
      case 1: {
        proto::fetch::request req;
        req.decode(body, h.api_version);
        return reply(proto::fetch::response{});
      }
      default:
        return std::nullopt;
    }
  }
};

struct rebalance_recorder : brook::client::rebalance_listener {
  std::vector<std::vector<topic_partition>> assigned, revoked, lost;
  void on_partitions_assigned(const std::vector<topic_partition>& p) override { assigned.push_back(p); }
  void on_partitions_revoked(const std::vector<topic_partition>& p) override { revoked.push_back(p); }
  void on_partitions_lost(const std::vector<topic_partition>& p) override { lost.push_back(p); }
};

brook::client::properties group_props(uint16_t port, std::map<std::string, std::string> extra = {}) {
  extra.emplace("bootstrap.servers", "127.0.0.1:" + std::to_string(port));
  extra.emplace("group.id", "g");
  extra.emplace("group.protocol", "consumer");
  extra.emplace("group.remote.assignor", "uniform");
  extra.emplace("enable.auto.commit", "false");
  extra.emplace("fetch.max.wait.ms", "10");
  return brook::client::properties(extra.begin(), extra.end());
}

asio::awaitable<void> poll_a_while(async_consumer& c, int polls) {
  for (int i = 0; i < polls; ++i) (void)co_await c.poll(std::chrono::milliseconds(60));
}

std::vector<int32_t> owned_partitions(const cgh::request& r) {
  std::vector<int32_t> out;
  if (r.topic_partitions)
    for (const auto& t : *r.topic_partitions) out.insert(out.end(), t.partitions.begin(), t.partitions.end());
  return out;
}

}  // namespace

TEST_CASE("consumer protocol: join at epoch 0, take the assignment, revoke before letting go, leave with -1") {
  asio::io_context io;
  heartbeat_script s;
  s.target = [](size_t n) -> std::optional<std::vector<int32_t>> {
    if (n == 0) return std::vector<int32_t>{0, 1};
    if (n == 8) return std::vector<int32_t>{0};  // partition 1 moves to another member
    return std::nullopt;
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return s.handle(h, body); });
  s.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), group_props(broker.port()));
  REQUIRE(c.ok());
  auto listener = std::make_shared<rebalance_recorder>();
  REQUIRE((*c)->subscribe({"t"}, listener).ok());
  std::set<topic_partition> first, later;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await poll_a_while(**c, 1);  // the first poll joins
    first = (*c)->assignment();
    co_await poll_a_while(**c, 25);
    later = (*c)->assignment();
    (void)co_await (*c)->close();
  }());
  REQUIRE(s.heartbeats.size() >= 10);
  const auto& join = s.heartbeats[0];
  CHECK(join.member_epoch == 0);
  CHECK_FALSE(join.member_id.empty());  // the member names itself (KIP-1082)
  CHECK(join.subscribed_topic_names == std::optional<std::vector<std::string>>(std::vector<std::string>{"t"}));
  CHECK(join.server_assignor == std::optional<std::string>("uniform"));
  CHECK(join.rebalance_timeout_ms == 300000);
  CHECK(first == std::set<topic_partition>{{"t", 0}, {"t", 1}});
  // The heartbeat after the assignment acknowledges it with the member's epoch.
  CHECK(s.heartbeats[1].member_epoch == 1);
  CHECK(owned_partitions(s.heartbeats[1]) == std::vector<int32_t>{0, 1});
  CHECK(later == std::set<topic_partition>{{"t", 0}});
  CHECK(owned_partitions(s.heartbeats[9]) == std::vector<int32_t>{0});  // the revocation acknowledged
  REQUIRE(listener->revoked.size() >= 1);
  CHECK(listener->revoked[0] == std::vector<topic_partition>{{"t", 1}});
  // Leaving: epoch -1 for a dynamic member.
  CHECK(s.heartbeats.back().member_epoch == -1);
  CHECK(s.heartbeats.back().member_id == join.member_id);
}

TEST_CASE("consumer protocol: a fenced member loses its partitions and rejoins at epoch 0, static members leave with -2") {
  asio::io_context io;
  heartbeat_script s;
  s.target = [](size_t n) -> std::optional<std::vector<int32_t>> {
    if (n == 0 || n == 3) return std::vector<int32_t>{0, 1};
    return std::nullopt;
  };
  s.error = [](size_t n) { return n == 2 ? brook::common::wire_code(brook::common::kafka_error::fenced_member_epoch) : int16_t{0}; };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return s.handle(h, body); });
  s.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), group_props(broker.port(), {{"group.instance.id", "static-1"}}));
  REQUIRE(c.ok());
  auto listener = std::make_shared<rebalance_recorder>();
  REQUIRE((*c)->subscribe({"t"}, listener).ok());
  std::set<topic_partition> end;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await poll_a_while(**c, 15);
    end = (*c)->assignment();
    (void)co_await (*c)->close();
  }());
  REQUIRE(s.heartbeats.size() >= 5);
  CHECK(s.heartbeats[0].instance_id == std::optional<std::string>("static-1"));
  CHECK(s.heartbeats[3].member_epoch == 0);  // rejoined after the fence
  REQUIRE_FALSE(listener->lost.empty());
  CHECK(listener->lost[0] == std::vector<topic_partition>{{"t", 0}, {"t", 1}});
  CHECK(end == std::set<topic_partition>{{"t", 0}, {"t", 1}});
  CHECK(s.heartbeats.back().member_epoch == -2);
}
