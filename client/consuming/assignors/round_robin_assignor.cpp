#include "client/consuming/assignors/round_robin_assignor.hpp"

#include <algorithm>

namespace brook::client::consuming::assignors {

group_assignment round_robin_assignor::assign(const partition_counts& partitions,
                                              const std::vector<member_subscription>& members) {
  group_assignment out;
  for (const auto& m : members) out[m.member_id];
  if (members.empty()) return out;
  auto ordered = members;
  std::sort(ordered.begin(), ordered.end(), member_order);
  auto subscribes = [](const member_subscription& m, const std::string& topic) {
    return std::find(m.sub.topics.begin(), m.sub.topics.end(), topic) != m.sub.topics.end();
  };
  size_t next = 0;  // the member the next partition is offered to, cycling
  for (const auto& entry : partitions) {  // std::map: topics in sorted order
    const std::string& topic = entry.first;
    const int32_t count = entry.second;
    if (std::none_of(ordered.begin(), ordered.end(), [&](const auto& m) { return subscribes(m, topic); })) continue;
    for (int32_t p = 0; p < count; ++p) {
      while (!subscribes(ordered[next], topic)) next = (next + 1) % ordered.size();
      out[ordered[next].member_id].push_back({topic, p});
      next = (next + 1) % ordered.size();
    }
  }
  return out;
}

}  // namespace brook::client::consuming::assignors
