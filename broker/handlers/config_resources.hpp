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

// As check_config_resource, for AlterConfigs and IncrementalAlterConfigs: broker configs are
// static in Brook (set them in server.properties), so only topics can be altered.
std::optional<common::error> check_alterable_resource(broker& b, int8_t type, const std::string& name);

// An alter-configs resource answer (either API's type) for this outcome.
template <class Response>
Response alter_outcome(int8_t type, const std::string& name, const common::result<void>& outcome) {
  Response out;
  out.resource_type = type;
  out.resource_name = name;
  out.error_message = std::nullopt;
  if (!outcome) {
    out.error_code = common::wire_code(outcome.code());
    out.error_message = outcome.err().message;
  }
  return out;
}

}  // namespace brook::broker::handlers
