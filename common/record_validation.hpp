// Validation of a record batch a producer sent, as Kafka's LogValidator (with DefaultRecordBatch and
// DefaultRecord) does before anything is appended:
//  - the batch: complete, magic 2, CRC-32C (CORRUPT_MESSAGE); codec bits 5-7, or zstd in a Produce request
//    older than v7 (UNSUPPORTED_COMPRESSION_TYPE);
//    lastOffsetDelta >= 0, recordCount > 0 and recordCount == lastOffsetDelta + 1; no control batch from a
//    client; an idempotent batch has a baseSequence >= 0 (INVALID_RECORD, for the whole batch);
//  - every record, walked in place: its length, varints of at most 5 (int32) or 10 (int64) bytes, key,
//    value and header lengths inside the record, fields that add up to the record length, exactly
//    recordCount records and no byte after the last (INVALID_RECORD, naming the record); offset deltas
//    0, 1, 2, ... (Kafka rewrites a compressed batch whose deltas are not; a zero-copy broker cannot, so
//    it refuses them, naming the record);
//  - the topic's rules per record, all records reported: a key on compacted topics (INVALID_RECORD),
//    CreateTime timestamps within message.timestamp.before/after.max.ms (INVALID_TIMESTAMP).
// Compressed records are decompressed in bounded chunks into a reused buffer, never past
// uncompressed_limit(recordCount, max.message.bytes) (MESSAGE_TOO_LARGE); uncompressed ones are read
// where they lie, first by a fast walk that only accepts (well-formed records passing the rules), then,
// for anything it does not accept, by the full walk that names the fault. CPU-heavy: run it off the network thread.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/record_batch.hpp"

namespace brook::common {

// What the topic asks of the records, and where the batch goes (for Kafka's messages).
struct batch_validation_config {
  std::string topic;
  int32_t partition = 0;
  int32_t max_message_bytes = 1048588;
  bool compacted = false;
  bool topic_log_append_time = false;
  int64_t timestamp_before_max_ms = std::numeric_limits<int64_t>::max();
  int64_t timestamp_after_max_ms = std::numeric_limits<int64_t>::max();
  // max.decompressed.message.bytes: the largest record (length prefix excluded) a compressed batch may
  // decompress to; a larger one fails the whole batch with INVALID_RECORD, as Kafka's streaming reader does.
  int32_t max_decompressed_record_bytes = std::numeric_limits<int32_t>::max();
  // Produce v7 and later only: older requests may not carry zstd batches (UNSUPPORTED_COMPRESSION_TYPE).
  bool zstd_allowed = true;
};

// One offending record, by its index in the batch (Produce's record_errors).
struct record_error {
  int32_t batch_index = 0;
  std::string message;
};

// Why a batch is refused: the partition's error code and message, and the records at fault (empty when
// the batch as a whole is).
struct batch_rejection {
  kafka_error code = kafka_error::invalid_record;
  std::string message;
  std::vector<record_error> record_errors;
};

// Checks `batch` (exactly one v2 batch: the partition's whole record set) at wall-clock time now_ms.
// nullopt: accepted.
std::optional<batch_rejection> validate_produced_batch(bytes_view batch, const batch_validation_config& config,
                                                       int64_t now_ms);

namespace detail {
// The same verdict from the full walk alone, without the fast walk; tests check that the two agree.
std::optional<batch_rejection> validate_produced_batch_full_walk(bytes_view batch,
                                                                 const batch_validation_config& config,
                                                                 int64_t now_ms);
}  // namespace detail

}  // namespace brook::common
