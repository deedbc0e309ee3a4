// Metadata v0-13: this broker as the only broker, controller and leader of every partition; all
// topics, the named ones, or (v12+) the ones asked for by id: as in Kafka, a request holding any
// non-zero topic id is answered by id alone (the Java client sends "" as the name of those entries),
// an unknown id with UNKNOWN_TOPIC_ID and a null name; v10-11 may not ask by id (INVALID_REQUEST).
// Unknown names are auto-created when the request allows it (v4+, always before) and
// auto.create.topics.enable is on, and only while the request's unknown names need at most
// max_partitions_per_request partitions in all (none is created otherwise). The top-level
// error_code (v13) stays 0 here, as on Kafka, which sets it only in the answer to a request that
// failed as a whole.
// With an authorizer (as Kafka's KafkaApis): a topic needs DESCRIBE to be shown. Of all topics only
// those are listed (the others are left out without a log line); a named one without it is answered
// TOPIC_AUTHORIZATION_FAILED whether it exists or not (by id: with its id and a null name). An unknown
// name is auto-created only with CREATE on the cluster or on the topic, TOPIC_AUTHORIZATION_FAILED
// otherwise. The authorized operations fields hold what the principal may do on each topic and on the
// cluster.
#include <algorithm>
#include <boost/asio/ip/host_name.hpp>

#include "broker/broker.hpp"
#include "broker/handlers/cluster_view.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace md = proto::metadata;
using security::acl_operation;
using security::resource_type;

namespace {
md::response_topic describe_topic(request_context& ctx, const topic_info& t, bool include_ops) {
  broker& b = ctx.owner;
  md::response_topic out;
  out.name = t.record.name;
  out.topic_id = t.record.id;
  for (int32_t p = 0; p < t.record.partitions; ++p) {
    md::response_partition part;
    part.partition_index = p;
    part.leader_id = b.node_id();
    part.leader_epoch = 0;
    part.replica_nodes = {b.node_id()};
    part.isr_nodes = {b.node_id()};
    out.partitions.push_back(std::move(part));
  }
  if (include_ops)
    out.topic_authorized_operations = security::authorized_operations(ctx, resource_type::topic, t.record.name);
  return out;
}

md::response_topic topic_error(kafka_error code, std::optional<std::string> name, common::uuid id = {}) {
  md::response_topic out;
  out.error_code = common::wire_code(code);
  out.name = std::move(name);
  out.topic_id = id;
  return out;
}
}  // namespace

md::response_broker self_endpoint(request_context& ctx) {
  const auto& l = ctx.owner.listeners().at(ctx.listener_index);
  md::response_broker me;
  me.node_id = ctx.owner.node_id();
  me.host = !l.advertised_host.empty() ? l.advertised_host : ctx.local.address().to_string();
  me.port = l.advertised_port;
  return me;
}

awaitable<md::response> metadata(request_context& ctx, md::request& req) {
  broker& b = ctx.owner;
  md::response resp;
  resp.brokers.push_back(self_endpoint(ctx));
  resp.cluster_id = b.cluster_id();
  resp.controller_id = b.node_id();
  if (req.include_cluster_authorized_operations)
    resp.cluster_authorized_operations =
        security::authorized_operations(ctx, resource_type::cluster, security::cluster_resource_name);
  const bool include_ops = req.include_topic_authorized_operations;

  // v0 uses an empty list, v1+ null, to mean every topic.
  const bool all_topics = !req.topics || (ctx.version() == 0 && req.topics->empty());
  if (all_topics) {
    for (const auto& [name, info] : b.topics().all())
      if (security::authorized(ctx, acl_operation::describe, resource_type::topic, name, true, false))
        resp.topics.push_back(describe_topic(ctx, info, include_ops));
    co_return resp;
  }
  const bool by_id = std::any_of(req.topics->begin(), req.topics->end(),
                                 [](const md::request_topic& t) { return !t.topic_id.is_zero(); });
  if (by_id) {
    for (const auto& wanted : *req.topics) {
      if (wanted.topic_id.is_zero()) continue;  // Kafka ignores the names of a request by id
      if (ctx.version() < 12) {
        resp.topics.push_back(topic_error(kafka_error::invalid_request, wanted.name, wanted.topic_id));
        continue;
      }
      const topic_info* info = b.topics().find(wanted.topic_id);
      if (!info)
        resp.topics.push_back(topic_error(kafka_error::unknown_topic_id, std::nullopt, wanted.topic_id));
      else if (!security::authorized(ctx, acl_operation::describe, resource_type::topic, info->record.name))
        resp.topics.push_back(topic_error(kafka_error::topic_authorization_failed, std::nullopt, wanted.topic_id));
      else
        resp.topics.push_back(describe_topic(ctx, *info, include_ops));
    }
    co_return resp;
  }
  bool may_create = b.config().auto_create_topics_enable() && (ctx.version() < 4 || req.allow_auto_topic_creation);
  if (may_create) {
    // Kafka sends the unknown names to its controller as one CreateTopics, which refuses the lot when
    // they add up to more than max_partitions_per_request partitions: then none is created here either.
    int64_t wanted_partitions = 0;
    for (const auto& wanted : *req.topics)
      if (wanted.name && !b.topics().find(*wanted.name) && !invalid_topic_name_reason(*wanted.name) &&
          security::authorized(ctx, acl_operation::describe, resource_type::topic, *wanted.name, false, false))
        wanted_partitions += b.config().num_partitions();
    if (!check_partitions_per_request(wanted_partitions)) may_create = false;
  }
  // Creation needs CREATE on the cluster, else on each topic (asked once, unlogged when denied).
  std::optional<bool> may_create_any;
  auto creation_allowed = [&](const std::string& name) {
    if (!may_create_any)
      may_create_any = security::authorized_on_cluster(ctx, acl_operation::create, false);
    return *may_create_any || security::authorized(ctx, acl_operation::create, resource_type::topic, name);
  };
  for (const auto& wanted : *req.topics) {
    if (!wanted.name) {  // neither a name nor an id
      resp.topics.push_back(topic_error(kafka_error::unknown_topic_id, std::nullopt));
      continue;
    }
    const std::string& name = *wanted.name;
    if (!security::authorized(ctx, acl_operation::describe, resource_type::topic, name)) {
      resp.topics.push_back(topic_error(kafka_error::topic_authorization_failed, name));
      continue;
    }
    if (const topic_info* info = b.topics().find(name)) {
      resp.topics.push_back(describe_topic(ctx, *info, include_ops));
      continue;
    }
    if (may_create && !creation_allowed(name)) {
      resp.topics.push_back(topic_error(kafka_error::topic_authorization_failed, name));
      continue;
    }
    if (invalid_topic_name_reason(name)) {
      resp.topics.push_back(topic_error(kafka_error::invalid_topic_exception, name));
      continue;
    }
    if (!may_create) {
      resp.topics.push_back(topic_error(kafka_error::unknown_topic_or_partition, name));
      continue;
    }
    if (b.stopping()) {  // shutting down: the rest is answered without creating anything
      resp.topics.push_back(topic_error(kafka_error::unknown_topic_or_partition, name));
      continue;
    }
    const new_topic wanted_topic{name, -1, -1, {}};
    auto created = co_await create_topic(b, wanted_topic, false);
    if (created || created.code() == kafka_error::topic_already_exists) {
      // A single node creates synchronously, so the topic is complete in this very answer.
      if (const topic_info* info = b.topics().find(name)) {
        resp.topics.push_back(describe_topic(ctx, *info, include_ops));
        continue;
      }
    }
    resp.topics.push_back(topic_error(created.ok() ? kafka_error::leader_not_available : created.code(), name));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
