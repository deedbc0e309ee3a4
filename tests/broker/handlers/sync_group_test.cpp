// SyncGroup, in process: the completed generation is what is stored, bounded by message.max.bytes
// as Kafka's __consumer_offsets record is.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/describe_groups.hpp"
#include "group_test_util.hpp"

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
