// A running broker: its configuration, metadata store, topics, listeners and threads.
//
// Threads: one network thread runs the io_context (accepting, every connection's coroutine and all
// broker state such as the topic registry, so that state needs no locks); a small blocking pool
// runs the disk work (RocksDB syncs, fsync, deletions). The broker is embeddable: start() returns
// once the listeners are bound, stop() may be called from any thread, wait() joins.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/config/client_quotas.hpp"
#include "broker/config/group_config.hpp"
#include "broker/config/server_config.hpp"
#include "broker/fault/fault_injector.hpp"
#include "broker/frame_pool.hpp"
#include "broker/fetch_session.hpp"
#include "broker/group/group_service.hpp"
#include "broker/partition_manager.hpp"
#include "broker/security/listener_security.hpp"
#include "broker/security/scram_credentials.hpp"
#include "broker/quota/client_quota_manager.hpp"
#include "broker/quota/request_meter.hpp"
#include "broker/security/authorizer.hpp"
#include "broker/transaction/transaction_service.hpp"
#include "broker/topic_registry.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker {

class connection;

// One bound listener: the name from `listeners` and where it really listens (port 0 resolved).
struct bound_listener {
  std::string name;
  boost::asio::ip::tcp::endpoint endpoint;
  std::string advertised_host;  // empty: the address the client reached us on
  uint16_t advertised_port = 0;
};

class broker {
 public:
  // Opens the data directory (creating it) and loads the topics; binds nothing yet.
  // `cancel`, when given, stops the opening (recovery of every partition can be long) once it is set,
  // as a shutdown signal that arrives before start() does.
  static common::result<std::unique_ptr<broker>> open(server_config config, const std::atomic<bool>* cancel = nullptr);
  ~broker();

  // Binds every listener, logs "listening on NAME://host:port" and starts the threads.
  common::result<void> start();
  // Stops accepting, cancels every parked wait (long polls; the group coordinator's waits through its
  // stop()) so that in-flight requests answer at once, then ends the threads. Any thread, idempotent.
  void stop();
  // Blocks until the network thread has ended, then flushes and closes the stores.
  void wait();

  const std::vector<bound_listener>& listeners() const { return listeners_; }

  // Deletes every topic (with its data), every group of both kinds and every committed offset, every
  // producer state, client quota, dynamic config, SCRAM credential and ACL and the producer id reservation, clears the fault injector (rules, pause, request
  // log), and drops the fetch sessions, leaving the broker
  // serving as if its data directory were new (the cluster id stays; the cluster-wide dynamic defaults
  // are a new directory's, server_config::initial_dynamic_defaults). Parked fetches and JoinGroup/SyncGroup
  // requests are answered at once. The topics are gone from the store and their directories renamed
  // aside before it returns, so a topic created right after starts empty; the files are deleted in the
  // background (as Kafka's topic deletion is asynchronous). Requests in flight meanwhile may land before
  // or after it. Network thread only.
  boost::asio::awaitable<common::result<void>> reset_async();
  // reset_async() from any thread but the network thread, blocking until it is done. The broker must be
  // started and must not be stopped meanwhile.
  common::result<void> reset();
  // Ends the threads as stop() + wait() do, but skips every clean-shutdown step (no group metadata flush,
  // producer-state snapshot, log flush or clean-shutdown marker), as a process killed at that moment; then
  // returns how much of each log file was fsynced (log::cut_to_durable on them after the broker is
  // destroyed leaves what a power loss would). For crash tests.
  std::vector<log::durable_extent> halt();

  // --- for handlers (network thread) ---
  // The configuration in force: the static settings with the dynamic broker configs over them.
  const server_config& config() const { return config_; }
  // Puts `next` (config() with other dynamic layers, already stored) in force: every topic's
  // configuration is resolved again and handed to its logs, the group coordinator takes
  // message.max.bytes, the log maintenance loop its intervals.
  // `next` is the caller's named local (see blocking.hpp on GCC 12 and temporaries in co_await).
  boost::asio::awaitable<void> reconfigure(const server_config& next);
  // GROUP configs, as stored: group id -> overrides (never empty). The group coordinator applies them.
  std::map<std::string, group_overrides>& group_configs() { return group_configs_; }
  log::metadata_store& store() { return *store_; }
  topic_registry& topics() { return topics_; }
  partition_manager& partitions() { return *partitions_; }
  fetch_session_cache& fetch_sessions() { return fetch_sessions_; }
  group::group_service& groups() { return *groups_; }
  transaction::transaction_service& transactions() { return *transactions_; }
  client_quotas& quotas() { return quotas_; }
  // Users' SCRAM credentials, as stored (AlterUserScramCredentials). SCRAM servers read them from any thread.
  security::scram_credentials& scram_credentials() { return scram_credentials_; }
  // Enforces quotas() (broker/quota/client_quota_manager.hpp).
  quota::client_quota_manager& quota_manager() { return quota_manager_; }
  // What times request handling for request_percentage (broker/quota/request_meter.hpp); set before
  // requests arrive (tests substitute a fake clock).
  quota::request_clock request_clock() const { return request_clock_; }
  void set_request_clock(quota::request_clock clock) { request_clock_ = clock; }
  // The ACL authorizer with the stored ACLs; null when authorizer.class.name is not set (every request
  // is allowed, and the ACL APIs answer SECURITY_DISABLED).
  security::authorizer* authorizer() { return authorizer_.get(); }
  // Where CreateAcls and DeleteAcls write the store: one write at a time, finishing in the order they
  // started, so the authorizer takes the changes in the order the store has them.
  boost::asio::strand<boost::asio::thread_pool::executor_type>& acl_writes() { return acl_writes_; }
  const std::string& cluster_id() const { return cluster_id_; }
  int32_t node_id() const { return config_.node_id(); }
  boost::asio::thread_pool& blocking_pool() { return blocking_pool_; }
  boost::asio::io_context& io() { return io_; }
  frame_pool& frames() { return frames_; }
  bool stopping() const { return stopping_; }
  // Network thread: reset_async() is under way; requests wait for it as while paused.
  bool resetting() const { return resetting_; }
  // For blocking work that must stop early at shutdown (mass topic creation).
  const std::atomic<bool>& stopping_flag() const { return stopping_; }

  // A producer id never handed out before (ids are reserved from the store in blocks).
  boost::asio::awaitable<common::result<int64_t>> allocate_producer_id();
  // Writes a transaction's markers: a control batch in each of its partitions' logs, and for the
  // groups' offsets partitions the group coordinator's commit or abort of its transactional offsets.
  boost::asio::awaitable<common::result<void>> write_transaction_markers(const transaction::marker_request& markers);

  // Connections register themselves so that stop() can wake the idle ones.
  void add_connection(const std::shared_ptr<connection>& c);
  void remove_connection(const std::shared_ptr<connection>& c);

  // Fault injection for tests (broker/fault/fault_injector.hpp). Any thread.
  fault_injector& faults() { return faults_; }
  // Network thread: closes every client connection at once, unanswered requests included; returns how many.
  size_t close_connections();
  // Network thread: a request parked while the broker is paused; `timer` is cancelled at resume.
  void park_while_paused(const std::shared_ptr<boost::asio::steady_timer>& timer) { paused_requests_.insert(timer); }
  void unpark(const std::shared_ptr<boost::asio::steady_timer>& timer) { paused_requests_.erase(timer); }

 private:
  explicit broker(server_config config);
  boost::asio::awaitable<void> run_log_maintenance();
  // At open: the stored dynamic broker configs and group configs (invalid ones are logged and left out).
  common::result<void> load_dynamic_configs();
  boost::asio::awaitable<void> accept_loop(size_t index);
  // Runs a background coroutine; one that fails with an exception is logged and, unless the broker
  // is stopping, restarted after supervised_restart_delay (never left dead in silence).
  void spawn_supervised(std::string name, std::function<boost::asio::awaitable<void>()> body);
  static constexpr std::chrono::milliseconds supervised_restart_delay{1000};

  server_config config_;
  fault_injector faults_;  // before the partitions, whose logs call it
  std::unique_ptr<log::metadata_store> store_;
  topic_registry topics_;
  boost::asio::thread_pool blocking_pool_{2};
  std::unique_ptr<partition_manager> partitions_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> acl_writes_{blocking_pool_.get_executor()};
  std::string cluster_id_;
  fetch_session_cache fetch_sessions_;
  std::unique_ptr<group::group_service> groups_;  // consumer groups and committed offsets
  std::unique_ptr<transaction::transaction_service> transactions_;  // the transaction coordinator
  client_quotas quotas_;                          // AlterClientQuotas' values, as stored
  security::scram_credentials scram_credentials_;  // AlterUserScramCredentials' credentials, as stored
  quota::client_quota_manager quota_manager_;     // meters clients against quotas_
  quota::request_clock request_clock_ = &quota::steady_nanos;
  std::unique_ptr<security::authorizer> authorizer_;  // the stored ACLs; null without an authorizer
  std::map<std::string, group_overrides> group_configs_;
  bool maintenance_rescheduled_ = false;  // reconfigure() woke the maintenance loop
  int64_t next_producer_id_ = 0;  // [next_producer_id_, producer_id_block_end_) is reserved, unused
  int64_t producer_id_block_end_ = 0;

  boost::asio::io_context io_{1};
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::vector<bound_listener> listeners_;
  std::vector<std::shared_ptr<const security::listener_security>> listener_security_;  // by listener index
  std::set<std::shared_ptr<connection>> connections_;
  std::set<std::shared_ptr<boost::asio::steady_timer>> paused_requests_;  // cancelled at resume and after a reset
  bool resetting_ = false;                                                  // network thread
  frame_pool frames_;  // network thread
  std::shared_ptr<boost::asio::steady_timer> maintenance_timer_;
  std::set<std::shared_ptr<boost::asio::steady_timer>> background_timers_;  // cancelled by stop()
  std::thread network_thread_;
  std::atomic<bool> stopping_{false};
  bool waited_ = false;
};

}  // namespace brook::broker
