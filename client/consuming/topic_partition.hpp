// A topic's partition, the unit the consumer assigns, fetches and commits: the public type shared
// with the producer, ordered by topic, then partition (the order Java's consumer sorts them in when
// it serialises owned partitions).
#pragma once

#include <string>

#include "brook/client/types.hpp"

namespace brook::client::consuming {

using topic_partition = brook::client::topic_partition;
using topic_partition_hash = brook::client::topic_partition_hash;

inline std::string to_string(const topic_partition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

}  // namespace brook::client::consuming
