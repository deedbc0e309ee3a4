// IncrementalAlterConfigs v0-1 (KIP-339): SET, DELETE, APPEND and SUBTRACT on a topic's overrides;
// APPEND and SUBTRACT only for list-typed configs, starting from the topic's current value. Broker
// configs are static in Brook: INVALID_REQUEST.
#include <algorithm>
#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/config_resources.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace iac = proto::incremental_alter_configs;

namespace {
enum op : int8_t { op_set = 0, op_delete = 1, op_append = 2, op_subtract = 3 };

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// The topic's overrides after applying the operations, or why they cannot be applied.
common::result<topic_overrides> apply(const broker& b, const topic_info& topic, const iac::alter_configs_resource& res) {
  topic_overrides result = to_overrides(topic.record.configs);
  std::set<std::string> seen;
  const auto current = describe_topic_config(b.config(), result);
  for (const auto& c : res.configs) {
    if (!seen.insert(c.name).second)
      return common::error{kafka_error::invalid_request, fmt::format("Error due to duplicate config keys: {}", c.name)};
    const auto* def = find_topic_config(c.name);
    if (!def) return common::error{kafka_error::invalid_config, fmt::format("Unknown topic config name: {}", c.name)};
    switch (c.config_operation) {
      case op_set:
        if (c.value) result[c.name] = *c.value;
        else result.erase(c.name);
        break;
      case op_delete:
        result.erase(c.name);
        break;
      case op_append:
      case op_subtract: {
        if (def->definition.type != config_type::list)
          return common::error{kafka_error::invalid_config,
                               fmt::format("Config value {} is not allowed for config key: {}",
                                           c.config_operation == op_append ? "append" : "subtract", c.name)};
        auto it = std::find_if(current.begin(), current.end(), [&](const config_entry& e) { return e.name == c.name; });
        auto items = split_list(result.count(c.name) ? result.find(c.name)->second
                                                     : (it != current.end() ? it->value.value_or("") : ""));
        for (const auto& v : split_list(c.value.value_or(""))) {
          auto pos = std::find(items.begin(), items.end(), v);
          if (c.config_operation == op_append && pos == items.end()) items.push_back(v);
          if (c.config_operation == op_subtract && pos != items.end()) items.erase(pos);
        }
        result[c.name] = join_list(items);
        break;
      }
      default:
        return common::error{kafka_error::invalid_request,
                             fmt::format("Unknown config operation {} for {}", c.config_operation, c.name)};
    }
  }
  return result;
}
}  // namespace

awaitable<iac::response> incremental_alter_configs(request_context& ctx, iac::request& req) {
  broker& b = ctx.owner;
  iac::response resp;
  for (const auto& res : req.resources) {
    common::result<void> outcome;
    if (auto bad = check_alterable_resource(b, res.resource_type, res.resource_name)) {
      outcome = *bad;
    } else {
      auto updated = apply(b, *b.topics().find(res.resource_name), res);
      if (!updated)
        outcome = updated.err();
      else
        outcome = co_await set_topic_configs(b, res.resource_name, *updated, req.validate_only);
    }
    resp.responses.push_back(
        alter_outcome<iac::alter_configs_resource_response>(res.resource_type, res.resource_name, outcome));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
