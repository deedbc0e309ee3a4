#include <catch2/catch.hpp>

#include "acl_test_util.hpp"
#include "common/protocol/messages/describe_cluster.hpp"

namespace {
// Kafka's AclOperation codes.
constexpr int op_read = 3, op_write = 4, op_create = 5, op_delete = 6, op_alter = 7, op_describe = 8, op_cluster_action = 9,
              op_describe_configs = 10, op_alter_configs = 11, op_idempotent_write = 12;
constexpr int32_t bit(int op) { return int32_t{1} << op; }
}  // namespace

// The operations Kafka's CLUSTER resource supports: no READ, WRITE or DELETE.
constexpr int32_t cluster_resource_operations = bit(op_create) | bit(op_alter) | bit(op_describe) | bit(op_cluster_action) |
                                       bit(op_describe_configs) | bit(op_alter_configs) | bit(op_idempotent_write);

namespace proto = brook::common::protocol;

TEST_CASE("DescribeCluster answers the authorized operations of Kafka's CLUSTER resource, without WRITE") {
  brook::test::broker_fixture b;
  proto::describe_cluster::request req;
  req.include_cluster_authorized_operations = true;
  for (int16_t v : {int16_t{0}, int16_t{1}}) {
    auto resp = b.call<proto::describe_cluster::response>(proto::describe_cluster::api_key, v, req);
    CHECK(resp.error_code == 0);
    CHECK((resp.cluster_authorized_operations & bit(op_write)) == 0);
    CHECK(resp.cluster_authorized_operations == cluster_resource_operations);
  }
}

TEST_CASE("with an authorizer DescribeCluster's authorized operations are those the ACLs allow") {
  using namespace brook::test;
  broker_fixture b({standard_authorizer});
  proto::describe_cluster::request req;
  req.include_cluster_authorized_operations = true;
  CHECK(b.call<proto::describe_cluster::response>(proto::describe_cluster::api_key, 1, req)
            .cluster_authorized_operations == 0);
  grant(b, {allowing(sec::resource_type::cluster, "kafka-cluster", sec::acl_operation::alter),
            allowing(sec::resource_type::cluster, "kafka-cluster", sec::acl_operation::idempotent_write)});
  // ALTER implies DESCRIBE.
  CHECK(b.call<proto::describe_cluster::response>(proto::describe_cluster::api_key, 1, req)
            .cluster_authorized_operations == (bit(op_alter) | bit(op_describe) | bit(op_idempotent_write)));
}

TEST_CASE("DescribeCluster answers for brokers only, with endpoint type 1 whatever was asked, as Kafka does") {
  brook::test::broker_fixture b;
  struct asked {
    int8_t endpoint_type;
    int16_t error;
  };
  for (auto [type, error] : {asked{1, 0}, asked{2, 114 /* MISMATCHED_ENDPOINT_TYPE */},
                             asked{0, 115 /* UNSUPPORTED_ENDPOINT_TYPE */}, asked{3, 115}}) {
    CAPTURE(type);
    proto::describe_cluster::request req;
    req.endpoint_type = type;
    auto resp = b.call<proto::describe_cluster::response>(proto::describe_cluster::api_key, 1, req);
    CHECK(resp.error_code == error);
    CHECK(resp.endpoint_type == 1);
    if (error == 0) {
      CHECK(resp.brokers.size() == 1);
      CHECK(resp.controller_id == resp.brokers[0].broker_id);
    } else {
      CHECK(resp.brokers.empty());
      CHECK(resp.controller_id == -1);
      CHECK(resp.error_message.value_or("") != "");
    }
  }
}

TEST_CASE("DescribeCluster v2 reports this broker as not fenced, with or without include_fenced_brokers") {
  brook::test::broker_fixture b;
  for (bool include_fenced : {false, true}) {
    proto::describe_cluster::request req;
    req.include_fenced_brokers = include_fenced;
    auto resp = b.call<proto::describe_cluster::response>(proto::describe_cluster::api_key, 2, req);
    CHECK(resp.error_code == 0);
    REQUIRE(resp.brokers.size() == 1);
    CHECK(resp.brokers[0].broker_id == 1);
    CHECK_FALSE(resp.brokers[0].is_fenced);
    CHECK(resp.cluster_authorized_operations == INT32_MIN);  // not asked for
  }
  proto::describe_cluster::request controllers;
  controllers.endpoint_type = 2;
  auto refused = b.call<proto::describe_cluster::response>(proto::describe_cluster::api_key, 2, controllers);
  CHECK(refused.error_code == 114);  // MISMATCHED_ENDPOINT_TYPE
}
