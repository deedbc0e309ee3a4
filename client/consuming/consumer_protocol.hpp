// The consumer protocol (protocol type "consumer"): the subscription a classic-group member sends in
// JoinGroup and the assignment the leader sends back through SyncGroup, as Java's ConsumerProtocol
// frames them: an int16 version, then the schema-declared message of that version. A newer version
// than Brook knows is read as the newest it knows (later versions only append fields); an older one
// than 0 is an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/consuming/topic_partition.hpp"
#include "common/error.hpp"
#include "common/protocol/wire.hpp"

namespace brook::client::consuming {

inline constexpr const char* consumer_protocol_type = "consumer";
inline constexpr int16_t consumer_protocol_max_version = 3;

struct subscription {
  std::vector<std::string> topics;
  std::optional<common::protocol::bytes> user_data;
  std::vector<topic_partition> owned_partitions;  // v1+
  int32_t generation_id = -1;                     // v2+; -1: unknown
  std::optional<std::string> rack_id;             // v3+
  bool operator==(const subscription&) const = default;
};

struct assignment {
  std::vector<topic_partition> partitions;
  std::optional<common::protocol::bytes> user_data;
  bool operator==(const assignment&) const = default;
};

// Topics and owned partitions are written sorted, as Java writes them.
common::protocol::bytes encode_subscription(const subscription& s, int16_t version = consumer_protocol_max_version);
common::result<subscription> decode_subscription(std::span<const uint8_t> bytes);

// Partitions are grouped by topic in first-seen order, as Java writes them.
common::protocol::bytes encode_assignment(const assignment& a, int16_t version = consumer_protocol_max_version);
// An empty buffer is an empty assignment (a member the leader gave nothing, or a failed SyncGroup
// that still returned success with no bytes).
common::result<assignment> decode_assignment(std::span<const uint8_t> bytes);

}  // namespace brook::client::consuming
