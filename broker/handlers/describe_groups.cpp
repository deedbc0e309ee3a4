// DescribeGroups v0-5: state, protocol and members of each group. As in Kafka, member metadata and
// assignments are shown only while the group is Stable, and an unknown group is reported as Dead.
// So is a consumer-protocol group: Kafka's DescribeGroups up to v5 describes classic groups only.
#include "broker/broker.hpp"
#include "broker/handlers/cluster_view.hpp"
#include "broker/handlers/group_common.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dg = proto::describe_groups;

// READ, DELETE, DESCRIBE
inline constexpr int32_t group_operations = operation_bits({3, 6, 8});

awaitable<dg::response> describe_groups(request_context& ctx, dg::request& req) {
  auto& coordinator = ctx.owner.groups().coordinator();
  dg::response resp;
  for (const auto& id : req.groups) {
    auto& out = resp.groups.emplace_back();
    out.group_id = id;
    if (req.include_authorized_operations) out.authorized_operations = group_operations;
    if (id.empty()) {
      out.error_code = common::wire_code(kafka_error::invalid_group_id);
      continue;
    }
    group::group* g = coordinator.find(id);
    if (!g) {
      out.group_state = "Dead";
      continue;
    }
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
