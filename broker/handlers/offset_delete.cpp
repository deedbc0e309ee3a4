// OffsetDelete v0 (KIP-496): removes committed offsets of a group. A live consumer group keeps the
// offsets of topics its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC); a live group of another
// protocol type cannot lose offsets at all (NON_EMPTY_GROUP). Consumer-protocol groups (KIP-848)
// follow the consumer rule: offsets of topics their members subscribe to stay. The removal is written
// on the group's write lane; a failed write answers NOT_COORDINATOR.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace od = proto::offset_delete;

awaitable<od::response> offset_delete(request_context& ctx, od::request& req) {
  broker& b = ctx.owner;
  auto& groups = b.groups();
  od::response resp;
  // As Kafka's KafkaApis: DELETE on the group first, then READ on each topic.
  if (!security::authorized(ctx, security::acl_operation::delete_, security::resource_type::group, req.group_id)) {
    resp.error_code = common::wire_code(kafka_error::group_authorization_failed);
    co_return resp;
  }
  if (req.group_id.empty()) {
    resp.error_code = common::wire_code(kafka_error::invalid_group_id);
    co_return resp;
  }
  group::group* g = groups.coordinator().find(req.group_id);
  const group::consumer_group* cg = groups.coordinator().find_consumer(req.group_id);
  if ((!g || g->state() == group::group_state::dead) && (!cg || cg->dead())) {
    resp.error_code = common::wire_code(kafka_error::group_id_not_found);
    co_return resp;
  }
  std::optional<std::set<std::string>> subscribed;
  if (cg) {
    if (!cg->is_empty()) subscribed = cg->subscribed_topics();
  } else if (g->state() != group::group_state::empty) {
    if (g->protocol_type().value_or("") != "consumer") {
      resp.error_code = common::wire_code(kafka_error::non_empty_group);
      co_return resp;
    }
    subscribed = g->subscribed_topics().value_or(std::set<std::string>{});
  }
  std::vector<std::pair<std::string, std::vector<int32_t>>> removals;
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.name = topic.name;
    const topic_info* info = b.topics().find(topic.name);
    const bool readable = security::authorized(ctx, security::acl_operation::read, security::resource_type::topic,
                                               topic.name, true, true, static_cast<int>(topic.partitions.size()));
    std::vector<int32_t> parts;
    for (const auto& p : topic.partitions) {
      auto& r = out.partitions.emplace_back();
      r.partition_index = p.partition_index;
      if (!readable)
        r.error_code = common::wire_code(kafka_error::topic_authorization_failed);
      else if (!info || p.partition_index < 0 || p.partition_index >= info->record.partitions)
        r.error_code = common::wire_code(kafka_error::unknown_topic_or_partition);
      else if (subscribed && subscribed->count(topic.name))
        r.error_code = common::wire_code(kafka_error::group_subscribed_to_topic);
      else
        parts.push_back(p.partition_index);
    }
    if (!parts.empty()) removals.emplace_back(topic.name, std::move(parts));
  }
  if (removals.empty()) co_return resp;
  auto* store = &groups.store();
  std::string group_id = req.group_id;
  auto work = [store, group_id, removals]() -> common::result<void> {
    for (const auto& [topic, parts] : removals)
      if (auto ok = store->delete_offsets(group_id, topic, parts); !ok) return ok;
    return {};
  };
  auto done = co_await groups.write(group_id, work);
  if (!done) {
    resp.error_code = common::wire_code(group::store_failure_error("OffsetDelete", group_id, done.err()));
    co_return resp;
  }
  for (const auto& [topic, parts] : removals) groups.coordinator().remove_offsets(group_id, topic, parts);
  co_return resp;
}

}  // namespace brook::broker::handlers
