// Brook's admin client, as Java's Admin: topics, configurations, partitions, records, consumer groups
// and their offsets, and the cluster's description.
//
// Two faces over one engine. `admin_client::create(props)` starts a private I/O thread and every
// method blocks until its answer; `admin_client::create(props, executor)` runs the engine on the
// caller's (single-threaded) executor and the `async_*` methods are awaited from Asio coroutines.
// The async_* methods work on either kind, the blocking ones on both as long as they are not called
// from the engine's own thread.
//
// Every call is bounded by `default.api.timeout.ms` (or the call's own timeout): Kafka's retriable
// errors are retried with retry.backoff.ms backoff until then. A call's result is an error only
// when the whole call failed (no broker answered, bad arguments); otherwise each topic / group /
// partition has its own result beside the others', with Kafka's error code and a message naming
// the item ("topic 'x' does not exist").
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "brook/client/types.hpp"
#include "common/error.hpp"
#include "common/uuid.hpp"

namespace brook::client {

namespace admin {
class engine;
}

using admin_properties = properties;

// Per-item outcomes, keyed by the item.
template <class Key, class T>
using results_by = std::map<Key, result<T>>;

// Every call's own bound; unset means default.api.timeout.ms.
struct call_options {
  std::optional<std::chrono::milliseconds> timeout;
};

// ---- topics -----------------------------------------------------------------------------------

struct new_topic {
  std::string name;
  int32_t partitions = -1;          // -1: the broker's num.partitions
  int16_t replication_factor = -1;  // -1: the broker's default.replication.factor
  std::map<int32_t, std::vector<int32_t>> replica_assignment;  // partition -> brokers; empty: automatic
  std::map<std::string, std::string> configs;
};

enum class config_source : int8_t {
  unknown = 0,
  dynamic_topic_config = 1,
  dynamic_broker_config = 2,
  dynamic_default_broker_config = 3,
  static_broker_config = 4,
  default_config = 5,
  dynamic_broker_logger_config = 6,
  dynamic_client_metrics_config = 7,
  dynamic_group_config = 8,
};
// Kafka's names: DYNAMIC_TOPIC_CONFIG, DEFAULT_CONFIG, ...
std::string_view config_source_name(config_source s);

struct config_synonym {
  std::string name;
  std::optional<std::string> value;
  config_source source = config_source::unknown;
};

struct config_entry {
  std::string name;
  std::optional<std::string> value;  // null for sensitive values
  config_source source = config_source::unknown;
  bool read_only = false;
  bool sensitive = false;
  bool is_default() const { return source == config_source::default_config; }
  std::vector<config_synonym> synonyms;
};

struct created_topic {
  common::uuid topic_id{};
  int32_t partitions = -1;          // -1 when the broker does not say (CreateTopics < v5)
  int16_t replication_factor = -1;
  std::vector<config_entry> configs;
};

struct create_topics_options : call_options {
  bool validate_only = false;
};

struct list_topics_options : call_options {
  bool list_internal = false;
};

struct topic_listing {
  std::string name;
  common::uuid topic_id{};
  bool internal = false;
};

struct partition_description {
  int32_t partition = 0;
  int32_t leader = -1;  // -1: no leader now
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
};

struct topic_description {
  std::string name;
  common::uuid topic_id{};
  bool internal = false;
  std::vector<partition_description> partitions;  // by partition number
};

// ---- configurations -------------------------------------------------------------------------

struct config_resource {
  enum class kind : int8_t { topic = 2, broker = 4, broker_logger = 8 };
  kind type = kind::topic;
  std::string name;  // a topic name, or a broker id ("" for the cluster-wide broker default)
  auto operator<=>(const config_resource&) const = default;
  bool operator==(const config_resource&) const = default;
};

struct describe_configs_options : call_options {
  bool include_synonyms = false;
};

struct alter_config_op {
  enum class kind : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };  // SET DELETE APPEND SUBTRACT
  std::string name;
  kind op = kind::set;
  std::optional<std::string> value;  // unused by remove
};

struct alter_configs_options : call_options {
  bool validate_only = false;
};

struct create_partitions_options : call_options {
  bool validate_only = false;
};

// ---- offsets -----------------------------------------------------------------------------------

struct offset_spec {
  enum class kind : int8_t { earliest, latest, max_timestamp, timestamp };
  kind type = kind::latest;
  int64_t timestamp_ms = 0;  // for kind::timestamp: the first offset whose timestamp is >= this
  static offset_spec earliest() { return {kind::earliest, 0}; }
  static offset_spec latest() { return {kind::latest, 0}; }
  static offset_spec max_timestamp() { return {kind::max_timestamp, 0}; }
  static offset_spec for_timestamp(int64_t ms) { return {kind::timestamp, ms}; }
};

struct list_offsets_options : call_options {
  bool read_committed = false;  // isolation.level: latest is then the last stable offset
};

struct listed_offset {
  int64_t offset = -1;  // -1: none (no record at or after the timestamp)
  int64_t timestamp = -1;
  std::optional<int32_t> leader_epoch;
};

struct deleted_records {
  int64_t low_watermark = -1;  // the partition's new log start offset
};

// ---- groups ------------------------------------------------------------------------------------

struct list_groups_options : call_options {
  std::set<std::string> states;  // e.g. "Stable", "Empty" (case-insensitive); empty: every state
  std::set<std::string> types;   // "classic", "consumer"; empty: every type
};

struct group_listing {
  std::string group_id;
  std::string protocol_type;         // "consumer", "" for groups that only commit offsets, ...
  std::optional<std::string> state;  // when the broker tells (ListGroups v4+)
  std::optional<std::string> type;   // "classic" / "consumer" when the broker tells (ListGroups v5+)
};

struct group_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string host;
  // The partitions the member owns: decoded from the ConsumerProtocol assignment for classic groups of
  // protocol type "consumer", from the member's assignment for consumer (KIP-848) groups.
  std::vector<topic_partition> assignment;
  std::vector<topic_partition> target_assignment;  // consumer groups only
  std::optional<int32_t> member_epoch;             // consumer groups only
};

struct group_description {
  std::string group_id;
  std::string type;           // "classic" or "consumer"
  std::string state;          // Stable, Empty, PreparingRebalance, CompletingRebalance, Assigning, ...
  std::string protocol_type;  // classic groups: "consumer", "connect", ...; consumer groups: "consumer"
  std::string assignor;       // the chosen protocol (classic) or the assignor (consumer)
  int32_t coordinator = -1;
  std::optional<int32_t> group_epoch;  // consumer groups only
  std::vector<group_member> members;
};

struct list_group_offsets_options : call_options {
  bool require_stable = false;
};

// ---- cluster -----------------------------------------------------------------------------------

struct node {
  int32_t id = -1;
  std::string host;
  uint16_t port = 0;
  std::optional<std::string> rack;
};

struct cluster_description {
  std::string cluster_id;
  std::optional<node> controller;
  std::vector<node> brokers;  // by id
};

// ---- the client --------------------------------------------------------------------------------

// Owner: the application. Thread: the blocking methods may be called from any thread but the
// engine's own; the engine itself runs on its executor only. Moving is allowed, copying is not.
class admin_client {
 public:
  // Reads Kafka's admin client keys: bootstrap.servers (required), client.id, default.api.timeout.ms
  // (60000), request.timeout.ms (30000), retries, retry.backoff[.max].ms, metadata.max.age.ms, ...
  // Errors: invalid_config naming the key.
  static result<admin_client> create(const admin_properties& props);
  // The same, for a coroutine program: the engine runs on `executor`, which must be single-threaded
  // (a strand or a one-thread io_context).
  static result<admin_client> create(const admin_properties& props, boost::asio::any_io_executor executor);

  admin_client(admin_client&&) noexcept;
  admin_client& operator=(admin_client&&) noexcept;
  ~admin_client();  // closes the connections (in-flight calls fail with network_exception)

  // Blocking face.
  result<results_by<std::string, created_topic>> create_topics(const std::vector<new_topic>& topics,
                                                                const create_topics_options& o = {});
  result<results_by<std::string, void>> delete_topics(const std::vector<std::string>& topics,
                                                      const call_options& o = {});
  result<std::vector<topic_listing>> list_topics(const list_topics_options& o = {});
  result<results_by<std::string, topic_description>> describe_topics(const std::vector<std::string>& topics,
                                                                     const call_options& o = {});
  result<results_by<config_resource, std::vector<config_entry>>> describe_configs(
      const std::vector<config_resource>& resources, const describe_configs_options& o = {});
  result<results_by<config_resource, void>> incremental_alter_configs(
      const std::map<config_resource, std::vector<alter_config_op>>& changes, const alter_configs_options& o = {});
  // topic -> the new total partition count.
  result<results_by<std::string, void>> create_partitions(const std::map<std::string, int32_t>& new_totals,
                                                          const create_partitions_options& o = {});
  // partition -> delete the records before this offset (-1: up to the high watermark).
  result<results_by<topic_partition, deleted_records>> delete_records(
      const std::map<topic_partition, int64_t>& before, const call_options& o = {});
  result<results_by<topic_partition, listed_offset>> list_offsets(const std::map<topic_partition, offset_spec>& specs,
                                                                  const list_offsets_options& o = {});
  result<std::vector<group_listing>> list_groups(const list_groups_options& o = {});
  result<results_by<std::string, group_description>> describe_groups(const std::vector<std::string>& groups,
                                                                     const call_options& o = {});
  result<results_by<std::string, void>> delete_groups(const std::vector<std::string>& groups,
                                                      const call_options& o = {});
  // The group's committed offsets: for `partitions`, or every partition it has committed (nullopt).
  // A partition without a committed offset is left out.
  result<results_by<topic_partition, offset_and_metadata>> list_consumer_group_offsets(
      const std::string& group, const std::optional<std::vector<topic_partition>>& partitions = std::nullopt,
      const list_group_offsets_options& o = {});
  result<results_by<topic_partition, void>> alter_consumer_group_offsets(
      const std::string& group, const std::map<topic_partition, offset_and_metadata>& offsets,
      const call_options& o = {});
  result<results_by<topic_partition, void>> delete_consumer_group_offsets(const std::string& group,
                                                                          const std::set<topic_partition>& partitions,
                                                                          const call_options& o = {});
  result<cluster_description> describe_cluster(const call_options& o = {});

  // Coroutine face: the same calls, awaited.
  using executor_type = boost::asio::any_io_executor;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;
  awaitable<result<results_by<std::string, created_topic>>> async_create_topics(std::vector<new_topic> topics,
                                                                                create_topics_options o = {});
  awaitable<result<results_by<std::string, void>>> async_delete_topics(std::vector<std::string> topics,
                                                                      call_options o = {});
  awaitable<result<std::vector<topic_listing>>> async_list_topics(list_topics_options o = {});
  awaitable<result<results_by<std::string, topic_description>>> async_describe_topics(std::vector<std::string> topics,
                                                                                     call_options o = {});
  awaitable<result<results_by<config_resource, std::vector<config_entry>>>> async_describe_configs(
      std::vector<config_resource> resources, describe_configs_options o = {});
  awaitable<result<results_by<config_resource, void>>> async_incremental_alter_configs(
      std::map<config_resource, std::vector<alter_config_op>> changes, alter_configs_options o = {});
  awaitable<result<results_by<std::string, void>>> async_create_partitions(std::map<std::string, int32_t> new_totals,
                                                                          create_partitions_options o = {});
  awaitable<result<results_by<topic_partition, deleted_records>>> async_delete_records(
      std::map<topic_partition, int64_t> before, call_options o = {});
  awaitable<result<results_by<topic_partition, listed_offset>>> async_list_offsets(
      std::map<topic_partition, offset_spec> specs, list_offsets_options o = {});
  awaitable<result<std::vector<group_listing>>> async_list_groups(list_groups_options o = {});
  awaitable<result<results_by<std::string, group_description>>> async_describe_groups(std::vector<std::string> groups,
                                                                                     call_options o = {});
  awaitable<result<results_by<std::string, void>>> async_delete_groups(std::vector<std::string> groups,
                                                                      call_options o = {});
  awaitable<result<results_by<topic_partition, offset_and_metadata>>> async_list_consumer_group_offsets(
      std::string group, std::optional<std::vector<topic_partition>> partitions = std::nullopt,
      list_group_offsets_options o = {});
  awaitable<result<results_by<topic_partition, void>>> async_alter_consumer_group_offsets(
      std::string group, std::map<topic_partition, offset_and_metadata> offsets, call_options o = {});
  awaitable<result<results_by<topic_partition, void>>> async_delete_consumer_group_offsets(
      std::string group, std::set<topic_partition> partitions, call_options o = {});
  awaitable<result<cluster_description>> async_describe_cluster(call_options o = {});

 private:
  struct state;
  explicit admin_client(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace brook::client
