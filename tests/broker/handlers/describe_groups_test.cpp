// DescribeGroups, in process: a group that is not there is Dead up to v5; v6+ (KIP-1043) answers
// GROUP_ID_NOT_FOUND with Kafka's message, also for a consumer-protocol group, which DescribeGroups
// does not describe.
#include <catch2/catch.hpp>

#include <climits>

#include "common/error.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "common/protocol/messages/describe_groups.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace dg = proto::describe_groups;
namespace jg = proto::join_group;
namespace cgh = proto::consumer_group_heartbeat;
using common::kafka_error;
using common::wire_code;

namespace {

dg::response describe_groups_of(test::broker_fixture& b, int16_t version, std::vector<std::string> groups) {
  dg::request req;
  req.groups = std::move(groups);
  req.include_authorized_operations = true;
  return b.call<dg::response>(dg::api_key, version, req);
}

}  // namespace

TEST_CASE("DescribeGroups of an unknown group: Dead up to v5, GROUP_ID_NOT_FOUND with a message from v6",
          "[handlers][describe_groups]") {
  test::broker_fixture b;
  for (int16_t version : {int16_t(3), int16_t(5)}) {
    auto resp = describe_groups_of(b, version, {"nobody", ""});
    REQUIRE(resp.groups.size() == 2);
    for (const auto& g : resp.groups) {
      CHECK(g.error_code == 0);
      CHECK(g.group_state == "Dead");
      CHECK(g.members.empty());
      CHECK(g.authorized_operations != INT32_MIN);
    }
  }
  auto resp = describe_groups_of(b, 6, {"nobody", ""});
  REQUIRE(resp.groups.size() == 2);
  CHECK(resp.groups[0].group_id == "nobody");
  CHECK(resp.groups[0].error_code == wire_code(kafka_error::group_id_not_found));
  CHECK(resp.groups[0].error_message == "Group nobody not found.");
  CHECK(resp.groups[0].group_state == "Dead");
  CHECK(resp.groups[0].authorized_operations == INT32_MIN);  // only for groups described without an error
  // The empty id is looked up like any other, as Kafka 4's coordinator does.
  CHECK(resp.groups[1].group_id.empty());
  CHECK(resp.groups[1].error_code == wire_code(kafka_error::group_id_not_found));
  CHECK(resp.groups[1].error_message == "Group  not found.");
}

TEST_CASE("DescribeGroups v6 describes a classic group with no error message", "[handlers][describe_groups]") {
  test::broker_fixture b;
  auto joined = b.call<jg::response>(jg::api_key, 3, test::join_request("g", ""));
  REQUIRE(joined.error_code == 0);
  auto resp = describe_groups_of(b, 6, {"g"});
  REQUIRE(resp.groups.size() == 1);
  const auto& g = resp.groups[0];
  CHECK(g.error_code == 0);
  CHECK_FALSE(g.error_message.has_value());
  CHECK(g.group_state == "CompletingRebalance");
  CHECK(g.protocol_type == "consumer");
  REQUIRE(g.members.size() == 1);
  CHECK(g.members[0].member_id == joined.member_id);
  // Without ACLs, every operation of the GROUP resource: READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
  CHECK(g.authorized_operations == ((1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11)));
}

TEST_CASE("DescribeGroups v6 of a consumer-protocol group: GROUP_ID_NOT_FOUND, not a classic group",
          "[handlers][describe_groups]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  cgh::request hb;
  hb.group_id = "cg";
  hb.member_id = "m1";
  hb.member_epoch = 0;
  hb.rebalance_timeout_ms = 30000;
  hb.subscribed_topic_names = std::vector<std::string>{"t"};
  hb.topic_partitions.emplace();
  auto joined = b.call<cgh::response>(cgh::api_key, 1, hb);
  REQUIRE(joined.error_code == 0);
  auto v5 = describe_groups_of(b, 5, {"cg"});
  CHECK(v5.groups.at(0).error_code == 0);
  CHECK(v5.groups.at(0).group_state == "Dead");
  auto v6 = describe_groups_of(b, 6, {"cg"});
  CHECK(v6.groups.at(0).error_code == wire_code(kafka_error::group_id_not_found));
  CHECK(v6.groups.at(0).error_message == "Group cg is not a classic group.");
}

TEST_CASE("with an authorizer DescribeGroups needs DESCRIBE on each group, and reports what the ACLs allow") {
  namespace t = brook::test;
  namespace dgs = brook::common::protocol::describe_groups;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::read)});
  dgs::request req;
  req.groups = {"g", "h"};
  req.include_authorized_operations = true;
  auto resp = b.call<dgs::response>(dgs::api_key, 5, req);
  REQUIRE(resp.groups.size() == 2);
  CHECK(resp.groups[0].error_code == 0);
  CHECK(resp.groups[0].authorized_operations == ((1 << 3) | (1 << 8)));  // READ, and the DESCRIBE it implies
  CHECK(resp.groups[1].error_code == wire_code(kafka_error::group_authorization_failed));
  CHECK(resp.groups[1].group_state == "");
  CHECK(resp.groups[1].authorized_operations == INT32_MIN);
}
