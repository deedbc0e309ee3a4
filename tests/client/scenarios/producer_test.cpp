// Brook's producer against each cluster of the harness (Brook, librdkafka's mock cluster, a real Kafka): keyed
// records land on Java's murmur2 partition, records of a key keep their order, every codec round-trips, acks
// 0/1/all deliver, and the idempotent producer writes each record once across retries and leader moves (the
// fault injection only the mock has). Records are read back with raw Fetch requests to the partition's
// leader, independent of the client under test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "brook/client/producer.hpp"
#include "client/producing/partitioner.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/record_batch.hpp"
#include "tests/client/harness/cluster_under_test.hpp"

namespace {

namespace proto = brook::common::protocol;
using brook::client::delivery_report;
using brook::client::producer;
using brook::client::properties;
using brook::client::record;
using brook::common::compression_codec;
using brook::test::cluster_under_test;
using namespace std::chrono_literals;

struct stored_record {
  int64_t offset = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  compression_codec codec = compression_codec::none;
  int64_t producer_id = -1;
};

std::string text(brook::common::bytes_view b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

// Every record of a partition, read from its leader.
std::vector<stored_record> read_partition(cluster_under_test& cluster, const std::string& topic, int32_t partition) {
  const int32_t leader = cluster.leader_of(topic, partition);
  std::optional<brook::test::broker_address> where;
  for (const auto& b : cluster.brokers())
    if (b.node_id == leader) where = b;
  REQUIRE(where);
  brook::test::wire_client c(where->host, where->port, "producer-scenario-reader");
  const int16_t version = std::min<int16_t>(cluster.version_for(proto::fetch::api_key), 12);
  REQUIRE(version >= 4);
  std::vector<stored_record> out;
  int64_t next = 0;
  for (int round = 0; round < 100; ++round) {
    proto::fetch::request req;
    req.max_wait_ms = 0;
    req.min_bytes = 0;
    req.max_bytes = 8 << 20;
    proto::fetch::fetch_topic t;
    t.topic = topic;
    proto::fetch::fetch_partition p;
    p.partition = partition;
    p.fetch_offset = next;
    p.partition_max_bytes = 4 << 20;
    t.partitions.push_back(p);
    req.topics.push_back(t);
    auto resp = c.call<proto::fetch::response>(proto::fetch::api_key, version, req);
    REQUIRE(resp.responses.size() == 1);
    REQUIRE(resp.responses[0].partitions.size() == 1);
    const auto& data = resp.responses[0].partitions[0];
    REQUIRE(data.error_code == 0);
    if (!data.records || data.records->empty()) break;
    auto bytes = data.records->memory();
    size_t pos = 0;
    bool progressed = false;
    while (pos < bytes.size()) {
      auto view = brook::common::record_batch_view::parse(bytes.subspan(pos));
      if (!view) break;  // a partial batch at the end of the answer
      pos += view->size_bytes();
      auto it = view->records(64 << 20);
      REQUIRE(it.ok());
      while (true) {
        auto r = it->next();
        REQUIRE(r.ok());
        if (!r->has_value()) break;
        const auto& rv = **r;
        if (rv.offset < next) continue;
        stored_record s;
        s.offset = rv.offset;
        if (rv.key) s.key = text(*rv.key);
        if (rv.value) s.value = text(*rv.value);
        s.codec = view->compression();
        s.producer_id = view->producer_id();
        out.push_back(std::move(s));
        next = rv.offset + 1;
        progressed = true;
      }
    }
    if (!progressed || next >= data.high_watermark) break;
  }
  return out;
}

std::unique_ptr<producer> make_producer(cluster_under_test& cluster, properties extra = {}) {
  properties props{{"bootstrap.servers", cluster.bootstrap()}, {"linger.ms", "5"}};
  for (const auto& [k, v] : extra) props[k] = v;
  auto p = producer::create(props);
  INFO((p.ok() ? std::string() : p.err().message));
  REQUIRE(p.ok());
  return std::move(*p);
}

}  // namespace

TEST_CASE("producer: keyed records land on the murmur2 partition", "[producer]") {
  auto& cluster = cluster_under_test::current();
  const auto topic = cluster.unique_name("producer-keys");
  cluster.create_topic(topic, 4);
  auto p = make_producer(cluster);
  std::vector<std::future<delivery_report>> reports;
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) {
    keys.push_back("key-" + std::to_string(i));
    reports.push_back(p->send_future(record{.topic = topic, .key = keys.back(), .value = "value-" + std::to_string(i)}));
  }
  std::map<int32_t, std::set<std::string>> expected;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto r = reports[i].get();
    INFO(r.error.message);
    REQUIRE(r.ok());
    const auto& k = keys[i];
    const int32_t java_partition = brook::client::producing::partition_for_key(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(k.data()), k.size()), 4);
    CHECK(r.partition == java_partition);
    expected[java_partition].insert(k);
  }
  // Known values of Java's DefaultPartitioner with 4 partitions, independent of the code under test.
  CHECK(brook::client::producing::to_positive(-790332482) % 4 == 2);  // "foobar"
  p->close();
  for (int32_t partition = 0; partition < 4; ++partition) {
    std::set<std::string> stored;
    for (const auto& s : read_partition(cluster, topic, partition)) stored.insert(*s.key);
    CHECK(stored == expected[partition]);
  }
}

TEST_CASE("producer: records without a key stick to a partition for a batch, then move on", "[producer]") {
  auto& cluster = cluster_under_test::current();
  const auto topic = cluster.unique_name("producer-sticky");
  cluster.create_topic(topic, 3);
  auto p = make_producer(cluster, {{"batch.size", "2000"}, {"linger.ms", "20"}});
  // A record to each partition first: the producer then knows every partition's leader, so the unkeyed
  // records below (all sent within a linger) choose among all three from the first one on.
  for (int32_t partition = 0; partition < 3; ++partition) {
    auto warm = p->send_future(record{.topic = topic, .partition = partition, .value = std::string("warm")}).get();
    INFO(warm.error.message);
    REQUIRE(warm.ok());
  }
  std::vector<std::future<delivery_report>> reports;
  // Each switch draws a partition at random, the current one included (as Java's partitioner does): 300
  // records make about fifteen draws, so that all of them landing on one partition (1 in 3^14) never happens.
  constexpr int record_count = 300;
  for (int i = 0; i < record_count; ++i)
    reports.push_back(p->send_future(record{.topic = topic, .value = std::string(200, 'v')}));
  std::vector<int32_t> partitions;
  for (auto& f : reports) {
    auto r = f.get();
    INFO(r.error.message);
    REQUIRE(r.ok());
    partitions.push_back(r.partition);
  }
  p->close();
  // A partition keeps the records until its batch is full past batch.size bytes (nine records of about 210
  // bytes fill a 2000-byte batch) or twice batch.size went to it: long runs, several partitions.
  size_t runs = 1, longest = 1, current = 1;
  for (size_t i = 1; i < partitions.size(); ++i) {
    if (partitions[i] == partitions[i - 1]) {
      longest = std::max(longest, ++current);
    } else {
      ++runs;
      current = 1;
    }
  }
  CHECK(std::set<int32_t>(partitions.begin(), partitions.end()).size() > 1);
  CHECK(longest >= 8);
  CHECK(runs <= record_count / 8 + 1);
}

TEST_CASE("producer: records of a key keep their order", "[producer]") {
  auto& cluster = cluster_under_test::current();
  const auto topic = cluster.unique_name("producer-order");
  cluster.create_topic(topic, 3);
  auto p = make_producer(cluster, {{"batch.size", "200"}});  // many small batches, several in flight
  std::atomic<int> failures{0};
  for (int i = 0; i < 300; ++i) {
    auto queued = p->send(record{.topic = topic, .key = "k" + std::to_string(i % 5), .value = std::to_string(i)},
                          [&](const delivery_report& r) {
                            if (!r.ok()) ++failures;
                          });
    REQUIRE(queued.ok());
  }
  REQUIRE(p->flush().ok());
  CHECK(failures == 0);
  p->close();
  std::map<std::string, std::vector<int>> by_key;
  for (int32_t partition = 0; partition < 3; ++partition)
    for (const auto& s : read_partition(cluster, topic, partition)) by_key[*s.key].push_back(std::stoi(*s.value));
  REQUIRE(by_key.size() == 5);
  for (const auto& [key, values] : by_key) {
    INFO(key);
    CHECK(values.size() == 60);
    CHECK(std::is_sorted(values.begin(), values.end()));
  }
}

TEST_CASE("producer: each codec round-trips", "[producer]") {
  auto& cluster = cluster_under_test::current();
  for (const auto& [name, codec] : std::vector<std::pair<std::string, compression_codec>>{
           {"none", compression_codec::none},
           {"gzip", compression_codec::gzip},
           {"snappy", compression_codec::snappy},
           {"lz4", compression_codec::lz4},
           {"zstd", compression_codec::zstd}}) {
    INFO(name);
    const auto topic = cluster.unique_name("producer-" + name);
    cluster.create_topic(topic, 1);
    auto p = make_producer(cluster, {{"compression.type", name}});
    std::vector<std::future<delivery_report>> reports;
    for (int i = 0; i < 50; ++i)
      reports.push_back(p->send_future(
          record{.topic = topic, .partition = 0, .value = "compressible value " + std::string(100, 'a' + i % 26)}));
    for (auto& f : reports) {
      auto r = f.get();
      INFO(r.error.message);
      CHECK(r.ok());
    }
    p->close();
    auto stored = read_partition(cluster, topic, 0);
    REQUIRE(stored.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(*stored[i].value == "compressible value " + std::string(100, 'a' + i % 26));
    if (cluster.kind() != brook::test::cluster_kind::kafka || codec != compression_codec::none)
      CHECK(stored[0].codec == codec);  // kept as the producer sent it (compression.type=producer)
  }
}

TEST_CASE("producer: acks 0, 1 and all deliver", "[producer]") {
  auto& cluster = cluster_under_test::current();
  for (const std::string acks : {"0", "1", "all"}) {
    INFO("acks=" << acks);
    const auto topic = cluster.unique_name("producer-acks");
    cluster.create_topic(topic, 1);
    auto p = make_producer(cluster, {{"acks", acks}});
    CHECK(p->idempotent() == (acks == "all"));
    std::vector<delivery_report> reports;
    for (int i = 0; i < 20; ++i) reports.push_back(p->send_sync(record{.topic = topic, .value = std::to_string(i)}));
    for (size_t i = 0; i < reports.size(); ++i) {
      INFO(reports[i].error.message);
      REQUIRE(reports[i].ok());
      if (acks == "0") CHECK(reports[i].offset == -1);
      else CHECK(reports[i].offset == static_cast<int64_t>(i));
    }
    p->close();
    // acks=0 has no answer to wait for: the broker may still be writing.
    std::vector<stored_record> stored;
    for (int attempt = 0; attempt < 50 && stored.size() < 20; ++attempt) {
      stored = read_partition(cluster, topic, 0);
      if (stored.size() < 20) std::this_thread::sleep_for(100ms);
    }
    CHECK(stored.size() == 20);
  }
}

TEST_CASE("producer: the awaitable face delivers", "[producer]") {
  auto& cluster = cluster_under_test::current();
  const auto topic = cluster.unique_name("producer-await");
  cluster.create_topic(topic, 2);
  auto p = make_producer(cluster);
  boost::asio::io_context io;
  std::vector<delivery_report> reports;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (int i = 0; i < 10; ++i) {
          // A named record: GCC 12 destroys an aggregate temporary inside a co_await expression twice.
          record r{.topic = topic, .key = "k", .value = std::to_string(i)};
          auto report = co_await p->async_send(std::move(r), boost::asio::use_awaitable);
          reports.push_back(std::move(report));
        }
      },
      boost::asio::detached);
  io.run();
  REQUIRE(reports.size() == 10);
  for (size_t i = 1; i < reports.size(); ++i) {
    REQUIRE(reports[i].ok());
    CHECK(reports[i].partition == reports[0].partition);
    CHECK(reports[i].offset == reports[i - 1].offset + 1);
  }
  // A record that cannot be queued completes with the error.
  delivery_report bad;
  boost::asio::io_context io2;
  boost::asio::co_spawn(
      io2,
      [&]() -> boost::asio::awaitable<void> {
        record r{.topic = ""};
        bad = co_await p->async_send(std::move(r), boost::asio::use_awaitable);
      },
      boost::asio::detached);
  io2.run();
  CHECK_FALSE(bad.ok());
}

TEST_CASE("producer: idempotent, each record written once across retries and leader moves", "[producer][faults]") {
  auto& cluster = cluster_under_test::current();
  if (!cluster.supports_faults()) BROOK_SKIP("needs the mock cluster's fault injection");
  const auto topic = cluster.unique_name("producer-idempotent");
  cluster.create_topic(topic, 1);
  auto p = make_producer(cluster, {{"retry.backoff.ms", "20"}, {"batch.size", "300"}});
  REQUIRE(p->idempotent());
  std::vector<std::future<delivery_report>> reports;
  for (int i = 0; i < 50; ++i) reports.push_back(p->send_future(record{.topic = topic, .value = std::to_string(i)}));
  REQUIRE(p->flush().ok());
  // Produce answers fail for a while: the batches are retried with their sequences.
  cluster.push_request_errors(proto::produce::api_key, {6, 6, 7, 6});
  for (int i = 50; i < 100; ++i) reports.push_back(p->send_future(record{.topic = topic, .value = std::to_string(i)}));
  // The leader moves mid-stream: NOT_LEADER_OR_FOLLOWER, a metadata refresh, and the new leader.
  const int32_t old_leader = cluster.leader_of(topic, 0);
  const int32_t new_leader = old_leader % cluster.broker_count() + 1;
  cluster.set_leader(topic, 0, new_leader);
  for (int i = 100; i < 150; ++i) reports.push_back(p->send_future(record{.topic = topic, .value = std::to_string(i)}));
  for (auto& f : reports) {
    auto r = f.get();
    INFO(r.error.message);
    CHECK(r.ok());
  }
  p->close();
  auto stored = read_partition(cluster, topic, 0);
  std::vector<int> values;
  for (const auto& s : stored) values.push_back(std::stoi(*s.value));
  std::vector<int> expected(150);
  for (int i = 0; i < 150; ++i) expected[i] = i;
  CHECK(values == expected);  // every record once, in order
}
