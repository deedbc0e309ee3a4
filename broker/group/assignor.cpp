#include "broker/group/assignor.hpp"

#include <algorithm>
#include <utility>

namespace brook::broker::group {

namespace {

using partition = std::pair<common::uuid, int32_t>;

bool exists(const assignment_spec& spec, const common::uuid& topic, int32_t p) {
  auto it = spec.partition_counts.find(topic);
  return it != spec.partition_counts.end() && p >= 0 && p < it->second;
}

}  // namespace

assignment_result assign_uniform(const assignment_spec& spec) {
  assignment_result out;
  std::map<std::string, size_t> count;
  for (const auto& [id, m] : spec.members) {
    out[id];
    count[id] = 0;
  }
  std::set<partition> taken;
  // 1. Stickiness: every member keeps what it had, where it still subscribes and the partition exists.
  for (const auto& [id, m] : spec.members)
    for (const auto& [topic, parts] : m.current) {
      if (!m.subscribed_topics.count(topic)) continue;
      for (int32_t p : parts)
        if (exists(spec, topic, p) && taken.insert({topic, p}).second) {
          out[id][topic].insert(p);
          ++count[id];
        }
    }
  // Members able to take each topic.
  std::map<common::uuid, std::vector<std::string>> subscribers;
  for (const auto& [id, m] : spec.members)
    for (const auto& t : m.subscribed_topics)
      if (spec.partition_counts.count(t)) subscribers[t].push_back(id);
  // 2. Every unowned partition goes to its least loaded subscriber (ties: the smaller member id).
  for (const auto& [topic, n] : spec.partition_counts) {
    auto subs = subscribers.find(topic);
    if (subs == subscribers.end()) continue;
    for (int32_t p = 0; p < n; ++p) {
      if (taken.count({topic, p})) continue;
      const std::string* best = nullptr;
      for (const auto& id : subs->second)
        if (!best || count[id] < count[*best]) best = &id;
      out[*best][topic].insert(p);
      ++count[*best];
      taken.insert({topic, p});
    }
  }
  // 3. Balance: while some member holds two more than another member that could take one of its
  // partitions, move its highest-numbered such partition. Each move lowers the sum of squared
  // counts, so this ends.
  for (bool moved = true; moved;) {
    moved = false;
    std::vector<std::string> by_load;
    for (const auto& [id, c] : count) by_load.push_back(id);
    std::stable_sort(by_load.begin(), by_load.end(),
                     [&](const std::string& a, const std::string& b) { return count[a] > count[b]; });
    for (const auto& from : by_load) {
      for (auto it = by_load.rbegin(); it != by_load.rend() && !moved; ++it) {
        const std::string& to = *it;
        if (count[from] < count[to] + 2) break;
        const auto& to_subs = spec.members.at(to).subscribed_topics;
        auto& owned = out[from];
        for (auto t = owned.rbegin(); t != owned.rend() && !moved; ++t) {
          if (!to_subs.count(t->first) || t->second.empty()) continue;
          int32_t p = *t->second.rbegin();
          common::uuid topic = t->first;
          t->second.erase(p);
          if (t->second.empty()) owned.erase(topic);
          out[to][topic].insert(p);
          --count[from];
          ++count[to];
          moved = true;
        }
      }
      if (moved) break;
    }
  }
  return out;
}

assignment_result assign_range(const assignment_spec& spec) {
  assignment_result out;
  // Kafka 4.4's order: members with an instance id first (by instance id), then the others by id.
  std::vector<std::string> order;
  for (const auto& [id, m] : spec.members) {
    out[id];
    order.push_back(id);
  }
  std::stable_sort(order.begin(), order.end(), [&spec](const std::string& x, const std::string& y) {
    const auto& a = spec.members.at(x).instance_id;
    const auto& b = spec.members.at(y).instance_id;
    if (a && b) return *a < *b;
    return a.has_value() && !b.has_value();  // otherwise the member ids' order stands
  });
  for (const auto& [topic, n] : spec.partition_counts) {
    std::vector<const std::string*> subs;
    for (const auto& id : order)
      if (spec.members.at(id).subscribed_topics.count(topic)) subs.push_back(&id);
    if (subs.empty() || n <= 0) continue;
    const int32_t quota = n / static_cast<int32_t>(subs.size());
    int32_t extra = n % static_cast<int32_t>(subs.size());  // the first members take one more
    int32_t next = 0;
    for (const std::string* id : subs) {
      int32_t share = quota;
      if (extra > 0) {
        ++share;
        --extra;
      }
      const int32_t end = std::min(next + share, n);
      for (; next < end; ++next) out[*id][topic].insert(next);
    }
  }
  return out;
}

bool is_known_assignor(std::string_view name) { return name == "uniform" || name == "range"; }

std::optional<assignment_result> run_assignor(std::string_view name, const assignment_spec& spec) {
  if (name == "uniform") return assign_uniform(spec);
  if (name == "range") return assign_range(spec);
  return std::nullopt;
}

}  // namespace brook::broker::group
