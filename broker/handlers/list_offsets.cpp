// ListOffsets v1-11 (v0 is gone from Kafka 4.0), answered as a Kafka broker without tiered storage
// answers: earliest (-2) and earliest local (-4, v8+) are the log start offset; latest (-1) the high
// watermark (for read_committed the last stable offset: the first offset of the earliest open
// transaction, else the high watermark; a timestamp lookup under read_committed finds nothing at or past it);
// latest tiered (-5, v9+) and earliest pending upload (-6, v11+) have nothing tiered, so offset -1
// with leader epoch -1; the max timestamp (-3, v7+); and by timestamp, the first offset whose
// timestamp is at least the one asked. A special timestamp older than the request's version, or one
// Kafka does not define, gets UNSUPPORTED_VERSION; a partition named twice gets INVALID_REQUEST
// (answered once). timeout_ms (v10+) bounds reads from tiered storage, which there are none of.
// With an authorizer (as Kafka's KafkaApis), each topic needs DESCRIBE: its partitions are answered
// TOPIC_AUTHORIZATION_FAILED otherwise, before any other check.
#include <map>
#include <set>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace lo = proto::list_offsets;

namespace {
// Kafka's special timestamps and the first version that may ask for each (ReplicaManager's table).
std::optional<int16_t> first_version_for(int64_t timestamp) {
  switch (timestamp) {
    case -1: case -2: return 1;
    case -3: return 7;
    case -4: return 8;
    case -5: return 9;
    case -6: return 11;
    default: return std::nullopt;
  }
}

bool timestamp_unsupported(int64_t timestamp, int16_t version) {
  if (timestamp >= 0) return false;
  auto first = first_version_for(timestamp);
  return !first || version < *first;
}
}  // namespace

awaitable<lo::response> list_offsets(request_context& ctx, lo::request& req) {
  broker& b = ctx.owner;
  std::map<log::topic_partition, int> named;
  for (const auto& topic : req.topics)
    for (const auto& part : topic.partitions) ++named[log::topic_partition{topic.name, part.partition_index}];
  std::set<log::topic_partition> answered_duplicates;

  lo::response resp;
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.name = topic.name;
    if (!security::authorized(ctx, security::acl_operation::describe, security::resource_type::topic, topic.name, true,
                              true, static_cast<int>(topic.partitions.size()))) {
      for (const auto& part : topic.partitions) {
        auto& r = out.partitions.emplace_back();
        r.partition_index = part.partition_index;
        r.error_code = common::wire_code(kafka_error::topic_authorization_failed);
      }
      continue;
    }
    for (const auto& part : topic.partitions) {
      const log::topic_partition tp{topic.name, part.partition_index};
      if (named[tp] > 1 && !answered_duplicates.insert(tp).second) continue;
      auto& r = out.partitions.emplace_back();
      r.partition_index = part.partition_index;
      if (named[tp] > 1) {
        r.error_code = common::wire_code(kafka_error::invalid_request);
        continue;
      }
      if (timestamp_unsupported(part.timestamp, ctx.version())) {
        r.error_code = common::wire_code(kafka_error::unsupported_version);
        continue;
      }
      if (!b.partitions().exists(tp)) {
        r.error_code = common::wire_code(kafka_error::unknown_topic_or_partition);
        continue;
      }
      if (part.current_leader_epoch > 0) {
        r.error_code = common::wire_code(kafka_error::unknown_leader_epoch);
        continue;
      }
      if (part.timestamp == -5 || part.timestamp == -6) continue;  // nothing tiered: -1, -1, epoch -1
      const int64_t lookup = part.timestamp == -4 ? -2 : part.timestamp;  // the local log is the whole log
      const auto isolation = req.isolation_level == 1 ? log::isolation_level::read_committed
                                                       : log::isolation_level::read_uncommitted;
      auto found = co_await b.partitions().lookup_offset(tp, lookup, isolation);
      if (!found) {
        r.error_code = common::wire_code(found.code());
        continue;
      }
      r.timestamp = found->timestamp;
      r.offset = found->offset;
      r.leader_epoch = found->offset >= 0 ? 0 : -1;
    }
  }
  // Kafka answers per partition, grouped by topic: a topic left with no answer (named again, or with no
  // partitions) has no entry.
  std::erase_if(resp.topics, [](const lo::list_offsets_topic_response& t) { return t.partitions.empty(); });
  co_return resp;
}

}  // namespace brook::broker::handlers
