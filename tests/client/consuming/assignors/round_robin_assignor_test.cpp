// Vectors from Kafka's RoundRobinAssignorTest.
#include "client/consuming/assignors/round_robin_assignor.hpp"

#include "client/consuming/assignors/assignor_test_support.hpp"

using namespace brook::client::consuming;
using namespace brook::client::consuming::assignors;
using namespace brook::client::consuming::assignors::test;

TEST_CASE("roundrobin: one consumer, missing topics, unsubscribed topics") {
  round_robin_assignor a;
  CHECK(a.name() == "roundrobin");
  CHECK(a.assign({}, {member("c1", {"topic"})}).at("c1").empty());
  auto out = a.assign({{"topic", 3}, {"other", 3}}, {member("c1", {"topic"})});
  CHECK(out.at("c1") == std::vector<topic_partition>{{"topic", 0}, {"topic", 1}, {"topic", 2}});
}

TEST_CASE("roundrobin: two consumers, two topics of three partitions") {
  round_robin_assignor a;
  auto out = a.assign({{"topic1", 3}, {"topic2", 3}},
                      {member("c1", {"topic1", "topic2"}), member("c2", {"topic1", "topic2"})});
  CHECK(out.at("c1") == std::vector<topic_partition>{{"topic1", 0}, {"topic1", 2}, {"topic2", 1}});
  CHECK(out.at("c2") == std::vector<topic_partition>{{"topic1", 1}, {"topic2", 0}, {"topic2", 2}});
}

TEST_CASE("roundrobin: mixed subscriptions skip members not subscribed") {
  round_robin_assignor a;
  std::vector<member_subscription> members{member("c1", {"topic1"}), member("c2", {"topic1", "topic2"}),
                                           member("c3", {"topic1"})};
  partition_counts counts{{"topic1", 3}, {"topic2", 2}};
  auto out = a.assign(counts, members);
  CHECK(out.at("c1") == std::vector<topic_partition>{{"topic1", 0}});
  CHECK(out.at("c2") == std::vector<topic_partition>{{"topic1", 1}, {"topic2", 0}, {"topic2", 1}});
  CHECK(out.at("c3") == std::vector<topic_partition>{{"topic1", 2}});
  check_assignment(counts, members, out, true, false);
}

TEST_CASE("roundrobin: static members keep their place by group.instance.id") {
  round_robin_assignor a;
  auto out = a.assign({{"t", 4}}, {member("z", {"t"}, {}, -1, "i1"), member("a", {"t"}, {}, -1, "i2")});
  CHECK(out.at("z") == std::vector<topic_partition>{{"t", 0}, {"t", 2}});
  CHECK(out.at("a") == std::vector<topic_partition>{{"t", 1}, {"t", 3}});
}
