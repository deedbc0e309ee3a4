#include "broker/handlers/config_resources.hpp"

#include <fmt/format.h>

#include "broker/broker.hpp"

namespace brook::broker::handlers {

using common::kafka_error;

std::optional<common::error> check_config_resource(broker& b, int8_t type, const std::string& name) {
  if (type == resource_topic) {
    if (!b.topics().find(name))
      return common::error{kafka_error::unknown_topic_or_partition, fmt::format("Topic '{}' does not exist.", name)};
    return std::nullopt;
  }
  if (type == resource_broker) {
    if (!name.empty() && name != std::to_string(b.node_id()))
      return common::error{kafka_error::invalid_request,
                           fmt::format("Unexpected broker id, expected {} or empty string, but received {}",
                                       b.node_id(), name)};
    return std::nullopt;
  }
  if (type == resource_broker_logger)
    return common::error{kafka_error::invalid_request, "Broker logger configs are not supported by this broker."};
  return common::error{kafka_error::invalid_request, fmt::format("Unsupported resource type {}", type)};
}

std::optional<common::error> check_alterable_resource(broker& b, int8_t type, const std::string& name) {
  if (auto bad = check_config_resource(b, type, name)) return bad;
  if (type != resource_topic)
    return common::error{kafka_error::invalid_request,
                         "Brook does not support dynamic broker configs; set them in server.properties."};
  return std::nullopt;
}

}  // namespace brook::broker::handlers
