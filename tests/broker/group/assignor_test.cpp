// The server-side assignors: balance, stickiness and co-partitioning.
#include <catch2/catch.hpp>

#include "broker/group/assignor.hpp"

using namespace brook::broker::group;
using brook::common::uuid;

namespace {

uuid numbered_topic_id(uint8_t n) {
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
  for (auto& [t, n] : topics) spec.partition_counts[numbered_topic_id(t)] = n;
  for (auto& m : members) {
    auto& am = spec.members[m];
    for (auto& [t, n] : topics) am.subscribed_topics.insert(numbered_topic_id(t));
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
  CHECK(second["a"][numbered_topic_id(1)] == std::set<int32_t>{0, 1, 2});

  // A balanced current assignment stays exactly as it is.
  auto spec3 = spec_of({"a", "b"}, {{1, 6}});
  spec3.members["a"].current[numbered_topic_id(1)] = {1, 3, 5};
  spec3.members["b"].current[numbered_topic_id(1)] = {0, 2, 4};
  auto third = assign_uniform(spec3);
  CHECK(third["a"][numbered_topic_id(1)] == std::set<int32_t>{1, 3, 5});
  CHECK(third["b"][numbered_topic_id(1)] == std::set<int32_t>{0, 2, 4});
}

TEST_CASE("uniform respects heterogeneous subscriptions") {
  assignment_spec spec;
  spec.partition_counts[numbered_topic_id(1)] = 4;
  spec.partition_counts[numbered_topic_id(2)] = 2;
  spec.members["a"].subscribed_topics = {numbered_topic_id(1)};
  spec.members["b"].subscribed_topics = {numbered_topic_id(1), numbered_topic_id(2)};
  auto r = assign_uniform(spec);
  require_complete(spec, r);
  CHECK(r["a"].count(numbered_topic_id(2)) == 0);
  CHECK(count(r["a"]) == 3);
  CHECK(count(r["b"]) == 3);
}

TEST_CASE("uniform drops partitions of topics a member no longer subscribes to") {
  auto spec = spec_of({"a", "b"}, {{1, 2}});
  spec.members["a"].subscribed_topics.clear();
  spec.members["a"].current[numbered_topic_id(1)] = {0, 1};
  auto r = assign_uniform(spec);
  CHECK(r["a"].empty());
  CHECK(count(r["b"]) == 2);
}

TEST_CASE("range gives co-partitioned contiguous ranges") {
  auto spec = spec_of({"a", "b"}, {{1, 5}, {2, 5}});
  auto r = assign_range(spec);
  require_complete(spec, r);
  CHECK(r["a"][numbered_topic_id(1)] == std::set<int32_t>{0, 1, 2});
  CHECK(r["a"][numbered_topic_id(2)] == std::set<int32_t>{0, 1, 2});
  CHECK(r["b"][numbered_topic_id(1)] == std::set<int32_t>{3, 4});
  CHECK(r["b"][numbered_topic_id(2)] == std::set<int32_t>{3, 4});
}

TEST_CASE("assignors by name") {
  CHECK(is_known_assignor("uniform"));
  CHECK(is_known_assignor("range"));
  CHECK_FALSE(is_known_assignor("sticky"));
  CHECK_FALSE(run_assignor("sticky", assignment_spec{}).has_value());
}

TEST_CASE("range hands out ranges afresh, static members first, as Kafka 4.4's RangeAssignor") {
  // a and b held 0-2 and 3-5; c joins: the ranges follow the members' order, not what they held.
  auto spec = spec_of({"a", "b", "c"}, {{1, 6}});
  spec.members["a"].current[numbered_topic_id(1)] = {0, 1, 2};
  spec.members["b"].current[numbered_topic_id(1)] = {3, 4, 5};
  auto r = assign_range(spec);
  require_complete(spec, r);
  CHECK(r["a"][numbered_topic_id(1)] == std::set<int32_t>{0, 1});
  CHECK(r["b"][numbered_topic_id(1)] == std::set<int32_t>{2, 3});
  CHECK(r["c"][numbered_topic_id(1)] == std::set<int32_t>{4, 5});

  // With an uneven count the first members take one more.
  auto uneven = spec_of({"a", "b", "c"}, {{1, 7}});
  uneven.members["b"].current[numbered_topic_id(1)] = {0, 1, 2, 3};
  auto u = assign_range(uneven);
  require_complete(uneven, u);
  CHECK(u["a"][numbered_topic_id(1)] == std::set<int32_t>{0, 1, 2});
  CHECK(u["b"][numbered_topic_id(1)] == std::set<int32_t>{3, 4});
  CHECK(u["c"][numbered_topic_id(1)] == std::set<int32_t>{5, 6});

  // Static members come first, ordered by instance id, whatever their member ids.
  auto statics = spec_of({"a", "b", "c"}, {{1, 6}});
  statics.members["c"].instance_id = "i-1";
  statics.members["b"].instance_id = "i-2";
  auto s2 = assign_range(statics);
  require_complete(statics, s2);
  CHECK(s2["c"][numbered_topic_id(1)] == std::set<int32_t>{0, 1});
  CHECK(s2["b"][numbered_topic_id(1)] == std::set<int32_t>{2, 3});
  CHECK(s2["a"][numbered_topic_id(1)] == std::set<int32_t>{4, 5});
}

TEST_CASE("range: each topic split among its own subscribers") {
  auto spec = spec_of({"a", "b", "c"}, {{1, 4}, {2, 3}});
  spec.members["a"].subscribed_topics = {numbered_topic_id(1)};
  spec.members["b"].subscribed_topics = {numbered_topic_id(1), numbered_topic_id(2)};
  spec.members["c"].subscribed_topics = {numbered_topic_id(2)};
  auto r = assign_range(spec);
  CHECK(r["a"] == topic_partitions{{numbered_topic_id(1), {0, 1}}});
  CHECK(r["b"] == topic_partitions{{numbered_topic_id(1), {2, 3}}, {numbered_topic_id(2), {0, 1}}});
  CHECK(r["c"] == topic_partitions{{numbered_topic_id(2), {2}}});
}

namespace {

// Deterministic pseudo-random numbers for the property tests.
struct lcg {
  uint64_t s;
  uint32_t next(uint32_t bound) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>((s >> 33) % bound);
  }
};

}  // namespace

TEST_CASE("assignors stay complete and balanced as members come and go (uniform sticky, range in ranges)") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    lcg rng{seed};
    std::map<uint8_t, int32_t> topics{{1, 1 + static_cast<int32_t>(rng.next(12))},
                                      {2, 1 + static_cast<int32_t>(rng.next(12))}};
    for (const char* name : {"uniform", "range"}) {
      assignment_result previous;
      std::set<std::string> members;
      for (int round = 0; round < 12; ++round) {
        // Someone joins, or (with several members) someone leaves.
        if (members.size() < 2 || rng.next(3) != 0) {
          members.insert("m" + std::to_string(rng.next(20)));
        } else {
          auto it = members.begin();
          std::advance(it, rng.next(static_cast<uint32_t>(members.size())));
          members.erase(it);
        }
        auto spec = spec_of({members.begin(), members.end()}, topics);
        for (const auto& m : members)
          if (auto p = previous.find(m); p != previous.end()) spec.members[m].current = p->second;
        auto r = *run_assignor(name, spec);
        require_complete(spec, r);
        size_t lo = SIZE_MAX, hi = 0;
        for (const auto& m : members) {
          lo = std::min(lo, count(r[m]));
          hi = std::max(hi, count(r[m]));
        }
        if (std::string(name) == "uniform") {
          // Homogeneous subscriptions: within one partition of each other.
          CHECK(hi - lo <= 1);
        } else {
          // Per topic: n / k each, and exactly n % k members with one more.
          for (const auto& [t, n] : topics) {
            const int32_t k = static_cast<int32_t>(members.size());
            int32_t with_extra = 0;
            for (const auto& m : members) {
              auto it = r[m].find(numbered_topic_id(t));
              const int32_t got = it == r[m].end() ? 0 : static_cast<int32_t>(it->second.size());
              CHECK((got == n / k || got == n / k + 1));
              if (got == n / k + 1) ++with_extra;
            }
            CHECK(with_extra == n % k);
          }
        }
        if (std::string(name) == "uniform") {
          // Stickiness: no member gives up a partition unless it holds more than its new share.
          for (const auto& m : members) {
            const auto& had = spec.members[m].current;
            size_t kept = 0, held = count(had);
            for (const auto& [t, parts] : had)
              for (int32_t p : parts)
                if (r[m].count(t) && r[m][t].count(p)) ++kept;
            CHECK(kept == std::min(held, count(r[m])));
          }
        } else {
          // Kafka 4.4's range: contiguous ranges in member order, whatever was held before.
          for (const auto& [t, n] : topics) {
            int32_t next = 0;
            for (const auto& m : members) {  // ordered by member id
              auto it = r[m].find(numbered_topic_id(t));
              if (it == r[m].end()) continue;
              for (int32_t p : it->second) CHECK(p == next++);
            }
            CHECK(next == n);
          }
        }
        previous = r;
      }
    }
  }
}

TEST_CASE("uniform with heterogeneous subscriptions leaves no move that would balance it") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    lcg rng{seed};
    assignment_spec spec;
    for (uint8_t t = 1; t <= 3; ++t) spec.partition_counts[numbered_topic_id(t)] = 1 + static_cast<int32_t>(rng.next(8));
    const int n = 2 + static_cast<int>(rng.next(4));
    for (int i = 0; i < n; ++i) {
      auto& m = spec.members["m" + std::to_string(i)];
      for (uint8_t t = 1; t <= 3; ++t)
        if (rng.next(2)) m.subscribed_topics.insert(numbered_topic_id(t));
      if (m.subscribed_topics.empty()) m.subscribed_topics.insert(numbered_topic_id(1 + rng.next(3)));
    }
    auto r = assign_uniform(spec);
    // Complete over the topics someone subscribes to, and only to subscribers.
    for (const auto& [id, tp] : r)
      for (const auto& [t, parts] : tp) CHECK(spec.members.at(id).subscribed_topics.count(t));
    // Kafka's balance: no member holds two more than another member that could take one of its partitions.
    for (const auto& [from, ftp] : r)
      for (const auto& [to, ttp] : r) {
        if (count(ftp) < count(ttp) + 2) continue;
        for (const auto& [t, parts] : ftp) CHECK_FALSE((!parts.empty() && spec.members.at(to).subscribed_topics.count(t)));
      }
  }
}
