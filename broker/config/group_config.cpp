#include "broker/config/group_config.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace brook::broker {

using common::kafka_error;

namespace {

constexpr std::string_view session_key = "consumer.session.timeout.ms";
constexpr std::string_view heartbeat_key = "consumer.heartbeat.interval.ms";
constexpr std::string_view assignment_key = "consumer.assignment.interval.ms";

std::vector<config_definition> make_group_definitions() {
  auto def = [](std::string name, std::string doc, int64_t min) {
    config_definition d;
    d.name = std::move(name);
    d.type = config_type::int_;
    d.documentation = std::move(doc);
    d.validator = at_least(min);
    d.read_only = false;
    return d;
  };
  return {def(std::string(assignment_key), "The interval between assignment updates for a consumer group.", 0),
          def(std::string(heartbeat_key), "The heartbeat interval given to the members of this consumer group.", 1),
          def(std::string(session_key), "The timeout to detect client failures of this consumer group.", 1)};
}

}  // namespace

const std::vector<config_definition>& group_config_definitions() {
  static const std::vector<config_definition> table = make_group_definitions();
  return table;
}

const config_definition* find_group_config(std::string_view name) {
  for (const auto& d : group_config_definitions())
    if (d.name == name) return &d;
  return nullptr;
}

std::string group_config_broker_synonym(std::string_view name) { return "group." + std::string(name); }

common::result<effective_group_config> resolve_group_config(const server_config& broker, const group_overrides& overrides) {
  effective_group_config c;
  c.session_timeout_ms = broker.group_consumer_session_timeout_ms();
  c.heartbeat_interval_ms = broker.group_consumer_heartbeat_interval_ms();
  c.assignment_interval_ms = broker.group_consumer_assignment_interval_ms();
  for (const auto& [name, text] : overrides)
    if (!find_group_config(name)) return common::error{kafka_error::invalid_config, "Unknown group config name: " + name};
  for (const auto& [name, text] : overrides) {
    auto parsed = parse_config_value(*find_group_config(name), text);
    if (!parsed) return parsed.err();
    const auto value = static_cast<int32_t>(std::get<int64_t>(*parsed));
    int64_t min = 0, max = 0;
    if (name == session_key) {
      min = broker.get_int("group.consumer.min.session.timeout.ms");
      max = broker.get_int("group.consumer.max.session.timeout.ms");
      c.session_timeout_ms = value;
    } else if (name == assignment_key) {
      min = broker.get_int("group.consumer.min.assignment.interval.ms");
      max = broker.get_int("group.consumer.max.assignment.interval.ms");
      c.assignment_interval_ms = value;
    } else {
      min = broker.get_int("group.consumer.min.heartbeat.interval.ms");
      max = broker.get_int("group.consumer.max.heartbeat.interval.ms");
      c.heartbeat_interval_ms = value;
    }
    if (value < min || value > max)
      return common::error{kafka_error::invalid_config,
                           fmt::format("{} must be in the range {} to {} inclusive.", name, min, max)};
  }
  if (c.session_timeout_ms <= c.heartbeat_interval_ms)
    return common::error{kafka_error::invalid_config,
                         fmt::format("{} must be greater than {}", session_key, heartbeat_key)};
  return c;
}

std::vector<config_entry> describe_group_config(const server_config& broker, const group_overrides& overrides) {
  std::vector<config_entry> out;
  for (const auto& d : group_config_definitions()) {
    config_entry e;
    e.name = d.name;
    e.type = d.type;
    e.read_only = false;
    e.sensitive = false;
    e.documentation = d.documentation;
    const std::string synonym = group_config_broker_synonym(d.name);
    if (auto it = overrides.find(d.name); it != overrides.end()) {
      auto parsed = parse_config_value(d, it->second);
      e.value = parsed ? format_config_value(*parsed) : std::optional<std::string>(it->second);
      e.synonyms.push_back({d.name, e.value, config_source::group_config});
    } else {
      e.value = format_config_value(broker.value(synonym));
    }
    auto inherited = broker.synonyms_of(synonym);
    e.synonyms.insert(e.synonyms.end(), inherited.begin(), inherited.end());
    e.source = e.synonyms.empty() ? config_source::default_config : e.synonyms.front().source;
    e.is_default = e.source == config_source::default_config;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace brook::broker
