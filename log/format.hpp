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
//       partition.checkpoint                recovery point and log start offset (layout below), replaced
//                                           by write-to-temp + rename
//   <log_dir>/<topic>-<partition>.<n>-delete/   a partition being deleted; removed at open
//
// partition.checkpoint: magic "BRKP" | u16 version (1) | i64 recovery_point | i64 log_start_offset |
//   u32 CRC-32C of the preceding bytes. All big-endian. A missing or damaged file means "recover everything".
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
inline constexpr std::string_view delete_dir_suffix = "-delete";
inline constexpr size_t offset_name_digits = 20;

inline constexpr size_t index_entry_size = 8;
inline constexpr size_t time_index_entry_size = 12;

inline constexpr std::string_view lock_file_name = ".lock";
inline constexpr std::string_view clean_shutdown_marker = ".brook_clean_shutdown";
inline constexpr std::string_view partition_checkpoint_name = "partition.checkpoint";

inline constexpr char checkpoint_magic[4] = {'B', 'R', 'K', 'P'};
inline constexpr uint16_t checkpoint_version = 1;
inline constexpr size_t checkpoint_size = 4 + 2 + 8 + 8 + 4;

}  // namespace brook::log::format
