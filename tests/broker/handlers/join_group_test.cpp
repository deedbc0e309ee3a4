// JoinGroup, in process: the member id the coordinator builds always fits a protocol string.
#include <catch2/catch.hpp>

#include "common/protocol/messages/describe_groups.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace jg = proto::join_group;
namespace dg = proto::describe_groups;

TEST_CASE("a very long client id still gives an encodable member id, others can describe the group",
          "[handlers][join_group]") {
  test::broker_fixture b;
  const std::string long_client_id(32767, 'c');  // the longest a request header carries
  auto joiner = b.connect(long_client_id);
  // v3: no MEMBER_ID_REQUIRED round; the join completes at once (initial delay 0).
  auto joined = joiner.call<jg::response>(jg::api_key, 3, test::join_request("g", ""));
  REQUIRE(joined.error_code == 0);
  CHECK(joined.member_id.size() <= 32767);
  CHECK(joined.member_id.rfind(std::string(100, 'c'), 0) == 0);  // still named after the client
  // Another client describes the group: the member id must encode in its response.
  auto other = b.connect("observer");
  dg::request req;
  req.groups = {"g"};
  auto described = other.call<dg::response>(dg::api_key, 5, req);
  REQUIRE(described.groups.size() == 1);
  CHECK(described.groups[0].error_code == 0);
  REQUIRE(described.groups[0].members.size() == 1);
  CHECK(described.groups[0].members[0].member_id == joined.member_id);
}

TEST_CASE("a static member's id starts with its group.instance.id", "[handlers][join_group]") {
  test::broker_fixture b;
  auto req = test::join_request("g", "");
  req.group_instance_id = "instance-1";
  auto joined = b.call<jg::response>(jg::api_key, 5, req);
  REQUIRE(joined.error_code == 0);
  CHECK(joined.member_id.rfind("instance-1-", 0) == 0);
}

TEST_CASE("with an authorizer JoinGroup needs READ on the group") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer, "group.initial.rebalance.delay.ms=0"});
  namespace jg = brook::common::protocol::join_group;
  auto refused = b.call<jg::response>(jg::api_key, 7, t::join_request("g", ""));
  CHECK(refused.error_code == brook::common::wire_code(brook::common::kafka_error::group_authorization_failed));
  CHECK(refused.generation_id == -1);
  CHECK_FALSE(refused.protocol_name.has_value());
  CHECK(refused.member_id == "");
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::read)});
  // Allowed: the group's own answers (v4+: first MEMBER_ID_REQUIRED with the member's id).
  auto first = b.call<jg::response>(jg::api_key, 7, t::join_request("g", ""));
  CHECK(first.error_code == brook::common::wire_code(brook::common::kafka_error::member_id_required));
  auto joined = b.call<jg::response>(jg::api_key, 7, t::join_request("g", first.member_id));
  CHECK(joined.error_code == 0);
  CHECK(joined.generation_id == 1);
}
