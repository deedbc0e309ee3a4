// The producer's record accumulator, after Java's RecordAccumulator: a queue of batches per partition that
// application threads append to and the sender drains per broker. It decides the partition of records
// without one (murmur2 of the key, or the sticky partitioner), accounts buffer.memory (an append that does not
// fit waits up to max.block.ms, then fails), says which brokers have sendable data (full batches, linger.ms
// elapsed, memory exhausted, flush, close; not while a retry backs off), drains batches within
// max.request.size (one in flight per partition when ordering needs it), and hands back batches that passed
// delivery.timeout.ms.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "brook/client/types.hpp"
#include "client/producing/idempotence.hpp"
#include "client/producing/partitioner.hpp"
#include "client/producing/producer_batch.hpp"
#include "client/producing/producer_config.hpp"
#include "common/error.hpp"

namespace brook::client::producing {

// Milliseconds, from a source tests can drive.
class clock {
 public:
  virtual ~clock() = default;
  virtual int64_t now_ms() const = 0;
};

// Wall-clock milliseconds (record timestamps are epoch milliseconds).
class system_clock final : public clock {
 public:
  int64_t now_ms() const override;
};

// A clock that moves only when told to.
class manual_clock final : public clock {
 public:
  explicit manual_clock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  int64_t now_ms() const override { return now_.load(); }
  void advance(int64_t ms) { now_ += ms; }
  void set(int64_t ms) { now_ = ms; }

 private:
  std::atomic<int64_t> now_;
};

// Java's ExponentialBackoff with factor 2 and 20% jitter: retry.backoff.ms doubled per attempt, capped at
// retry.backoff.max.ms; a constant retry.backoff.ms when the cap is not above it.
class exponential_backoff {
 public:
  exponential_backoff(int64_t initial_ms, int64_t max_ms, double jitter = 0.2);
  int64_t backoff(int64_t attempts) const;

 private:
  int64_t initial_;
  int64_t max_;
  double jitter_;
  double exp_max_;
};

// What the accumulator needs of the cluster metadata: each topic's partitions with their leader (-1: none
// known) and leader epoch. The sender builds it from the metadata cache.
struct cluster_snapshot {
  struct partition {
    int32_t id = 0;
    int32_t leader = -1;
    int32_t leader_epoch = -1;
  };
  std::map<std::string, std::vector<partition>> topics;

  std::optional<int32_t> partition_count(const std::string& topic) const;
  std::optional<int32_t> leader_for(const topic_partition& tp) const;
  std::optional<int32_t> leader_epoch_for(const topic_partition& tp) const;
  std::vector<topic_partition> partitions_for_node(int32_t node) const;
  topic_availability availability(const std::string& topic) const;
};

// Owner: the producer. Application threads call append(); the sender's I/O thread calls ready(), drain(),
// reenqueue(), expired_batches(), deallocate(). Everything takes the one internal mutex; no callback runs
// under it (batches are completed by the caller, outside). Invariants: used_memory() is the sum of the
// reserved_bytes of every batch not yet deallocated and never exceeds buffer.memory; a partition is in
// muted_ only while one of its batches is in flight and ordering is guaranteed.
class record_accumulator {
 public:
  struct append_result {
    int32_t partition = -1;
    bool batch_is_full = false;  // the sender should wake up: a batch is ready
    bool new_batch_created = false;
  };
  struct ready_check {
    std::set<int32_t> ready_nodes;
    int64_t next_ready_check_delay_ms = INT64_MAX;
    std::set<std::string> unknown_leader_topics;
  };

  // idempotence: nullptr unless enable.idempotence (then batches get sequences as they are drained).
  record_accumulator(const producer_config& config, const clock& clock, idempotence_manager* idempotence = nullptr,
                     builtin_partitioner::random_source random = {});

  // Adds a record. The topic must be in `cluster` (the producer waits for its metadata first). Blocks up to
  // max.block.ms when buffer.memory is used up. Errors: message_too_large (the record alone exceeds
  // max.request.size or buffer.memory), request_timed_out (no memory within max.block.ms),
  // unknown_topic_or_partition (topic or partition not in the metadata), and the error the accumulator was
  // closed or aborted with.
  common::result<append_result> append(const record& r, int64_t timestamp, delivery_callback callback,
                                       const cluster_snapshot& cluster);

  ready_check ready(const cluster_snapshot& cluster, int64_t now_ms);
  // Takes batches for each ready node, at most max_request_size bytes per node (a single larger batch still
  // goes alone). Closes (compresses) each drained batch; assigns sequences when idempotent; mutes its
  // partition when ordering is guaranteed.
  std::map<int32_t, std::vector<batch_ptr>> drain(const cluster_snapshot& cluster, const std::set<int32_t>& nodes,
                                                  int32_t max_request_size, int64_t now_ms);
  // Puts a batch back at the front of its queue for a retry (in sequence order among retried batches).
  void reenqueue(const batch_ptr& batch, int64_t now_ms);
  // A batch the broker refused as too large (MESSAGE_TOO_LARGE with more than one record): its records go
  // back to the front of the queue in batches of batch.size, sized with a compression estimate reset to at
  // least 1.0 (RecordAccumulator.splitAndReenqueue). Returns how many batches it made; the caller then
  // deallocates `big`.
  size_t split_and_reenqueue(const batch_ptr& big);
  // Removes and returns queued batches that passed delivery.timeout.ms (the caller fails them).
  std::vector<batch_ptr> expired_batches(int64_t now_ms);
  // Releases a completed batch's memory and forgets it.
  void deallocate(const batch_ptr& batch);
  void mute_partition(const topic_partition& tp);
  void unmute_partition(const topic_partition& tp);
  bool is_muted(const topic_partition& tp) const;

  // The sender reports each node it found ready and whether it could drain it; a node that cannot be drained
  // for partitioner.availability.timeout.ms has its partitions left out of the sticky choice.
  void update_node_latency_stats(int32_t node, int64_t now_ms, bool can_drain);

  // flush(): every batch now queued counts as ready until the flush ends; await_flush_completion() waits
  // until every batch created up to its call is done (also when one was split meanwhile).
  void begin_flush();
  void await_flush_completion();
  bool flush_in_progress() const;
  // No appends after close(); everything still queued becomes ready.
  void close();
  bool closed() const;
  // Removes every queued batch (the caller fails them), e.g. on a forced close or a fatal error; later
  // appends fail with `e`.
  std::vector<batch_ptr> abort_undrained_batches(const common::error& e);

  bool has_undrained() const;
  bool has_incomplete() const;
  int64_t used_memory() const;
  int64_t available_memory() const;
  size_t memory_waiters() const;
  size_t queue_size(const topic_partition& tp) const;
  int64_t next_expiry_time_ms() const;
  const producer_config& config() const { return config_; }
  // The partitioner of a topic (created on first use), for tests.
  builtin_partitioner& partitioner_for(const std::string& topic);

 private:
  struct topic_info {
    explicit topic_info(builtin_partitioner p) : partitioner(std::move(p)) {}
    builtin_partitioner partitioner;
    std::map<int32_t, std::deque<batch_ptr>> batches;  // entries stay once created (adaptive stats need them)
  };
  struct node_latency {
    int64_t ready_ms = 0;
    int64_t drain_ms = 0;
  };

  topic_info& topic_locked(const std::string& topic);
  std::optional<int32_t> try_append_locked(std::deque<batch_ptr>& dq, const record& r, int64_t timestamp,
                                           delivery_callback& callback);
  bool should_backoff(const producer_batch& batch, int64_t now_ms) const;
  int64_t partition_ready_locked(const cluster_snapshot& cluster, int64_t now_ms, const std::string& topic,
                                 topic_info& info, int64_t next_delay, ready_check& out);

  producer_config config_;
  const clock& clock_;
  idempotence_manager* idempotence_;
  builtin_partitioner::random_source random_;
  exponential_backoff retry_backoff_;
  compression_ratio_estimator ratio_;
  std::shared_ptr<batch_buffer_pool> buffers_;  // batch.size buffers of destroyed batches, for new ones

  mutable std::mutex mutex_;
  std::condition_variable memory_freed_;
  std::condition_variable batch_completed_;
  std::map<std::string, std::unique_ptr<topic_info>> topics_;
  std::set<topic_partition> muted_;
  std::map<int32_t, size_t> drain_index_;
  std::map<int32_t, node_latency> node_stats_;
  std::set<batch_ptr> incomplete_;
  int64_t used_memory_ = 0;
  std::deque<uint64_t> waiters_;  // tickets of appends waiting for memory, first come first served
  uint64_t next_ticket_ = 0;
  int flushes_in_progress_ = 0;
  bool closed_ = false;
  std::optional<common::error> aborted_;
  int64_t next_batch_expiry_ms_ = INT64_MAX;
};

}  // namespace brook::client::producing
