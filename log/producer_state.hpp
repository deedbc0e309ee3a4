// Idempotent-producer state of one partition (KIP-98): for each producer id its epoch and the
// sequence and offset ranges of its last five batches, so that a retried batch is recognised and
// answered with its original offsets instead of being written twice, and a gap in sequence numbers
// is refused.
//
// Owned by the partition's owner and touched only where the partition log is (its strand).
// Invariants: at most max_cached_batches batches per producer, in append order; the table reflects
// every batch of the log below `covered_offset`.
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

#include "common/error.hpp"
#include "common/protocol/messages/producer_state_record.hpp"
#include "common/record_batch.hpp"

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
  bool operator==(const producer_entry&) const = default;
};

// The sequence number of a batch's last record: sequences wrap from INT32_MAX to 0, as Kafka's do.
inline int32_t last_sequence(int32_t base_sequence, int32_t last_offset_delta) {
  return static_cast<int32_t>((static_cast<int64_t>(base_sequence) + last_offset_delta) % (int64_t{INT32_MAX} + 1));
}

class producer_state_table {
 public:
  static constexpr size_t max_cached_batches = 5;

  // What to do with an incoming batch: append it, or answer it with the offsets it already got.
  struct verdict {
    std::optional<producer_batch> duplicate_of;
  };

  // Checks a batch from `producer_id` (>= 0; non-idempotent batches need no check). Errors:
  // invalid_producer_epoch (an older epoch), out_of_order_sequence_number (a gap, or a new epoch
  // not starting at 0).
  common::result<verdict> check(int64_t producer_id, int16_t epoch, int32_t first_seq, int32_t last_seq) const;
  // Records an appended batch (its offsets as assigned).
  void record(int64_t producer_id, int16_t epoch, const producer_batch& batch, int64_t timestamp);
  // Records every idempotent batch found in `batches` (back-to-back v2 batches with offsets), as
  // when rebuilding from the log tail. Control batches are skipped.
  void replay(std::span<const uint8_t> batches);

  // Drops producers whose last batch is older than `before_timestamp` (producer.id.expiration.ms).
  void expire(int64_t before_timestamp);

  int64_t covered_offset() const { return covered_offset_; }
  void set_covered_offset(int64_t offset) { covered_offset_ = offset; }
  const std::map<int64_t, producer_entry>& entries() const { return producers_; }

  using record_type = common::protocol::producer_state_record::message;
  record_type to_record() const;
  // kafka_storage_error if the record breaks the table's invariants (more batches than are kept).
  static common::result<producer_state_table> from_record(const record_type& record);

 private:
  std::map<int64_t, producer_entry> producers_;
  int64_t covered_offset_ = 0;
};

}  // namespace brook::log
