// The consumer against each cluster (brook, mock, kafka; see tests/client/harness/cluster_under_test.hpp):
// two members of a group share a topic's partitions with each partition owned once, a second group gets
// every record, a new member resumes from the committed offset; with the classic protocol (eager and
// cooperative assignors) and with KIP-848's consumer protocol where the cluster serves it.
// Records are produced with raw Produce requests, so that these tests need nothing but the consumer.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "brook/client/async_consumer.hpp"
#include "brook/client/consumer.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/record_batch.hpp"
#include "tests/client/harness/cluster_under_test.hpp"

namespace {

namespace proto = brook::common::protocol;
using brook::client::consumer;
using brook::client::consumer_record;
using brook::client::topic_partition;
using brook::test::cluster_under_test;
using namespace std::chrono_literals;

// Produces `count` records with keys "k<i>" and values "v<i>" to each partition of `topic`, through
// each partition's leader.
void produce(cluster_under_test& cluster, const std::string& topic, int32_t partitions, int count) {
  auto meta = cluster.metadata({topic});
  REQUIRE(meta.topics.size() == 1);
  std::map<int32_t, std::pair<std::string, uint16_t>> address;
  for (const auto& b : cluster.brokers()) address[b.node_id] = {b.host, b.port};
  const int16_t version = cluster.version_for(proto::produce::api_key);
  REQUIRE(version >= 3);
  for (int32_t p = 0; p < partitions; ++p) {
    int32_t leader = -1;
    for (const auto& part : meta.topics[0].partitions)
      if (part.partition_index == p) leader = part.leader_id;
    REQUIRE(address.count(leader));
    brook::common::record_batch_builder batch;
    for (int i = 0; i < count; ++i)
      batch.add("k" + std::to_string(i), "v" + std::to_string(i), 1700000000000 + i);
    proto::produce::request req;
    req.acks = -1;
    req.timeout_ms = 10000;
    auto& td = req.topic_data.emplace_back();
    td.name = topic;
    td.topic_id = meta.topics[0].topic_id;  // v13+ names the topic by id
    td.partition_data.push_back({p, proto::record_set(batch.build())});
    brook::test::wire_client client(address[leader].first, address[leader].second, "brook-consumer-test");
    // A topic just created may not be led yet where Metadata already says it is (Kafka's KRaft broker
    // applies the change a moment later): NOT_LEADER_OR_FOLLOWER and the like are retried a while.
    int16_t error = -1;
    for (int attempt = 0; attempt < 50 && error != 0; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(200ms);
      auto resp = client.call<proto::produce::response>(proto::produce::api_key, version, req);
      REQUIRE(resp.responses.size() == 1);
      error = resp.responses[0].partition_responses.at(0).error_code;
      if (error != 3 && error != 5 && error != 6) break;
    }
    REQUIRE(error == 0);
  }
}

brook::client::properties consumer_properties(cluster_under_test& cluster, const std::string& group,
                                              const std::string& protocol, const std::string& strategy = "") {
  brook::client::properties props{{"bootstrap.servers", cluster.bootstrap()},
                                           {"auto.offset.reset", "earliest"},
                                           {"enable.auto.commit", "false"}};
  if (!group.empty()) props["group.id"] = group;
  if (!protocol.empty()) props["group.protocol"] = protocol;
  if (!strategy.empty()) props["partition.assignment.strategy"] = strategy;
  if (protocol != "consumer") {
    props["session.timeout.ms"] = "10000";
    props["heartbeat.interval.ms"] = "500";
  }
  return props;
}

// Polls until `want` records arrived or `limit` passed; keeps every record.
std::vector<consumer_record> poll_until(consumer& c, size_t want, std::chrono::seconds limit) {
  std::vector<consumer_record> got;
  const auto end = std::chrono::steady_clock::now() + limit;
  while (got.size() < want && std::chrono::steady_clock::now() < end) {
    auto r = c.poll(200ms);
    if (!r) continue;
    got.insert(got.end(), r->begin(), r->end());
  }
  return got;
}

bool serves_consumer_protocol(cluster_under_test& cluster) {
  return cluster.version_for(proto::consumer_group_heartbeat::api_key) >= 0;
}

// Two members poll in their own threads (a member rejoins only from its own poll) until their
// assignments are disjoint and cover the topic, and stay so for a while.
void two_members_share(cluster_under_test& cluster, const std::string& protocol, const std::string& strategy) {
  const auto topic = cluster.unique_name("share");
  const auto group = cluster.unique_name("group");
  constexpr int32_t partitions = 4;
  constexpr int per_partition = 5;
  cluster.create_topic(topic, partitions);
  produce(cluster, topic, partitions, per_partition);

  struct member_state {
    std::mutex mu;
    std::set<topic_partition> owned;
    std::vector<consumer_record> records;
    std::string error;
    size_t revoked = 0;  // partitions revoked over the member's life, as its listener saw them
  };
  struct counting_listener : brook::client::rebalance_listener {
    member_state* state = nullptr;
    void on_partitions_revoked(const std::vector<topic_partition>& partitions) override {
      // Called on the member's own thread, from poll(), while it does not hold the lock.
      std::lock_guard lock(state->mu);
      state->revoked += partitions.size();
    }
  };
  member_state states[2];
  std::atomic<bool> stop{false};
  auto run = [&](int i) {
    auto c = consumer::create(consumer_properties(cluster, group, protocol, strategy));
    if (!c) {
      std::lock_guard lock(states[i].mu);
      states[i].error = c.err().message;
      return;
    }
    auto listener = std::make_shared<counting_listener>();
    listener->state = &states[i];
    if (auto s = (*c)->subscribe({topic}, listener); !s) {
      std::lock_guard lock(states[i].mu);
      states[i].error = s.err().message;
      return;
    }
    while (!stop) {
      auto r = (*c)->poll(200ms);
      auto owned = (*c)->assignment();
      std::lock_guard lock(states[i].mu);
      if (r) states[i].records.insert(states[i].records.end(), r->begin(), r->end());
      states[i].owned = owned;
    }
    {
      std::lock_guard lock(states[i].mu);
      states[i].owned.clear();
    }
    (void)(*c)->close();
  };
  std::thread first(run, 0);
  std::this_thread::sleep_for(500ms);
  std::thread second(run, 1);

  bool shared = false;
  int stable_rounds = 0;
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < end && stable_rounds < 10) {
    std::this_thread::sleep_for(200ms);
    std::set<topic_partition> a, b;
    {
      std::lock_guard l0(states[0].mu);
      a = states[0].owned;
    }
    {
      std::lock_guard l1(states[1].mu);
      b = states[1].owned;
    }
    std::set<topic_partition> both;
    for (const auto& tp : a)
      if (b.count(tp)) both.insert(tp);
    shared = both.empty() && !a.empty() && !b.empty() && a.size() + b.size() == partitions;
    stable_rounds = shared ? stable_rounds + 1 : 0;
  }
  stop = true;
  first.join();
  second.join();
  INFO("member errors: '" << states[0].error << "', '" << states[1].error << "'");
  REQUIRE(states[0].error.empty());
  REQUIRE(states[1].error.empty());
  CHECK(shared);
  // Each record reached the group (at least once; without commits a handover may repeat some).
  std::set<std::pair<int32_t, int64_t>> seen;
  for (auto& s : states)
    for (const auto& r : s.records) seen.insert({r.partition, r.offset});
  CHECK(seen.size() == static_cast<size_t>(partitions * per_partition));
  // Cooperative protocols revoke only what moves: the first member gives up at most the second's half
  // when it joins, and its own half at close (an eager rebalance would revoke all four, then two).
  if (strategy == "cooperative-sticky" || protocol == "consumer") {
    std::lock_guard lock(states[0].mu);
    CHECK(states[0].revoked <= static_cast<size_t>(partitions));
  }
}

}  // namespace

TEST_CASE("consumer: assign and poll reads every record in order, with keys, values and timestamps", "[consumer]") {
  auto& cluster = cluster_under_test::current();
  const auto topic = cluster.unique_name("assign");
  cluster.create_topic(topic, 1);
  produce(cluster, topic, 1, 10);
  auto c = consumer::create(consumer_properties(cluster, "", ""));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{topic, 0}}).ok());
  auto got = poll_until(**c, 10, 30s);
  REQUIRE(got.size() == 10);
  for (int i = 0; i < 10; ++i) {
    CHECK(got[static_cast<size_t>(i)].offset == i);
    CHECK(got[static_cast<size_t>(i)].key == std::optional<std::string>("k" + std::to_string(i)));
    CHECK(got[static_cast<size_t>(i)].value == std::optional<std::string>("v" + std::to_string(i)));
    CHECK(got[static_cast<size_t>(i)].timestamp == 1700000000000 + i);
  }
  auto end = (*c)->end_offsets({{topic, 0}});
  REQUIRE(end.ok());
  CHECK(end->at({topic, 0}) == 10);
  auto position = (*c)->position({topic, 0});
  REQUIRE(position.ok());
  CHECK(*position == 10);
  // Seek back and read again; offsets_for_times finds the record of a timestamp.
  REQUIRE((*c)->seek({topic, 0}, 7).ok());
  auto again = poll_until(**c, 3, 30s);
  REQUIRE(again.size() == 3);
  CHECK(again[0].offset == 7);
  auto times = (*c)->offsets_for_times({{{topic, 0}, 1700000000004}});
  REQUIRE(times.ok());
  // librdkafka's mock answers ListOffsets by timestamp with no offset; the others search the log.
  if (cluster.kind() != brook::test::cluster_kind::mock) {
    REQUIRE(times->at({topic, 0}));
    CHECK(times->at({topic, 0})->offset == 4);
  }
  CHECK((*c)->close().ok());
}

TEST_CASE("consumer: two members of a classic group share the partitions (range, eager)", "[consumer][classic]") {
  two_members_share(cluster_under_test::current(), "classic", "range");
}

TEST_CASE("consumer: two members of a classic group share the partitions (cooperative-sticky)", "[consumer][classic]") {
  two_members_share(cluster_under_test::current(), "classic", "cooperative-sticky");
}

TEST_CASE("consumer: two members of a consumer-protocol group share the partitions", "[consumer][kip848]") {
  auto& cluster = cluster_under_test::current();
  if (!serves_consumer_protocol(cluster)) BROOK_SKIP("the cluster does not serve ConsumerGroupHeartbeat");
  two_members_share(cluster, "consumer", "");
}

TEST_CASE("consumer: a second group gets every record, a new member resumes from the committed offset",
          "[consumer][classic][kip848]") {
  auto& cluster = cluster_under_test::current();
  for (std::string protocol : {"classic", "consumer"}) {
    if (protocol == "consumer" && !serves_consumer_protocol(cluster)) continue;
    INFO("group.protocol=" << protocol);
    const auto topic = cluster.unique_name("resume");
    cluster.create_topic(topic, 2);
    produce(cluster, topic, 2, 6);
    const auto group = cluster.unique_name("group");
    {
      auto c = consumer::create(consumer_properties(cluster, group, protocol));
      REQUIRE(c.ok());
      REQUIRE((*c)->subscribe({topic}).ok());
      auto got = poll_until(**c, 12, 60s);
      REQUIRE(got.size() == 12);
      // Commit offset 4 of partition 0 and 5 of partition 1, with metadata.
      brook::client::topic_partition_offsets offsets;
      offsets[{topic, 0}] = {4, std::nullopt, "first"};
      offsets[{topic, 1}] = {5, std::nullopt, ""};
      REQUIRE((*c)->commit_sync(offsets).ok());
      auto committed = (*c)->committed({{topic, 0}, {topic, 1}});
      REQUIRE(committed.ok());
      REQUIRE(committed->at({topic, 0}));
      CHECK(committed->at({topic, 0})->offset == 4);
      CHECK(committed->at({topic, 0})->metadata == "first");
      REQUIRE((*c)->close().ok());
    }
    {
      // The same group again: starts at the committed offsets.
      auto c = consumer::create(consumer_properties(cluster, group, protocol));
      REQUIRE(c.ok());
      REQUIRE((*c)->subscribe({topic}).ok());
      auto got = poll_until(**c, 3, 60s);
      std::map<int32_t, int64_t> first_offset;
      for (const auto& r : got)
        if (!first_offset.count(r.partition)) first_offset[r.partition] = r.offset;
      CHECK(got.size() == 3);
      CHECK(first_offset[0] == 4);
      CHECK(first_offset[1] == 5);
      REQUIRE((*c)->close().ok());
    }
    {
      // Another group gets everything from the beginning.
      auto c = consumer::create(consumer_properties(cluster, cluster.unique_name("other"), protocol));
      REQUIRE(c.ok());
      REQUIRE((*c)->subscribe({topic}).ok());
      auto got = poll_until(**c, 12, 60s);
      CHECK(got.size() == 12);
      REQUIRE((*c)->close().ok());
    }
  }
}

namespace {

struct async_outcome {
  std::vector<consumer_record> got;
  std::string failure;
  std::optional<int64_t> committed_offset;
};

// Subscribes, reads `want` records, commits and reads the commit back, all awaited on `ex`.
boost::asio::awaitable<void> consume_async(boost::asio::any_io_executor ex, brook::client::properties props,
                                           std::string topic, size_t want, async_outcome* out) {
  auto c = brook::client::async_consumer::create(ex, props);
  if (!c) {
    out->failure = c.err().message;
    co_return;
  }
  if (auto s = (*c)->subscribe({topic}); !s) {
    out->failure = s.err().message;
    co_return;
  }
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (out->got.size() < want && std::chrono::steady_clock::now() < end) {
    auto r = co_await (*c)->poll(200ms);
    if (r) out->got.insert(out->got.end(), r->begin(), r->end());
  }
  if (auto r = co_await (*c)->commit(); !r) out->failure = r.err().message;
  std::set<topic_partition> partitions{{topic, 0}};
  auto committed = co_await (*c)->committed(partitions);
  if (committed && committed->at({topic, 0})) out->committed_offset = committed->at({topic, 0})->offset;
  (void)co_await (*c)->close();
}

}  // namespace

TEST_CASE("consumer: the coroutine face reads, commits and resumes on the caller's io_context", "[consumer][async]") {
  auto& cluster = cluster_under_test::current();
  const auto topic = cluster.unique_name("async");
  const auto group = cluster.unique_name("group");
  cluster.create_topic(topic, 1);
  produce(cluster, topic, 1, 5);
  boost::asio::io_context io;
  async_outcome out;
  boost::asio::co_spawn(io, consume_async(io.get_executor(), consumer_properties(cluster, group, "classic"), topic, 5, &out),
                        boost::asio::detached);
  io.run();
  INFO(out.failure);
  CHECK(out.failure.empty());
  CHECK(out.got.size() == 5);
  CHECK(out.committed_offset == std::optional<int64_t>(5));
}

TEST_CASE("consumer: a pattern subscription follows the topics it matches", "[consumer][classic]") {
  auto& cluster = cluster_under_test::current();
  // librdkafka 2.0.2's mock cluster writes ListOffsets v4+'s partition LeaderEpoch as an int64 where the
  // protocol has an int32 (rd_kafka_mock_handle_ListOffsets; fixed in librdkafka 2.1.0). An answer for
  // one partition only ends in 4 stray bytes, but where one broker leads partitions of both topics, the
  // 4 bytes 0xff that follow the first partition are read as the next field (the next topic's name
  // length -1: a null where Kafka allows none). Our decoder is right to refuse it; the client closes
  // that connection and retries (as Java's, which fails on such an answer), but every retry gets the
  // same bytes, so the offset reset of this test cannot succeed there.
  if (cluster.kind() == brook::test::cluster_kind::mock)
    BROOK_SKIP("librdkafka 2.0.2's mock encodes ListOffsets v4+ LeaderEpoch as int64, misaligning answers of several partitions");
  const auto prefix = cluster.unique_name("pattern");
  cluster.create_topic(prefix + "-a", 1);
  cluster.create_topic(prefix + "-b", 2);
  produce(cluster, prefix + "-a", 1, 2);
  produce(cluster, prefix + "-b", 2, 2);
  struct recorder : brook::client::rebalance_listener {
    std::set<topic_partition> assigned;
    void on_partitions_assigned(const std::vector<topic_partition>& partitions) override {
      assigned.insert(partitions.begin(), partitions.end());
    }
  };
  auto listener = std::make_shared<recorder>();
  auto c = consumer::create(consumer_properties(cluster, cluster.unique_name("group"), "classic"));
  REQUIRE(c.ok());
  REQUIRE((*c)->subscribe_pattern(prefix + "-.*", listener).ok());
  auto got = poll_until(**c, 6, 60s);
  CHECK(got.size() == 6);
  CHECK((*c)->subscription() == std::set<std::string>{prefix + "-a", prefix + "-b"});
  CHECK(listener->assigned == std::set<topic_partition>{{prefix + "-a", 0}, {prefix + "-b", 0}, {prefix + "-b", 1}});
  CHECK((*c)->close().ok());
}

TEST_CASE("consumer: positions carry leader epochs across a leader move and a restart from the committed offset",
          "[consumer]") {
  auto& cluster = cluster_under_test::current();
  const auto topic = cluster.unique_name("epochs");
  const auto group = cluster.unique_name("group");
  const topic_partition tp{topic, 0};
  cluster.create_topic(topic, 1);
  produce(cluster, topic, 1, 10);
  auto check_offsets = [](const std::vector<consumer_record>& got, int64_t first, size_t count) {
    REQUIRE(got.size() == count);
    for (size_t i = 0; i < count; ++i) CHECK(got[i].offset == first + static_cast<int64_t>(i));
  };
  auto c1 = consumer::create(consumer_properties(cluster, group, "classic"));
  REQUIRE(c1.ok());
  REQUIRE((*c1)->assign({tp}).ok());
  check_offsets(poll_until(**c1, 10, 30s), 0, 10);
  if (cluster.supports_faults()) {
    // The mock moves the leader at once (its partitions share one log): the consumer's fetch is
    // refused by the old leader, metadata shows the new one, and reading goes on from the position.
    auto meta = cluster.metadata({topic});
    REQUIRE(meta.topics.size() == 1);
    const int32_t old_leader = meta.topics[0].partitions.at(0).leader_id;
    const int32_t new_leader = old_leader % cluster.broker_count() + 1;
    cluster.set_leader(topic, 0, new_leader);
  }
  produce(cluster, topic, 1, 10);
  check_offsets(poll_until(**c1, 10, 30s), 10, 10);
  REQUIRE((*c1)->commit_sync().ok());
  auto committed = (*c1)->committed({tp});
  REQUIRE(committed.ok());
  REQUIRE(committed->at(tp));
  CHECK(committed->at(tp)->offset == 20);
  // Brook and Kafka stamp batches with the leader's epoch, and the commit carries it; the next
  // member's restored position is then validated against the leader with OffsetForLeaderEpoch
  // before it fetches. (librdkafka 2.0.2's mock has no leader epochs nor OffsetForLeaderEpoch.)
  if (cluster.kind() != brook::test::cluster_kind::mock) CHECK(committed->at(tp)->leader_epoch.has_value());
  CHECK((*c1)->close().ok());
  produce(cluster, topic, 1, 5);
  auto c2 = consumer::create(consumer_properties(cluster, group, "classic"));
  REQUIRE(c2.ok());
  REQUIRE((*c2)->assign({tp}).ok());
  check_offsets(poll_until(**c2, 5, 30s), 20, 5);
  auto extra = (*c2)->poll(500ms);  // nothing read twice
  REQUIRE(extra.ok());
  CHECK(extra->empty());
  CHECK((*c2)->close().ok());
}

TEST_CASE("consumer: the listener can commit in on_partitions_revoked when the member closes", "[consumer][classic]") {
  auto& cluster = cluster_under_test::current();
  const auto topic = cluster.unique_name("revoke-commit");
  const auto group = cluster.unique_name("group");
  cluster.create_topic(topic, 1);
  produce(cluster, topic, 1, 4);
  struct committing_listener : brook::client::rebalance_listener {
    consumer* owner = nullptr;
    bool committed = false;
    void on_partitions_revoked(const std::vector<topic_partition>& partitions) override {
      if (partitions.empty()) return;
      committed = owner->commit_sync().ok();
    }
  };
  auto c = consumer::create(consumer_properties(cluster, group, "classic"));
  REQUIRE(c.ok());
  auto listener = std::make_shared<committing_listener>();
  listener->owner = c->get();
  REQUIRE((*c)->subscribe({topic}, listener).ok());
  REQUIRE(poll_until(**c, 4, 60s).size() == 4);
  REQUIRE((*c)->close().ok());
  CHECK(listener->committed);
  auto check = consumer::create(consumer_properties(cluster, group, ""));
  REQUIRE(check.ok());
  auto committed = (*check)->committed({{topic, 0}});
  REQUIRE(committed.ok());
  REQUIRE(committed->at({topic, 0}));
  CHECK(committed->at({topic, 0})->offset == 4);
  (void)(*check)->close();
}
