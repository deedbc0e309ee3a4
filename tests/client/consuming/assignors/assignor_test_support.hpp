// Helpers shared by the assignor tests: members, expected lists, and the validity/balance checks of
// Kafka's own assignor tests (each partition once, only subscribed topics, balanced).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "client/consuming/assignors/assignor.hpp"

namespace brook::client::consuming::assignors::test {

inline member_subscription member(std::string id, std::vector<std::string> topics,
                                  std::vector<topic_partition> owned = {}, int32_t generation = -1,
                                  std::optional<std::string> instance = std::nullopt) {
  member_subscription m;
  m.member_id = std::move(id);
  m.group_instance_id = std::move(instance);
  m.sub.topics = std::move(topics);
  m.sub.owned_partitions = std::move(owned);
  m.sub.generation_id = generation;
  return m;
}

inline std::vector<topic_partition> sorted(std::vector<topic_partition> v) {
  std::sort(v.begin(), v.end());
  return v;
}

inline bool subscribes(const member_subscription& m, const std::string& topic) {
  return std::find(m.sub.topics.begin(), m.sub.topics.end(), topic) != m.sub.topics.end();
}

// Every member present, no partition twice, only subscribed topics and existing partitions; when
// `complete`, every partition of a subscribed topic assigned; when `balanced`, no partition could go
// to a member subscribed to its topic holding two or more fewer.
inline void check_assignment(const partition_counts& partitions, const std::vector<member_subscription>& members,
                             const group_assignment& out, bool complete, bool balanced) {
  REQUIRE(out.size() == members.size());
  std::set<topic_partition> seen;
  for (const auto& m : members) {
    REQUIRE(out.count(m.member_id));
    for (const auto& tp : out.at(m.member_id)) {
      INFO(m.member_id << " got " << to_string(tp));
      CHECK(subscribes(m, tp.topic));
      REQUIRE(partitions.count(tp.topic));
      CHECK(tp.partition < partitions.at(tp.topic));
      CHECK(seen.insert(tp).second);
    }
  }
  if (complete)
    for (const auto& [name, count] : partitions) {
      const std::string& topic = name;  // a lambda may not capture a structured binding (C++20, clang 14)
      bool wanted = std::any_of(members.begin(), members.end(), [&](const auto& m) { return subscribes(m, topic); });
      if (!wanted) continue;
      for (int32_t p = 0; p < count; ++p) {
        INFO("unassigned " << topic << "-" << p);
        CHECK(seen.count({topic, p}));
      }
    }
  if (balanced)
    for (const auto& a : members)
      for (const auto& tp : out.at(a.member_id))
        for (const auto& b : members) {
          if (!subscribes(b, tp.topic)) continue;
          INFO(to_string(tp) << " could move from " << a.member_id << " to " << b.member_id);
          CHECK(out.at(b.member_id).size() + 1 >= out.at(a.member_id).size());
        }
}

}  // namespace brook::client::consuming::assignors::test
