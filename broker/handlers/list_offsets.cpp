// ListOffsets v1-10 (v0 is gone from Kafka 4.0): earliest (-2), latest (-1; for read_committed the
// last stable offset, which equals the high watermark until transactions exist), the max timestamp
// (-3, v7+), the local log start (-4, v8+: the log start, as there is no tiered storage), the latest
// tiered offset (-5, v9+: none, so offset -1) and by timestamp (the first offset whose timestamp is at
// least the one asked). As in Kafka, another negative timestamp, or one older than its version, gets
// UNSUPPORTED_VERSION.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace lo = proto::list_offsets;

namespace {

// Whether a special (negative) timestamp may be asked at this version.
bool timestamp_supported(int64_t timestamp, int16_t version) {
  switch (timestamp) {
    case -1:
    case -2: return true;
    case -3: return version >= 7;
    case -4: return version >= 8;
    case -5: return version >= 9;
    default: return timestamp >= 0;  // -6 (earliest pending upload) needs v11
  }
}

}  // namespace

awaitable<lo::response> list_offsets(request_context& ctx, lo::request& req) {
  broker& b = ctx.owner;
  lo::response resp;
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.name = topic.name;
    for (const auto& part : topic.partitions) {
      auto& r = out.partitions.emplace_back();
      r.partition_index = part.partition_index;
      const log::topic_partition tp{topic.name, part.partition_index};
      if (!b.partitions().exists(tp)) {
        r.error_code = common::wire_code(kafka_error::unknown_topic_or_partition);
        continue;
      }
      if (part.current_leader_epoch > 0) {
        r.error_code = common::wire_code(kafka_error::unknown_leader_epoch);
        continue;
      }
      if (!timestamp_supported(part.timestamp, ctx.version())) {
        r.error_code = common::wire_code(kafka_error::unsupported_version);
        continue;
      }
      if (part.timestamp == -5) {  // nothing is tiered: Kafka's answer without remote storage
        r.timestamp = -1;
        r.offset = -1;
        r.leader_epoch = -1;
        continue;
      }
      const int64_t timestamp = part.timestamp == -4 ? -2 : part.timestamp;  // the local log is the whole log
      auto found = co_await b.partitions().lookup_offset(tp, timestamp);
      if (!found) {
        r.error_code = common::wire_code(found.code());
        continue;
      }
      r.timestamp = found->timestamp;
      r.offset = found->offset;
      r.leader_epoch = found->offset >= 0 ? 0 : -1;
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
