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
  std::optional<std::string> instance_id;
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
// Kafka 4.4's RangeAssignor: per topic, the members subscribed to it, static members first (by
// instance id) and then the others by member id, get contiguous ranges of n / members partitions, the
// first n % members one more, so members subscribed to the same co-partitioned topics get the same
// partition numbers in each. It does not look at the current assignment.
assignment_result assign_range(const assignment_spec& spec);

// The built-in assignors by name ("uniform", "range"); nullopt for any other name.
std::optional<assignment_result> run_assignor(std::string_view name, const assignment_spec& spec);
bool is_known_assignor(std::string_view name);

}  // namespace brook::broker::group
