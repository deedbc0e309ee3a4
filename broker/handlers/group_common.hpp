// Small conversions the consumer-group handlers share.
#pragma once

#include <string>

#include "broker/broker.hpp"
#include "broker/group/consumer_group.hpp"
#include "broker/request_context.hpp"
#include "common/protocol/wire.hpp"

namespace brook::broker::handlers {

inline std::string bytes_to_string(const common::protocol::bytes& b) { return std::string(b.begin(), b.end()); }
inline common::protocol::bytes string_to_bytes(const std::string& s) { return common::protocol::bytes(s.begin(), s.end()); }

// The member's address as Kafka shows it in DescribeGroups ("/127.0.0.1").
inline std::string client_host(const request_context& ctx) {
  std::string host(1, '/');  // (not "/" + s: GCC 12 warns falsely about that with -Wrestrict)
  host += ctx.remote.address().to_string();
  return host;
}
inline std::string client_id(const request_context& ctx) { return ctx.header.client_id.value_or(""); }

// The topic checks of one committed partition (OffsetCommit, TxnOffsetCommit): UNKNOWN_TOPIC_ID for a
// topic id no topic has (requests naming topics by id), UNKNOWN_TOPIC_OR_PARTITION for an unknown topic
// or partition, else none.
inline common::kafka_error commit_partition_error(const topic_info* info, bool by_id, int32_t partition) {
  if (by_id && !info) return common::kafka_error::unknown_topic_id;
  if (!info || partition < 0 || partition >= info->record.partitions)
    return common::kafka_error::unknown_topic_or_partition;
  return common::kafka_error::none;
}

// The topics that exist now, as consumer-protocol groups see them; handlers hand it to the
// coordinator before using those groups, so topic changes reach the groups on their next request.
inline group::topic_catalog topic_catalog_of(broker& b) {
  group::topic_catalog out;
  for (const auto& [name, info] : b.topics().all()) out.emplace(name, group::topic_metadata{info.record.id, info.record.partitions});
  return out;
}

}  // namespace brook::broker::handlers
