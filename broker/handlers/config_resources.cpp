#include "broker/handlers/config_resources.hpp"

#include <charconv>

#include <fmt/format.h>

#include "broker/blocking.hpp"
#include "broker/broker.hpp"
#include "broker/config/group_config.hpp"
#include "broker/security/authorize.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::handlers {

using common::kafka_error;

namespace {

// Java's Integer.parseInt: an optional sign and decimal digits.
std::optional<int32_t> parse_java_int(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return std::nullopt;
  int32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<common::error> check_broker_name(broker& b, const std::string& name, bool alter) {
  if (name.empty()) return std::nullopt;
  auto id = parse_java_int(name);
  if (!id)
    return common::error{kafka_error::invalid_request,
                         fmt::format("{} id must be an integer, but it is: {}", alter ? "Node" : "Broker", name)};
  if (*id != b.node_id())
    return common::error{kafka_error::invalid_request,
                         fmt::format("Unexpected broker id, expected {}{}, but received {}", b.node_id(),
                                     alter ? "" : " or empty string", name)};
  return std::nullopt;
}

log::config_resource_record to_record(int8_t type, const std::string& name, const dynamic_configs& configs) {
  log::config_resource_record r;
  r.resource_type = type;
  r.resource_name = name;
  for (const auto& [k, v] : configs) r.configs.push_back({k, v});
  return r;
}

}  // namespace

std::optional<common::error> check_config_resource(broker& b, int8_t type, const std::string& name) {
  switch (type) {
    case resource_topic:
      if (!b.topics().find(name))
        return common::error{kafka_error::unknown_topic_or_partition, fmt::format("Topic '{}' does not exist.", name)};
      return std::nullopt;
    case resource_broker:
      return check_broker_name(b, name, false);
    case resource_group:
      if (name.empty()) return common::error{kafka_error::invalid_request, "Group name must not be empty"};
      return std::nullopt;
    case resource_broker_logger:
      return common::error{kafka_error::invalid_request, "Broker logger configs are not supported by this broker."};
    default:
      return common::error{kafka_error::invalid_request, fmt::format("Unsupported resource type {}", type)};
  }
}

std::optional<common::error> check_alterable_resource(broker& b, int8_t type, const std::string& name) {
  switch (type) {
    case resource_broker:
      return check_broker_name(b, name, true);
    case resource_group:
      if (name.empty()) return common::error{kafka_error::invalid_request, "Default group resources are not allowed."};
      return std::nullopt;
    default:
      return check_config_resource(b, type, name);
  }
}

dynamic_configs current_configs(broker& b, int8_t type, const std::string& name) {
  switch (type) {
    case resource_topic: {
      const topic_info* t = b.topics().find(name);
      return t ? dynamic_configs(t->record.configs.begin(), t->record.configs.end()) : dynamic_configs{};
    }
    case resource_broker:
      return name.empty() ? b.config().dynamic_defaults() : b.config().dynamic_per_broker();
    case resource_group: {
      auto it = b.group_configs().find(name);
      return it == b.group_configs().end() ? dynamic_configs{} : it->second;
    }
    default:
      return {};
  }
}

std::vector<config_entry> describe_resource(broker& b, int8_t type, const std::string& name) {
  switch (type) {
    case resource_topic:
      return describe_topic_config(b.config(), to_overrides(b.topics().find(name)->record.configs));
    case resource_broker:
      return name.empty() ? b.config().describe_dynamic_defaults() : b.config().describe();
    case resource_group:
      return describe_group_config(b.config(), current_configs(b, type, name));
    default:
      return {};
  }
}

config_type config_type_of(int8_t type, const std::string& key) {
  const config_definition* d = nullptr;
  if (type == resource_topic) {
    if (const auto* t = find_topic_config(key)) d = &t->definition;
  } else if (type == resource_broker) {
    d = server_config::find_definition(key);
  } else if (type == resource_group) {
    d = find_group_config(key);
  }
  return d ? d->type : config_type::unknown;
}

boost::asio::awaitable<common::result<void>> set_resource_configs(broker& b, int8_t type, const std::string& name,
                                                                  const dynamic_configs& configs,
                                                                  const std::set<std::string>& named,
                                                                  bool validate_only) {
  if (type == resource_topic) {
    const topic_overrides overrides(configs.begin(), configs.end());
    co_return co_await set_topic_configs(b, name, overrides, validate_only);
  }
  if (type == resource_broker) {
    const bool defaults = name.empty();
    auto next = defaults ? b.config().with_dynamic(b.config().dynamic_per_broker(), configs)
                         : b.config().with_dynamic(configs, b.config().dynamic_defaults());
    if (!next) co_return common::error{kafka_error::invalid_request, next.err().message};
    if (auto elr = server_config::check_min_insync_replicas_change(defaults, named, configs); !elr) co_return elr.err();
    if (validate_only) co_return common::result<void>{};
    // Stored under this broker's id (or "" for the defaults), as Kafka keys them.
    auto record = to_record(type, defaults ? std::string() : std::to_string(b.node_id()), configs);
    auto work = [&store = b.store(), record] { return store.put_config_resource(record); };
    auto stored = co_await run_blocking(b.blocking_pool(), work);
    if (!stored) co_return stored.err();
    // Layered over the configs in force now: another resource may have changed while the store wrote.
    auto current = defaults ? b.config().with_dynamic(b.config().dynamic_per_broker(), configs)
                            : b.config().with_dynamic(configs, b.config().dynamic_defaults());
    const server_config applied = current ? std::move(*current) : std::move(*next);
    co_await b.reconfigure(applied);
    co_return common::result<void>{};
  }
  if (type == resource_group) {
    auto timing = resolve_group_config(b.config(), configs);
    if (!timing) co_return timing.err();
    if (validate_only) co_return common::result<void>{};
    auto record = to_record(type, name, configs);
    auto work = [&store = b.store(), record] { return store.put_config_resource(record); };
    auto stored = co_await run_blocking(b.blocking_pool(), work);
    if (!stored) co_return stored.err();
    std::optional<group::group_coordinator::consumer_timing> applied;
    if (configs.empty()) {
      b.group_configs().erase(name);
    } else {
      b.group_configs()[name] = configs;
      applied = group::group_coordinator::consumer_timing{timing->session_timeout_ms, timing->heartbeat_interval_ms,
                                                                  timing->assignment_interval_ms};
    }
    b.groups().coordinator().set_consumer_timing(name, applied);
    co_return common::result<void>{};
  }
  co_return common::error{kafka_error::invalid_request, fmt::format("Unsupported resource type {}", type)};
}

std::optional<common::error> config_authorization_error(request_context& ctx, int8_t type, const std::string& name,
                                                        security::acl_operation operation) {
  using security::resource_type;
  switch (type) {
    case resource_broker:
    case resource_broker_logger:
    case resource_client_metrics:
      if (security::authorized_on_cluster(ctx, operation)) return std::nullopt;
      return common::error{common::kafka_error::cluster_authorization_failed, "Cluster authorization failed."};
    case resource_topic:
      if (security::authorized(ctx, operation, resource_type::topic, name)) return std::nullopt;
      return common::error{common::kafka_error::topic_authorization_failed, "Topic authorization failed."};
    case resource_group:
      if (security::authorized(ctx, operation, resource_type::group, name)) return std::nullopt;
      return common::error{common::kafka_error::group_authorization_failed, "Group authorization failed."};
    default:
      return std::nullopt;
  }
}

}  // namespace brook::broker::handlers
