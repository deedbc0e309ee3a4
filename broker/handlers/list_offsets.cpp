// ListOffsets v1-10 (v0 is gone from Kafka 4.0): earliest (-2), latest (-1; for read_committed the
// last stable offset, which equals the high watermark until transactions exist), the max timestamp
// (-3, v7+), by timestamp (the first offset whose timestamp is at least the one asked), and the two
// tiered-storage specs as Kafka answers them without remote storage: earliest local (-4, v8+) is
// the log start offset without a timestamp, latest tiered (-5, v9+) is offset -1 (nothing tiered).
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace lo = proto::list_offsets;

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
      if ((part.timestamp == -3 && ctx.version() < 7) || (part.timestamp == -4 && ctx.version() < 8) ||
          (part.timestamp == -5 && ctx.version() < 9)) {
        r.error_code = common::wire_code(kafka_error::unsupported_version);
        continue;
      }
      if (part.timestamp == -5) {
        r.timestamp = -1;
        r.offset = -1;
        r.leader_epoch = -1;
        continue;
      }
      const int64_t lookup = part.timestamp == -4 ? -2 : part.timestamp;
      auto found = co_await b.partitions().lookup_offset(tp, lookup);
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
