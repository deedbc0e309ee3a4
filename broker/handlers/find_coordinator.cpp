// FindCoordinator v0-6: this single broker coordinates every group and transactional id. v4+ asks
// for several keys at once (batched coordinators); key_type 0 is a group, 1 a transactional id.
// With an authorizer (as Kafka's KafkaApis), a key needs DESCRIBE on its group or transactional id:
// GROUP_AUTHORIZATION_FAILED or TRANSACTIONAL_ID_AUTHORIZATION_FAILED otherwise, with no node.
#include "broker/broker.hpp"
#include "broker/handlers/cluster_view.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace fc = proto::find_coordinator;

namespace {
// The error of a key the request may not describe (with Kafka's message), if it may not.
std::optional<std::pair<kafka_error, std::string>> refusal(request_context& ctx, int8_t key_type,
                                                           const std::string& key) {
  using security::acl_operation;
  using security::resource_type;
  if (key_type == 0 && !security::authorized(ctx, acl_operation::describe, resource_type::group, key))
    return std::pair{kafka_error::group_authorization_failed, std::string("Group authorization failed.")};
  if (key_type == 1 && !security::authorized(ctx, acl_operation::describe, resource_type::transactional_id, key))
    return std::pair{kafka_error::transactional_id_authorization_failed,
                     std::string("Transactional Id authorization failed.")};
  return std::nullopt;
}
}  // namespace

awaitable<fc::response> find_coordinator(request_context& ctx, fc::request& req) {
  fc::response resp;
  auto me = self_endpoint(ctx);
  // Share groups (key type 2) are a KIP-932 feature this broker does not have.
  const bool known_type = req.key_type == 0 || req.key_type == 1;
  if (ctx.version() < 4) {
    if (auto refused = known_type ? refusal(ctx, req.key_type, req.key) : std::nullopt) {
      resp.error_code = common::wire_code(refused->first);
      resp.error_message = refused->second;
      resp.node_id = -1;
      resp.host = "";
      resp.port = -1;
      co_return resp;
    }
    if (!known_type) {
      resp.error_code = common::wire_code(kafka_error::invalid_request);
      resp.error_message = "Unsupported key type " + std::to_string(req.key_type);
      resp.node_id = -1;
      resp.port = -1;
      co_return resp;
    }
    resp.node_id = me.node_id;
    resp.host = me.host;
    resp.port = me.port;
    co_return resp;
  }
  for (const auto& key : req.coordinator_keys) {
    auto& c = resp.coordinators.emplace_back();
    c.key = key;
    if (!known_type) {
      c.error_code = common::wire_code(kafka_error::invalid_request);
      c.error_message = "Unsupported key type " + std::to_string(req.key_type);
      c.node_id = -1;
      c.port = -1;
      continue;
    }
    if (auto refused = refusal(ctx, req.key_type, key)) {
      c.error_code = common::wire_code(refused->first);
      c.error_message = refused->second;
      c.node_id = -1;
      c.host = "";
      c.port = -1;
      continue;
    }
    c.node_id = me.node_id;
    c.host = me.host;
    c.port = me.port;
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
