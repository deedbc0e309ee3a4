#include "broker/security/authorize.hpp"

#include <vector>

#include <fmt/format.h>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"

namespace brook::broker::security {

namespace {

constexpr std::string_view anonymous_principal = "User:ANONYMOUS";

requester requester_of(const request_context& ctx, const std::string& host) {
  const api_entry* api = find_api(ctx.header.api_key);
  return requester{ctx.conn ? std::string_view(ctx.conn->principal) : anonymous_principal, host,
                   api ? api->name : std::string_view("?")};
}

// The operations Kafka's AclEntry.supportedOperations lists for a resource type.
const std::vector<acl_operation>& supported_operations(resource_type type) {
  using op = acl_operation;
  static const std::vector<acl_operation> topic{op::read,   op::write, op::create,           op::describe,
                                                op::delete_, op::alter, op::describe_configs, op::alter_configs};
  static const std::vector<acl_operation> group{op::read, op::describe, op::delete_, op::describe_configs,
                                                op::alter_configs};
  static const std::vector<acl_operation> cluster{op::create,           op::cluster_action, op::describe_configs,
                                                  op::alter_configs,    op::idempotent_write, op::alter,
                                                  op::describe};
  static const std::vector<acl_operation> transactional_id{op::describe, op::write, op::two_phase_commit};
  static const std::vector<acl_operation> delegation_token{op::describe};
  static const std::vector<acl_operation> user{op::create_tokens, op::describe_tokens};
  static const std::vector<acl_operation> none;
  switch (type) {
    case resource_type::topic: return topic;
    case resource_type::group: return group;
    case resource_type::cluster: return cluster;
    case resource_type::transactional_id: return transactional_id;
    case resource_type::delegation_token: return delegation_token;
    case resource_type::user: return user;
    default: return none;
  }
}

}  // namespace

std::string client_host(const request_context& ctx) {
  auto address = ctx.remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  if (address.is_v4()) return address.to_string();
  const auto v6 = address.to_v6();
  const auto bytes = v6.to_bytes();
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 2)
    out += fmt::format("{}{:x}", i ? ":" : "", (static_cast<unsigned>(bytes[i]) << 8) | bytes[i + 1]);
  if (v6.scope_id() != 0) out += fmt::format("%{}", v6.scope_id());
  return out;
}

bool authorized(request_context& ctx, acl_operation operation, resource_type type, std::string_view name,
                bool log_if_allowed, bool log_if_denied, int resource_ref_count) {
  const authorizer* auth = ctx.owner.authorizer();
  if (!auth) return true;
  const std::string host = client_host(ctx);
  return auth->authorize(requester_of(ctx, host),
                         action{operation, type, name, resource_ref_count, log_if_allowed, log_if_denied});
}

bool authorized_on_cluster(request_context& ctx, acl_operation operation, bool log_if_denied) {
  return authorized(ctx, operation, resource_type::cluster, cluster_resource_name, true, log_if_denied);
}

bool authorized_by_resource_type(request_context& ctx, acl_operation operation, resource_type type) {
  const authorizer* auth = ctx.owner.authorizer();
  if (!auth) return true;
  const std::string host = client_host(ctx);
  return auth->authorize_by_resource_type(requester_of(ctx, host), operation, type);
}

int32_t authorized_operations(request_context& ctx, resource_type type, std::string_view name) {
  int32_t bits = 0;
  for (acl_operation op : supported_operations(type))
    if (authorized(ctx, op, type, name, false, false)) bits |= int32_t{1} << static_cast<int>(op);
  return bits;
}

}  // namespace brook::broker::security
