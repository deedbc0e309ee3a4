#include "log/partition_log.hpp"

#include "common/protocol/messages/cleaner_checkpoint_record.hpp"
#include "common/protocol/messages/partition_checkpoint_record.hpp"
#include "common/protocol/wire.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/crc32c.hpp"
#include "log/format.hpp"
#include "log/storage_error.hpp"

namespace brook::log {

namespace os = common::os;
using common::error;
using common::kafka_error;
using common::result;

namespace {

// Segment positions are uint32; Kafka caps segment.bytes at Int.MaxValue for the same reason.
int64_t effective_segment_bytes(const log_config& c) {
  return std::clamp<int64_t>(c.segment_bytes, 1, std::numeric_limits<int32_t>::max());
}

std::optional<int64_t> parse_base_offset(const std::string& stem) {
  if (stem.size() != format::offset_name_digits) return std::nullopt;
  int64_t v = 0;
  for (char c : stem) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// A checkpoint file (log/format.hpp): magic | u16 version | the record at that version | u32 CRC-32C of
// everything before it, all big-endian.
template <class Record>
std::vector<uint8_t> encode_checkpoint_file(const char (&magic)[4], const Record& record, int16_t version) {
  common::protocol::writer w;
  for (char c : magic) w.int8(static_cast<int8_t>(c));
  w.int16(version);
  record.encode(w, version);
  auto bytes = w.take();
  w = common::protocol::writer{};
  w.uint32(common::crc32c(std::span<const uint8_t>(bytes.data(), bytes.size())));
  auto crc = w.take();
  bytes.insert(bytes.end(), crc.begin(), crc.end());
  return bytes;
}

// The file's record, or nothing when it is missing, damaged (magic, CRC, length) or of a version this
// broker does not read: its owner then falls back to recovering everything.
template <class Record, int16_t Min, int16_t Max>
std::optional<Record> read_checkpoint_file(const std::filesystem::path& path, const char (&magic)[4]) {
  os::file_handle f;
  if (!os::open_file(path, os::open_mode::read_only, f)) return std::nullopt;
  uint8_t buf[format::checkpoint_max_size + 1];
  size_t got = 0;
  if (!os::read_at(f, buf, 0, got) || got < 4 + 2 + 4 || got > format::checkpoint_max_size) return std::nullopt;
  if (std::memcmp(buf, magic, 4) != 0) return std::nullopt;
  common::protocol::reader crc_reader(std::span<const uint8_t>(buf + got - 4, 4));
  if (common::crc32c(std::span<const uint8_t>(buf, got - 4)) != crc_reader.uint32()) return std::nullopt;
  common::protocol::reader r(std::span<const uint8_t>(buf + 4, got - 4 - 4));
  try {
    const int16_t version = r.int16();
    if (version < Min || version > Max) return std::nullopt;
    Record record;
    record.decode(r, version);
    if (r.remaining() != 0) return std::nullopt;
    return record;
  } catch (const common::protocol::decode_error&) {
    return std::nullopt;
  }
}

using partition_checkpoint = common::protocol::partition_checkpoint_record::message;
using cleaner_checkpoint = common::protocol::cleaner_checkpoint_record::message;

std::optional<partition_checkpoint> read_checkpoint(const std::filesystem::path& path) {
  namespace rec = common::protocol::partition_checkpoint_record;
  auto c = read_checkpoint_file<partition_checkpoint, rec::min_version, rec::max_version>(path,
                                                                                          format::checkpoint_magic);
  if (!c || c->recovery_point < 0 || c->log_start_offset < 0) return std::nullopt;
  return c;
}

// The cleaner checkpoint (log/format.hpp): the offset below which the log has been cleaned.
std::optional<int64_t> read_cleaner_checkpoint(const std::filesystem::path& path) {
  namespace rec = common::protocol::cleaner_checkpoint_record;
  auto c = read_checkpoint_file<cleaner_checkpoint, rec::min_version, rec::max_version>(
      path, format::cleaner_checkpoint_magic);
  if (!c || c->first_dirty_offset < 0) return std::nullopt;
  return c->first_dirty_offset;
}

}  // namespace

clock_fn system_clock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

void log_dir_health::mark_failed(const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (failed_.load()) return;
    reason_ = reason;
    failed_.store(true, std::memory_order_release);
  }
  spdlog::error("log dir failed, refusing all further writes: {}", reason);
}

std::string log_dir_health::reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

result<std::vector<uint8_t>> file_region::load() const {
  if (length == 0 || !file) return std::vector<uint8_t>{};
  std::vector<uint8_t> out(length);
  if (auto r = load_into(out); !r) return r.err();
  return out;
}

result<void> file_region::load_into(std::span<uint8_t> out) const {
  if (length == 0 || !file) return {};
  if (out.size() < length)
    return error{kafka_error::unknown_server_error, "buffer of " + std::to_string(out.size()) +
                                                        " bytes is too small for a region of " + std::to_string(length)};
  size_t got = 0;
  if (auto st = os::read_at(*file, out.first(length), position, got); !st) return storage_error(st.message());
  if (got != length) return storage_error("segment file shorter than the region read");
  return {};
}

partition_log::partition_log(std::filesystem::path dir, log_config config, clock_fn clock,
                             std::shared_ptr<log_dir_health> health)
    : dir_(std::move(dir)), config_(config), clock_(std::move(clock)), health_(std::move(health)) {
  if (!clock_) clock_ = system_clock();
  if (!health_) health_ = std::make_shared<log_dir_health>();
  const auto name = dir_.filename().string();
  const auto dash = name.rfind('-');
  topic_ = dash == std::string::npos ? name : name.substr(0, dash);
}

int partition_log::injected_fault(disk_op op) const {
  disk_fault_hook* hook = fault_hook_.load(std::memory_order_acquire);
  return hook ? hook->before_disk_op(op, topic_) : 0;
}

partition_log::~partition_log() = default;

result<std::unique_ptr<partition_log>> partition_log::open(std::filesystem::path dir, log_config config, clock_fn clock,
                                                           std::shared_ptr<log_dir_health> health, bool clean_shutdown) {
  std::unique_ptr<partition_log> log(new partition_log(std::move(dir), config, std::move(clock), std::move(health)));
  std::error_code ec;
  std::filesystem::create_directories(log->dir_, ec);
  if (ec) return storage_error("cannot create " + log->dir_.string() + ": " + ec.message());
  if (auto r = log->load(clean_shutdown); !r) return r.err();
  return log;
}

result<void> partition_log::load(bool clean_shutdown) {
  int64_t now = clock_();
  auto cp = read_checkpoint(dir_ / format::partition_checkpoint_name);

  std::vector<int64_t> bases;
  std::vector<std::filesystem::path> index_files;
  std::vector<int64_t> swaps;                         // <base>.log.swap: committed compaction swaps
  std::vector<std::filesystem::path> index_swaps;     // <base>.index.swap, <base>.timeindex.swap
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    auto name = entry.path().filename().string();
    auto ext = entry.path().extension().string();
    auto stem = entry.path().stem().string();
    if (ext == format::temp_suffix || ext == format::cleaned_suffix) {
      (void)os::remove_path(entry.path());  // an unfinished checkpoint replacement or cleaned segment
    } else if (ext == format::swap_suffix) {
      std::filesystem::path inner(stem);
      if (inner.extension() == format::log_suffix) {
        if (auto base = parse_base_offset(inner.stem().string())) swaps.push_back(*base);
      } else {
        index_swaps.push_back(entry.path());
      }
    } else if (ext == format::log_suffix) {
      if (auto base = parse_base_offset(stem)) bases.push_back(*base);
    } else if (ext == format::index_suffix || ext == format::time_index_suffix || ext == format::txn_index_suffix) {
      index_files.push_back(entry.path());
    }
  }
  if (ec) return storage_error("cannot list " + dir_.string() + ": " + ec.message());
  std::sort(bases.begin(), bases.end());
  std::sort(swaps.begin(), swaps.end());
  for (const auto& p : index_swaps) {  // a swap that never committed: its .log was not renamed yet
    auto base = parse_base_offset(std::filesystem::path(p.stem()).stem().string());
    if (!base || !std::binary_search(swaps.begin(), swaps.end(), *base)) (void)os::remove_path(p);
  }
  if (auto r = complete_swaps(swaps, bases, now); !r) return r;
  for (const auto& p : index_files) {  // index files whose log is gone
    auto base = parse_base_offset(p.stem().string());
    if (!base || !std::binary_search(bases.begin(), bases.end(), *base)) (void)os::remove_path(p);
  }

  int64_t recovery_point = cp ? cp->recovery_point : 0;
  if (!cp && !clean_shutdown && !bases.empty())
    spdlog::info("{}: no valid checkpoint, recovering every segment", dir_.string());
  for (size_t i = 0; i < bases.size(); ++i) {
    auto seg = segment::open(dir_, bases[i], now);
    if (!seg) return seg.err();
    bool is_last = i + 1 == bases.size();
    bool beyond_recovery_point = is_last || bases[i + 1] > recovery_point;
    bool loaded = false;
    if (clean_shutdown || !beyond_recovery_point) {
      auto ok = (*seg)->load(config_.index_interval_bytes);
      if (!ok) return ok.err();
      loaded = *ok;
      if (!loaded)
        spdlog::warn("{}: segment {} has missing or inconsistent index files or an invalid tail; rebuilding",
                     dir_.string(), segment::file_stem(bases[i]));
    }
    if (!loaded) {
      auto rec = (*seg)->recover(config_.index_interval_bytes);
      if (!rec) return rec.err();
      open_report_.recovered = true;
      if (rec->truncated_bytes > 0) {
        open_report_.truncated_bytes += rec->truncated_bytes;
        spdlog::warn("{}: segment {}: cut {} bytes after position {} (offsets from {} on): {}", dir_.string(),
                     segment::file_stem(bases[i]), rec->truncated_bytes, rec->valid_bytes, (*seg)->next_offset(),
                     rec->reason);
      }
      segments_.push_back(std::move(*seg));
      if (rec->truncated_bytes > 0 && !is_last) {
        // The log after a cut is unreachable by offset: drop the later segments, as Kafka does.
        for (size_t j = i + 1; j < bases.size(); ++j) {
          auto later = segment::open(dir_, bases[j], now);
          if (later) (void)(*later)->remove_files();
          spdlog::warn("{}: deleted segment {} that followed the cut", dir_.string(), segment::file_stem(bases[j]));
          ++open_report_.segments_deleted;
        }
        dir_dirty_ = true;
        break;
      }
      continue;
    }
    segments_.push_back(std::move(*seg));
  }

  // Empty segments other than the last are kept: compaction leaves them where every record of a group was
  // removed, and dropping the first would move the log start offset. Reads skip them like any gap.

  if (segments_.empty()) {
    int64_t base = cp ? std::max(cp->log_start_offset, int64_t{0}) : 0;
    auto seg = segment::create(dir_, base, now, config_.preallocate ? effective_segment_bytes(config_) : 0);
    if (!seg) return seg.err();
    segments_.push_back(std::move(*seg));
    dir_dirty_ = true;
  }
  for (size_t i = 0; i + 1 < segments_.size(); ++i) segments_[i]->mark_inactive();
  int64_t leo = log_end_offset();
  log_start_offset_ = std::clamp(cp ? cp->log_start_offset : 0, segments_.front()->base_offset(), leo);
  // Every segment is now either trusted (clean or below the old recovery point) or recovered and synced.
  recovery_point_ = leo;
  // Every .txnindex entry of a marker below the old recovery point was synced with it (segment::flush).
  txn_rebuild_from_ = clean_shutdown ? leo : std::min(recovery_point, leo);
  last_flush_ms_ = now;
  if (auto cleaned_to = read_cleaner_checkpoint(dir_ / format::cleaner_checkpoint_name))
    first_dirty_offset_ = std::clamp(*cleaned_to, log_start_offset_, leo);
  if (dir_dirty_) {
    if (auto st = sync_directory(); !st) return fail(st);
    dir_dirty_ = false;
    for (auto& seg : segments_) seg->mark_entry_durable();
  }
  if (open_report_.recovered)
    spdlog::info("{}: recovered; log start offset {}, log end offset {}", dir_.string(), log_start_offset_, leo);
  return write_checkpoint(true);
}

int64_t partition_log::log_end_offset() const { return active().next_offset(); }

uint64_t partition_log::size_bytes() const {
  uint64_t total = 0;
  for (const auto& s : segments_) total += s->size_bytes();
  return total;
}

std::vector<int64_t> partition_log::segment_base_offsets() const {
  std::vector<int64_t> out;
  for (const auto& s : segments_) out.push_back(s->base_offset());
  return out;
}

void partition_log::set_config(const log_config& config) {
  const bool fsync = config_.fsync;  // the log dir's, not a topic config
  config_ = config;
  config_.fsync = fsync;
}

os::io_status partition_log::sync_directory() const {
  if (!config_.fsync) return {};
  return os::sync_directory(dir_);
}

result<void> partition_log::fail(const os::io_status& st, std::string_view context) {
  // Running out of descriptors or memory fails this call only: the data on disk is intact.
  if (st.resource_exhausted()) return storage_error(dir_.string() + ": " + st.message() + std::string(context));
  return fail(st.message() + std::string(context));
}

result<void> partition_log::fail(const std::string& what) {
  health_->mark_failed(dir_.string() + ": " + what);
  return storage_error(dir_.string() + ": " + what);
}

result<void> partition_log::write_checkpoint(bool sync) {
  partition_checkpoint record;
  record.recovery_point = recovery_point_;
  record.log_start_offset = log_start_offset_;
  const auto buf = encode_checkpoint_file(format::checkpoint_magic, record, format::checkpoint_version);
  auto path = dir_ / format::partition_checkpoint_name;
  auto tmp = path;
  tmp += format::temp_suffix;
  os::file_handle f;
  if (auto st = os::open_file(tmp, os::open_mode::create_truncate, f); !st) return storage_error(st.message());
  if (auto st = os::write_at(f, buf, 0); !st) return storage_error(st.message());
  if (sync && config_.fsync) {
    if (auto st = os::sync_data(f); !st) return fail(st);
  }
  f.close();
  if (auto st = os::rename_path(tmp, path); !st) return storage_error(st.message());
  if (sync) {
    if (auto st = sync_directory(); !st) return fail(st);
    for (auto& seg : segments_) seg->mark_entry_durable();
    synced_checkpoint_ = std::make_pair(recovery_point_, log_start_offset_);
  } else {
    synced_checkpoint_.reset();
  }
  return {};
}

result<append_result> partition_log::append(std::span<uint8_t> batches, int32_t leader_epoch, bool crc_verified) {
  if (closed_) return storage_error(dir_.string() + ": log is closed");
  if (health_->failed()) return storage_error("log dir has failed: " + health_->reason());
  int64_t now = clock_();
  int64_t segment_bytes = effective_segment_bytes(config_);

  // Validate everything before touching anything, so a bad batch rejects the whole request.
  std::vector<batch_info> infos;
  for (size_t pos = 0; pos < batches.size();) {
    auto view = common::record_batch_view::parse(std::span<const uint8_t>(batches).subspan(pos));
    if (!view) return view.err();
    if (!crc_verified) {
      if (auto valid = view->validate(); !valid) return valid.err();
    }
    if (view->size_bytes() > static_cast<uint64_t>(config_.max_message_bytes))
      return error{kafka_error::message_too_large, "record batch of " + std::to_string(view->size_bytes()) +
                                                       " bytes exceeds max.message.bytes " +
                                                       std::to_string(config_.max_message_bytes)};
    if (static_cast<int64_t>(view->size_bytes()) > segment_bytes)
      return error{kafka_error::record_list_too_large, "record batch larger than segment.bytes"};
    if (view->last_offset_delta() < 0 || view->record_count() != view->last_offset_delta() + 1)
      return error{kafka_error::invalid_record, "record count " + std::to_string(view->record_count()) +
                                                    " does not match last offset delta " +
                                                    std::to_string(view->last_offset_delta())};
    infos.push_back({pos, static_cast<uint32_t>(view->size_bytes()), 0, view->last_offset_delta(), view->max_timestamp()});
    pos += view->size_bytes();
  }
  append_result out;
  out.log_start_offset = log_start_offset_;
  out.last_stable_offset = last_stable_offset();
  if (infos.empty()) return out;

  // Assign offsets by rewriting only the batch headers; the records are left as the producer encoded them.
  bool log_append_time = config_.message_timestamp_type == common::timestamp_type::log_append_time;
  int64_t next = log_end_offset();
  for (auto& b : infos) {
    auto bytes = batches.subspan(b.position, b.size);
    int64_t delta = b.last_offset;
    common::set_base_offset(bytes, next);
    if (leader_epoch >= 0) common::set_partition_leader_epoch(bytes, leader_epoch);
    if (log_append_time) {
      common::set_log_append_time(bytes, now);
      b.max_timestamp = now;
    }
    b.base_offset = next;
    b.last_offset = next + delta;
    next = b.last_offset + 1;
    out.record_count += delta + 1;
    out.max_timestamp = std::max(out.max_timestamp, b.max_timestamp);
  }
  out.first_offset = infos.front().base_offset;
  out.last_offset = infos.back().last_offset;
  out.batch_count = static_cast<int32_t>(infos.size());
  out.bytes = batches.size();
  if (log_append_time) out.log_append_time = now;

  const segment& seg = active();
  bool too_big = static_cast<int64_t>(seg.size_bytes() + batches.size()) > segment_bytes;
  bool too_old = seg.time_waited_for_roll(now, out.max_timestamp) > config_.segment_ms;
  bool offsets_overflow = out.last_offset - seg.base_offset() > static_cast<int64_t>(std::numeric_limits<int32_t>::max());
  if (!seg.empty() && (too_big || too_old || offsets_overflow)) {
    if (auto r = roll(now); !r) return r.err();
  }

  bool restored = true;
  os::io_status st;
  if (int injected = injected_fault(disk_op::append); injected != 0)
    st = os::io_status::failure(injected, dir_.string() + ": append (injected fault)");  // nothing written
  else
    st = active().append(batches, infos, config_.index_interval_bytes, restored);
  if (!st) {
    if (!restored) {
      auto r = fail(st, ", and cutting the partial write failed");
      return r.err();
    }
    if (st.no_space()) return storage_error(dir_.string() + ": disk full, nothing appended: " + st.message());
    return fail(st).err();
  }
  if (auto r = track_producers(batches); !r) return r.err();
  out.last_stable_offset = last_stable_offset();
  unflushed_messages_ += out.record_count;
  if (unflushed_messages_ >= config_.flush_messages || now - last_flush_ms_ >= config_.flush_ms) {
    if (auto r = flush(); !r) return r.err();
  }
  return out;
}

result<void> partition_log::track_producers(std::span<const uint8_t> written) {
  for (const auto& txn : producers_.replay(written)) {
    if (auto r = active().append_aborted_txn(txn); !r) {
      if (r.code() == kafka_error::kafka_storage_error) return fail(r.err().message);
      return r;
    }
  }
  return {};
}

result<append_result> partition_log::append_marker(int64_t producer_id, int16_t producer_epoch, bool commit,
                                                   int32_t coordinator_epoch, int32_t leader_epoch,
                                                   int16_t transaction_version) {
  if (closed_) return storage_error(dir_.string() + ": log is closed");
  if (health_->failed()) return storage_error("log dir has failed: " + health_->reason());
  if (producer_id < 0) return error{kafka_error::invalid_request, "a transaction marker needs a producer id"};
  if (auto r = producers_.check_marker(producer_id, producer_epoch, coordinator_epoch, transaction_version); !r)
    return r.err();
  common::marker_batch_fields fields;
  fields.producer_id = producer_id;
  fields.producer_epoch = producer_epoch;
  fields.timestamp = clock_();
  auto batch = common::encode_end_txn_marker(
      fields, {commit ? common::control_record_type::commit : common::control_record_type::abort, coordinator_epoch});
  return append(batch, leader_epoch, /*crc_verified=*/true);
}

int64_t partition_log::last_stable_offset() const {
  const int64_t hw = high_watermark();
  auto first_unstable = producers_.first_unstable_offset();
  if (!first_unstable || *first_unstable >= hw) return hw;
  return std::max(*first_unstable, log_start_offset_);
}

result<void> partition_log::load_producer_state(std::optional<producer_state_table> snapshot) {
  const int64_t leo = log_end_offset();
  const bool usable = snapshot && snapshot->covered_offset() <= txn_rebuild_from_ && snapshot->covered_offset() <= leo;
  if (snapshot && !usable)
    spdlog::info("{}: producer state saved at offset {} is past offset {} (recovered or log end {}); rebuilding it "
                 "from the log start",
                 dir_.string(), snapshot->covered_offset(), txn_rebuild_from_, leo);
  producers_ = usable ? std::move(*snapshot) : producer_state_table{};
  int64_t next = std::max(producers_.covered_offset(), log_start_offset_);
  while (next < leo) {
    auto got = read(next, 1 << 20);
    if (!got) return got.err();
    if (got->region.length == 0) break;
    auto bytes = got->region.load();
    if (!bytes) return bytes.err();
    for (const auto& txn : producers_.replay(*bytes)) {
      auto* seg = const_cast<segment*>(segment_for(txn.last_offset));
      if (!seg) continue;
      const auto& have = seg->txn_index().entries();
      if (!have.empty() && have.back().last_offset >= txn.last_offset) continue;  // already indexed
      if (auto r = seg->append_aborted_txn(txn); !r) return r;
      spdlog::info("{}: restored the aborted transaction of producer {} at offsets {} to {} in the transaction index",
                   dir_.string(), txn.producer_id, txn.first_offset, txn.last_offset);
    }
    next = std::max(next + 1, got->region.next_offset);
  }
  producers_.set_covered_offset(leo);
  txn_rebuild_from_ = leo;
  return {};
}

result<void> partition_log::roll(int64_t now) {
  int64_t base = log_end_offset();
  bool transient = false;
  auto seg = segment::create(dir_, base, now, config_.preallocate ? effective_segment_bytes(config_) : 0, &transient);
  if (!seg) {
    // A full disk or a lack of descriptors is transient; anything else leaves the dir in an unknown state.
    if (transient) return seg.err();
    return fail(seg.err().message);
  }
  spdlog::debug("{}: rolled to segment {}", dir_.string(), segment::file_stem(base));
  active().mark_inactive();
  segments_.push_back(std::move(*seg));
  dir_dirty_ = true;
  return {};
}

const segment* partition_log::segment_for(int64_t offset) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](int64_t o, const std::unique_ptr<segment>& s) { return o < s->base_offset(); });
  return it == segments_.begin() ? nullptr : std::prev(it)->get();
}

result<read_result> partition_log::read(int64_t offset, uint64_t max_bytes, isolation_level isolation) const {
  read_result out;
  out.log_start_offset = log_start_offset_;
  out.log_end_offset = log_end_offset();
  out.last_stable_offset = last_stable_offset();
  if (offset < log_start_offset_ || offset > out.log_end_offset)
    return error{kafka_error::offset_out_of_range,
                 "offset " + std::to_string(offset) + " outside [" + std::to_string(log_start_offset_) + ", " +
                     std::to_string(out.log_end_offset) + "]"};
  const bool committed = isolation == isolation_level::read_committed;
  if (committed) out.aborted_transactions.emplace();
  // read_committed reads below the last stable offset only (the first offset of a batch, or the log end).
  const int64_t limit = committed ? out.last_stable_offset : out.log_end_offset;
  if (offset >= limit) return out;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](int64_t o, const std::unique_ptr<segment>& s) { return o < s->base_offset(); });
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    const segment& seg = **it;
    auto batch = seg.find_batch(offset);
    if (!batch) return batch.err();
    if (!*batch) continue;  // offset falls in a gap after this segment's data
    if ((*batch)->base_offset >= limit) return out;  // a gap up to the last stable offset
    uint64_t bytes = max_bytes;
    if (limit < seg.next_offset()) {  // the last stable offset lies in this segment: stop at its batch
      auto stop = seg.find_batch(limit);
      if (!stop) return stop.err();
      if (*stop) bytes = std::min<uint64_t>(bytes, (*stop)->position - (*batch)->position);
    }
    auto bounds = seg.region_end((*batch)->position, bytes);
    if (!bounds) return bounds.err();
    out.region.file = seg.log_file();
    out.region.path = seg.log_path();
    out.region.position = (*batch)->position;
    out.region.length = bounds->end - (*batch)->position;
    out.region.first_offset = (*batch)->base_offset;
    out.region.next_offset = bounds->next_offset;
    if (committed) {
      // Kafka's collectAbortedTransactions: this segment's index, then the later ones', until an entry's
      // last stable offset shows that no later transaction can overlap [offset, upper bound).
      const int64_t upper = out.region.next_offset;
      for (auto s = it; s != segments_.end(); ++s) {
        auto found = (*s)->txn_index().collect(offset, upper);
        for (const auto& t : found.txns) out.aborted_transactions->push_back({t.producer_id, t.first_offset});
        if (found.complete) break;
      }
    }
    return out;
  }
  return out;
}

result<std::optional<timestamp_and_offset>> partition_log::offset_for_timestamp(int64_t ts) const {
  for (const auto& s : segments_) {
    if (s->next_offset() <= log_start_offset_ || s->max_timestamp() < ts) continue;
    auto r = s->find_offset_by_timestamp(ts, log_start_offset_);
    if (!r || *r) return r;
  }
  return std::optional<timestamp_and_offset>{};
}

result<std::optional<timestamp_and_offset>> partition_log::max_timestamp() const {
  const segment* best = nullptr;
  for (const auto& s : segments_) {
    if (!best || s->max_timestamp() > best->max_timestamp()) best = s.get();
  }
  if (!best) return std::optional<timestamp_and_offset>{};
  return best->max_timestamp_record();
}

result<void> partition_log::delete_oldest_segments(size_t count) {
  for (size_t i = 0; i < count; ++i) {
    auto& seg = segments_.front();
    spdlog::info("{}: deleting segment {} (offsets {} to {})", dir_.string(), segment::file_stem(seg->base_offset()),
                 seg->base_offset(), seg->next_offset() - 1);
    if (auto st = seg->remove_files(); !st) return fail(st);
    segments_.erase(segments_.begin());
    dir_dirty_ = true;
  }
  return {};
}

result<int64_t> partition_log::delete_records_before(int64_t offset) {
  if (closed_ || health_->failed()) return storage_error("log dir has failed: " + health_->reason());
  int64_t leo = log_end_offset();
  if (offset == -1) offset = leo;
  if (offset < 0 || offset > leo)
    return error{kafka_error::offset_out_of_range,
                 "cannot delete records before " + std::to_string(offset) + ": log end offset is " + std::to_string(leo)};
  if (offset <= log_start_offset_) return log_start_offset_;
  log_start_offset_ = offset;
  // DeleteRecords is acknowledged: the new start must survive a crash.
  if (auto r = write_checkpoint(true); !r) return r.err();
  auto deleted = enforce_retention();
  if (!deleted) return deleted.err();
  return log_start_offset_;
}

result<int32_t> partition_log::enforce_retention() {
  if (closed_ || health_->failed()) return storage_error("log dir has failed: " + health_->reason());
  int64_t now = clock_();
  uint64_t total = size_bytes();
  int64_t over_size = config_.retention_bytes >= 0 ? static_cast<int64_t>(total) - config_.retention_bytes : -1;
  size_t count = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const segment& s = *segments_[i];
    bool is_active = i + 1 == segments_.size();
    if (is_active && s.empty()) break;
    // As Kafka's deleteLogStartOffsetBreachedSegments: a segment is below the log start when the next
    // one starts at or before it; the active segment never is (it stays until it rolls).
    bool below_start = !is_active && segments_[i + 1]->base_offset() <= log_start_offset_;
    bool expired = config_.cleanup_delete && config_.retention_ms >= 0 && now - s.max_timestamp() > config_.retention_ms;
    bool over = config_.cleanup_delete && over_size >= 0 && over_size - static_cast<int64_t>(s.size_bytes()) >= 0;
    if (!(below_start || expired || over)) break;
    if (over) over_size -= static_cast<int64_t>(s.size_bytes());
    ++count;
  }
  if (count == 0) return 0;
  if (count == segments_.size()) {
    if (auto r = roll(now); !r) return r.err();
  }
  if (auto r = delete_oldest_segments(count); !r) return r.err();
  if (segments_.front()->base_offset() > log_start_offset_) {
    log_start_offset_ = segments_.front()->base_offset();
    if (auto r = write_checkpoint(false); !r) return r.err();
  }
  return static_cast<int32_t>(count);
}

// Finishes the compaction swaps a crash interrupted after they committed (log/format.hpp): the old segments
// of each group go, the swap files take their final names.
result<void> partition_log::complete_swaps(const std::vector<int64_t>& swaps, std::vector<int64_t>& bases, int64_t now) {
  for (int64_t b : swaps) {
    auto seg = segment::open(dir_, b, now, format::swap_suffix);
    if (!seg) return seg.err();
    auto rec = (*seg)->recover(config_.index_interval_bytes);
    if (!rec) return rec.err();
    int64_t end = std::max((*seg)->next_offset(), b + 1);
    for (auto it = bases.begin(); it != bases.end();) {
      if (*it >= b && *it < end) {
        auto old = segment::open(dir_, *it, now);
        if (!old) return old.err();
        if (auto st = (*old)->remove_files(); !st) return storage_error(st.message());
        it = bases.erase(it);
      } else {
        ++it;
      }
    }
    if (auto st = (*seg)->rename_files(""); !st) return storage_error(st.message());
    bases.insert(std::upper_bound(bases.begin(), bases.end(), b), b);
    spdlog::warn("{}: completed the compaction swap of segment {} left by a crash", dir_.string(), segment::file_stem(b));
    open_report_.recovered = true;
    dir_dirty_ = true;
  }
  return {};
}

compaction_plan partition_log::prepare_compaction(int64_t now) const {
  compaction_plan plan;
  plan.dir = dir_;
  plan.now_ms = now;
  plan.delete_retention_ms = config_.delete_retention_ms;
  plan.index_interval_bytes = config_.index_interval_bytes;
  plan.max_message_bytes = config_.max_message_bytes;
  plan.fsync = config_.fsync;
  if (!config_.cleanup_compact || closed_ || health_->failed() || segments_.size() < 2) return plan;
  // The first segment not to clean: the active one, or the first still within min.compaction.lag.ms.
  size_t limit = segments_.size() - 1;
  if (config_.min_compaction_lag_ms > 0) {
    for (size_t i = 0; i < limit; ++i) {
      if (segments_[i]->max_timestamp() > now - config_.min_compaction_lag_ms) {
        limit = i;
        break;
      }
    }
  }
  // Nothing at or past the last stable offset is cleaned (Kafka's firstUncleanableDirtyOffset): whether
  // those transactions commit or abort is not known yet.
  const int64_t lso = last_stable_offset();
  while (limit > 0 && segments_[limit]->base_offset() > lso) --limit;
  if (limit == 0) return plan;
  int64_t end = segments_[limit]->base_offset();
  int64_t first_dirty = std::clamp(first_dirty_offset(), segments_.front()->base_offset(), end);
  uint64_t dirty = 0, total = 0;
  const segment* first_dirty_segment = nullptr;
  for (size_t i = 0; i < limit; ++i) {
    const segment& s = *segments_[i];
    total += s.size_bytes();
    if (segments_[i + 1]->base_offset() > first_dirty) {
      dirty += s.size_bytes();
      if (!first_dirty_segment && !s.empty()) first_dirty_segment = &s;
    }
  }
  bool due = dirty > 0 && static_cast<double>(dirty) / static_cast<double>(total) > config_.min_cleanable_dirty_ratio;
  // max.compaction.lag.ms: a dirty record may not wait longer than this to be cleaned.
  if (!due && first_dirty_segment && first_dirty_segment->first_batch_timestamp() >= 0 &&
      now - first_dirty_segment->first_batch_timestamp() > config_.max_compaction_lag_ms)
    due = true;
  // Tombstones past their delete horizon are waiting to be removed.
  if (!due && earliest_delete_horizon_ && *earliest_delete_horizon_ <= now) due = true;
  if (!due) return plan;

  // Groups of consecutive segments, each small enough to become one segment: within segment.bytes (as
  // they are now: cleaning only shrinks them) and within the uint32 relative offsets of the indexes.
  int64_t segment_bytes = effective_segment_bytes(config_);
  uint64_t group_bytes = 0;
  for (size_t i = 0; i < limit; ++i) {
    const segment& s = *segments_[i];
    compaction_input in{s.base_offset(), segments_[i + 1]->base_offset(), s.size_bytes(), s.log_file()};
    bool fits = !plan.groups.empty() && group_bytes + s.size_bytes() <= static_cast<uint64_t>(segment_bytes) &&
                in.end_offset - 1 - plan.groups.back().front().base_offset <= std::numeric_limits<int32_t>::max();
    if (!fits) {
      plan.groups.emplace_back();
      group_bytes = 0;
    }
    plan.groups.back().push_back(std::move(in));
    group_bytes += s.size_bytes();
  }
  plan.first_dirty_offset = first_dirty;
  plan.end_offset = end;
  // The aborted transactions overlapping the cleaned range, from its segments' .txnindex files and the
  // later ones' (a transaction may be aborted by a marker past the range).
  const int64_t start = segments_.front()->base_offset();
  for (const auto& s : segments_) {
    auto found = s->txn_index().collect(start, end);
    plan.aborted_txns.insert(plan.aborted_txns.end(), found.txns.begin(), found.txns.end());
    if (found.complete) break;
  }
  for (const auto& [id, entry] : producers_.entries())
    plan.active_producers[id] = entry.batches.empty() ? -1 : entry.batches.back().last_offset;
  return plan;
}

result<int32_t> partition_log::commit_compaction(compaction_result cleaned) {
  if (closed_ || health_->failed()) return storage_error("log dir has failed: " + health_->reason());
  if (cleaned.dir != dir_) return error{kafka_error::invalid_request, "compaction result of another log"};
  // Match each group with the segments it was built from; retention may have deleted some meanwhile.
  struct match {
    size_t first;
    compacted_group* group;
  };
  std::vector<match> matches;
  bool skipped = false;
  for (auto& g : cleaned.groups) {
    auto it = std::find_if(segments_.begin(), segments_.end(),
                           [&](const auto& s) { return s->log_file() == g.replaced.front().file; });
    size_t first = static_cast<size_t>(it - segments_.begin());
    bool intact = it != segments_.end() && first + g.replaced.size() < segments_.size();
    for (size_t k = 0; intact && k < g.replaced.size(); ++k) {
      const segment& s = *segments_[first + k];
      intact = s.log_file() == g.replaced[k].file && s.size_bytes() == g.replaced[k].size_bytes;
    }
    if (!intact) {
      skipped = true;
      continue;
    }
    matches.push_back({first, &g});
  }
  if (matches.empty()) {
    if (!skipped) note_cleaned(cleaned);  // nothing needed rewriting
    return 0;
  }
  // Commit point: every group's .swap files in place and the directory synced.
  for (auto& m : matches)
    if (auto st = m.group->cleaned->rename_files(format::swap_suffix); !st) return fail(st).err();
  if (auto st = sync_directory(); !st) return fail(st).err();
  for (auto& m : matches)
    for (size_t k = 0; k < m.group->replaced.size(); ++k)
      if (auto st = segments_[m.first + k]->remove_files(); !st) return fail(st).err();
  for (auto& m : matches)
    if (auto st = m.group->cleaned->rename_files(""); !st) return fail(st).err();
  if (auto st = sync_directory(); !st) return fail(st).err();

  int32_t replaced = 0;
  std::sort(matches.begin(), matches.end(), [](const match& a, const match& b) { return a.first > b.first; });
  for (auto& m : matches) {  // from the back, so the earlier positions stay valid
    auto from = segments_.begin() + static_cast<std::ptrdiff_t>(m.first);
    segments_.erase(from, from + static_cast<std::ptrdiff_t>(m.group->replaced.size()));
    m.group->cleaned->mark_inactive();
    m.group->cleaned->mark_entry_durable();  // renamed into place before the directory sync above
    segments_.insert(segments_.begin() + static_cast<std::ptrdiff_t>(m.first), std::move(m.group->cleaned));
    replaced += static_cast<int32_t>(m.group->replaced.size());
  }
  if (!skipped) {
    note_cleaned(cleaned);
  } else if (cleaned.earliest_delete_horizon) {
    earliest_delete_horizon_ = std::min(earliest_delete_horizon_.value_or(*cleaned.earliest_delete_horizon),
                                        *cleaned.earliest_delete_horizon);
  }
  spdlog::info("{}: compacted {} segment(s) below offset {}: {} of {} records removed, {} -> {} bytes", dir_.string(),
               replaced, cleaned.end_offset, cleaned.stats.records_removed, cleaned.stats.records_read,
               cleaned.stats.bytes_before, cleaned.stats.bytes_after);
  return replaced;
}

void partition_log::note_cleaned(const compaction_result& cleaned) {
  first_dirty_offset_ = std::max(first_dirty_offset_, cleaned.end_offset);
  earliest_delete_horizon_ = cleaned.earliest_delete_horizon;
  // Only saves work after a restart (a stale or missing file means re-cleaning more), so it is not synced;
  // everything below the offset it names is in cleaned segments that were synced before the swap.
  cleaner_checkpoint record;
  record.first_dirty_offset = first_dirty_offset_;
  const auto buf = encode_checkpoint_file(format::cleaner_checkpoint_magic, record, format::cleaner_checkpoint_version);
  auto path = dir_ / format::cleaner_checkpoint_name;
  auto tmp = path;
  tmp += format::temp_suffix;
  os::file_handle f;
  os::io_status st = os::open_file(tmp, os::open_mode::create_truncate, f);
  if (st) st = os::write_at(f, buf, 0);
  f.close();
  if (st) st = os::rename_path(tmp, path);
  if (!st) spdlog::warn("{}: could not write the cleaner checkpoint: {}", dir_.string(), st.message());
}

result<void> partition_log::flush() {
  if (health_->failed()) return storage_error("log dir has failed: " + health_->reason());
  for (auto& s : segments_) {
    if (!s->has_unflushed_data()) continue;
    if (int injected = injected_fault(disk_op::fsync); injected != 0)
      return fail(os::io_status::failure(injected, dir_.string() + ": fdatasync (injected fault)"));
    if (auto st = s->flush(config_.fsync); !st) return fail(st);
  }
  if (dir_dirty_) {
    if (auto st = sync_directory(); !st) return fail(st);
    dir_dirty_ = false;
    for (auto& seg : segments_) seg->mark_entry_durable();
  }
  recovery_point_ = log_end_offset();
  unflushed_messages_ = 0;
  last_flush_ms_ = clock_();
  // The checkpoint only shortens the next recovery, and a stale one is safe, so it is rewritten by
  // maybe_flush() (periodically) and close(), not on every flush: acks=all flushes often.
  return {};
}

result<void> partition_log::maybe_flush() {
  if (recovery_point_ > checkpointed_recovery_point_) {
    if (auto r = write_checkpoint(false); !r)
      spdlog::warn("{}: could not write the checkpoint: {}", dir_.string(), r.err().message);
    else
      checkpointed_recovery_point_ = recovery_point_;
  }
  if (recovery_point_ >= log_end_offset() && !dir_dirty_) return {};
  if (clock_() - last_flush_ms_ < config_.flush_ms) return {};
  return flush();
}

result<void> partition_log::close() {
  if (closed_) return {};
  closed_ = true;
  if (health_->failed()) return storage_error("log dir has failed: " + health_->reason());
  if (auto r = flush(); !r) return r;
  for (auto& seg : segments_)
    if (auto st = seg->sync_pending_indexes(config_.fsync); !st) return fail(st);
  if (synced_checkpoint_ == std::make_pair(recovery_point_, log_start_offset_)) return {};
  return write_checkpoint(true);
}

std::vector<durable_extent> partition_log::durable_extents() const {
  std::vector<durable_extent> out;
  for (const auto& s : segments_)
    for (auto& e : s->durable_extents()) out.push_back(std::move(e));
  return out;
}

}  // namespace brook::log
