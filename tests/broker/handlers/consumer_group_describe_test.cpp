// ConsumerGroupDescribe, in process: members with their assignments; v1+ (KIP-1099) gives each
// member's type, 1 for a consumer-protocol member.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/consumer_group_describe.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace cgd = proto::consumer_group_describe;
namespace cgh = proto::consumer_group_heartbeat;
using common::kafka_error;
using common::wire_code;

TEST_CASE("ConsumerGroupDescribe v1 types its members as consumer-protocol members", "[handlers][consumer_group_describe]") {
  test::broker_fixture b;
  const common::uuid id = test::create_topic_with_id(b.client(), "t", 2);
  cgh::request hb;
  hb.group_id = "cg";
  hb.member_id = "m1";
  hb.member_epoch = 0;
  hb.rebalance_timeout_ms = 30000;
  hb.subscribed_topic_names = std::vector<std::string>{"t"};
  hb.topic_partitions.emplace();
  auto joined = b.call<cgh::response>(cgh::api_key, 1, hb);
  REQUIRE(joined.error_code == 0);
  cgd::request req;
  req.group_ids = {"cg", "nobody"};
  for (int16_t version : {int16_t(0), int16_t(1)}) {
    auto resp = b.call<cgd::response>(cgd::api_key, version, req);
    REQUIRE(resp.groups.size() == 2);
    const auto& g = resp.groups[0];
    CHECK(g.error_code == 0);
    REQUIRE(g.members.size() == 1);
    const auto& m = g.members[0];
    CHECK(m.member_id == "m1");
    CHECK(m.member_type == (version >= 1 ? 1 : -1));  // v0 does not carry it: the default
    REQUIRE(m.target_assignment.topic_partitions.size() == 1);
    CHECK(m.target_assignment.topic_partitions[0].topic_id == id);
    CHECK(m.target_assignment.topic_partitions[0].topic_name == "t");
    CHECK(resp.groups[1].error_code == wire_code(kafka_error::group_id_not_found));
    CHECK(resp.groups[1].error_message == "Group nobody not found.");
  }
}

TEST_CASE("ConsumerGroupDescribe counts partitions a member has yet to revoke in its assignment, as Kafka does",
          "[handlers][consumer_group_describe]") {
  test::broker_fixture b({"group.consumer.assignment.interval.ms=0"});
  const common::uuid id = test::create_topic_with_id(b.client(), "t", 4);
  auto join = [&](const std::string& member) {
    cgh::request hb;
    hb.group_id = "cg";
    hb.member_id = member;
    hb.member_epoch = 0;
    hb.rebalance_timeout_ms = 30000;
    hb.subscribed_topic_names = std::vector<std::string>{"t"};
    hb.topic_partitions.emplace();
    auto r = b.call<cgh::response>(cgh::api_key, 1, hb);
    REQUIRE(r.error_code == 0);
    return r;
  };
  auto first = join("m1");
  CHECK(first.member_epoch == 2);  // a new group is at epoch 1; the first assignment is epoch 2
  join("m2");
  // m1 is asked to give up two partitions and has not yet.
  cgh::request hb;
  hb.group_id = "cg";
  hb.member_id = "m1";
  hb.member_epoch = 2;
  auto asked = b.call<cgh::response>(cgh::api_key, 1, hb);
  REQUIRE(asked.error_code == 0);
  REQUIRE(asked.assignment);
  REQUIRE(asked.assignment->topic_partitions.size() == 1);
  CHECK(asked.assignment->topic_partitions[0].partitions.size() == 2);

  cgd::request req;
  req.group_ids = {"cg"};
  auto resp = b.call<cgd::response>(cgd::api_key, 1, req);
  REQUIRE(resp.groups.size() == 1);
  const auto& g = resp.groups[0];
  CHECK(g.group_state == "Reconciling");
  CHECK(g.group_epoch == 3);
  CHECK(g.assignment_epoch == 3);
  REQUIRE(g.members.size() == 2);
  const auto& m1 = g.members[0].member_id == "m1" ? g.members[0] : g.members[1];
  CHECK(m1.member_epoch == 2);
  REQUIRE(m1.assignment.topic_partitions.size() == 1);
  CHECK(m1.assignment.topic_partitions[0].topic_id == id);
  CHECK(m1.assignment.topic_partitions[0].partitions.size() == 4);  // two kept, two to revoke
  REQUIRE(m1.target_assignment.topic_partitions.size() == 1);
  CHECK(m1.target_assignment.topic_partitions[0].partitions.size() == 2);
}

TEST_CASE("with an authorizer ConsumerGroupDescribe needs DESCRIBE on each group") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::describe)});
  cgd::request req;
  req.group_ids = {"g", "h"};
  req.include_authorized_operations = true;
  auto resp = b.call<cgd::response>(cgd::api_key, 0, req);
  REQUIRE(resp.groups.size() == 2);
  // Allowed: the group's own answer (there is no such group), with the operations the ACLs allow.
  CHECK(resp.groups[0].error_code == common::wire_code(kafka_error::group_id_not_found));
  CHECK(resp.groups[0].authorized_operations == (1 << 8));
  CHECK(resp.groups[1].error_code == common::wire_code(kafka_error::group_authorization_failed));
}

TEST_CASE("with an authorizer ConsumerGroupDescribe hides a group assigned a topic the caller may not describe",
          "[handlers][consumer_group_describe]") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer, "group.consumer.assignment.interval.ms=0"});
  t::grant(b, {t::allowing(resource_type::topic, "seen", acl_operation::all),
               t::allowing(resource_type::topic, "hidden", acl_operation::all),
               t::allowing(resource_type::group, "cg", acl_operation::all),
               t::allowing(resource_type::group, "open", acl_operation::all)});
  test::create_topic_with_id(b.client(), "seen", 1);
  test::create_topic_with_id(b.client(), "hidden", 1);
  auto join = [&](const std::string& group, std::vector<std::string> topics) {
    cgh::request hb;
    hb.group_id = group;
    hb.member_id = group + "-member";
    hb.member_epoch = 0;
    hb.rebalance_timeout_ms = 30000;
    hb.subscribed_topic_names = std::move(topics);
    hb.topic_partitions.emplace();
    auto r = b.call<cgh::response>(cgh::api_key, 1, hb);
    REQUIRE(r.error_code == 0);
  };
  join("cg", {"seen", "hidden"});
  join("open", {"seen"});
  // From now on the caller may no longer describe "hidden".
  t::grant(b, {t::denying(resource_type::topic, "hidden", acl_operation::describe)});

  cgd::request req;
  req.group_ids = {"cg", "open"};
  auto resp = b.call<cgd::response>(cgd::api_key, 1, req);
  REQUIRE(resp.groups.size() == 2);
  const auto& hidden = resp.groups[0];
  CHECK(hidden.group_id == "cg");
  CHECK(hidden.error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(hidden.error_message == "The group has described topic(s) that the client is not authorized to describe.");
  CHECK(hidden.members.empty());
  CHECK(hidden.group_state.empty());
  CHECK(hidden.group_epoch == 0);
  const auto& open = resp.groups[1];
  CHECK(open.error_code == 0);
  REQUIRE(open.members.size() == 1);
  REQUIRE(open.members[0].assignment.topic_partitions.size() == 1);
  CHECK(open.members[0].assignment.topic_partitions[0].topic_name == "seen");
}
