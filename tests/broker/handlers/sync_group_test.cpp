// SyncGroup, in process: the completed generation is what is stored, bounded by message.max.bytes
// as Kafka's __consumer_offsets record is.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/describe_groups.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"
#include "common/protocol/messages/heartbeat.hpp"
#include "common/protocol/messages/leave_group.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace jg = proto::join_group;
namespace sg = proto::sync_group;
namespace dg = proto::describe_groups;
using common::kafka_error;
using common::wire_code;

namespace {
sg::request sync_request(const std::string& member_id, int32_t generation, const std::string& assignment) {
  sg::request req;
  req.group_id = "g";
  req.generation_id = generation;
  req.member_id = member_id;
  auto& a = req.assignments.emplace_back();
  a.member_id = member_id;
  a.assignment = proto::bytes(assignment.begin(), assignment.end());
  return req;
}
}  // namespace

TEST_CASE("a generation larger than message.max.bytes fails SyncGroup with UNKNOWN_SERVER_ERROR",
          "[handlers][sync_group]") {
  test::broker_fixture b({"message.max.bytes=100000"});
  auto joined = b.call<jg::response>(jg::api_key, 3, test::join_request("g", "", std::string(200000, 'm')));
  REQUIRE(joined.error_code == 0);
  auto synced = b.call<sg::response>(sg::api_key, 3, sync_request(joined.member_id, joined.generation_id, "A"));
  CHECK(synced.error_code == wire_code(kafka_error::unknown_server_error));
}

TEST_CASE("the leader's SyncGroup stores the generation, it survives a restart", "[handlers][sync_group]") {
  test::broker_fixture b({"message.max.bytes=1000000"});
  const std::string metadata(300000, 'm');
  auto joined = b.call<jg::response>(jg::api_key, 3, test::join_request("g", "", metadata));
  REQUIRE(joined.error_code == 0);
  auto synced = b.call<sg::response>(sg::api_key, 3, sync_request(joined.member_id, joined.generation_id, "A"));
  REQUIRE(synced.error_code == 0);
  b.restart();
  dg::request req;
  req.groups = {"g"};
  auto described = b.call<dg::response>(dg::api_key, 5, req);
  REQUIRE(described.groups.size() == 1);
  CHECK(described.groups[0].group_state == "Stable");
  REQUIRE(described.groups[0].members.size() == 1);
  CHECK(described.groups[0].members[0].member_id == joined.member_id);
  CHECK(described.groups[0].members[0].member_metadata.size() == metadata.size());
}

TEST_CASE("with an authorizer SyncGroup, Heartbeat and LeaveGroup need READ on the group") {
  namespace t = brook::test;
  namespace jg = brook::common::protocol::join_group;
  namespace sg = brook::common::protocol::sync_group;
  namespace hb = brook::common::protocol::heartbeat;
  namespace lg = brook::common::protocol::leave_group;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer, "group.initial.rebalance.delay.ms=0"});
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::read)});
  auto first = b.call<jg::response>(jg::api_key, 7, t::join_request("g", ""));
  auto joined = b.call<jg::response>(jg::api_key, 7, t::join_request("g", first.member_id));
  REQUIRE(joined.error_code == 0);
  sg::request sync;
  sync.group_id = "g";
  sync.generation_id = joined.generation_id;
  sync.member_id = joined.member_id;
  CHECK(b.call<sg::response>(sg::api_key, 3, sync).error_code == 0);
  hb::request beat;
  beat.group_id = "g";
  beat.generation_id = joined.generation_id;
  beat.member_id = joined.member_id;
  CHECK(b.call<hb::response>(hb::api_key, 3, beat).error_code == 0);
  // The same requests to a group the principal may not READ.
  sync.group_id = beat.group_id = "h";
  auto refused = b.call<sg::response>(sg::api_key, 3, sync);
  CHECK(refused.error_code == wire_code(kafka_error::group_authorization_failed));
  CHECK(refused.assignment.empty());
  CHECK(b.call<hb::response>(hb::api_key, 3, beat).error_code == wire_code(kafka_error::group_authorization_failed));
  lg::request leave;
  leave.group_id = "h";
  leave.members.push_back({joined.member_id, std::nullopt, std::nullopt});
  auto left = b.call<lg::response>(lg::api_key, 3, leave);
  CHECK(left.error_code == wire_code(kafka_error::group_authorization_failed));
  CHECK(left.members.empty());
  leave.group_id = "g";
  auto allowed = b.call<lg::response>(lg::api_key, 3, leave);
  CHECK(allowed.error_code == 0);
  REQUIRE(allowed.members.size() == 1);
  CHECK(allowed.members[0].error_code == 0);
}
