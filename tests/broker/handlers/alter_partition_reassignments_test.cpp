// AlterPartitionReassignments, in process: the only target a single node accepts is the replica the
// partition has; other targets, cancellations and unknown partitions get Kafka's errors and messages.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/alter_partition_reassignments.hpp"
#include "common/protocol/messages/describe_topic_partitions.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"
#include "common/protocol/messages/list_partition_reassignments.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace apr = proto::alter_partition_reassignments;
using common::kafka_error;
using common::wire_code;

namespace {
apr::reassignable_partition target(int32_t partition, std::optional<std::vector<int32_t>> replicas) {
  apr::reassignable_partition p;
  p.partition_index = partition;
  p.replicas = std::move(replicas);
  return p;
}
}  // namespace

TEST_CASE("AlterPartitionReassignments accepts only the partition's own replica and refuses the rest as Kafka does",
          "[handlers][alter_partition_reassignments]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 3);
  const int32_t node = b.server().node_id();
  const int32_t other = node + 1;
  for (int16_t v = apr::min_version; v <= apr::max_version; ++v) {
    INFO("v" << v);
    apr::request req;
    req.timeout_ms = 10000;
    req.allow_replication_factor_change = false;
    req.topics = {{"t",
                   {target(0, std::vector<int32_t>{node}), target(1, std::nullopt), target(2, std::vector<int32_t>{}),
                    target(0, std::vector<int32_t>{node, node}), target(0, std::vector<int32_t>{other + 1, node, other}),
                    target(9, std::vector<int32_t>{node})}},
                  {"missing", {target(0, std::vector<int32_t>{node})}}};
    auto resp = b.call<apr::response>(apr::api_key, v, req);
    CHECK(resp.error_code == 0);
    CHECK_FALSE(resp.error_message);
    if (v >= 1) CHECK_FALSE(resp.allow_replication_factor_change);
    REQUIRE(resp.responses.size() == 2);
    const auto& parts = resp.responses[0].partitions;
    REQUIRE(parts.size() == 6);
    CHECK(parts[0].error_code == 0);
    CHECK_FALSE(parts[0].error_message);
    CHECK(parts[1].error_code == wire_code(kafka_error::no_reassignment_in_progress));
    CHECK_FALSE(parts[1].error_message);
    CHECK(parts[2].error_code == wire_code(kafka_error::invalid_replica_assignment));
    CHECK(parts[2].error_message == "The manual partition assignment includes an empty replica list.");
    CHECK(parts[3].error_code == wire_code(kafka_error::invalid_replica_assignment));
    CHECK(parts[3].error_message ==
          "The manual partition assignment includes the broker " + std::to_string(node) + " more than once.");
    CHECK(parts[4].error_code == wire_code(kafka_error::invalid_replica_assignment));
    CHECK(parts[4].error_message == "The manual partition assignment includes broker " + std::to_string(other) +
                                        ", but no such broker is registered.");  // the lowest unknown id
    CHECK(parts[5].error_code == wire_code(kafka_error::unknown_topic_or_partition));
    CHECK(parts[5].error_message == "Unable to find partition t:9.");
    REQUIRE(resp.responses[1].partitions.size() == 1);
    CHECK(resp.responses[1].partitions[0].error_code == wire_code(kafka_error::unknown_topic_or_partition));
    CHECK(resp.responses[1].partitions[0].error_message == "Unable to find a topic named missing.");
  }

  // Nothing moved: the partitions still have this broker as their one replica.
  proto::describe_topic_partitions::request describe;
  describe.topics.push_back({"t"});
  auto described =
      b.call<proto::describe_topic_partitions::response>(proto::describe_topic_partitions::api_key, 0, describe);
  REQUIRE(described.topics.size() == 1);
  REQUIRE(described.topics[0].partitions.size() == 3);
  for (const auto& p : described.topics[0].partitions) CHECK(p.replica_nodes == std::vector<int32_t>{node});
}

TEST_CASE("AlterPartitionReassignments with no topics gets Kafka's empty answer", "[handlers][alter_partition_reassignments]") {
  test::broker_fixture b;
  apr::request req;
  req.allow_replication_factor_change = false;
  auto resp = b.call<apr::response>(apr::api_key, 1, req);
  CHECK(resp.error_code == 0);
  CHECK(resp.error_message == "");  // the controller's defaults: an empty message, not null
  CHECK(resp.allow_replication_factor_change);
  CHECK(resp.responses.empty());
}

TEST_CASE("with an authorizer AlterPartitionReassignments needs ALTER and ListPartitionReassignments DESCRIBE on the cluster") {
  namespace t = brook::test;
  namespace apr = brook::common::protocol::alter_partition_reassignments;
  namespace lpr = brook::common::protocol::list_partition_reassignments;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  const int16_t cluster_refused =
      brook::common::wire_code(brook::common::kafka_error::cluster_authorization_failed);
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create)});
  t::create_topic(b.client(), "t");
  apr::request alter;
  alter.timeout_ms = 1000;
  alter.topics.push_back({"t", {{0, std::vector<int32_t>{b.server().node_id()}}}});
  auto refused = b.call<apr::response>(apr::api_key, 0, alter);
  CHECK(refused.error_code == cluster_refused);
  CHECK(refused.responses.at(0).partitions.at(0).error_code == cluster_refused);
  lpr::request list;
  list.timeout_ms = 1000;
  list.topics = std::nullopt;
  CHECK(b.call<lpr::response>(lpr::api_key, 0, list).error_code == cluster_refused);
  // ALTER allows both (it implies DESCRIBE).
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::alter)});
  auto allowed = b.call<apr::response>(apr::api_key, 0, alter);
  CHECK(allowed.error_code == 0);
  CHECK(allowed.responses.at(0).partitions.at(0).error_code != cluster_refused);
  CHECK(b.call<lpr::response>(lpr::api_key, 0, list).error_code == 0);
}
