#include "log/segment.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <utility>

#include "common/compression.hpp"
#include "common/record_batch.hpp"
#include "log/format.hpp"

namespace brook::log {

namespace {
// Stored batches were validated when produced, within their topic's bound then; max.message.bytes may
// have shrunk since, so only the absolute bound applies when they are read back.
uint64_t stored_batch_limit(const common::record_batch_view& b) {
  return common::uncompressed_limit(b.record_count(), std::numeric_limits<int32_t>::max());
}
}  // namespace

namespace os = common::os;
using common::error;
using common::kafka_error;
using common::result;

namespace {

constexpr size_t scan_chunk_bytes = 1 << 20;

error storage_error(const os::io_status& st) { return error{kafka_error::kafka_storage_error, st.message()}; }

template <class T>
T load_be(const uint8_t* p) {
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<U>((v << 8) | p[i]);
  return static_cast<T>(v);
}

template <class T>
void append_be(std::vector<uint8_t>& out, T value) {
  using U = std::make_unsigned_t<T>;
  U v = static_cast<U>(value);
  for (size_t i = sizeof(T); i-- > 0;) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

result<std::vector<uint8_t>> read_whole(const os::file_handle& f) {
  uint64_t size = 0;
  if (auto st = os::file_size(f, size); !st) return storage_error(st);
  std::vector<uint8_t> bytes(size);
  size_t got = 0;
  if (auto st = os::read_at(f, bytes, 0, got); !st) return storage_error(st);
  bytes.resize(got);
  return bytes;
}

struct scan_outcome {
  uint64_t end = 0;         // position after the last good batch
  std::string stop_reason;  // empty: the scan reached file_end cleanly
};

// Walks the batches of [from, file_end), checking each one's length, magic, CRC and offsets, and hands
// each good one to on_batch. Stops at the first bad byte.
result<scan_outcome> scan_batches(const os::file_handle& f, uint64_t from, uint64_t file_end, int64_t segment_base,
                                  int64_t expected_next_offset, const std::function<void(const batch_info&)>& on_batch) {
  std::vector<uint8_t> buf;
  uint64_t buf_pos = 0;
  // Makes [p, p + n) of the file available in buf; false when the file ends first.
  auto ensure = [&](uint64_t p, uint64_t n) -> result<bool> {
    if (p + n > file_end) return false;
    if (p >= buf_pos && p + n <= buf_pos + buf.size()) return true;
    uint64_t want = std::min<uint64_t>(std::max<uint64_t>(n, scan_chunk_bytes), file_end - p);
    buf.resize(want);
    size_t got = 0;
    if (auto st = os::read_at(f, buf, p, got); !st) return storage_error(st);
    buf.resize(got);
    buf_pos = p;
    return got >= n;
  };
  scan_outcome out{from, {}};
  uint64_t pos = from;
  while (pos < file_end) {
    auto have = ensure(pos, format::batch::log_overhead);
    if (!have) return have.err();
    if (!*have) {
      out.stop_reason = "incomplete batch header";
      break;
    }
    auto size = common::record_batch_view::peek_size(std::span(buf).subspan(pos - buf_pos));
    if (!size || *size > UINT32_MAX) {
      out.stop_reason = "invalid batch length";
      break;
    }
    have = ensure(pos, *size);
    if (!have) return have.err();
    if (!*have) {
      out.stop_reason = "truncated batch";
      break;
    }
    auto bytes = std::span<const uint8_t>(buf).subspan(pos - buf_pos, *size);
    auto view = common::record_batch_view::parse(bytes);
    if (!view) {
      out.stop_reason = view.err().message;
      break;
    }
    if (auto valid = view->validate(); !valid) {
      out.stop_reason = valid.err().message;
      break;
    }
    batch_info b{pos, static_cast<uint32_t>(*size), view->base_offset(), view->last_offset(), view->max_timestamp()};
    if (b.base_offset < expected_next_offset || b.last_offset < b.base_offset ||
        b.last_offset - segment_base > static_cast<int64_t>(UINT32_MAX)) {
      out.stop_reason = "batch offsets out of order (base offset " + std::to_string(b.base_offset) + ")";
      break;
    }
    on_batch(b);
    expected_next_offset = b.last_offset + 1;
    pos += *size;
    out.end = pos;
  }
  return out;
}

// Reads the batch headers of [0, data_end) through a small buffer: a walk over small batches then costs one
// pread per buffer instead of one per batch, while a walk over batches larger than the buffer reads just the
// header of each (copying whole batches to find their headers would cost as much as the read itself).
class header_reader {
 public:
  header_reader(const os::file_handle& f, uint64_t data_end) : f_(f), data_end_(data_end) {}

  // The header facts of the batch at `pos`; nullopt when no whole header fits before data_end.
  result<std::optional<batch_info>> at(uint64_t pos) {
    constexpr uint64_t header = format::batch::header_size;
    if (pos + header > data_end_) return std::optional<batch_info>{};
    if (pos < buf_pos_ || pos + header > buf_pos_ + buf_len_) {
      // Batches smaller than a quarter of the buffer: fill it, later headers are likely inside.
      uint64_t want = last_size_ != 0 && last_size_ < buf_.size() / 4 ? buf_.size() : header;
      want = std::min<uint64_t>(want, data_end_ - pos);
      size_t got = 0;
      if (auto st = os::read_at(f_, std::span(buf_.data(), want), pos, got); !st) return storage_error(st);
      buf_pos_ = pos;
      buf_len_ = got;
      if (got < header) return std::optional<batch_info>{};
    }
    auto info = batch_info_from_header(std::span(buf_.data() + (pos - buf_pos_), header), pos);
    last_size_ = info.size;
    return std::optional<batch_info>(info);
  }

 private:
  const os::file_handle& f_;
  uint64_t data_end_;
  uint64_t buf_pos_ = 0;
  size_t buf_len_ = 0;
  uint32_t last_size_ = 0;  // size of the last batch read, to choose the next read's length
  std::array<uint8_t, 16 * 1024> buf_;
};

error corrupt_header(uint64_t pos) {
  return error{kafka_error::kafka_storage_error, "batch at position " + std::to_string(pos) + " has an invalid length"};
}

}  // namespace

batch_info batch_info_from_header(std::span<const uint8_t> header, uint64_t position) {
  namespace b = format::batch;
  batch_info info;
  info.position = position;
  info.base_offset = load_be<int64_t>(header.data() + b::base_offset);
  info.size = static_cast<uint32_t>(b::log_overhead + static_cast<uint32_t>(load_be<int32_t>(header.data() + b::batch_length)));
  info.last_offset = info.base_offset + load_be<int32_t>(header.data() + b::last_offset_delta);
  info.max_timestamp = load_be<int64_t>(header.data() + b::max_timestamp);
  return info;
}

std::string segment::file_stem(int64_t base_offset) {
  char name[32];
  std::snprintf(name, sizeof name, "%020lld", static_cast<long long>(base_offset));
  return name;
}

segment::segment(std::filesystem::path dir, int64_t base_offset, int64_t now_ms, std::string_view suffix)
    : dir_(std::move(dir)),
      suffix_(suffix),
      base_offset_(base_offset),
      created_ms_(now_ms),
      txn_index_(dir_ / (file_stem(base_offset) + std::string(format::txn_index_suffix) + suffix_), base_offset),
      next_offset_(base_offset) {}

std::filesystem::path segment::log_path() const {
  return dir_ / (file_stem(base_offset_) + std::string(format::log_suffix) + suffix_);
}
std::filesystem::path segment::index_path() const {
  return dir_ / (file_stem(base_offset_) + std::string(format::index_suffix) + suffix_);
}
std::filesystem::path segment::time_index_path() const {
  return dir_ / (file_stem(base_offset_) + std::string(format::time_index_suffix) + suffix_);
}
std::filesystem::path segment::txn_index_path() const {
  return dir_ / (file_stem(base_offset_) + std::string(format::txn_index_suffix) + suffix_);
}

result<void> segment::open_files(os::open_mode log_mode, os::io_status* failure) {
  os::file_handle log;
  auto fail = [&](os::io_status st) -> result<void> {
    if (failure) *failure = st;
    return storage_error(st);
  };
  if (auto st = os::open_file(log_path(), log_mode, log); !st) return fail(st);
  // The index files are only made to exist here; they are opened when read or written.
  auto index_mode = log_mode == os::open_mode::create_truncate ? log_mode : os::open_mode::read_write_create;
  os::file_handle index;
  if (auto st = os::open_file(index_path(), index_mode, index); !st) return fail(st);
  index.close();
  if (auto st = os::open_file(time_index_path(), index_mode, index); !st) return fail(st);
  log_ = std::make_shared<const os::file_handle>(std::move(log));
  return {};
}

result<std::unique_ptr<segment>> segment::create(const std::filesystem::path& dir, int64_t base_offset, int64_t now_ms,
                                                 uint64_t preallocate_bytes, bool* transient, std::string_view suffix) {
  std::unique_ptr<segment> s(new segment(dir, base_offset, now_ms, suffix));
  os::io_status failure;
  if (auto r = s->open_files(os::open_mode::create_truncate, &failure); !r) {
    if (transient) *transient = failure.no_space() || failure.resource_exhausted();
    return r.err();
  }
  if (auto st = os::remove_path(s->txn_index_path()); !st) return storage_error(st);  // a leftover
  if (preallocate_bytes > 0) {
    // Reservation is an optimisation: a disk too full for it still takes appends until it is really full.
    if (auto st = os::preallocate(*s->log_, 0, preallocate_bytes); !st && !st.no_space()) return storage_error(st);
  }
  return s;
}

result<std::unique_ptr<segment>> segment::open(const std::filesystem::path& dir, int64_t base_offset, int64_t now_ms,
                                               std::string_view suffix) {
  std::unique_ptr<segment> s(new segment(dir, base_offset, now_ms, suffix));
  if (auto r = s->open_files(os::open_mode::read_write); !r) return r.err();
  return s;
}

void segment::reset_state() {
  size_ = 0;
  next_offset_ = base_offset_;
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = -1;
  first_batch_timestamp_.reset();
  bytes_since_last_index_entry_ = 0;
  index_.clear();
  time_index_.clear();
  index_flushed_ = time_index_flushed_ = 0;
}

// Kafka's indexing rule: the batch that arrives once more than index_interval_bytes have been written since
// the last indexed batch gets an entry; the time index records the running max timestamp at the same points.
void segment::track(const batch_info& b, int32_t index_interval_bytes) {
  if (!first_batch_timestamp_) first_batch_timestamp_ = b.max_timestamp;
  if (b.max_timestamp > max_timestamp_ || offset_of_max_timestamp_ < 0) {
    max_timestamp_ = std::max(max_timestamp_, b.max_timestamp);
    offset_of_max_timestamp_ = b.last_offset;
  }
  if (bytes_since_last_index_entry_ > static_cast<uint64_t>(index_interval_bytes)) {
    index_.push_back({static_cast<uint32_t>(b.last_offset - base_offset_), static_cast<uint32_t>(b.position)});
    if (time_index_.empty() || max_timestamp_ > time_index_.back().timestamp)
      time_index_.push_back({max_timestamp_, static_cast<uint32_t>(offset_of_max_timestamp_ - base_offset_)});
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += b.size;
  size_ = b.position + b.size;
  next_offset_ = b.last_offset + 1;
}

result<bool> segment::load(int32_t index_interval_bytes) {
  reset_state();
  uint64_t file_size = 0;
  if (auto st = os::file_size(*log_, file_size); !st) return storage_error(st);
  os::file_handle index_file, time_index_file;
  if (auto st = os::open_file(index_path(), os::open_mode::read_only, index_file); !st) return storage_error(st);
  auto index_bytes = read_whole(index_file);
  if (!index_bytes) return index_bytes.err();
  index_file.close();
  if (auto st = os::open_file(time_index_path(), os::open_mode::read_only, time_index_file); !st)
    return storage_error(st);
  auto time_bytes = read_whole(time_index_file);
  if (!time_bytes) return time_bytes.err();
  time_index_file.close();
  if (index_bytes->size() % format::index_entry_size != 0 || time_bytes->size() % format::time_index_entry_size != 0)
    return false;
  if (file_size > UINT32_MAX) return false;
  for (size_t p = 0; p < index_bytes->size(); p += format::index_entry_size) {
    index_entry e{load_be<uint32_t>(index_bytes->data() + p), load_be<uint32_t>(index_bytes->data() + p + 4)};
    if (!index_.empty() && (e.relative_offset <= index_.back().relative_offset || e.position <= index_.back().position))
      return false;
    if (e.position >= file_size) return false;
    index_.push_back(e);
  }
  for (size_t p = 0; p < time_bytes->size(); p += format::time_index_entry_size) {
    time_index_entry e{load_be<int64_t>(time_bytes->data() + p), load_be<uint32_t>(time_bytes->data() + p + 8)};
    if (!time_index_.empty() &&
        (e.timestamp <= time_index_.back().timestamp || e.relative_offset < time_index_.back().relative_offset))
      return false;
    time_index_.push_back(e);
  }
  // The last offset index entry must point at a batch ending at the offset it claims.
  uint64_t tail_from = 0;
  if (!index_.empty()) {
    auto at = batch_at(index_.back().position);
    if (!at) return at.err();
    if (!*at || (*at)->last_offset != base_offset_ + index_.back().relative_offset) return false;
    tail_from = index_.back().position;
    if (!time_index_.empty()) {
      max_timestamp_ = time_index_.back().timestamp;
      offset_of_max_timestamp_ = base_offset_ + time_index_.back().relative_offset;
    }
    auto first = batch_at(0);
    if (!first) return first.err();
    if (!*first) return false;
    first_batch_timestamp_ = (*first)->max_timestamp;
  } else if (!time_index_.empty()) {
    return false;
  }
  // The first offset index entry always comes with a time index entry.
  if (!index_.empty() && time_index_.empty()) return false;
  // Validate everything after the last indexed batch, the only part the index files do not vouch for.
  int64_t expected = base_offset_;
  if (!index_.empty()) {
    auto at = batch_at(tail_from);
    if (!at) return at.err();
    expected = (*at)->base_offset;
  }
  bool first_in_tail = true;
  bool index_incomplete = false;
  auto scan = scan_batches(*log_, tail_from, file_size, base_offset_, expected, [&](const batch_info& b) {
    if (!first_batch_timestamp_) first_batch_timestamp_ = b.max_timestamp;
    if (b.max_timestamp > max_timestamp_ || offset_of_max_timestamp_ < 0) {
      max_timestamp_ = std::max(max_timestamp_, b.max_timestamp);
      offset_of_max_timestamp_ = b.last_offset;
    }
    // A batch the indexing rule would have indexed, but the index file lacks: the file is incomplete.
    if (!first_in_tail && bytes_since_last_index_entry_ > static_cast<uint64_t>(index_interval_bytes))
      index_incomplete = true;
    bytes_since_last_index_entry_ = first_in_tail ? b.size : bytes_since_last_index_entry_ + b.size;
    first_in_tail = false;
    size_ = b.position + b.size;
    next_offset_ = b.last_offset + 1;
  });
  if (!scan) return scan.err();
  if (!scan->stop_reason.empty() || index_incomplete) return false;
  if (!time_index_.empty() && base_offset_ + time_index_.back().relative_offset >= next_offset_) return false;
  index_flushed_ = index_.size();
  time_index_flushed_ = time_index_.size();
  // What was on disk at open counts as durable (the files survived whatever came before).
  entry_durable_ = true;
  durable_log_bytes_ = file_size;
  durable_index_entries_ = index_.size();
  durable_time_index_entries_ = time_index_.size();
  auto txns = txn_index_.load(next_offset_);
  if (!txns) return txns.err();
  return true;
}

result<segment_recovery_result> segment::recover(int32_t index_interval_bytes) {
  reset_state();
  uint64_t file_size = 0;
  if (auto st = os::file_size(*log_, file_size); !st) return storage_error(st);
  segment_recovery_result out;
  auto scan = scan_batches(*log_, 0, std::min<uint64_t>(file_size, UINT32_MAX), base_offset_, base_offset_,
                           [&](const batch_info& b) {
                             track(b, index_interval_bytes);
                             ++out.batches;
                           });
  if (!scan) return scan.err();
  out.valid_bytes = scan->end;
  out.truncated_bytes = file_size - scan->end;
  out.reason = scan->stop_reason;
  if (out.truncated_bytes > 0) {
    if (auto st = os::truncate_file(*log_, scan->end); !st) return storage_error(st);
  }
  os::file_handle emptied;
  if (auto st = os::open_file(index_path(), os::open_mode::create_truncate, emptied); !st) return storage_error(st);
  if (auto st = os::open_file(time_index_path(), os::open_mode::create_truncate, emptied); !st)
    return storage_error(st);
  emptied.close();
  // Entries of markers that survived stay; the producer state replay adds the missing ones.
  if (auto txns = txn_index_.load(next_offset_); !txns) return txns.err();
  durable_index_entries_ = durable_time_index_entries_ = 0;  // rewritten; durable once synced
  durable_log_bytes_ = 0;
  entry_durable_ = true;  // the .log was found on disk
  dirty_ = true;
  if (auto st = flush(); !st) return storage_error(st);
  return out;
}

os::io_status segment::append(std::span<const uint8_t> data, std::span<const batch_info> batches,
                              int32_t index_interval_bytes, bool& restored) {
  restored = true;
  if (auto st = os::write_at(*log_, data, size_); !st) {
    // Cut whatever part of the write landed so the file ends at the last whole batch again.
    restored = static_cast<bool>(os::truncate_file(*log_, size_));
    return st;
  }
  uint64_t start = size_;
  for (auto b : batches) {
    b.position += start;
    track(b, index_interval_bytes);
  }
  dirty_ = true;
  return {};
}

uint64_t segment::lookup_position(int64_t offset) const {
  if (offset < base_offset_ || index_.empty()) return 0;
  auto rel = static_cast<uint64_t>(offset - base_offset_);
  auto it = std::upper_bound(index_.begin(), index_.end(), rel,
                             [](uint64_t r, const index_entry& e) { return r < e.relative_offset; });
  return it == index_.begin() ? 0 : std::prev(it)->position;
}

result<std::optional<batch_info>> segment::batch_at(uint64_t position) const {
  if (position >= size_ && size_ != 0) return std::optional<batch_info>{};
  uint8_t header[format::batch::header_size];
  size_t got = 0;
  if (auto st = os::read_at(*log_, header, position, got); !st) return storage_error(st);
  if (got < sizeof header) return std::optional<batch_info>{};
  return std::optional<batch_info>(batch_info_from_header(header, position));
}

result<std::optional<batch_info>> segment::find_batch(int64_t offset) const {
  if (offset >= next_offset_) return std::optional<batch_info>{};
  uint64_t pos = lookup_position(offset);
  bool rescanned = pos == 0;
  header_reader headers(*log_, size_);
  while (pos < size_) {
    auto b = headers.at(pos);
    if (!b) return b.err();
    if (!*b) break;
    // An index entry that overshoots (or lands inside a batch) cannot happen with a sane index; fall back to a
    // scan from the start.
    bool bad_size = (*b)->size < format::batch::header_size;
    if ((bad_size || (*b)->base_offset > offset) && !rescanned && pos != 0) {
      pos = 0;
      rescanned = true;
      continue;
    }
    if (bad_size) return corrupt_header(pos);
    if ((*b)->last_offset >= offset) return b;
    pos += (*b)->size;
  }
  return std::optional<batch_info>{};
}

// The answer is the last batch boundary b with b - position <= max_bytes (or the first batch's end when that
// is further). [0, size_) holds whole batches, so a limit at or past size_ needs no reads at all; otherwise
// the walk starts from the last indexed batch start below the limit, so it reads only the headers after it
// (about index_interval_bytes' worth) instead of every header in the region.
result<segment::region_bounds> segment::region_end(uint64_t position, uint64_t max_bytes) const {
  if (position >= size_) return region_bounds{position, next_offset()};
  uint64_t limit = max_bytes > size_ - position ? size_ : position + max_bytes;
  if (limit == size_) return region_bounds{size_, next_offset()};
  header_reader headers(*log_, size_);
  uint64_t end = position;
  auto it = std::upper_bound(index_.begin(), index_.end(), limit,
                             [](uint64_t l, const index_entry& e) { return l < e.position; });
  if (it != index_.begin() && std::prev(it)->position > position) {
    // Use the entry only if it really points at the batch it names (a damaged index file loaded at start-up
    // could point elsewhere); otherwise walk from the region's start.
    const index_entry& e = *std::prev(it);
    auto b = headers.at(e.position);
    if (!b) return b.err();
    if (*b && (*b)->last_offset == base_offset_ + e.relative_offset) end = e.position;
  }
  int64_t next = next_offset();
  while (end < size_) {
    auto b = headers.at(end);
    if (!b) return b.err();
    if (!*b) break;
    if ((*b)->size < format::batch::header_size || (*b)->size > size_ - end) return corrupt_header(end);
    if (end != position && end + (*b)->size > limit) {
      next = (*b)->base_offset;
      break;
    }
    end += (*b)->size;
    next = end < size_ ? (*b)->last_offset + 1 : next_offset();
    if (end >= limit) break;
  }
  return region_bounds{end, next};
}

result<std::vector<uint8_t>> segment::read_bytes(uint64_t position, uint64_t length) const {
  std::vector<uint8_t> out(length);
  size_t got = 0;
  if (auto st = os::read_at(*log_, out, position, got); !st) return storage_error(st);
  out.resize(got);
  return out;
}

result<std::optional<timestamp_and_offset>> segment::find_offset_by_timestamp(int64_t ts, int64_t min_offset) const {
  using out_t = std::optional<timestamp_and_offset>;
  if (size_ == 0 || max_timestamp_ < ts) return out_t{};
  // Start at the last time index entry below ts: every batch before it has only smaller timestamps.
  int64_t from_offset = base_offset_;
  auto it = std::upper_bound(time_index_.begin(), time_index_.end(), ts,
                             [](int64_t t, const time_index_entry& e) { return t < e.timestamp; });
  if (it != time_index_.begin()) from_offset = base_offset_ + std::prev(it)->relative_offset;
  uint64_t pos = lookup_position(std::max(from_offset, min_offset));
  while (pos < size_) {
    auto b = batch_at(pos);
    if (!b) return b.err();
    if (!*b) break;
    if ((*b)->max_timestamp >= ts && (*b)->last_offset >= min_offset) {
      auto bytes = read_bytes(pos, (*b)->size);
      if (!bytes) return bytes.err();
      auto view = common::record_batch_view::parse(*bytes);
      if (!view) return view.err();
      auto records = view->records(stored_batch_limit(*view));
      if (!records) return records.err();
      while (true) {
        auto r = records->next();
        if (!r) return r.err();
        if (!*r) break;
        if ((*r)->timestamp >= ts && (*r)->offset >= min_offset) return out_t(timestamp_and_offset{(*r)->timestamp, (*r)->offset});
      }
    }
    pos += (*b)->size;
  }
  return out_t{};
}

result<std::optional<timestamp_and_offset>> segment::max_timestamp_record() const {
  using out_t = std::optional<timestamp_and_offset>;
  if (size_ == 0 || offset_of_max_timestamp_ < 0) return out_t{};
  auto b = find_batch(offset_of_max_timestamp_);
  if (!b) return b.err();
  if (!*b) return out_t{};
  auto bytes = read_bytes((*b)->position, (*b)->size);
  if (!bytes) return bytes.err();
  auto view = common::record_batch_view::parse(*bytes);
  if (!view) return view.err();
  auto records = view->records(stored_batch_limit(*view));
  if (!records) return records.err();
  while (true) {
    auto r = records->next();
    if (!r) return r.err();
    if (!*r) break;
    if ((*r)->timestamp == max_timestamp_) return out_t(timestamp_and_offset{(*r)->timestamp, (*r)->offset});
  }
  return out_t{};  // Kafka's RecordBatch.offsetOfMaxTimestamp: no record carries it

}

os::io_status segment::write_pending_index_entries() {
  if (index_flushed_ < index_.size()) {
    std::vector<uint8_t> bytes;
    for (size_t i = index_flushed_; i < index_.size(); ++i) {
      append_be<uint32_t>(bytes, index_[i].relative_offset);
      append_be<uint32_t>(bytes, index_[i].position);
    }
    os::file_handle index_file;
    if (auto st = os::open_file(index_path(), os::open_mode::read_write_create, index_file); !st) return st;
    if (auto st = os::write_at(index_file, bytes, index_flushed_ * format::index_entry_size); !st) return st;
    index_flushed_ = index_.size();
    index_sync_pending_ = true;
  }
  if (time_index_flushed_ < time_index_.size()) {
    std::vector<uint8_t> bytes;
    for (size_t i = time_index_flushed_; i < time_index_.size(); ++i) {
      append_be<int64_t>(bytes, time_index_[i].timestamp);
      append_be<uint32_t>(bytes, time_index_[i].relative_offset);
    }
    os::file_handle time_index_file;
    if (auto st = os::open_file(time_index_path(), os::open_mode::read_write_create, time_index_file); !st) return st;
    if (auto st = os::write_at(time_index_file, bytes, time_index_flushed_ * format::time_index_entry_size); !st)
      return st;
    time_index_flushed_ = time_index_.size();
    index_sync_pending_ = true;
  }
  return {};
}

os::io_status segment::flush(bool fsync) {
  if (!has_unflushed_data()) return {};
  // Index entries are derived data: on a full disk (or short of descriptors) they stay pending (retried at the next flush, rebuilt by
  // recovery if never written) rather than failing a flush whose log data is intact.
  if (auto st = write_pending_index_entries(); !st && !st.no_space() && !st.resource_exhausted()) return st;
  const uint64_t synced_size = size_;
  if (fsync)
    if (auto st = os::sync_data(*log_); !st) return st;
  durable_log_bytes_ = synced_size;  // without fsync: as far as this process is concerned
  dirty_ = false;
  // The aborted-transaction index is not derived from this segment alone (a transaction may start in an
  // earlier one), so it is synced with the data it describes.
  if (auto st = txn_index_.sync(fsync); !st) return st;
  // The active segment's index files are synced when it rolls or closes, not on every flush: acks=all
  // flushes often, and the indexes are derived data. Until then a crash can leave their tail short or
  // zero-filled, which lookups survive (an entry found is still a lower bound to scan forward from;
  // a zero entry points at the segment's start) and recovery re-indexes past the recovery point.
  if (inactive_)
    if (auto st = sync_pending_indexes(fsync); !st) return st;
  return {};
}

os::io_status segment::sync_pending_indexes(bool fsync) {
  if (!index_sync_pending_) return {};
  // fdatasync acts on the file, not the descriptor: a fresh descriptor syncs what earlier ones wrote.
  for (const auto& path : {index_path(), time_index_path()}) {
    if (!fsync) break;
    os::file_handle f;
    if (auto st = os::open_file(path, os::open_mode::read_write, f); !st) return st;
    if (auto st = os::sync_data(f); !st) return st;
  }
  index_sync_pending_ = false;
  durable_index_entries_ = index_flushed_;
  durable_time_index_entries_ = time_index_flushed_;
  return {};
}

std::vector<durable_extent> segment::durable_extents() const {
  std::vector<durable_extent> out{
      {log_path(), durable_log_bytes_, entry_durable_},
      {index_path(), durable_index_entries_ * format::index_entry_size, entry_durable_},
      {time_index_path(), durable_time_index_entries_ * format::time_index_entry_size, entry_durable_}};
  std::error_code ec;
  if (std::filesystem::exists(txn_index_path(), ec))  // created at the first abort only
    out.push_back({txn_index_path(), txn_index_.durable_entries() * format::aborted_txn_entry_size, entry_durable_});
  return out;
}

result<void> cut_to_durable(const std::vector<durable_extent>& extents) {
  for (const auto& e : extents) {
    std::error_code ec;
    if (!e.entry_durable) {
      std::filesystem::remove(e.path, ec);
      if (ec)
        return error{kafka_error::kafka_storage_error, "cannot remove " + e.path.string() + ": " + ec.message()};
      continue;
    }
    const auto size = std::filesystem::file_size(e.path, ec);
    if (ec) continue;  // gone (deleted since) or never created
    if (size <= e.bytes) continue;
    std::filesystem::resize_file(e.path, e.bytes, ec);
    if (ec)
      return error{kafka_error::kafka_storage_error,
                   "cannot cut " + e.path.string() + " to " + std::to_string(e.bytes) + " bytes: " + ec.message()};
  }
  return {};
}

void segment::mark_inactive() { inactive_ = true; }

os::io_status segment::remove_files() {
  if (auto st = os::remove_path(log_path()); !st) return st;
  if (auto st = os::remove_path(index_path()); !st) return st;
  if (auto st = os::remove_path(txn_index_path()); !st) return st;
  return os::remove_path(time_index_path());
}

os::io_status segment::rename_files(std::string_view suffix) {
  auto old_log = log_path(), old_index = index_path(), old_time = time_index_path(), old_txn = txn_index_path();
  std::string old_suffix = std::exchange(suffix_, std::string(suffix));
  os::io_status st = os::rename_path(old_index, index_path());
  if (st) st = os::rename_path(old_time, time_index_path());
  std::error_code ec;
  if (st && std::filesystem::exists(old_txn, ec)) st = os::rename_path(old_txn, txn_index_path());
  if (st) txn_index_.set_path(txn_index_path());
  if (st) st = os::rename_path(old_log, log_path());
  if (!st) suffix_ = std::move(old_suffix);  // the caller decides; the files may be half renamed
  return st;
}

}  // namespace brook::log
