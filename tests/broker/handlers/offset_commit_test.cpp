// OffsetCommit, in process: Kafka's commit rules for committers outside any generation.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
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

TEST_CASE("concurrent commits of one partition leave the cache and the store agreeing", "[handlers][offset_commit]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  auto one = b.connect("one");
  auto two = b.connect("two");
  auto fetch = [](test::kafka_client& c) { return test::committed_offset(c, "g", "t"); };
  for (int i = 0; i < 100; ++i) {
    proto::writer w1, w2;
    test::commit_request("g", "", -1, "t", 2 * i).encode(w1, 8);
    test::commit_request("g", "", -1, "t", 2 * i + 1).encode(w2, 8);
    auto b1 = w1.take(), b2 = w2.take();
    one.send_raw(oc::api_key, 8, b1);
    two.send_raw(oc::api_key, 8, b2);
    REQUIRE(one.receive_body(oc::api_key, 8));
    REQUIRE(two.receive_body(oc::api_key, 8));
  }
  const int64_t cached = fetch(b.client());
  b.restart();
  CHECK(fetch(b.client()) == cached);  // what the store holds is what the cache answered
}
