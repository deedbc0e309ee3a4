// AlterConfigs v0-2 (the legacy, replace-everything form): a topic's overrides become exactly the
// given non-null configs. Broker configs are static in Brook (set them in server.properties), so a
// broker resource gets INVALID_REQUEST saying so.
#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/config_resources.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace ac = proto::alter_configs;

awaitable<ac::response> alter_configs(request_context& ctx, ac::request& req) {
  broker& b = ctx.owner;
  ac::response resp;
  for (const auto& res : req.resources) {
    common::result<void> outcome;
    if (auto bad = check_alterable_resource(b, res.resource_type, res.resource_name)) {
      outcome = *bad;
    } else {
      topic_overrides configs;
      for (const auto& c : res.configs)
        if (c.value && !configs.emplace(c.name, *c.value).second)
          outcome = common::error{kafka_error::invalid_request, fmt::format("Duplicate config name: {}", c.name)};
      if (outcome) outcome = co_await set_topic_configs(b, res.resource_name, configs, req.validate_only);
    }
    resp.responses.push_back(
        alter_outcome<ac::alter_configs_resource_response>(res.resource_type, res.resource_name, outcome));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
