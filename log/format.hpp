// Every on-disk constant of the partition logs, in one place.
//
// Log dir layout:
//   <log_dir>/.lock                         exclusive flock held by the log_manager that opened the dir
//   <log_dir>/.brook_clean_shutdown         present only after a shutdown in which every flush succeeded;
//                                           removed at open, so a crash leaves the dir without it
//   <log_dir>/<topic>-<partition>/          one partition (the topic may itself contain '-': split at the last)
//       <base offset, 20 digits>.log        record batches v2, back to back, stored exactly as appended
//                                           (only baseOffset, partitionLeaderEpoch and, for LogAppendTime,
//                                           maxTimestamp/attributes/crc rewritten)
//       <base offset>.index                 sparse offset index: entries of 8 bytes, big-endian
//                                           u32 (last offset of a batch - base offset), u32 file position of
//                                           that batch; increasing, one per index_interval_bytes of log
//       <base offset>.timeindex             time index: entries of 12 bytes, big-endian i64 timestamp,
//                                           u32 relative offset; the largest timestamp so far and the last
//                                           offset of the batch where it was first reached; increasing
//       <base offset>.txnindex              aborted-transaction index (Kafka's TransactionIndex): entries of
//                                           34 bytes, big-endian i16 version (0) | i64 producer id | i64 first
//                                           offset | i64 last offset (the ABORT marker's) | i64 last stable
//                                           offset after the marker; one per transaction aborted by a marker
//                                           in this segment, in marker order. Created at the first abort;
//                                           recovery keeps the sane leading entries below the segment's end
//                                           and the producer state replay (partition_log::load_producer_state)
//                                           appends those of markers it finds missing
//       partition.checkpoint                recovery point and log start offset (layout below), replaced
//                                           by write-to-temp + rename
//       cleaner.checkpoint                  compacted topics: the offset below which the log has been cleaned
//                                           (layout below), replaced by write-to-temp + rename
//       <base>.log.cleaned, .index.cleaned, .timeindex.cleaned, .txnindex.cleaned
//                                           a segment the log cleaner is building (compaction); deleted at open
//       <base>.log.swap, .index.swap, .timeindex.swap, .txnindex.swap
//                                           a cleaned segment committed to replace the segments it was built
//                                           from; completed at open (see "Compaction swap" below)
//   <log_dir>/<topic>-<partition>.<n>-delete/   a partition being deleted; removed at open
//
// partition.checkpoint: magic "BRKP" | u16 version | partition_checkpoint_record at that version | u32 CRC-32C
//   of the preceding bytes, all big-endian (the record is declared in common/protocol/records/; version 1:
//   i64 recovery_point | i64 log_start_offset). A missing or damaged file, or one of a version this broker
//   does not read, means "recover everything".
//
// cleaner.checkpoint: magic "BRKC" | u16 version | cleaner_checkpoint_record at that version | u32 CRC-32C of
//   the preceding bytes (version 1: i64 first dirty offset). Missing or damaged: the whole log counts as dirty
//   (it is cleaned again).
//
// Compaction swap (log/compaction.hpp). The cleaner replaces a group of consecutive closed segments
// [B, E) with one cleaned segment named after the group's first base offset B, holding the surviving batches
// (original offsets, so its last offset N - 1 < E). Steps, each file fdatasync'ed before it is renamed:
//   1. build <B>.{log,index,timeindex}.cleaned and fdatasync them (off the partition's strand);
//   2. rename each to .swap (the .log last), fsync the dir: from here on the swap is committed;
//   3. delete the old segments of the group (the .log of each first);
//   4. rename the .swap files to their final names (the .log last), fsync the dir.
// Recovery at open: every *.cleaned file and every index .swap without its <B>.log.swap is deleted (the swap
// never committed; the old segments are intact). For each <B>.log.swap it recovers the swap segment (scan +
// index rebuild), deletes every old segment whose base offset lies in [B, max(N, B + 1)) (all of them belong
// to the group), and renames the swap files into place. An old segment of the group with base >= N may
// survive a crash: it only holds records the cleaner meant to drop, so the log stays consistent.
//
// Cleaned batches (Kafka's rules for magic v2): a batch keeps its base offset, lastOffsetDelta, producer id,
// epoch and base sequence, partition leader epoch and codec; surviving records keep their offset deltas and
// are re-encoded (and re-compressed) with baseTimestamp = the first survivor's timestamp. A batch retaining
// tombstones gets the DELETE_HORIZON attribute bit and baseTimestamp = (time of the first cleaning +
// delete.retention.ms); once that time has passed a later cleaning drops those tombstones. A batch whose
// records all go is kept empty (recordCount 0) if it is its producer's last batch in the cleaned range, so
// idempotent-producer state survives. Transactions (Kafka's CleanedTransactionMetadata): only offsets below the
// last stable offset are cleaned; the batches of an aborted transaction (as the .txnindex files of the
// cleaned range say) lose all their records; an ABORT marker stays, and its .txnindex entry is copied to the
// cleaned segment, while batches of its transaction were still found in the cleaned range; a COMMIT marker
// stays while records of its transaction were found. A marker that no longer guards anything is marked with
// the DELETE_HORIZON bit and baseTimestamp = time of that cleaning + delete.retention.ms, and a cleaning after
// that horizon drops it (kept empty if it is its producer's last batch).
//
// Index files hold entries only for data that was flushed with them; anything past the recovery point is
// re-indexed by recovery, so the files never have to be trusted past it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/record_batch.hpp"

namespace brook::log::format {

// The record batch header layout is the wire format's, owned by common (common may not include log/).
namespace batch = common::batch_layout;

inline constexpr std::string_view log_suffix = ".log";
inline constexpr std::string_view index_suffix = ".index";
inline constexpr std::string_view time_index_suffix = ".timeindex";
inline constexpr std::string_view temp_suffix = ".tmp";
inline constexpr std::string_view cleaned_suffix = ".cleaned";
inline constexpr std::string_view swap_suffix = ".swap";
inline constexpr std::string_view delete_dir_suffix = "-delete";
inline constexpr size_t offset_name_digits = 20;

inline constexpr size_t index_entry_size = 8;
inline constexpr size_t time_index_entry_size = 12;
inline constexpr std::string_view txn_index_suffix = ".txnindex";
inline constexpr size_t aborted_txn_entry_size = 34;
inline constexpr int16_t aborted_txn_version = 0;

inline constexpr std::string_view lock_file_name = ".lock";
inline constexpr std::string_view clean_shutdown_marker = ".brook_clean_shutdown";
inline constexpr std::string_view partition_checkpoint_name = "partition.checkpoint";

inline constexpr char checkpoint_magic[4] = {'B', 'R', 'K', 'P'};
inline constexpr int16_t checkpoint_version = 1;  // the version written
// Longer files are not checkpoints of any version this broker reads.
inline constexpr size_t checkpoint_max_size = 4096;

inline constexpr std::string_view cleaner_checkpoint_name = "cleaner.checkpoint";
inline constexpr char cleaner_checkpoint_magic[4] = {'B', 'R', 'K', 'C'};
inline constexpr int16_t cleaner_checkpoint_version = 1;  // the version written

}  // namespace brook::log::format
