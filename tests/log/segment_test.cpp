#include "log/segment.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/os/file_io.hpp"
#include "common/record_batch.hpp"
#include "log/format.hpp"
#include "log/partition_log.hpp"
#include "tests/log/log_test_util.hpp"

using namespace brook::log;
using namespace brook::log::testing;
namespace fs = std::filesystem;
namespace os = brook::common::os;

namespace {

// A segment filled with batches of varied sizes, and the batch boundaries it must report.
struct filled_segment {
  scratch_dir dir;
  std::unique_ptr<segment> seg;
  std::vector<uint64_t> starts;  // start position of each batch, then the end of the data
  std::vector<int64_t> first_offsets;

  // shapes: record count and value size of each batch. Batches are appended in groups of up to three, as a
  // producer's request would carry them.
  filled_segment(const std::vector<std::pair<int, size_t>>& shapes, int32_t index_interval_bytes,
                 int64_t base = 100) {
    auto created = segment::create(dir.path, base, 0, 0);
    REQUIRE(created.ok());
    seg = std::move(created).value();
    int64_t next = base;
    starts.push_back(0);
    for (size_t i = 0; i < shapes.size();) {
      std::vector<uint8_t> data;
      std::vector<batch_info> infos;
      for (size_t g = 0; g < 3 && i < shapes.size(); ++g, ++i) {
        auto batch = make_batch(shapes[i].first, 1000 + next, std::to_string(i), shapes[i].second);
        brook::common::set_base_offset(batch, next);
        infos.push_back({data.size(), static_cast<uint32_t>(batch.size()), next, next + shapes[i].first - 1, 0});
        first_offsets.push_back(next);
        next += shapes[i].first;
        data.insert(data.end(), batch.begin(), batch.end());
        starts.push_back(starts.back() + batch.size());
      }
      bool restored = false;
      REQUIRE(seg->append(data, infos, index_interval_bytes, restored).ok());
    }
    REQUIRE(seg->size_bytes() == starts.back());
  }

  // What region_end must answer, from the boundaries: the last one within max_bytes, at least one batch;
  // and the offset after it (the first offset of the next batch, or the segment's next offset).
  segment::region_bounds expected(size_t first, uint64_t max_bytes) const {
    size_t last = first + 1;
    while (last + 1 < starts.size() && starts[last + 1] - starts[first] <= max_bytes) ++last;
    return {starts[last], last < first_offsets.size() ? first_offsets[last] : seg->next_offset()};
  }
};

std::vector<std::pair<int, size_t>> varied_shapes(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::pair<int, size_t>> shapes;
  for (size_t i = 0; i < count; ++i) {
    switch (rng() % 4) {
      case 0: shapes.push_back({1, 1 + rng() % 20}); break;                 // under 100 bytes
      case 1: shapes.push_back({1 + static_cast<int>(rng() % 10), 50}); break;  // a few hundred bytes
      case 2: shapes.push_back({20 + static_cast<int>(rng() % 40), 200}); break;  // several KiB
      default: shapes.push_back({100 + static_cast<int>(rng() % 100), 300}); break;  // 30-60 KiB
    }
  }
  return shapes;
}

void check_every_region(const filled_segment& f) {
  const uint64_t total = f.starts.back();
  for (size_t first = 0; first + 1 < f.starts.size(); ++first) {
    uint64_t pos = f.starts[first];
    std::vector<uint64_t> limits{0, 1, 60, 61, total - pos, total - pos + 1, total, UINT64_MAX};
    // Every boundary after the start, exactly, one byte short (ends mid-batch) and one byte over.
    for (size_t k = first + 1; k < f.starts.size(); ++k) {
      uint64_t span = f.starts[k] - pos;
      limits.insert(limits.end(), {span - 1, span, span + 1});
    }
    for (uint64_t max_bytes : limits) {
      auto bounds = f.seg->region_end(pos, max_bytes);
      REQUIRE(bounds.ok());
      INFO("batch " << first << " at " << pos << ", max_bytes " << max_bytes);
      const auto want = f.expected(first, max_bytes);
      REQUIRE(bounds->end == want.end);
      REQUIRE(bounds->next_offset == want.next_offset);
    }
  }
}

}  // namespace

TEST_CASE("region_end returns the last whole batch within max_bytes, at least one") {
  // Index intervals: every batch indexed, Kafka's default, and one larger than the segment (no index).
  for (int32_t interval : {0, 4096, 1 << 30}) {
    DYNAMIC_SECTION("index interval " << interval) {
      filled_segment f(varied_shapes(60, 7 + interval % 97), interval);
      if (interval == 1 << 30) REQUIRE(f.seg->index().empty());
      else REQUIRE(!f.seg->index().empty());
      check_every_region(f);
    }
  }
}

TEST_CASE("region_end over many small batches and across the segment end") {
  std::vector<std::pair<int, size_t>> shapes(600, {1, 10});  // ~90-byte batches: many per read buffer
  filled_segment f(shapes, 4096);
  check_every_region(f);
  // At the end of the data: nothing.
  auto end = f.seg->region_end(f.starts.back(), 1 << 20);
  REQUIRE(end.ok());
  CHECK(end->end == f.starts.back());
  CHECK(end->next_offset == f.seg->next_offset());
}

TEST_CASE("region_end: a first batch larger than max_bytes is returned whole, alone") {
  filled_segment f({{150, 300}, {1, 10}, {150, 300}}, 4096);
  REQUIRE(f.starts[1] > 40000);
  for (uint64_t max_bytes : {uint64_t{0}, uint64_t{1}, uint64_t{1000}, f.starts[1] - 1, f.starts[1]}) {
    auto end = f.seg->region_end(0, max_bytes);
    REQUIRE(end.ok());
    CHECK(end->end == f.starts[1]);
    CHECK(end->next_offset == f.first_offsets[1]);
  }
  auto end = f.seg->region_end(0, f.starts[2]);
  REQUIRE(end.ok());
  CHECK(end->end == f.starts[2]);
  CHECK(end->next_offset == f.first_offsets[2]);
}

TEST_CASE("find_batch finds the batch holding every offset, over small and large batches") {
  filled_segment f(varied_shapes(80, 3), 4096);
  for (size_t i = 0; i + 1 < f.starts.size(); ++i) {
    int64_t last = (i + 2 < f.starts.size() ? f.first_offsets[i + 1] : f.seg->next_offset()) - 1;
    for (int64_t o : {f.first_offsets[i], last}) {
      auto b = f.seg->find_batch(o);
      REQUIRE(b.ok());
      REQUIRE(b->has_value());
      CHECK((*b)->position == f.starts[i]);
      CHECK((*b)->base_offset == f.first_offsets[i]);
    }
  }
  auto past = f.seg->find_batch(f.seg->next_offset());
  REQUIRE(past.ok());
  CHECK(!past->has_value());
}

TEST_CASE("region_end is right even when a loaded index entry points inside a batch") {
  scratch_dir dir;
  log_config config;
  config.index_interval_bytes = 0;  // every batch indexed
  config.retention_ms = -1;
  fake_clock clock;
  std::vector<uint64_t> starts{0};
  {
    auto log = partition_log::open(dir.path / "t-0", config, clock.fn(), nullptr, false);
    REQUIRE(log.ok());
    for (int i = 0; i < 12; ++i) {
      auto batch = make_batch(5 + i, 1000, "x", 40);
      REQUIRE((*log)->append(batch).ok());
      starts.push_back(starts.back() + batch.size());
    }
    REQUIRE((*log)->close().ok());
  }
  // Shift the position of a middle index entry by one byte: still increasing, so a trusting load keeps it.
  auto index_file = dir.path / "t-0" / (segment::file_stem(0) + std::string(format::index_suffix));
  os::file_handle f;
  REQUIRE(os::open_file(index_file, os::open_mode::read_write, f).ok());
  uint64_t size = 0;
  REQUIRE(os::file_size(f, size).ok());
  REQUIRE(size >= 6 * format::index_entry_size);
  uint8_t entry[format::index_entry_size];
  size_t got = 0;
  const uint64_t at = 4 * format::index_entry_size;
  REQUIRE(os::read_at(f, entry, at, got).ok());
  entry[7] = static_cast<uint8_t>(entry[7] + 1);
  REQUIRE(os::write_at(f, entry, at).ok());
  f.close();

  auto log = partition_log::open(dir.path / "t-0", config, clock.fn(), nullptr, true);
  REQUIRE(log.ok());
  REQUIRE(!(*log)->recovery_report().recovered);
  // Whole reads from offset 0 with limits at every boundary and just short of it.
  for (size_t k = 1; k < starts.size(); ++k) {
    for (uint64_t max_bytes : {starts[k], starts[k] - 1}) {
      auto r = (*log)->read(0, max_bytes);
      REQUIRE(r.ok());
      uint64_t want = max_bytes == starts[k] ? starts[k] : starts[std::max<size_t>(1, k - 1)];
      INFO("max_bytes " << max_bytes);
      CHECK(r->region.length == want);
      auto bytes = r->region.load();
      REQUIRE(bytes.ok());
      CHECK_NOTHROW(decode_all(*bytes));
    }
  }
}

TEST_CASE("file_region::load_into reads into a caller's buffer and refuses a short one") {
  scratch_dir dir;
  log_config config;
  config.retention_ms = -1;
  fake_clock clock;
  auto log = partition_log::open(dir.path / "t-0", config, clock.fn(), nullptr, false);
  REQUIRE(log.ok());
  for (int i = 0; i < 4; ++i) {
    auto batch = make_batch(3, 1000 + i, std::to_string(i));
    REQUIRE((*log)->append(batch).ok());
  }
  auto r = (*log)->read(0, 1 << 20);
  REQUIRE(r.ok());
  auto whole = r->region.load();
  REQUIRE(whole.ok());
  REQUIRE(whole->size() == r->region.length);

  std::vector<uint8_t> buf(r->region.length + 100, 0xAB);
  REQUIRE(r->region.load_into(buf).ok());
  CHECK(std::equal(whole->begin(), whole->end(), buf.begin()));
  CHECK(buf[r->region.length] == 0xAB);  // nothing written past the region

  std::vector<uint8_t> small(r->region.length - 1);
  CHECK(!r->region.load_into(small).ok());

  file_region empty;
  std::vector<uint8_t> none;
  CHECK(empty.load_into(none).ok());
}

TEST_CASE("reads stop at segment ends and, followed by next_offset, return every batch once") {
  scratch_dir dir;
  log_config config;
  config.segment_bytes = 3000;  // a few batches per segment
  config.index_interval_bytes = 200;
  config.retention_ms = -1;
  fake_clock clock;
  auto opened = partition_log::open(dir.path / "t-0", config, clock.fn(), nullptr, false);
  REQUIRE(opened.ok());
  auto& log = *opened;
  std::mt19937 rng(11);
  int64_t records = 0;
  for (int i = 0; i < 40; ++i) {
    int n = 1 + static_cast<int>(rng() % 12);
    auto batch = make_batch(n, 1000 + records, std::to_string(i), 10 + rng() % 60);
    REQUIRE(log->append(batch).ok());
    records += n;
  }
  REQUIRE(log->segment_count() > 5);
  auto bases = log->segment_base_offsets();
  for (uint64_t max_bytes : {uint64_t{0}, uint64_t{100}, uint64_t{700}, uint64_t{2999}, uint64_t{1} << 20}) {
    INFO("max_bytes " << max_bytes);
    int64_t offset = 0;
    int64_t expected_next_record = 0;
    while (offset < log->log_end_offset()) {
      auto r = log->read(offset, max_bytes);
      REQUIRE(r.ok());
      REQUIRE(r->region.length > 0);
      auto bytes = r->region.load();
      REQUIRE(bytes.ok());
      auto recs = decode_all(*bytes);
      REQUIRE(!recs.empty());
      CHECK(recs.front().offset == expected_next_record);
      CHECK(recs.back().offset + 1 == r->region.next_offset);
      // Never past the end of the segment the region starts in.
      auto seg = std::upper_bound(bases.begin(), bases.end(), r->region.first_offset);
      if (seg != bases.end()) CHECK(r->region.next_offset <= *seg);
      expected_next_record = recs.back().offset + 1;
      offset = r->region.next_offset;
    }
    CHECK(expected_next_record == records);
  }
}
