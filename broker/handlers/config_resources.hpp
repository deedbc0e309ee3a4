// The config resources DescribeConfigs, AlterConfigs and IncrementalAlterConfigs name, and the
// checks they share.
#pragma once

#include <optional>
#include <string>

#include "common/error.hpp"

namespace brook::broker {
class broker;
}

namespace brook::broker::handlers {

// Kafka's ConfigResource.Type codes.
inline constexpr int8_t resource_topic = 2;
inline constexpr int8_t resource_broker = 4;
inline constexpr int8_t resource_broker_logger = 8;

// Why a resource cannot be served (unknown type, unknown topic, another broker's id), or nothing.
// An empty broker name means the cluster-wide default, which on one node is this broker.
std::optional<common::error> check_config_resource(broker& b, int8_t type, const std::string& name);

}  // namespace brook::broker::handlers
