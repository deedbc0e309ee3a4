// ConsumerGroupDescribe, in process: members with their assignments; v1+ (KIP-1099) gives each
// member's type, 1 for a consumer-protocol member.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/consumer_group_describe.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "group_test_util.hpp"

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
