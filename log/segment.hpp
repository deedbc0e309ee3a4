// One segment of a partition log: the .log file of record batches starting at base_offset, its sparse
// offset index, its time index and its aborted-transaction index (formats in log/format.hpp).
//
// Ownership: a partition_log owns its segments and calls them from its single strand; a segment is not
// thread-safe. Descriptors: a segment keeps only its .log file open; the index files are opened for the
// moment they are read (load), written (flush) or synced, and closed again, since their entries live in
// memory. So a partition costs one descriptor per segment, not three (README, "Limits"). The .log descriptor is shared (std::shared_ptr) with file regions handed out by reads, so a
// region stays readable (sendfile) even after retention deletes the segment.
//
// Durability: the segment also tracks how much of each of its three files is known to be on stable
// storage (the length at its last successful fdatasync, or as found when the segment was opened), so
// that a test can cut the files back to that length and see what a power loss would leave
// (durable_extents()).
//
// Invariants: [0, size_bytes()) of the .log file is a sequence of whole, CRC-valid batches with increasing
// offsets, the last ending at next_offset() - 1. The in-memory index entries are the truth; the index
// files hold the first *_flushed of them (written by flush()) and are rebuilt by recover() when unsure.
// Positions are uint32, so a segment never grows past 4 GiB (partition_log caps segment_bytes).
// A segment the log cleaner builds carries a suffix on all three file names (.cleaned, then .swap) until it
// is swapped in (log/format.hpp); batches in it may leave offset gaps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/os/file_io.hpp"
#include "log/transaction_index.hpp"

namespace brook::log {

// The header facts of one batch in a segment.
struct batch_info {
  uint64_t position = 0;  // in the segment's .log file
  uint32_t size = 0;      // whole batch, log overhead included
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
};

struct index_entry {
  uint32_t relative_offset = 0;  // last offset of the batch at `position`, minus the segment base offset
  uint32_t position = 0;
};

struct time_index_entry {
  int64_t timestamp = 0;          // the largest timestamp up to and including this batch
  uint32_t relative_offset = 0;   // last offset of the batch where that timestamp was first reached
};

// What recover() found.
struct segment_recovery_result {
  uint64_t valid_bytes = 0;
  uint64_t truncated_bytes = 0;
  int64_t batches = 0;
  std::string reason;  // why it stopped before the end of the file, if it did
};

// A timestamp and the offset of the record that carries it.
struct timestamp_and_offset {
  int64_t timestamp = -1;
  int64_t offset = -1;
};

// One file of a log and how many of its leading bytes were fsynced (survive a power loss).
struct durable_extent {
  std::filesystem::path path;
  uint64_t bytes = 0;
  bool entry_durable = true;  // false: created since its directory was last fsynced (a power loss drops it)
};

// Cuts each file back to its durable length, or removes it when its directory entry is not durable, as a
// power loss would leave it (files missing or already shorter are left alone). For crash tests; the logs holding the files must be closed or abandoned.
common::result<void> cut_to_durable(const std::vector<durable_extent>& extents);

class segment {
 public:
  static std::string file_stem(int64_t base_offset);  // 20-digit zero-padded base offset

  // Creates empty files (replacing any left over). preallocate_bytes > 0 reserves space for the log.
  // On failure, *transient (if given) tells whether the cause was a full disk or the process running out
  // of descriptors or memory (io_status::no_space / resource_exhausted), not a failing disk. A non-empty `suffix` (".cleaned",
  // ".swap": log/format.hpp) is appended to every file name, for segments the cleaner builds aside.
  static common::result<std::unique_ptr<segment>> create(const std::filesystem::path& dir, int64_t base_offset,
                                                         int64_t now_ms, uint64_t preallocate_bytes,
                                                         bool* transient = nullptr, std::string_view suffix = {});
  // Opens the existing files of a segment (index files are created if missing) without reading them.
  // Then call load() or recover().
  static common::result<std::unique_ptr<segment>> open(const std::filesystem::path& dir, int64_t base_offset,
                                                       int64_t now_ms, std::string_view suffix = {});

  // Trusting the files: reads the indexes and checks them for sanity, then validates the batches after
  // the last index entry. Returns false (and leaves the segment for recover()) if anything is off.
  common::result<bool> load(int32_t index_interval_bytes);
  // Scans the whole .log, checking each batch's length and CRC, truncates at the first bad byte and
  // rewrites both index files from scratch (synced).
  common::result<segment_recovery_result> recover(int32_t index_interval_bytes);

  // Appends whole, already validated batches; `batches` describes them with positions relative to the start
  // of `data`. On failure the file is truncated back to its previous size (restored = whether that
  // worked) and the segment is unchanged.
  common::os::io_status append(std::span<const uint8_t> data, std::span<const batch_info> batches,
                               int32_t index_interval_bytes, bool& restored);

  // The first batch whose last offset is >= offset, or nullopt if there is none in this segment.
  common::result<std::optional<batch_info>> find_batch(int64_t offset) const;
  // The batch starting at `position` (nullopt at the end of the data).
  common::result<std::optional<batch_info>> batch_at(uint64_t position) const;
  // Where a region of whole batches from `position` (a batch start) within max_bytes, but at least one
  // batch, ends: its end position, and the offset to read from next (the base offset of the batch at
  // `end` when its header was read, else the region's last offset + 1; next_offset() at the end of the
  // data). Reads no header when the limit reaches the end of the data, and otherwise only those after the
  // last indexed batch below the limit (a few preads, not one per batch).
  struct region_bounds {
    uint64_t end = 0;
    int64_t next_offset = -1;
  };
  common::result<region_bounds> region_end(uint64_t position, uint64_t max_bytes) const;
  common::result<std::vector<uint8_t>> read_bytes(uint64_t position, uint64_t length) const;

  // The first record with timestamp >= ts and offset >= min_offset, if any in this segment.
  common::result<std::optional<timestamp_and_offset>> find_offset_by_timestamp(int64_t ts, int64_t min_offset) const;
  // The first record carrying this segment's max timestamp, in the batch that set it; nullopt for an
  // empty segment or when no record of that batch carries it.
  common::result<std::optional<timestamp_and_offset>> max_timestamp_record() const;

  // Writes pending index entries and fdatasyncs the .log; the index files too once the segment is
  // inactive (rolled). The active segment's index files are synced by sync_pending_indexes() at close.
  // With `fsync` false (a log dir of throwaway data) the same is written but nothing is synced.
  common::os::io_status flush(bool fsync = true);
  common::os::io_status sync_pending_indexes(bool fsync = true);
  bool has_unflushed_data() const {
    return dirty_ || txn_index_.sync_pending() || index_flushed_ < index_.size() || time_index_flushed_ < time_index_.size() ||
           (inactive_ && index_sync_pending_);
  }

  // Deletes the segment's files (the log descriptor stays open while regions still reference it).
  common::os::io_status remove_files();
  // Renames the three files to carry `suffix` instead of the current one (the log file last, so a .log
  // under the new name means its indexes are there too). Open descriptors stay valid.
  common::os::io_status rename_files(std::string_view suffix);
  const std::string& suffix() const { return suffix_; }

  int64_t base_offset() const { return base_offset_; }
  int64_t next_offset() const { return next_offset_; }
  bool empty() const { return size_ == 0; }
  uint64_t size_bytes() const { return size_; }
  int64_t max_timestamp() const { return max_timestamp_; }
  // The max timestamp of the first batch (-1 when empty); Kafka's measure for max.compaction.lag.ms.
  int64_t first_batch_timestamp() const { return first_batch_timestamp_.value_or(-1); }
  // How long this segment has been filling, for segment_ms, as Kafka measures it: the incoming batch's max
  // timestamp minus the first batch's (so it does not depend on when this process started), or wall time
  // since creation when the segment holds no timestamps.
  int64_t time_waited_for_roll(int64_t now_ms, int64_t incoming_max_timestamp) const {
    if (first_batch_timestamp_ && *first_batch_timestamp_ >= 0) return incoming_max_timestamp - *first_batch_timestamp_;
    return now_ms - created_ms_;
  }
  // Called when a newer segment takes over appends: from then on its flushes sync the index files too.
  void mark_inactive();
  // The durable length of the .log and of both index files (see "Durability" above).
  std::vector<durable_extent> durable_extents() const;
  uint64_t durable_bytes() const { return durable_log_bytes_; }
  // The directory holding the files has been fsynced since they were created.
  void mark_entry_durable() { entry_durable_ = true; }
  const std::vector<index_entry>& index() const { return index_; }
  const std::vector<time_index_entry>& time_index() const { return time_index_; }
  const std::shared_ptr<const common::os::file_handle>& log_file() const { return log_; }
  std::filesystem::path log_path() const;
  std::filesystem::path index_path() const;
  std::filesystem::path time_index_path() const;
  std::filesystem::path txn_index_path() const;

  // The aborted-transaction index (log/transaction_index.hpp): loaded by load() and recover() (its entries
  // past the data dropped), written by append_aborted_txn, synced by flush(), removed and renamed with the
  // other files.
  const transaction_index& txn_index() const { return txn_index_; }
  common::result<void> append_aborted_txn(const aborted_txn& txn) { return txn_index_.append(txn); }

 private:
  segment(std::filesystem::path dir, int64_t base_offset, int64_t now_ms, std::string_view suffix);
  common::result<void> open_files(common::os::open_mode mode, common::os::io_status* failure = nullptr);
  void reset_state();
  void track(const batch_info& b, int32_t index_interval_bytes);
  uint64_t lookup_position(int64_t offset) const;
  common::os::io_status write_pending_index_entries();

  std::filesystem::path dir_;
  std::string suffix_;  // appended to every file name; empty for a live segment
  int64_t base_offset_;
  int64_t created_ms_;
  std::shared_ptr<const common::os::file_handle> log_;
  transaction_index txn_index_;

  uint64_t size_ = 0;
  int64_t next_offset_;
  int64_t max_timestamp_ = -1;
  int64_t offset_of_max_timestamp_ = -1;  // last offset of the batch where max_timestamp_ was first reached
  std::optional<int64_t> first_batch_timestamp_;
  uint64_t bytes_since_last_index_entry_ = 0;
  std::vector<index_entry> index_;
  std::vector<time_index_entry> time_index_;
  size_t index_flushed_ = 0;
  size_t time_index_flushed_ = 0;
  bool dirty_ = false;
  bool inactive_ = false;
  bool index_sync_pending_ = false;  // index entries written to the files since their last fdatasync
  uint64_t durable_log_bytes_ = 0;         // the .log's length at its last fdatasync (or at open)
  size_t durable_index_entries_ = 0;       // index entries on the file at its last fdatasync (or at open)
  size_t durable_time_index_entries_ = 0;  // the same for the time index
  bool entry_durable_ = false;             // the files' directory entries are synced (found at open, or marked)
};


// Reads a batch header from raw bytes (at least batch_layout::header_size); no CRC check.
batch_info batch_info_from_header(std::span<const uint8_t> header, uint64_t position);

}  // namespace brook::log
