// DescribeTopicPartitions, in process: every topic or the named ones in name order, each partition led
// by this broker, pages cut at the partition limit with a cursor to the next one, Kafka's errors for
// unknown topics and refused cursors.
#include <catch2/catch.hpp>

#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/describe_topic_partitions.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace dtp = proto::describe_topic_partitions;
using common::kafka_error;
using common::wire_code;

namespace {

// Kafka's TOPIC resource operations: READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS,
// ALTER_CONFIGS (AclOperation codes 3-8, 10, 11), all allowed without an authorizer.
constexpr int32_t all_topic_operations = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) |
                                         (1 << 11);

dtp::request request_for(std::vector<std::string> names, int32_t limit = 2000,
                         std::optional<std::pair<std::string, int32_t>> cursor = std::nullopt) {
  dtp::request req;
  for (auto& n : names) req.topics.push_back({std::move(n)});
  req.response_partition_limit = limit;
  if (cursor) req.cursor = dtp::partition_cursor{cursor->first, cursor->second};
  return req;
}

dtp::response describe(test::broker_fixture& b, const dtp::request& req) {
  return b.call<dtp::response>(dtp::api_key, 0, req);
}

// "topic:partition" for every partition of a response, in order.
std::vector<std::string> partitions_of(const dtp::response& resp) {
  std::vector<std::string> out;
  for (const auto& t : resp.topics)
    for (const auto& p : t.partitions) out.push_back(t.name.value_or("?") + ":" + std::to_string(p.partition_index));
  return out;
}

}  // namespace

TEST_CASE("DescribeTopicPartitions lists every topic in name order, each partition led by this broker",
          "[handlers][describe_topic_partitions]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "beta", 1);
  test::create_topic(b.client(), "alpha", 3);
  auto resp = describe(b, request_for({}));
  REQUIRE(resp.topics.size() == 2);
  CHECK_FALSE(resp.next_cursor);
  CHECK(resp.topics[0].name == "alpha");
  CHECK(resp.topics[1].name == "beta");
  const int32_t node = b.server().node_id();
  for (const auto& t : resp.topics) {
    CHECK(t.error_code == 0);
    CHECK(t.topic_id == b.server().topics().find(*t.name)->record.id);
    CHECK_FALSE(t.is_internal);
    // No authorizer: every operation on a topic, as Kafka reports them.
    CHECK(t.topic_authorized_operations == all_topic_operations);
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const auto& p = t.partitions[i];
      CHECK(p.error_code == 0);
      CHECK(p.partition_index == static_cast<int32_t>(i));
      CHECK(p.leader_id == node);
      CHECK(p.leader_epoch == 0);
      CHECK(p.replica_nodes == std::vector<int32_t>{node});
      CHECK(p.isr_nodes == std::vector<int32_t>{node});
      CHECK(p.eligible_leader_replicas == std::vector<int32_t>{});
      CHECK(p.last_known_elr == std::vector<int32_t>{});
      CHECK(p.offline_replicas.empty());
    }
  }
  CHECK(partitions_of(resp) == std::vector<std::string>{"alpha:0", "alpha:1", "alpha:2", "beta:0"});
}

TEST_CASE("DescribeTopicPartitions pages at the partition limit and resumes from the cursor",
          "[handlers][describe_topic_partitions]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "a", 3);
  test::create_topic(b.client(), "b", 1);
  test::create_topic(b.client(), "c", 2);

  SECTION("every topic, two partitions a page") {
    std::vector<std::string> seen;
    std::vector<std::pair<std::string, int32_t>> cursors;
    auto req = request_for({}, 2);
    for (int page = 0; page < 10; ++page) {
      auto resp = describe(b, req);
      for (auto& p : partitions_of(resp)) seen.push_back(p);
      if (!resp.next_cursor) break;
      cursors.emplace_back(resp.next_cursor->topic_name, resp.next_cursor->partition_index);
      req.cursor = resp.next_cursor;
    }
    CHECK(seen == std::vector<std::string>{"a:0", "a:1", "a:2", "b:0", "c:0", "c:1"});
    // A page ending inside a topic points at its next partition; one ending with a topic at the next topic.
    CHECK(cursors == std::vector<std::pair<std::string, int32_t>>{{"a", 2}, {"c", 0}});
  }
  SECTION("named topics resume from the cursor's topic and partition") {
    auto resp = describe(b, request_for({"c", "a", "b"}, 2, std::pair{"a", 1}));
    CHECK(partitions_of(resp) == std::vector<std::string>{"a:1", "a:2"});
    REQUIRE(resp.next_cursor);
    CHECK(resp.next_cursor->topic_name == "b");
    CHECK(resp.next_cursor->partition_index == 0);
    // Topics before the cursor's are not described again.
    resp = describe(b, request_for({"c", "a", "b"}, 2000, std::pair{"b", 0}));
    CHECK(partitions_of(resp) == std::vector<std::string>{"b:0", "c:0", "c:1"});
    CHECK_FALSE(resp.next_cursor);
  }
  SECTION("a limit below 1 counts as 1") {
    auto resp = describe(b, request_for({"a"}, 0));
    CHECK(partitions_of(resp) == std::vector<std::string>{"a:0"});
    REQUIRE(resp.next_cursor);
    CHECK(resp.next_cursor->partition_index == 1);
  }
  SECTION("a cursor past a topic's last partition describes none of it") {
    auto resp = describe(b, request_for({"a", "b"}, 2000, std::pair{"a", 7}));
    REQUIRE(resp.topics.size() == 2);
    CHECK(resp.topics[0].name == "a");
    CHECK(resp.topics[0].error_code == 0);
    CHECK(resp.topics[0].partitions.empty());
    CHECK(partitions_of(resp) == std::vector<std::string>{"b:0"});
    CHECK_FALSE(resp.next_cursor);
  }
}

TEST_CASE("DescribeTopicPartitions pages at max.request.partition.size.limit when the request asks for more",
          "[handlers][describe_topic_partitions]") {
  test::broker_fixture b({"max.request.partition.size.limit=2"});
  test::create_topic(b.client(), "t", 5);
  auto resp = describe(b, request_for({"t"}, 1000));
  CHECK(partitions_of(resp) == std::vector<std::string>{"t:0", "t:1"});
  REQUIRE(resp.next_cursor);
  CHECK(resp.next_cursor->partition_index == 2);
}

TEST_CASE("DescribeTopicPartitions answers unknown and invalid names with Kafka's errors, each name once",
          "[handlers][describe_topic_partitions]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "known", 1);
  auto resp = describe(b, request_for({"missing", "known", "bad name", "missing"}));
  REQUIRE(resp.topics.size() == 3);  // in name order: "bad name" < "known" < "missing"
  CHECK(resp.topics[0].name == "bad name");
  CHECK(resp.topics[0].error_code == wire_code(kafka_error::invalid_topic_exception));
  CHECK(resp.topics[1].name == "known");
  CHECK(resp.topics[1].error_code == 0);
  CHECK(resp.topics[2].name == "missing");
  CHECK(resp.topics[2].error_code == wire_code(kafka_error::unknown_topic_or_partition));
  for (size_t i : {size_t{0}, size_t{2}}) {
    CHECK(resp.topics[i].topic_id.is_zero());
    CHECK(resp.topics[i].partitions.empty());
    // Kafka reports the operations of unknown topics too.
    CHECK(resp.topics[i].topic_authorized_operations == all_topic_operations);
  }
}

TEST_CASE("DescribeTopicPartitions refuses a cursor outside the named topics or with a negative partition",
          "[handlers][describe_topic_partitions]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "x", 2);
  test::create_topic(b.client(), "y", 1);
  for (const auto& cursor : {std::pair<std::string, int32_t>{"z", 0}, std::pair<std::string, int32_t>{"x", -1}}) {
    INFO(cursor.first << ":" << cursor.second);
    auto resp = describe(b, request_for({"y", "x"}, 2000, cursor));
    REQUIRE(resp.topics.size() == 2);  // Kafka's error response: the named topics, in request order
    CHECK(resp.topics[0].name == "y");
    CHECK(resp.topics[1].name == "x");
    for (const auto& t : resp.topics) {
      CHECK(t.error_code == wire_code(kafka_error::invalid_request));
      CHECK(t.partitions.empty());
      CHECK(t.topic_authorized_operations == INT32_MIN);
    }
    CHECK_FALSE(resp.next_cursor);
  }
}

TEST_CASE("with an authorizer DescribeTopicPartitions shows only topics the principal may DESCRIBE") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "seen", acl_operation::describe)});
  t::create_topic(b.client(), "seen");
  t::create_topic(b.client(), "unseen");
  auto all = describe(b, request_for({}));
  REQUIRE(all.topics.size() == 1);
  CHECK(all.topics[0].name == "seen");
  CHECK(all.topics[0].topic_authorized_operations == (1 << 8));
  auto named = describe(b, request_for({"seen", "unseen"}));
  REQUIRE(named.topics.size() == 2);
  CHECK(named.topics[0].error_code == 0);
  CHECK(named.topics[1].error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(named.topics[1].partitions.empty());
}
