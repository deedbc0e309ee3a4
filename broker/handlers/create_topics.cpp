// CreateTopics v0-7: validate_only (v1+), per-topic configs, manual assignments (which on one node
// must place every partition on this broker alone), and from v5 the created topic's partition
// count, replication factor and configs; v7 its id. At most max_partitions_per_request partitions per
// request (POLICY_VIOLATION for every topic otherwise, as Kafka's controller answers).
// With an authorizer (as Kafka's controller): CREATE on the cluster, else on each topic
// (TOPIC_AUTHORIZATION_FAILED, "Authorization failed.", and the topic is left out of the partition
// count); a created topic's configs are answered only with DESCRIBE_CONFIGS on it (else
// topic_config_error_code TOPIC_AUTHORIZATION_FAILED and no configs).
#include <algorithm>
#include <fmt/format.h>
#include <set>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace ct = proto::create_topics;

namespace {
// Checks manual assignments; returns the partition count they imply.
common::result<int32_t> check_assignments(const ct::creatable_topic& t, int32_t node_id) {
  if (t.num_partitions != -1 || t.replication_factor != -1)
    return common::error{kafka_error::invalid_request,
                         "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."};
  std::set<int32_t> seen;
  for (const auto& a : t.assignments) {
    if (a.partition_index < 0 || !seen.insert(a.partition_index).second)
      return common::error{kafka_error::invalid_replica_assignment,
                           fmt::format("Invalid partition index {} in the replica assignment.", a.partition_index)};
    if (a.broker_ids.size() != 1 || a.broker_ids.front() != node_id)
      return common::error{kafka_error::invalid_replica_assignment,
                           fmt::format("Partition {} must be assigned to broker {}, the only broker.", a.partition_index,
                                       node_id)};
  }
  if (static_cast<int32_t>(seen.size()) != *seen.rbegin() + 1)
    return common::error{kafka_error::invalid_replica_assignment,
                         "Partitions in the replica assignment must be numbered consecutively from 0."};
  return static_cast<int32_t>(seen.size());
}

ct::creatable_topic_result result_for(const std::string& name, const common::error& e) {
  ct::creatable_topic_result r;
  r.name = name;
  r.error_code = common::wire_code(e.code);
  r.error_message = e.message;
  r.configs = std::nullopt;
  return r;
}
}  // namespace

awaitable<ct::response> create_topics(request_context& ctx, ct::request& req) {
  broker& b = ctx.owner;
  ct::response resp;
  std::map<std::string, int> count;
  for (const auto& t : req.topics) ++count[t.name];
  using security::acl_operation;
  using security::resource_type;
  const bool cluster_create = security::authorized_on_cluster(ctx, acl_operation::create, false);
  std::set<std::string> refused;
  if (!cluster_create)
    for (const auto& [name, n] : count)
      if (!security::authorized(ctx, acl_operation::create, resource_type::topic, name, true, true, n))
        refused.insert(name);

  // Kafka refuses the whole request when its topics add up to more partitions than one operation may
  // create: every topic gets POLICY_VIOLATION and nothing is created.
  int64_t requested = 0;
  for (const auto& t : req.topics)
    if (!refused.count(t.name))
      requested += t.assignments.empty() ? std::max<int64_t>(0, resolved_partition_count(b, t.num_partitions))
                                       : static_cast<int64_t>(t.assignments.size());
  if (auto ok = check_partitions_per_request(requested); !ok) {
    for (const auto& t : req.topics)
      resp.topics.push_back(refused.count(t.name)
                                ? result_for(t.name, {kafka_error::topic_authorization_failed, "Authorization failed."})
                                : result_for(t.name, ok.err()));
    co_return resp;
  }

  for (auto& t : req.topics) {
    if (count[t.name] > 1) {
      resp.topics.push_back(result_for(
          t.name, {kafka_error::invalid_request,
                   fmt::format("Create topics request from client `{}` contains multiple entries for the following "
                               "topics: {}",
                               ctx.header.client_id.value_or(""), t.name)}));
      continue;
    }
    if (refused.count(t.name)) {
      resp.topics.push_back(result_for(t.name, {kafka_error::topic_authorization_failed, "Authorization failed."}));
      continue;
    }
    new_topic wanted{t.name, t.num_partitions, t.replication_factor, {}};
    if (!t.assignments.empty()) {
      auto n = check_assignments(t, b.node_id());
      if (!n) {
        resp.topics.push_back(result_for(t.name, n.err()));
        continue;
      }
      wanted.partitions = *n;
      wanted.replication_factor = 1;
    }
    std::optional<common::error> bad_config;
    for (const auto& c : t.configs) {
      if (!c.value) {
        bad_config = common::error{kafka_error::invalid_config,
                                   fmt::format("Null value not supported for topic configs: {}", c.name)};
        break;
      }
      if (!wanted.configs.emplace(c.name, *c.value).second)
        bad_config = common::error{kafka_error::invalid_config, fmt::format("Duplicate config name: {}", c.name)};
    }
    if (bad_config) {
      resp.topics.push_back(result_for(t.name, *bad_config));
      continue;
    }
    auto created = co_await create_topic(b, wanted, req.validate_only);
    if (!created) {
      resp.topics.push_back(result_for(t.name, created.err()));
      continue;
    }
    ct::creatable_topic_result r;
    r.name = t.name;
    r.topic_id = created->id;
    r.error_message = std::nullopt;
    r.num_partitions = created->partitions;
    r.replication_factor = created->replication_factor;
    if (!security::authorized(ctx, acl_operation::describe_configs, resource_type::topic, t.name, true, false)) {
      r.topic_config_error_code = common::wire_code(kafka_error::topic_authorization_failed);
      r.configs = std::nullopt;
      resp.topics.push_back(std::move(r));
      continue;
    }
    auto& configs = r.configs.emplace();
    for (const auto& e : describe_topic_config(b.config(), to_overrides(created->configs)))
      configs.push_back({e.name, e.value, e.read_only, static_cast<int8_t>(e.source), e.sensitive});
    resp.topics.push_back(std::move(r));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
