// ListPartitionReassignments v0 (KIP-455): each partition here has one replica, this broker, and
// AlterPartitionReassignments can only keep it there, so no reassignment is ever in progress: the
// answer lists no topic, whichever are asked about (Kafka's controller skips unknown ones too).
#include "broker/handlers/acl_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace lpr = proto::list_partition_reassignments;

awaitable<lpr::response> list_partition_reassignments(request_context& ctx, lpr::request& req) {
  lpr::response resp;
  resp.error_message = std::nullopt;
  // As Kafka's controller: DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED with the topics
  // and partitions asked for.
  if (!security::authorized_on_cluster(ctx, security::acl_operation::describe)) {
    resp.error_code = common::wire_code(common::kafka_error::cluster_authorization_failed);
    resp.error_message = acl_apis::needs_permission("ListPartitionReassignments", security::acl_operation::describe);
    if (req.topics)
      for (const auto& t : *req.topics) {
        auto& out = resp.topics.emplace_back();
        out.name = t.name;
        for (int32_t p : t.partition_indexes) out.partitions.emplace_back().partition_index = p;
      }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
