#include "client/producing/partitioner.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

using namespace brook::client::producing;

namespace {
std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
// Draws from a fixed list, repeating the last value.
builtin_partitioner::random_source sequence(std::vector<int32_t> values) {
  auto index = std::make_shared<size_t>(0);
  return [values, index] {
    const size_t i = std::min(*index, values.size() - 1);
    ++*index;
    return values[i];
  };
}
}  // namespace

TEST_CASE("murmur2 matches Kafka's Utils.murmur2 test vectors", "[producing][partitioner]") {
  // From Kafka's UtilsTest.testMurmur2.
  const std::map<std::string, int32_t> cases = {
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107},
  };
  for (const auto& [input, expected] : cases) {
    INFO(input);
    CHECK(murmur2(bytes_of(input)) == expected);
  }
}

TEST_CASE("toPositive clears the sign bit rather than negating", "[producing][partitioner]") {
  CHECK(to_positive(0) == 0);
  CHECK(to_positive(5) == 5);
  CHECK(to_positive(-1) == 0x7fffffff);
  CHECK(to_positive(INT32_MIN) == 0);
  CHECK(to_positive(-973932308) == (-973932308 & 0x7fffffff));
}

TEST_CASE("a key's partition is toPositive(murmur2(key)) % partitions", "[producing][partitioner]") {
  for (const std::string key : {"21", "foobar", "abc", "a-little-bit-long-string"}) {
    for (int32_t n : {1, 3, 7, 100}) {
      CHECK(partition_for_key(bytes_of(key), n) == (murmur2(bytes_of(key)) & 0x7fffffff) % n);
    }
  }
  // Worked value: murmur2("foobar") = -790332482 -> toPositive 1357151166 -> % 3 = 0.
  CHECK(partition_for_key(bytes_of("foobar"), 3) == 1357151166 % 3);
  // An empty key hashes too (it is not a null key).
  CHECK(partition_for_key(bytes_of(""), 10) >= 0);
}

TEST_CASE("the sticky partition holds until batch.size bytes went to it", "[producing][partitioner]") {
  topic_availability topic{3, {0, 1, 2}};
  builtin_partitioner p("t", 1000, sequence({4, 5, 6}));
  auto first = p.peek_current(topic);
  CHECK(first->partition == 4 % 3);
  p.update_partition_info(first, 600, topic);
  CHECK(p.peek_current(topic) == first);
  CHECK_FALSE(p.is_partition_changed(first));
  p.update_partition_info(first, 400, topic);  // 1000 bytes: switch
  CHECK(p.is_partition_changed(first));
  CHECK(p.peek_current(topic)->partition == 5 % 3);
}

TEST_CASE("switching waits for a full batch, up to twice batch.size", "[producing][partitioner]") {
  topic_availability topic{3, {0, 1, 2}};
  builtin_partitioner p("t", 1000, sequence({0, 1, 2}));
  auto first = p.peek_current(topic);
  p.update_partition_info(first, 1500, topic, /*enable_switch=*/false);
  CHECK_FALSE(p.is_partition_changed(first));
  p.update_partition_info(first, 500, topic, false);  // 2000 = 2 x batch.size: switch anyway
  CHECK(p.is_partition_changed(first));
}

TEST_CASE("records without a key go only to partitions that have a leader", "[producing][partitioner]") {
  topic_availability topic{4, {1, 3}};
  builtin_partitioner p("t", 1, sequence({0, 1, 2, 3, 4, 5}));
  for (int i = 0; i < 6; ++i) {
    auto info = p.peek_current(topic);
    CHECK((info->partition == 1 || info->partition == 3));
    p.update_partition_info(info, 1, topic);
  }
  // None available: any partition.
  topic_availability none{4, {}};
  builtin_partitioner q("t", 1, sequence({7}));
  CHECK(q.peek_current(none)->partition == 7 % 4);
}

TEST_CASE("adaptive partitioning weighs partitions by inverse queue size", "[producing][partitioner]") {
  // KIP-794's example: queue sizes 0 3 1 -> weights 4 1 3 -> cumulative 4 5 8.
  builtin_partitioner p("t", 1, sequence({0, 3, 4, 5, 7, 8 + 4}));
  p.update_partition_load_stats({0, 3, 1}, {0, 1, 2}, 3);
  REQUIRE(p.load_stats_range_end() == 8);
  topic_availability topic{3, {0, 1, 2}};
  std::vector<int32_t> picked;
  auto info = p.peek_current(topic);
  picked.push_back(info->partition);
  for (int i = 0; i < 5; ++i) {
    p.update_partition_info(info, 1, topic);
    info = p.peek_current(topic);
    picked.push_back(info->partition);
  }
  // draws 0,3 -> partition 0; 4 -> 1; 5,7 -> 2; 12 % 8 = 4 -> 1.
  CHECK(picked == std::vector<int32_t>{0, 0, 1, 2, 2, 1});
}

TEST_CASE("load stats are dropped when they cannot help", "[producing][partitioner]") {
  builtin_partitioner p("t", 1);
  p.update_partition_load_stats({2, 2, 2}, {0, 1, 2}, 3);  // all equal
  CHECK_FALSE(p.load_stats_range_end());
  p.update_partition_load_stats({5}, {0}, 1);  // a single partition
  CHECK_FALSE(p.load_stats_range_end());
  p.update_partition_load_stats({}, {}, 0);  // adaptive off
  CHECK_FALSE(p.load_stats_range_end());
  // Equal sizes but a partition left out for being unavailable: still weighted (only the included ones).
  p.update_partition_load_stats({2, 2, 0}, {0, 2, -1}, 2);
  REQUIRE(p.load_stats_range_end());
  CHECK(*p.load_stats_range_end() == 2);
}
