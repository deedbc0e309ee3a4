// LeaveGroup v0-5: v0-2 name one member; v3+ a batch of members (static ones by instance id,
// KIP-345), each with its own error.
// With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED otherwise, no members listed), as in Kafka.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace lg = proto::leave_group;

awaitable<lg::response> leave_group(request_context& ctx, lg::request& req) {
  auto& groups = ctx.owner.groups();
  std::vector<group::leave_member> leaving;
  if (ctx.version() < 3)
    leaving.push_back({req.member_id, std::nullopt});
  else
    for (const auto& m : req.members) leaving.push_back({m.member_id, m.group_instance_id});
  lg::response resp;
  if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::group, req.group_id)) {
    resp.error_code = common::wire_code(kafka_error::group_authorization_failed);
    co_return resp;
  }
  if (req.group_id.empty()) {
    resp.error_code = common::wire_code(kafka_error::invalid_group_id);
    co_return resp;
  }
  auto errors = groups.coordinator().leave(req.group_id, leaving, groups.now());
  groups.changed();
  if (ctx.version() < 3) {
    resp.error_code = common::wire_code(errors.front());
    co_return resp;
  }
  for (size_t i = 0; i < leaving.size(); ++i) {
    auto& out = resp.members.emplace_back();
    out.member_id = leaving[i].member_id;
    out.group_instance_id = leaving[i].instance_id;
    out.error_code = common::wire_code(errors[i]);
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
