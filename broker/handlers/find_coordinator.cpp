// FindCoordinator v0-6: this single broker coordinates every group and transactional id. v4+ asks
// for several keys at once (batched coordinators); key_type 0 is a group, 1 a transactional id.
#include "broker/broker.hpp"
#include "broker/handlers/cluster_view.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace fc = proto::find_coordinator;

awaitable<fc::response> find_coordinator(request_context& ctx, fc::request& req) {
  fc::response resp;
  auto me = self_endpoint(ctx);
  // Share groups (key type 2) are a KIP-932 feature this broker does not have.
  const bool known_type = req.key_type == 0 || req.key_type == 1;
  if (ctx.version() < 4) {
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
    c.node_id = me.node_id;
    c.host = me.host;
    c.port = me.port;
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
