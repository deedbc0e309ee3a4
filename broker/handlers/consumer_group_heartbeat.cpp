// ConsumerGroupHeartbeat v0-1 (KIP-848): joins (epoch 0), heartbeats and leaves (-1, or -2 for a
// static member leaving for now) of consumer-protocol groups; the coordinator computes assignments.
// v0: the coordinator generates the member id on join; v1: the client generates it (KIP-1082) and
// may subscribe by regex. A change that the answer reveals (new epoch, assignment) is synced to
// disk first, so a restarted broker never hands out an epoch it forgot; a failed write answers
// NOT_COORDINATOR. With an authorizer (as Kafka's KafkaApis and group coordinator): READ on the group,
// DESCRIBE on every subscribed topic name (TOPIC_AUTHORIZATION_FAILED otherwise), and a regex's matches
// are only the topics the member that last heartbeated with it may describe (group_coordinator).
#include "broker/broker.hpp"
#include "broker/handlers/group_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace cgh = proto::consumer_group_heartbeat;

awaitable<cgh::response> consumer_group_heartbeat(request_context& ctx, cgh::request& req) {
  broker& b = ctx.owner;
  // As Kafka's KafkaApis: READ on the group, then DESCRIBE on every subscribed topic name.
  if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::group, req.group_id)) {
    cgh::response refused;
    refused.error_code = common::wire_code(kafka_error::group_authorization_failed);
    co_return refused;
  }
  if (req.subscribed_topic_names)
    for (const auto& topic : *req.subscribed_topic_names)
      if (!security::authorized(ctx, security::acl_operation::describe, security::resource_type::topic, topic)) {
        cgh::response refused;
        refused.error_code = common::wire_code(kafka_error::topic_authorization_failed);
        co_return refused;
      }
  auto& groups = b.groups();
  const int64_t now = groups.now();
  groups.coordinator().set_topics(topic_catalog_of(b), now);

  group::consumer_heartbeat_request hb;
  hb.member_id = req.member_id;
  hb.member_epoch = req.member_epoch;
  hb.instance_id = req.instance_id;
  hb.rack_id = req.rack_id;
  hb.rebalance_timeout_ms = req.rebalance_timeout_ms;
  hb.subscribed_topic_names = req.subscribed_topic_names;
  if (ctx.version() >= 1) hb.subscribed_topic_regex = req.subscribed_topic_regex;
  hb.server_assignor = req.server_assignor;
  if (req.topic_partitions) {
    hb.owned.emplace();
    for (const auto& t : *req.topic_partitions) (*hb.owned)[t.topic_id].insert(t.partitions.begin(), t.partitions.end());
  }
  hb.client_id = client_id(ctx);
  hb.client_host = client_host(ctx);
  hb.principal = ctx.conn ? ctx.conn->principal : std::string("User:ANONYMOUS");
  hb.acl_host = security::client_host(ctx);

  auto r = groups.coordinator().consumer_heartbeat(req.group_id, std::move(hb), ctx.version(), now);
  groups.changed();
  cgh::response resp;
  if (r.error == kafka_error::none) {
    const auto written = co_await groups.flushed();
    if (!written) {
      r = group::consumer_heartbeat_result{};
      r.error = group::store_failure_error("ConsumerGroupHeartbeat", req.group_id, written.err());
    }
  }
  resp.error_code = common::wire_code(r.error);
  resp.error_message = r.error_message;
  if (r.error != kafka_error::none) co_return resp;
  resp.member_id = r.member_id;
  resp.member_epoch = r.member_epoch;
  resp.heartbeat_interval_ms = r.heartbeat_interval_ms;
  if (r.assignment) {
    auto& a = resp.assignment.emplace();
    for (const auto& [topic, parts] : *r.assignment) a.topic_partitions.push_back({topic, {parts.begin(), parts.end()}});
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
