// The idempotent producer's state, as Java's TransactionManager keeps it for a producer without a
// transactional.id: the producer id and epoch from InitProducerId, the next sequence number per partition,
// the in-flight batches of each partition ordered by sequence, and the reactions to the broker's sequence
// errors. KIP-360: a gap in a partition's sequences (OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected batch,
// UNKNOWN_PRODUCER_ID, a batch failed after being sent) bumps the epoch locally and restarts that partition's
// sequences from 0, rewriting the sequences of its in-flight batches, instead of failing the producer.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "brook/client/types.hpp"
#include "client/producing/producer_batch.hpp"
#include "common/error.hpp"

namespace brook::client::producing {

struct producer_id_and_epoch {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  bool valid() const { return producer_id >= 0; }
  friend bool operator==(const producer_id_and_epoch&, const producer_id_and_epoch&) = default;
};

// Owner: the producer; the sender's I/O thread drives it (drain, responses, expiry) while application threads
// may read the fatal error. All members take the internal mutex, and none calls out while holding it.
// Invariants: for each partition, next_sequence == last acked sequence + 1 when nothing is in flight; the
// in-flight set holds only batches with a sequence; after a fatal error no new sequence is handed out.
class idempotence_manager {
 public:
  producer_id_and_epoch current() const;
  bool has_producer_id() const;
  // An InitProducerId request is needed (no id yet, or the epoch ran out) and none is under way.
  bool needs_producer_id() const;
  void set_initializing(bool initializing);
  // The InitProducerId answer. After an epoch bump the sequences of every partition start again from 0.
  void set_producer_id_and_epoch(producer_id_and_epoch id);
  // Errors that end the producer (cluster authorization, producer fenced, unsupported version): kept and
  // reported to every later send.
  std::optional<common::error> fatal_error() const;
  void set_fatal_error(common::error e);

  // Sequences.
  int32_t next_sequence(const topic_partition& tp);
  void increment_sequence(const topic_partition& tp, int32_t records);
  std::optional<int32_t> last_acked_sequence(const topic_partition& tp) const;
  std::optional<int64_t> last_acked_offset(const topic_partition& tp) const;
  bool has_inflight_batches(const topic_partition& tp) const;
  int32_t first_in_flight_sequence(const topic_partition& tp) const;  // -1: none in flight
  bool has_stale_producer_id_and_epoch(const topic_partition& tp) const;
  bool has_unresolved_sequence(const topic_partition& tp) const;

  // Drain (under the accumulator's lock): whether the partition's first queued batch must wait
  // (RecordAccumulator.shouldStopDrainBatchesForPartition), and the producer state of a batch sent for the
  // first time (a new epoch restarts the partition's sequences once its in-flight batches are done).
  bool should_stop_drain(const producer_batch& first) const;
  void assign_sequence(const batch_ptr& batch);

  // Responses.
  void handle_completed_batch(const batch_ptr& batch, int64_t base_offset);
  // Whether a batch that failed with `code` should be retried (TransactionManager.canRetry for the
  // idempotent producer); may request an epoch bump for the partition. log_start_offset: from the response.
  bool can_retry(common::kafka_error code, int64_t log_start_offset, const producer_batch& batch);
  // A batch failed for good. adjust_sequences: its retries were not exhausted, so its sequence range is
  // known to be unwritten and the partition needs new sequences (an epoch bump).
  void handle_failed_batch(const batch_ptr& batch, const common::error& e, bool adjust_sequences);
  void remove_in_flight_batch(const batch_ptr& batch);
  // Tracks a batch that already has its sequence (the parts of a batch split for being too large).
  void add_in_flight_batch(const batch_ptr& batch);
  // An in-flight batch expired: whether its sequences reached the broker is unknown until the rest resolve.
  void mark_sequence_unresolved(const producer_batch& batch);
  // Once a partition with an unresolved sequence has nothing in flight: resolved if the next sequence follows
  // the last acked one, else an epoch bump.
  void maybe_resolve_sequences();

  void request_epoch_bump(const topic_partition& tp);
  bool epoch_bump_required() const;
  // Called by the sender before each send round: applies a requested bump (epoch + 1, or a new producer id
  // when the epoch is exhausted). Returns true when an InitProducerId request must be sent.
  bool bump_epoch_and_reset_id_if_needed();

 private:
  struct by_sequence {
    bool operator()(const batch_ptr& a, const batch_ptr& b) const {
      const auto& x = a->state();
      const auto& y = b->state();
      if (x.producer_id != y.producer_id) return x.producer_id < y.producer_id;
      if (x.producer_epoch != y.producer_epoch) return x.producer_epoch < y.producer_epoch;
      if (x.base_sequence != y.base_sequence) return x.base_sequence < y.base_sequence;
      return a.get() < b.get();
    }
  };
  struct partition_entry {
    producer_id_and_epoch id;
    int32_t next_sequence = 0;
    int32_t last_acked_sequence = -1;
    int64_t last_acked_offset = -1;
    std::set<batch_ptr, by_sequence> inflight;
  };

  partition_entry& entry(const topic_partition& tp);
  const partition_entry* find(const topic_partition& tp) const;
  void start_sequences_at_beginning(const topic_partition& tp);
  void reset_sequences_all();
  bool is_next_sequence(const topic_partition& tp, int32_t sequence) const;

  mutable std::mutex mutex_;
  producer_id_and_epoch id_;
  bool initializing_ = false;
  bool epoch_bump_required_ = false;
  bool reset_sequences_on_next_id_ = false;
  std::set<topic_partition> partitions_to_rewrite_;
  std::map<topic_partition, int32_t> unresolved_;  // partition -> the next sequence after the expired batch
  std::map<topic_partition, partition_entry> partitions_;
  std::optional<common::error> fatal_;
};

}  // namespace brook::client::producing
