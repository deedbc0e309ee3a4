// Group configs (KIP-848's GROUP config resource, ConfigResource type 32): per-group overrides of the
// broker's consumer-protocol group settings. Brook accepts the keys its consumer-group coordinator
// applies: consumer.session.timeout.ms, consumer.heartbeat.interval.ms and
// consumer.assignment.interval.ms (Kafka 4.4 also takes consumer.assignor.offload.enable, and share.*,
// streams.* and dead-letter-queue keys, which belong to group types Brook does not have).
// The values are bounded by the broker's group.consumer.{min,max}.* settings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config_def.hpp"
#include "broker/config/server_config.hpp"
#include "common/error.hpp"

namespace brook::broker {

// A group's overrides as stored and as AlterConfigs gives them: name -> text.
using group_overrides = dynamic_configs;

// Every group config key Brook knows, sorted by name.
const std::vector<config_definition>& group_config_definitions();
const config_definition* find_group_config(std::string_view name);
// The broker key a group key overrides ("group.consumer.session.timeout.ms").
std::string group_config_broker_synonym(std::string_view name);

// A group's consumer-protocol timing with its overrides applied.
struct effective_group_config {
  int32_t session_timeout_ms = 45000;
  int32_t heartbeat_interval_ms = 5000;
  int32_t assignment_interval_ms = 1000;
  bool operator==(const effective_group_config&) const = default;
};

// Kafka's GroupConfig.validate against the broker's bounds; every error is INVALID_CONFIG with Kafka's
// message: "Unknown group config name: X", "Invalid value X for configuration Y: reason",
// "X must be in the range MIN to MAX inclusive.", or a session timeout not above the heartbeat interval.
common::result<effective_group_config> resolve_group_config(const server_config& broker, const group_overrides& overrides);

// Every group config as DescribeConfigs reports a group resource, sorted by name: the override
// (source group_config) or the broker's setting, synonyms the override then the broker key's.
std::vector<config_entry> describe_group_config(const server_config& broker, const group_overrides& overrides);

}  // namespace brook::broker
