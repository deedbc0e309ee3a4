// DescribeTopicPartitions v0 (KIP-966): the named topics, or every topic, in name order from the
// cursor's topic on (its partitions from the cursor's index), at most
// min(response_partition_limit, max.request.partition.size.limit) partitions (at least 1) in all; the
// next cursor names the first partition left out. This broker leads every partition, alone in its
// replicas and ISR, so the eligible leader replicas are empty. A named topic that does not exist gets
// UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for a name Kafka refuses); a cursor whose topic
// is not among the named ones, or whose partition is negative, refuses the request (INVALID_REQUEST on
// every named topic). Without ACLs every topic, unknown ones included, carries a topic's operations.
#include <algorithm>
#include <set>

#include "broker/broker.hpp"
#include "broker/handlers/cluster_view.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dtp = proto::describe_topic_partitions;

namespace {
// Kafka's answer to a request it refuses: each named topic with the error and nothing else.
dtp::response refused(const dtp::request& req) {
  dtp::response resp;
  for (const auto& t : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.error_code = common::wire_code(kafka_error::invalid_request);
    out.name = t.name;
  }
  return resp;
}

dtp::response_partition describe_partition(broker& b, int32_t index) {
  dtp::response_partition p;
  p.partition_index = index;
  p.leader_id = b.node_id();
  p.leader_epoch = 0;
  p.replica_nodes = {b.node_id()};
  p.isr_nodes = {b.node_id()};
  p.eligible_leader_replicas = std::vector<int32_t>{};
  p.last_known_elr = std::vector<int32_t>{};
  return p;
}
}  // namespace

awaitable<dtp::response> describe_topic_partitions(request_context& ctx, dtp::request& req) {
  broker& b = ctx.owner;
  const bool all_topics = req.topics.empty();
  const std::string first_topic = req.cursor ? req.cursor->topic_name : std::string();

  // The topics to describe, from the cursor's on, each once, in name order.
  std::vector<std::string> names;
  if (all_topics) {
    // As Kafka: only the topics the principal may DESCRIBE (the others left out without a log line).
    for (const auto& [name, info] : b.topics().all())
      if (name >= first_topic && security::authorized(ctx, security::acl_operation::describe,
                                                      security::resource_type::topic, name, true, false))
        names.push_back(name);
  } else {
    std::set<std::string> wanted;
    for (const auto& t : req.topics)
      if (t.name >= first_topic) wanted.insert(t.name);
    if (req.cursor && !wanted.contains(req.cursor->topic_name)) co_return refused(req);
    names.assign(wanted.begin(), wanted.end());
  }
  if (req.cursor && req.cursor->partition_index < 0) co_return refused(req);

  dtp::response resp;
  int32_t remaining =
      std::max(std::min(b.config().max_request_partition_size_limit(), req.response_partition_limit), 1);
  for (const auto& name : names) {
    if (remaining == 0) {  // the page is full: the next one starts with this topic
      resp.next_cursor = dtp::partition_cursor{name, 0};
      break;
    }
    auto& out = resp.topics.emplace_back();
    out.name = name;
    if (!all_topics &&
        !security::authorized(ctx, security::acl_operation::describe, security::resource_type::topic, name)) {
      out.error_code = common::wire_code(kafka_error::topic_authorization_failed);
      continue;
    }
    out.topic_authorized_operations = security::authorized_operations(ctx, security::resource_type::topic, name);
    const topic_info* info = b.topics().find(name);
    if (!info) {  // only a named topic can be missing
      out.error_code = common::wire_code(invalid_topic_name_reason(name) ? kafka_error::invalid_topic_exception
                                                                         : kafka_error::unknown_topic_or_partition);
      continue;
    }
    out.topic_id = info->record.id;
    const int32_t count = info->record.partitions;
    const int32_t start = req.cursor && name == req.cursor->topic_name ? req.cursor->partition_index : 0;
    const int32_t end = static_cast<int32_t>(std::min<int64_t>(count, int64_t{start} + remaining));
    for (int32_t p = start; p < end; ++p) out.partitions.push_back(describe_partition(b, p));
    if (end < count) {  // the page ends inside this topic
      resp.next_cursor = dtp::partition_cursor{name, end};
      break;
    }
    remaining -= static_cast<int32_t>(out.partitions.size());
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
