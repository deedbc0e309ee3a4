// DescribeConfigs v1-4 (Kafka 4.0 removed v0): topic (type 2), broker (4: "<node id>" every broker
// config in force, "" only the cluster-wide dynamic defaults) and group (32) resources; every config
// with its value, source, read-only and sensitive flags, synonyms when asked, and type and
// documentation (v3+). A null or empty key list means every key. Broker loggers (8) and client
// metrics (16) are not supported: INVALID_REQUEST. With an authorizer each resource needs
// DESCRIBE_CONFIGS (on the cluster for brokers), answered as Kafka answers (no configs) otherwise.
#include <algorithm>

#include "broker/broker.hpp"
#include "broker/handlers/config_resources.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

namespace dc = proto::describe_configs;

awaitable<dc::response> describe_configs(request_context& ctx, dc::request& req) {
  broker& b = ctx.owner;
  dc::response resp;
  for (const auto& res : req.resources) {
    dc::describe_configs_result out;
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    auto bad = config_authorization_error(ctx, res.resource_type, res.resource_name,
                                          security::acl_operation::describe_configs);
    if (!bad) bad = check_config_resource(b, res.resource_type, res.resource_name);
    if (bad) {
      out.error_code = common::wire_code(bad->code);
      out.error_message = bad->message;
      resp.results.push_back(std::move(out));
      continue;
    }
    out.error_message = "";  // Kafka answers an empty message, not null, for a described resource
    const bool all_keys = !res.configuration_keys || res.configuration_keys->empty();
    for (auto& e : describe_resource(b, res.resource_type, res.resource_name)) {
      if (!all_keys && std::find(res.configuration_keys->begin(), res.configuration_keys->end(), e.name) ==
                           res.configuration_keys->end())
        continue;
      dc::describe_configs_resource_result c;
      c.name = e.name;
      c.value = e.value;
      c.read_only = e.read_only;
      c.config_source = static_cast<int8_t>(e.source);
      c.is_sensitive = e.sensitive;
      if (req.include_synonyms)
        for (auto& s : e.synonyms) c.synonyms.push_back({s.name, s.value, static_cast<int8_t>(s.source)});
      c.config_type = static_cast<int8_t>(e.type);
      c.documentation = req.include_documentation ? std::optional<std::string>(e.documentation) : std::nullopt;
      out.configs.push_back(std::move(c));
    }
    resp.results.push_back(std::move(out));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
