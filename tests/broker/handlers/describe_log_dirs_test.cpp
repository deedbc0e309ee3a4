// DescribeLogDirs, in process: the broker's log directory with each partition's size, the topic filter,
// the filesystem's size (v4+), and a failed directory.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/describe_log_dirs.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/record_batch.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace dld = proto::describe_log_dirs;
using common::kafka_error;
using common::wire_code;

namespace {

// Sends one batch to a partition with acks=all; returns the partition's error code.
int16_t send(test::broker_fixture& b, const std::string& topic, int32_t partition, const std::vector<uint8_t>& batch) {
  proto::produce::request req;
  req.acks = -1;
  req.timeout_ms = 10000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records = proto::record_set(proto::bytes(batch.begin(), batch.end()));
  auto resp = b.call<proto::produce::response>(proto::produce::api_key, 9, req);
  return resp.responses.at(0).partition_responses.at(0).error_code;
}

// A batch of `count` records.
std::vector<uint8_t> batch_of(int32_t count) {
  std::vector<uint8_t> section;
  for (int32_t i = 0; i < count; ++i) {
    const std::string value = "value-" + std::to_string(i);
    common::append_record(section, 0, 0, i, std::nullopt,
                          common::bytes_view(reinterpret_cast<const uint8_t*>(value.data()), value.size()), {});
  }
  common::batch_header_fields h;
  h.last_offset_delta = count - 1;
  h.record_count = count;
  h.base_timestamp = h.max_timestamp =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return common::encode_batch(h, section);
}

// Appends one batch of `count` records to a partition; returns the batch's size in bytes.
size_t produce(test::broker_fixture& b, const std::string& topic, int32_t partition, int32_t count) {
  auto batch = batch_of(count);
  REQUIRE(send(b, topic, partition, batch) == 0);
  return batch.size();
}

dld::response describe_dirs(test::broker_fixture& b, int16_t version, std::optional<std::vector<dld::describable_log_dir_topic>> topics) {
  dld::request req;
  req.topics = std::move(topics);
  return b.call<dld::response>(dld::api_key, version, req);
}

// topic -> partition -> size
std::map<std::string, std::map<int32_t, int64_t>> sizes_of(const dld::describe_log_dirs_result& dir) {
  std::map<std::string, std::map<int32_t, int64_t>> out;
  for (const auto& t : dir.topics)
    for (const auto& p : t.partitions) {
      CHECK(p.offset_lag == 0);
      CHECK_FALSE(p.is_future_key);
      out[t.name][p.partition_index] = p.partition_size;
    }
  return out;
}

}  // namespace

TEST_CASE("DescribeLogDirs lists the log directory with the size of every partition in it", "[handlers][describe_log_dirs]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "sized", 3);
  test::create_topic(b.client(), "empty", 1);
  const size_t first = produce(b, "sized", 1, 3);
  const size_t second = produce(b, "sized", 1, 5);
  const size_t other = produce(b, "sized", 2, 1);

  for (int16_t v = dld::min_version; v <= dld::max_version; ++v) {
    INFO("v" << v);
    auto resp = describe_dirs(b, v, std::nullopt);
    CHECK(resp.error_code == 0);
    REQUIRE(resp.results.size() == 1);
    const auto& dir = resp.results[0];
    CHECK(dir.error_code == 0);
    const std::filesystem::path path(dir.log_dir);
    CHECK(path.is_absolute());
    CHECK(std::filesystem::equivalent(path, b.server().partitions().log_dir()));
    auto sizes = sizes_of(dir);
    CHECK(sizes == std::map<std::string, std::map<int32_t, int64_t>>{
                       {"empty", {{0, 0}}},
                       {"sized", {{0, 0}, {1, static_cast<int64_t>(first + second)}, {2, static_cast<int64_t>(other)}}}});
    CHECK_FALSE(dir.is_cordoned);
    if (v >= 4) {
      const auto space = std::filesystem::space(path);
      CHECK(dir.total_bytes == static_cast<int64_t>(space.capacity));
      CHECK(dir.usable_bytes > 0);
      CHECK(dir.usable_bytes <= dir.total_bytes);
    } else {
      CHECK(dir.total_bytes == -1);  // not in these versions
    }
  }
}

TEST_CASE("DescribeLogDirs with topics describes only the named partitions that exist", "[handlers][describe_log_dirs]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "a", 2);
  test::create_topic(b.client(), "b", 1);
  const size_t written = produce(b, "a", 1, 2);
  auto resp = describe_dirs(b, 5, std::vector<dld::describable_log_dir_topic>{{"a", {1, 7}}, {"b", {}}, {"missing", {0}}});
  REQUIRE(resp.results.size() == 1);
  // "b" names no partition and "missing" does not exist: neither is listed.
  CHECK(sizes_of(resp.results[0]) ==
        std::map<std::string, std::map<int32_t, int64_t>>{{"a", {{1, static_cast<int64_t>(written)}}}});
  resp = describe_dirs(b, 5, std::vector<dld::describable_log_dir_topic>{});
  REQUIRE(resp.results.size() == 1);
  CHECK(resp.results[0].topics.empty());
  CHECK(resp.results[0].total_bytes > 0);
}

TEST_CASE("DescribeLogDirs reports a failed log directory with KAFKA_STORAGE_ERROR", "[handlers][describe_log_dirs]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  broker::fault::fault_rule disk;
  disk.kind = broker::fault::fault_kind::disk;
  disk.op = log::disk_op::fsync;
  disk.sys_errno = EIO;
  disk.topic = "t";
  REQUIRE(b.server().faults().add(disk));
  // acks=all: the fsync fails, and with it the log directory.
  REQUIRE(send(b, "t", 0, batch_of(1)) == wire_code(kafka_error::kafka_storage_error));

  auto resp = describe_dirs(b, 5, std::nullopt);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.results.size() == 1);
  CHECK(resp.results[0].error_code == wire_code(kafka_error::kafka_storage_error));
  CHECK(std::filesystem::equivalent(resp.results[0].log_dir, b.server().partitions().log_dir()));
  CHECK(resp.results[0].topics.empty());
  CHECK(resp.results[0].total_bytes == -1);
}

TEST_CASE("with an authorizer DescribeLogDirs needs DESCRIBE on the cluster") {
  namespace t = brook::test;
  namespace dld = brook::common::protocol::describe_log_dirs;
  t::broker_fixture b({t::standard_authorizer});
  dld::request req;
  req.topics = std::nullopt;
  auto refused = b.call<dld::response>(dld::api_key, 4, req);
  CHECK(refused.error_code == brook::common::wire_code(brook::common::kafka_error::cluster_authorization_failed));
  CHECK(refused.results.empty());
  t::grant(b, {t::allowing(t::sec::resource_type::cluster, "kafka-cluster", t::sec::acl_operation::describe)});
  auto allowed = b.call<dld::response>(dld::api_key, 4, req);
  CHECK(allowed.error_code == 0);
  CHECK(allowed.results.size() == 1);
}
