#include "client/consuming/assignors/range_assignor.hpp"

#include <algorithm>

namespace brook::client::consuming::assignors {

group_assignment range_assignor::assign(const partition_counts& partitions,
                                        const std::vector<member_subscription>& members) {
  group_assignment out;
  for (const auto& m : members) out[m.member_id];
  auto ordered = members;
  std::sort(ordered.begin(), ordered.end(), member_order);
  for (const auto& [topic, count] : partitions) {
    std::vector<const member_subscription*> subscribed;
    for (const auto& m : ordered)
      if (std::find(m.sub.topics.begin(), m.sub.topics.end(), topic) != m.sub.topics.end())
        subscribed.push_back(&m);
    if (subscribed.empty()) continue;
    const int32_t n = static_cast<int32_t>(subscribed.size());
    const int32_t per_member = count / n, with_extra = count % n;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t start = per_member * i + std::min(i, with_extra);
      const int32_t length = per_member + (i < with_extra ? 1 : 0);
      auto& list = out[subscribed[static_cast<size_t>(i)]->member_id];
      for (int32_t p = start; p < start + length; ++p) list.push_back({topic, p});
    }
  }
  return out;
}

}  // namespace brook::client::consuming::assignors
