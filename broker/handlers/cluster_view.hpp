// What Metadata and DescribeCluster both say about this one-broker cluster.
#pragma once

#include <initializer_list>

#include "broker/request_context.hpp"
#include "common/protocol/messages/metadata.hpp"

namespace brook::broker::handlers {

// Kafka's AclOperation codes as authorized-operations bit fields; Brook has no ACLs yet, so every
// operation that applies to the resource is allowed.
constexpr int32_t operation_bits(std::initializer_list<int> ops) {
  int32_t bits = 0;
  for (int op : ops) bits |= 1 << op;
  return bits;
}
// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS
inline constexpr int32_t topic_operations = operation_bits({3, 4, 5, 6, 7, 8, 10, 11});
// The operations Kafka's CLUSTER resource supports: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION,
// DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE (no READ, WRITE or DELETE).
inline constexpr int32_t cluster_operations = operation_bits({5, 7, 8, 9, 10, 11, 12});
// The GROUP resource's: READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (group configs, KIP-848).
inline constexpr int32_t group_operations = operation_bits({3, 6, 8, 10, 11});

// This broker as a client should reach it: the advertised listener, else the address the client
// connected to.
common::protocol::metadata::response_broker self_endpoint(request_context& ctx);

}  // namespace brook::broker::handlers
