// OffsetFetch, in process: topics named by id (v10+) are resolved as Kafka resolves them; by name
// (v8-9) nothing changes.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/delete_topics.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace oc = proto::offset_commit;
namespace of = proto::offset_fetch;
using common::kafka_error;
using common::wire_code;

namespace {

void commit(test::broker_fixture& b, const std::string& group, const std::string& topic, int64_t offset) {
  auto resp = b.call<oc::response>(oc::api_key, 9, test::commit_request(group, "", -1, topic, offset));
  REQUIRE(resp.topics.at(0).partitions.at(0).error_code == 0);
}

of::request fetch_by_id(const std::string& group, std::optional<std::vector<common::uuid>> ids) {
  of::request req;
  auto& g = req.groups.emplace_back();
  g.group_id = group;
  if (ids) {
    g.topics.emplace();
    for (const auto& id : *ids) {
      auto& t = g.topics->emplace_back();
      t.topic_id = id;
      t.partition_indexes = {0};
    }
  } else {
    g.topics.reset();
  }
  return req;
}

}  // namespace

TEST_CASE("OffsetFetch v10 answers known ids with their offsets, then each unknown id with UNKNOWN_TOPIC_ID",
          "[handlers][offset_fetch]") {
  test::broker_fixture b;
  const common::uuid a = test::create_topic_with_id(b.client(), "a");
  const common::uuid c = test::create_topic_with_id(b.client(), "c");
  commit(b, "g", "a", 11);
  commit(b, "g", "c", 33);
  const common::uuid unknown = common::uuid::random();
  auto resp = b.call<of::response>(of::api_key, 10, fetch_by_id("g", std::vector{a, unknown, c}));
  REQUIRE(resp.groups.size() == 1);
  const auto& g = resp.groups[0];
  CHECK(g.group_id == "g");
  CHECK(g.error_code == 0);
  REQUIRE(g.topics.size() == 3);
  CHECK(g.topics[0].topic_id == a);
  CHECK(g.topics[0].name.empty());  // not on the wire from v10
  REQUIRE(g.topics[0].partitions.size() == 1);
  CHECK(g.topics[0].partitions[0].committed_offset == 11);
  CHECK(g.topics[0].partitions[0].error_code == 0);
  CHECK(g.topics[1].topic_id == c);
  CHECK(g.topics[1].partitions.at(0).committed_offset == 33);
  CHECK(g.topics[2].topic_id == unknown);
  REQUIRE(g.topics[2].partitions.size() == 1);
  CHECK(g.topics[2].partitions[0].partition_index == 0);
  CHECK(g.topics[2].partitions[0].committed_offset == -1);
  CHECK(g.topics[2].partitions[0].committed_leader_epoch == -1);
  CHECK(g.topics[2].partitions[0].error_code == wire_code(kafka_error::unknown_topic_id));
}

TEST_CASE("OffsetFetch v10 of every committed partition names each topic by its id", "[handlers][offset_fetch]") {
  test::broker_fixture b;
  const common::uuid a = test::create_topic_with_id(b.client(), "a");
  const common::uuid c = test::create_topic_with_id(b.client(), "c");
  commit(b, "g", "a", 1);
  commit(b, "g", "c", 2);
  auto resp = b.call<of::response>(of::api_key, 10, fetch_by_id("g", std::nullopt));
  REQUIRE(resp.groups.size() == 1);
  const auto& topics = resp.groups[0].topics;
  REQUIRE(topics.size() == 2);
  CHECK(topics[0].topic_id == a);
  CHECK(topics[0].partitions.at(0).committed_offset == 1);
  CHECK(topics[1].topic_id == c);
  CHECK(topics[1].partitions.at(0).committed_offset == 2);
}

TEST_CASE("OffsetFetch v10 with a deleted topic's id: UNKNOWN_TOPIC_ID, not the offsets of a new topic of that name",
          "[handlers][offset_fetch]") {
  test::broker_fixture b;
  const common::uuid old_id = test::create_topic_with_id(b.client(), "t");
  proto::delete_topics::request del;
  del.topic_names = {"t"};
  REQUIRE(b.call<proto::delete_topics::response>(proto::delete_topics::api_key, 5, del).responses.at(0).error_code == 0);
  const common::uuid new_id = test::create_topic_with_id(b.client(), "t");
  commit(b, "g", "t", 9);
  auto resp = b.call<of::response>(of::api_key, 10, fetch_by_id("g", std::vector{old_id, new_id}));
  const auto& topics = resp.groups.at(0).topics;
  REQUIRE(topics.size() == 2);
  CHECK(topics[0].topic_id == new_id);
  CHECK(topics[0].partitions.at(0).committed_offset == 9);
  CHECK(topics[1].topic_id == old_id);
  CHECK(topics[1].partitions.at(0).error_code == wire_code(kafka_error::unknown_topic_id));
}

TEST_CASE("OffsetFetch v9 still names topics by name", "[handlers][offset_fetch]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  commit(b, "g", "t", 5);
  of::request req;
  auto& g = req.groups.emplace_back();
  g.group_id = "g";
  g.topics.emplace();
  auto& t = g.topics->emplace_back();
  t.name = "t";
  t.partition_indexes = {0};
  auto resp = b.call<of::response>(of::api_key, 9, req);
  const auto& topics = resp.groups.at(0).topics;
  REQUIRE(topics.size() == 1);
  CHECK(topics[0].name == "t");
  CHECK(topics[0].topic_id.is_zero());  // not on the wire before v10
  CHECK(topics[0].partitions.at(0).committed_offset == 5);
}

TEST_CASE("with an authorizer OffsetFetch needs DESCRIBE on the group and shows only topics it may DESCRIBE") {
  namespace t = brook::test;
  namespace of = brook::common::protocol::offset_fetch;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "a", acl_operation::read),
               t::allowing(resource_type::topic, "b", acl_operation::read),
               t::allowing(resource_type::group, "g", acl_operation::read)});
  t::create_topic(b.client(), "a");
  t::create_topic(b.client(), "b");
  for (const char* topic : {"a", "b"})
    REQUIRE(b.call<brook::common::protocol::offset_commit::response>(
                  brook::common::protocol::offset_commit::api_key, 8, t::commit_request("g", "", -1, topic, 3))
                .topics.at(0)
                .partitions.at(0)
                .error_code == 0);
  // READ on the group implies DESCRIBE; take DESCRIBE on topic b away with a DENY.
  t::grant(b, {t::denying(resource_type::topic, "b", acl_operation::describe)});
  of::request all;
  all.group_id = "g";
  all.topics = std::nullopt;
  auto listed = b.call<of::response>(of::api_key, 7, all);
  CHECK(listed.error_code == 0);
  REQUIRE(listed.topics.size() == 1);
  CHECK(listed.topics[0].name == "a");
  of::request named;
  named.group_id = "g";
  named.topics.emplace();
  for (const char* topic : {"a", "b"}) named.topics->push_back({topic, {0}});
  auto resp = b.call<of::response>(of::api_key, 7, named);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].partitions.at(0).committed_offset == 3);
  CHECK(resp.topics[1].name == "b");
  CHECK(resp.topics[1].partitions.at(0).error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(resp.topics[1].partitions.at(0).committed_offset == -1);
  // Another group: refused at the top (v2-7) or for the group (v8+).
  named.group_id = "other";
  CHECK(b.call<of::response>(of::api_key, 7, named).error_code == wire_code(kafka_error::group_authorization_failed));
  of::request batched;
  batched.groups.push_back({});
  batched.groups[0].group_id = "other";
  batched.groups[0].topics = std::nullopt;
  auto per_group = b.call<of::response>(of::api_key, 8, batched);
  CHECK(per_group.groups.at(0).error_code == wire_code(kafka_error::group_authorization_failed));
}
