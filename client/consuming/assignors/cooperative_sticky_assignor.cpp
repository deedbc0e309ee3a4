#include "client/consuming/assignors/cooperative_sticky_assignor.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "common/protocol/wire.hpp"

namespace brook::client::consuming::assignors {

namespace {

// The generation a member's owned partitions come from: the subscription's own field (v2+), else
// the int32 this assignor puts in its user data (members speaking v0/v1), else unknown (-1).
int32_t member_generation(const subscription& s) {
  if (s.generation_id >= 0) return s.generation_id;
  if (!s.user_data) return -1;
  try {
    common::protocol::reader r(*s.user_data);
    return r.int32();
  } catch (const common::protocol::decode_error&) {
    return -1;
  }
}

bool subscribes(const member_subscription& m, const std::string& topic) {
  return std::find(m.sub.topics.begin(), m.sub.topics.end(), topic) != m.sub.topics.end();
}

}  // namespace

std::optional<common::protocol::bytes> cooperative_sticky_assignor::subscription_user_data(
    const std::set<std::string>&) const {
  common::protocol::writer w;
  w.int32(generation_);
  return w.take();
}

namespace {

// The balanced, sticky assignment; `valid_owner` receives the previous owner whose claim held.
group_assignment balanced_sticky(const partition_counts& partitions, const std::vector<member_subscription>& members,
                                 std::map<topic_partition, std::string>& valid_owner) {
  auto ordered = members;
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.member_id < b.member_id; });
  const size_t n = ordered.size();
  std::vector<std::set<topic_partition>> held(n);  // the assignment being built, by member index
  std::vector<std::set<topic_partition>> kept(n);  // what each member keeps from before
  auto eligible = [&](size_t i, const std::string& topic) {
    return partitions.count(topic) && subscribes(ordered[i], topic);
  };

  // Valid previous owners: the single claimant of the newest generation claiming the partition.
  struct claim {
    int32_t generation = -2;
    std::vector<size_t> members;
  };
  std::map<topic_partition, claim> claims;
  for (size_t i = 0; i < n; ++i) {
    const int32_t gen = member_generation(ordered[i].sub);
    std::set<topic_partition> seen;
    for (const auto& tp : ordered[i].sub.owned_partitions) {
      auto count = partitions.find(tp.topic);
      if (count == partitions.end() || tp.partition < 0 || tp.partition >= count->second) continue;
      if (!eligible(i, tp.topic) || !seen.insert(tp).second) continue;
      auto& c = claims[tp];
      if (gen > c.generation) c = claim{gen, {i}};
      else if (gen == c.generation) c.members.push_back(i);
    }
  }
  std::set<topic_partition> assigned;
  for (const auto& [tp, c] : claims)
    if (c.members.size() == 1) {
      held[c.members[0]].insert(tp);
      kept[c.members[0]].insert(tp);
      valid_owner[tp] = ordered[c.members[0]].member_id;
      assigned.insert(tp);
    }

  // The rest, partitions with the fewest candidate members first, each to its least loaded candidate.
  std::vector<std::pair<size_t, topic_partition>> unassigned;
  for (const auto& [topic, count] : partitions) {
    size_t candidates = 0;
    for (size_t i = 0; i < n; ++i) candidates += eligible(i, topic) ? 1 : 0;
    if (candidates == 0) continue;
    for (int32_t p = 0; p < count; ++p)
      if (!assigned.count({topic, p})) unassigned.push_back({candidates, {topic, p}});
  }
  std::sort(unassigned.begin(), unassigned.end());
  for (const auto& [candidates, tp] : unassigned) {
    size_t best = n;
    for (size_t i = 0; i < n; ++i)
      if (eligible(i, tp.topic) && (best == n || held[i].size() < held[best].size())) best = i;
    held[best].insert(tp);
  }

  // Balance: while a partition can go from its member to a candidate holding two or more fewer,
  // move it, taking from the most loaded members first and, from each, partitions it did not own
  // before first. Every move lowers the sum of squared counts, so this ends.
  for (;;) {
    std::vector<size_t> by_load(n);
    for (size_t i = 0; i < n; ++i) by_load[i] = i;
    std::stable_sort(by_load.begin(), by_load.end(),
                     [&](size_t a, size_t b) { return held[a].size() > held[b].size(); });
    bool moved = false;
    for (size_t from : by_load) {
      std::vector<topic_partition> order;
      for (auto it = held[from].rbegin(); it != held[from].rend(); ++it)
        if (!kept[from].count(*it)) order.push_back(*it);
      for (auto it = held[from].rbegin(); it != held[from].rend(); ++it)
        if (kept[from].count(*it)) order.push_back(*it);
      for (const auto& tp : order) {
        size_t to = n;
        for (size_t i = 0; i < n; ++i)
          if (i != from && eligible(i, tp.topic) && held[i].size() + 1 < held[from].size() &&
              (to == n || held[i].size() < held[to].size()))
            to = i;
        if (to == n) continue;
        held[from].erase(tp);
        held[to].insert(tp);
        moved = true;
        break;
      }
      if (moved) break;
    }
    if (!moved) break;
  }

  group_assignment out;
  for (size_t i = 0; i < n; ++i) out[ordered[i].member_id] = {held[i].begin(), held[i].end()};
  return out;
}

}  // namespace

group_assignment cooperative_sticky_assignor::sticky_assign(const partition_counts& partitions,
                                                            const std::vector<member_subscription>& members) {
  std::map<topic_partition, std::string> valid_owner;
  return balanced_sticky(partitions, members, valid_owner);
}

group_assignment cooperative_sticky_assignor::assign(const partition_counts& partitions,
                                                     const std::vector<member_subscription>& members) {
  std::map<topic_partition, std::string> valid_owner;
  group_assignment out = balanced_sticky(partitions, members, valid_owner);
  // Cooperative: a partition given to a member that was not its valid owner, while some member
  // reports owning it and is not keeping it, waits for the next rebalance (after that member has
  // revoked it). A stale claim does not count as owning for the receiver: its old owner of a newer
  // generation still holds the partition.
  std::set<topic_partition> revoked;
  std::map<topic_partition, std::string> added;
  for (const auto& m : members) {
    const auto& now = out[m.member_id];
    for (const auto& tp : now) {
      auto owner = valid_owner.find(tp);
      if (owner == valid_owner.end() || owner->second != m.member_id) added[tp] = m.member_id;
    }
    for (const auto& tp : m.sub.owned_partitions)
      if (std::find(now.begin(), now.end(), tp) == now.end()) revoked.insert(tp);
  }
  for (const auto& [tp, member] : added)
    if (revoked.count(tp)) {
      auto& list = out[member];
      list.erase(std::remove(list.begin(), list.end(), tp), list.end());
    }
  return out;
}

}  // namespace brook::client::consuming::assignors
