// The server-side assignors: balance, stickiness and co-partitioning.
#include <catch2/catch.hpp>

#include "broker/group/assignor.hpp"

using namespace brook::broker::group;
using brook::common::uuid;

namespace {

uuid topic_id(uint8_t n) {
  uuid id;
  id.bytes[15] = n;
  return id;
}

size_t count(const topic_partitions& tp) {
  size_t n = 0;
  for (const auto& [t, parts] : tp) n += parts.size();
  return n;
}

assignment_spec spec_of(std::vector<std::string> members, std::map<uint8_t, int32_t> topics) {
  assignment_spec spec;
  for (auto& [t, n] : topics) spec.partition_counts[topic_id(t)] = n;
  for (auto& m : members) {
    auto& am = spec.members[m];
    for (auto& [t, n] : topics) am.subscribed_topics.insert(topic_id(t));
  }
  return spec;
}

// Every partition of every topic is assigned exactly once.
void require_complete(const assignment_spec& spec, const assignment_result& r) {
  std::map<uuid, std::set<int32_t>> seen;
  for (const auto& [m, tp] : r)
    for (const auto& [t, parts] : tp)
      for (int32_t p : parts) REQUIRE(seen[t].insert(p).second);
  for (const auto& [t, n] : spec.partition_counts) REQUIRE(seen[t].size() == static_cast<size_t>(n));
}

}  // namespace

TEST_CASE("uniform spreads partitions evenly over members") {
  auto spec = spec_of({"a", "b", "c"}, {{1, 7}, {2, 3}});
  auto r = assign_uniform(spec);
  require_complete(spec, r);
  for (const auto& [m, tp] : r) {
    CHECK(count(tp) >= 3);
    CHECK(count(tp) <= 4);
  }
}

TEST_CASE("uniform is sticky: a new member takes only what balance requires") {
  auto spec = spec_of({"a"}, {{1, 6}});
  auto first = assign_uniform(spec);
  REQUIRE(count(first["a"]) == 6);

  auto spec2 = spec_of({"a", "b"}, {{1, 6}});
  spec2.members["a"].current = first["a"];
  auto second = assign_uniform(spec2);
  require_complete(spec2, second);
  CHECK(count(second["a"]) == 3);
  CHECK(count(second["b"]) == 3);
  // a keeps its lowest partitions and gives up the rest.
  CHECK(second["a"][topic_id(1)] == std::set<int32_t>{0, 1, 2});

  // A balanced current assignment stays exactly as it is.
  auto spec3 = spec_of({"a", "b"}, {{1, 6}});
  spec3.members["a"].current[topic_id(1)] = {1, 3, 5};
  spec3.members["b"].current[topic_id(1)] = {0, 2, 4};
  auto third = assign_uniform(spec3);
  CHECK(third["a"][topic_id(1)] == std::set<int32_t>{1, 3, 5});
  CHECK(third["b"][topic_id(1)] == std::set<int32_t>{0, 2, 4});
}

TEST_CASE("uniform respects heterogeneous subscriptions") {
  assignment_spec spec;
  spec.partition_counts[topic_id(1)] = 4;
  spec.partition_counts[topic_id(2)] = 2;
  spec.members["a"].subscribed_topics = {topic_id(1)};
  spec.members["b"].subscribed_topics = {topic_id(1), topic_id(2)};
  auto r = assign_uniform(spec);
  require_complete(spec, r);
  CHECK(r["a"].count(topic_id(2)) == 0);
  CHECK(count(r["a"]) == 3);
  CHECK(count(r["b"]) == 3);
}

TEST_CASE("uniform drops partitions of topics a member no longer subscribes to") {
  auto spec = spec_of({"a", "b"}, {{1, 2}});
  spec.members["a"].subscribed_topics.clear();
  spec.members["a"].current[topic_id(1)] = {0, 1};
  auto r = assign_uniform(spec);
  CHECK(r["a"].empty());
  CHECK(count(r["b"]) == 2);
}

TEST_CASE("range gives co-partitioned contiguous ranges") {
  auto spec = spec_of({"a", "b"}, {{1, 5}, {2, 5}});
  auto r = assign_range(spec);
  require_complete(spec, r);
  CHECK(r["a"][topic_id(1)] == std::set<int32_t>{0, 1, 2});
  CHECK(r["a"][topic_id(2)] == std::set<int32_t>{0, 1, 2});
  CHECK(r["b"][topic_id(1)] == std::set<int32_t>{3, 4});
  CHECK(r["b"][topic_id(2)] == std::set<int32_t>{3, 4});
}

TEST_CASE("assignors by name") {
  CHECK(is_known_assignor("uniform"));
  CHECK(is_known_assignor("range"));
  CHECK_FALSE(is_known_assignor("sticky"));
  CHECK_FALSE(run_assignor("sticky", assignment_spec{}).has_value());
}
