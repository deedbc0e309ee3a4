// ElectLeaders, in process: on a single node every partition already has its preferred and a live
// leader, so each election is not needed; Kafka's errors for unknown partitions, every partition at
// once, and an unknown election type.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/elect_leaders.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace el = proto::elect_leaders;
using common::kafka_error;
using common::wire_code;

namespace {
el::response elect(test::broker_fixture& b, int16_t version, int8_t type,
                   std::optional<std::vector<el::election_topic>> partitions) {
  el::request req;
  req.election_type = type;
  req.topic_partitions = std::move(partitions);
  req.timeout_ms = 10000;
  return b.call<el::response>(el::api_key, version, req);
}
}  // namespace

TEST_CASE("ElectLeaders: no election is needed on a single node, and unknown partitions are named",
          "[handlers][elect_leaders]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 2);
  for (int16_t v = el::min_version; v <= el::max_version; ++v) {
    for (int8_t type : {int8_t{0}, int8_t{1}}) {  // preferred, unclean (v1+)
      if (v == 0 && type != 0) continue;
      INFO("v" << v << " election type " << int{type});
      auto resp = elect(b, v, type, std::vector<el::election_topic>{{"t", {0, 1, 4}}, {"missing", {0}}});
      CHECK(resp.error_code == 0);
      REQUIRE(resp.replica_election_results.size() == 2);
      const auto& t = resp.replica_election_results[0];
      CHECK(t.topic == "t");
      REQUIRE(t.partition_result.size() == 3);
      for (int i : {0, 1}) {
        CHECK(t.partition_result[i].partition_id == i);
        CHECK(t.partition_result[i].error_code == wire_code(kafka_error::election_not_needed));
        CHECK(t.partition_result[i].error_message == "Leader election not needed for topic partition.");
      }
      CHECK(t.partition_result[2].error_code == wire_code(kafka_error::unknown_topic_or_partition));
      CHECK(t.partition_result[2].error_message == "No such partition as t-4");
      const auto& missing = resp.replica_election_results[1];
      CHECK(missing.topic == "missing");
      REQUIRE(missing.partition_result.size() == 1);
      CHECK(missing.partition_result[0].error_code == wire_code(kafka_error::unknown_topic_or_partition));
      CHECK(missing.partition_result[0].error_message == "No such topic as missing");
    }
  }
}

TEST_CASE("ElectLeaders for every partition lists each topic, leaving out the partitions that needed none",
          "[handlers][elect_leaders]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "a", 3);
  test::create_topic(b.client(), "b", 1);
  auto resp = elect(b, 2, 0, std::nullopt);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.replica_election_results.size() == 2);
  CHECK(resp.replica_election_results[0].topic == "a");
  CHECK(resp.replica_election_results[1].topic == "b");
  for (const auto& t : resp.replica_election_results) CHECK(t.partition_result.empty());
  // An empty list asks for nothing.
  resp = elect(b, 2, 0, std::vector<el::election_topic>{});
  CHECK(resp.error_code == 0);
  CHECK(resp.replica_election_results.empty());
}

TEST_CASE("ElectLeaders refuses an unknown election type with INVALID_REQUEST", "[handlers][elect_leaders]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  auto resp = elect(b, 2, 5, std::vector<el::election_topic>{{"t", {0}}});
  CHECK(resp.error_code == wire_code(kafka_error::invalid_request));
  REQUIRE(resp.replica_election_results.size() == 1);
  REQUIRE(resp.replica_election_results[0].partition_result.size() == 1);
  CHECK(resp.replica_election_results[0].partition_result[0].error_code == wire_code(kafka_error::invalid_request));
  CHECK(resp.replica_election_results[0].partition_result[0].error_message == "Unknown election type 5");
  resp = elect(b, 2, 5, std::nullopt);
  CHECK(resp.error_code == wire_code(kafka_error::invalid_request));
  CHECK(resp.replica_election_results.empty());
}

TEST_CASE("with an authorizer ElectLeaders needs ALTER on the cluster") {
  namespace t = brook::test;
  namespace el = brook::common::protocol::elect_leaders;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create)});
  t::create_topic(b.client(), "t");
  el::request req;
  req.election_type = 0;
  req.timeout_ms = 1000;
  req.topic_partitions = std::vector<el::election_topic>{{"t", {0}}};
  auto refused = b.call<el::response>(el::api_key, 2, req);
  const int16_t cluster_refused =
      brook::common::wire_code(brook::common::kafka_error::cluster_authorization_failed);
  CHECK(refused.error_code == cluster_refused);
  REQUIRE(refused.replica_election_results.size() == 1);
  CHECK(refused.replica_election_results[0].partition_result.at(0).error_code == cluster_refused);
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::alter)});
  auto allowed = b.call<el::response>(el::api_key, 2, req);
  CHECK(allowed.error_code == 0);
  CHECK(allowed.replica_election_results.at(0).partition_result.at(0).error_code != cluster_refused);
}
