// AlterConfigs v0-2 (the legacy, replace-everything form): the configs set on a topic (its overrides),
// a broker resource ("<node id>" or "" for the cluster-wide defaults; dynamic keys only) or a group
// become exactly the given ones. A repeated key or a null value is refused (INVALID_REQUEST), as Kafka
// refuses them; a broker resource's min.insync.replicas, given or dropped, is held to Kafka's
// eligible-leader-replicas rules (server_config::check_min_insync_replicas_change). With an authorizer
// each resource needs ALTER_CONFIGS (on the cluster for brokers), as in Kafka.
#include <set>

#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/config_resources.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace ac = proto::alter_configs;

awaitable<ac::response> alter_configs(request_context& ctx, ac::request& req) {
  broker& b = ctx.owner;
  ac::response resp;
  for (const auto& res : req.resources) {
    common::result<void> outcome;
    auto bad = config_authorization_error(ctx, res.resource_type, res.resource_name,
                                          security::acl_operation::alter_configs);
    if (!bad) bad = check_alterable_resource(b, res.resource_type, res.resource_name);
    if (bad) {
      outcome = *bad;
    } else {
      dynamic_configs configs;
      for (const auto& c : res.configs) {
        if (configs.count(c.name)) {
          outcome = common::error{kafka_error::invalid_request, "Error due to duplicate config keys"};
          break;
        }
        configs.emplace(c.name, c.value.value_or(""));
      }
      for (const auto& c : res.configs) {
        if (outcome && !c.value)
          outcome = common::error{kafka_error::invalid_request, fmt::format("Null value not supported for : {}", c.name)};
      }
      if (outcome) {
        // The keys given, and those set now that the new configs leave out (Kafka's implicit deletions).
        std::set<std::string> named;
        for (const auto& [key, value] : configs) named.insert(key);
        for (const auto& [key, value] : current_configs(b, res.resource_type, res.resource_name)) named.insert(key);
        outcome = co_await set_resource_configs(b, res.resource_type, res.resource_name, configs, named,
                                                req.validate_only);
      }
    }
    resp.responses.push_back(
        alter_outcome<ac::alter_configs_resource_response>(res.resource_type, res.resource_name, outcome));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
