// Producer state of one partition (KIP-98), Kafka's ProducerStateManager: for each producer id its epoch and
// the sequence and offset ranges of its last five batches, so that a retried batch is recognised and
// answered with its original offsets instead of being written twice, and a gap in sequence numbers
// is refused; and its ongoing transaction: a transactional batch opens one at its first offset when none is
// open, a COMMIT or ABORT marker (control batch) closes it.
//
// Owned by the partition log (partition_log::producer_state()) and touched only on its strand.
// Invariants: at most max_cached_batches batches per producer, in append order; the table reflects
// every batch of the log below `covered_offset`; `ongoing_transactions()` maps the first offset of each
// open transaction to its producer, exactly the producers whose current_txn_first_offset is set.
//
// Persisted as a producer_state_record (common/protocol/records/), which the broker keeps in the
// metadata store per partition.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/protocol/messages/producer_state_record.hpp"
#include "common/record_batch.hpp"
#include "log/transaction_index.hpp"

namespace brook::log {

struct producer_batch {
  int32_t first_seq = -1;
  int32_t last_seq = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  bool operator==(const producer_batch&) const = default;
};

struct producer_entry {
  int16_t epoch = -1;
  int64_t last_timestamp = -1;
  std::deque<producer_batch> batches;  // oldest first
  int32_t coordinator_epoch = -1;                 // of the last marker
  std::optional<int64_t> current_txn_first_offset;  // the open transaction's first offset
  bool operator==(const producer_entry&) const = default;
};

// The sequence number of a batch's last record: sequences wrap from INT32_MAX to 0, as Kafka's do.
inline int32_t last_sequence(int32_t base_sequence, int32_t last_offset_delta) {
  return static_cast<int32_t>((static_cast<int64_t>(base_sequence) + last_offset_delta) % (int64_t{INT32_MAX} + 1));
}

// A transaction a marker closed (Kafka's CompletedTxn): [first_offset, last_offset], the marker at last_offset.
struct completed_txn {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  bool aborted = false;
  bool operator==(const completed_txn&) const = default;
};

// Transaction versions (KIP-890) as the marker check knows them: below 2 a marker carries the epoch of the
// transaction's records; from 2 on the coordinator bumps the epoch before writing it.
inline constexpr int16_t transaction_version_2 = 2;

class producer_state_table {
 public:
  static constexpr size_t max_cached_batches = 5;

  // What to do with an incoming batch: append it, or answer it with the offsets it already got.
  struct verdict {
    std::optional<producer_batch> duplicate_of;
  };

  // Checks a batch from `producer_id` (>= 0; non-idempotent batches need no check). Errors:
  // invalid_producer_epoch (an older epoch), out_of_order_sequence_number (a gap, or a new epoch
  // not starting at 0, or a first batch at the epoch a marker left not starting at 0), invalid_txn_state
  // (a non-transactional batch while the producer's transaction is
  // open, as Kafka's ProducerAppendInfo.appendDataBatch).
  common::result<verdict> check(int64_t producer_id, int16_t epoch, int32_t first_seq, int32_t last_seq,
                                bool transactional = false) const;
  // Records an appended batch (its offsets as assigned). A transactional batch opens the producer's
  // transaction at its first offset unless one is open.
  void record(int64_t producer_id, int16_t epoch, const producer_batch& batch, int64_t timestamp,
              bool transactional = false);

  // Checks a COMMIT/ABORT marker (Kafka's appendEndTxnMarker): errors invalid_producer_epoch when the
  // marker's epoch is older than the producer's (from transaction version 2: not newer, except a retry of
  // the marker that closed the last transaction, at the same epoch with none open), and
  // transaction_coordinator_fenced when its coordinator epoch is older than the last marker's.
  common::result<void> check_marker(int64_t producer_id, int16_t epoch, int32_t coordinator_epoch,
                                    int16_t transaction_version = 0) const;
  // Records a marker written at `offset`: the producer takes the marker's epoch (its cached batches go
  // when the epoch changes) and coordinator epoch, and its open transaction closes. Returns that
  // transaction, or nullopt when none was open (a marker of an empty transaction changes neither the last
  // stable offset nor the transaction index).
  std::optional<completed_txn> record_marker(int64_t producer_id, int16_t epoch, int32_t coordinator_epoch,
                                             int64_t offset, bool commit, int64_t timestamp);
  // The last stable offset right after `txn` completes (Kafka's lastStableOffset(CompletedTxn)): the first
  // offset of the earliest transaction of another producer still open, else the marker's offset + 1.
  // Call before record_marker.
  int64_t last_stable_offset_after(const completed_txn& txn) const;

  // Records every batch found in `batches` (back-to-back v2 batches with offsets) as the append path
  // would, as when rebuilding from the log tail: idempotent and transactional batches, and markers (a
  // control batch whose record is not a marker, or that has none, changes nothing). Returns the
  // transactions the markers aborted, with the last stable offset after each, in log order: the entries
  // of the .txnindex files. Stops at bytes that do not decode.
  std::vector<aborted_txn> replay(std::span<const uint8_t> batches);

  // Drops producers whose last batch is older than `before_timestamp` (producer.id.expiration.ms), except
  // those with an open transaction (Kafka's isProducerExpired).
  void expire(int64_t before_timestamp);

  // First offset of each open transaction -> its producer id, earliest first (Kafka's ongoingTxns).
  const std::map<int64_t, int64_t>& ongoing_transactions() const { return ongoing_; }
  // The first offset of the earliest open transaction (Kafka's firstUndecidedOffset).
  std::optional<int64_t> first_unstable_offset() const {
    if (ongoing_.empty()) return std::nullopt;
    return ongoing_.begin()->first;
  }

  int64_t covered_offset() const { return covered_offset_; }
  void set_covered_offset(int64_t offset) { covered_offset_ = offset; }
  const std::map<int64_t, producer_entry>& entries() const { return producers_; }

  using record_type = common::protocol::producer_state_record::message;
  record_type to_record() const;
  // kafka_storage_error if the record breaks the table's invariants (more batches than are kept, two open
  // transactions starting at the same offset).
  static common::result<producer_state_table> from_record(const record_type& record);

 private:
  std::map<int64_t, producer_entry> producers_;
  std::map<int64_t, int64_t> ongoing_;
  int64_t covered_offset_ = 0;
};

}  // namespace brook::log
