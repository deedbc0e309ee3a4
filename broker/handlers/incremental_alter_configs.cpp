// IncrementalAlterConfigs v0-1 (KIP-339): SET, DELETE, APPEND and SUBTRACT on the configs set on a
// topic, a broker resource ("<node id>" or "" for the cluster-wide defaults) or a group. APPEND and
// SUBTRACT only for list-typed configs, starting from the value in force. Repeated keys and a SET
// without a value are refused (INVALID_REQUEST) before anything else, as Kafka's broker does; on broker
// resources any operation on min.insync.replicas is then held to Kafka's eligible-leader-replicas rules
// (server_config::check_min_insync_replicas_change). With an authorizer each resource needs
// ALTER_CONFIGS (on the cluster for brokers), as in Kafka.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/config_resources.hpp"
#include "broker/handlers/handlers.hpp"

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

// The resource's configs after applying the operations, or why they cannot be applied.
common::result<dynamic_configs> apply(broker& b, const iac::alter_configs_resource& res) {
  std::set<std::string> seen;
  for (const auto& c : res.configs)
    if (!seen.insert(c.name).second)
      return common::error{kafka_error::invalid_request, "Error due to duplicate config keys"};
  for (const auto& c : res.configs)
    if (c.config_operation == op_set && !c.value)
      return common::error{kafka_error::invalid_request, fmt::format("Null value not supported for : {}", c.name)};

  dynamic_configs result = current_configs(b, res.resource_type, res.resource_name);
  std::vector<config_entry> in_force;  // described once, for APPEND and SUBTRACT
  for (const auto& c : res.configs) {
    if (res.resource_type == resource_topic && !find_topic_config(c.name))
      return common::error{kafka_error::invalid_config, fmt::format("Unknown topic config name: {}", c.name)};
    switch (c.config_operation) {
      case op_set:
        result[c.name] = *c.value;
        break;
      case op_delete:
        result.erase(c.name);
        break;
      case op_append:
      case op_subtract: {
        const char* verb = c.config_operation == op_append ? "append" : "subtract";
        if (config_type_of(res.resource_type, c.name) != config_type::list) {
          if (res.resource_type == resource_group)
            return common::error{kafka_error::invalid_config,
                                 fmt::format("Can't {} to key {} because its type is not LIST.",
                                             c.config_operation == op_append ? "APPEND" : "SUBTRACT", c.name)};
          return common::error{kafka_error::invalid_config,
                               fmt::format("Config value {} is not allowed for config key: {}", verb, c.name)};
        }
        std::string base;
        if (auto it = result.find(c.name); it != result.end()) {
          base = it->second;
        } else {
          if (in_force.empty()) in_force = describe_resource(b, res.resource_type, res.resource_name);
          auto e = std::find_if(in_force.begin(), in_force.end(), [&](const config_entry& x) { return x.name == c.name; });
          if (e != in_force.end()) base = e->value.value_or("");
          else if (res.resource_type == resource_broker) base = format_config_value(b.config().value(c.name)).value_or("");
        }
        auto items = split_list(base);
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
    auto bad = config_authorization_error(ctx, res.resource_type, res.resource_name,
                                          security::acl_operation::alter_configs);
    if (!bad) bad = check_alterable_resource(b, res.resource_type, res.resource_name);
    if (bad) {
      outcome = *bad;
    } else {
      auto updated = apply(b, res);
      if (!updated) {
        outcome = updated.err();
      } else {
        const dynamic_configs configs = std::move(*updated);
        std::set<std::string> named;
        for (const auto& c : res.configs) named.insert(c.name);
        outcome = co_await set_resource_configs(b, res.resource_type, res.resource_name, configs, named,
                                                req.validate_only);
      }
    }
    resp.responses.push_back(
        alter_outcome<iac::alter_configs_resource_response>(res.resource_type, res.resource_name, outcome));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
