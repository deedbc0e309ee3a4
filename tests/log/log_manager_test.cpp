#include "log/log_manager.hpp"

#include <catch2/catch.hpp>
#include <errno.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "common/os/file_io.hpp"
#include "log/format.hpp"
#include "log/segment.hpp"
#include "tests/log/log_test_util.hpp"

using namespace brook::log;
using namespace brook::log::testing;
using brook::common::kafka_error;
namespace fs = std::filesystem;
namespace os = brook::common::os;

namespace {
std::unique_ptr<log_manager> open_manager(const fs::path& dir, fake_clock& clock) {
  auto m = log_manager::open(dir, [](const topic_partition&) { return log_config{}; }, clock.fn());
  REQUIRE(m.ok());
  return std::move(m).value();
}

void append_one(partition_log& log, int64_t ts) {
  auto batch = make_batch(2, ts);
  REQUIRE(log.append(batch).ok());
}
}  // namespace

TEST_CASE("partition directory names") {
  CHECK(topic_partition{"orders", 3}.dir_name() == "orders-3");
  auto tp = topic_partition::parse_dir_name("my-topic-12");
  REQUIRE(tp.has_value());
  CHECK(tp->topic == "my-topic");
  CHECK(tp->partition == 12);
  CHECK_FALSE(topic_partition::parse_dir_name("nodash").has_value());
  CHECK_FALSE(topic_partition::parse_dir_name("t-").has_value());
  CHECK_FALSE(topic_partition::parse_dir_name("-1").has_value());
  CHECK_FALSE(topic_partition::parse_dir_name("t-x1").has_value());
  CHECK_FALSE(topic_partition::parse_dir_name("t-1.5-delete").has_value());
}

TEST_CASE("the log manager creates, lists, reopens and removes partitions") {
  scratch_dir dir;
  fake_clock clock;
  {
    auto m = open_manager(dir.path, clock);
    CHECK(m->partitions().empty());
    auto a = m->create({"orders", 0}, log_config{});
    REQUIRE(a.ok());
    auto b = m->create({"orders", 1}, log_config{});
    REQUIRE(b.ok());
    REQUIRE(m->create({"my-topic", 0}, log_config{}).ok());
    CHECK(m->create({"orders", 0}, log_config{}).value() == *a);  // idempotent
    CHECK(m->create({"bad/name", 0}, log_config{}).code() == kafka_error::invalid_topic_exception);
    append_one(**a, clock.now);
    append_one(**b, clock.now);
    append_one(**b, clock.now);
    CHECK(fs::is_directory(dir.path / "orders-0"));
    REQUIRE(m->close().ok());
    CHECK(fs::exists(dir.path / format::clean_shutdown_marker));
  }
  {
    auto m = open_manager(dir.path, clock);
    CHECK(m->opened_after_clean_shutdown());
    CHECK_FALSE(fs::exists(dir.path / format::clean_shutdown_marker));  // removed while running
    auto parts = m->partitions();
    REQUIRE(parts.size() == 3);
    CHECK(parts[0] == topic_partition{"my-topic", 0});
    CHECK(parts[1] == topic_partition{"orders", 0});
    CHECK(m->get({"orders", 1})->log_end_offset() == 4);
    CHECK(m->get({"orders", 0})->log_end_offset() == 2);
    CHECK(m->get({"nope", 0}) == nullptr);
    REQUIRE(m->remove({"orders", 0}).ok());
    CHECK_FALSE(fs::exists(dir.path / "orders-0"));
    CHECK(m->remove({"orders", 0}).code() == kafka_error::unknown_topic_or_partition);
    CHECK(m->partitions().size() == 2);
    // No close(): the next open must recover.
  }
  {
    fs::create_directories(dir.path / "orders-1.123_1-delete");  // a deletion interrupted by a crash
    auto m = open_manager(dir.path, clock);
    CHECK_FALSE(m->opened_after_clean_shutdown());
    CHECK(m->partitions().size() == 2);
    CHECK(m->get({"orders", 1})->log_end_offset() == 4);
    CHECK_FALSE(fs::exists(dir.path / "orders-1.123_1-delete"));
  }
}

TEST_CASE("a log dir opened without fsync syncs nothing, and still writes and reopens everything") {
  scratch_dir dir;
  fake_clock clock;
  // The fault hook sees every sync_data, sync_all and sync_directory: count the syncs, fail none.
  auto run = [&](bool fsync) {
    int syncs = 0;
    os::set_fault_injector([&syncs](os::io_op op, size_t&) {
      if (op == os::io_op::sync) ++syncs;
      return 0;
    });
    auto m = log_manager::open(dir.path / (fsync ? "synced" : "unsynced"),
                               [](const topic_partition&) { return log_config{}; }, clock.fn(), {}, nullptr, fsync);
    REQUIRE(m.ok());
    auto log = (*m)->create({"orders", 0}, log_config{});
    REQUIRE(log.ok());
    CHECK((*log)->config().fsync == fsync);
    append_one(**log, clock.now);
    REQUIRE((*log)->flush().ok());
    CHECK((*log)->is_durable(1));  // the recovery point moves all the same
    (*log)->set_config(log_config{});  // a topic config change keeps the dir's setting
    CHECK((*log)->config().fsync == fsync);
    append_one(**log, clock.now);
    REQUIRE((*m)->close().ok());
    os::set_fault_injector({});
    return syncs;
  };
  CHECK(run(true) > 0);
  CHECK(run(false) == 0);

  auto reopened = log_manager::open(dir.path / "unsynced", [](const topic_partition&) { return log_config{}; },
                                    clock.fn(), {}, nullptr, false);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->opened_after_clean_shutdown());
  CHECK((*reopened)->get({"orders", 0})->log_end_offset() == 4);
}

TEST_CASE("a log dir is opened by one manager at a time") {
  scratch_dir dir;
  fake_clock clock;
  auto m = open_manager(dir.path, clock);
  auto second = log_manager::open(dir.path, {}, clock.fn());
  CHECK(second.code() == kafka_error::kafka_storage_error);
}

TEST_CASE("no clean-shutdown marker after a failed flush") {
  scratch_dir dir;
  fake_clock clock;
  {
    auto m = open_manager(dir.path, clock);
    auto log = m->create({"t", 0}, log_config{});
    REQUIRE(log.ok());
    append_one(**log, clock.now);
    os::set_fault_injector([](os::io_op op, size_t&) { return op == os::io_op::sync ? EIO : 0; });
    auto flushed = m->flush_all();
    os::set_fault_injector({});
    CHECK(flushed.code() == kafka_error::kafka_storage_error);
    CHECK(m->failed());
    CHECK((*log)->append(std::span<uint8_t>()).code() == kafka_error::kafka_storage_error);
    CHECK(m->create({"t", 1}, log_config{}).code() == kafka_error::kafka_storage_error);
    CHECK(m->close().code() == kafka_error::kafka_storage_error);
  }
  CHECK_FALSE(fs::exists(dir.path / format::clean_shutdown_marker));
  auto m = open_manager(dir.path, clock);
  CHECK_FALSE(m->opened_after_clean_shutdown());
  CHECK(m->get({"t", 0})->log_end_offset() == 2);  // the data written is recovered, not invented
}

namespace {
size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Lowers this process's soft open-file limit for the scope of the object.
struct lowered_file_limit {
  rlimit saved{};
  explicit lowered_file_limit(rlim_t soft) {
    REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    rlimit lower = saved;
    lower.rlim_cur = soft;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &lower) == 0);
  }
  ~lowered_file_limit() { setrlimit(RLIMIT_NOFILE, &saved); }
};
}  // namespace

TEST_CASE("a partition log holds one descriptor: its active segment's log file", "[descriptors]") {
  if (!fs::exists("/proc/self/fd")) return;  // no way to count descriptors here
  scratch_dir dir;
  fake_clock clock;
  auto m = open_manager(dir.path, clock);
  const size_t before = open_descriptors();
  for (int32_t p = 0; p < 50; ++p) {
    auto log = m->create({"many", p}, log_config{});
    REQUIRE(log.ok());
    append_one(**log, clock.now);
    REQUIRE((*log)->flush().ok());
  }
  CHECK(open_descriptors() - before == 50);
  REQUIRE(m->close().ok());
  m.reset();
  // Reopened (loading the index files) it is still one per partition.
  auto again = open_manager(dir.path, clock);
  CHECK(again->partitions().size() == 50);
  CHECK(open_descriptors() - before == 50);  // (the lock of the first manager was counted in `before`)
}

TEST_CASE("running out of descriptors fails a creation, never the log dir", "[descriptors]") {
  if (!fs::exists("/proc/self/fd")) return;  // no way to count descriptors here
  scratch_dir dir;
  fake_clock clock;
  auto m = open_manager(dir.path, clock);
  std::optional<brook::common::error> refused;
  {
    lowered_file_limit limit(open_descriptors() + 20);
    for (int32_t p = 0; p < 100 && !refused; ++p) {
      auto log = m->create({"flood", p}, log_config{});
      if (!log) refused = log.err();
    }
  }
  REQUIRE(refused.has_value());
  CHECK(refused->message.find("Too many open files") != std::string::npos);
  CHECK_FALSE(m->failed());
  // With descriptors back, writes and creation work again.
  auto log = m->create({"after", 0}, log_config{});
  REQUIRE(log.ok());
  append_one(**log, clock.now);
  CHECK((*log)->flush().ok());
}

TEST_CASE("EMFILE on the directory fsync of a creation leaves the log dir online", "[descriptors]") {
  scratch_dir dir;
  fake_clock clock;
  auto m = open_manager(dir.path, clock);
  os::set_fault_injector([](os::io_op op, size_t&) { return op == os::io_op::sync ? EMFILE : 0; });
  auto created = m->create({"t", 0}, log_config{});
  os::set_fault_injector({});
  CHECK(created.code() == kafka_error::kafka_storage_error);
  CHECK_FALSE(m->failed());
  CHECK(m->create({"t", 1}, log_config{}).ok());
}

TEST_CASE("partitions the filter refuses are removed at open, not opened", "[startup]") {
  scratch_dir dir;
  fake_clock clock;
  {
    auto m = open_manager(dir.path, clock);
    REQUIRE(m->create({"kept", 0}, log_config{}).ok());
    REQUIRE(m->create({"orphan", 0}, log_config{}).ok());
    REQUIRE(m->close().ok());
  }
  auto keep = [](const topic_partition& tp) { return tp.topic == "kept"; };
  auto m = log_manager::open(dir.path, [](const topic_partition&) { return log_config{}; }, clock.fn(), keep);
  REQUIRE(m.ok());
  CHECK((*m)->partitions() == std::vector<topic_partition>{{"kept", 0}});
  CHECK_FALSE(fs::exists(dir.path / "orphan-0"));
  CHECK(fs::exists(dir.path / "kept-0"));
}

TEST_CASE("detach takes partitions out at once and remove_detached deletes them later") {
  scratch_dir dir;
  fake_clock clock;
  auto m = open_manager(dir.path, clock);
  for (int32_t p = 0; p < 3; ++p) {
    auto log = m->create({"orders", p}, log_config{});
    REQUIRE(log.ok());
    append_one(**log, clock.now);
  }
  REQUIRE(m->create({"kept", 0}, log_config{}).ok());
  auto doomed = m->detach({{"orders", 0}, {"orders", 1}, {"orders", 2}, {"never", 0}});
  REQUIRE(doomed.ok());
  REQUIRE(doomed->size() == 3);  // the unknown partition is skipped
  CHECK(m->partitions() == std::vector<topic_partition>{{"kept", 0}});
  for (const auto& d : *doomed) CHECK(fs::is_directory(d));
  CHECK_FALSE(fs::exists(dir.path / "orders-0"));
  // A partition of the same name starts empty while the old data still waits for deletion.
  auto fresh = m->create({"orders", 0}, log_config{});
  REQUIRE(fresh.ok());
  CHECK((*fresh)->log_end_offset() == 0);
  REQUIRE(m->remove_detached(*doomed).ok());
  for (const auto& d : *doomed) CHECK_FALSE(fs::exists(d));
  CHECK(fs::is_directory(dir.path / "orders-0"));
}

TEST_CASE("after a crash, partitions are opened and recovered on several threads", "[startup]") {
  scratch_dir dir;
  fake_clock clock;
  constexpr int partitions = 24;
  {
    auto m = open_manager(dir.path, clock);
    for (int p = 0; p < partitions; ++p) {
      auto log = m->create({"t", p}, log_config{});
      REQUIRE(log.ok());
      for (int i = 0; i <= p % 3; ++i) append_one(**log, clock.now);
    }
  }  // no close(): the next open recovers every partition
  {
    // A torn write at the end of one partition is cut by its recovery, whichever thread runs it.
    std::ofstream torn(dir.path / "t-7" / (segment::file_stem(0) + std::string(format::log_suffix)),
                       std::ios::binary | std::ios::app);
    torn << "not a record batch";
  }
  auto opened = log_manager::open(dir.path, [](const topic_partition&) { return log_config{}; }, clock.fn(), {},
                                  nullptr, true, 4);
  REQUIRE(opened.ok());
  auto& m = *opened;
  CHECK_FALSE(m->opened_after_clean_shutdown());
  REQUIRE(m->partitions().size() == partitions);
  for (int p = 0; p < partitions; ++p) {
    INFO("partition " << p);
    auto log = m->get({"t", p});
    REQUIRE(log != nullptr);
    CHECK(log->log_end_offset() == 2 * (p % 3 + 1));
    CHECK(log->recovery_report().recovered);
  }
  CHECK(m->get({"t", 7})->recovery_report().truncated_bytes == std::string_view("not a record batch").size());
  REQUIRE(m->close().ok());
}

TEST_CASE("a partition that cannot be opened fails the open on several threads too", "[startup]") {
  scratch_dir dir;
  fake_clock clock;
  {
    auto m = open_manager(dir.path, clock);
    for (int p = 0; p < 8; ++p) REQUIRE(m->create({"t", p}, log_config{}).ok());
  }
  // A directory where partition 5's segment file should be.
  auto segment_file = dir.path / "t-5" / (segment::file_stem(0) + std::string(format::log_suffix));
  fs::remove(segment_file);
  fs::create_directory(segment_file);
  auto opened = log_manager::open(dir.path, [](const topic_partition&) { return log_config{}; }, clock.fn(), {},
                                  nullptr, true, 3);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.code() == kafka_error::kafka_storage_error);
  CHECK_THAT(opened.err().message, Catch::Matchers::Contains("t-5"));
  // Nothing stays locked or half-open: once the partition is repaired, the dir opens.
  fs::remove(segment_file);
  REQUIRE(log_manager::open(dir.path, [](const topic_partition&) { return log_config{}; }, clock.fn(), {}, nullptr,
                            true, 3)
              .ok());
}
