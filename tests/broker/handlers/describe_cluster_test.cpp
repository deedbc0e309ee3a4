#include <catch2/catch.hpp>

#include "broker/handlers/cluster_view.hpp"

using namespace brook::broker::handlers;

namespace {
// Kafka's AclOperation codes.
constexpr int read = 3, write = 4, create = 5, del = 6, alter = 7, describe = 8, cluster_action = 9,
              describe_configs = 10, alter_configs = 11, idempotent_write = 12;
constexpr int32_t bit(int op) { return int32_t{1} << op; }
}  // namespace

TEST_CASE("the cluster's authorized operations are exactly those Kafka's CLUSTER resource supports") {
  CHECK((cluster_operations & bit(write)) == 0);
  CHECK((cluster_operations & bit(read)) == 0);
  CHECK((cluster_operations & bit(del)) == 0);
  CHECK(cluster_operations == (bit(create) | bit(alter) | bit(describe) | bit(cluster_action) |
                               bit(describe_configs) | bit(alter_configs) | bit(idempotent_write)));
}

#if __has_include("broker_fixture.hpp")
#include "broker_fixture.hpp"
#include "common/protocol/messages/describe_cluster.hpp"

namespace proto = brook::common::protocol;

TEST_CASE("DescribeCluster answers the authorized operations of Kafka's CLUSTER resource, without WRITE") {
  brook::test::broker_fixture b({});
  proto::describe_cluster::request req;
  req.include_cluster_authorized_operations = true;
  for (int16_t v : {int16_t{0}, int16_t{1}}) {
    auto resp = b.call<proto::describe_cluster::response>(proto::describe_cluster::api_key, v, req);
    CHECK(resp.error_code == 0);
    CHECK((resp.cluster_authorized_operations & bit(write)) == 0);
    CHECK(resp.cluster_authorized_operations == cluster_operations);
  }
}
#endif
