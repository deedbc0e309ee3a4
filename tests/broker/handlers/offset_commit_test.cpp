// OffsetCommit, in process: Kafka's commit rules for committers outside any generation.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "group_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace oc = proto::offset_commit;
using common::kafka_error;
using common::wire_code;

TEST_CASE("an assign() consumer commits twice with generation -1 under its own member id", "[handlers][offset_commit]") {
  // librdkafka with group.protocol=consumer and assign(): its own (KIP-848) member id, generation -1.
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  for (int16_t version : {int16_t(9), int16_t(8)}) {
    const std::string group = "manual-v" + std::to_string(version);
    for (int round = 0; round < 3; ++round) {
      auto resp = b.call<oc::response>(oc::api_key, version,
                                       test::commit_request(group, "Zm9vYmFyYmF6cXV4MTIzNA", -1, "t", 10 + round));
      REQUIRE(resp.topics.size() == 1);
      CHECK(resp.topics[0].partitions[0].error_code == 0);
    }
  }
}

TEST_CASE("a commit with a generation to an unknown group: GROUP_ID_NOT_FOUND from v9", "[handlers][offset_commit]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  auto v9 = b.call<oc::response>(oc::api_key, 9, test::commit_request("nobody", "m", 3, "t", 1));
  CHECK(v9.topics[0].partitions[0].error_code == wire_code(kafka_error::group_id_not_found));
  auto v8 = b.call<oc::response>(oc::api_key, 8, test::commit_request("nobody", "m", 3, "t", 1));
  CHECK(v8.topics[0].partitions[0].error_code == wire_code(kafka_error::illegal_generation));
}
