// ConsumerGroupDescribe v0-1 (KIP-848): state, epochs, assignor and members (with their current and
// target assignments) of consumer-protocol groups. As in Kafka, a member's current assignment includes
// the partitions it has yet to revoke, and topics that no longer exist are left out. A classic group or an unknown id gets
// GROUP_ID_NOT_FOUND with Kafka's message. v1+ (KIP-1099) gives each member's type: always 1 (a
// consumer-protocol member), since Brook's consumer-protocol groups have no classic members.
// With an authorizer (as Kafka's KafkaApis): DESCRIBE on each group, and a group whose members' current
// or target assignments name a topic the caller may not describe is answered only with
// TOPIC_AUTHORIZATION_FAILED (KAFKA-18813), so that it reveals no topic names, ids or partitions.
#include <map>

#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/cluster_view.hpp"
#include "broker/handlers/group_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace cgd = proto::consumer_group_describe;

namespace {

cgd::member_assignment describe_assignment(const group::topic_partitions& tp, const group::topic_catalog& topics) {
  std::map<common::uuid, std::string> names;
  for (const auto& [name, md] : topics) names.emplace(md.id, name);
  cgd::member_assignment out;
  for (const auto& [id, parts] : tp) {
    auto name = names.find(id);
    if (name == names.end()) continue;
    auto& t = out.topic_partitions.emplace_back();
    t.topic_id = id;
    t.topic_name = name->second;
    t.partitions.assign(parts.begin(), parts.end());
  }
  return out;
}

// Whether every topic the group's members are assigned, now or as their target, may be described.
bool assignments_describable(request_context& ctx, const cgd::described_group& g) {
  for (const auto& m : g.members)
    for (const auto* a : {&m.assignment, &m.target_assignment})
      for (const auto& t : a->topic_partitions)
        if (!security::authorized(ctx, security::acl_operation::describe, security::resource_type::topic,
                                  t.topic_name))
          return false;
  return true;
}

}  // namespace

awaitable<cgd::response> consumer_group_describe(request_context& ctx, cgd::request& req) {
  broker& b = ctx.owner;
  auto& coordinator = b.groups().coordinator();
  coordinator.set_topics(topic_catalog_of(b), b.groups().now());
  b.groups().changed();
  const auto& topics = coordinator.topics();
  cgd::response resp;
  for (const auto& id : req.group_ids) {
    auto& out = resp.groups.emplace_back();
    out.group_id = id;
    // As Kafka's KafkaApis: DESCRIBE on each group.
    if (!security::authorized(ctx, security::acl_operation::describe, security::resource_type::group, id)) {
      out.error_code = common::wire_code(kafka_error::group_authorization_failed);
      continue;
    }
    if (req.include_authorized_operations)
      out.authorized_operations = security::authorized_operations(ctx, security::resource_type::group, id);
    const group::consumer_group* g = coordinator.find_consumer(id);
    if (!g || g->dead()) {
      out.error_code = common::wire_code(kafka_error::group_id_not_found);
      out.error_message = coordinator.find(id) ? fmt::format("Group {} is not a consumer group.", id)
                                               : fmt::format("Group {} not found.", id);
      continue;
    }
    out.group_state = std::string(group::state_name(g->state()));
    out.group_epoch = g->group_epoch();
    out.assignment_epoch = g->assignment_epoch();
    out.assignor_name = g->preferred_assignor();
    for (const auto& [member_id, m] : g->members()) {
      auto& d = out.members.emplace_back();
      d.member_id = member_id;
      d.instance_id = m.instance_id;
      d.rack_id = m.rack_id;
      d.member_epoch = m.member_epoch;
      d.client_id = m.client_id;
      d.client_host = m.client_host;
      d.subscribed_topic_names = m.subscribed_topic_names;
      d.subscribed_topic_regex = m.subscribed_topic_regex;
      group::topic_partitions current = m.assigned;
      for (const auto& [topic, parts] : m.pending_revocation) current[topic].insert(parts.begin(), parts.end());
      d.assignment = describe_assignment(current, topics);
      d.target_assignment = describe_assignment(g->target_of(member_id), topics);
      d.member_type = 1;
    }
    if (!assignments_describable(ctx, out)) {
      out = cgd::described_group{};
      out.group_id = id;
      out.error_code = common::wire_code(kafka_error::topic_authorization_failed);
      out.error_message = "The group has described topic(s) that the client is not authorized to describe.";
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
