// ListPartitionReassignments, in process: with one replica per partition no reassignment is ever in
// progress, also right after AlterPartitionReassignments accepted one.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "common/protocol/messages/alter_partition_reassignments.hpp"
#include "common/protocol/messages/list_partition_reassignments.hpp"
#include "group_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace lpr = proto::list_partition_reassignments;
namespace apr = proto::alter_partition_reassignments;

namespace {
lpr::response list(test::broker_fixture& b, std::optional<std::vector<lpr::list_reassignments_topic>> topics) {
  lpr::request req;
  req.timeout_ms = 10000;
  req.topics = std::move(topics);
  return b.call<lpr::response>(lpr::api_key, 0, req);
}

void check_none_in_progress(const lpr::response& resp) {
  CHECK(resp.error_code == 0);
  CHECK_FALSE(resp.error_message);
  CHECK(resp.topics.empty());
}
}  // namespace

TEST_CASE("ListPartitionReassignments finds none in progress, for every partition or named ones",
          "[handlers][list_partition_reassignments]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 2);
  check_none_in_progress(list(b, std::nullopt));
  check_none_in_progress(list(b, std::vector<lpr::list_reassignments_topic>{{"t", {0, 1, 9}}, {"missing", {0}}}));
  check_none_in_progress(list(b, std::vector<lpr::list_reassignments_topic>{}));

  // A reassignment onto the only replica there is is accepted and done at once.
  apr::request alter;
  alter.timeout_ms = 10000;
  alter.topics = {{"t", {{0, std::vector<int32_t>{b.server().node_id()}}}}};
  auto altered = b.call<apr::response>(apr::api_key, 1, alter);
  REQUIRE(altered.responses.at(0).partitions.at(0).error_code == 0);
  check_none_in_progress(list(b, std::nullopt));
  check_none_in_progress(list(b, std::vector<lpr::list_reassignments_topic>{{"t", {0}}}));
}
