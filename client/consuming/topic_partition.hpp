// A topic's partition, the unit the consumer assigns, fetches and commits; ordered by topic, then
// partition (the order Java's consumer sorts them in when it serialises owned partitions).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace brook::client::consuming {

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
  bool operator==(const topic_partition&) const = default;
};

inline std::string to_string(const topic_partition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

struct topic_partition_hash {
  size_t operator()(const topic_partition& tp) const {
    return std::hash<std::string>()(tp.topic) * 31 + std::hash<int32_t>()(tp.partition);
  }
};

}  // namespace brook::client::consuming
