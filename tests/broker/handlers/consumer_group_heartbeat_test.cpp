// ConsumerGroupHeartbeat, in process: regex subscriptions use RE2 (Kafka's syntax) and are matched
// off the network thread, so a catastrophic pattern does not stall other clients.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <chrono>
#include <limits>
#include <thread>

#include "common/error.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace cgh = proto::consumer_group_heartbeat;
namespace av = proto::api_versions;
using common::kafka_error;
using common::wire_code;

namespace {
// How long a test heartbeats for an assignment that depends on a regex being resolved off the network
// thread: far more than it takes (milliseconds), so that only a broker that never assigns fails.
constexpr auto assignment_wait = std::chrono::seconds(30);

cgh::request join_by_regex(const std::string& member, const std::string& regex) {
  cgh::request req;
  req.group_id = "g";
  req.member_id = member;
  req.member_epoch = 0;
  req.rebalance_timeout_ms = 30000;
  req.subscribed_topic_regex = regex;
  req.topic_partitions.emplace();
  return req;
}
}  // namespace

TEST_CASE("a regex outside RE2's syntax is refused with INVALID_REGULAR_EXPRESSION", "[handlers][consumer_group_heartbeat]") {
  test::broker_fixture b;
  // Lookahead is ECMAScript, not RE2 (nor Kafka's RE2/J).
  auto resp = b.call<cgh::response>(cgh::api_key, 1, join_by_regex("m1", "orders-(?=x).*"));
  CHECK(resp.error_code == wire_code(kafka_error::invalid_regular_expression));
}

TEST_CASE("a catastrophic regex neither stalls other clients nor the group", "[handlers][consumer_group_heartbeat]") {
  test::broker_fixture b;
  // Topic names on which a backtracking matcher of (a+)+$ needs ~2^200 steps.
  for (int i = 0; i < 5; ++i) test::create_topic(b.client(), std::string(200, 'a') + std::to_string(i) + "b");
  test::create_topic(b.client(), std::string(200, 'a'));
  auto member = b.connect("regex-member");
  auto joined = member.call<cgh::response>(cgh::api_key, 1, join_by_regex("m1", "(a+)+$"));
  REQUIRE(joined.error_code == 0);
  // Another client's requests are answered promptly meanwhile.
  auto other = b.connect("other");
  av::request ping;
  ping.client_software_name = "probe";
  ping.client_software_version = "1";
  auto worst = std::chrono::steady_clock::duration::zero();
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = other.call<av::response>(av::api_key, 3, ping);
    worst = std::max(worst, std::chrono::steady_clock::now() - t0);
    CHECK(r.error_code == 0);
  }
  // A network thread stuck in a backtracking match would not answer at all; the bound leaves room for a
  // sanitizer build on a loaded machine.
  CHECK(worst < std::chrono::seconds(5));
  // The member is assigned the one topic the pattern matches once the regex is resolved.
  cgh::request beat;
  beat.group_id = "g";
  beat.member_id = "m1";
  beat.member_epoch = joined.member_epoch;
  bool assigned = false;
  for (auto deadline = std::chrono::steady_clock::now() + assignment_wait;
       !assigned && std::chrono::steady_clock::now() < deadline;) {
    auto r = member.call<cgh::response>(cgh::api_key, 1, beat);
    REQUIRE(r.error_code == 0);
    beat.member_epoch = r.member_epoch;
    if (r.assignment && !r.assignment->topic_partitions.empty()) {
      CHECK(r.assignment->topic_partitions.size() == 1);
      assigned = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the client's heartbeat interval, shortened
    }
  }
  CHECK(assigned);
}

TEST_CASE("with an authorizer ConsumerGroupHeartbeat needs READ on the group and DESCRIBE on subscribed topics") {
  namespace t = brook::test;
  namespace cgh = brook::common::protocol::consumer_group_heartbeat;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "t", acl_operation::read)});
  t::create_topic(b.client(), "t");
  t::create_topic(b.client(), "u");
  cgh::request req;
  req.group_id = "g";
  req.member_id = "m1";
  req.member_epoch = 0;
  req.rebalance_timeout_ms = 30000;
  req.subscribed_topic_names = std::vector<std::string>{"t"};
  req.topic_partitions = std::vector<cgh::topic_id_partitions>{};
  CHECK(b.call<cgh::response>(cgh::api_key, 0, req).error_code == wire_code(kafka_error::group_authorization_failed));
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::read)});
  req.subscribed_topic_names = std::vector<std::string>{"t", "u"};
  CHECK(b.call<cgh::response>(cgh::api_key, 0, req).error_code == wire_code(kafka_error::topic_authorization_failed));
  req.subscribed_topic_names = std::vector<std::string>{"t"};
  auto joined = b.call<cgh::response>(cgh::api_key, 0, req);
  CHECK(joined.error_code == 0);
  CHECK(joined.member_epoch > 0);
}

namespace regex_acl_test {

namespace t = brook::test;
namespace cgh = brook::common::protocol::consumer_group_heartbeat;
using t::sec::acl_operation;
using t::sec::resource_type;

// Heartbeats (as a client does, every few milliseconds here) until the member's assignment names
// `want` topics, for at most `max_beats` heartbeats or assignment_wait; `topics` holds the topic ids of its
// assignment, kept while a response leaves it unchanged.
void heartbeat_until(t::broker_fixture& b, cgh::request& beat, size_t want, std::set<brook::common::uuid>& topics,
                     int max_beats = std::numeric_limits<int>::max()) {
  const auto deadline = std::chrono::steady_clock::now() + assignment_wait;
  for (int i = 0; i < max_beats && std::chrono::steady_clock::now() < deadline; ++i) {
    auto r = b.call<cgh::response>(cgh::api_key, 1, beat);
    REQUIRE(r.error_code == 0);
    beat.member_epoch = r.member_epoch;
    beat.subscribed_topic_regex = std::nullopt;
    beat.topic_partitions = std::nullopt;
    if (r.assignment) {
      topics.clear();
      for (const auto& tp : r.assignment->topic_partitions) topics.insert(tp.topic_id);
    }
    if (topics.size() >= want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST_CASE("with an authorizer a regex subscription matches only topics its member may describe",
          "[handlers][consumer_group_heartbeat]") {
  t::broker_fixture b({t::standard_authorizer, "group.consumer.assignment.interval.ms=0"});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::alter),
               t::allowing(resource_type::topic, "orders-a", acl_operation::read),
               t::allowing(resource_type::group, "g", acl_operation::read)});
  const auto visible = t::create_topic_with_id(b.client(), "orders-a");
  const auto hidden = t::create_topic_with_id(b.client(), "orders-b");
  auto beat = join_by_regex("m1", "orders-.*");
  std::set<brook::common::uuid> topics;
  heartbeat_until(b, beat, 1, topics);
  CHECK(topics == std::set<brook::common::uuid>{visible});
  // Resolved once with orders-b left out; later heartbeats do not bring it in.
  heartbeat_until(b, beat, 2, topics, 25);
  CHECK(topics == std::set<brook::common::uuid>{visible});

  // Once the member may describe orders-b (CreateAcls), the regex is resolved again and matches it.
  auto created = t::create_acls(b, {t::creation(resource_type::topic, "orders-b", t::sec::pattern_type::literal,
                                                t::test_principal, "*", acl_operation::describe,
                                                t::sec::permission_type::allow)});
  REQUIRE(created.results.size() == 1);
  REQUIRE(created.results[0].error_code == 0);
  heartbeat_until(b, beat, 2, topics);
  CHECK(topics == std::set<brook::common::uuid>{visible, hidden});
}

}  // namespace regex_acl_test
