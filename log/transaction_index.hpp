// The aborted-transaction index of one segment, Kafka's TransactionIndex: `<base offset>.txnindex`
// (layout in log/format.hpp), one entry per transaction aborted by a marker written in this segment.
//
// Owned by its segment (log/segment.hpp) and called from the partition's strand only.
// Invariants: entries are in increasing last offset (the marker's offset), each at or above the
// segment's base offset, with first offset <= last offset; the file holds exactly the in-memory entries
// (it is written at each append, before the append returns), the first `durable_entries()` of them
// fdatasync'ed. The file is created at the first append; a segment without aborts may have none.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "common/error.hpp"
#include "common/os/file_io.hpp"

namespace brook::log {

// Kafka's AbortedTxn: a transaction of `producer_id` spanning [first_offset, last_offset] (its ABORT marker
// is at last_offset), and the last stable offset of the partition right after the marker was written.
struct aborted_txn {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t last_stable_offset = -1;
  bool operator==(const aborted_txn&) const = default;
};

// What a search of one index found (Kafka's TxnIndexSearchResult).
struct aborted_txn_search {
  std::vector<aborted_txn> txns;
  // An entry whose last stable offset is at or past the upper bound was seen: no later segment can hold
  // a transaction that overlaps the range (it would have begun after that LSO).
  bool complete = false;
};

class transaction_index {
 public:
  transaction_index(std::filesystem::path path, int64_t base_offset) : path_(std::move(path)), base_offset_(base_offset) {}

  static std::array<uint8_t, 34> encode(const aborted_txn& txn);
  // nullopt when the bytes are not an entry of the version this broker reads.
  static std::optional<aborted_txn> decode(std::span<const uint8_t> entry);

  // Reads the file (missing: no entries) and keeps the leading entries that are sane and whose marker lies
  // below `end_offset` (the segment's next offset); the file is cut after them. Returns how many entries
  // were dropped. Everything kept counts as durable (it was found on disk).
  common::result<size_t> load(int64_t end_offset);
  // Appends an entry (its last offset above every entry's) and writes it to the file. Errors:
  // invalid_request (out of order), kafka_storage_error.
  common::result<void> append(const aborted_txn& txn);
  // Drops the entries whose marker is at or after `offset` (Kafka's truncateTo).
  common::result<void> truncate_to(int64_t offset);
  // fdatasyncs the file if entries were written since the last sync.
  common::os::io_status sync(bool fsync);
  bool sync_pending() const { return durable_entries_ < entries_.size(); }

  // The aborted transactions overlapping [fetch_offset, upper_bound): last offset >= fetch_offset and
  // first offset < upper_bound (Kafka's collectAbortedTxns).
  aborted_txn_search collect(int64_t fetch_offset, int64_t upper_bound) const;

  const std::vector<aborted_txn>& entries() const { return entries_; }
  size_t durable_entries() const { return durable_entries_; }
  const std::filesystem::path& path() const { return path_; }
  // After the file was renamed.
  void set_path(std::filesystem::path path) { path_ = std::move(path); }

 private:
  std::filesystem::path path_;
  int64_t base_offset_;
  std::vector<aborted_txn> entries_;
  size_t durable_entries_ = 0;
};

}  // namespace brook::log
