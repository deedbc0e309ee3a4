// AlterPartitionReassignments v0-1 (KIP-455), as Kafka's controller answers on a single node: the only
// replica set a partition can have is this broker alone, which it already has. So a target of exactly
// this broker changes nothing and succeeds; cancelling (null replicas) gets NO_REASSIGNMENT_IN_PROGRESS;
// any other target INVALID_REPLICA_ASSIGNMENT with Kafka's message, checked in Kafka's order (an empty
// list, then the brokers in id order: one that is not registered, one named twice). A target that
// passes has one replica, as every partition here, so allow_replication_factor_change (v1) never
// refuses one. Unknown topics and partitions get UNKNOWN_TOPIC_OR_PARTITION; an empty request gets
// Kafka's empty answer.
#include <algorithm>
#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/acl_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace apr = proto::alter_partition_reassignments;

namespace {
std::optional<common::error> check_target(broker& b, const std::vector<int32_t>& replicas) {
  if (replicas.empty())
    return common::error{kafka_error::invalid_replica_assignment,
                         "The manual partition assignment includes an empty replica list."};
  std::vector<int32_t> sorted = replicas;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] != b.node_id())
      return common::error{kafka_error::invalid_replica_assignment,
                           fmt::format("The manual partition assignment includes broker {}, but no such broker is "
                                       "registered.",
                                       sorted[i])};
    if (i > 0 && sorted[i] == sorted[i - 1])
      return common::error{kafka_error::invalid_replica_assignment,
                           fmt::format("The manual partition assignment includes the broker {} more than once.",
                                       sorted[i])};
  }
  return std::nullopt;
}

// The outcome for one partition; nullopt when the partition stays as it is, successfully.
std::optional<common::error> alter(broker& b, const std::string& topic, const apr::reassignable_partition& target) {
  const topic_info* info = b.topics().find(topic);
  if (!info) return common::error{kafka_error::unknown_topic_or_partition, fmt::format("Unable to find a topic named {}.", topic)};
  if (target.partition_index < 0 || target.partition_index >= info->record.partitions)
    return common::error{kafka_error::unknown_topic_or_partition,
                         fmt::format("Unable to find partition {}:{}.", topic, target.partition_index)};
  if (!target.replicas) return common::error{kafka_error::no_reassignment_in_progress, {}};
  return check_target(b, *target.replicas);
}
}  // namespace

awaitable<apr::response> alter_partition_reassignments(request_context& ctx, apr::request& req) {
  apr::response resp;
  // As Kafka's controller: ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED for the request
  // and every partition.
  if (!security::authorized_on_cluster(ctx, security::acl_operation::alter)) {
    const auto refused = common::wire_code(kafka_error::cluster_authorization_failed);
    const std::string message =
        acl_apis::needs_permission("AlterPartitionReassignments", security::acl_operation::alter);
    resp.error_code = refused;
    resp.error_message = message;
    for (const auto& t : req.topics) {
      auto& topic = resp.responses.emplace_back();
      topic.name = t.name;
      for (const auto& p : t.partitions) topic.partitions.push_back({p.partition_index, refused, message});
    }
    co_return resp;
  }
  if (req.topics.empty()) {  // Kafka's controller answers this with its defaults
    resp.error_message = std::string();
    co_return resp;
  }
  resp.error_message = std::nullopt;
  resp.allow_replication_factor_change = req.allow_replication_factor_change;
  for (const auto& t : req.topics) {
    auto& topic = resp.responses.emplace_back();
    topic.name = t.name;
    for (const auto& p : t.partitions) {
      auto& out = topic.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.error_message = std::nullopt;
      if (auto error = alter(ctx.owner, t.name, p)) {
        out.error_code = common::wire_code(error->code);
        // Kafka sends no message where it would only repeat the error's own (NO_REASSIGNMENT_IN_PROGRESS).
        if (!error->message.empty()) out.error_message = error->message;
      }
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
