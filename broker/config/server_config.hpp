// The broker's configuration: Kafka's server.properties keys with Kafka's defaults, read from
// `brook-server [server.properties] [--override key=value ...]` (the shape of kafka-server-start.sh),
// or `brook-server --ephemeral ...` for a throwaway broker in tests.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/config/config_def.hpp"
#include "broker/config/properties.hpp"
#include "common/error.hpp"

namespace brook::broker {

// One entry of `listeners` / `advertised.listeners`: NAME://host:port.
struct listener_endpoint {
  std::string name;               // listener name, upper-cased as Kafka normalises it ("PLAINTEXT")
  std::string security_protocol;  // from listener.security.protocol.map: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
  std::string host;               // empty: every interface (listeners) / this machine's name (advertised)
  uint16_t port = 0;              // 0 in `listeners`: the operating system picks a free port
  bool operator==(const listener_endpoint&) const = default;
};

// Parses a comma-separated listener list ("PLAINTEXT://:9092,INTERNAL://[::1]:9093").
// `config_name` names the key in error messages; `security_protocol_map` is the parsed
// listener.security.protocol.map ("NAME:PROTOCOL,..."). Errors are invalid_config.
common::result<std::vector<listener_endpoint>> parse_listeners(std::string_view config_name, std::string_view text,
                                                               std::string_view security_protocol_map);

// What `brook-server` was asked on its command line.
struct command_line {
  std::optional<std::string> properties_path;  // the optional positional argument
  property_list overrides;                     // each `--override key=value`, in order
  bool help = false;                           // -h / --help
  bool version = false;                        // --version
  bool ephemeral = false;                      // --ephemeral: ephemeral_properties() under the overrides
  bool exit_on_stdin_eof = false;              // --exit-on-stdin-eof: stop once stdin is closed
};

// Parses the arguments after the program name. Errors (invalid_config): `--override` without a
// value or without '=', an unknown option, more than one properties file.
common::result<command_line> parse_command_line(std::span<const std::string> args);

// The usage text for -h/--help and for command line errors.
std::string command_line_usage(std::string_view program);

// What --ephemeral sets, between the properties file and the overrides (so --override wins): a
// listener on 127.0.0.1 on a free port, `log_dir` as the data, no fsync (brook.log.fsync=false: the
// data is thrown away at exit) and no initial rebalance delay.
property_list ephemeral_properties(const std::string& log_dir);

// Dynamic broker configs (KIP-226) as stored and as AlterConfigs gives them: name -> text. Keys
// that are not broker configs are kept (Kafka allows custom keys) but change nothing.
using dynamic_configs = std::map<std::string, std::string, std::less<>>;

// A value, not shared: the broker owns one and replaces it whole when dynamic configs change
// (with_dynamic). Invariant: every key of definitions() has a setting whose value passed the key's
// validator and the cross-key checks (listeners parse, log dirs non-empty, retention precedence,
// node.id agreement). A setting's value comes from, highest first: this broker's dynamic configs
// (resource "<node id>", source dynamic_broker_config), the cluster-wide dynamic defaults (resource
// "", dynamic_default_broker_config), a file or --override (static_broker_config), Kafka's default
// (default_config). Only is_dynamic() keys ever take a dynamic value.
class server_config {
 public:
  // The table of every broker key Brook knows, sorted by name.
  static const std::vector<config_definition>& definitions();
  static const config_definition* find_definition(std::string_view name);

  // Builds a config from properties (later duplicates win). Unknown keys are not errors: each one
  // becomes a line in warnings() for the caller to log. Invalid values refuse the whole config with
  // kafka_error::invalid_config and a message naming the key and the value.
  static common::result<server_config> from_properties(const property_list& properties);
  // Reads the properties file named on the command line (if any), then applies `defaults` (e.g.
  // ephemeral_properties()), then the overrides.
  static common::result<server_config> load(const command_line& command, const property_list& defaults = {});
  // Every key at its default (node.id and broker.id 1: see node_id()).
  static server_config defaults();

  const std::vector<std::string>& warnings() const { return warnings_; }

  // --- per-listener settings ---
  // Kafka's listener-prefixed keys, `listener.name.<listener>.<key>` (the listener name lower-cased, as
  // Kafka writes it), e.g. listener.name.sasl_plaintext.plain.sasl.jaas.config: kept as given, not
  // warned about, for the listener's security settings. listener_setting() answers the prefixed value
  // for `listener`, else the unprefixed broker key's when it is set, else nothing.
  std::optional<std::string> listener_setting(std::string_view listener, std::string_view key) const;
  const std::map<std::string, std::string, std::less<>>& listener_settings() const { return listener_settings_; }

  // --- dynamic broker configs ---
  // The keys AlterConfigs may change at run time: those Kafka 4.4 marks dynamic that Brook honours
  // (topic defaults the logs and produce path use, message.max.bytes, log.cleaner.backoff.ms).
  static bool is_dynamic(std::string_view name);
  static std::vector<std::string> dynamic_names();
  // Kafka's checks of one resource's complete dynamic configs (DynamicBrokerConfig.validateConfigs and
  // its reconfigurables), all INVALID_REQUEST: "Cannot update these configs dynamically: [a, b]" for
  // broker keys that are not dynamic, "Invalid value X for configuration Y: reason" for values that do
  // not parse or fail their validator, and Kafka's "requirement failed: ..." for log.retention.ms = 0
  // and log.roll.ms < 1. Keys that are not broker configs pass.
  static common::result<void> validate_dynamic(const dynamic_configs& configs);
  // This config with its dynamic layers replaced (per_broker over defaults over the static settings),
  // or why the result is invalid (validate_dynamic's errors, then the cross-key checks').
  common::result<server_config> with_dynamic(const dynamic_configs& per_broker, const dynamic_configs& defaults) const;
  // The cluster-wide dynamic defaults a new data directory starts with: min.insync.replicas at its
  // static value (or Kafka's default, 1). A new Kafka 4.4 cluster starts so: its storage formatter
  // finalizes eligible.leader.replicas.version 1 (KIP-966) in the bootstrap metadata, and on such a
  // bootstrap the controller's first activation writes this record into the empty metadata log
  // (ActivationRecordsGenerator), so every broker and topic then reports min.insync.replicas as a
  // DYNAMIC_DEFAULT_BROKER_CONFIG. Data directories created before Brook did this go without it.
  dynamic_configs initial_dynamic_defaults() const;
  // Kafka's rules for min.insync.replicas while eligible leader replicas are on, as they are on a new
  // Kafka 4.4 cluster (ConfigurationControlManager): a broker's own min.insync.replicas can be neither
  // set nor deleted ("Broker-level min.insync.replicas cannot be altered while ELR is enabled.") and the
  // cluster-wide one cannot be removed ("Cluster-level min.insync.replicas cannot be removed while ELR
  // is enabled."), both INVALID_CONFIG. `cluster_default` tells the resource ("" or this broker's id);
  // `named` holds every key the request changes (an IncrementalAlterConfigs operation's key, or for
  // AlterConfigs each key given and each key it drops) and `after` the resource's configs as they would
  // be. Kafka checks this after the values (validate_dynamic), validate_only or not.
  static common::result<void> check_min_insync_replicas_change(bool cluster_default, const std::set<std::string>& named,
                                                               const dynamic_configs& after);
  const dynamic_configs& dynamic_per_broker() const { return dynamic_per_broker_; }
  const dynamic_configs& dynamic_defaults() const { return dynamic_defaults_; }

  // --- generic access by Kafka name ---
  // The parsed value (null for null defaults and for names that are not broker configs).
  const config_value& value(std::string_view name) const;
  config_source source(std::string_view name) const;
  // The text exactly as the file or --override gave it; nullopt when the default applies.
  std::optional<std::string> original(std::string_view name) const;
  bool get_bool(std::string_view name) const;                   // false when null
  int64_t get_int(std::string_view name) const;                 // INT, SHORT, LONG; 0 when null
  double get_double(std::string_view name) const;               // 0 when null
  std::string get_string(std::string_view name) const;          // "" when null
  std::vector<std::string> get_list(std::string_view name) const;  // {} when null

  // --- typed values, with Kafka's precedence and fallbacks applied ---
  // node.id, else broker.id (Kafka requires one of them); Brook runs as node 1 when neither is set,
  // as if `node.id=1` had been given (and reports them so).
  int32_t node_id() const { return node_id_; }
  const std::vector<listener_endpoint>& listeners() const { return listeners_; }
  // Listeners that serve clients: listeners() minus those named in controller.listener.names.
  std::vector<listener_endpoint> client_listeners() const;
  // advertised.listeners, or listeners() when it is not set. An empty host is left empty: the server
  // fills in the address it is reachable at.
  const std::vector<listener_endpoint>& advertised_listeners() const { return advertised_listeners_; }
  std::vector<std::string> log_dirs() const;  // log.dirs, else log.dir
  int32_t num_partitions() const { return static_cast<int32_t>(get_int("num.partitions")); }
  bool auto_create_topics_enable() const { return get_bool("auto.create.topics.enable"); }
  int64_t brook_max_partitions() const { return get_int("brook.max.partitions"); }
  bool brook_log_fsync() const { return get_bool("brook.log.fsync"); }
  int32_t num_recovery_threads_per_data_dir() const {
    return static_cast<int32_t>(get_int("num.recovery.threads.per.data.dir"));
  }
  int64_t log_cleaner_backoff_ms() const { return get_int("log.cleaner.backoff.ms"); }
  int16_t default_replication_factor() const { return static_cast<int16_t>(get_int("default.replication.factor")); }
  bool delete_topic_enable() const { return get_bool("delete.topic.enable"); }
  int32_t message_max_bytes() const { return static_cast<int32_t>(get_int("message.max.bytes")); }
  int32_t socket_request_max_bytes() const { return static_cast<int32_t>(get_int("socket.request.max.bytes")); }
  int32_t socket_send_buffer_bytes() const { return static_cast<int32_t>(get_int("socket.send.buffer.bytes")); }
  int32_t socket_receive_buffer_bytes() const { return static_cast<int32_t>(get_int("socket.receive.buffer.bytes")); }
  int64_t connections_max_idle_ms() const { return get_int("connections.max.idle.ms"); }
  int32_t request_timeout_ms() const { return static_cast<int32_t>(get_int("request.timeout.ms")); }
  int32_t num_network_threads() const { return static_cast<int32_t>(get_int("num.network.threads")); }
  int32_t num_io_threads() const { return static_cast<int32_t>(get_int("num.io.threads")); }
  int32_t queued_max_requests() const { return static_cast<int32_t>(get_int("queued.max.requests")); }
  int32_t fetch_max_bytes() const { return static_cast<int32_t>(get_int("fetch.max.bytes")); }
  // Client quotas are measured over quota.window.num samples of quota.window.size.seconds each.
  int32_t quota_window_num() const { return static_cast<int32_t>(get_int("quota.window.num")); }
  int32_t quota_window_size_seconds() const { return static_cast<int32_t>(get_int("quota.window.size.seconds")); }
  int32_t max_request_partition_size_limit() const {
    return static_cast<int32_t>(get_int("max.request.partition.size.limit"));
  }

  int32_t log_segment_bytes() const { return static_cast<int32_t>(get_int("log.segment.bytes")); }
  int64_t log_roll_ms() const;         // log.roll.ms, else log.roll.hours
  int64_t log_roll_jitter_ms() const;  // log.roll.jitter.ms, else log.roll.jitter.hours
  int64_t log_retention_ms() const;    // log.retention.ms > minutes > hours; -1 (any negative) = unlimited
  int64_t log_retention_bytes() const { return get_int("log.retention.bytes"); }
  int64_t log_retention_check_interval_ms() const { return get_int("log.retention.check.interval.ms"); }
  int32_t log_index_interval_bytes() const { return static_cast<int32_t>(get_int("log.index.interval.bytes")); }
  int32_t log_index_size_max_bytes() const { return static_cast<int32_t>(get_int("log.index.size.max.bytes")); }
  int64_t log_flush_interval_messages() const { return get_int("log.flush.interval.messages"); }
  int64_t log_flush_interval_ms() const;  // log.flush.interval.ms, else log.flush.scheduler.interval.ms
  int64_t log_flush_scheduler_interval_ms() const { return get_int("log.flush.scheduler.interval.ms"); }
  std::vector<std::string> log_cleanup_policy() const { return get_list("log.cleanup.policy"); }
  bool log_cleaner_enable() const { return get_bool("log.cleaner.enable"); }
  int64_t log_segment_delete_delay_ms() const { return get_int("log.segment.delete.delay.ms"); }
  std::string log_message_timestamp_type() const { return get_string("log.message.timestamp.type"); }
  int64_t log_message_timestamp_before_max_ms() const { return get_int("log.message.timestamp.before.max.ms"); }
  int64_t log_message_timestamp_after_max_ms() const { return get_int("log.message.timestamp.after.max.ms"); }
  std::string compression_type() const { return get_string("compression.type"); }
  int32_t min_insync_replicas() const { return static_cast<int32_t>(get_int("min.insync.replicas")); }
  bool unclean_leader_election_enable() const { return get_bool("unclean.leader.election.enable"); }

  int32_t group_initial_rebalance_delay_ms() const { return static_cast<int32_t>(get_int("group.initial.rebalance.delay.ms")); }
  int32_t group_min_session_timeout_ms() const { return static_cast<int32_t>(get_int("group.min.session.timeout.ms")); }
  int32_t group_max_session_timeout_ms() const { return static_cast<int32_t>(get_int("group.max.session.timeout.ms")); }
  int32_t group_max_size() const { return static_cast<int32_t>(get_int("group.max.size")); }
  // Consumer-protocol groups (KIP-848).
  int32_t group_consumer_session_timeout_ms() const { return static_cast<int32_t>(get_int("group.consumer.session.timeout.ms")); }
  int32_t group_consumer_heartbeat_interval_ms() const { return static_cast<int32_t>(get_int("group.consumer.heartbeat.interval.ms")); }
  int32_t group_consumer_max_size() const { return static_cast<int32_t>(get_int("group.consumer.max.size")); }
  int32_t group_consumer_assignment_interval_ms() const {
    return static_cast<int32_t>(get_int("group.consumer.assignment.interval.ms"));
  }
  // group.consumer.assignors as assignor names ("uniform", "range"), in order.
  std::vector<std::string> group_consumer_assignors() const;
  // "uniform" / "range" for a configured assignor name or Kafka class name; nullopt otherwise.
  static std::optional<std::string> consumer_assignor_name(std::string_view configured);
  int32_t offsets_retention_minutes() const { return static_cast<int32_t>(get_int("offsets.retention.minutes")); }
  int64_t offsets_retention_check_interval_ms() const { return get_int("offsets.retention.check.interval.ms"); }
  int32_t offsets_topic_num_partitions() const { return static_cast<int32_t>(get_int("offsets.topic.num.partitions")); }
  int32_t offsets_topic_segment_bytes() const { return static_cast<int32_t>(get_int("offsets.topic.segment.bytes")); }
  int32_t offset_metadata_max_bytes() const { return static_cast<int32_t>(get_int("offset.metadata.max.bytes")); }
  int32_t offsets_commit_timeout_ms() const { return static_cast<int32_t>(get_int("offsets.commit.timeout.ms")); }
  int32_t transaction_max_timeout_ms() const { return static_cast<int32_t>(get_int("transaction.max.timeout.ms")); }
  int32_t transactional_id_expiration_ms() const { return static_cast<int32_t>(get_int("transactional.id.expiration.ms")); }
  int32_t producer_id_expiration_ms() const { return static_cast<int32_t>(get_int("producer.id.expiration.ms")); }
  int32_t producer_id_expiration_check_interval_ms() const {
    return static_cast<int32_t>(get_int("producer.id.expiration.check.interval.ms"));
  }

  // --- DescribeConfigs ---
  // Every broker config, sorted by name, as Kafka reports the resource "<node id>": effective values,
  // read_only unless is_dynamic(), sensitive values null, synonyms included.
  std::vector<config_entry> describe() const;
  // The resource "" (the cluster-wide defaults), as Kafka 4.4 reports it: only the keys set there, each
  // value as stored, with the synonyms set there too (no static settings or defaults); keys that are not
  // broker configs are reported as Kafka reports unknown keys (type unknown, sensitive, read-only).
  std::vector<config_entry> describe_dynamic_defaults() const;
  // Kafka's synonym chain of a broker config: the names of its synonym group set on this broker
  // dynamically, then as dynamic defaults, then statically, then those with non-null defaults, with
  // entries before `name` itself dropped (so log.retention.ms left unset reports no synonyms even
  // though log.retention.hours has a default; Kafka does this). `per_broker` false leaves out this
  // broker's own dynamic settings (describing the defaults resource).
  std::vector<config_synonym> synonyms_of(std::string_view name, bool per_broker = true) const;
  // The names that feed one broker setting, highest precedence first (log.retention.ms ->
  // {log.retention.ms, log.retention.minutes, log.retention.hours}); {name} for most.
  static std::vector<std::string> synonym_group(std::string_view name);

 private:
  struct setting {
    config_value value;
    config_source source = config_source::default_config;
    std::optional<std::string> original;
  };
  server_config() = default;
  const setting* find(std::string_view name) const;
  common::result<void> check_and_derive();
  // node.id and broker.id agree, and either one stands for the other (Kafka's populateSynonyms).
  common::result<void> set_node_id_and_broker_id();

  std::map<std::string, setting, std::less<>> settings_;
  std::map<std::string, setting, std::less<>> static_settings_;  // settings_ without the dynamic layers
  dynamic_configs dynamic_per_broker_;
  dynamic_configs dynamic_defaults_;
  std::vector<std::string> warnings_;
  std::map<std::string, std::string, std::less<>> listener_settings_;  // listener.name.* keys, as given
  int32_t node_id_ = 1;
  std::vector<listener_endpoint> listeners_;
  std::vector<listener_endpoint> advertised_listeners_;
};

}  // namespace brook::broker
