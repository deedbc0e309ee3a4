// SyncGroup v0-5: the leader hands in the assignment and everyone receives their part; followers
// park until the leader's SyncGroup arrives (or the rebalance restarts). As in Kafka, the group's
// metadata with the new assignment is stored (synchronously) before anyone is told it; a failed write
// answers NOT_COORDINATOR (the member finds the coordinator again and rejoins).
// With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED otherwise), as in Kafka.
#include "broker/broker.hpp"
#include "broker/handlers/group_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace sg = proto::sync_group;

awaitable<sg::response> sync_group(request_context& ctx, sg::request& req) {
  if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::group, req.group_id)) {
    sg::response refused;
    refused.error_code = common::wire_code(kafka_error::group_authorization_failed);
    refused.protocol_type = std::nullopt;
    refused.protocol_name = std::nullopt;
    co_return refused;
  }
  group::sync_request s;
  s.member_id = req.member_id;
  s.instance_id = req.group_instance_id;
  s.generation = req.generation_id;
  s.protocol_type = req.protocol_type;
  s.protocol_name = req.protocol_name;
  for (const auto& a : req.assignments) s.assignments.emplace_back(a.member_id, bytes_to_string(a.assignment));

  const std::string group_id = req.group_id;
  group::sync_result r = co_await ctx.owner.groups().sync(group_id, std::move(s));
  if (r.error == kafka_error::none) {
    auto stored = co_await ctx.owner.groups().flushed();
    if (!stored) {
      r = group::sync_result{};
      r.error = group::store_failure_error("SyncGroup", group_id, stored.err());
    }
  }

  sg::response resp;
  resp.error_code = common::wire_code(r.error);
  resp.protocol_type = r.protocol_type;
  resp.protocol_name = r.protocol_name;
  resp.assignment = string_to_bytes(r.assignment);
  co_return resp;
}

}  // namespace brook::broker::handlers
