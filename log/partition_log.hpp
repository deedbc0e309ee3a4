// The append-only log of one partition: a directory of segments (log/segment.hpp, layout in log/format.hpp).
//
// Ownership and threads: a partition_log is NOT thread-safe. Its owner (the broker, through the
// log_manager) calls it from one strand only. The one piece shared across partitions is the log dir's
// health flag (log_dir_health), which is atomic. File regions returned by read() keep their segment's
// descriptor alive, so they may be sent from another thread after read() returns.
//
// Invariants:
//  - segments are in offset order; the last is the active one, the only one appended to; there is always an
//    active segment (an empty one at log_end_offset after everything was deleted). Without compaction
//    they are contiguous; compaction (log/compaction.hpp) leaves gaps in and between closed segments, and
//    may leave a closed segment empty.
//  - log_start_offset <= log_end_offset; a read of any offset in [log_start_offset, log_end_offset)
//    returns the batch holding it, or the first batch after it when compaction removed it.
//  - recovery_point <= log_end_offset and everything below it has been fdatasync'ed (is durable).
//  - once the log dir has failed (an fsync or other write error that may have lost data), every append,
//    flush and truncation returns kafka_storage_error: an append is never acknowledged after a failed
//    fsync. A full disk (ENOSPC) is not a failure of the dir: the partial write is cut off and the next
//    append works once there is space.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/record_batch.hpp"
#include "log/compaction.hpp"
#include "log/disk_fault_hook.hpp"
#include "log/producer_state.hpp"
#include "log/segment.hpp"

namespace brook::log {

// Milliseconds since the epoch. Tests pass a fake one.
using clock_fn = std::function<int64_t()>;
clock_fn system_clock();

// Per-partition settings, Kafka's topic configs of the same names.
struct log_config {
  int64_t segment_bytes = 1073741824;        // segment.bytes (capped at 2^31 - 1: positions are uint32)
  int64_t segment_ms = 604800000;            // segment.ms
  int32_t index_interval_bytes = 4096;       // index.interval.bytes
  int64_t retention_ms = 604800000;          // retention.ms; -1 = unlimited
  int64_t retention_bytes = -1;              // retention.bytes; -1 = unlimited
  int64_t flush_messages = std::numeric_limits<int64_t>::max();  // flush.messages
  int64_t flush_ms = std::numeric_limits<int64_t>::max();        // flush.ms
  int32_t max_message_bytes = 1048588;       // max.message.bytes: largest batch accepted
  common::timestamp_type message_timestamp_type = common::timestamp_type::create_time;  // message.timestamp.type
  bool preallocate = false;                  // preallocate: reserve segment_bytes on disk for a new segment
  // cleanup.policy: "delete" applies retention_ms/retention_bytes; "compact" runs the log cleaner
  // (log/compaction.hpp). Both may be set.
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  int64_t delete_retention_ms = 86400000;    // delete.retention.ms: how long tombstones outlive their cleaning
  int64_t min_compaction_lag_ms = 0;         // min.compaction.lag.ms: younger segments are not cleaned
  int64_t max_compaction_lag_ms = std::numeric_limits<int64_t>::max();  // max.compaction.lag.ms
  double min_cleanable_dirty_ratio = 0.5;    // min.cleanable.dirty.ratio
  // Not a topic config: the log dir's brook.log.fsync (set by the log_manager). false: nothing is
  // fdatasync'ed or fsync'ed (throwaway data); flush() still writes what is pending and moves the
  // recovery point.
  bool fsync = true;
};

// The health of one log dir, shared by its log_manager and all its partition logs (any thread).
class log_dir_health {
 public:
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  void mark_failed(const std::string& reason);
  std::string reason() const;

 private:
  std::atomic<bool> failed_{false};
  mutable std::mutex mutex_;
  std::string reason_;
};

// What append() did.
struct append_result {
  int64_t first_offset = -1;      // base offset of the first batch (-1 if nothing was appended)
  int64_t last_offset = -1;       // last offset of the last batch
  int64_t log_append_time = -1;   // the time stamped into the batches for LogAppendTime topics, else -1
  int64_t log_start_offset = 0;
  int64_t last_stable_offset = 0;  // after the append (last_stable_offset())
  int64_t max_timestamp = -1;
  int32_t batch_count = 0;
  int64_t record_count = 0;
  uint64_t bytes = 0;
};

// A byte range of one segment file, for sendfile. Holds whole batches only.
struct file_region {
  std::shared_ptr<const common::os::file_handle> file;  // null when length == 0
  std::filesystem::path path;
  uint64_t position = 0;
  uint64_t length = 0;
  int64_t first_offset = -1;  // base offset of the first batch in the region (may be below the requested one)
  int64_t next_offset = -1;   // offset after the last batch in the region

  // Reads the region into memory (tests, or transports without sendfile).
  common::result<std::vector<uint8_t>> load() const;
  // Reads the region into the first `length` bytes of `out` (which must hold that many), so that a caller
  // reading region after region reuses one buffer instead of allocating and zero-filling one per region.
  common::result<void> load_into(std::span<uint8_t> out) const;
};

// Kafka's isolation.level of a fetch.
enum class isolation_level : int8_t { read_uncommitted = 0, read_committed = 1 };

// An aborted transaction as a read_committed fetch reports it (FetchResponse AbortedTransaction).
struct aborted_transaction {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  bool operator==(const aborted_transaction&) const = default;
};

struct read_result {
  file_region region;          // empty at log_end_offset (read_committed: at the last stable offset)
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;  // the high watermark on one node
  int64_t last_stable_offset = 0;
  // read_committed only: the aborted transactions overlapping the offsets read, from the .txnindex files
  // (Kafka's FetchDataInfo.abortedTransactions), in the order of their markers.
  std::optional<std::vector<aborted_transaction>> aborted_transactions;
};

// What recovery did at open, for the log and for tests.
struct open_report {
  bool recovered = false;          // some segment was scanned and re-indexed
  uint64_t truncated_bytes = 0;    // bytes cut off invalid tails
  int32_t segments_deleted = 0;    // whole segments dropped after a cut
};

class partition_log {
 public:
  // Opens (or creates, if the directory is empty) the log in `dir`. With clean_shutdown the index files are
  // trusted after a sanity check; otherwise every segment from the recovery point on is scanned and
  // re-indexed and anything after the first bad byte is cut off.
  static common::result<std::unique_ptr<partition_log>> open(std::filesystem::path dir, log_config config,
                                                             clock_fn clock, std::shared_ptr<log_dir_health> health,
                                                             bool clean_shutdown);
  ~partition_log();
  partition_log(const partition_log&) = delete;
  partition_log& operator=(const partition_log&) = delete;

  // Appends `batches` (back-to-back v2 batches as a producer sent them). Each batch is validated (length,
  // magic, CRC, offset delta == record count - 1), then rewritten in place: base offset assigned,
  // partition leader epoch set (if leader_epoch >= 0), and for LogAppendTime topics max timestamp + type
  // bit + CRC. The bytes are then written as they are. Errors: corrupt_message, invalid_record,
  // message_too_large (batch > max_message_bytes), record_list_too_large (> segment_bytes),
  // kafka_storage_error (dir failed, disk full, write or fsync error). `crc_verified`: the caller has
  // just checked every batch's CRC over these same bytes (the broker's produce validation does), so the
  // log checks lengths and magic but does not compute the CRC a second time.
  common::result<append_result> append(std::span<uint8_t> batches, int32_t leader_epoch = -1,
                                       bool crc_verified = false);

  // The batches from the one containing `offset`, whole batches, at most max_bytes unless the first batch
  // alone is larger (it is then returned whole). Empty at log_end_offset. Errors: offset_out_of_range
  // outside [log_start_offset, log_end_offset]; kafka_storage_error.
  // read_committed (Kafka's FetchIsolation.TXN_COMMITTED): only batches below the last stable offset (empty
  // from there on), with the aborted transactions that overlap the offsets read: those whose marker is at or
  // after `offset` and whose first offset is below the offset after the region (Kafka's
  // collectAbortedTransactions, searching the .txnindex of the segment read and the later ones until an
  // entry's last stable offset reaches that bound).
  common::result<read_result> read(int64_t offset, uint64_t max_bytes,
                                   isolation_level isolation = isolation_level::read_uncommitted) const;

  // Writes a COMMIT (commit) or ABORT transaction marker of `producer_id` at the log end (Kafka's
  // appendAsLeader with origin COORDINATOR of an EndTransactionMarker): checked against the producer state
  // (invalid_producer_epoch, transaction_coordinator_fenced: producer_state_table::check_marker), written as
  // a control batch timestamped now, then the producer's open transaction closes; an abort of a
  // non-empty transaction adds its entry (with the last stable offset after it) to the active segment's
  // .txnindex. The last stable offset moves to the next open transaction or the log end. Other errors as
  // append().
  common::result<append_result> append_marker(int64_t producer_id, int16_t producer_epoch, bool commit,
                                              int32_t coordinator_epoch, int32_t leader_epoch = -1,
                                              int16_t transaction_version = 0);

  // The first offset of the earliest open transaction, else the high watermark (Kafka's lastStableOffset);
  // what ListOffsets(latest) answers under read_committed. Never below log_start_offset.
  int64_t last_stable_offset() const;

  // The producer state of this partition (log/producer_state.hpp). append() records every batch carrying a
  // producer id and every marker in it; the caller checks batches against it before appending.
  producer_state_table& producer_state() { return producers_; }
  const producer_state_table& producer_state() const { return producers_; }
  // Brings the producer state up to the log end after open (Kafka's loadProducerState): from `snapshot`
  // when it was saved at or before the recovery point found at open (everything, after a clean shutdown),
  // else from nothing at the log start, replaying the batches in between. Markers replayed that aborted a
  // transaction get their .txnindex entry back when their segment's index lacks it (a crash lost it).
  // Until it is called after open, the state holds only what was appended since. Errors: as read(), and
  // kafka_storage_error writing an index.
  common::result<void> load_producer_state(std::optional<producer_state_table> snapshot);

  // The first record with timestamp >= ts at or after log_start_offset (Kafka's ListOffsets by time);
  // nullopt if there is none.
  common::result<std::optional<timestamp_and_offset>> offset_for_timestamp(int64_t ts) const;
  // The record with the largest timestamp, as Kafka's UnifiedLog finds it for ListOffsets -3: the
  // first segment with the largest max timestamp (empty ones included, at -1), then the first record
  // of the batch that set it whose timestamp equals it. The log start offset plays no part, as in
  // Kafka: after DeleteRecords the record may lie below it while its segment remains. nullopt when
  // that segment holds no such record (an empty log).
  common::result<std::optional<timestamp_and_offset>> max_timestamp() const;

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const;
  int64_t high_watermark() const { return log_end_offset(); }
  int64_t recovery_point() const { return recovery_point_; }
  // Whether `offset` has been fdatasync'ed.
  bool is_durable(int64_t offset) const { return offset < recovery_point_; }
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  std::vector<int64_t> segment_base_offsets() const;
  const std::filesystem::path& dir() const { return dir_; }
  const log_config& config() const { return config_; }
  void set_config(const log_config& config);
  const open_report& recovery_report() const { return open_report_; }
  // Fault injection (log/disk_fault_hook.hpp): asked before each segment append and each fsync of data;
  // null (the default) for none. The hook must outlive the log. Any thread.
  void set_fault_hook(disk_fault_hook* hook) { fault_hook_.store(hook, std::memory_order_release); }

  // Moves log_start_offset up to `offset` (Kafka's DeleteRecords; -1 means log_end_offset) and deletes
  // the segments entirely below it. Returns the new log start offset. Errors: offset_out_of_range above
  // log_end_offset; kafka_storage_error.
  common::result<int64_t> delete_records_before(int64_t offset);

  // Deletes whole segments past retention_ms (by their max timestamp) or beyond retention_bytes (both only
  // with cleanup_delete), oldest first, and segments below log_start_offset. The active segment goes too when it qualifies (a new
  // empty one takes its place). Returns how many segments were deleted.
  common::result<int32_t> enforce_retention();

  // Compaction, in three steps (log/compaction.hpp). prepare_compaction picks the closed segments to clean
  // (empty plan when cleanup_compact is off or nothing is due: dirty ratio at most
  // min_cleanable_dirty_ratio, max_compaction_lag_ms not exceeded, no tombstone past its delete horizon).
  // Segments younger than min_compaction_lag_ms and the active segment are never in a plan.
  compaction_plan prepare_compaction(int64_t now_ms) const;
  compaction_plan prepare_compaction() const { return prepare_compaction(clock_()); }
  // Swaps the cleaned segments in for the ones they were built from, group by group; a group whose
  // segments are no longer all there (retention deleted some) is dropped. Returns how many old segments
  // were replaced. A failure after the swap began marks the log dir failed (recovery at the next open
  // finishes or rolls back the swap: log/format.hpp).
  common::result<int32_t> commit_compaction(compaction_result cleaned);
  // Offsets below this have been cleaned (their keys are unique there); kept across restarts in the cleaner
  // checkpoint (log/format.hpp).
  int64_t first_dirty_offset() const { return std::max(first_dirty_offset_, log_start_offset_); }

  // fdatasyncs everything appended; moves the recovery point to log_end_offset. A failure marks the log dir
  // failed.
  common::result<void> flush();
  // Flushes if flush_ms has passed since the last flush, and brings the checkpoint file up to the
  // recovery point (for a periodic caller).
  common::result<void> maybe_flush();

  // Flushes and writes the checkpoint; the log must not be used afterwards. Returns whether all succeeded.
  common::result<void> close();
  // Every segment file with the length known to be fsynced (segment::durable_extents), for crash tests.
  // Call only while nothing else uses the log (as close()).
  std::vector<durable_extent> durable_extents() const;

 private:
  partition_log(std::filesystem::path dir, log_config config, clock_fn clock, std::shared_ptr<log_dir_health> health);
  common::result<void> load(bool clean_shutdown);
  common::result<void> roll(int64_t now);
  // Marks the log dir failed (an I/O error on data) and returns the storage error.
  common::result<void> fail(const std::string& what);
  // As above, except that a resource error (io_status::resource_exhausted) fails only this call.
  common::result<void> fail(const common::os::io_status& st, std::string_view context = {});
  // fsync of the partition directory, unless config_.fsync is off.
  common::os::io_status sync_directory() const;
  common::result<void> write_checkpoint(bool sync);
  // The errno an injected fault makes `op` fail with, or 0 (no hook, or the hook lets it pass).
  int injected_fault(disk_op op) const;
  common::result<void> delete_oldest_segments(size_t count);
  void note_cleaned(const compaction_result& cleaned);
  // Records the producer state of batches just written to the active segment, adding the .txnindex entries
  // of the transactions their markers abort.
  common::result<void> track_producers(std::span<const uint8_t> written);
  common::result<void> complete_swaps(const std::vector<int64_t>& swaps, std::vector<int64_t>& bases, int64_t now);
  segment& active() { return *segments_.back(); }
  const segment& active() const { return *segments_.back(); }
  const segment* segment_for(int64_t offset) const;

  std::filesystem::path dir_;
  log_config config_;
  clock_fn clock_;
  std::shared_ptr<log_dir_health> health_;
  std::vector<std::unique_ptr<segment>> segments_;
  int64_t log_start_offset_ = 0;
  int64_t recovery_point_ = 0;
  int64_t checkpointed_recovery_point_ = -1;  // the recovery point the checkpoint file holds, if known
  // The (recovery point, log start offset) the checkpoint file holds durably, if known: close() skips
  // rewriting an unchanged one (a broker with many idle partitions stops without an fsync for each).
  std::optional<std::pair<int64_t, int64_t>> synced_checkpoint_;
  int64_t unflushed_messages_ = 0;
  int64_t last_flush_ms_ = 0;
  bool dir_dirty_ = false;  // segment files created or removed since the last directory fsync
  int64_t first_dirty_offset_ = 0;  // saved in the cleaner checkpoint
  // Tombstones become removable then. In memory only: after a restart, the first cleaning that the dirty
  // ratio or max.compaction.lag.ms calls for finds them again.
  std::optional<int64_t> earliest_delete_horizon_;
  bool closed_ = false;
  open_report open_report_;
  std::string topic_;  // from the directory name "<topic>-<partition>", for the fault hook
  producer_state_table producers_;
  // The recovery point found at open (the log end after a clean shutdown): .txnindex entries of markers
  // from there on may be missing, so a producer state snapshot from beyond it cannot be replayed from.
  int64_t txn_rebuild_from_ = 0;
  std::atomic<disk_fault_hook*> fault_hook_{nullptr};
};

}  // namespace brook::log
