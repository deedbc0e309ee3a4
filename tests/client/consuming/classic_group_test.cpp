// Classic group membership against a scripted coordinator on loopback: MEMBER_ID_REQUIRED, the
// leader running the chosen assignor over every member's subscription, SyncGroup, the listener,
// committed offsets as starting positions, and LeaveGroup on close.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "brook/client/async_consumer.hpp"
#include "client/consuming/consumer_protocol.hpp"
#include "client/core/fake_broker.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/heartbeat.hpp"
#include "common/protocol/messages/join_group.hpp"
#include "common/protocol/messages/leave_group.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
#include "common/protocol/messages/sync_group.hpp"

namespace {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;
using brook::client::async_consumer;
using brook::client::topic_partition;
using brook::test::fake_broker;
using brook::test::encoded;
using brook::test::run_until_done;
namespace consuming = brook::client::consuming;

struct coordinator_script {
  uint16_t port = 0;
  int joins = 0;
  std::vector<proto::join_group::request> join_requests;
  std::optional<proto::sync_group::request> sync_request;
  std::vector<std::string> left;
  int heartbeats = 0;

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
        t.topic_id.bytes[0] = 9;
        for (int32_t p = 0; p < 4; ++p) t.partitions.push_back({0, p, 1, 0, {1}, {1}, {}});
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
      case 11: {
        proto::join_group::request req;
        req.decode(body, h.api_version);
        join_requests.push_back(req);
        proto::join_group::response r;
        if (req.member_id.empty()) {
          r.error_code = brook::common::wire_code(brook::common::kafka_error::member_id_required);
          r.member_id = "m1";
          return reply(r);
        }
        r.generation_id = 5;
        r.protocol_type = "consumer";
        r.protocol_name = "range";
        r.leader = "m1";
        r.member_id = req.member_id;
        // Ourselves with the metadata we sent for "range", and a second member from another client.
        for (const auto& p : req.protocols)
          if (p.name == "range") r.members.push_back({"m1", std::nullopt, p.metadata});
        consuming::subscription other;
        other.topics = {"t"};
        r.members.push_back({"m2", std::nullopt, consuming::encode_subscription(other, 1)});
        return reply(r);
      }
      case 14: {
        proto::sync_group::request req;
        req.decode(body, h.api_version);
        sync_request = req;
        proto::sync_group::response r;
        r.protocol_type = "consumer";
        r.protocol_name = "range";
        for (const auto& a : req.assignments)
          if (a.member_id == req.member_id) r.assignment = a.assignment;
        return reply(r);
      }
      case 12: {
        ++heartbeats;
        return reply(proto::heartbeat::response{});
      }
      case 9: {
        // Committed offsets: 7 for t-0, none for t-1.
        proto::offset_fetch::request req;
        req.decode(body, h.api_version);
        proto::offset_fetch::response r;
        if (h.api_version >= 8) {
          proto::offset_fetch::offset_fetch_response_group g;
          g.group_id = req.groups.at(0).group_id;
          for (const auto& t : *req.groups.at(0).topics) {
            g.topics.push_back({t.name, t.topic_id, {}});  // v10+ names it by id
            for (int32_t p : t.partition_indexes)
              g.topics.back().partitions.push_back({p, p == 0 ? 7 : -1, -1, std::string("meta"), 0});
          }
          r.groups.push_back(g);
        } else {
          for (const auto& t : *req.topics) {
            r.topics.push_back({t.name, {}});
            for (int32_t p : t.partition_indexes)
              r.topics.back().partitions.push_back({p, p == 0 ? 7 : -1, -1, std::string("meta"), 0});
          }
        }
        return reply(r);
      }
      case 13: {
        proto::leave_group::request req;
        req.decode(body, h.api_version);
        for (const auto& m : req.members) left.push_back(m.member_id);
        if (h.api_version < 3) left.push_back(req.member_id);
        return reply(proto::leave_group::response{});
      }
      case 2: {  // ListOffsets: earliest is 0 everywhere
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
      case 1: {  // Fetch: nothing new
        proto::fetch::request req;
        req.decode(body, h.api_version);
        return reply(proto::fetch::response{});
      }
      default:
        return std::nullopt;
    }
  }
};

struct recorder : brook::client::rebalance_listener {
  std::vector<std::vector<topic_partition>> assigned, revoked;
  void on_partitions_assigned(const std::vector<topic_partition>& p) override { assigned.push_back(p); }
  void on_partitions_revoked(const std::vector<topic_partition>& p) override { revoked.push_back(p); }
};

}  // namespace

TEST_CASE("classic group: the leader assigns with the chosen assignor and the member starts at committed offsets") {
  asio::io_context io;
  coordinator_script script;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return script.handle(h, body); });
  script.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), {{"bootstrap.servers", "127.0.0.1:" + std::to_string(broker.port())},
                                                      {"group.id", "g"},
                                                      {"auto.offset.reset", "earliest"},
                                                      {"enable.auto.commit", "false"},
                                                      {"heartbeat.interval.ms", "100"},
                                                      {"fetch.max.wait.ms", "10"},
                                                      {"partition.assignment.strategy", "range,roundrobin"}});
  REQUIRE(c.ok());
  auto listener = std::make_shared<recorder>();
  REQUIRE((*c)->subscribe({"t"}, listener).ok());
  std::set<topic_partition> owned;
  std::optional<int64_t> position0, position1;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 10 && (*c)->assignment().empty(); ++i) (void)co_await (*c)->poll(std::chrono::milliseconds(200));
    owned = (*c)->assignment();
    const topic_partition tp0{"t", 0}, tp1{"t", 1};
    auto p0 = co_await (*c)->position(tp0);
    if (p0) position0 = *p0;
    auto p1 = co_await (*c)->position(tp1);
    if (p1) position1 = *p1;
    // Let a few heartbeats go out between polls.
    asio::steady_timer t(io, std::chrono::milliseconds(350));
    co_await t.async_wait(asio::use_awaitable);
    (void)co_await (*c)->close();
  }());
  // MEMBER_ID_REQUIRED, then the real join with the id the coordinator gave.
  REQUIRE(script.join_requests.size() == 2);
  CHECK(script.join_requests[1].member_id == "m1");
  CHECK(script.join_requests[1].protocol_type == "consumer");
  REQUIRE(script.join_requests[1].protocols.size() == 2);
  CHECK(script.join_requests[1].protocols[0].name == "range");
  CHECK(script.join_requests[1].protocols[1].name == "roundrobin");
  auto sent = consuming::decode_subscription(script.join_requests[1].protocols[0].metadata);
  REQUIRE(sent.ok());
  CHECK(sent->topics == std::vector<std::string>{"t"});
  // The leader's SyncGroup carries range's split of the four partitions between m1 and m2.
  REQUIRE(script.sync_request);
  CHECK(script.sync_request->generation_id == 5);
  std::map<std::string, std::vector<topic_partition>> given;
  for (const auto& a : script.sync_request->assignments) {
    auto decoded = consuming::decode_assignment(a.assignment);
    REQUIRE(decoded.ok());
    given[a.member_id] = decoded->partitions;
  }
  CHECK(given["m1"] == std::vector<topic_partition>{{"t", 0}, {"t", 1}});
  CHECK(given["m2"] == std::vector<topic_partition>{{"t", 2}, {"t", 3}});
  CHECK(owned == std::set<topic_partition>{{"t", 0}, {"t", 1}});
  REQUIRE_FALSE(listener->assigned.empty());
  CHECK(listener->assigned.back() == std::vector<topic_partition>{{"t", 0}, {"t", 1}});
  // The committed offset where there is one; auto.offset.reset (earliest) elsewhere.
  CHECK(position0 == std::optional<int64_t>(7));
  CHECK(position1 == std::optional<int64_t>(0));
  CHECK(script.heartbeats >= 1);
  CHECK(script.left == std::vector<std::string>{"m1"});
  REQUIRE_FALSE(listener->revoked.empty());
  CHECK(listener->revoked.back() == std::vector<topic_partition>{{"t", 0}, {"t", 1}});
}
