// The admin client against scripted brokers: where each request goes (the coordinator, each partition's
// leader), which errors are retried and which are an item's answer, messages that name the item, and
// the call's timeout.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "brook/client/admin.hpp"
#include "client/admin/engine.hpp"
#include "common/protocol/messages/consumer_group_describe.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/describe_groups.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/offset_commit.hpp"
#include "common/protocol/messages/offset_delete.hpp"
#include "tests/client/core/fake_broker.hpp"

namespace {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;
using namespace brook::client;
using brook::test::fake_broker;
using brook::test::encoded;
using brook::test::run_until_done;

// Runs `task` on `io` until it finishes (or fails the test after 20 s of wall time).
// The brokers of a scripted cluster, by node id, and what each was asked.
struct scripted_cluster {
  std::map<int32_t, uint16_t> ports;
  std::map<std::string, int32_t> leaders;  // "topic-partition" -> node
  std::map<std::string, int> partitions;   // topic -> count
  std::vector<std::pair<int32_t, int16_t>> asked;  // (node, api key), in order

  proto::bytes metadata(const proto::request_header& h, proto::reader& body) {
    proto::metadata::request req;
    req.decode(body, h.api_version);
    proto::metadata::response r;
    for (const auto& [id, port] : ports) {
      proto::metadata::response_broker b;
      b.node_id = id;
      b.host = "127.0.0.1";
      b.port = port;
      r.brokers.push_back(b);
    }
    r.controller_id = ports.begin()->first;
    r.cluster_id = "scripted";
    if (req.topics) {
      for (const auto& t : *req.topics) {
        proto::metadata::response_topic rt;
        rt.name = t.name;
        auto count = partitions.find(t.name.value_or(""));
        if (count == partitions.end()) {
          rt.error_code = brook::common::wire_code(kafka_error::unknown_topic_or_partition);
        } else {
          for (int p = 0; p < count->second; ++p) {
            proto::metadata::response_partition rp;
            rp.partition_index = p;
            rp.leader_id = leaders.at(t.name.value_or("") + "-" + std::to_string(p));
            rp.leader_epoch = 1;
            rp.replica_nodes = {rp.leader_id};
            rp.isr_nodes = {rp.leader_id};
            rt.partitions.push_back(rp);
          }
        }
        r.topics.push_back(std::move(rt));
      }
    }
    return encoded(r, h.api_version);
  }
};

admin_properties props_for(uint16_t port, std::string timeout_ms = "5000") {
  return {{"bootstrap.servers", "127.0.0.1:" + std::to_string(port)},
          {"default.api.timeout.ms", timeout_ms},
          {"request.timeout.ms", "1000"},
          {"retry.backoff.ms", "10"},
          {"retry.backoff.max.ms", "50"}};
}

// A FindCoordinator answer naming node 0 at `port`.
proto::bytes coordinator_answer(const proto::request_header& h, uint16_t port) {
  proto::find_coordinator::response r;
  proto::find_coordinator::coordinator c;
  c.node_id = 0;
  c.host = "127.0.0.1";
  c.port = port;
  r.coordinators.push_back(c);
  r.node_id = 0;
  r.host = "127.0.0.1";
  r.port = port;
  return encoded(r, h.api_version);
}

// ApiVersions for every schema API except ConsumerGroupDescribe (a broker with classic groups only).
std::optional<fake_broker::reply> api_versions(const proto::request_header& h) {
  return fake_broker::reply{fake_broker::api_versions_body(h.api_version, {{proto::consumer_group_describe::api_key, -1}})};
}

}  // namespace

TEST_CASE("admin: item errors name the item in Kafka's words") {
  using admin::item_error;
  CHECK(item_error(kafka_error::unknown_topic_or_partition, "ignored", "topic 'x'").message == "topic 'x' does not exist");
  CHECK(item_error(kafka_error::topic_already_exists, std::nullopt, "topic 'x'").message == "topic 'x' already exists");
  CHECK(item_error(kafka_error::group_id_not_found, std::nullopt, "group 'g'").message == "group 'g' does not exist");
  CHECK(item_error(kafka_error::non_empty_group, std::nullopt, "group 'g'").message ==
        "group 'g' is not empty: it has active members");
  CHECK(item_error(kafka_error::invalid_partitions, "Topic has 5 partitions", "topic 'x'").message ==
        "topic 'x': Topic has 5 partitions");
  const auto plain = item_error(kafka_error::policy_violation, std::nullopt, "topic 'x'");
  CHECK(plain.code == kafka_error::policy_violation);
  CHECK(plain.message == "topic 'x': policy violation");
}

TEST_CASE("admin: properties use the admin client's keys and defaults, a typo is an error naming the key") {
  auto o = admin::read_admin_options({{"bootstrap.servers", "h:9092"}});
  REQUIRE(o);
  CHECK(o->default_api_timeout == std::chrono::milliseconds(60000));
  CHECK(o->cluster.connection.request_timeout == std::chrono::milliseconds(30000));
  CHECK(o->cluster.connection.client_id == "brook-admin");
  // default.api.timeout.ms is at least request.timeout.ms, as Java adjusts it.
  o = admin::read_admin_options(
      {{"bootstrap.servers", "h:9092"}, {"default.api.timeout.ms", "1000"}, {"request.timeout.ms", "2000"}});
  REQUIRE(o);
  CHECK(o->default_api_timeout == std::chrono::milliseconds(2000));
  auto bad = admin::read_admin_options({{"bootstrap.servers", "h:9092"}, {"defualt.api.timeout.ms", "1"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.err().code == kafka_error::invalid_config);
  CHECK(bad.err().message.find("defualt.api.timeout.ms") != std::string::npos);
  CHECK_FALSE(admin_client::create({{"client.id", "x"}}));  // bootstrap.servers is required
}

TEST_CASE("admin: a group call looks the coordinator up again after NOT_COORDINATOR and retries") {
  asio::io_context io;
  scripted_cluster cluster;
  int find_coordinator_calls = 0, describe_calls = 0;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) -> std::optional<fake_broker::reply> {
    cluster.asked.emplace_back(0, h.api_key);
    if (h.api_key == proto::api_versions::api_key) return api_versions(h);
    if (h.api_key == proto::metadata::api_key) return fake_broker::reply{cluster.metadata(h, body)};
    if (h.api_key == proto::find_coordinator::api_key) {
      ++find_coordinator_calls;
      return fake_broker::reply{coordinator_answer(h, cluster.ports.at(0))};
    }
    if (h.api_key == proto::describe_groups::api_key) {
      ++describe_calls;
      proto::describe_groups::response r;
      proto::describe_groups::described_group g;
      g.group_id = "g";
      if (describe_calls == 1) {
        g.error_code = brook::common::wire_code(kafka_error::not_coordinator);
      } else if (describe_calls == 2) {
        g.error_code = brook::common::wire_code(kafka_error::coordinator_load_in_progress);
      } else {
        g.group_state = "Stable";
        g.protocol_type = "consumer";
        g.protocol_data = "range";
        proto::describe_groups::described_group_member m;
        m.member_id = "m-1";
        m.client_id = "c";
        m.client_host = "/10.0.0.1";
        g.members.push_back(m);
      }
      r.groups.push_back(g);
      return fake_broker::reply{encoded(r, h.api_version)};
    }
    return std::nullopt;
  });
  cluster.ports[0] = broker.port();
  auto admin = admin_client::create(props_for(broker.port()), io.get_executor());
  REQUIRE(admin);
  run_until_done(io, [](admin_client* a, int* finds) -> asio::awaitable<void> {
    std::vector<std::string> groups{"g"};
    auto r = co_await a->async_describe_groups(groups);
    REQUIRE(r);
    REQUIRE(r->at("g"));
    const auto& d = *r->at("g");
    CHECK(d.type == "classic");
    CHECK(d.state == "Stable");
    CHECK(d.assignor == "range");
    CHECK(d.coordinator == 0);
    REQUIRE(d.members.size() == 1);
    CHECK(d.members[0].member_id == "m-1");
    CHECK(d.members[0].host == "/10.0.0.1");
    // NOT_COORDINATOR dropped the cached coordinator; COORDINATOR_LOAD_IN_PROGRESS did not.
    CHECK(*finds == 2);
  }(&*admin, &find_coordinator_calls));
  CHECK(describe_calls == 3);
}

TEST_CASE("admin: a classic group answering Dead does not exist") {
  asio::io_context io;
  scripted_cluster cluster;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) -> std::optional<fake_broker::reply> {
    if (h.api_key == proto::api_versions::api_key) return api_versions(h);
    if (h.api_key == proto::metadata::api_key) return fake_broker::reply{cluster.metadata(h, body)};
    if (h.api_key == proto::find_coordinator::api_key) return fake_broker::reply{coordinator_answer(h, cluster.ports.at(0))};
    if (h.api_key == proto::describe_groups::api_key) {
      proto::describe_groups::response r;
      proto::describe_groups::described_group g;
      g.group_id = "gone";
      g.group_state = "Dead";
      r.groups.push_back(g);
      return fake_broker::reply{encoded(r, h.api_version)};
    }
    return std::nullopt;
  });
  cluster.ports[0] = broker.port();
  auto admin = admin_client::create(props_for(broker.port()), io.get_executor());
  REQUIRE(admin);
  run_until_done(io, [](admin_client* a) -> asio::awaitable<void> {
    std::vector<std::string> groups{"gone"};
    auto r = co_await a->async_describe_groups(groups);
    REQUIRE(r);
    REQUIRE_FALSE(r->at("gone"));
    CHECK(r->at("gone").err().code == kafka_error::group_id_not_found);
    CHECK(r->at("gone").err().message == "group 'gone' does not exist");
  }(&*admin));
}

TEST_CASE("admin: ListOffsets goes to each partition's leader, a moved leader is found again") {
  asio::io_context io;
  scripted_cluster cluster;
  cluster.partitions["t"] = 2;
  cluster.leaders["t-0"] = 1;
  cluster.leaders["t-1"] = 2;
  std::map<int32_t, std::vector<int32_t>> partitions_asked;  // node -> partitions
  int not_leader_answers = 0;
  auto handler_for = [&](int32_t node) {
    return [&, node](const proto::request_header& h, proto::reader& body) -> std::optional<fake_broker::reply> {
      if (h.api_key == proto::api_versions::api_key) return api_versions(h);
      if (h.api_key == proto::metadata::api_key) return fake_broker::reply{cluster.metadata(h, body)};
      if (h.api_key == proto::list_offsets::api_key) {
        proto::list_offsets::request req;
        req.decode(body, h.api_version);
        proto::list_offsets::response r;
        for (const auto& t : req.topics) {
          proto::list_offsets::list_offsets_topic_response rt;
          rt.name = t.name;
          for (const auto& p : t.partitions) {
            partitions_asked[node].push_back(p.partition_index);
            proto::list_offsets::list_offsets_partition_response rp;
            rp.partition_index = p.partition_index;
            if (cluster.leaders.at(t.name + "-" + std::to_string(p.partition_index)) != node) {
              ++not_leader_answers;
              rp.error_code = brook::common::wire_code(kafka_error::not_leader_or_follower);
            } else {
              rp.offset = 100 * node + p.partition_index;
              rp.timestamp = -1;
            }
            rt.partitions.push_back(rp);
          }
          r.topics.push_back(std::move(rt));
        }
        return fake_broker::reply{encoded(r, h.api_version)};
      }
      return std::nullopt;
    };
  };
  fake_broker one(io, handler_for(1));
  fake_broker two(io, handler_for(2));
  cluster.ports[1] = one.port();
  cluster.ports[2] = two.port();
  auto admin = admin_client::create(props_for(one.port()), io.get_executor());
  REQUIRE(admin);
  run_until_done(io, [](admin_client* a) -> asio::awaitable<void> {
    std::map<topic_partition, offset_spec> specs{{{"t", 0}, offset_spec::latest()}, {{"t", 1}, offset_spec::latest()},
                                                 {{"t", 5}, offset_spec::latest()}, {{"u", 0}, offset_spec::latest()}};
    auto r = co_await a->async_list_offsets(specs);
    REQUIRE(r);
    REQUIRE(r->at({"t", 0}));
    CHECK(r->at({"t", 0})->offset == 100);
    REQUIRE(r->at({"t", 1}));
    CHECK(r->at({"t", 1})->offset == 201);
    REQUIRE_FALSE(r->at({"t", 5}));
    CHECK(r->at({"t", 5}).err().message == "partition t-5 does not exist");
    REQUIRE_FALSE(r->at({"u", 0}));
    CHECK(r->at({"u", 0}).err().message == "topic 'u' does not exist");
  }(&*admin));
  CHECK(partitions_asked[1] == std::vector<int32_t>{0});
  CHECK(partitions_asked[2] == std::vector<int32_t>{1});

  // The leader of t-0 moves to broker 2: the first answer is NOT_LEADER_OR_FOLLOWER, the metadata is
  // refreshed and broker 2 is asked.
  partitions_asked.clear();
  cluster.leaders["t-0"] = 2;
  run_until_done(io, [](admin_client* a) -> asio::awaitable<void> {
    std::map<topic_partition, offset_spec> specs{{{"t", 0}, offset_spec::earliest()}};
    auto r = co_await a->async_list_offsets(specs);
    REQUIRE(r);
    REQUIRE(r->at({"t", 0}));
    CHECK(r->at({"t", 0})->offset == 200);
  }(&*admin));
  CHECK(not_leader_answers == 1);
  CHECK(partitions_asked[1] == std::vector<int32_t>{0});
  CHECK(partitions_asked[2] == std::vector<int32_t>{0});
}

TEST_CASE("admin: CreateTopics retries the topics with a retriable error only, until the call's timeout") {
  asio::io_context io;
  scripted_cluster cluster;
  std::vector<std::vector<std::string>> requests;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) -> std::optional<fake_broker::reply> {
    if (h.api_key == proto::api_versions::api_key) return api_versions(h);
    if (h.api_key == proto::metadata::api_key) return fake_broker::reply{cluster.metadata(h, body)};
    if (h.api_key == proto::create_topics::api_key) {
      proto::create_topics::request req;
      req.decode(body, h.api_version);
      proto::create_topics::response r;
      requests.emplace_back();
      for (const auto& t : req.topics) {
        requests.back().push_back(t.name);
        proto::create_topics::creatable_topic_result rt;
        rt.name = t.name;
        if (t.name == "bad") {
          rt.error_code = brook::common::wire_code(kafka_error::invalid_replication_factor);
          rt.error_message = "Replication factor 3 is larger than the 1 available broker";
        } else if (t.name == "busy" || (t.name == "slow" && requests.size() < 3)) {
          rt.error_code = brook::common::wire_code(kafka_error::not_controller);
        } else {
          rt.num_partitions = t.num_partitions;
          rt.replication_factor = t.replication_factor;
        }
        r.topics.push_back(rt);
      }
      return fake_broker::reply{encoded(r, h.api_version)};
    }
    return std::nullopt;
  });
  cluster.ports[0] = broker.port();
  auto admin = admin_client::create(props_for(broker.port(), "1500"), io.get_executor());
  REQUIRE(admin);
  const auto started = std::chrono::steady_clock::now();
  run_until_done(io, [](admin_client* a) -> asio::awaitable<void> {
    std::vector<new_topic> topics{{"ok", 3, 1, {}, {}}, {"bad", 1, 3, {}, {}}, {"slow", 1, 1, {}, {}},
                                  {"busy", 1, 1, {}, {}}};
    auto r = co_await a->async_create_topics(topics);
    REQUIRE(r);
    REQUIRE(r->size() == 4);
    REQUIRE(r->at("ok"));
    CHECK(r->at("ok")->partitions == 3);
    REQUIRE_FALSE(r->at("bad"));
    CHECK(r->at("bad").err().code == kafka_error::invalid_replication_factor);
    CHECK(r->at("bad").err().message == "topic 'bad': Replication factor 3 is larger than the 1 available broker");
    CHECK(r->at("slow"));
    REQUIRE_FALSE(r->at("busy"));
    CHECK(r->at("busy").err().code == kafka_error::not_controller);
    CHECK(r->at("busy").err().message.find("still failing when the call's timeout expired") != std::string::npos);
  }(&*admin));
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took >= std::chrono::milliseconds(1000));
  CHECK(took < std::chrono::milliseconds(5000));
  REQUIRE(requests.size() >= 3);
  CHECK(requests[0] == std::vector<std::string>{"bad", "busy", "ok", "slow"});  // by name
  CHECK(requests[1] == std::vector<std::string>{"busy", "slow"});  // the pending ones only
  CHECK(requests[2] == std::vector<std::string>{"busy", "slow"});
  CHECK(requests.back() == std::vector<std::string>{"busy"});
}

TEST_CASE("admin: altering a group's offsets commits as a non-member, a group with members is named as the problem") {
  asio::io_context io;
  scripted_cluster cluster;
  std::optional<proto::offset_commit::request> committed;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) -> std::optional<fake_broker::reply> {
    if (h.api_key == proto::api_versions::api_key) return api_versions(h);
    if (h.api_key == proto::metadata::api_key) return fake_broker::reply{cluster.metadata(h, body)};
    if (h.api_key == proto::find_coordinator::api_key) return fake_broker::reply{coordinator_answer(h, cluster.ports.at(0))};
    if (h.api_key == proto::offset_commit::api_key) {
      proto::offset_commit::request req;
      req.decode(body, h.api_version);
      committed = req;
      proto::offset_commit::response r;
      for (const auto& t : req.topics) {
        proto::offset_commit::offset_commit_response_topic rt;
        rt.name = t.name;
        for (const auto& p : t.partitions) {
          proto::offset_commit::offset_commit_response_partition rp;
          rp.partition_index = p.partition_index;
          if (req.group_id == "active") rp.error_code = brook::common::wire_code(kafka_error::unknown_member_id);
          rt.partitions.push_back(rp);
        }
        r.topics.push_back(std::move(rt));
      }
      return fake_broker::reply{encoded(r, h.api_version)};
    }
    if (h.api_key == proto::offset_delete::api_key) {
      proto::offset_delete::request req;
      req.decode(body, h.api_version);
      proto::offset_delete::response r;
      for (const auto& t : req.topics) {
        proto::offset_delete::offset_delete_response_topic rt;
        rt.name = t.name;
        for (const auto& p : t.partitions) {
          proto::offset_delete::offset_delete_response_partition rp;
          rp.partition_index = p.partition_index;
          if (p.partition_index == 1) rp.error_code = brook::common::wire_code(kafka_error::group_subscribed_to_topic);
          rt.partitions.push_back(rp);
        }
        r.topics.push_back(std::move(rt));
      }
      return fake_broker::reply{encoded(r, h.api_version)};
    }
    return std::nullopt;
  });
  cluster.ports[0] = broker.port();
  auto admin = admin_client::create(props_for(broker.port()), io.get_executor());
  REQUIRE(admin);
  run_until_done(io, [](admin_client* a) -> asio::awaitable<void> {
    std::map<topic_partition, offset_and_metadata> offsets{{{"t", 0}, {5, 3, "m"}}, {{"t", 1}, {7, std::nullopt, ""}}};
    auto r = co_await a->async_alter_consumer_group_offsets("idle", offsets);
    REQUIRE(r);
    CHECK(r->at({"t", 0}));
    CHECK(r->at({"t", 1}));
    auto refused = co_await a->async_alter_consumer_group_offsets("active", offsets);
    REQUIRE(refused);
    REQUIRE_FALSE(refused->at({"t", 0}));
    CHECK(refused->at({"t", 0}).err().code == kafka_error::unknown_member_id);
    CHECK(refused->at({"t", 0}).err().message.rfind("group 'active' has active members", 0) == 0);

    std::set<topic_partition> gone{{"t", 0}, {"t", 1}};
    auto deleted = co_await a->async_delete_consumer_group_offsets("idle", gone);
    REQUIRE(deleted);
    CHECK(deleted->at({"t", 0}));
    REQUIRE_FALSE(deleted->at({"t", 1}));
    CHECK(deleted->at({"t", 1}).err().message == "partition t-1: the group is still subscribed to the topic");
  }(&*admin));
  REQUIRE(committed);
  // As Java's alterConsumerGroupOffsets: generation -1 and no member id.
  CHECK(committed->generation_id_or_member_epoch == -1);
  CHECK(committed->member_id.empty());
  REQUIRE(committed->topics.size() == 1);
  CHECK(committed->topics[0].partitions[0].committed_offset == 5);
}
