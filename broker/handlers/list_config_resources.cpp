// ListConfigResources v0-1 (KIP-1142): the config resources that exist. v0 lists client metrics
// resources only (Brook has none); v1 the asked types, or with none asked every type: groups with
// configs set, this broker, every topic. Broker loggers and client metrics are known types with
// nothing to list here; any other type is UNSUPPORTED_VERSION, as from Kafka.
#include <set>

#include "broker/broker.hpp"
#include "broker/handlers/config_resources.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace lcr = proto::list_config_resources;

awaitable<lcr::response> list_config_resources(request_context& ctx, lcr::request& req) {
  broker& b = ctx.owner;
  lcr::response resp;
  // As Kafka's KafkaApis: DESCRIBE_CONFIGS on the cluster.
  if (!security::authorized_on_cluster(ctx, security::acl_operation::describe_configs)) {
    resp.error_code = common::wire_code(kafka_error::cluster_authorization_failed);
    co_return resp;
  }
  if (ctx.version() == 0) co_return resp;  // client metrics only
  const std::set<int8_t> known{resource_topic, resource_broker, resource_broker_logger, resource_client_metrics,
                               resource_group};
  std::set<int8_t> wanted(req.resource_types.begin(), req.resource_types.end());
  for (int8_t t : wanted) {
    if (!known.count(t)) {
      resp.error_code = common::wire_code(kafka_error::unsupported_version);
      co_return resp;
    }
  }
  auto asked = [&](int8_t t) { return wanted.empty() || wanted.count(t) > 0; };
  if (asked(resource_group))
    for (const auto& [group, configs] : b.group_configs()) resp.config_resources.push_back({group, resource_group});
  if (asked(resource_broker)) resp.config_resources.push_back({std::to_string(b.node_id()), resource_broker});
  if (asked(resource_topic))
    for (const auto& [name, info] : b.topics().all()) resp.config_resources.push_back({name, resource_topic});
  co_return resp;
}

}  // namespace brook::broker::handlers
