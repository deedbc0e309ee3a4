// DescribeGroups v0-6: state, protocol and members of each classic group. As in Kafka, member
// metadata and assignments are shown only while the group is Stable. A group that is not there (an
// unknown id, the empty id included, or a consumer-protocol group: DescribeGroups describes classic
// groups only) is reported as Dead up to v5; v6+ (KIP-1043) answers GROUP_ID_NOT_FOUND with Kafka's
// message instead. Authorized operations are filled in only for groups described without an error.
// With an authorizer (as Kafka's KafkaApis) each group needs DESCRIBE: GROUP_AUTHORIZATION_FAILED
// otherwise, with nothing else said of it.
#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/cluster_view.hpp"
#include "broker/handlers/group_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dgs = proto::describe_groups;

awaitable<dgs::response> describe_groups(request_context& ctx, dgs::request& req) {
  auto& coordinator = ctx.owner.groups().coordinator();
  dgs::response resp;
  for (const auto& id : req.groups) {
    auto& out = resp.groups.emplace_back();
    out.group_id = id;
    if (!security::authorized(ctx, security::acl_operation::describe, security::resource_type::group, id)) {
      out.error_code = common::wire_code(kafka_error::group_authorization_failed);
      continue;
    }
    group::group* g = coordinator.find(id);
    if (!g) out.group_state = "Dead";
    if (!g && ctx.version() >= 6) {
      const group::consumer_group* cg = coordinator.find_consumer(id);
      out.error_code = common::wire_code(kafka_error::group_id_not_found);
      out.error_message = cg && !cg->dead() ? fmt::format("Group {} is not a classic group.", id)
                                            : fmt::format("Group {} not found.", id);
      continue;
    }
    if (req.include_authorized_operations)
      out.authorized_operations = security::authorized_operations(ctx, security::resource_type::group, id);
    if (!g) continue;
    out.group_state = std::string(group::state_name(g->state()));
    out.protocol_type = g->protocol_type().value_or("");
    const bool stable = g->state() == group::group_state::stable;
    if (stable) out.protocol_data = g->protocol_name().value_or("");
    for (const auto& [member_id, m] : g->members()) {
      auto& d = out.members.emplace_back();
      d.member_id = member_id;
      d.group_instance_id = m.instance_id;
      d.client_id = m.client_id;
      d.client_host = m.client_host;
      if (stable) {
        if (const std::string* md = m.metadata_for(g->protocol_name().value_or(""))) d.member_metadata = string_to_bytes(*md);
        d.member_assignment = string_to_bytes(m.assignment);
      }
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
