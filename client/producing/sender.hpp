// The producer's I/O side, after Java's Sender: a loop on the client's I/O thread that drains the record
// accumulator into Produce requests, one request per partition leader at a time up to
// max.in.flight.requests.per.connection, completes every record's delivery report from the answers, retries
// retriable errors (with retry.backoff.ms doubling up to retry.backoff.max.ms), refreshes metadata when a
// leader moved, a partition is unknown or a connection was lost, expires batches after delivery.timeout.ms,
// and for the idempotent producer gets the producer id (InitProducerId) and applies epoch bumps.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "client/core/cluster.hpp"
#include "client/producing/idempotence.hpp"
#include "client/producing/record_accumulator.hpp"

namespace brook::client::producing {

// Turns the metadata cache's picture into the accumulator's (leaders only among known brokers).
cluster_snapshot snapshot_of(const core::metadata_snapshot& metadata);

// Owner: the producer. Thread: run() and everything it spawns run on the cluster's executor (single-threaded);
// wakeup(), add_topic(), initiate_close(), force_close() and current_snapshot() may be called from any thread.
// Invariants: in_flight_requests_[node] counts the Produce requests written to a node and not yet answered,
// never above max.in.flight.requests.per.connection; each drained batch is completed, retried or failed
// exactly once, and deallocated from the accumulator once done.
class sender {
 public:
  sender(producer_config config, core::cluster& cluster, record_accumulator& accumulator,
         idempotence_manager* idempotence, const clock& clock);

  // The loop; returns once closed and everything in flight or queued is done (or failed on a forced close).
  boost::asio::awaitable<void> run();

  // Wakes the loop (a batch became ready, a flush began, a topic is new).
  void wakeup();
  // Topics the producer sends to: their metadata is kept fresh until unused for metadata.max.idle.ms.
  void add_topic(const std::string& topic);
  void add_topic(const std::string& topic, int64_t now_ms);  // the caller read the clock already
  // The accumulator's picture of the cluster from the latest metadata (thread-safe copy).
  std::shared_ptr<const cluster_snapshot> current_snapshot() const;
  // Asks a broker for the topic's metadata (on the I/O thread) and refreshes the snapshot; the producer's
  // send() waits on this when the cached picture lacks the topic or the record's partition. Always asks,
  // as Java's waitOnMetadata requests an update: a cached picture can be complete for its topics and still
  // be behind (the topic was recreated or gained partitions).
  boost::asio::awaitable<common::result<std::shared_ptr<const cluster_snapshot>>> fetch_topic(std::string topic);

  // Stops taking new records and finishes what is queued and in flight.
  void initiate_close();
  // Fails whatever is still queued with `why` and stops without waiting for answers.
  void force_close(common::error why);

 private:
  boost::asio::awaitable<void> run_once();
  boost::asio::awaitable<void> send_produce(int32_t node, std::vector<batch_ptr> batches);
  boost::asio::awaitable<void> init_producer_id();
  boost::asio::awaitable<void> refresh_metadata();
  void complete_batch(const batch_ptr& batch, common::kafka_error code, const std::string& message,
                      int64_t base_offset, int64_t log_append_time, int64_t log_start_offset,
                      const std::vector<std::pair<int32_t, common::error>>& record_errors);
  void fail_batch(const batch_ptr& batch, const common::error& e, bool adjust_sequences);
  void succeed_batch(const batch_ptr& batch, int64_t base_offset, int64_t log_append_time);
  void fail_expired(int64_t now_ms);
  void update_snapshot();
  bool has_in_flight() const;

  producer_config config_;
  core::cluster& cluster_;
  record_accumulator& accumulator_;
  idempotence_manager* idempotence_;
  const clock& clock_;
  boost::asio::steady_timer wake_timer_;
  exponential_backoff metadata_backoff_;

  std::atomic<bool> woken_{false};
  std::atomic<bool> closing_{false};
  std::atomic<bool> forced_{false};
  common::error forced_reason_{common::kafka_error::none, {}};

  mutable std::mutex shared_mutex_;  // guards topics_ and snapshot_, shared with application threads
  std::map<std::string, int64_t> topics_;  // topic -> when a record last went to it
  std::shared_ptr<const cluster_snapshot> snapshot_;
  std::shared_ptr<const core::metadata_snapshot> snapshot_source_;

  // I/O thread only.
  std::map<int32_t, int> in_flight_requests_;
  std::map<topic_partition, std::vector<batch_ptr>> in_flight_batches_;
  bool metadata_update_requested_ = false;
  bool metadata_refreshing_ = false;
  int metadata_attempts_ = 0;
  int64_t next_metadata_attempt_ms_ = 0;
  bool initializing_producer_id_ = false;
  int init_attempts_ = 0;
  int64_t next_init_attempt_ms_ = 0;
};

}  // namespace brook::client::producing
