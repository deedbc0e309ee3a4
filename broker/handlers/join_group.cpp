// JoinGroup v0-9 (classic protocol): parks until the group's rebalance completes. v4+ first answers
// MEMBER_ID_REQUIRED with the member's id (KIP-394); v5+ carries group.instance.id (KIP-345); v9
// lets a rejoining static leader skip the assignment (KIP-814). A consumer-protocol group with
// members answers INCONSISTENT_GROUP_PROTOCOL (Brook does not mix protocols in one group).
// With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED otherwise), as in Kafka.
#include "broker/broker.hpp"
#include "broker/handlers/group_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace jg = proto::join_group;

awaitable<jg::response> join_group(request_context& ctx, jg::request& req) {
  if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::group, req.group_id)) {
    jg::response refused;
    refused.error_code = common::wire_code(kafka_error::group_authorization_failed);
    refused.generation_id = -1;
    refused.protocol_type = std::nullopt;
    refused.protocol_name = ctx.version() >= 7 ? std::nullopt : std::optional<std::string>("");
    refused.leader = "";
    refused.member_id = "";
    co_return refused;
  }
  group::join_request j;
  j.member_id = req.member_id;
  j.instance_id = req.group_instance_id;
  j.client_id = client_id(ctx);
  j.client_host = client_host(ctx);
  j.session_timeout_ms = req.session_timeout_ms;
  // v0 has no rebalance timeout: the session timeout serves as both.
  j.rebalance_timeout_ms = ctx.version() >= 1 && req.rebalance_timeout_ms >= 0 ? req.rebalance_timeout_ms
                                                                               : req.session_timeout_ms;
  j.protocol_type = req.protocol_type;
  for (const auto& p : req.protocols) j.protocols.push_back({p.name, bytes_to_string(p.metadata)});
  j.require_known_member_id = ctx.version() >= 4;
  j.supports_skip_assignment = ctx.version() >= 9;

  const std::string group_id = req.group_id;
  group::join_result r = co_await ctx.owner.groups().join(group_id, std::move(j));

  jg::response resp;
  resp.error_code = common::wire_code(r.error);
  resp.generation_id = r.generation;
  resp.protocol_type = r.protocol_type;
  resp.protocol_name = r.protocol_name;
  // Before v7 the protocol name is not nullable.
  if (ctx.version() < 7 && !resp.protocol_name) resp.protocol_name = std::string();
  resp.leader = r.leader;
  resp.skip_assignment = r.skip_assignment;
  resp.member_id = r.member_id;
  for (auto& m : r.members) {
    auto& out = resp.members.emplace_back();
    out.member_id = m.member_id;
    out.group_instance_id = m.instance_id;
    out.metadata = string_to_bytes(m.metadata);
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
