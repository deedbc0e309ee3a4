#include "log/compaction.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/record_batch.hpp"
#include "log/format.hpp"
#include "log/partition_log.hpp"
#include "tests/log/log_test_util.hpp"

using namespace brook::log;
using namespace brook::log::testing;
using brook::common::compression_codec;
using brook::common::record_batch_builder;
using brook::common::record_batch_view;
namespace fs = std::filesystem;
namespace layout = brook::common::batch_layout;

namespace {

using opt = std::optional<std::string>;

struct kv {
  opt key;
  opt value;
};

struct rec {
  int64_t offset;
  opt key;
  opt value;
  int64_t timestamp;
  bool operator==(const rec& o) const {
    return offset == o.offset && key == o.key && value == o.value && timestamp == o.timestamp;
  }
};

std::ostream& operator<<(std::ostream& os, const rec& r) {
  return os << "{" << r.offset << " " << r.key.value_or("<null>") << "=" << r.value.value_or("<null>") << " @"
            << r.timestamp << "}";
}

opt as_opt(const std::optional<brook::common::bytes_view>& b) {
  if (!b) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

struct batch_options {
  compression_codec codec = compression_codec::none;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool control = false;
};

// One batch of the given records, timestamps ts, ts+1, ...
std::vector<uint8_t> keyed(const std::vector<kv>& records, int64_t ts, batch_options o = {}) {
  record_batch_builder::options opts;
  opts.producer_id = o.producer_id;
  opts.producer_epoch = o.producer_epoch;
  opts.base_sequence = o.base_sequence;
  opts.control = o.control;
  record_batch_builder b(opts);
  for (size_t i = 0; i < records.size(); ++i) b.add(records[i].key, records[i].value, ts + static_cast<int64_t>(i));
  if (o.codec == compression_codec::none) return b.build();
  auto section = b.encode_records();
  auto packed = brook::common::compress(o.codec, section);
  REQUIRE(packed.ok());
  return b.build_with_records(o.codec, *packed);
}

struct compaction_fixture {
  scratch_dir dir;
  fake_clock clock;
  std::shared_ptr<log_dir_health> health = std::make_shared<log_dir_health>();
  log_config config;
  std::unique_ptr<partition_log> log;

  compaction_fixture() {
    config.segment_bytes = 1 << 20;
    config.segment_ms = -1;  // while appending, every batch gets its own segment (a segment "ages" at once)
    config.index_interval_bytes = 64;
    config.retention_ms = -1;
    config.cleanup_compact = true;
    config.cleanup_delete = false;
    config.delete_retention_ms = 10'000;
    open();
  }
  fs::path path() const { return dir.path / "t-0"; }
  void open(bool clean = false) {
    log.reset();
    auto opened = partition_log::open(path(), config, clock.fn(), health, clean);
    REQUIRE(opened.ok());
    log = std::move(opened).value();
  }
  // Forgets the log without flushing or a checkpoint, as a crash would, and opens it again.
  void crash_and_reopen() {
    log.reset();
    open(false);
  }
  append_result append(std::vector<uint8_t> batch) {
    auto r = log->append(batch);
    REQUIRE(r.ok());
    return *r;
  }
  void append_one(kv r) { append(keyed({std::move(r)}, clock.now)); }
  // 10 ms later each (a segment of its own while segment.ms is -1): `n` records of a transaction of
  // producer `pid` (epoch 0) from sequence `seq`, keys k0, k1, ...; and that producer's marker.
  void put_txn(int64_t pid, int32_t seq, int n, const std::string& tag) {
    clock.now += 10;
    append(make_producer_batch(pid, 0, seq, n, clock.now, true, tag));
  }
  void put_marker(int64_t pid, bool commit) {
    clock.now += 10;
    REQUIRE(log->append_marker(pid, 0, commit, 0).ok());
  }
  // Appends stop (or start again) rolling a new segment for every batch.
  void stop_rolling(bool again = false) {
    config.segment_ms = again ? -1 : 604800000;
    log->set_config(config);
  }
  compaction_result run(const compaction_plan& plan) {
    auto r = run_compaction(plan);
    REQUIRE(r.ok());
    return std::move(r).value();
  }
  // All three steps; returns how many segments were replaced.
  int32_t compact() {
    auto plan = log->prepare_compaction(clock.now);
    REQUIRE(!plan.empty());
    auto committed = log->commit_compaction(run(plan));
    REQUIRE(committed.ok());
    return *committed;
  }
  std::vector<std::vector<uint8_t>> batches() const {
    std::vector<std::vector<uint8_t>> out;
    int64_t offset = log->log_start_offset();
    while (offset < log->log_end_offset()) {
      auto r = log->read(offset, 1 << 20);
      REQUIRE(r.ok());
      REQUIRE(r->region.length > 0);
      auto bytes = r->region.load();
      REQUIRE(bytes.ok());
      for (size_t pos = 0; pos < bytes->size();) {
        auto view = record_batch_view::parse(std::span<const uint8_t>(*bytes).subspan(pos));
        REQUIRE(view.ok());
        REQUIRE(view->validate().ok());
        if (view->last_offset() >= offset) out.emplace_back(view->bytes().begin(), view->bytes().end());
        pos += view->size_bytes();
      }
      REQUIRE(r->region.next_offset > offset);
      offset = r->region.next_offset;
    }
    return out;
  }
  std::vector<rec> records() const {
    std::vector<rec> out;
    for (const auto& b : batches()) {
      auto view = record_batch_view::parse(b);
      REQUIRE(view.ok());
      auto it = view->records(1 << 30);
      REQUIRE(it.ok());
      while (true) {
        auto r = it->next();
        REQUIRE(r.ok());
        if (!*r) break;
        out.push_back({(*r)->offset, as_opt((*r)->key), as_opt((*r)->value), (*r)->timestamp});
      }
    }
    return out;
  }
  size_t files_with_suffix(std::string_view suffix) const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(path()))
      if (e.path().extension() == suffix) ++n;
    return n;
  }
};

}  // namespace

TEST_CASE("compaction keeps the latest record per key with its offset, the active segment is untouched") {
  compaction_fixture f;
  int64_t t = f.clock.now;
  f.append(keyed({{"k1", "a"}}, t));                            // 0
  f.append(keyed({{"k2", "b"}}, t));                            // 1
  f.append(keyed({{"k1", "c"}}, t));                            // 2
  f.append(keyed({{"k3", "d"}}, t));                            // 3
  f.append(keyed({{"k2", "e"}, {"k1", "f"}, {"k4", "g"}}, t));  // 4-6
  f.append(keyed({{"k1", "h"}, {"k1", "i"}}, t + 10));          // 7-8: the active segment
  REQUIRE(f.log->segment_count() == 6);
  auto before_active = f.log->segment_base_offsets().back();
  f.stop_rolling();
  CHECK(f.compact() == 5);
  CHECK(f.log->segment_count() == 2);  // the five closed segments fit into one
  CHECK(f.log->segment_base_offsets() == std::vector<int64_t>{0, before_active});
  CHECK(f.log->log_start_offset() == 0);
  CHECK(f.log->log_end_offset() == 9);
  CHECK(f.log->first_dirty_offset() == 7);
  std::vector<rec> expected = {{3, "k3", "d", t}, {4, "k2", "e", t}, {5, "k1", "f", t + 1}, {6, "k4", "g", t + 2},
                               {7, "k1", "h", t + 10}, {8, "k1", "i", t + 11}};
  CHECK(f.records() == expected);
  // Reading from an offset that was compacted away returns the next batch that is left.
  auto r = f.log->read(1, 1 << 20);
  REQUIRE(r.ok());
  CHECK(r->region.first_offset == 3);
  // Offsets keep being assigned after the log end.
  CHECK(f.append(keyed({{"k5", "j"}}, t)).first_offset == 9);
  // The swapped-in segment's files and indexes are what a restart finds, clean or not.
  auto now = f.records();
  REQUIRE(f.log->close().ok());
  f.open(true);
  CHECK(f.records() == now);
  CHECK(f.log->first_dirty_offset() == 7);  // from the cleaner checkpoint
  f.crash_and_reopen();
  CHECK(f.records() == now);
  CHECK(f.log->first_dirty_offset() == 7);
  fs::remove(f.path() / format::cleaner_checkpoint_name);
  f.crash_and_reopen();
  CHECK(f.log->first_dirty_offset() == 0);  // without it everything counts as dirty again
  CHECK(f.files_with_suffix(format::cleaned_suffix) == 0);
  CHECK(f.files_with_suffix(format::swap_suffix) == 0);
}

TEST_CASE("a rewritten batch keeps its base offset, last offset, producer fields and codec") {
  compaction_fixture f;
  int64_t t = f.clock.now;
  batch_options o;
  o.codec = compression_codec::gzip;
  o.producer_id = 42;
  o.producer_epoch = 3;
  o.base_sequence = 0;
  f.append(keyed({{"a", "1"}, {"b", "2"}, {"c", "3"}}, t, o));  // 0-2
  f.append(keyed({{"a", "4"}, {"c", "5"}}, t + 10));             // 3-4
  f.append(keyed({{"z", "active"}}, t + 20));
  f.stop_rolling();
  f.compact();
  auto batches = f.batches();
  REQUIRE(batches.size() == 3);
  auto first = record_batch_view::parse(batches[0]);
  REQUIRE(first.ok());
  CHECK(first->base_offset() == 0);
  CHECK(first->last_offset() == 2);
  CHECK(first->record_count() == 1);
  CHECK(first->producer_id() == 42);
  CHECK(first->producer_epoch() == 3);
  CHECK(first->base_sequence() == 0);
  CHECK(first->compression() == compression_codec::gzip);
  CHECK(first->base_timestamp() == t + 1);  // the first survivor's
  CHECK(first->max_timestamp() == t + 1);
  CHECK(!first->has_delete_horizon());
  std::vector<rec> expected = {{1, "b", "2", t + 1}, {3, "a", "4", t + 10}, {4, "c", "5", t + 11},
                               {5, "z", "active", t + 20}};
  CHECK(f.records() == expected);
}

TEST_CASE("compressed batches of every codec are compacted and stay readable") {
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4,
                     compression_codec::zstd}) {
    INFO(brook::common::codec_name(codec));
    compaction_fixture f;
    int64_t t = f.clock.now;
    batch_options o;
    o.codec = codec;
    std::vector<kv> first, second;
    for (int i = 0; i < 50; ++i) first.push_back({"key-" + std::to_string(i), "old-" + std::to_string(i)});
    for (int i = 0; i < 50; i += 2) second.push_back({"key-" + std::to_string(i), "new-" + std::to_string(i)});
    f.append(keyed(first, t, o));        // 0-49
    f.append(keyed(second, t + 100, o));  // 50-74
    f.append(keyed({{"x", "y"}}, t + 200, o));
    f.stop_rolling();
    f.compact();
    auto records = f.records();
    REQUIRE(records.size() == 51);
    for (int i = 0; i < 25; ++i) {  // the odd keys of the first batch, untouched values and offsets
      CHECK(records[i].offset == 2 * i + 1);
      CHECK(records[i].value == "old-" + std::to_string(2 * i + 1));
    }
    for (int i = 0; i < 25; ++i) {
      CHECK(records[25 + i].offset == 50 + i);
      CHECK(records[25 + i].value == "new-" + std::to_string(2 * i));
    }
    auto batches = f.batches();
    REQUIRE(batches.size() == 3);
    auto rewritten = record_batch_view::parse(batches[0]);
    REQUIRE(rewritten.ok());
    CHECK(rewritten->compression() == codec);
    CHECK(rewritten->record_count() == 25);
    CHECK(rewritten->last_offset() == 49);
    auto kept = record_batch_view::parse(batches[1]);
    REQUIRE(kept.ok());
    CHECK(kept->compression() == codec);
  }
}

TEST_CASE("tombstones stay for delete.retention.ms after their first cleaning, then go") {
  compaction_fixture f;
  int64_t t0 = f.clock.now;
  f.append_one({"k1", "a"});     // 0
  f.append_one({"k2", "b"});     // 1
  f.append_one({"k1", std::nullopt});  // 2: tombstone
  f.append_one({"k3", "c"});     // 3: active
  f.stop_rolling();
  f.compact();
  std::vector<rec> expected = {{1, "k2", "b", t0}, {2, "k1", std::nullopt, t0}, {3, "k3", "c", t0}};
  CHECK(f.records() == expected);
  auto batches = f.batches();
  auto tomb = record_batch_view::parse(batches[1]);
  REQUIRE(tomb.ok());
  CHECK(tomb->has_delete_horizon());
  CHECK(tomb->base_timestamp() == t0 + f.config.delete_retention_ms);
  CHECK(tomb->max_timestamp() == t0);

  // Nothing new and the horizon not reached: no cleaning is due, and a forced one keeps the tombstone.
  f.clock.now = t0 + f.config.delete_retention_ms - 1;
  CHECK(f.log->prepare_compaction(f.clock.now).empty());
  f.config.min_cleanable_dirty_ratio = 0;
  f.log->set_config(f.config);
  f.stop_rolling(/*again=*/true);
  f.append_one({"k4", "d"});  // rolls: the k3 segment is closed now, and dirty
  f.stop_rolling();
  f.compact();
  auto batches_after = f.batches();  // the view below points into it
  auto kept_tomb = record_batch_view::parse(batches_after[1]);
  REQUIRE(kept_tomb.ok());
  CHECK(kept_tomb->base_timestamp() == t0 + f.config.delete_retention_ms);  // the horizon is not moved
  REQUIRE(f.records().size() == 4);
  CHECK(f.records()[1].value == std::nullopt);
  f.config.min_cleanable_dirty_ratio = 0.5;
  f.log->set_config(f.config);

  // Past the horizon the next cleaning is due for the tombstone alone and removes it.
  f.clock.now = t0 + f.config.delete_retention_ms;
  auto plan = f.log->prepare_compaction(f.clock.now);
  REQUIRE(!plan.empty());
  auto cleaned = f.run(plan);
  CHECK(cleaned.stats.tombstones_removed == 1);
  REQUIRE(f.log->commit_compaction(std::move(cleaned)).ok());
  expected = {{1, "k2", "b", t0}, {3, "k3", "c", t0}, {4, "k4", "d", t0 + f.config.delete_retention_ms - 1}};
  CHECK(f.records() == expected);
  CHECK(f.log->prepare_compaction(f.clock.now).empty());
}

TEST_CASE("min.compaction.lag.ms keeps young segments out of the cleaning") {
  compaction_fixture f;
  f.config.min_compaction_lag_ms = 60'000;
  f.log->set_config(f.config);
  int64_t now = f.clock.now;
  f.append(keyed({{"k", "old-1"}}, now - 120'000));  // 0
  f.append(keyed({{"k", "old-2"}}, now - 90'000));   // 1
  f.append(keyed({{"k", "young-1"}}, now - 30'000));  // 2: within the lag
  f.append(keyed({{"k", "young-2"}}, now - 10'000));  // 3
  f.append(keyed({{"k", "active"}}, now));            // 4
  f.stop_rolling();
  auto plan = f.log->prepare_compaction(now);
  REQUIRE(!plan.empty());
  CHECK(plan.end_offset == 2);
  REQUIRE(plan.groups.size() == 1);
  CHECK(plan.groups[0].size() == 2);
  REQUIRE(f.log->commit_compaction(f.run(plan)).ok());
  std::vector<std::string> values;
  for (const auto& r : f.records()) values.push_back(*r.value);
  // old-1 is superseded by old-2 within the cleaned range; the young records are not cleaned even though
  // later values exist.
  CHECK(values == std::vector<std::string>{"old-2", "young-1", "young-2", "active"});
  CHECK(f.log->first_dirty_offset() == 2);

  // Once they age past the lag they are cleaned too.
  f.clock.now = now + 60'000;
  f.compact();
  values.clear();
  for (const auto& r : f.records()) values.push_back(*r.value);
  CHECK(values == std::vector<std::string>{"young-2", "active"});
}

TEST_CASE("the dirty ratio decides when cleaning is due, max.compaction.lag.ms forces it") {
  compaction_fixture f;
  for (int i = 0; i < 4; ++i) f.append_one({"k" + std::to_string(i), "v"});
  CHECK(f.log->prepare_compaction(f.clock.now).empty() == false);
  f.compact();
  // One small dirty segment next to three clean ones: below the 0.5 ratio.
  f.append_one({"k0", "w"});
  CHECK(f.log->prepare_compaction(f.clock.now).empty());
  f.config.cleanup_compact = false;
  f.log->set_config(f.config);
  f.append_one({"k1", "w"});
  CHECK(f.log->prepare_compaction(f.clock.now).empty());  // not a compacted topic
  f.config.cleanup_compact = true;
  f.config.max_compaction_lag_ms = 5'000;
  f.log->set_config(f.config);
  CHECK(f.log->prepare_compaction(f.clock.now + 5'000).empty());
  auto plan = f.log->prepare_compaction(f.clock.now + 5'001);
  REQUIRE(!plan.empty());
  REQUIRE(f.log->commit_compaction(f.run(plan)).ok());
  std::vector<std::pair<int64_t, std::string>> left;
  for (const auto& r : f.records()) left.emplace_back(r.offset, *r.key + "=" + *r.value);
  // k0=v went; k1=v stays: its newer value is in the active segment.
  CHECK(left == std::vector<std::pair<int64_t, std::string>>{{1, "k1=v"}, {2, "k2=v"}, {3, "k3=v"}, {4, "k0=w"},
                                                             {5, "k1=w"}});
}

TEST_CASE("appends between prepare and commit are kept, a group deleted meanwhile is skipped") {
  compaction_fixture f;
  f.config.segment_bytes = 100;  // one batch of one record fits, two do not: a group per segment
  f.log->set_config(f.config);
  f.append_one({"a", "1"});  // 0
  f.append_one({"b", "1"});  // 1
  f.append_one({"a", "2"});  // 2
  f.append_one({"b", "2"});  // 3 (active at prepare)
  auto plan = f.log->prepare_compaction(f.clock.now);
  REQUIRE(plan.groups.size() == 3);
  f.append_one({"a", "3"});  // 4: rolls; the segment at 3 is closed now but not in the plan
  auto cleaned = f.run(plan);
  // Only segment 0 changes (a@0 is superseded by a@2): its .log, .index and .timeindex; the others would be
  // copied as they are, so they are not rewritten.
  CHECK(f.files_with_suffix(format::cleaned_suffix) == 3);
  f.append_one({"c", "1"});  // 5
  auto replaced = f.log->commit_compaction(std::move(cleaned));
  REQUIRE(replaced.ok());
  CHECK(*replaced == 1);
  CHECK(f.files_with_suffix(format::cleaned_suffix) == 0);
  std::vector<int64_t> offsets;
  for (const auto& r : f.records()) offsets.push_back(r.offset);
  CHECK(offsets == std::vector<int64_t>{1, 2, 3, 4, 5});  // 0 went: "a" is at 2 in the cleaned range
  CHECK(f.log->segment_base_offsets() == std::vector<int64_t>{0, 1, 2, 3, 4, 5});

  // DeleteRecords removes the first planned segment before the commit: that group is dropped, the
  // others are swapped in.
  f.config.min_cleanable_dirty_ratio = 0;
  f.log->set_config(f.config);
  plan = f.log->prepare_compaction(f.clock.now);
  REQUIRE(plan.groups.size() == 4);  // the empty segment 0 and segment 1 share a group
  cleaned = f.run(plan);
  REQUIRE(f.log->delete_records_before(2).ok());
  replaced = f.log->commit_compaction(std::move(cleaned));
  REQUIRE(replaced.ok());
  CHECK(*replaced == 1);  // segment 2 (a@2 went); segments 3 and 4 are unchanged
  CHECK(f.files_with_suffix(format::cleaned_suffix) == 0);
  offsets.clear();
  for (const auto& r : f.records()) offsets.push_back(r.offset);
  CHECK(offsets == std::vector<int64_t>{3, 4, 5});
  CHECK(f.log->log_start_offset() == 2);
}

TEST_CASE("a crash during compaction recovers to a consistent log without losing acknowledged records") {
  compaction_fixture f;
  int64_t t = f.clock.now;
  f.append_one({"a", "1"});  // 0
  f.append_one({"b", "1"});  // 1
  f.append_one({"a", "2"});  // 2
  f.append_one({"c", "1"});  // 3
  f.append_one({"b", "2"});  // 4 (active)
  REQUIRE(f.log->flush().ok());
  auto original = f.records();
  f.stop_rolling();
  auto plan = f.log->prepare_compaction(t);
  REQUIRE(plan.groups.size() == 1);
  const std::vector<rec> compacted = {{1, "b", "1", t}, {2, "a", "2", t}, {3, "c", "1", t}, {4, "b", "2", t}};
  auto stem = f.path() / segment::file_stem(0);
  auto name = [&](std::string_view kind, std::string_view suffix) {
    auto p = stem;
    p += std::string(kind) + std::string(suffix);
    return p;
  };
  // Copies the cleaned files to the names a crash would leave (before the result deletes its own).
  auto leave_files = [&](std::string_view index_suffix, std::optional<std::string_view> log_suffix) {
    auto cleaned = f.run(plan);
    for (auto kind : {format::index_suffix, format::time_index_suffix})
      fs::copy_file(name(kind, format::cleaned_suffix), name(kind, index_suffix), fs::copy_options::overwrite_existing);
    if (log_suffix)
      fs::copy_file(name(format::log_suffix, format::cleaned_suffix), name(format::log_suffix, *log_suffix));
  };

  SECTION("crash before the swap: the .cleaned files are dropped, the log is as it was") {
    leave_files(".cleaned.keep", ".cleaned.keep");
    for (auto kind : {format::log_suffix, format::index_suffix, format::time_index_suffix})
      fs::rename(name(kind, ".cleaned.keep"), name(kind, format::cleaned_suffix));
    f.crash_and_reopen();
    CHECK(f.records() == original);
  }
  SECTION("crash while renaming to .swap: index swaps without the log swap are rolled back") {
    leave_files(format::swap_suffix, std::nullopt);
    f.crash_and_reopen();
    CHECK(f.records() == original);
  }
  SECTION("crash after the swap committed, before the old segments went") {
    leave_files(format::swap_suffix, format::swap_suffix);
    f.crash_and_reopen();
    CHECK(f.log->recovery_report().recovered);
    CHECK(f.records() == compacted);
  }
  SECTION("crash after some old segments were deleted") {
    leave_files(format::swap_suffix, format::swap_suffix);
    for (int64_t base : {0, 1}) {
      fs::remove(f.path() / (segment::file_stem(base) + ".log"));
      fs::remove(f.path() / (segment::file_stem(base) + ".index"));
    }
    f.crash_and_reopen();
    CHECK(f.records() == compacted);
  }
  SECTION("crash after the old segments went and the indexes took their final names") {
    for (int64_t base : {0, 1, 2, 3})
      for (auto kind : {format::log_suffix, format::index_suffix, format::time_index_suffix})
        fs::remove(f.path() / (segment::file_stem(base) + std::string(kind)));
    leave_files("", format::swap_suffix);
    f.crash_and_reopen();
    CHECK(f.records() == compacted);
  }
  CHECK(f.files_with_suffix(format::cleaned_suffix) == 0);
  CHECK(f.files_with_suffix(format::swap_suffix) == 0);
  // The log takes appends at the same end offset afterwards.
  CHECK(f.append(keyed({{"d", "1"}}, t)).first_offset == 5);
  f.crash_and_reopen();
  CHECK(f.records().back().offset == 5);
}

TEST_CASE("a producer's last batch is kept empty, null keys are dropped, control batches are kept") {
  compaction_fixture f;
  int64_t t = f.clock.now;
  batch_options idem;
  idem.producer_id = 7;
  idem.producer_epoch = 0;
  idem.base_sequence = 0;
  f.append(keyed({{"a", "1"}, {"b", "1"}}, t, idem));  // 0-1, producer 7 seq 0-1
  idem.base_sequence = 2;
  f.append(keyed({{"a", "2"}}, t + 10, idem));  // 2, producer 7 seq 2
  f.append(keyed({{std::nullopt, "no key"}}, t + 20));  // 3
  batch_options ctl;
  ctl.control = true;
  ctl.producer_id = 8;
  f.append(keyed({{"marker", std::nullopt}}, t + 30, ctl));  // 4
  f.append(keyed({{"a", "3"}, {"b", "3"}}, t + 40));  // 5-6
  f.append(keyed({{"z", "active"}}, t + 50));  // 7
  f.stop_rolling();
  f.compact();
  auto batches = f.batches();
  REQUIRE(batches.size() == 4);
  auto empty = record_batch_view::parse(batches[0]);
  REQUIRE(empty.ok());
  CHECK(empty->base_offset() == 2);  // the earlier batch of producer 7 is gone entirely
  CHECK(empty->last_offset() == 2);
  CHECK(empty->record_count() == 0);
  CHECK(empty->producer_id() == 7);
  CHECK(empty->base_sequence() == 2);
  auto control = record_batch_view::parse(batches[1]);
  REQUIRE(control.ok());
  CHECK(control->is_control());
  CHECK(control->base_offset() == 4);
  CHECK(!control->has_delete_horizon());
  std::vector<int64_t> offsets;
  for (const auto& r : f.records()) offsets.push_back(r.offset);
  CHECK(offsets == std::vector<int64_t>{4, 5, 6, 7});
  // The empty batch survives a restart's scan and index rebuild.
  f.crash_and_reopen();
  CHECK(f.batches().size() == 4);
}

TEST_CASE("compact,delete: retention deletes old segments and compaction cleans the rest") {
  compaction_fixture f;
  f.config.cleanup_delete = true;
  f.config.retention_ms = 100'000;
  f.log->set_config(f.config);
  int64_t now = f.clock.now;
  f.append(keyed({{"a", "expired"}}, now - 200'000));  // 0
  f.append(keyed({{"b", "expired"}}, now - 150'000));  // 1
  f.append(keyed({{"a", "1"}}, now - 50'000));         // 2
  f.append(keyed({{"a", "2"}}, now - 40'000));         // 3
  f.append(keyed({{"b", "1"}}, now - 30'000));         // 4
  f.stop_rolling();
  auto deleted = f.log->enforce_retention();
  REQUIRE(deleted.ok());
  CHECK(*deleted == 2);
  CHECK(f.log->log_start_offset() == 2);
  f.compact();
  std::vector<rec> expected = {{3, "a", "2", now - 40'000}, {4, "b", "1", now - 30'000}};
  CHECK(f.records() == expected);

  // With compact alone, retention.ms does not delete anything.
  f.config.cleanup_delete = false;
  f.log->set_config(f.config);
  f.clock.now += 1'000'000;
  auto none = f.log->enforce_retention();
  REQUIRE(none.ok());
  CHECK(*none == 0);
  CHECK(f.records() == expected);
}

TEST_CASE("a segment that cleaning would not change is not rewritten") {
  compaction_fixture f;
  f.config.segment_bytes = 100;  // a group per segment
  f.log->set_config(f.config);
  f.append_one({"a", "1"});  // 0
  f.append_one({"b", "1"});  // 1
  f.append_one({"a", "2"});  // 2 (active)
  auto files_before = f.log->segment_base_offsets();
  auto plan = f.log->prepare_compaction(f.clock.now);
  REQUIRE(plan.groups.size() == 2);
  auto cleaned = f.run(plan);
  CHECK(cleaned.groups.size() == 0);  // nothing superseded below the active segment
  CHECK(f.files_with_suffix(format::cleaned_suffix) == 0);
  auto committed = f.log->commit_compaction(std::move(cleaned));
  REQUIRE(committed.ok());
  CHECK(*committed == 0);
  CHECK(f.log->first_dirty_offset() == 2);
  CHECK(f.log->prepare_compaction(f.clock.now).empty());
  CHECK(f.log->segment_base_offsets() == files_before);
}

TEST_CASE("compaction removes aborted transactions' records, keeps the markers that guard records and their index") {
  compaction_fixture f;
  // Every batch lands in a segment of its own (segment.ms -1 and a later timestamp each time).
  f.put_txn(1, 0, 2, "aborted");    // 0-1
  f.put_txn(2, 0, 1, "committed");  // 2
  f.put_marker(1, false);           // 3: abort [0, 3]
  f.put_marker(2, true);            // 4: commit
  f.put_txn(3, 0, 1, "open");       // 5: still open
  f.clock.now += 10;
  f.append_one({"z", "plain"});  // 6
  CHECK(f.log->last_stable_offset() == 5);
  INFO("segments " << fmt::format("{}", fmt::join(f.log->segment_base_offsets(), ",")));

  auto plan = f.log->prepare_compaction(f.clock.now);
  REQUIRE_FALSE(plan.empty());
  CHECK(plan.end_offset == 5);  // nothing at or past the last stable offset
  CHECK(plan.aborted_txns == std::vector<aborted_txn>{{1, 0, 3, 2}});
  REQUIRE(f.log->commit_compaction(f.run(plan)).ok());

  std::vector<std::string> values;
  for (const auto& r : f.records())
    if (r.value && r.offset != 3 && r.offset != 4) values.push_back(*r.value);
  for (const auto& v : values) CHECK(v.find("aborted") == std::string::npos);
  CHECK(std::count_if(values.begin(), values.end(), [](auto& v) { return v.starts_with("committed"); }) == 1);
  // Both markers stay: the abort still has (emptied) batches of its transaction behind it, the commit its
  // records. The abort's index entry is in the cleaned segment.
  int markers = 0;
  for (const auto& b : f.batches()) {
    auto view = record_batch_view::parse(b);
    if (view->is_control()) ++markers;
    if (view->base_offset() == 0) CHECK(view->record_count() == 0);  // producer 1's last batch, kept empty
  }
  CHECK(markers == 2);
  auto committed = f.log->read(0, 1 << 20, isolation_level::read_committed);
  REQUIRE(committed.ok());
  CHECK(*committed->aborted_transactions == std::vector<aborted_transaction>{{1, 0}});
  CHECK(f.files_with_suffix(format::txn_index_suffix) >= 1);
}

TEST_CASE("transaction markers stay while their producer is active, then go delete.retention.ms after nothing is left") {
  // Kafka's order: an active producer's emptied last batch stays (its sequence numbers), and the marker
  // of its transaction with it; once the producer expires the batch goes, the next cleaning finds
  // nothing behind the marker and gives it a delete horizon, and a cleaning past the horizon removes it.
  compaction_fixture f;
  f.config.min_cleanable_dirty_ratio = 0;
  f.log->set_config(f.config);
  auto plain = [&](const std::string& key) {
    f.clock.now += 10;
    f.append_one({key, "plain"});
  };
  // Base offsets of the control batches with their records, of the data batches emptied, and whether
  // any control batch carries a delete horizon.
  auto markers = [&] {
    std::vector<int64_t> out;
    for (const auto& b : f.batches()) {
      auto view = record_batch_view::parse(b);
      REQUIRE(view.ok());
      if (view->is_control()) out.push_back(view->base_offset());
    }
    return out;
  };
  auto emptied = [&] {
    std::vector<int64_t> out;
    for (const auto& b : f.batches()) {
      auto view = record_batch_view::parse(b);
      REQUIRE(view.ok());
      if (!view->is_control() && view->record_count() == 0) out.push_back(view->base_offset());
    }
    return out;
  };
  auto horizons = [&] {
    std::vector<int64_t> out;
    for (const auto& b : f.batches()) {
      auto view = record_batch_view::parse(b);
      REQUIRE(view.ok());
      if (view->is_control() && view->has_delete_horizon()) out.push_back(view->base_timestamp());
    }
    return out;
  };
  auto aborted_listed = [&] {
    auto r = f.log->read(0, 1 << 20, isolation_level::read_committed);
    REQUIRE(r.ok());
    REQUIRE(r->aborted_transactions);
    return *r->aborted_transactions;
  };

  f.put_txn(1, 0, 2, "aborted");    // 0-1: keys k0, k1
  f.put_txn(2, 0, 1, "committed");  // 2: key k0
  f.put_marker(1, false);           // 3
  f.put_marker(2, true);            // 4
  plain("k0");                // 5: replaces producer 2's k0
  plain("z");                 // 6: the active segment
  f.compact();
  // Both producers are active: their last batches stay empty, and the markers behind them.
  CHECK(emptied() == std::vector<int64_t>{0, 2});
  CHECK(markers() == std::vector<int64_t>{3, 4});
  CHECK(horizons().empty());
  CHECK(aborted_listed() == std::vector<aborted_transaction>{{1, 0}});

  // The producers expire (producer.id.expiration.ms): their empty batches go. The markers saw them in
  // that cleaning, so they stay one cleaning more.
  f.log->producer_state().expire(std::numeric_limits<int64_t>::max());
  plain("y");  // 7: offset 6's segment is closed, and dirty
  f.compact();
  CHECK(emptied().empty());
  CHECK(markers() == std::vector<int64_t>{3, 4});
  CHECK(horizons().empty());

  // Nothing behind them now: both get a delete horizon, and the abort leaves the transaction index.
  plain("x");  // 8
  f.compact();
  const int64_t horizon = f.clock.now + f.config.delete_retention_ms;
  CHECK(markers() == std::vector<int64_t>{3, 4});
  CHECK(horizons() == std::vector<int64_t>{horizon, horizon});
  CHECK(aborted_listed().empty());

  // Before the horizon no cleaning is due for them; at it, one is, and removes them entirely.
  f.config.min_cleanable_dirty_ratio = 0.5;
  f.log->set_config(f.config);
  f.clock.now = horizon - 1;
  CHECK(f.log->prepare_compaction(f.clock.now).empty());
  f.clock.now = horizon;
  auto plan = f.log->prepare_compaction(f.clock.now);
  REQUIRE_FALSE(plan.empty());
  REQUIRE(f.log->commit_compaction(f.run(plan)).ok());
  CHECK(markers().empty());
  std::vector<std::string> keys;
  for (const auto& r : f.records()) keys.push_back(r.key.value_or("-"));
  CHECK(keys == std::vector<std::string>{"k0", "z", "y", "x"});
  // What remains survives a restart's rebuild of the producer state and indexes.
  f.crash_and_reopen();
  CHECK(markers().empty());
  CHECK(aborted_listed().empty());
}
