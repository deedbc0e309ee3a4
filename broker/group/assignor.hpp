// Server-side partition assignors of consumer-protocol groups (KIP-848): "uniform" and "range".
//
// Pure functions: the group hands in every member's subscription (as topic ids) and current
// assignment plus the partition counts of the subscribed topics, and gets back each member's target.
// Neither reads the clock or any broker state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/uuid.hpp"

namespace brook::broker::group {

// Partitions by topic id, as the consumer protocol names them on the wire.
using topic_partitions = std::map<common::uuid, std::set<int32_t>>;

struct assignment_member {
  std::optional<std::string> rack_id;
  std::set<common::uuid> subscribed_topics;  // only topics that exist
  topic_partitions current;                  // the target it had before (for stickiness)
};

struct assignment_spec {
  std::map<std::string, assignment_member> members;  // member id -> member
  std::map<common::uuid, int32_t> partition_counts;  // every subscribed topic that exists
};

using assignment_result = std::map<std::string, topic_partitions>;  // every member, maybe empty

// Kafka's UniformAssignor: spreads all subscribed partitions so that members able to take a
// partition differ by at most one partition, keeping partitions where they already are whenever
// that stays balanced.
assignment_result assign_uniform(const assignment_spec& spec);
// Kafka's RangeAssignor: per topic, each member subscribed to it gets n / members partitions and the
// first n % members of them one more. It is sticky: a member keeps its lowest partitions of the topic
// up to its share, and the rest are handed out in ascending ranges to members below their share
// (sorted by member id), so members subscribed to the same co-partitioned topics get the same
// partition numbers in each.
assignment_result assign_range(const assignment_spec& spec);

// The built-in assignors by name ("uniform", "range"); nullopt for any other name.
std::optional<assignment_result> run_assignor(std::string_view name, const assignment_spec& spec);
bool is_known_assignor(std::string_view name);

}  // namespace brook::broker::group
