// Topic-level configuration: Kafka's topic config keys, each defaulting to a broker setting (its
// "synonym": retention.ms <- log.retention.ms/minutes/hours, segment.bytes <- log.segment.bytes,
// max.message.bytes <- message.max.bytes, ...), validation of per-topic overrides, the effective
// typed values the log uses, and the DescribeConfigs view of a topic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config_def.hpp"
#include "broker/config/server_config.hpp"
#include "common/error.hpp"

namespace brook::broker {

// A topic's overrides as stored and as CreateTopics / AlterConfigs give them: name -> text.
using topic_overrides = std::map<std::string, std::string, std::less<>>;

// One topic config key. `definition.default_value` is Kafka's own default for the key, which is
// also what the broker synonym defaults to; read_only is false (topic configs can be altered).
struct topic_config_definition {
  config_definition definition;
  // The broker key whose value the topic inherits (Kafka's "server default property"), e.g.
  // "log.retention.ms" for retention.ms; nullopt for topic-only keys such as remote.storage.enable.
  std::optional<std::string> broker_synonym;
};

// Every topic config key Brook knows, sorted by name.
const std::vector<topic_config_definition>& topic_config_definitions();
const topic_config_definition* find_topic_config(std::string_view name);

enum class timestamp_type { create_time, log_append_time };

// A topic's configuration with overrides and broker defaults resolved, in the types the log needs.
struct effective_topic_config {
  std::vector<std::string> cleanup_policy;  // as configured: {"delete"}, {"compact"}, {"compact","delete"}
  bool cleanup_delete = true;               // "delete" is among the policies
  bool cleanup_compact = false;             // "compact" is among the policies
  std::string compression_type = "producer";  // uncompressed, zstd, lz4, snappy, gzip or producer
  int32_t compression_gzip_level = -1;
  int32_t compression_lz4_level = 9;
  int32_t compression_zstd_level = 3;
  int64_t delete_retention_ms = 0;
  int64_t file_delete_delay_ms = 0;
  int64_t flush_messages = 0;
  int64_t flush_ms = 0;
  int32_t index_interval_bytes = 0;
  int64_t local_retention_bytes = -2;
  int64_t local_retention_ms = -2;
  int64_t max_compaction_lag_ms = 0;
  int32_t max_decompressed_message_bytes = 0;  // largest record a compressed batch may decompress to
  int32_t max_message_bytes = 0;
  timestamp_type message_timestamp_type = timestamp_type::create_time;
  // How far a record's CreateTime may be behind / ahead of the broker's clock (Kafka's defaults:
  // no limit behind, one hour ahead).
  int64_t message_timestamp_before_max_ms = 0;
  int64_t message_timestamp_after_max_ms = 0;
  double min_cleanable_dirty_ratio = 0.5;
  int64_t min_compaction_lag_ms = 0;
  int32_t min_insync_replicas = 1;
  bool preallocate = false;
  bool remote_storage_enable = false;
  int64_t retention_bytes = -1;  // -1: no size limit
  int64_t retention_ms = 0;      // -1: no time limit
  int32_t segment_bytes = 0;
  int32_t segment_index_bytes = 0;
  int64_t segment_jitter_ms = 0;
  int64_t segment_ms = 0;
  bool unclean_leader_election_enable = false;
  bool operator==(const effective_topic_config&) const = default;
};

// Checks a topic's overrides against the broker's configuration. Errors, all
// kafka_error::invalid_config: "Unknown topic config name: X"; "Invalid value X for configuration
// Y: reason" for a value that does not parse or fails its validator; remote.storage.enable=true
// (Brook has no tiered storage); min.compaction.lag.ms greater than max.compaction.lag.ms.
common::result<void> validate_topic_overrides(const server_config& broker, const topic_overrides& overrides);

// The effective configuration of a topic: each override where given, else the broker's setting
// (with the broker's own precedence, e.g. log.retention.ms > minutes > hours), else Kafka's
// default. Fails as validate_topic_overrides does.
common::result<effective_topic_config> resolve_topic_config(const server_config& broker, const topic_overrides& overrides);

// Every topic config as DescribeConfigs reports a topic resource, sorted by name: the value
// (override, else inherited), its source (dynamic_topic_config for an override, else the source of
// the broker synonym that Kafka reports, else default_config), read_only=false, and synonyms in
// Kafka's order: the topic override, then the broker's static settings, then the broker defaults.
// Overrides are expected to be valid; one that does not parse is reported as given.
std::vector<config_entry> describe_topic_config(const server_config& broker, const topic_overrides& overrides);

}  // namespace brook::broker
