#include "client/producing/record_accumulator.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace brook::client::producing;
using brook::client::delivery_report;
using brook::client::record;
using brook::client::topic_partition;
using brook::common::kafka_error;

namespace {

producer_config base_config() {
  auto c = producer_config::parse({{"bootstrap.servers", "localhost:9092"}});
  REQUIRE(c.ok());
  auto cfg = *c;
  cfg.linger_ms = 10;
  cfg.batch_size = 1024;
  cfg.retry_backoff_ms = 100;
  cfg.retry_backoff_max_ms = 100;  // constant backoff: no jitter in the tests
  return cfg;
}

// Three partitions of "t": 0 and 1 led by broker 1, 2 by broker 2.
cluster_snapshot three_partitions() {
  cluster_snapshot c;
  c.topics["t"] = {{0, 1, 5}, {1, 1, 5}, {2, 2, 5}};
  return c;
}

record keyed(std::string key, std::string value) {
  return record{.topic = std::string("t"), .key = std::move(key), .value = std::move(value)};
}

record to_partition(int32_t p, std::string value) {
  return record{.topic = std::string("t"), .partition = p, .value = std::move(value)};
}

}  // namespace

TEST_CASE("keyed records go to the murmur2 partition", "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  record_accumulator acc(cfg, clock);
  const auto cluster = three_partitions();
  for (std::string key : {"21", "foobar", "abc", "a-little-bit-long-string"}) {
    auto r = acc.append(keyed(key, "v"), clock.now_ms(), {}, cluster);
    REQUIRE(r.ok());
    CHECK(r->partition ==
          partition_for_key(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()), 3));
  }
  // partitioner.ignore.keys: keys are ignored for the choice.
  cfg.partitioner_ignore_keys = true;
  record_accumulator ignoring(cfg, clock, nullptr, [] { return 2; });
  CHECK(ignoring.append(keyed("21", "v"), 0, {}, cluster)->partition == 2);
}

TEST_CASE("unknown topics and partitions, and records too large, are refused", "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.max_request_size = 500;
  record_accumulator acc(cfg, clock);
  const auto cluster = three_partitions();
  record r = to_partition(0, "v");
  r.topic = "nope";
  CHECK(acc.append(r, 0, {}, cluster).code() == kafka_error::unknown_topic_or_partition);
  CHECK(acc.append(to_partition(3, "v"), 0, {}, cluster).code() == kafka_error::unknown_topic_or_partition);
  auto big = acc.append(to_partition(0, std::string(600, 'x')), 0, {}, cluster);
  REQUIRE(big.code() == kafka_error::message_too_large);
  CHECK(big.err().message.find("max.request.size") != std::string::npos);
}

TEST_CASE("a batch is ready when full or after linger.ms", "[producing][accumulator]") {
  manual_clock clock;
  record_accumulator acc(base_config(), clock);
  const auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  auto ready = acc.ready(cluster, clock.now_ms());
  CHECK(ready.ready_nodes.empty());
  CHECK(ready.next_ready_check_delay_ms == 10);
  clock.advance(10);
  ready = acc.ready(cluster, clock.now_ms());
  CHECK(ready.ready_nodes == std::set<int32_t>{1});

  // Filling a batch makes it ready at once.
  record_accumulator acc2(base_config(), clock);
  bool full = false;
  while (!full) {
    auto r = acc2.append(to_partition(2, std::string(100, 'x')), clock.now_ms(), {}, cluster);
    REQUIRE(r.ok());
    full = r->batch_is_full;
  }
  CHECK(acc2.ready(cluster, clock.now_ms()).ready_nodes == std::set<int32_t>{2});
}

TEST_CASE("a partition without a leader reports its topic", "[producing][accumulator]") {
  manual_clock clock;
  record_accumulator acc(base_config(), clock);
  auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(1, "a"), clock.now_ms(), {}, cluster).ok());
  cluster.topics["t"][1].leader = -1;
  clock.advance(100);
  auto ready = acc.ready(cluster, clock.now_ms());
  CHECK(ready.ready_nodes.empty());
  CHECK(ready.unknown_leader_topics == std::set<std::string>{"t"});
}

TEST_CASE("drain takes batches per broker within max.request.size", "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.batch_size = 200;
  record_accumulator acc(cfg, clock);
  const auto cluster = three_partitions();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(acc.append(to_partition(0, std::string(100, 'a')), clock.now_ms(), {}, cluster).ok());
    REQUIRE(acc.append(to_partition(1, std::string(100, 'b')), clock.now_ms(), {}, cluster).ok());
  }
  REQUIRE(acc.append(to_partition(2, "c"), clock.now_ms(), {}, cluster).ok());
  clock.advance(10);
  auto ready = acc.ready(cluster, clock.now_ms());
  CHECK(ready.ready_nodes == std::set<int32_t>{1, 2});
  // One batch per partition per drain; the request size stops a node's drain early.
  auto drained = acc.drain(cluster, ready.ready_nodes, 1000, clock.now_ms());
  CHECK(drained[1].size() == 2);
  CHECK(drained[2].size() == 1);
  for (const auto& b : drained[1]) CHECK(b->is_closed());
  auto small = acc.drain(cluster, {1}, 100, clock.now_ms());
  CHECK(small[1].size() == 1);  // a batch larger than the limit still goes alone
}

TEST_CASE("ordering: a partition is muted while its batch is in flight", "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.max_in_flight_requests_per_connection = 1;
  record_accumulator acc(cfg, clock);
  const auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  clock.advance(10);
  auto first = acc.drain(cluster, {1}, 1 << 20, clock.now_ms());
  REQUIRE(first[1].size() == 1);
  CHECK(acc.is_muted({"t", 0}));
  REQUIRE(acc.append(to_partition(0, "b"), clock.now_ms(), {}, cluster).ok());
  clock.advance(10);
  CHECK(acc.ready(cluster, clock.now_ms()).ready_nodes.empty());
  CHECK(acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1].empty());
  acc.unmute_partition({"t", 0});
  CHECK(acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1].size() == 1);
}

TEST_CASE("a retried batch waits for retry.backoff.ms unless the leader changed", "[producing][accumulator]") {
  manual_clock clock;
  record_accumulator acc(base_config(), clock);
  auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  clock.advance(10);
  auto batches = acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1];
  REQUIRE(batches.size() == 1);
  acc.reenqueue(batches[0], clock.now_ms());
  CHECK(batches[0]->attempts() == 1);
  clock.advance(50);
  auto ready = acc.ready(cluster, clock.now_ms());
  CHECK(ready.ready_nodes.empty());
  CHECK(ready.next_ready_check_delay_ms == 50);
  CHECK(acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1].empty());
  // KIP-951: a new leader epoch lets the retry go now.
  cluster.topics["t"][0].leader_epoch = 6;
  CHECK(acc.ready(cluster, clock.now_ms()).ready_nodes == std::set<int32_t>{1});
  cluster.topics["t"][0].leader_epoch = 5;
  record_accumulator acc2(base_config(), clock);
  REQUIRE(acc2.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  clock.advance(10);
  auto b2 = acc2.drain(cluster, {1}, 1 << 20, clock.now_ms())[1];
  acc2.reenqueue(b2[0], clock.now_ms());
  clock.advance(100);
  CHECK(acc2.ready(cluster, clock.now_ms()).ready_nodes == std::set<int32_t>{1});
}

TEST_CASE("batches past delivery.timeout.ms expire", "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.delivery_timeout_ms = 1000;
  record_accumulator acc(cfg, clock);
  auto cluster = three_partitions();
  std::vector<delivery_report> reports;
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), [&](const delivery_report& r) { reports.push_back(r); },
                     cluster)
              .ok());
  clock.advance(999);
  CHECK(acc.expired_batches(clock.now_ms()).empty());
  CHECK(acc.next_expiry_time_ms() == clock.now_ms() + 1);
  clock.advance(1);
  auto expired = acc.expired_batches(clock.now_ms());
  REQUIRE(expired.size() == 1);
  expired[0]->fail({kafka_error::request_timed_out, "Expiring 1 record(s) for t-0"});
  acc.deallocate(expired[0]);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].error.code == kafka_error::request_timed_out);
  CHECK(acc.used_memory() == 0);
  CHECK_FALSE(acc.has_incomplete());
}

TEST_CASE("buffer.memory: an append that does not fit waits, then fails after max.block.ms",
          "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.buffer_memory = 2048;  // two batches of 1024
  cfg.max_block_ms = 0;
  record_accumulator acc(cfg, clock);
  auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  REQUIRE(acc.append(to_partition(1, "b"), clock.now_ms(), {}, cluster).ok());
  CHECK(acc.used_memory() == 2048);
  auto full = acc.append(to_partition(2, "c"), clock.now_ms(), {}, cluster);
  REQUIRE(full.code() == kafka_error::request_timed_out);
  CHECK(full.err().message.find("max.block.ms") != std::string::npos);
  // An existing batch with room still takes records.
  CHECK(acc.append(to_partition(0, "a2"), clock.now_ms(), {}, cluster).ok());
}

TEST_CASE("buffer.memory: a waiting append proceeds when memory is freed", "[producing][accumulator]") {
  system_clock clock;
  auto cfg = base_config();
  cfg.buffer_memory = 1024;
  cfg.max_block_ms = 10000;
  record_accumulator acc(cfg, clock);
  auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    auto r = acc.append(to_partition(2, "c"), clock.now_ms(), {}, cluster);
    CHECK(r.ok());
    done = true;
  });
  while (acc.memory_waiters() == 0) std::this_thread::yield();
  CHECK_FALSE(done.load());
  // Memory exhausted with a waiter: every partition counts as ready.
  CHECK(acc.ready(cluster, clock.now_ms()).ready_nodes == std::set<int32_t>{1});
  auto drained = acc.drain(cluster, {1}, 1 << 20, clock.now_ms());
  REQUIRE(drained[1].size() == 1);
  drained[1][0]->complete(0, -1);
  acc.deallocate(drained[1][0]);
  waiter.join();
  CHECK(done.load());
  CHECK(acc.used_memory() == 1024);
}

TEST_CASE("buffer.memory: the wait ends after max.block.ms", "[producing][accumulator]") {
  system_clock clock;
  auto cfg = base_config();
  cfg.buffer_memory = 1024;
  cfg.max_block_ms = 50;
  record_accumulator acc(cfg, clock);
  auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  const auto start = clock.now_ms();
  auto r = acc.append(to_partition(2, "c"), clock.now_ms(), {}, cluster);
  CHECK(r.code() == kafka_error::request_timed_out);
  CHECK(clock.now_ms() - start >= 50);
  CHECK(acc.memory_waiters() == 0);
}

TEST_CASE("records without a key stick to one partition for batch.size bytes", "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.batch_size = 500;
  int draw = 0;
  record_accumulator acc(cfg, clock, nullptr, [&] { return draw++; });
  auto cluster = three_partitions();
  record r;
  r.topic = "t";
  r.value = std::string(90, 'x');
  std::map<int32_t, int> per_partition;
  std::vector<int32_t> order;
  for (int i = 0; i < 15; ++i) {
    auto a = acc.append(r, clock.now_ms(), {}, cluster);
    REQUIRE(a.ok());
    ++per_partition[a->partition];
    if (order.empty() || order.back() != a->partition) order.push_back(a->partition);
  }
  // 97 bytes a record, 158 for a batch's first: four records fill a 500-byte batch (449 bytes; a fifth would
  // pass 500). The fifth opens a second batch, and although 607 bytes went to the partition by then, Java
  // switches only when the queue's last batch is full, or at twice batch.size: the ninth record opens a third
  // batch and brings the partition to 1056 bytes, so the tenth goes elsewhere.
  CHECK(order == std::vector<int32_t>{0, 1});
  CHECK(per_partition[0] == 9);
  CHECK(per_partition[1] == 6);
}

TEST_CASE("adaptive partitioning prefers partitions with shorter queues", "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.batch_size = 100;
  record_accumulator acc(cfg, clock);
  auto cluster = three_partitions();
  // Partition 0 has four batches queued, 1 and 2 one each.
  for (int i = 0; i < 4; ++i) REQUIRE(acc.append(to_partition(0, std::string(80, 'x')), 0, {}, cluster).ok());
  REQUIRE(acc.append(to_partition(1, std::string(80, 'x')), 0, {}, cluster).ok());
  REQUIRE(acc.append(to_partition(2, std::string(80, 'x')), 0, {}, cluster).ok());
  acc.ready(cluster, clock.now_ms());
  // Queue sizes 4 1 1 -> weights 1 4 4 -> cumulative 1 5 9.
  CHECK(acc.partitioner_for("t").load_stats_range_end() == 9);

  // Off: no stats.
  cfg.partitioner_adaptive_partitioning_enable = false;
  record_accumulator uniform(cfg, clock);
  for (int i = 0; i < 4; ++i) REQUIRE(uniform.append(to_partition(0, std::string(80, 'x')), 0, {}, cluster).ok());
  REQUIRE(uniform.append(to_partition(1, std::string(80, 'x')), 0, {}, cluster).ok());
  REQUIRE(uniform.append(to_partition(2, std::string(80, 'x')), 0, {}, cluster).ok());
  uniform.ready(cluster, clock.now_ms());
  CHECK_FALSE(uniform.partitioner_for("t").load_stats_range_end());
}

TEST_CASE("partitions of a broker that cannot drain are left out after the availability timeout",
          "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.batch_size = 100;
  cfg.partitioner_availability_timeout_ms = 1000;
  record_accumulator acc(cfg, clock);
  auto cluster = three_partitions();
  for (int p = 0; p < 3; ++p) REQUIRE(acc.append(to_partition(p, std::string(80, 'x')), 0, {}, cluster).ok());
  acc.update_node_latency_stats(2, clock.now_ms(), true);
  clock.advance(1500);
  acc.update_node_latency_stats(2, clock.now_ms(), false);  // ready, not drainable for 1.5 s
  acc.update_node_latency_stats(1, clock.now_ms(), true);
  acc.ready(cluster, clock.now_ms());
  // Partition 2 (broker 2) is excluded: equal sizes among 0 and 1 -> cumulative 1 2.
  CHECK(acc.partitioner_for("t").load_stats_range_end() == 2);
}

TEST_CASE("idempotent drain assigns sequences and reenqueues in sequence order", "[producing][accumulator]") {
  manual_clock clock;
  idempotence_manager idem;
  auto cfg = base_config();
  cfg.batch_size = 100;
  record_accumulator acc(cfg, clock, &idem);
  auto cluster = three_partitions();
  for (int i = 0; i < 3; ++i) REQUIRE(acc.append(to_partition(0, std::string(80, 'x')), 0, {}, cluster).ok());
  clock.advance(10);
  CHECK(acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1].empty());  // no producer id yet
  idem.set_producer_id_and_epoch({77, 0});
  auto first = acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1];
  auto second = acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1];
  REQUIRE(first.size() == 1);
  REQUIRE(second.size() == 1);
  CHECK(first[0]->base_sequence() == 0);
  CHECK(second[0]->base_sequence() == 1);
  // Both fail; the later one comes back first, yet the queue is in sequence order.
  acc.reenqueue(second[0], clock.now_ms());
  acc.reenqueue(first[0], clock.now_ms());
  clock.advance(200);
  auto retry = acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1];
  REQUIRE(retry.size() == 1);
  CHECK(retry[0] == first[0]);
  // The next one waits until the retried first batch is done (one in flight while retrying).
  CHECK(acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1].empty());
  idem.handle_completed_batch(first[0], 0);
  auto next = acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1];
  REQUIRE(next.size() == 1);
  CHECK(next[0] == second[0]);
}

TEST_CASE("flush makes every batch ready and waits for them", "[producing][accumulator]") {
  manual_clock clock;
  record_accumulator acc(base_config(), clock);
  auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  acc.begin_flush();
  CHECK(acc.ready(cluster, clock.now_ms()).ready_nodes == std::set<int32_t>{1});
  auto drained = acc.drain(cluster, {1}, 1 << 20, clock.now_ms());
  std::thread completer([&] {
    drained[1][0]->complete(0, -1);
    acc.deallocate(drained[1][0]);
  });
  acc.await_flush_completion();
  completer.join();
  CHECK_FALSE(acc.flush_in_progress());
  CHECK_FALSE(acc.has_incomplete());
}

TEST_CASE("abort and close refuse later appends", "[producing][accumulator]") {
  manual_clock clock;
  record_accumulator acc(base_config(), clock);
  auto cluster = three_partitions();
  REQUIRE(acc.append(to_partition(0, "a"), clock.now_ms(), {}, cluster).ok());
  auto aborted = acc.abort_undrained_batches({kafka_error::producer_fenced, "fenced"});
  CHECK(aborted.size() == 1);
  CHECK_FALSE(acc.has_undrained());
  CHECK(acc.append(to_partition(0, "b"), clock.now_ms(), {}, cluster).code() == kafka_error::producer_fenced);
  record_accumulator closing(base_config(), clock);
  closing.close();
  CHECK_FALSE(closing.append(to_partition(0, "b"), clock.now_ms(), {}, cluster).ok());
}

TEST_CASE("every record's callback survives a full batch and runs once", "[producing][accumulator]") {
  manual_clock clock;
  auto cfg = base_config();
  cfg.batch_size = 200;
  record_accumulator acc(cfg, clock);
  auto cluster = three_partitions();
  int called = 0;
  for (int i = 0; i < 20; ++i)
    REQUIRE(acc.append(to_partition(0, std::string(60, 'x')), clock.now_ms(),
                       [&](const delivery_report& r) {
                         ++called;
                         CHECK(r.ok());
                       },
                       cluster)
                .ok());
  CHECK(acc.queue_size({"t", 0}) > 5);
  clock.advance(10);
  while (true) {
    auto drained = acc.drain(cluster, {1}, 1 << 20, clock.now_ms());
    if (drained[1].empty()) break;
    for (const auto& b : drained[1]) {
      b->complete(0, -1);
      acc.deallocate(b);
    }
  }
  CHECK(called == 20);
}

TEST_CASE("a record that opens a new batch keeps its delivery callback", "[producing][accumulator]") {
  manual_clock clock;
  record_accumulator acc(base_config(), clock);  // batch.size 1024: about 9 records of 100 bytes a batch
  const auto cluster = three_partitions();
  int reported = 0;
  for (int i = 0; i < 30; ++i)
    REQUIRE(acc.append(to_partition(0, std::string(100, 'v')), clock.now_ms(),
                       [&reported](const delivery_report&) { ++reported; }, cluster)
                .ok());
  REQUIRE(acc.queue_size({"t", 0}) > 1);
  acc.close();  // everything queued is ready
  size_t batches = 0;
  for (auto drained = acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1]; !drained.empty();
       drained = acc.drain(cluster, {1}, 1 << 20, clock.now_ms())[1])
    for (const auto& b : drained) {
      ++batches;
      b->complete(0, -1);
    }
  CHECK(batches > 1);
  CHECK(reported == 30);
}
