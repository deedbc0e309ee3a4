// DeleteRecords v0-2: moves each partition's log start offset up to the given offset (-1: the high
// watermark); whole segments below it are deleted.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dr = proto::delete_records;

awaitable<dr::response> delete_records(request_context& ctx, dr::request& req) {
  broker& b = ctx.owner;
  dr::response resp;
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.name = topic.name;
    // As Kafka's KafkaApis: DELETE on the topic, checked before whether it exists.
    const bool deletable = security::authorized(ctx, security::acl_operation::delete_, security::resource_type::topic,
                                                topic.name, true, true, static_cast<int>(topic.partitions.size()));
    for (const auto& part : topic.partitions) {
      auto& r = out.partitions.emplace_back();
      r.partition_index = part.partition_index;
      r.low_watermark = -1;
      if (!deletable) {
        r.error_code = common::wire_code(kafka_error::topic_authorization_failed);
        continue;
      }
      const log::topic_partition tp{topic.name, part.partition_index};
      if (!b.partitions().exists(tp)) {
        r.error_code = common::wire_code(kafka_error::unknown_topic_or_partition);
        continue;
      }
      if (part.offset < -1) {
        r.error_code = common::wire_code(kafka_error::offset_out_of_range);
        continue;
      }
      auto moved = co_await b.partitions().delete_records(tp, part.offset);
      if (!moved) {
        r.error_code = common::wire_code(moved.code());
        continue;
      }
      r.low_watermark = *moved;
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
