// DescribeConfigs v0-4: topic (type 2) and broker (type 4) resources; every config with its value,
// source (v1+; v0 has is_default), read-only and sensitive flags, synonyms when asked (v1+), and type
// and documentation (v3+). Broker loggers (type 8) are not supported yet: INVALID_REQUEST.
#include <algorithm>

#include "broker/broker.hpp"
#include "broker/handlers/config_resources.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dc = proto::describe_configs;

awaitable<dc::response> describe_configs(request_context& ctx, dc::request& req) {
  broker& b = ctx.owner;
  dc::response resp;
  for (const auto& res : req.resources) {
    dc::describe_configs_result out;
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_message = std::nullopt;
    std::vector<config_entry> entries;
    if (auto bad = check_config_resource(b, res.resource_type, res.resource_name)) {
      out.error_code = common::wire_code(bad->code);
      out.error_message = bad->message;
      resp.results.push_back(std::move(out));
      continue;
    }
    if (res.resource_type == resource_topic)
      entries = describe_topic_config(b.config(), to_overrides(b.topics().find(res.resource_name)->record.configs));
    else
      entries = b.config().describe();
    for (auto& e : entries) {
      if (res.configuration_keys &&
          std::find(res.configuration_keys->begin(), res.configuration_keys->end(), e.name) ==
              res.configuration_keys->end())
        continue;
      dc::describe_configs_resource_result c;
      c.name = e.name;
      c.value = e.value;
      c.read_only = e.read_only;
      c.is_default = e.is_default;
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
