// DescribeCluster v0-2 (KIP-700, KIP-919, KIP-1073): this broker as the whole cluster, never fenced
// (so include_fenced_brokers changes nothing). As from Kafka, asking a broker for controllers
// (endpoint_type 2, v1+) gets MISMATCHED_ENDPOINT_TYPE and an unknown endpoint type
// UNSUPPORTED_ENDPOINT_TYPE; the answer's endpoint_type is always the broker's own (1), errors
// included. The cluster's authorized operations, when asked, are every operation of Kafka's CLUSTER
// resource, as Kafka answers without an authorizer.
#include "broker/broker.hpp"
#include "broker/handlers/cluster_view.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dcl = proto::describe_cluster;

awaitable<dcl::response> describe_cluster(request_context& ctx, dcl::request& req) {
  dcl::response resp;  // endpoint_type: its default, 1 (brokers)
  if (ctx.version() >= 1 && req.endpoint_type != 1) {
    if (req.endpoint_type == 2) {
      resp.error_code = common::wire_code(kafka_error::mismatched_endpoint_type);
      resp.error_message = "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER";
    } else {
      resp.error_code = common::wire_code(kafka_error::unsupported_endpoint_type);
      resp.error_message = "Unsupported endpoint type " + std::to_string(req.endpoint_type);
    }
    co_return resp;
  }
  auto me = self_endpoint(ctx);
  resp.cluster_id = ctx.owner.cluster_id();
  resp.controller_id = ctx.owner.node_id();
  dcl::describe_cluster_broker self;
  self.broker_id = me.node_id;
  self.host = me.host;
  self.port = me.port;
  self.is_fenced = false;
  resp.brokers.push_back(std::move(self));
  if (req.include_cluster_authorized_operations)
    resp.cluster_authorized_operations = security::authorized_operations(ctx, security::resource_type::cluster,
                                                                         security::cluster_resource_name);
  co_return resp;
}

}  // namespace brook::broker::handlers
