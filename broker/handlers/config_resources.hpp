// The config resources DescribeConfigs, AlterConfigs, IncrementalAlterConfigs and ListConfigResources
// name, and what they share: the checks of a resource name, a resource's current configs, what
// DescribeConfigs reports of it, and replacing its configs (validated, stored, then in force).
//   topic  (2):  the topic's overrides (broker/topic_admin.hpp)
//   broker (4):  "<node id>" this broker's dynamic configs, "" the cluster-wide dynamic defaults
//   group  (32): a group's overrides of the consumer-protocol timing (KIP-848)
// Network thread only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/config/config_def.hpp"
#include "broker/config/server_config.hpp"
#include "broker/request_context.hpp"
#include "broker/security/acl.hpp"
#include "common/error.hpp"

namespace brook::broker {
class broker;
}

namespace brook::broker::handlers {

// Kafka's ConfigResource.Type codes.
inline constexpr int8_t resource_topic = 2;
inline constexpr int8_t resource_broker = 4;
inline constexpr int8_t resource_broker_logger = 8;
inline constexpr int8_t resource_client_metrics = 16;
inline constexpr int8_t resource_group = 32;

// Why DescribeConfigs cannot describe a resource (unknown type, unknown topic, a broker name that is
// not an integer or not this broker's id, an empty group name), with Kafka's messages, or nothing.
std::optional<common::error> check_config_resource(broker& b, int8_t type, const std::string& name);
// As check_config_resource, with Kafka's messages for AlterConfigs and IncrementalAlterConfigs.
std::optional<common::error> check_alterable_resource(broker& b, int8_t type, const std::string& name);

// With an authorizer, whether the request may do `operation` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on
// the resource, as Kafka checks it: on the cluster for broker, broker logger and client metrics
// resources, else on the topic or group; the refusal is CLUSTER_, TOPIC_ or GROUP_AUTHORIZATION_FAILED
// with Kafka's message. Other resource types are not checked here (their own error answers them).
std::optional<common::error> config_authorization_error(request_context& ctx, int8_t type, const std::string& name,
                                                        security::acl_operation operation);

// The resource's configs as set on it (topic overrides, a broker resource's dynamic configs, a
// group's overrides): name -> text. The resource passed the checks above.
dynamic_configs current_configs(broker& b, int8_t type, const std::string& name);
// What DescribeConfigs reports of the resource, sorted by name.
std::vector<config_entry> describe_resource(broker& b, int8_t type, const std::string& name);
// The type of one of the resource's keys (config_type::unknown for keys it does not know).
config_type config_type_of(int8_t type, const std::string& key);

// Replaces the configs set on the resource with `configs`, validated as Kafka validates them for the
// resource type; unless validate_only, stores them and puts them in force (a broker resource's
// changes apply to every topic's logs without a restart; a group's to its members' next
// heartbeats). `named` holds the keys the request changes (each operation's key; for AlterConfigs the
// keys given and those it drops), for Kafka's rules on min.insync.replicas of broker resources.
// `configs` and `named` are the caller's named locals (GCC 12 and temporaries in co_await).
boost::asio::awaitable<common::result<void>> set_resource_configs(broker& b, int8_t type, const std::string& name,
                                                                  const dynamic_configs& configs,
                                                                  const std::set<std::string>& named,
                                                                  bool validate_only);

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
