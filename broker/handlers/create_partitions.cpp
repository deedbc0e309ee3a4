// CreatePartitions v0-3: grows a topic to a new total; manual assignments must place each new
// partition on this broker alone. At most max_partitions_per_request new partitions per request.
#include <algorithm>
#include <set>
#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace cp = proto::create_partitions;

awaitable<cp::response> create_partitions(request_context& ctx, cp::request& req) {
  broker& b = ctx.owner;
  cp::response resp;
  std::map<std::string, int> count;
  for (const auto& t : req.topics) ++count[t.name];
  // As Kafka's controller: ALTER on the cluster, else on each topic; the refused topics are answered
  // TOPIC_AUTHORIZATION_FAILED and left out of the partition count.
  const bool cluster_alter = security::authorized_on_cluster(ctx, security::acl_operation::alter, false);
  std::set<std::string> refused;
  if (!cluster_alter)
    for (const auto& [name, n] : count)
      if (!security::authorized(ctx, security::acl_operation::alter, security::resource_type::topic, name, true, true, n))
        refused.insert(name);
  // As CreateTopics: one request adds at most max_partitions_per_request partitions, else every topic
  // is refused with POLICY_VIOLATION.
  int64_t added = 0;
  for (const auto& t : req.topics)
    if (const topic_info* info = refused.count(t.name) ? nullptr : b.topics().find(t.name))
      added += std::max<int64_t>(0, int64_t{t.count} - info->record.partitions);
  if (auto ok = check_partitions_per_request(added); !ok) {
    for (const auto& t : req.topics) {
      cp::create_partitions_topic_result r;
      r.name = t.name;
      r.error_code = common::wire_code(refused.count(t.name) ? kafka_error::topic_authorization_failed : ok.code());
      r.error_message = refused.count(t.name) ? std::nullopt : std::optional<std::string>(ok.err().message);
      resp.results.push_back(std::move(r));
    }
    co_return resp;
  }
  for (const auto& t : req.topics) {
    cp::create_partitions_topic_result r;
    r.name = t.name;
    common::result<void> outcome;
    if (count[t.name] > 1) {
      outcome = common::error{kafka_error::invalid_request, "Duplicate topic in request."};
    } else if (refused.count(t.name)) {
      r.error_code = common::wire_code(kafka_error::topic_authorization_failed);
      r.error_message = std::nullopt;
      resp.results.push_back(std::move(r));
      continue;
    } else if (t.assignments) {
      const topic_info* info = b.topics().find(t.name);
      const int32_t added = info ? t.count - info->record.partitions : 0;
      if (info && static_cast<int32_t>(t.assignments->size()) != added)
        outcome = common::error{kafka_error::invalid_replica_assignment,
                                fmt::format("Increasing the number of partitions by {} but {} assignments provided.",
                                            added, t.assignments->size())};
      for (const auto& a : *t.assignments)
        if (outcome && (a.broker_ids.size() != 1 || a.broker_ids.front() != b.node_id()))
          outcome = common::error{kafka_error::invalid_replica_assignment,
                                  fmt::format("New partitions must be assigned to broker {}, the only broker.",
                                              b.node_id())};
    }
    if (outcome) outcome = co_await set_partition_count(b, t.name, t.count, req.validate_only);
    if (!outcome) {
      r.error_code = common::wire_code(outcome.code());
      r.error_message = outcome.err().message;
    }
    resp.results.push_back(std::move(r));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
