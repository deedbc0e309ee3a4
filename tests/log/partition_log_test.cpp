#include "log/partition_log.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <errno.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/os/file_io.hpp"
#include "log/format.hpp"
#include "tests/log/log_test_util.hpp"

using namespace brook::log;
using namespace brook::log::testing;
using brook::common::kafka_error;
namespace fs = std::filesystem;
namespace os = brook::common::os;

namespace {

struct fixture {
  scratch_dir dir;
  fake_clock clock;
  std::shared_ptr<log_dir_health> health = std::make_shared<log_dir_health>();
  log_config config;

  fixture() {
    config.segment_bytes = 1000;
    config.index_interval_bytes = 100;
    config.retention_ms = -1;
  }
  std::unique_ptr<partition_log> open(bool clean = false) {
    auto log = partition_log::open(dir.path / "t-0", config, clock.fn(), health, clean);
    REQUIRE(log.ok());
    return std::move(log).value();
  }
};

brook::common::result<append_result> append_vec(partition_log& log, std::vector<uint8_t> batch) {
  return log.append(batch);
}

append_result append_ok(partition_log& log, std::vector<uint8_t> batch) {
  auto r = log.append(batch);
  REQUIRE(r.ok());
  return *r;
}

// Reads the whole log from log_start_offset by following next_offset.
std::vector<decoded_record> read_everything(const partition_log& log, uint64_t max_bytes = 1 << 20) {
  std::vector<decoded_record> out;
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    auto r = log.read(offset, max_bytes);
    REQUIRE(r.ok());
    REQUIRE(r->region.length > 0);
    auto bytes = r->region.load();
    REQUIRE(bytes.ok());
    for (auto& rec : decode_all(*bytes))
      if (rec.offset >= offset) out.push_back(rec);
    REQUIRE(r->region.next_offset > offset);
    offset = r->region.next_offset;
  }
  return out;
}

}  // namespace

TEST_CASE("append assigns offsets and reads return them across segment rolls") {
  fixture f;
  auto log = f.open();
  CHECK(log->log_start_offset() == 0);
  CHECK(log->log_end_offset() == 0);
  std::vector<std::string> values;
  for (int b = 0; b < 60; ++b) {
    auto res = append_ok(*log, make_batch(3, f.clock.now + b, "b" + std::to_string(b)));
    CHECK(res.first_offset == b * 3);
    CHECK(res.last_offset == b * 3 + 2);
    CHECK(res.record_count == 3);
    CHECK(res.log_append_time == -1);
    for (int i = 0; i < 3; ++i) values.push_back("b" + std::to_string(b) + "-" + std::to_string(i));
  }
  CHECK(log->log_end_offset() == 180);
  CHECK(log->segment_count() > 5);
  auto bases = log->segment_base_offsets();
  for (size_t i = 0; i < bases.size(); ++i) {
    auto name = f.dir.path / "t-0" / (fmt::format("{:020d}", bases[i]) + ".log");
    CHECK(fs::exists(name));
    CHECK(fs::file_size(name) <= 1000);
  }

  auto check_all = [&](const partition_log& l) {
    auto all = read_everything(l);
    REQUIRE(all.size() == values.size());
    for (size_t i = 0; i < all.size(); ++i) {
      CHECK(all[i].offset == static_cast<int64_t>(i));
      CHECK(all[i].value.substr(0, values[i].size()) == values[i]);
    }
    // Every single offset: the region starts with the batch holding it, and holds whole batches only.
    for (int64_t o = 0; o < 180; ++o) {
      auto r = l.read(o, 1);
      REQUIRE(r.ok());
      CHECK(r->region.first_offset == o - o % 3);
      CHECK(r->region.next_offset == o - o % 3 + 3);
      auto recs = decode_all(*r->region.load());
      REQUIRE(recs.size() == 3);
      CHECK(recs[o % 3].offset == o);
    }
    CHECK(l.read(180, 100).ok());
    CHECK(l.read(180, 100)->region.length == 0);
    CHECK(l.read(181, 100).code() == kafka_error::offset_out_of_range);
    CHECK(l.read(-1, 100).code() == kafka_error::offset_out_of_range);
  };
  check_all(*log);

  // Reopen after a clean close, and after an unclean one.
  REQUIRE(log->close().ok());
  log.reset();
  log = f.open(true);
  CHECK(log->log_end_offset() == 180);
  CHECK_FALSE(log->recovery_report().recovered);
  check_all(*log);
  append_ok(*log, make_batch(3, f.clock.now, "b60"));
  for (int i = 0; i < 3; ++i) values.push_back("b60-" + std::to_string(i));
  log.reset();  // no close: as after a crash
  log = f.open(false);
  CHECK(log->log_end_offset() == 183);
  auto all = read_everything(*log);
  CHECK(all.size() == 183);
}

TEST_CASE("read returns whole batches up to max_bytes, but at least one") {
  fixture f;
  f.config.segment_bytes = 1 << 20;
  auto log = f.open();
  auto batch = make_batch(2, f.clock.now);
  uint64_t size = batch.size();
  for (int i = 0; i < 10; ++i) append_ok(*log, batch);
  CHECK(log->read(0, 0)->region.length == size);
  CHECK(log->read(0, size - 1)->region.length == size);
  CHECK(log->read(0, size)->region.length == size);
  CHECK(log->read(0, 2 * size + 5)->region.length == 2 * size);
  CHECK(log->read(5, 3 * size)->region.first_offset == 4);
  CHECK(log->read(5, 3 * size)->region.next_offset == 10);
  CHECK(log->read(0, 1 << 30)->region.length == 10 * size);
  auto r = log->read(3, 1);
  REQUIRE(r.ok());
  CHECK(r->region.position == size);
  CHECK(r->log_end_offset == 20);
  CHECK(r->log_start_offset == 0);
}

TEST_CASE("append with crc_verified skips only the CRC, still refusing bad lengths and magic") {
  fixture f;
  auto log = f.open();
  // A caller that verified the CRC itself: the log does not compute it again (a flipped CRC field
  // shows it was not recomputed), but lengths and magic are still its own to check.
  auto batch = make_batch(2, f.clock.now);
  batch[brook::common::batch_layout::crc] ^= 0xFF;
  CHECK(log->append(batch).code() == kafka_error::corrupt_message);
  auto appended = log->append(batch, -1, /*crc_verified=*/true);
  REQUIRE(appended);
  CHECK(appended->last_offset == 1);
  auto wrong_magic = make_batch(1, f.clock.now);
  wrong_magic[16] = 1;
  CHECK(log->append(wrong_magic, -1, true).code() == kafka_error::corrupt_message);
  auto truncated = make_batch(2, f.clock.now);
  truncated.pop_back();
  CHECK(log->append(truncated, -1, true).code() == kafka_error::corrupt_message);
  CHECK(log->log_end_offset() == 2);
}

TEST_CASE("append validates every batch before writing any") {
  fixture f;
  auto log = f.open();
  auto good = make_batch(2, f.clock.now);
  auto bad = make_batch(2, f.clock.now);
  bad.back() ^= 0xFF;
  std::vector<uint8_t> both = good;
  both.insert(both.end(), bad.begin(), bad.end());
  CHECK(log->append(both).code() == kafka_error::corrupt_message);
  CHECK(log->log_end_offset() == 0);

  auto wrong_magic = make_batch(1, f.clock.now);
  wrong_magic[16] = 1;
  CHECK(log->append(wrong_magic).code() == kafka_error::corrupt_message);

  auto truncated = make_batch(2, f.clock.now);
  truncated.pop_back();
  CHECK(log->append(truncated).code() == kafka_error::corrupt_message);

  f.config.max_message_bytes = 100;
  log->set_config(f.config);
  CHECK(append_vec(*log, make_batch(10, f.clock.now)).code() == kafka_error::message_too_large);
  CHECK(log->log_end_offset() == 0);
  CHECK(fs::file_size(f.dir.path / "t-0" / "00000000000000000000.log") == 0);

  std::vector<uint8_t> empty;
  auto none = log->append(empty);
  REQUIRE(none.ok());
  CHECK(none->first_offset == -1);
}

TEST_CASE("append rewrites only the header fields it owns") {
  fixture f;
  auto log = f.open();
  append_ok(*log, make_batch(4, f.clock.now));
  auto batch = make_batch(3, 5000);
  auto original = batch;
  auto res = log->append(batch, 17);
  REQUIRE(res.ok());
  auto bytes = *log->read(4, 1)->region.load();
  REQUIRE(bytes.size() == original.size());
  auto view = brook::common::record_batch_view::parse(bytes);
  REQUIRE(view.ok());
  CHECK(view->validate().ok());
  CHECK(view->base_offset() == 4);
  CHECK(view->partition_leader_epoch() == 17);
  CHECK(view->crc() == brook::common::record_batch_view(original).crc());
  CHECK(std::equal(bytes.begin() + 17, bytes.end(), original.begin() + 17));  // from the magic's successor on
}

TEST_CASE("LogAppendTime topics stamp the batch with the append time") {
  fixture f;
  f.config.message_timestamp_type = brook::common::timestamp_type::log_append_time;
  auto log = f.open();
  f.clock.now = 1'800'000'000'000;
  auto res = append_vec(*log, make_batch(3, 42));
  REQUIRE(res.ok());
  CHECK(res->log_append_time == f.clock.now);
  auto bytes = *log->read(0, 1)->region.load();
  auto view = brook::common::record_batch_view::parse(bytes);
  REQUIRE(view.ok());
  CHECK(view->validate().ok());
  CHECK(view->ts_type() == brook::common::timestamp_type::log_append_time);
  CHECK(view->max_timestamp() == f.clock.now);
  auto recs = decode_all(bytes);
  for (auto& r : recs) CHECK(r.timestamp == f.clock.now);
}

TEST_CASE("offset_for_timestamp finds the first record at or after a time, at every boundary") {
  fixture f;
  f.config.segment_ms = std::numeric_limits<int64_t>::max() / 2;
  auto log = f.open();
  std::vector<std::pair<int64_t, int64_t>> records;  // (offset, timestamp)
  std::mt19937 rng(7);
  bool monotonic = GENERATE(true, false);
  int64_t t = 10'000;
  for (int b = 0; b < 40; ++b) {
    brook::common::record_batch_builder builder;
    for (int i = 0; i < 3; ++i) {
      int64_t ts = monotonic ? t + b * 10 + i * 3 : 10'000 + static_cast<int64_t>(rng() % 500);
      builder.add("k", "v" + std::to_string(b), ts);
      records.emplace_back(static_cast<int64_t>(records.size()), ts);
    }
    auto bytes = builder.build();
    append_ok(*log, bytes);
  }
  REQUIRE(log->segment_count() > 2);
  int64_t max_ts = 0;
  for (auto& [o, ts] : records) max_ts = std::max(max_ts, ts);
  auto check = [&](const partition_log& l) {
    for (int64_t target = 9'990; target <= max_ts + 2; ++target) {
      std::optional<std::pair<int64_t, int64_t>> expected;
      for (auto& r : records)
        if (r.second >= target) {
          expected = r;
          break;
        }
      auto got = l.offset_for_timestamp(target);
      REQUIRE(got.ok());
      INFO("target " << target);
      REQUIRE(got->has_value() == expected.has_value());
      if (expected) {
        CHECK((*got)->offset == expected->first);
        CHECK((*got)->timestamp == expected->second);
      }
    }
    auto mx = l.max_timestamp();
    REQUIRE(mx.ok());
    REQUIRE(mx->has_value());
    CHECK((*mx)->timestamp == max_ts);
    auto first_max = std::find_if(records.begin(), records.end(), [&](auto& r) { return r.second == max_ts; });
    CHECK((*mx)->offset == first_max->first);
  };
  check(*log);
  REQUIRE(log->close().ok());
  log = f.open(true);
  check(*log);
  // After a crash the indexes are rebuilt; the answers must not change.
  log.reset();
  fs::remove(f.dir.path / "t-0" / format::partition_checkpoint_name);
  log = f.open(false);
  check(*log);
}

TEST_CASE("offset_for_timestamp on an empty log") {
  fixture f;
  auto log = f.open();
  CHECK_FALSE(log->offset_for_timestamp(0)->has_value());
  CHECK_FALSE(log->max_timestamp()->has_value());
}

TEST_CASE("segments roll on segment_ms, counted from the first batch's timestamp") {
  fixture f;
  f.config.segment_bytes = 1 << 20;
  f.config.segment_ms = 1000;
  auto log = f.open();
  append_ok(*log, make_batch(1, f.clock.now));
  f.clock.now += 1000;
  append_ok(*log, make_batch(1, f.clock.now));
  CHECK(log->segment_count() == 1);
  f.clock.now += 1;
  append_ok(*log, make_batch(1, f.clock.now));
  CHECK(log->segment_count() == 2);
  CHECK(log->segment_base_offsets() == std::vector<int64_t>{0, 2});
}

TEST_CASE("segment_ms compares record timestamps, not the wall clock, when batches carry them") {
  fixture f;
  f.config.segment_bytes = 1 << 20;
  f.config.segment_ms = 1000;
  auto log = f.open();
  for (int i = 0; i < 50; ++i) append_ok(*log, make_batch(1, 5'000 + i));  // years before the clock's now
  CHECK(log->segment_count() == 1);
  append_ok(*log, make_batch(1, 5'000 + 1001));
  CHECK(log->segment_count() == 2);
}

TEST_CASE("time retention deletes whole expired segments, oldest first") {
  fixture f;
  f.config.retention_ms = 10'000;
  f.config.segment_ms = 1000;
  f.config.segment_bytes = 1 << 20;
  auto log = f.open();
  int64_t start = f.clock.now;
  for (int i = 0; i < 5; ++i) {  // one segment each: batch i's max timestamp is start + i * 1002 + 1
    append_ok(*log, make_batch(2, f.clock.now));
    f.clock.now += 1002;
  }
  REQUIRE(log->segment_count() == 5);
  CHECK(*log->enforce_retention() == 0);
  f.clock.now = start + 12004;  // segments 0 and 1 are now more than 10 s old, segment 2 is not
  auto deleted = log->enforce_retention();
  REQUIRE(deleted.ok());
  CHECK(*deleted == 2);
  CHECK(log->log_start_offset() == 4);
  CHECK(log->segment_base_offsets() == std::vector<int64_t>{4, 6, 8});
  CHECK(log->read(3, 100).code() == kafka_error::offset_out_of_range);
  CHECK(decode_all(*log->read(4, 1)->region.load()).front().offset == 4);
  CHECK_FALSE(fs::exists(f.dir.path / "t-0" / "00000000000000000000.log"));
  CHECK_FALSE(fs::exists(f.dir.path / "t-0" / "00000000000000000000.index"));

  // Everything expired: the active segment goes too and the log continues at the same end offset.
  f.clock.now += 100'000;
  CHECK(*log->enforce_retention() == 3);
  CHECK(log->log_start_offset() == 10);
  CHECK(log->log_end_offset() == 10);
  CHECK(log->read(10, 100)->region.length == 0);
  CHECK(append_ok(*log, make_batch(1, f.clock.now)).first_offset == 10);
  log.reset();
  log = f.open();
  CHECK(log->log_start_offset() == 10);
  CHECK(log->log_end_offset() == 11);
}

TEST_CASE("size retention keeps the log at or above retention_bytes") {
  fixture f;
  f.config.segment_bytes = 1000;
  auto log = f.open();
  for (int i = 0; i < 40; ++i) append_ok(*log, make_batch(2, f.clock.now));
  uint64_t total = log->size_bytes();
  auto first_segment_bytes = fs::file_size(f.dir.path / "t-0" / "00000000000000000000.log");
  f.config.retention_bytes = static_cast<int64_t>(total - first_segment_bytes);
  log->set_config(f.config);
  CHECK(*log->enforce_retention() == 1);
  CHECK(*log->enforce_retention() == 0);
  CHECK(log->size_bytes() == total - first_segment_bytes);
  f.config.retention_bytes = 0;
  log->set_config(f.config);
  REQUIRE(log->enforce_retention().ok());
  CHECK(log->size_bytes() == 0);
  CHECK(log->log_start_offset() == 80);
  CHECK(log->log_end_offset() == 80);
}

TEST_CASE("delete_records_before moves the log start offset and frees whole segments") {
  fixture f;
  auto log = f.open();
  for (int i = 0; i < 30; ++i) append_ok(*log, make_batch(2, f.clock.now + i));
  CHECK(log->delete_records_before(61).code() == kafka_error::offset_out_of_range);
  auto r = log->delete_records_before(25);
  REQUIRE(r.ok());
  CHECK(*r == 25);
  CHECK(log->log_start_offset() == 25);
  CHECK(log->segment_base_offsets().front() <= 25);
  CHECK(log->segment_base_offsets().front() > 0);
  CHECK(log->read(24, 10).code() == kafka_error::offset_out_of_range);
  auto first = log->read(25, 1);
  REQUIRE(first.ok());
  CHECK(first->region.first_offset == 24);  // the batch holding 25
  CHECK((*log->offset_for_timestamp(0))->offset == 25);
  CHECK(*log->delete_records_before(10) == 25);  // never moves back
  log.reset();
  log = f.open();
  CHECK(log->log_start_offset() == 25);
  CHECK(*log->delete_records_before(-1) == 60);
  CHECK(log->read(60, 10)->region.length == 0);
}

TEST_CASE("max_timestamp ignores the log start offset as Kafka does after DeleteRecords") {
  fixture f;
  f.config.segment_bytes = 1 << 20;
  auto log = f.open();
  const int64_t t = f.clock.now;
  append_ok(*log, make_batch(2, t));       // offsets 0-1
  append_ok(*log, make_batch(2, t + 50));  // offsets 2-3 (t+50, t+51): the largest timestamp, at 3
  append_ok(*log, make_batch(2, t + 10));  // offsets 4-5
  REQUIRE(*log->delete_records_before(5) == 5);
  auto mx = log->max_timestamp();
  REQUIRE(mx.ok());
  REQUIRE(mx->has_value());
  CHECK((*mx)->timestamp == t + 51);
  CHECK((*mx)->offset == 3);
  // Lookups by timestamp still start at the log start offset.
  CHECK_FALSE(log->offset_for_timestamp(t + 50)->has_value());
  // After a restart the segment's max comes from its time index: the same answer.
  REQUIRE(log->close().ok());
  log = f.open(true);
  CHECK((*log->max_timestamp())->offset == 3);
  // Everything deleted: the active segment stays (Kafka deletes a segment below the log start only
  // once a later one begins at or before it), and still answers.
  REQUIRE(*log->delete_records_before(-1) == 6);
  CHECK((*log->max_timestamp())->offset == 3);
}

TEST_CASE("flush policy and durability") {
  fixture f;
  SECTION("explicit flush") {
    auto log = f.open();
    append_ok(*log, make_batch(3, f.clock.now));
    CHECK_FALSE(log->is_durable(0));
    REQUIRE(log->flush().ok());
    CHECK(log->recovery_point() == 3);
    CHECK(log->is_durable(2));
    CHECK_FALSE(log->is_durable(3));
  }
  SECTION("flush_messages") {
    f.config.flush_messages = 5;
    auto log = f.open();
    append_ok(*log, make_batch(3, f.clock.now));
    CHECK(log->recovery_point() == 0);
    append_ok(*log, make_batch(3, f.clock.now));
    CHECK(log->recovery_point() == 6);
  }
  SECTION("flush_ms") {
    f.config.flush_ms = 500;
    auto log = f.open();
    append_ok(*log, make_batch(3, f.clock.now));
    REQUIRE(log->maybe_flush().ok());
    CHECK(log->recovery_point() == 0);
    f.clock.now += 500;
    REQUIRE(log->maybe_flush().ok());
    CHECK(log->recovery_point() == 3);
    f.clock.now += 500;
    append_ok(*log, make_batch(3, f.clock.now));  // due at append time
    CHECK(log->recovery_point() == 6);
  }
}

TEST_CASE("an fsync failure fails the log dir for good") {
  fixture f;
  auto log = f.open();
  append_ok(*log, make_batch(3, f.clock.now));
  os::set_fault_injector([](os::io_op op, size_t&) { return op == os::io_op::sync ? EIO : 0; });
  auto r = log->flush();
  os::set_fault_injector({});
  CHECK(r.code() == kafka_error::kafka_storage_error);
  CHECK(f.health->failed());
  CHECK_FALSE(log->is_durable(0));
  CHECK(append_vec(*log, make_batch(1, f.clock.now)).code() == kafka_error::kafka_storage_error);
  CHECK(log->flush().code() == kafka_error::kafka_storage_error);
  CHECK(log->close().code() == kafka_error::kafka_storage_error);
}

TEST_CASE("an fsync failure under flush_messages fails the append that triggered it") {
  fixture f;
  f.config.flush_messages = 1;
  auto log = f.open();
  os::set_fault_injector([](os::io_op op, size_t&) { return op == os::io_op::sync ? EIO : 0; });
  auto r = append_vec(*log, make_batch(1, f.clock.now));
  os::set_fault_injector({});
  CHECK(r.code() == kafka_error::kafka_storage_error);
  CHECK(append_vec(*log, make_batch(1, f.clock.now)).code() == kafka_error::kafka_storage_error);
}

TEST_CASE("a full disk rejects the append, cuts the partial write and recovers when space returns") {
  fixture f;
  auto log = f.open();
  for (int i = 0; i < 3; ++i) append_ok(*log, make_batch(2, f.clock.now, "before"));
  auto log_file = f.dir.path / "t-0" / "00000000000000000000.log";
  auto size_before = fs::file_size(log_file);
  os::set_fault_injector([](os::io_op op, size_t& partial) {
    if (op != os::io_op::write) return 0;
    partial = 37;
    return ENOSPC;
  });
  auto r = append_vec(*log, make_batch(2, f.clock.now, "lost"));
  os::set_fault_injector({});
  CHECK(r.code() == kafka_error::kafka_storage_error);
  CHECK_FALSE(f.health->failed());
  CHECK(fs::file_size(log_file) == size_before);
  CHECK(log->log_end_offset() == 6);
  auto ok = append_ok(*log, make_batch(2, f.clock.now, "after"));
  CHECK(ok.first_offset == 6);
  auto all = read_everything(*log);
  REQUIRE(all.size() == 8);
  CHECK(all[5].value.starts_with("before-1"));
  CHECK(all[6].value.starts_with("after-0"));
  log.reset();
  log = f.open();
  CHECK(read_everything(*log).size() == 8);
}

TEST_CASE("a full disk while writing index entries at flush does not fail the dir") {
  fixture f;
  auto log = f.open();
  for (int i = 0; i < 20; ++i) append_ok(*log, make_batch(2, f.clock.now + i));
  os::set_fault_injector([](os::io_op op, size_t&) { return op == os::io_op::write ? ENOSPC : 0; });
  auto r = log->flush();
  os::set_fault_injector({});
  REQUIRE(r.ok());
  CHECK_FALSE(f.health->failed());
  CHECK(log->is_durable(39));
  append_ok(*log, make_batch(2, f.clock.now + 20));
  REQUIRE(log->close().ok());
  log.reset();
  log = f.open(true);
  CHECK_FALSE(log->recovery_report().recovered);  // the pending entries were written by the later flush
  CHECK(read_everything(*log).size() == 42);
}

TEST_CASE("transactions: the last stable offset, markers and the transaction index") {
  fixture f;
  f.config.segment_bytes = 1 << 20;
  auto log = f.open();
  CHECK(log->last_stable_offset() == 0);
  append_ok(*log, make_batch(2, f.clock.now));                                   // 0-1: plain
  auto a = append_ok(*log, make_producer_batch(10, 0, 0, 2, f.clock.now, true));  // 2-3: producer 10
  CHECK(a.first_offset == 2);
  CHECK(log->last_stable_offset() == 2);
  CHECK(log->high_watermark() == 4);
  append_ok(*log, make_producer_batch(20, 0, 0, 1, f.clock.now, true));           // 4: producer 20
  append_ok(*log, make_producer_batch(10, 0, 2, 1, f.clock.now, true));           // 5: producer 10 again
  CHECK(log->producer_state().ongoing_transactions() == std::map<int64_t, int64_t>{{2, 10}, {4, 20}});

  // A marker from an older epoch is refused, and nothing is written.
  auto stale = log->append_marker(10, -1, true, 0);
  CHECK(stale.code() == kafka_error::invalid_producer_epoch);
  CHECK(log->log_end_offset() == 6);

  // Abort producer 10's transaction [2, 6]: producer 20's (from 4) is still open.
  f.clock.now += 5;
  auto m = log->append_marker(10, 0, /*commit=*/false, /*coordinator_epoch=*/3);
  REQUIRE(m.ok());
  CHECK(m->first_offset == 6);
  CHECK(m->last_offset == 6);
  CHECK(log->last_stable_offset() == 4);
  auto marker = log->read(6, 1 << 20);
  REQUIRE(marker.ok());
  auto marker_bytes = marker->region.load();
  REQUIRE(marker_bytes.ok());
  auto view = brook::common::record_batch_view::parse(*marker_bytes);
  REQUIRE(view.ok());
  CHECK(view->is_control());
  CHECK(view->producer_id() == 10);
  CHECK(view->max_timestamp() == f.clock.now);
  auto decoded = brook::common::decode_end_txn_marker(*view);
  REQUIRE(decoded.ok());
  CHECK(**decoded == brook::common::end_txn_marker{brook::common::control_record_type::abort, 3});
  // An older coordinator may not end producer 10's next transaction.
  append_ok(*log, make_producer_batch(10, 0, 3, 1, f.clock.now, true));  // 7
  CHECK(log->append_marker(10, 0, true, 2).code() == kafka_error::transaction_coordinator_fenced);

  // Commit producer 20's: the LSO moves to producer 10's second transaction.
  REQUIRE(log->append_marker(20, 0, true, 3).ok());  // 8
  CHECK(log->last_stable_offset() == 7);
  REQUIRE(log->append_marker(10, 0, false, 3).ok());  // 9: abort [7, 9]
  CHECK(log->last_stable_offset() == 10);
  CHECK(log->last_stable_offset() == log->high_watermark());

  const auto txn_file = f.dir.path / "t-0" / "00000000000000000000.txnindex";
  REQUIRE(fs::exists(txn_file));
  CHECK(fs::file_size(txn_file) == 2 * format::aborted_txn_entry_size);

  // read_committed stops at the last stable offset and reports the aborted transactions in range.
  append_ok(*log, make_producer_batch(30, 0, 0, 1, f.clock.now, true));  // 10: open
  append_ok(*log, make_batch(1, f.clock.now));                           // 11
  CHECK(log->last_stable_offset() == 10);
  auto committed = log->read(0, 1 << 20, isolation_level::read_committed);
  REQUIRE(committed.ok());
  CHECK(committed->region.next_offset == 10);
  CHECK(committed->last_stable_offset == 10);
  REQUIRE(committed->aborted_transactions);
  CHECK(*committed->aborted_transactions == std::vector<aborted_transaction>{{10, 2}, {10, 7}});
  auto records = decode_all(*committed->region.load());
  CHECK(records.back().offset == 9);
  // From offset 8 on only the second abort overlaps; at the LSO the read is empty.
  auto later = log->read(8, 1 << 20, isolation_level::read_committed);
  REQUIRE(later.ok());
  CHECK(*later->aborted_transactions == std::vector<aborted_transaction>{{10, 7}});
  auto at_lso = log->read(10, 1 << 20, isolation_level::read_committed);
  REQUIRE(at_lso.ok());
  CHECK(at_lso->region.length == 0);
  CHECK(at_lso->aborted_transactions->empty());
  // read_uncommitted sees everything and no aborted list.
  auto uncommitted = log->read(0, 1 << 20);
  REQUIRE(uncommitted.ok());
  CHECK(uncommitted->region.next_offset == 12);
  CHECK_FALSE(uncommitted->aborted_transactions);
  // A small max_bytes still returns one batch and the aborts overlapping just that batch.
  auto small = log->read(2, 1, isolation_level::read_committed);
  REQUIRE(small.ok());
  CHECK(small->region.next_offset == 4);
  CHECK(*small->aborted_transactions == std::vector<aborted_transaction>{{10, 2}});
}

TEST_CASE("transactions: the transaction index follows segments, and the producer state reloads") {
  fixture f;
  f.config.segment_bytes = 400;
  std::vector<std::pair<int64_t, int64_t>> aborts;
  {
    auto log = f.open();
    for (int i = 0; i < 6; ++i) {
      auto first = append_ok(*log, make_producer_batch(5, 0, 2 * i, 2, f.clock.now, true)).first_offset;
      append_ok(*log, make_batch(1, f.clock.now));
      auto m = log->append_marker(5, 0, i % 2 == 1, 0);
      REQUIRE(m.ok());
      if (i % 2 == 0) aborts.emplace_back(first, m->first_offset);
    }
    append_ok(*log, make_producer_batch(6, 0, 0, 1, f.clock.now, true));  // left open
    REQUIRE(log->segment_count() > 2);
    REQUIRE(log->close().ok());
  }
  auto log = f.open(true);
  // Without a snapshot the state is rebuilt from the log start.
  REQUIRE(log->load_producer_state(std::nullopt).ok());
  CHECK(log->producer_state().ongoing_transactions().size() == 1);
  CHECK(log->last_stable_offset() == log->log_end_offset() - 1);
  int64_t offset = 0;
  std::vector<aborted_transaction> reported;
  while (offset < log->last_stable_offset()) {
    auto r = log->read(offset, 1 << 20, isolation_level::read_committed);
    REQUIRE(r.ok());
    for (auto& t : *r->aborted_transactions)
      if (std::find(reported.begin(), reported.end(), t) == reported.end()) reported.push_back(t);
    offset = r->region.next_offset;
  }
  REQUIRE(reported.size() == aborts.size());
  for (size_t i = 0; i < aborts.size(); ++i) CHECK(reported[i] == aborted_transaction{5, aborts[i].first});

  // Retention deletes a segment's .txnindex with it.
  const auto first_txn = f.dir.path / "t-0" / "00000000000000000000.txnindex";
  REQUIRE(fs::exists(first_txn));
  auto bases = log->segment_base_offsets();
  REQUIRE(log->delete_records_before(bases[1]).ok());
  CHECK_FALSE(fs::exists(first_txn));
}
