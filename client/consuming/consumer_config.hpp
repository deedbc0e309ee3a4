// The consumer's configuration: Java's KafkaConsumer keys that Brook honours, with Kafka's names,
// defaults and validation. Parsing a property map gives a complete config or an error naming the
// offending key; an unknown key is an error (a misspelt key silently ignored is a bug found late).
// A plain value, copied into the consumer that uses it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/core/config.hpp"
#include "common/error.hpp"

namespace brook::client::consuming {

enum class group_protocol { classic, consumer };
enum class offset_reset_strategy { earliest, latest, none };
enum class isolation_level : int8_t { read_uncommitted = 0, read_committed = 1 };

struct consumer_config {
  // bootstrap.servers (required), client.id, request.timeout.ms (30000 for the consumer), backoffs,
  // metadata.max.age.ms, allow.auto.create.topics: what every client shares (client/core/config.hpp).
  // client.id defaults to consumer-<group.id>-<group.instance.id or a sequence number>, as Java's.
  core::cluster_options cluster;
  std::string client_rack;                           // "": none
  std::optional<std::string> group_id;               // none: no group (assign() only, no commits)
  std::optional<std::string> group_instance_id;      // static membership (KIP-345)
  group_protocol protocol = group_protocol::classic;
  std::optional<std::string> group_remote_assignor;  // group.protocol=consumer: the broker's assignor
  int32_t session_timeout_ms = 45000;
  int32_t heartbeat_interval_ms = 3000;
  int32_t max_poll_interval_ms = 300000;
  int32_t max_poll_records = 500;
  // Assignor names in preference order ("range", "roundrobin", "cooperative-sticky").
  std::vector<std::string> partition_assignment_strategy{"range", "cooperative-sticky"};
  bool enable_auto_commit = true;  // false when no group.id was given
  int32_t auto_commit_interval_ms = 5000;
  offset_reset_strategy auto_offset_reset = offset_reset_strategy::latest;
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_bytes = 52428800;
  int32_t fetch_max_wait_ms = 500;
  int32_t max_partition_fetch_bytes = 1048576;
  isolation_level isolation = isolation_level::read_uncommitted;
  bool check_crcs = true;
  bool exclude_internal_topics = true;
  int32_t default_api_timeout_ms = 60000;

  // Keys are Java's; values are strings as in a Java properties file. Errors: invalid_config with a
  // message naming the key (the first bad value, else the first unknown key).
  static common::result<consumer_config> parse(const core::properties& properties);
};

}  // namespace brook::client::consuming
