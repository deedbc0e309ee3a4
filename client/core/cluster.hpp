// The client's picture of the cluster: the bootstrap list, the brokers and partition leaders from the
// latest Metadata answers, one connection per broker, and the coordinators found with FindCoordinator.
//
// Owner: one client (a producer's, consumer's or admin's engine) creates and owns it.
// Thread: every member runs on the executor given at construction, which must be single-threaded (a
// strand or a one-thread io_context); awaitables returned here must be awaited there.
// Invariants: at most one connection per broker id is open or being opened (concurrent callers of
// connection() wait for the same attempt); after a failed attempt that broker is not tried again
// before its reconnect backoff (reconnect.backoff.ms doubling up to reconnect.backoff.max.ms) has
// passed; a partition's leader in the cache only moves to an answer with an equal or newer leader
// epoch (an older answer from a lagging broker is ignored, as the Java client does); concurrent
// metadata refreshes share one request when they ask for the same topics.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "client/core/connection.hpp"
#include "common/uuid.hpp"

namespace brook::client::core {

struct host_port {
  std::string host;
  uint16_t port = 0;
  bool operator==(const host_port&) const = default;
};

// Parses `bootstrap.servers`: comma-separated host:port, IPv6 as [addr]:port, spaces ignored. Errors:
// invalid_config naming the entry that does not parse (the key is named by the caller's config).
result<std::vector<host_port>> parse_bootstrap_servers(std::string_view list);

struct broker_info {
  int32_t node_id = -1;
  std::string host;
  uint16_t port = 0;
  std::optional<std::string> rack;
};

struct partition_info {
  int32_t partition = 0;
  kafka_error error = kafka_error::none;
  int32_t leader = -1;  // -1: no leader now
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
};

struct topic_info {
  std::string name;
  common::uuid id{};
  kafka_error error = kafka_error::none;
  bool internal = false;
  std::vector<partition_info> partitions;  // sorted by partition number
};

// An immutable picture of the cluster from one or more Metadata answers.
struct metadata_snapshot {
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::map<int32_t, broker_info> brokers;
  std::map<std::string, topic_info, std::less<>> topics;
  std::chrono::steady_clock::time_point updated{};

  const topic_info* topic(std::string_view name) const;
  const broker_info* broker(int32_t node_id) const;
  // The partition's leader when it has one that is also among the known brokers.
  std::optional<int32_t> leader_for(std::string_view topic, int32_t partition) const;
};

struct cluster_options {
  std::vector<host_port> bootstrap;
  connection_options connection;
  std::chrono::milliseconds metadata_max_age{300000};     // metadata.max.age.ms
  std::chrono::milliseconds reconnect_backoff{50};        // reconnect.backoff.ms
  std::chrono::milliseconds reconnect_backoff_max{1000};  // reconnect.backoff.max.ms
  std::chrono::milliseconds retry_backoff{100};           // retry.backoff.ms
  std::chrono::milliseconds retry_backoff_max{1000};      // retry.backoff.max.ms
  bool allow_auto_topic_creation = true;                  // allow.auto.create.topics (consumer)
};

enum class coordinator_type : int8_t { group = 0, transaction = 1 };

class cluster {
 public:
  cluster(asio::any_io_executor ex, cluster_options opts);
  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  asio::any_io_executor executor() const { return ex_; }
  const cluster_options& options() const { return opts_; }

  // The latest picture; never null (empty before the first refresh).
  std::shared_ptr<const metadata_snapshot> metadata() const { return metadata_; }
  bool metadata_stale() const;

  // Asks a broker for metadata: nullopt asks for every topic, a list for those topics (merged into the
  // cached picture; a topic the answer lists with an error replaces its entry with that error). Errors:
  // network_exception / request_timed_out when no broker could be asked, or a broker's top-level error.
  asio::awaitable<result<std::shared_ptr<const metadata_snapshot>>> refresh_metadata(
      std::optional<std::vector<std::string>> topics, bool allow_auto_create = false);

  // Refreshes when the cached picture lacks one of these topics or a leader for one of their partitions,
  // or is older than metadata.max.age.ms; otherwise returns it as it is.
  asio::awaitable<result<std::shared_ptr<const metadata_snapshot>>> metadata_for(
      const std::vector<std::string>& topics, bool allow_auto_create = false);

  // The open connection to a broker (opening it if needed). Errors: network_exception for an unknown
  // broker id or a failed connection, request_timed_out.
  asio::awaitable<result<std::shared_ptr<connection>>> connection_to(int32_t node_id);
  // A connection to the least loaded broker that is reachable (fewest requests in flight), trying known
  // brokers, then the bootstrap list.
  asio::awaitable<result<std::shared_ptr<connection>>> any_connection();

  // The broker coordinating a group or a transactional id (cached until forget_coordinator()); retriable
  // answers are retried with backoff for up to request.timeout.ms. Errors: the FindCoordinator error
  // (coordinator_not_available, group_authorization_failed, ...), network_exception.
  asio::awaitable<result<int32_t>> coordinator(coordinator_type type, const std::string& key);
  void forget_coordinator(coordinator_type type, const std::string& key);

  // Sends a request to a broker, at the highest version both sides know within [min, max].
  template <class Request>
  asio::awaitable<result<versioned<typename api_of<Request>::response>>> call(
      int32_t node_id, const Request& request, int16_t min = api_of<Request>::min_version,
      int16_t max = api_of<Request>::max_version) {
    auto conn = co_await connection_to(node_id);
    if (!conn) co_return conn.err();
    co_return co_await (*conn)->call(request, min, max);
  }

  // The delay before retry number `attempt` (0-based): retry.backoff.ms doubling up to
  // retry.backoff.max.ms, with Java's +-20% jitter.
  std::chrono::milliseconds retry_backoff(int attempt) const;

  // Closes every connection; requests in flight fail with network_exception.
  void close();

 private:
  struct node_state;
  using connection_handler = asio::any_completion_handler<void(result<std::shared_ptr<connection>>)>;
  using metadata_handler = asio::any_completion_handler<void(result<std::shared_ptr<const metadata_snapshot>>)>;
  asio::awaitable<void> open_node(int32_t node_id, host_port where);
  asio::awaitable<result<int32_t>> find_coordinator(coordinator_type type, const std::string& key);
  asio::awaitable<result<std::shared_ptr<const metadata_snapshot>>> do_refresh(
      std::optional<std::vector<std::string>> topics, bool allow_auto_create);
  void apply(const proto::metadata::response& resp, int16_t version, bool all_topics,
             const std::vector<std::string>& asked);

  asio::any_io_executor ex_;
  cluster_options opts_;
  std::shared_ptr<const metadata_snapshot> metadata_;
  std::map<int32_t, std::unique_ptr<node_state>> nodes_;
  std::map<std::pair<int8_t, std::string>, int32_t> coordinators_;
  // Refreshes in progress, by the topics they ask for ("*" for all), with the callers waiting on them.
  std::map<std::string, std::vector<metadata_handler>> refreshing_;
  size_t next_bootstrap_ = 0;
  bool closed_ = false;
};

}  // namespace brook::client::core
