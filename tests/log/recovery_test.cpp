// Crash recovery of partition logs: cut files, garbage tails, lost or damaged index files.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>

#include "common/os/file_io.hpp"
#include "log/format.hpp"
#include "log/producer_state.hpp"
#include "log/transaction_index.hpp"
#include "log/partition_log.hpp"
#include "tests/log/log_test_util.hpp"

using namespace brook::log;
using namespace brook::log::testing;
using brook::common::kafka_error;
namespace fs = std::filesystem;

namespace {

struct recovery_fixture {
  scratch_dir dir;
  fake_clock clock;
  log_config config;
  fs::path pdir;

  recovery_fixture() : pdir(dir.path / "t-0") {
    config.segment_bytes = 2000;
    config.index_interval_bytes = 150;
    config.retention_ms = -1;
  }
  std::unique_ptr<partition_log> open(bool clean) {
    auto log = partition_log::open(pdir, config, clock.fn(), std::make_shared<log_dir_health>(), clean);
    REQUIRE(log.ok());
    return std::move(log).value();
  }
  fs::path file(int64_t base, std::string_view suffix) const {
    return pdir / (fmt::format("{:020d}", base) + std::string(suffix));
  }
};

std::vector<decoded_record> read_all(const partition_log& log) {
  std::vector<decoded_record> out;
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    auto r = log.read(offset, 1 << 20);
    REQUIRE(r.ok());
    auto bytes = r->region.load();
    REQUIRE(bytes.ok());
    for (auto& rec : decode_all(*bytes)) out.push_back(rec);
    offset = r->region.next_offset;
  }
  return out;
}

void cut_file(const fs::path& p, uintmax_t size) { fs::resize_file(p, size); }

void append_bytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Writes `n` batches of 2 records; returns the records as written.
std::vector<std::string> fill(partition_log& log, int n, int64_t ts) {
  std::vector<std::string> values;
  for (int b = 0; b < n; ++b) {
    auto batch = make_batch(2, ts + b, "b" + std::to_string(b));
    REQUIRE(log.append(batch).ok());
    values.push_back("b" + std::to_string(b) + "-0");
    values.push_back("b" + std::to_string(b) + "-1");
  }
  return values;
}

void check_prefix(const partition_log& log, const std::vector<std::string>& values, size_t count) {
  auto all = read_all(log);
  REQUIRE(all.size() == count);
  for (size_t i = 0; i < count; ++i) {
    REQUIRE(all[i].offset == static_cast<int64_t>(i));
    REQUIRE(all[i].value.starts_with(values[i]));
  }
}

}  // namespace

TEST_CASE("recovery from the last batch cut at every byte position") {
  bool flushed_before_last = GENERATE(false, true);
  bool claims_clean = GENERATE(false, true);
  recovery_fixture probe;
  auto last_batch = make_batch(2, probe.clock.now + 100, "last");
  for (size_t cut = 0; cut < last_batch.size(); ++cut) {
    INFO("cut at byte " << cut << " of " << last_batch.size() << ", flushed " << flushed_before_last);
    recovery_fixture f;
    std::vector<std::string> values;
    uint64_t size_before_last = 0;
    {
      auto log = f.open(false);
      values = fill(*log, 30, f.clock.now);
      if (flushed_before_last) REQUIRE(log->flush().ok());
      auto copy = last_batch;
      REQUIRE(log->append(copy).ok());
      auto bases = log->segment_base_offsets();
      size_before_last = fs::file_size(f.file(bases.back(), format::log_suffix)) - last_batch.size();
      if (claims_clean) REQUIRE(log->close().ok());
    }
    auto segments = fs::directory_iterator(f.pdir);
    int64_t last_base = -1;
    for (auto& e : segments)
      if (e.path().extension() == ".log") last_base = std::max<int64_t>(last_base, std::stoll(e.path().stem().string()));
    cut_file(f.file(last_base, format::log_suffix), size_before_last + cut);

    auto log = f.open(claims_clean);
    CHECK(log->log_end_offset() == 60);
    check_prefix(*log, values, 60);
    CHECK(fs::file_size(f.file(last_base, format::log_suffix)) == size_before_last);
    // The log takes appends again at the cut.
    auto again = make_batch(1, f.clock.now, "again");
    auto res = log->append(again);
    REQUIRE(res.ok());
    CHECK(res->first_offset == 60);
  }
}

TEST_CASE("recovery cuts garbage appended after the tail") {
  auto kind = GENERATE(as<std::string>{}, "zeros", "random", "bad-crc-batch", "partial-header");
  INFO(kind);
  recovery_fixture f;
  std::vector<std::string> values;
  {
    auto log = f.open(false);
    values = fill(*log, 40, f.clock.now);
  }
  auto bases_log = f.open(false);
  int64_t last_base = bases_log->segment_base_offsets().back();
  bases_log.reset();
  auto path = f.file(last_base, format::log_suffix);
  auto good_size = fs::file_size(path);
  std::vector<uint8_t> garbage;
  if (kind == "zeros") garbage.assign(4096, 0);
  if (kind == "random") {
    std::mt19937 rng(1);
    for (int i = 0; i < 777; ++i) garbage.push_back(static_cast<uint8_t>(rng()));
  }
  if (kind == "bad-crc-batch") {
    garbage = make_batch(2, f.clock.now, "ghost");
    brook::common::set_base_offset(garbage, 80);
    garbage[garbage.size() - 3] ^= 0x40;
  }
  if (kind == "partial-header") garbage = {0, 0, 0, 0, 0, 0, 0, 80, 0, 0};
  append_bytes(path, garbage);

  auto log = f.open(false);
  CHECK(log->log_end_offset() == 80);
  check_prefix(*log, values, 80);
  CHECK(fs::file_size(path) == good_size);
  CHECK(log->recovery_report().truncated_bytes == garbage.size());

  // The same garbage behind a clean-shutdown marker is caught by the tail check.
  REQUIRE(log->close().ok());
  log.reset();
  append_bytes(path, garbage);
  log = f.open(true);
  CHECK(log->log_end_offset() == 80);
  check_prefix(*log, values, 80);
  CHECK(fs::file_size(path) == good_size);
}

TEST_CASE("a valid-looking batch with a wrong offset after the tail is not accepted") {
  recovery_fixture f;
  std::vector<std::string> values;
  {
    auto log = f.open(false);
    values = fill(*log, 10, f.clock.now);
  }
  auto ghost = make_batch(2, f.clock.now, "ghost");
  brook::common::set_base_offset(ghost, 3);  // offsets going backwards: stale data from an earlier write
  append_bytes(f.file(0, format::log_suffix), ghost);
  auto log = f.open(false);
  CHECK(log->log_end_offset() == 20);
  check_prefix(*log, values, 20);
}

TEST_CASE("lost or damaged index files are rebuilt") {
  auto damage = GENERATE(as<std::string>{}, "delete-index", "delete-timeindex", "delete-both", "odd-size",
                         "random-bytes", "wrong-positions", "past-end", "empty-index");
  INFO(damage);
  recovery_fixture f;
  std::vector<std::string> values;
  std::vector<int64_t> bases;
  std::vector<std::vector<uint8_t>> original_indexes;
  {
    auto log = f.open(false);
    values = fill(*log, 60, f.clock.now);
    bases = log->segment_base_offsets();
    REQUIRE(bases.size() >= 3);
    REQUIRE(log->close().ok());
  }
  auto read_file = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  };
  for (int64_t b : bases) original_indexes.push_back(read_file(f.file(b, format::index_suffix)));
  REQUIRE(original_indexes[0].size() >= 16);

  for (int64_t base : {bases[0], bases[1], bases.back()}) {
    auto index = f.file(base, format::index_suffix);
    auto time_index = f.file(base, format::time_index_suffix);
    if (damage == "delete-index" || damage == "delete-both") fs::remove(index);
    if (damage == "delete-timeindex" || damage == "delete-both") fs::remove(time_index);
    if (damage == "odd-size") cut_file(index, fs::file_size(index) - 3);
    if (damage == "empty-index") cut_file(index, 0);
    if (damage == "random-bytes") {
      std::mt19937 rng(static_cast<unsigned>(base));
      std::vector<uint8_t> junk(fs::file_size(index));
      for (auto& j : junk) j = static_cast<uint8_t>(rng());
      std::ofstream(index, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(junk.data()),
                                                                     static_cast<std::streamsize>(junk.size()));
    }
    if (damage == "wrong-positions" || damage == "past-end") {
      // Monotonic entries that point at the wrong bytes.
      std::vector<uint8_t> bytes = read_file(index);
      for (size_t p = 0; p + 8 <= bytes.size(); p += 8) {
        uint32_t pos = (uint32_t{bytes[p + 4]} << 24) | (uint32_t{bytes[p + 5]} << 16) | (uint32_t{bytes[p + 6]} << 8) | bytes[p + 7];
        pos = damage == "past-end" ? pos + 100000 : pos + 1;
        bytes[p + 4] = static_cast<uint8_t>(pos >> 24);
        bytes[p + 5] = static_cast<uint8_t>(pos >> 16);
        bytes[p + 6] = static_cast<uint8_t>(pos >> 8);
        bytes[p + 7] = static_cast<uint8_t>(pos);
      }
      std::ofstream(index, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes.data()),
                                                                     static_cast<std::streamsize>(bytes.size()));
    }
  }
  for (bool clean : {true, false}) {
    auto log = f.open(clean);
    CHECK(log->log_end_offset() == 120);
    check_prefix(*log, values, 120);
    for (int64_t o = 0; o < 120; ++o) {
      auto r = log->read(o, 1);
      REQUIRE(r.ok());
      CHECK(r->region.first_offset == o - o % 2);
    }
    auto ts = log->offset_for_timestamp(f.clock.now + 30);
    REQUIRE(ts.ok());
    REQUIRE(ts->has_value());
    CHECK((*ts)->offset == 59);  // batch 29's second record carries ts + 30
    REQUIRE(log->close().ok());
  }
  // The rebuilt index files equal the ones written in the first place.
  for (size_t i = 0; i < bases.size(); ++i) CHECK(read_file(f.file(bases[i], format::index_suffix)) == original_indexes[i]);
}

TEST_CASE("a cut inside an older segment drops the segments after it") {
  recovery_fixture f;
  std::vector<std::string> values;
  std::vector<int64_t> bases;
  {
    auto log = f.open(false);
    values = fill(*log, 60, f.clock.now);
    bases = log->segment_base_offsets();
    REQUIRE(bases.size() >= 3);
  }
  fs::remove(f.pdir / format::partition_checkpoint_name);  // nothing known durable: recover everything
  auto second = f.file(bases[1], format::log_suffix);
  cut_file(second, fs::file_size(second) - 1);
  auto log = f.open(false);
  auto all = read_all(*log);
  CHECK(log->segment_count() == 2);
  CHECK(log->log_end_offset() < bases[2]);
  CHECK(log->recovery_report().segments_deleted == static_cast<int32_t>(bases.size() - 2));
  check_prefix(*log, values, static_cast<size_t>(log->log_end_offset()));
  CHECK_FALSE(fs::exists(f.file(bases[2], format::log_suffix)));
}

TEST_CASE("a damaged checkpoint means recovering everything, losing nothing") {
  recovery_fixture f;
  std::vector<std::string> values;
  {
    auto log = f.open(false);
    values = fill(*log, 30, f.clock.now);
    REQUIRE(log->delete_records_before(4).ok());
    REQUIRE(log->close().ok());
  }
  auto cp = f.pdir / format::partition_checkpoint_name;
  cut_file(cp, 5);
  auto log = f.open(false);
  CHECK(log->recovery_report().recovered);
  CHECK(log->log_end_offset() == 60);
  CHECK(log->log_start_offset() == 0);  // the start offset lived only in the checkpoint
}

TEST_CASE("durable extents: cutting files to their fsynced length keeps what was flushed and loses the rest") {
  recovery_fixture f;
  std::vector<durable_extent> extents;
  int64_t flushed_end = 0;
  {
    auto log = f.open(false);
    // Enough batches to roll several segments (segment_bytes 2000) and index some of them.
    for (int i = 0; i < 12; ++i) {
      auto batch = make_batch(3, 1000 + i * 10, "durable-" + std::to_string(i));
      REQUIRE(log->append(batch).ok());
    }
    REQUIRE(log->flush().ok());
    flushed_end = log->log_end_offset();
    for (int i = 0; i < 8; ++i) {
      auto batch = make_batch(3, 2000 + i * 10, "lost-" + std::to_string(i));
      REQUIRE(log->append(batch).ok());
    }
    REQUIRE(log->log_end_offset() > flushed_end);
    extents = log->durable_extents();
    // The log is dropped without close(): nothing more is synced.
  }
  REQUIRE(!extents.empty());
  bool some_file_longer = false;
  for (const auto& e : extents)
    if (fs::exists(e.path) && fs::file_size(e.path) > e.bytes) some_file_longer = true;
  CHECK(some_file_longer);
  REQUIRE(cut_to_durable(extents).ok());
  for (const auto& e : extents)
    if (fs::exists(e.path)) CHECK(fs::file_size(e.path) <= e.bytes);

  auto log = f.open(false);
  CHECK(log->log_end_offset() == flushed_end);
  auto records = read_all(*log);
  REQUIRE(records.size() == static_cast<size_t>(flushed_end));
  CHECK(records.front().value.starts_with("durable-0-"));
  CHECK(records.back().value.starts_with("durable-11-"));
  // And the recovered log takes appends again.
  auto batch = make_batch(1, 5000, "after");
  auto appended = log->append(batch);
  REQUIRE(appended.ok());
  CHECK(appended->first_offset == flushed_end);
}

TEST_CASE("durable extents of a log closed cleanly cover every file whole") {
  recovery_fixture f;
  std::vector<durable_extent> extents;
  {
    auto log = f.open(false);
    for (int i = 0; i < 10; ++i) {
      auto batch = make_batch(2, 1000 + i, "kept-" + std::to_string(i));
      REQUIRE(log->append(batch).ok());
    }
    REQUIRE(log->close().ok());
    extents = log->durable_extents();
  }
  for (const auto& e : extents) CHECK(fs::file_size(e.path) == e.bytes);
}

namespace {

// What the transactions of a log are, found independently of the log's own state: replaying every batch
// readable through a fresh table.
struct txn_truth {
  std::map<int64_t, int64_t> ongoing;
  std::vector<aborted_txn> aborted;
};

txn_truth replay_everything(const partition_log& log) {
  producer_state_table t;
  txn_truth out;
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    auto r = log.read(offset, 1 << 20);
    REQUIRE(r.ok());
    auto bytes = r->region.load();
    REQUIRE(bytes.ok());
    for (auto& a : t.replay(*bytes)) out.aborted.push_back(a);
    offset = r->region.next_offset;
  }
  out.ongoing = t.ongoing_transactions();
  return out;
}

std::vector<aborted_txn> indexed_aborts(const partition_log& log) {
  // Every segment's .txnindex, read back from the files.
  std::vector<aborted_txn> out;
  for (int64_t base : log.segment_base_offsets()) {
    transaction_index idx(log.dir() / (fmt::format("{:020d}", base) + std::string(format::txn_index_suffix)), base);
    REQUIRE(idx.load(std::numeric_limits<int64_t>::max()).ok());
    for (const auto& e : idx.entries()) out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("recovery: a segment of transactional and control batches cut at every byte") {
  // Writes: plain batches, then in the last segment transactions of three producers with commits and
  // aborts; the producer state snapshot is taken before that segment (as a periodic save would).
  const bool with_snapshot = GENERATE(false, true);
  recovery_fixture probe;
  std::optional<producer_state_table> snapshot;
  uint64_t tail_start = 0;
  uint64_t tail_size = 0;
  int64_t last_base = 0;
  auto write = [&](recovery_fixture& f) {
    auto log = f.open(false);
    fill(*log, 10, f.clock.now);
    auto put = [&](std::vector<uint8_t> b) { REQUIRE(log->append(b).ok()); };
    put(make_producer_batch(1, 0, 0, 2, f.clock.now, true));
    REQUIRE(log->flush().ok());
    REQUIRE(log->maybe_flush().ok());  // the checkpoint: recovery point at the snapshot's offset
    snapshot = log->producer_state();
    last_base = log->segment_base_offsets().back();
    tail_start = fs::file_size(f.file(last_base, format::log_suffix));
    put(make_producer_batch(2, 0, 0, 1, f.clock.now, true));
    put(make_producer_batch(1, 0, 2, 1, f.clock.now, true));
    REQUIRE(log->append_marker(1, 0, false, 0).ok());  // abort 1 while 2 is open
    put(make_producer_batch(3, 0, 0, 2, f.clock.now, true));
    REQUIRE(log->append_marker(2, 0, true, 0).ok());
    put(make_producer_batch(1, 0, 3, 1, f.clock.now, true));
    REQUIRE(log->append_marker(3, 0, false, 0).ok());
    REQUIRE(log->append_marker(1, 0, false, 0).ok());
    put(make_producer_batch(2, 0, 1, 1, f.clock.now, true));  // left open
    REQUIRE(log->segment_base_offsets().back() == last_base);
    tail_size = fs::file_size(f.file(last_base, format::log_suffix)) - tail_start;
    // Everything but the .log cut below is left as written (nothing flushed since the snapshot): the
    // .txnindex may hold entries of markers that the cut removes.
  };
  {
    write(probe);
  }
  REQUIRE(tail_size > 0);
  for (uint64_t cut = 0; cut <= tail_size; ++cut) {
    INFO("cut at byte " << cut << " of " << tail_size << ", snapshot " << with_snapshot);
    recovery_fixture f;
    write(f);
    cut_file(f.file(last_base, format::log_suffix), tail_start + cut);
    auto log = f.open(false);
    REQUIRE(log->load_producer_state(with_snapshot ? snapshot : std::nullopt).ok());
    auto truth = replay_everything(*log);
    CHECK(log->producer_state().ongoing_transactions() == truth.ongoing);
    const int64_t expected_lso = truth.ongoing.empty() ? log->log_end_offset() : truth.ongoing.begin()->first;
    CHECK(log->last_stable_offset() == expected_lso);
    CHECK(indexed_aborts(*log) == truth.aborted);
    // And the log goes on: a new abort lands after what survived.
    if (!truth.ongoing.empty()) {
      const int64_t pid = truth.ongoing.begin()->second;
      REQUIRE(log->append_marker(pid, 0, false, 0).ok());
      auto again = replay_everything(*log);
      CHECK(indexed_aborts(*log) == again.aborted);
      CHECK(log->producer_state().ongoing_transactions() == again.ongoing);
    }
  }
}
