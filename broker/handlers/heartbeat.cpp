// Heartbeat v0-4: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin. Sent to a
// consumer-protocol group it gets UNKNOWN_MEMBER_ID (its members are not classic), as from Kafka.
// With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED otherwise), as in Kafka.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace hb = proto::heartbeat;

awaitable<hb::response> heartbeat(request_context& ctx, hb::request& req) {
  auto& groups = ctx.owner.groups();
  hb::response resp;
  if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::group, req.group_id)) {
    resp.error_code = common::wire_code(common::kafka_error::group_authorization_failed);
    co_return resp;
  }
  resp.error_code = common::wire_code(groups.coordinator().heartbeat(req.group_id, req.member_id, req.group_instance_id,
                                                                     req.generation_id, groups.now()));
  groups.changed();
  co_return resp;
}

}  // namespace brook::broker::handlers
