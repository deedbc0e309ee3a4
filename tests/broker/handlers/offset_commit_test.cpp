// OffsetCommit, in process: Kafka's commit rules for committers outside any generation, and topics
// named by id (v10+).
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/delete_topics.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

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

TEST_CASE("OffsetCommit v10 names topics by id: the offsets are stored under the topic's name",
          "[handlers][offset_commit]") {
  test::broker_fixture b;
  const common::uuid id = test::create_topic_with_id(b.client(), "t", 2);
  oc::request req = test::commit_request("g", "", -1, "", 42);
  req.topics[0].topic_id = id;
  auto& p1 = req.topics[0].partitions.emplace_back();
  p1.partition_index = 1;
  p1.committed_offset = 43;
  auto resp = b.call<oc::response>(oc::api_key, 10, req);
  REQUIRE(resp.topics.size() == 1);
  CHECK(resp.topics[0].topic_id == id);
  CHECK(resp.topics[0].name.empty());  // not on the wire from v10
  REQUIRE(resp.topics[0].partitions.size() == 2);
  CHECK(resp.topics[0].partitions[0].error_code == 0);
  CHECK(resp.topics[0].partitions[1].error_code == 0);
  // A consumer reading by name (OffsetFetch v7) sees them, also after a restart.
  CHECK(test::committed_offset(b.client(), "g", "t") == 42);
  b.restart();
  CHECK(test::committed_offset(b.client(), "g", "t") == 42);
}

TEST_CASE("OffsetCommit v10: an id no topic has is UNKNOWN_TOPIC_ID for each of its partitions, the rest commit",
          "[handlers][offset_commit]") {
  test::broker_fixture b;
  const common::uuid id = test::create_topic_with_id(b.client(), "t");
  const common::uuid unknown = common::uuid::random();
  oc::request req = test::commit_request("g", "", -1, "", 7);
  req.topics[0].topic_id = unknown;
  req.topics[0].partitions.push_back(req.topics[0].partitions[0]);
  req.topics[0].partitions[1].partition_index = 3;
  auto& known = req.topics.emplace_back();
  known.topic_id = id;
  known.partitions.push_back(req.topics[0].partitions[0]);
  known.partitions.push_back(req.topics[0].partitions[1]);  // partition 3 of a one-partition topic
  auto resp = b.call<oc::response>(oc::api_key, 10, req);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].topic_id == unknown);
  REQUIRE(resp.topics[0].partitions.size() == 2);
  CHECK(resp.topics[0].partitions[0].partition_index == 0);
  CHECK(resp.topics[0].partitions[0].error_code == wire_code(kafka_error::unknown_topic_id));
  CHECK(resp.topics[0].partitions[1].partition_index == 3);
  CHECK(resp.topics[0].partitions[1].error_code == wire_code(kafka_error::unknown_topic_id));
  CHECK(resp.topics[1].topic_id == id);
  REQUIRE(resp.topics[1].partitions.size() == 2);
  CHECK(resp.topics[1].partitions[0].error_code == 0);
  CHECK(resp.topics[1].partitions[1].error_code == wire_code(kafka_error::unknown_topic_or_partition));
  CHECK(test::committed_offset(b.client(), "g", "t") == 7);
}

TEST_CASE("OffsetCommit v10 to a deleted topic's id is UNKNOWN_TOPIC_ID, also once the name is taken again",
          "[handlers][offset_commit]") {
  test::broker_fixture b;
  const common::uuid old_id = test::create_topic_with_id(b.client(), "t");
  proto::delete_topics::request del;
  del.topic_names = {"t"};
  auto deleted = b.call<proto::delete_topics::response>(proto::delete_topics::api_key, 5, del);
  REQUIRE(deleted.responses.size() == 1);
  REQUIRE(deleted.responses[0].error_code == 0);
  const common::uuid new_id = test::create_topic_with_id(b.client(), "t");
  REQUIRE(new_id != old_id);
  oc::request req = test::commit_request("g", "", -1, "", 5);
  req.topics[0].topic_id = old_id;
  auto resp = b.call<oc::response>(oc::api_key, 10, req);
  CHECK(resp.topics[0].partitions[0].error_code == wire_code(kafka_error::unknown_topic_id));
  CHECK(test::committed_offset(b.client(), "g", "t") == -1);
}

TEST_CASE("OffsetCommit checks the group before each partition's metadata, and an empty member id is no member",
          "[handlers][offset_commit]") {
  // Kafka's order: the group coordinator's validateOffsetCommit answers every partition, then each
  // partition's metadata is checked against offset.metadata.max.bytes (4096 by default).
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 2);
  auto joined = b.call<proto::join_group::response>(proto::join_group::api_key, 3, test::join_request("busy", ""));
  REQUIRE(joined.error_code == 0);  // generation 1, waiting for SyncGroup
  const std::string too_large(5000, 'm');
  auto two_partitions = [&](const std::string& group, const std::string& member, int32_t generation) {
    auto req = test::commit_request(group, member, generation, "t", 5);
    auto& p1 = req.topics[0].partitions.emplace_back();
    p1.partition_index = 1;
    p1.committed_offset = 6;
    p1.committed_metadata = too_large;
    return b.call<oc::response>(oc::api_key, 9, req);
  };

  SECTION("a member id the group does not have, or none, with a generation: UNKNOWN_MEMBER_ID everywhere") {
    for (const std::string member : {"", "stranger"}) {
      INFO("member id '" << member << "'");
      auto resp = two_partitions("busy", member, joined.generation_id);
      CHECK(resp.topics[0].partitions[0].error_code == wire_code(kafka_error::unknown_member_id));
      CHECK(resp.topics[0].partitions[1].error_code == wire_code(kafka_error::unknown_member_id));
    }
  }
  SECTION("the member, mid-rebalance: REBALANCE_IN_PROGRESS, also for the partition with too much metadata") {
    auto resp = two_partitions("busy", joined.member_id, joined.generation_id);
    CHECK(resp.topics[0].partitions[0].error_code == wire_code(kafka_error::rebalance_in_progress));
    CHECK(resp.topics[0].partitions[1].error_code == wire_code(kafka_error::rebalance_in_progress));
  }
  SECTION("a commit the group accepts: the partition with too much metadata alone is refused") {
    auto resp = two_partitions("empty", "", -1);
    CHECK(resp.topics[0].partitions[0].error_code == 0);
    CHECK(resp.topics[0].partitions[1].error_code == wire_code(kafka_error::offset_metadata_too_large));
    CHECK(test::committed_offset(b.client(), "empty", "t") == 5);
  }
}

TEST_CASE("with an authorizer OffsetCommit needs READ on the group and on each topic") {
  namespace t = brook::test;
  namespace oc = brook::common::protocol::offset_commit;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "mine", acl_operation::read)});
  t::create_topic(b.client(), "mine");
  t::create_topic(b.client(), "theirs");
  auto req = t::commit_request("g", "", -1, "mine", 5);
  req.topics.push_back(req.topics[0]);
  req.topics[1].name = "theirs";
  auto denied = b.call<oc::response>(oc::api_key, 8, req);
  REQUIRE(denied.topics.size() == 2);
  for (const auto& topic : denied.topics)
    CHECK(topic.partitions.at(0).error_code == wire_code(kafka_error::group_authorization_failed));
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::read)});
  auto resp = b.call<oc::response>(oc::api_key, 8, req);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].partitions.at(0).error_code == 0);
  CHECK(resp.topics[1].partitions.at(0).error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(t::committed_offset(b.client(), "g", "mine") == 5);
}
