#include "log/compaction.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/compression.hpp"
#include "common/record_batch.hpp"
#include "log/format.hpp"
#include "log/storage_error.hpp"

namespace brook::log {

namespace os = common::os;
using common::bytes_view;
using common::error;
using common::kafka_error;
using common::record_batch_view;
using common::result;

namespace {

constexpr size_t read_chunk_bytes = 1 << 20;
constexpr size_t write_chunk_bytes = 1 << 20;

// Calls on_batch for each batch of the segment, in order. The view is valid during the call only.
result<void> for_each_batch(const compaction_input& in, const std::function<result<void>(const record_batch_view&)>& on_batch) {
  std::vector<uint8_t> buf;
  uint64_t buf_pos = 0;
  uint64_t pos = 0;
  auto ensure = [&](uint64_t p, uint64_t n) -> result<bool> {
    if (p + n > in.size_bytes) return false;
    if (p >= buf_pos && p + n <= buf_pos + buf.size()) return true;
    uint64_t want = std::min<uint64_t>(std::max<uint64_t>(n, read_chunk_bytes), in.size_bytes - p);
    buf.resize(want);
    size_t got = 0;
    if (auto st = os::read_at(*in.file, buf, p, got); !st) return storage_error(st.message());
    buf.resize(got);
    buf_pos = p;
    return got >= n;
  };
  while (pos < in.size_bytes) {
    auto have = ensure(pos, format::batch::log_overhead);
    if (!have) return have.err();
    if (!*have) return error{kafka_error::corrupt_message, "segment ends inside a batch header"};
    auto size = record_batch_view::peek_size(bytes_view(buf).subspan(pos - buf_pos));
    if (!size) return error{kafka_error::corrupt_message, "invalid batch length in a closed segment"};
    have = ensure(pos, *size);
    if (!have) return have.err();
    if (!*have) return error{kafka_error::corrupt_message, "segment ends inside a batch"};
    auto view = record_batch_view::parse(bytes_view(buf).subspan(pos - buf_pos, *size));
    if (!view) return view.err();
    if (auto r = on_batch(*view); !r) return r;
    pos += *size;
  }
  return {};
}

std::string key_string(bytes_view key) { return std::string(reinterpret_cast<const char*>(key.data()), key.size()); }

// The transactions of a range being cleaned, as Kafka's CleanedTransactionMetadata tracks them: which
// batches belong to aborted transactions, and which markers still guard records.
struct cleaned_txn_tracker {
  struct open_abort {
    aborted_txn txn;
    bool batches_seen = false;
  };
  std::vector<aborted_txn> pending;  // not reached yet, by first offset
  size_t next = 0;
  std::unordered_map<int64_t, open_abort> aborted;  // producer id -> its aborted transaction being read
  std::unordered_set<int64_t> committed;            // producers whose (not aborted) transaction is being read

  cleaned_txn_tracker(const std::vector<aborted_txn>& all, int64_t from) {
    for (const auto& t : all)
      if (t.last_offset >= from) pending.push_back(t);
    std::stable_sort(pending.begin(), pending.end(),
                     [](const aborted_txn& a, const aborted_txn& b) { return a.first_offset < b.first_offset; });
  }

  void reach(int64_t offset) {
    for (; next < pending.size() && pending[next].first_offset <= offset; ++next)
      aborted.try_emplace(pending[next].producer_id, open_abort{pending[next]});
  }

  // Whether a data batch belongs to an aborted transaction (its records all go).
  bool on_data(const record_batch_view& b) {
    reach(b.last_offset());
    if (!b.is_transactional()) return false;
    if (auto it = aborted.find(b.producer_id()); it != aborted.end()) {
      it->second.batches_seen = true;
      return true;
    }
    committed.insert(b.producer_id());
    return false;
  }

  // Whether a control batch no longer guards anything. An ABORT marker whose transaction still had batches
  // here stays, and its index entry goes to *keep_entry.
  result<bool> on_control(const record_batch_view& b, std::optional<aborted_txn>& keep_entry) {
    reach(b.last_offset());
    if (b.record_count() == 0) return true;  // emptied by an earlier cleaning
    auto marker = common::decode_end_txn_marker(b);
    if (!marker) return marker.err();
    if (!*marker) return false;  // another control type: kept
    if ((*marker)->type == common::control_record_type::abort) {
      auto it = aborted.find(b.producer_id());
      if (it == aborted.end()) return true;
      const open_abort done = it->second;
      aborted.erase(it);
      if (!done.batches_seen) return true;
      keep_entry = done.txn;
      return false;
    }
    return committed.erase(b.producer_id()) == 0;
  }
};

struct cleaner {
  const compaction_plan& plan;
  std::unordered_map<std::string, int64_t> latest;  // key -> offset of its last record in the dirty part
  // Active producer id (plan.active_producers) -> base offset of its last data batch, when in the range
  std::unordered_map<int64_t, int64_t> last_batch_of_producer;
  // Active producer id -> base offset of its last batch in the range, markers included
  std::unordered_map<int64_t, int64_t> last_any_batch_of_producer;
  compaction_stats stats;
  std::optional<int64_t> earliest_delete_horizon;
  cleaned_txn_tracker* txns = nullptr;           // the group being written
  std::vector<aborted_txn> kept_aborted_entries;  // its cleaned .txnindex

  // Pass one: the key map (records of aborted transactions left out) and each producer's last batch.
  result<void> map_keys() {
    if (plan.groups.empty()) return {};
    cleaned_txn_tracker map_txns(plan.aborted_txns, plan.groups.front().front().base_offset);
    for (const auto& group : plan.groups) {
      for (const auto& seg : group) {
        bool dirty = seg.end_offset > plan.first_dirty_offset;
        auto r = for_each_batch(seg, [&](const record_batch_view& b) -> result<void> {
          const auto active = b.producer_id() >= 0 ? plan.active_producers.find(b.producer_id())
                                                   : plan.active_producers.end();
          if (active != plan.active_producers.end()) last_any_batch_of_producer[b.producer_id()] = b.base_offset();
          if (b.is_control()) {
            std::optional<aborted_txn> ignored;
            auto r = map_txns.on_control(b, ignored);
            return r ? result<void>{} : result<void>{r.err()};
          }
          if (active != plan.active_producers.end() && active->second == b.last_offset())
            last_batch_of_producer[b.producer_id()] = b.base_offset();
          if (map_txns.on_data(b)) return {};
          if (!dirty || b.last_offset() < plan.first_dirty_offset) return {};
          auto records = b.records(common::uncompressed_limit(b.record_count(), plan.max_message_bytes));
          if (!records) return records.err();
          while (true) {
            auto rec = records->next();
            if (!rec) return rec.err();
            if (!*rec) break;
            if ((*rec)->offset >= plan.first_dirty_offset && (*rec)->key) latest[key_string(*(*rec)->key)] = (*rec)->offset;
          }
          return {};
        });
        if (!r) return r;
      }
    }
    return {};
  }

  bool superseded(const common::record_view& r) const {
    auto it = latest.find(key_string(*r.key));
    return it != latest.end() && it->second > r.offset;
  }

  // The bytes to write for one batch: the batch itself, a rewritten one, or nothing.
  result<std::optional<std::vector<uint8_t>>> clean(const record_batch_view& b) {
    using out_t = std::optional<std::vector<uint8_t>>;
    ++stats.batches_read;
    auto original = [&] { return out_t(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end())); };
    if (b.is_control()) return clean_control(b);
    const bool aborted = txns && txns->on_data(b);
    auto records = b.records(common::uncompressed_limit(b.record_count(), plan.max_message_bytes));
    if (!records) return records.err();
    std::vector<common::record_view> kept;
    int32_t tombstones_kept = 0;
    int32_t total = 0;
    std::optional<int64_t> horizon;
    if (b.has_delete_horizon()) horizon = b.base_timestamp();
    while (true) {
      auto rec = records->next();
      if (!rec) return rec.err();
      if (!*rec) break;
      ++total;
      const auto& r = **rec;
      if (aborted || !r.key || superseded(r)) continue;
      if (!r.value) {
        if (horizon && plan.now_ms >= *horizon) {
          ++stats.tombstones_removed;
          continue;
        }
        ++tombstones_kept;
      }
      kept.push_back(r);
    }
    stats.records_read += total;
    stats.records_removed += total - static_cast<int32_t>(kept.size());
    bool set_horizon = tombstones_kept > 0 && !horizon;
    if (set_horizon) horizon = plan.now_ms + plan.delete_retention_ms;
    if (tombstones_kept > 0)
      earliest_delete_horizon = std::min(earliest_delete_horizon.value_or(*horizon), *horizon);
    if (total == 0) {  // emptied by an earlier cleaning: kept while it is an active producer's last batch
      if (keeps_empty(b, last_batch_of_producer)) return original();
      ++stats.batches_rewritten;
      return out_t{};
    }
    if (static_cast<int32_t>(kept.size()) == total && !set_horizon) return original();
    return rewrite(b, kept, horizon, last_batch_of_producer);
  }

  // A marker (control batch): kept while it guards records, then marked with a delete horizon, then dropped
  // (kept empty when it is the last batch of a producer still active: it carries the producer's epoch).
  result<std::optional<std::vector<uint8_t>>> clean_control(const record_batch_view& b) {
    using out_t = std::optional<std::vector<uint8_t>>;
    std::optional<aborted_txn> keep_entry;
    bool can_discard = false;
    if (txns) {
      auto r = txns->on_control(b, keep_entry);
      if (!r) return r.err();
      can_discard = *r;
    }
    if (keep_entry) kept_aborted_entries.push_back(*keep_entry);
    auto original = [&] { return out_t(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end())); };
    if (b.record_count() == 0) {  // emptied by an earlier cleaning, as above
      if (keeps_empty(b, last_any_batch_of_producer)) return original();
      ++stats.batches_rewritten;
      return out_t{};
    }
    if (!can_discard) return original();
    if (b.has_delete_horizon()) {
      if (plan.now_ms >= b.base_timestamp()) {
        ++stats.records_removed;
        return rewrite(b, {}, std::nullopt, last_any_batch_of_producer);
      }
      earliest_delete_horizon = std::min(earliest_delete_horizon.value_or(b.base_timestamp()), b.base_timestamp());
      return original();
    }
    auto records = b.records(common::uncompressed_limit(b.record_count(), plan.max_message_bytes));
    if (!records) return records.err();
    std::vector<common::record_view> kept;
    while (true) {
      auto rec = records->next();
      if (!rec) return rec.err();
      if (!*rec) break;
      kept.push_back(**rec);
    }
    const int64_t horizon = plan.now_ms + plan.delete_retention_ms;
    earliest_delete_horizon = std::min(earliest_delete_horizon.value_or(horizon), horizon);
    return rewrite(b, kept, horizon, last_any_batch_of_producer);
  }

  // Only an active producer's last batch is worth keeping empty: it carries its sequence numbers or epoch.
  static bool keeps_empty(const record_batch_view& b, const std::unordered_map<int64_t, int64_t>& last_of_producer) {
    auto last = last_of_producer.find(b.producer_id());
    return b.producer_id() >= 0 && last != last_of_producer.end() && last->second == b.base_offset();
  }

  // `b` re-encoded with only `kept`; with none, an empty batch if it is its producer's last in
  // `last_of_producer`, else nothing.
  result<std::optional<std::vector<uint8_t>>> rewrite(const record_batch_view& b,
                                                      const std::vector<common::record_view>& kept,
                                                      std::optional<int64_t> horizon,
                                                      const std::unordered_map<int64_t, int64_t>& last_of_producer) {
    using out_t = std::optional<std::vector<uint8_t>>;
    ++stats.batches_rewritten;
    namespace layout = common::batch_layout;
    common::batch_header_fields h;
    h.base_offset = b.base_offset();
    h.partition_leader_epoch = b.partition_leader_epoch();
    h.last_offset_delta = b.last_offset_delta();
    h.producer_id = b.producer_id();
    h.producer_epoch = b.producer_epoch();
    h.base_sequence = b.base_sequence();
    h.record_count = static_cast<int32_t>(kept.size());
    auto attributes = static_cast<uint16_t>(b.attributes());
    if (kept.empty()) {
      if (!keeps_empty(b, last_of_producer)) return out_t{};
      h.attributes = static_cast<int16_t>(attributes & ~(layout::compression_mask | layout::delete_horizon_bit));
      h.base_timestamp = h.max_timestamp = b.max_timestamp();
      return out_t(common::encode_batch(h, {}));
    }
    if (horizon) attributes |= layout::delete_horizon_bit;
    h.attributes = static_cast<int16_t>(attributes);
    h.base_timestamp = horizon ? *horizon : kept.front().timestamp;
    if (b.ts_type() == common::timestamp_type::log_append_time) {
      h.max_timestamp = b.max_timestamp();
    } else {
      h.max_timestamp = kept.front().timestamp;
      for (const auto& r : kept) h.max_timestamp = std::max(h.max_timestamp, r.timestamp);
    }
    std::vector<uint8_t> section;
    for (const auto& r : kept)
      common::append_record(section, r.attributes, r.timestamp - h.base_timestamp, r.offset_delta, r.key, r.value,
                            r.headers);
    auto packed = common::compress(b.compression(), section);
    if (!packed) return packed.err();
    return out_t(common::encode_batch(h, *packed));
  }

  // Pass two for one group: writes the survivors into a new .cleaned segment, flushed. Null when the group is
  // one segment that cleaning leaves byte for byte as it is (no point in swapping it).
  result<std::unique_ptr<segment>> write_group(const std::vector<compaction_input>& group) {
    int64_t changed_before = stats.batches_rewritten + stats.records_removed;
    cleaned_txn_tracker group_txns(plan.aborted_txns, group.front().base_offset);
    txns = &group_txns;
    kept_aborted_entries.clear();
    auto seg = segment::create(plan.dir, group.front().base_offset, plan.now_ms, 0, nullptr, format::cleaned_suffix);
    if (!seg) return seg.err();
    auto& out = **seg;
    std::vector<uint8_t> pending;
    std::vector<batch_info> infos;
    int64_t dropped_batches = 0;
    auto write_pending = [&]() -> result<void> {
      if (pending.empty()) return {};
      bool restored = true;
      if (auto st = out.append(pending, infos, plan.index_interval_bytes, restored); !st)
        return storage_error(out.log_path().string() + ": " + st.message());
      stats.bytes_after += pending.size();
      pending.clear();
      infos.clear();
      return {};
    };
    auto failed = [&](error e) -> result<std::unique_ptr<segment>> {
      (void)out.remove_files();
      return e;
    };
    for (const auto& in : group) {
      stats.bytes_before += in.size_bytes;
      auto r = for_each_batch(in, [&](const record_batch_view& b) -> result<void> {
        auto bytes = clean(b);
        if (!bytes) return bytes.err();
        if (!*bytes) {
          ++dropped_batches;
          return {};
        }
        auto view = record_batch_view(**bytes);
        infos.push_back({pending.size(), static_cast<uint32_t>((*bytes)->size()), view.base_offset(),
                         view.last_offset(), view.max_timestamp()});
        pending.insert(pending.end(), (*bytes)->begin(), (*bytes)->end());
        if (pending.size() >= write_chunk_bytes) return write_pending();
        return {};
      });
      if (!r) return failed(r.err());
    }
    if (auto r = write_pending(); !r) return failed(r.err());
    txns = nullptr;
    for (const auto& t : kept_aborted_entries)
      if (auto r = out.append_aborted_txn(t); !r) return failed(r.err());
    if (group.size() == 1 && dropped_batches == 0 && stats.batches_rewritten + stats.records_removed == changed_before) {
      (void)out.remove_files();
      return std::unique_ptr<segment>{};
    }
    if (auto st = out.flush(plan.fsync); !st) return failed(storage_error(out.log_path().string() + ": " + st.message()));
    return std::move(*seg);
  }
};

}  // namespace

compaction_result::~compaction_result() {
  for (auto& g : groups)
    if (g.cleaned) (void)g.cleaned->remove_files();
}

result<compaction_result> run_compaction(const compaction_plan& plan) {
  compaction_result out;
  out.dir = plan.dir;
  out.end_offset = plan.end_offset;
  if (plan.empty()) return out;
  cleaner c{plan, {}, {}, {}, {}, {}, nullptr, {}};
  if (auto r = c.map_keys(); !r) return r.err();
  for (const auto& group : plan.groups) {
    auto seg = c.write_group(group);
    if (!seg) return seg.err();  // `out` deletes the groups written so far
    if (*seg) out.groups.push_back({group, std::move(*seg)});
  }
  out.stats = c.stats;
  out.earliest_delete_horizon = c.earliest_delete_horizon;
  return out;
}

}  // namespace brook::log
