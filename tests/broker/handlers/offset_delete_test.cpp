// OffsetDelete, in process: removed offsets stay removed across a restart.
#include <catch2/catch.hpp>

#include "common/protocol/messages/offset_delete.hpp"
#include "group_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace oc = proto::offset_commit;
namespace od = proto::offset_delete;

TEST_CASE("offsets deleted from an empty group stay deleted after a restart", "[handlers][offset_delete]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  auto c = b.call<oc::response>(oc::api_key, 8, test::commit_request("g", "", -1, "t", 7));
  REQUIRE(c.topics[0].partitions[0].error_code == 0);
  od::request req;
  req.group_id = "g";
  auto& t = req.topics.emplace_back();
  t.name = "t";
  t.partitions.emplace_back().partition_index = 0;
  auto resp = b.call<od::response>(od::api_key, 0, req);
  CHECK(resp.error_code == 0);
  b.restart();
  CHECK(test::committed_offset(b.client(), "g", "t") == -1);
}
