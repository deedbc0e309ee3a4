// Log compaction (cleanup.policy=compact): keeps the latest record of each key in a partition's closed
// segments, Kafka's log cleaner for one partition. On-disk steps and the batch rewriting rules are in
// log/format.hpp ("Compaction swap", "Cleaned batches").
//
// Three steps, so the heavy part runs off the partition's strand while appends and reads go on:
//   compaction_plan plan = log.prepare_compaction(now);    // on the strand, cheap: picks segments, shares fds
//   auto cleaned = run_compaction(plan);                   // any thread: reads, maps keys, writes .cleaned
//   log.commit_compaction(std::move(*cleaned));            // on the strand: checks and swaps the segments in
// run_compaction reads only closed segments, which are immutable; their descriptors are held by the plan,
// so retention deleting a segment meanwhile does not disturb it (commit then skips that group).
//
// Which records survive a cleaning of [log start, end_offset):
//  - the record with the highest offset for its key, taking keys from [first_dirty_offset, end_offset) (the
//    part below first_dirty_offset was cleaned before, so its keys are unique there already);
//  - tombstones (null value) until delete.retention.ms after the cleaning that first kept them (the batch's
//    delete horizon), then they go too;
//  - no record with a null key (Kafka refuses them on produce to compacted topics; its cleaner drops them);
//  - no record of an aborted transaction; transaction markers while they guard records of their
//    transaction in the cleaned range, then until delete.retention.ms after the cleaning that found them
//    unneeded (log/format.hpp, "Cleaned batches"; Kafka's CleanedTransactionMetadata). Only offsets below
//    the last stable offset are cleaned.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "common/os/file_io.hpp"
#include "log/segment.hpp"

namespace brook::log {

// A closed segment as the cleaner sees it. The plan shares the segment's descriptor.
struct compaction_input {
  int64_t base_offset = 0;
  int64_t end_offset = 0;  // base offset of the following segment
  uint64_t size_bytes = 0;
  std::shared_ptr<const common::os::file_handle> file;
};

// What prepare_compaction picked. Copyable (the blocking pool copies its work).
struct compaction_plan {
  std::filesystem::path dir;
  // Consecutive closed segments, each group to be rewritten into one segment named after its first base.
  std::vector<std::vector<compaction_input>> groups;
  int64_t first_dirty_offset = 0;  // keys are collected from here ...
  int64_t end_offset = 0;          // ... to here (the first offset not cleaned: active segment or lag limit)
  int64_t now_ms = 0;
  int64_t delete_retention_ms = 86400000;
  int32_t index_interval_bytes = 4096;
  // Bounds what one batch may decompress to (common::uncompressed_limit), as on produce.
  int32_t max_message_bytes = 1048588;
  bool fsync = true;  // log_config::fsync: whether the cleaned files are fdatasync'ed
  // The aborted transactions overlapping [first group's base, end_offset), from the .txnindex files.
  std::vector<aborted_txn> aborted_txns;
  // The producers the partition's producer state still holds (not expired), each with the last offset of
  // its last data batch (-1: none since its epoch changed), as Kafka's lastRecordsOfActiveProducers:
  // only such a batch is kept when cleaning empties it, for the sequence numbers it carries.
  std::unordered_map<int64_t, int64_t> active_producers;
  bool empty() const { return groups.empty(); }
};

struct compaction_stats {
  int64_t batches_read = 0;
  int64_t records_read = 0;
  int64_t records_removed = 0;
  int64_t tombstones_removed = 0;
  int64_t batches_rewritten = 0;
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
};

// One cleaned segment and the segments it replaces.
struct compacted_group {
  std::vector<compaction_input> replaced;
  std::unique_ptr<segment> cleaned;  // files with the .cleaned suffix, flushed; null once committed
};

// The outcome of run_compaction. Its .cleaned files are deleted when it is destroyed uncommitted.
struct compaction_result {
  std::filesystem::path dir;
  std::vector<compacted_group> groups;
  int64_t end_offset = 0;
  // The earliest delete horizon of a batch that still holds tombstones or is a marker awaiting removal, for
  // scheduling their removal.
  std::optional<int64_t> earliest_delete_horizon;
  compaction_stats stats;

  compaction_result() = default;
  compaction_result(compaction_result&&) = default;
  compaction_result& operator=(compaction_result&&) = default;
  ~compaction_result();
};

// The heavy step: any thread, no partition_log access. Errors: kafka_storage_error (IO),
// corrupt_message (a batch that does not decode). Nothing of the log changes on error.
common::result<compaction_result> run_compaction(const compaction_plan& plan);

}  // namespace brook::log
