// One batch of records bound for one partition, as the producer builds it: records are appended
// uncompressed while the batch is open (with Java's size estimates, so a compressed batch still respects
// batch.size), compressed once when the batch is closed for sending, and encoded as a v2 record batch with the
// producer id, epoch and base sequence of each attempt. Each record's delivery callback runs once, when the
// batch completes or fails.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "brook/client/types.hpp"
#include "common/error.hpp"
#include "common/record_batch.hpp"

namespace brook::client::producing {

using delivery_callback = std::function<void(const delivery_report&)>;

// Java's DefaultRecordBatch.incrementSequence: sequences wrap from INT32_MAX to 0.
int32_t increment_sequence(int32_t sequence, int32_t increment);
// The exact encoded size of one record (length prefix included), as DefaultRecord.sizeInBytes.
int32_t record_size_in_bytes(int32_t offset_delta, int64_t timestamp_delta, const std::optional<std::string>& key,
                             const std::optional<std::string>& value, const std::vector<header>& headers);
// An upper bound for a batch holding only this record, whatever its deltas (AbstractRecords.
// estimateSizeInBytesUpperBound for magic 2): what the producer checks against max.request.size and
// buffer.memory before accepting a record.
int32_t batch_size_upper_bound(const std::optional<std::string>& key, const std::optional<std::string>& value,
                               const std::vector<header>& headers);

// Java's CompressionRatioEstimator: one estimate per topic and codec, starting at 1.0; it worsens quickly
// (+0.05, or straight to the observed ratio) and improves slowly (-0.005).
class compression_ratio_estimator {
 public:
  float estimate(const std::string& topic, common::compression_codec codec) const;
  void update(const std::string& topic, common::compression_codec codec, float observed_ratio);
  // Sets the estimate outright (after a batch had to be split for being too large).
  void set(const std::string& topic, common::compression_codec codec, float ratio);

 private:
  std::vector<std::pair<std::pair<std::string, int>, float>> estimates_;
};

// Batch buffers of batch.size bytes, handed back when a batch is destroyed and out again to new batches, as
// Java's BufferPool keeps freed batch.size buffers: a fresh buffer that large costs a page fault per 4 KiB
// written (the allocator maps large blocks afresh and unmaps them when freed), a large part of producing
// big batches. Thread-safe (a batch may be destroyed on any thread). Invariant: holds at most max_buffers
// buffers, each empty with a capacity of exactly buffer_size; idle, they are memory beyond buffer.memory's
// account (at most max_buffers * batch.size).
class batch_buffer_pool {
 public:
  batch_buffer_pool(size_t buffer_size, size_t max_buffers) : buffer_size_(buffer_size), max_buffers_(max_buffers) {}
  size_t buffer_size() const { return buffer_size_; }
  // An empty buffer of buffer_size capacity when one is free; else an empty vector without capacity.
  std::vector<uint8_t> take();
  // Keeps `buffer` (emptied) if its capacity is buffer_size and the pool has room; else frees it.
  void give(std::vector<uint8_t>&& buffer);

 private:
  const size_t buffer_size_;
  const size_t max_buffers_;
  std::mutex mutex_;
  std::vector<std::vector<uint8_t>> free_;
};

struct producer_state {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;  // -1: no sequence assigned yet
};

// Owner: the record accumulator while open or queued; the sender while in flight. Appends happen under the
// accumulator's lock; after drain only the sender's I/O thread touches it. Invariants: records are appended
// only before close(); the callbacks run exactly once (complete/fail return false for a second attempt).
class producer_batch {
 public:
  // write_limit: bytes the batch may grow to (batch.size, or more for a single larger record).
  // pool: where the batch takes its buffer from (when write_limit is the pool's size) and gives it back to
  // when destroyed; nullptr: a buffer of its own.
  producer_batch(topic_partition tp, common::compression_codec codec, std::optional<int32_t> compression_level,
                 int32_t write_limit, int64_t now_ms, float compression_ratio_estimate,
                 std::shared_ptr<batch_buffer_pool> pool = nullptr);
  ~producer_batch();
  producer_batch(const producer_batch&) = delete;
  producer_batch& operator=(const producer_batch&) = delete;

  // Appends if there is room (Java's MemoryRecordsBuilder.hasRoomFor: a first record always fits); returns the
  // growth of the size estimate, or nullopt when the batch is full. The callback is taken (moved from) only
  // when the record was appended, so a caller can offer it to the next batch after a refusal.
  std::optional<int32_t> try_append(int64_t timestamp, const std::optional<std::string>& key,
                                    const std::optional<std::string>& value, const std::vector<header>& headers,
                                    delivery_callback&& callback);
  std::optional<int32_t> try_append(int64_t timestamp, const std::optional<std::string>& key,
                                    const std::optional<std::string>& value, const std::vector<header>& headers,
                                    const delivery_callback& callback) {
    delivery_callback copy = callback;
    return try_append(timestamp, key, value, headers, std::move(copy));
  }

  const topic_partition& tp() const { return tp_; }
  int32_t record_count() const { return static_cast<int32_t>(records_.size()); }
  // Header + records (scaled by the compression estimate while open; the real size once closed).
  int32_t estimated_size_bytes() const;
  bool is_full() const;
  bool is_closed() const { return closed_; }
  common::compression_codec codec() const { return codec_; }

  // Stops appends and compresses the record section (once). Returns the observed compression ratio for the
  // estimator (1.0 without compression).
  common::result<float> close();
  // The complete v2 batch for the current producer state. Needs close().
  std::vector<uint8_t> encode() const;
  // Compressed size / uncompressed size, known once closed (1.0 before).
  float compression_ratio() const { return compression_ratio_; }

  // ProducerBatch.split: the records again, in batches of at most split_batch_size bytes (sized with
  // `ratio_estimate`), each record keeping its callback, the new batches keeping this batch's creation time
  // and, when it had one, its producer state with consecutive sequences. This batch is then done without
  // running any callback. Needs close().
  std::vector<std::shared_ptr<producer_batch>> split(int32_t split_batch_size, float ratio_estimate);
  // The same bytes, written in place: the header is filled in before the record section the batch holds, so
  // the section is not copied. The span stays valid, and unchanged until the next call, while the batch lives.
  std::span<uint8_t> encode_in_place();

  // Retry bookkeeping.
  int64_t created_ms() const { return created_ms_; }
  int64_t last_attempt_ms() const { return last_attempt_ms_; }
  int64_t drained_ms() const { return drained_ms_; }
  int32_t attempts() const { return attempts_; }
  bool in_retry() const { return attempts_ > 0; }
  void reenqueued(int64_t now_ms) {
    ++attempts_;
    last_attempt_ms_ = std::max(last_attempt_ms_, now_ms);
    drained_ms_ = std::max(drained_ms_, now_ms);
    retry_leader_epoch_ = current_leader_epoch_;
  }
  void drained(int64_t now_ms) { drained_ms_ = std::max(drained_ms_, now_ms); }
  int64_t waited_time_ms(int64_t now_ms) const { return std::max<int64_t>(0, now_ms - last_attempt_ms_); }
  bool has_reached_delivery_timeout(int64_t delivery_timeout_ms, int64_t now_ms) const {
    return delivery_timeout_ms <= now_ms - created_ms_;
  }
  // KIP-951: a retry goes out without backoff when the partition's leader changed since the failed attempt.
  void maybe_update_leader_epoch(std::optional<int32_t> epoch) {
    if (epoch) current_leader_epoch_ = *epoch;
  }
  bool has_leader_changed_for_ongoing_retry() const {
    return attempts_ > 0 && current_leader_epoch_ && retry_leader_epoch_ != current_leader_epoch_;
  }

  // Idempotence.
  const producer_state& state() const { return state_; }
  bool has_sequence() const { return state_.base_sequence >= 0; }
  int32_t base_sequence() const { return state_.base_sequence; }
  int32_t last_sequence() const {
    return has_sequence() ? increment_sequence(state_.base_sequence, record_count() - 1) : -1;
  }
  bool sequence_has_been_reset() const { return sequence_reset_; }
  void set_producer_state(int64_t producer_id, int16_t epoch, int32_t base_sequence) {
    state_ = {producer_id, epoch, base_sequence};
  }
  // A new id/epoch or sequence for a batch already sent once (epoch bump, or a failed batch before it).
  void reset_producer_state(int64_t producer_id, int16_t epoch, int32_t base_sequence) {
    sequence_reset_ = true;
    state_ = {producer_id, epoch, base_sequence};
  }

  // Completion: runs every record's callback with its offset (base_offset + position, or -1) and timestamp
  // (log_append_time when not -1, else the record's). false if the batch was already done.
  bool complete(int64_t base_offset, int64_t log_append_time);
  // Fails every record with `e` (record_errors: a different error for some record positions).
  bool fail(const common::error& e, const std::vector<std::pair<int32_t, common::error>>& record_errors = {});
  bool is_done() const { return done_.load(); }

  // Memory the accumulator reserved for this batch (returned when the batch is deallocated).
  int64_t reserved_bytes = 0;

 private:
  struct pending_record {
    int64_t timestamp;
    delivery_callback callback;
  };

  topic_partition tp_;
  common::compression_codec codec_;
  std::optional<int32_t> compression_level_;
  int32_t write_limit_;
  float compression_ratio_estimate_;
  int64_t created_ms_;
  int64_t last_attempt_ms_;
  int64_t drained_ms_;
  int32_t attempts_ = 0;
  std::optional<int32_t> current_leader_epoch_;
  std::optional<int32_t> retry_leader_epoch_;
  producer_state state_;
  bool sequence_reset_ = false;

  // Fills the 61-byte v2 header at `batch` (batchLength and CRC over the `size` bytes that follow it too).
  void write_header(uint8_t* batch, size_t size) const;
  size_t uncompressed_records_bytes() const {
    return uncompressed_.empty() ? 0 : uncompressed_.size() - common::batch_layout::header_size;
  }

  int64_t base_timestamp_ = -1;
  int64_t max_timestamp_ = -1;
  // Both buffers start with room for the batch header (header_size bytes, filled in by encode_in_place), then
  // the record section: uncompressed_ while open (empty until the first record), section_ once closed (the
  // section as sent: compressed when closed with a codec).
  std::vector<uint8_t> uncompressed_;
  std::vector<uint8_t> section_;
  std::vector<pending_record> records_;
  std::shared_ptr<batch_buffer_pool> pool_;
  bool closed_ = false;
  float compression_ratio_ = 1.0f;
  std::atomic<bool> done_{false};
};

using batch_ptr = std::shared_ptr<producer_batch>;

}  // namespace brook::client::producing
