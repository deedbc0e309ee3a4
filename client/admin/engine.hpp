// The admin client's engine: each operation of brook::client::admin_client as a coroutine that finds
// the broker to ask (the controller or any broker for topic administration, each partition's leader
// for ListOffsets / DeleteRecords, the group's coordinator for group APIs), sends the request and
// retries Kafka's retriable errors with backoff until the call's deadline.
//
// Owner: admin_client's state, through a shared_ptr that every running operation also holds.
// Thread: every member runs on the executor given at construction (single-threaded), as the cluster
// it owns requires.
// Invariants: an operation returns a whole-call error only when no item could be answered at all
// (no broker reachable, a non-retriable request-level error, bad arguments); otherwise every item it
// was given has exactly one result, and an item still failing with a retriable error at the deadline
// gets that error, saying that the call gave up.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "brook/client/admin.hpp"
#include "client/core/cluster.hpp"
#include "client/core/config.hpp"

namespace brook::client::admin {

namespace asio = boost::asio;
using asio::awaitable;
using clock = std::chrono::steady_clock;
namespace proto = core::proto;

struct admin_options {
  core::cluster_options cluster;
  std::chrono::milliseconds default_api_timeout{60000};  // default.api.timeout.ms
  int32_t retries = INT32_MAX;                           // retries
};

// Reads Kafka's admin client keys (AdminClientConfig). Errors: invalid_config naming the key.
result<admin_options> read_admin_options(const core::properties& props);

// "partition <topic>-<index>", for error messages.
std::string partition_what(const topic_partition& tp);

// The message for an item's error: Kafka's meaning in words with the item named ("topic 'x' does not
// exist"), else the broker's message, else the error's name. `what` names the item: "topic 'x'".

common::error item_error(kafka_error code, const std::optional<std::string>& server_message, std::string_view what);

class engine : public std::enable_shared_from_this<engine> {
 public:
  engine(asio::any_io_executor ex, admin_options opts);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  asio::any_io_executor executor() const { return cluster_.executor(); }
  core::cluster& cluster() { return cluster_; }
  const admin_options& options() const { return opts_; }
  void close() { cluster_.close(); }

  awaitable<result<results_by<std::string, created_topic>>> create_topics(std::vector<new_topic> topics,
                                                                          create_topics_options o);
  awaitable<result<results_by<std::string, void>>> delete_topics(std::vector<std::string> topics, call_options o);
  awaitable<result<std::vector<topic_listing>>> list_topics(list_topics_options o);
  awaitable<result<results_by<std::string, topic_description>>> describe_topics(std::vector<std::string> topics,
                                                                               call_options o);
  awaitable<result<results_by<config_resource, std::vector<config_entry>>>> describe_configs(
      std::vector<config_resource> resources, describe_configs_options o);
  awaitable<result<results_by<config_resource, void>>> incremental_alter_configs(
      std::map<config_resource, std::vector<alter_config_op>> changes, alter_configs_options o);
  awaitable<result<results_by<std::string, void>>> create_partitions(std::map<std::string, int32_t> new_totals,
                                                                    create_partitions_options o);
  awaitable<result<results_by<topic_partition, deleted_records>>> delete_records(std::map<topic_partition, int64_t> before,
                                                                                 call_options o);
  awaitable<result<results_by<topic_partition, listed_offset>>> list_offsets(std::map<topic_partition, offset_spec> specs,
                                                                            list_offsets_options o);
  awaitable<result<cluster_description>> describe_cluster(call_options o);

  awaitable<result<std::vector<group_listing>>> list_groups(list_groups_options o);
  awaitable<result<results_by<std::string, group_description>>> describe_groups(std::vector<std::string> groups,
                                                                               call_options o);
  awaitable<result<results_by<std::string, void>>> delete_groups(std::vector<std::string> groups, call_options o);
  awaitable<result<results_by<topic_partition, offset_and_metadata>>> list_consumer_group_offsets(
      std::string group, std::optional<std::vector<topic_partition>> partitions, list_group_offsets_options o);
  awaitable<result<results_by<topic_partition, void>>> alter_consumer_group_offsets(
      std::string group, std::map<topic_partition, offset_and_metadata> offsets, call_options o);
  awaitable<result<results_by<topic_partition, void>>> delete_consumer_group_offsets(
      std::string group, std::set<topic_partition> partitions, call_options o);

 private:
  // One call's time budget and retry count.
  struct budget {
    clock::time_point deadline;
    int attempt = 0;
  };
  budget budget_for(const call_options& o) const;
  // Waits the next retry backoff when the deadline and `retries` allow another attempt; false otherwise.
  awaitable<bool> pause(budget& b);
  // The broker to send topic administration to: the controller when the metadata names a reachable
  // one, else any broker (which forwards to the controller, as KRaft brokers do).
  awaitable<result<std::shared_ptr<core::connection>>> controller_connection();
  // The connection to a group's coordinator, looking it up (and retrying the lookup) as needed.
  awaitable<result<std::shared_ptr<core::connection>>> coordinator_connection(const std::string& group, budget& b);
  // After a request-level or item error: drop what the error says is stale (metadata, coordinator).
  awaitable<void> after_error(kafka_error code, const std::string* group);
  // Any broker for target -1, else that broker.
  awaitable<result<std::shared_ptr<core::connection>>> connection_to_target(int32_t target);
  // The metadata for partitions' leaders: the cached picture when it covers them, else (or with
  // `refresh`) a new answer.
  awaitable<result<std::shared_ptr<const core::metadata_snapshot>>> leader_metadata(std::vector<std::string> topics,
                                                                                   bool refresh);
  static int32_t request_timeout_ms(const budget& b);

  core::cluster cluster_;
  admin_options opts_;
};

}  // namespace brook::client::admin
