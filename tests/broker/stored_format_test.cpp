// Data directories written by earlier formats keep opening: the broker starts on
// tests/stored_formats/store_v2_data_dir.tar.gz (metadata store format 2, written by make_store_v2_data_dir.py there,
// which lists what it holds) and serves every persisted value it holds: topics and their configs,
// committed offsets of both group kinds, the groups' members, producer state, client quotas, dynamic
// broker configs, partition checkpoints and the producer id sequence. A second start (after the
// broker rewrote what it converts) serves the same.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "brook/embedded/broker.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/consumer_group_describe.hpp"
#include "common/protocol/messages/describe_client_quotas.hpp"
#include "common/protocol/messages/describe_configs.hpp"
#include "common/protocol/messages/describe_groups.hpp"
#include "common/protocol/messages/describe_producers.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
#include "tests/support/wire_client.hpp"

using namespace brook;
namespace proto = common::protocol;

namespace {

std::filesystem::path unpack_store_v2() {
  auto dir = std::filesystem::temp_directory_path() /
             ("brook-stored-format-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  const std::string cmd = "tar xzf '" BROOK_STORED_FORMATS "/store_v2_data_dir.tar.gz' -C '" + dir.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return dir;
}

std::string config_value(test::wire_client& c, int8_t type, const std::string& name, const std::string& key) {
  proto::describe_configs::request req;
  proto::describe_configs::describe_configs_resource r;
  r.resource_type = type;
  r.resource_name = name;
  r.configuration_keys = std::vector<std::string>{key};
  req.resources.push_back(r);
  auto resp = c.call<proto::describe_configs::response>(proto::describe_configs::api_key, 4, req);
  REQUIRE(resp.results.size() == 1);
  REQUIRE(resp.results[0].error_code == 0);
  REQUIRE(resp.results[0].configs.size() == 1);
  return resp.results[0].configs[0].value.value_or("<null>");
}

std::map<int32_t, std::pair<int64_t, std::string>> committed(test::wire_client& c, const std::string& group) {
  proto::offset_fetch::request req;
  proto::offset_fetch::offset_fetch_request_group g;
  g.group_id = group;
  g.topics = std::nullopt;
  req.groups.push_back(g);
  auto resp = c.call<proto::offset_fetch::response>(proto::offset_fetch::api_key, 8, req);
  REQUIRE(resp.groups.size() == 1);
  REQUIRE(resp.groups[0].error_code == 0);
  std::map<int32_t, std::pair<int64_t, std::string>> out;
  for (const auto& t : resp.groups[0].topics) {
    REQUIRE(t.name == "orders");
    for (const auto& p : t.partitions) out[p.partition_index] = {p.committed_offset, p.metadata.value_or("")};
  }
  return out;
}

void check_everything(uint16_t port) {
  test::wire_client c(port);

  // Logs and their checkpoints: 10 records in each orders partition, 4 in compacted.
  proto::list_offsets::request lo;
  lo.replica_id = -1;
  for (const char* topic : {"orders", "compacted"}) {
    proto::list_offsets::list_offsets_topic t;
    t.name = topic;
    for (int32_t p = 0; p < (std::string(topic) == "orders" ? 3 : 1); ++p) {
      proto::list_offsets::list_offsets_partition lp;
      lp.partition_index = p;
      lp.timestamp = -1;  // latest
      t.partitions.push_back(lp);
    }
    lo.topics.push_back(t);
  }
  auto offsets = c.call<proto::list_offsets::response>(proto::list_offsets::api_key, 7, lo);
  REQUIRE(offsets.topics.size() == 2);
  for (const auto& t : offsets.topics)
    for (const auto& p : t.partitions) {
      CHECK(p.error_code == 0);
      CHECK(p.offset == (t.name == "orders" ? 10 : 4));
    }

  // Topic configs and the dynamic broker default.
  CHECK(config_value(c, 2, "orders", "retention.ms") == "86400000");
  CHECK(config_value(c, 2, "compacted", "cleanup.policy") == "compact");
  CHECK(config_value(c, 4, "1", "log.retention.ms") == "3600000");

  // Committed offsets of both groups.
  auto classic = committed(c, "classic-group");
  // (confluent-kafka-python sent each metadata string with its terminating NUL.)
  using namespace std::string_literals;
  CHECK(classic ==
        std::map<int32_t, std::pair<int64_t, std::string>>{{0, {4, "m0\0"s}}, {1, {5, "m1\0"s}}, {2, {6, "m2\0"s}}});
  auto consumer = committed(c, "consumer-group");
  CHECK(consumer == std::map<int32_t, std::pair<int64_t, std::string>>{{0, {7, ""}}, {1, {8, ""}}, {2, {9, ""}}});

  // The classic group's member, with its subscription and assignment.
  proto::describe_groups::request dg;
  dg.groups = {"classic-group"};
  auto groups = c.call<proto::describe_groups::response>(proto::describe_groups::api_key, 5, dg);
  REQUIRE(groups.groups.size() == 1);
  CHECK(groups.groups[0].error_code == 0);
  CHECK(groups.groups[0].protocol_type == "consumer");
  CHECK(groups.groups[0].protocol_data == "range");
  REQUIRE(groups.groups[0].members.size() == 1);
  CHECK_FALSE(groups.groups[0].members[0].member_metadata.empty());
  CHECK_FALSE(groups.groups[0].members[0].member_assignment.empty());

  // The consumer-protocol group's member and its assignment.
  proto::consumer_group_describe::request cgd;
  cgd.group_ids = {"consumer-group"};
  auto cg = c.call<proto::consumer_group_describe::response>(proto::consumer_group_describe::api_key, 0, cgd);
  REQUIRE(cg.groups.size() == 1);
  CHECK(cg.groups[0].error_code == 0);
  CHECK(cg.groups[0].group_epoch >= 1);
  REQUIRE(cg.groups[0].members.size() == 1);
  const auto& member = cg.groups[0].members[0];
  CHECK(member.subscribed_topic_names == std::vector<std::string>{"orders"});
  REQUIRE(member.assignment.topic_partitions.size() == 1);
  CHECK(member.assignment.topic_partitions[0].topic_name == "orders");
  CHECK(member.assignment.topic_partitions[0].partitions == std::vector<int32_t>{0, 1, 2});

  // The idempotent producer's state on each orders partition.
  proto::describe_producers::request dp;
  proto::describe_producers::topic_request tr;
  tr.name = "orders";
  tr.partition_indexes = {0, 1, 2};
  dp.topics.push_back(tr);
  auto producers = c.call<proto::describe_producers::response>(proto::describe_producers::api_key, 0, dp);
  REQUIRE(producers.topics.size() == 1);
  int64_t producer_id = -1;
  for (const auto& p : producers.topics[0].partitions) {
    CHECK(p.error_code == 0);
    REQUIRE(p.active_producers.size() == 1);
    CHECK(p.active_producers[0].last_sequence == 9);
    producer_id = p.active_producers[0].producer_id;
  }
  // A new producer id is past the one handed out before.
  proto::init_producer_id::request ip;
  ip.transactional_id = std::nullopt;
  ip.transaction_timeout_ms = 60000;
  auto init = c.call<proto::init_producer_id::response>(proto::init_producer_id::api_key, 4, ip);
  CHECK(init.error_code == 0);
  CHECK(init.producer_id > producer_id);

  // The client quota.
  proto::describe_client_quotas::request q;
  proto::describe_client_quotas::component_data comp;
  comp.entity_type = "client-id";
  comp.match_type = 0;
  comp.match = "quota-client";
  q.components.push_back(comp);
  auto quotas = c.call<proto::describe_client_quotas::response>(proto::describe_client_quotas::api_key, 1, q);
  CHECK(quotas.error_code == 0);
  REQUIRE(quotas.entries);
  REQUIRE(quotas.entries->size() == 1);
  REQUIRE((*quotas.entries)[0].values.size() == 1);
  CHECK((*quotas.entries)[0].values[0].key == "producer_byte_rate");
  CHECK((*quotas.entries)[0].values[0].value == 1048576.0);
}

}  // namespace

TEST_CASE("a data directory of metadata store format 2 opens with everything it held", "[stored_format]") {
  const auto root = unpack_store_v2();
  {
    auto started = embedded::broker::start({.data_dir = root / "data"});
    INFO((started ? std::string() : started.err().message));
    REQUIRE(started);
    auto& broker = **started;
    check_everything(broker.port());
    // Opened again after the broker wrote it back in the current format.
    REQUIRE(broker.restart());
    check_everything(broker.port());
  }
  std::filesystem::remove_all(root);
}
