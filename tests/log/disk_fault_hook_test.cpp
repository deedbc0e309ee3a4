// The log's fault hook (log/disk_fault_hook.hpp): an injected ENOSPC or EIO takes the same path as the
// disk's own: a full disk fails one append and leaves the log as it was, an fsync error fails the dir.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include "log/log_manager.hpp"
#include "log/partition_log.hpp"
#include "tests/log/log_test_util.hpp"

using namespace brook::log;
using namespace brook::log::testing;
using brook::common::kafka_error;

namespace {

// Fails the listed operations in order, recording the topics asked about.
struct scripted_hook : disk_fault_hook {
  std::vector<std::pair<disk_op, int>> script;
  std::vector<std::string> topics;
  int before_disk_op(disk_op op, std::string_view topic) override {
    topics.emplace_back(topic);
    if (!script.empty() && script.front().first == op) {
      const int err = script.front().second;
      script.erase(script.begin());
      return err;
    }
    return 0;
  }
};

}  // namespace

TEST_CASE("an injected ENOSPC fails one append with a storage error and leaves the log intact", "[log][faults]") {
  scratch_dir dir;
  fake_clock clock;
  auto health = std::make_shared<log_dir_health>();
  auto opened = partition_log::open(dir.path / "orders-2", log_config{}, clock.fn(), health, false);
  REQUIRE(opened);
  auto log = std::move(opened).value();
  scripted_hook hook;
  log->set_fault_hook(&hook);
  auto first = make_batch(2, 1000);
  REQUIRE(log->append(first));
  const uint64_t size = log->size_bytes();
  hook.script = {{disk_op::append, ENOSPC}};
  auto second = make_batch(2, 1000);
  auto refused = log->append(second);
  REQUIRE_FALSE(refused);
  CHECK(refused.err().code == kafka_error::kafka_storage_error);
  CHECK(log->size_bytes() == size);
  CHECK(log->log_end_offset() == 2);
  CHECK_FALSE(health->failed());
  CHECK(hook.topics.back() == "orders");
  auto third = make_batch(2, 1000);
  auto appended = log->append(third);
  REQUIRE(appended);
  CHECK(appended->first_offset == 2);
  log->set_fault_hook(nullptr);
}

TEST_CASE("an injected fsync EIO fails the log dir, as a real one does", "[log][faults]") {
  scratch_dir dir;
  auto manager = log_manager::open(dir.path, [](const topic_partition&) { return log_config{}; });
  REQUIRE(manager);
  scripted_hook hook;
  (*manager)->set_fault_hook(&hook);  // given to logs created later too
  auto created = (*manager)->create({"t", 0}, log_config{});
  REQUIRE(created);
  auto log = *created;
  auto batch = make_batch(1, 1000);
  REQUIRE(log->append(batch));
  hook.script = {{disk_op::fsync, EIO}};
  auto flushed = log->flush();
  REQUIRE_FALSE(flushed);
  CHECK(flushed.err().code == kafka_error::kafka_storage_error);
  CHECK((*manager)->failed());
  auto after = make_batch(1, 1000);
  CHECK(log->append(after).code() == kafka_error::kafka_storage_error);
  (*manager)->set_fault_hook(nullptr);
}
