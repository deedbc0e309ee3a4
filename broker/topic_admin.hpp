// Topic administration shared by CreateTopics, Metadata's auto-creation, DeleteTopics,
// CreatePartitions and the config-altering APIs: validation with Kafka's errors and messages, the
// durable change in the metadata store (on the blocking pool), then the registry update.
// Network thread only. Arguments are references to the caller's named locals: GCC 12 mishandles
// temporaries inside co_await expressions (see blocking.hpp).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "broker/config/topic_config.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker {

class broker;

struct new_topic {
  std::string name;
  int32_t partitions = -1;          // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  topic_overrides configs;
};

// Validates and (unless validate_only) creates the topic. The returned record is what was (or
// would be) stored.
boost::asio::awaitable<common::result<log::topic_record>> create_topic(broker& b, const new_topic& t, bool validate_only);
boost::asio::awaitable<common::result<void>> delete_topic(broker& b, const std::string& name);
// Grows a topic to `count` partitions in total.
boost::asio::awaitable<common::result<void>> set_partition_count(broker& b, const std::string& name, int32_t count,
                                                                 bool validate_only);
// Replaces the topic's config overrides with `configs` (validated first).
boost::asio::awaitable<common::result<void>> set_topic_configs(broker& b, const std::string& name, const topic_overrides& configs,
                                                               bool validate_only);

}  // namespace brook::broker
