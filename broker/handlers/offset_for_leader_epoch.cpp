// OffsetForLeaderEpoch v2-4: every partition has had one leader epoch, 0, since it was created, so
// epoch 0 ends at the log end offset; a later epoch is unknown (-1, -1), as Kafka answers. A client's
// current_leader_epoch other than 0 is fenced (lower) or unknown (higher).
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace ofle = proto::offset_for_leader_epoch;

awaitable<ofle::response> offset_for_leader_epoch(request_context& ctx, ofle::request& req) {
  broker& b = ctx.owner;
  ofle::response resp;
  // As Kafka's KafkaApis: CLUSTER_ACTION on the cluster (a follower) covers every topic, else each
  // topic needs DESCRIBE.
  const bool cluster_action = security::authorized_on_cluster(ctx, security::acl_operation::cluster_action, false);
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.topic = topic.topic;
    const bool describable =
        cluster_action || security::authorized(ctx, security::acl_operation::describe, security::resource_type::topic,
                                               topic.topic, true, true, static_cast<int>(topic.partitions.size()));
    for (const auto& part : topic.partitions) {
      auto& r = out.partitions.emplace_back();
      r.partition = part.partition;
      if (!describable) {
        r.error_code = common::wire_code(kafka_error::topic_authorization_failed);
        continue;
      }
      const log::topic_partition tp{topic.topic, part.partition};
      auto hwm = b.partitions().high_watermark(tp);
      if (!hwm) {
        r.error_code = common::wire_code(kafka_error::unknown_topic_or_partition);
      } else if (part.current_leader_epoch > 0) {
        r.error_code = common::wire_code(kafka_error::unknown_leader_epoch);
      } else if (part.current_leader_epoch < -1) {
        r.error_code = common::wire_code(kafka_error::fenced_leader_epoch);
      } else if (part.leader_epoch == 0 || part.leader_epoch == -1) {
        r.leader_epoch = 0;
        r.end_offset = *hwm;
      } else {
        r.leader_epoch = -1;
        r.end_offset = -1;
      }
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
