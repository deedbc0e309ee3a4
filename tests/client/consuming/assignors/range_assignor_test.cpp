// Vectors from Kafka's RangeAssignorTest.
#include "client/consuming/assignors/range_assignor.hpp"

#include "client/consuming/assignors/assignor_test_support.hpp"

using namespace brook::client::consuming;
using namespace brook::client::consuming::assignors;
using namespace brook::client::consuming::assignors::test;

TEST_CASE("range: no topic, a missing topic, one topic, only subscribed topics") {
  range_assignor a;
  CHECK(a.name() == "range");
  auto out = a.assign({}, {member("c1", {})});
  CHECK(out.at("c1").empty());
  out = a.assign({}, {member("c1", {"topic"})});
  CHECK(out.at("c1").empty());
  out = a.assign({{"topic", 3}}, {member("c1", {"topic"})});
  CHECK(out.at("c1") == std::vector<topic_partition>{{"topic", 0}, {"topic", 1}, {"topic", 2}});
  out = a.assign({{"topic", 3}, {"other", 3}}, {member("c1", {"topic"})});
  CHECK(out.at("c1") == std::vector<topic_partition>{{"topic", 0}, {"topic", 1}, {"topic", 2}});
}

TEST_CASE("range: two consumers, one topic of one or two partitions") {
  range_assignor a;
  auto out = a.assign({{"topic", 1}}, {member("c1", {"topic"}), member("c2", {"topic"})});
  CHECK(out.at("c1") == std::vector<topic_partition>{{"topic", 0}});
  CHECK(out.at("c2").empty());
  out = a.assign({{"topic", 2}}, {member("c1", {"topic"}), member("c2", {"topic"})});
  CHECK(out.at("c1") == std::vector<topic_partition>{{"topic", 0}});
  CHECK(out.at("c2") == std::vector<topic_partition>{{"topic", 1}});
}

TEST_CASE("range: mixed subscriptions and two topics of three partitions") {
  range_assignor a;
  std::vector<member_subscription> members{member("c1", {"topic1"}), member("c2", {"topic1", "topic2"}),
                                           member("c3", {"topic1"})};
  partition_counts counts{{"topic1", 3}, {"topic2", 2}};
  auto out = a.assign(counts, members);
  CHECK(out.at("c1") == std::vector<topic_partition>{{"topic1", 0}});
  CHECK(sorted(out.at("c2")) == std::vector<topic_partition>{{"topic1", 1}, {"topic2", 0}, {"topic2", 1}});
  CHECK(out.at("c3") == std::vector<topic_partition>{{"topic1", 2}});
  check_assignment(counts, members, out, true, false);

  out = a.assign({{"topic1", 3}, {"topic2", 3}},
                 {member("c1", {"topic1", "topic2"}), member("c2", {"topic1", "topic2"})});
  CHECK(sorted(out.at("c1")) ==
        std::vector<topic_partition>{{"topic1", 0}, {"topic1", 1}, {"topic2", 0}, {"topic2", 1}});
  CHECK(sorted(out.at("c2")) == std::vector<topic_partition>{{"topic1", 2}, {"topic2", 2}});
}

TEST_CASE("range: static members are ordered by group.instance.id, before dynamic ones") {
  range_assignor a;
  // Member ids sort the other way round; the instance ids decide.
  auto out = a.assign({{"t", 3}}, {member("b-member", {"t"}, {}, -1, "instance-1"),
                                   member("a-member", {"t"}, {}, -1, "instance-2"), member("0-dynamic", {"t"})});
  CHECK(out.at("b-member") == std::vector<topic_partition>{{"t", 0}});
  CHECK(out.at("a-member") == std::vector<topic_partition>{{"t", 1}});
  CHECK(out.at("0-dynamic") == std::vector<topic_partition>{{"t", 2}});
}

TEST_CASE("assignors are found by Java's protocol names") {
  CHECK(make_assignor("range")->name() == "range");
  CHECK(make_assignor("roundrobin")->name() == "roundrobin");
  CHECK(make_assignor("cooperative-sticky")->name() == "cooperative-sticky");
  CHECK(make_assignor("uniform") == nullptr);
}
