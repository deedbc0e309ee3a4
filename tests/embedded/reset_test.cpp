// broker::reset through the embedded broker: topics, groups, offsets, producer ids, fetch sessions and
// parked fetches.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>

#include "brook/embedded/broker.hpp"
#include "broker/broker.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "common/protocol/messages/join_group.hpp"
#include "common/protocol/messages/list_transactions.hpp"
#include "tests/embedded/embedded_test_util.hpp"
#include "tests/support/wire_client.hpp"

using namespace brook::embedded;
using namespace brook::embedded::testing;
namespace proto = brook::common::protocol;
namespace fe = proto::fetch;
using brook::common::kafka_error;

namespace {

constexpr int16_t fetch_version = 12;  // sessions, topics by name

fe::request fetch_of(const std::string& topic, int32_t session_id, int32_t epoch, int32_t max_wait_ms) {
  fe::request req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = 1;
  req.session_id = session_id;
  req.session_epoch = epoch;
  if (epoch <= 0) {  // a full request (0 opens a session, -1 none): it names the partitions
    auto& t = req.topics.emplace_back();
    t.topic = topic;
    auto& p = t.partitions.emplace_back();
    p.partition = 0;
    p.fetch_offset = 0;
    p.partition_max_bytes = 1 << 20;
  }
  return req;
}

int64_t new_producer_id(brook::test::wire_client& c) {
  namespace ip = proto::init_producer_id;
  ip::request req;
  req.transactional_id = std::nullopt;  // an idempotent producer
  req.transaction_timeout_ms = 60000;
  req.producer_id = -1;
  req.producer_epoch = -1;
  auto resp = c.call<ip::response>(ip::api_key, 4, req);
  REQUIRE(resp.error_code == 0);
  return resp.producer_id;
}

// The transactional ids the broker lists (ListTransactions, every state).
std::set<std::string> transactional_ids(brook::test::wire_client& c) {
  namespace lt = proto::list_transactions;
  lt::request req;
  auto resp = c.call<lt::response>(lt::api_key, 0, req);
  REQUIRE(resp.error_code == 0);
  std::set<std::string> ids;
  for (const auto& t : resp.transaction_states) ids.insert(t.transactional_id);
  return ids;
}

}  // namespace

TEST_CASE("reset forgets transactional ids, and a restart brings none back that was being written") {
  auto b = start_broker();
  // Transactional ids initialised on several connections at once, their state writes under way while
  // the reset runs: each write lands before the store is cleared, or is the new state's own.
  namespace ip = proto::init_producer_id;
  std::vector<brook::test::wire_client> clients;
  for (int c = 0; c < 4; ++c) clients.emplace_back(b->port());
  constexpr int per_client = 25;
  for (int c = 0; c < 4; ++c)
    for (int i = 0; i < per_client; ++i) {
      ip::request req;
      req.transactional_id = "tx-" + std::to_string(c) + "-" + std::to_string(i);
      req.transaction_timeout_ms = 60000;
      req.producer_id = -1;
      req.producer_epoch = -1;
      proto::writer w;
      req.encode(w, 5);
      auto body = w.take();
      clients[c].send_raw(ip::api_key, 5, body);
    }
  REQUIRE(b->reset());
  for (auto& c : clients)
    for (int i = 0; i < per_client; ++i) REQUIRE(c.receive_body(ip::api_key, 5));

  auto probe = brook::test::wire_client(b->port());
  const auto listed = transactional_ids(probe);
  REQUIRE(b->restart());
  auto after = brook::test::wire_client(b->port());
  CHECK(transactional_ids(after) == listed);
  // And a reset with nothing under way leaves none.
  REQUIRE(b->reset());
  CHECK(transactional_ids(after).empty());
  REQUIRE(b->restart());
  auto last = brook::test::wire_client(b->port());
  CHECK(transactional_ids(last).empty());
}

TEST_CASE("reset deletes topics, their records, groups and committed offsets, and names are free again") {
  auto b = start_broker();
  const auto servers = b->bootstrap_servers();
  REQUIRE(b->create_topic("orders", 1));
  REQUIRE(b->create_topic("other", 3));
  produce(servers, "orders", {"old-1", "old-2"});
  {
    auto c = brook::client::consumer::create({{"bootstrap.servers", servers}, {"group.id", "readers"},
                                              {"enable.auto.commit", "false"}});
    REQUIRE(c);
    REQUIRE((*c)->assign({{"orders", 0}}));
    REQUIRE((*c)->commit_sync({{{"orders", 0}, {2, std::nullopt, ""}}}));
  }
  auto admin = brook::client::admin_client::create({{"bootstrap.servers", servers}});
  REQUIRE(admin);
  auto groups = admin->list_groups();
  REQUIRE(groups);
  REQUIRE(groups->size() == 1);

  REQUIRE(b->reset());

  auto topics = admin->list_topics();
  REQUIRE(topics);
  CHECK(topics->empty());
  groups = admin->list_groups();
  REQUIRE(groups);
  CHECK(groups->empty());
  auto offsets = admin->list_consumer_group_offsets("readers");
  REQUIRE(offsets);
  CHECK(offsets->empty());

  // The same name again: an empty topic that works.
  REQUIRE(b->create_topic("orders", 1));
  CHECK(end_offset(servers, "orders") == 0);
  produce(servers, "orders", {"new"});
  CHECK(consume(servers, "orders", 1) == std::vector<std::string>{"new"});

  // And a restart does not bring anything back.
  REQUIRE(b->restart());
  topics = admin->list_topics();
  REQUIRE(topics);
  REQUIRE(topics->size() == 1);
  CHECK(topics->front().name == "orders");
  CHECK(consume(servers, "orders", 1) == std::vector<std::string>{"new"});
}

TEST_CASE("reset starts producer ids over and drops fetch sessions") {
  auto b = start_broker();
  REQUIRE(b->create_topic("t", 1));
  auto c = brook::test::wire_client(b->port());
  const int64_t first = new_producer_id(c);
  CHECK(new_producer_id(c) == first + 1);
  auto full = c.call<fe::response>(fe::api_key, fetch_version, fetch_of("t", 0, 0, 0));
  REQUIRE(full.error_code == 0);
  REQUIRE(full.session_id > 0);

  REQUIRE(b->reset());
  CHECK(new_producer_id(c) == first);
  auto incremental = c.call<fe::response>(fe::api_key, fetch_version, fetch_of("t", full.session_id, 1, 0));
  CHECK(incremental.error_code == brook::common::wire_code(kafka_error::fetch_session_id_not_found));
}

TEST_CASE("a fetch parked on a topic is answered at once when a reset deletes the topic") {
  auto b = start_broker();
  REQUIRE(b->create_topic("waiting", 1));
  auto c = brook::test::wire_client(b->port());
  proto::writer w;
  fetch_of("waiting", 0, -1, 30000).encode(w, fetch_version);  // no session, parks up to 30 s
  auto body = w.take();
  c.send_raw(fe::api_key, fetch_version, body);
  // Parked: nothing to read, so no answer for now.
  REQUIRE_FALSE(c.receive_body(fe::api_key, fetch_version, std::chrono::milliseconds(300)));
  const auto before = std::chrono::steady_clock::now();
  REQUIRE(b->reset());
  auto answer = c.receive_body(fe::api_key, fetch_version, std::chrono::seconds(10));
  REQUIRE(answer);
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(10));
  proto::reader r(*answer);
  fe::response resp;
  resp.decode(r, fetch_version);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.responses.size() == 1);
  REQUIRE(resp.responses[0].partitions.size() == 1);
  CHECK(resp.responses[0].partitions[0].error_code == brook::common::wire_code(kafka_error::unknown_topic_or_partition));
}

TEST_CASE("reset answers a JoinGroup parked in a rebalance and deletes the group with members") {
  auto b = start_broker();
  namespace jg = proto::join_group;
  auto join = [](const std::string& member) {
    jg::request req;
    req.group_id = "classic";
    req.session_timeout_ms = 30000;
    req.rebalance_timeout_ms = 30000;
    req.member_id = member;
    req.protocol_type = "consumer";
    auto& p = req.protocols.emplace_back();
    p.name = "range";
    p.metadata = proto::bytes{1, 2, 3};
    return req;
  };
  constexpr int16_t join_version = 3;  // members get their id in the first answer
  auto first = brook::test::wire_client(b->port());
  auto joined = first.call<jg::response>(jg::api_key, join_version, join(""));
  REQUIRE(joined.error_code == 0);
  // A second member starts a rebalance that waits (up to 30 s) for the first to join again.
  auto second = brook::test::wire_client(b->port());
  proto::writer w;
  join("").encode(w, join_version);
  auto body = w.take();
  second.send_raw(jg::api_key, join_version, body);
  auto admin = brook::client::admin_client::create({{"bootstrap.servers", b->bootstrap_servers()}});
  REQUIRE(admin);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string state;
  while (state != "PreparingRebalance" && std::chrono::steady_clock::now() < deadline) {
    auto described = admin->describe_groups({"classic"});
    REQUIRE(described);
    auto& g = described->at("classic");
    REQUIRE(g);
    state = g->state;
  }
  REQUIRE(state == "PreparingRebalance");

  REQUIRE(b->reset());
  auto answer = second.receive_body(jg::api_key, join_version, std::chrono::seconds(5));
  REQUIRE(answer);
  proto::reader r(*answer);
  jg::response resp;
  resp.decode(r, join_version);
  CHECK(resp.error_code == brook::common::wire_code(kafka_error::coordinator_not_available));
  auto groups = admin->list_groups();
  REQUIRE(groups);
  CHECK(groups->empty());
}
