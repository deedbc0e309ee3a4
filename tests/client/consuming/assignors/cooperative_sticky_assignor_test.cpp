// Cooperative-sticky: Kafka's CooperativeStickyAssignorTest / AbstractStickyAssignorTest scenarios
// (balance, stickiness, generations, revoke-before-reassign) and a randomised run of rebalances that
// follows the cooperative protocol to its end.
#include "client/consuming/assignors/cooperative_sticky_assignor.hpp"

#include <random>

#include "client/consuming/assignors/assignor_test_support.hpp"

using namespace brook::client::consuming;
using namespace brook::client::consuming::assignors;
using namespace brook::client::consuming::assignors::test;

namespace {

std::vector<topic_partition> tps(const std::string& topic, std::initializer_list<int32_t> ps) {
  std::vector<topic_partition> v;
  for (int32_t p : ps) v.push_back({topic, p});
  return v;
}

}  // namespace

TEST_CASE("cooperative-sticky: name, protocols and the generation as user data") {
  cooperative_sticky_assignor a;
  CHECK(a.name() == "cooperative-sticky");
  CHECK(a.supported_protocols().front() == rebalance_protocol::cooperative);
  CHECK(a.subscription_user_data({}) == std::optional<brook::common::protocol::bytes>({0xff, 0xff, 0xff, 0xff}));
  a.on_assignment({}, 5);
  CHECK(a.subscription_user_data({}) == std::optional<brook::common::protocol::bytes>({0, 0, 0, 5}));
}

TEST_CASE("cooperative-sticky: one consumer, no topic, missing topic, one topic") {
  cooperative_sticky_assignor a;
  CHECK(a.assign({}, {member("c1", {})}).at("c1").empty());
  CHECK(a.assign({}, {member("c1", {"topic"})}).at("c1").empty());
  auto out = a.assign({{"topic", 3}, {"other", 3}}, {member("c1", {"topic"})});
  CHECK(out.at("c1") == tps("topic", {0, 1, 2}));
}

TEST_CASE("cooperative-sticky: a joining member gets moved partitions only once their owner let go") {
  cooperative_sticky_assignor a;
  partition_counts counts{{"topic", 3}};
  // Generation 1: c1 alone owns everything; c2 joins.
  std::vector<member_subscription> members{member("c1", {"topic"}, tps("topic", {0, 1, 2}), 1),
                                           member("c2", {"topic"})};
  auto out = a.assign(counts, members);
  CHECK(out.at("c1") == tps("topic", {0, 1}));  // keeps two, revokes one
  CHECK(out.at("c2").empty());                  // not yet: c1 still owns it
  check_assignment(counts, members, out, false, false);
  // Generation 2: c1 has revoked topic-2 and rejoined; now c2 gets it.
  members = {member("c1", {"topic"}, tps("topic", {0, 1}), 2), member("c2", {"topic"}, {}, 2)};
  out = a.assign(counts, members);
  CHECK(out.at("c1") == tps("topic", {0, 1}));
  CHECK(out.at("c2") == tps("topic", {2}));
  check_assignment(counts, members, out, true, true);
  // c1 leaves: c2 keeps its partition and takes the rest at once (nobody owns them any more).
  members = {member("c2", {"topic"}, tps("topic", {2}), 3)};
  out = a.assign(counts, members);
  CHECK(out.at("c2") == tps("topic", {0, 1, 2}));
}

TEST_CASE("cooperative-sticky: members keep everything they own when someone leaves") {
  cooperative_sticky_assignor a;
  partition_counts counts{{"t1", 3}, {"t2", 3}, {"t3", 3}};
  std::vector<member_subscription> members;
  for (auto id : {"c1", "c2", "c3"}) members.push_back(member(id, {"t1", "t2", "t3"}));
  auto first = a.assign(counts, members);
  check_assignment(counts, members, first, true, true);
  for (const auto& [id, parts] : first) CHECK(parts.size() == 3);
  // c2 leaves; c1 and c3 report what they own.
  std::vector<member_subscription> rest{member("c1", {"t1", "t2", "t3"}, first.at("c1"), 1),
                                        member("c3", {"t1", "t2", "t3"}, first.at("c3"), 1)};
  auto second = a.assign(counts, rest);
  check_assignment(counts, rest, second, true, true);
  for (const auto& id : {"c1", "c3"}) {
    auto now = second.at(id);
    for (const auto& tp : first.at(id)) CHECK(std::find(now.begin(), now.end(), tp) != now.end());
  }
}

TEST_CASE("cooperative-sticky: a claim from an older generation loses to a newer one") {
  cooperative_sticky_assignor a;
  partition_counts counts{{"t", 6}};
  // Generation 1: c1, c2, c3 held two each; generation 2 ran without c3: c1 and c2 three each.
  // c3 comes back still claiming its generation-1 partitions.
  std::vector<member_subscription> members{member("c1", {"t"}, tps("t", {0, 1, 4}), 2),
                                           member("c2", {"t"}, tps("t", {2, 3, 5}), 2),
                                           member("c3", {"t"}, tps("t", {4, 5}), 1)};
  auto eager = cooperative_sticky_assignor::sticky_assign(counts, members);
  check_assignment(counts, members, eager, true, true);
  // c1 and c2 each give up one partition, to c3; nothing else moves.
  CHECK(eager.at("c1").size() == 2);
  CHECK(eager.at("c2").size() == 2);
  for (const auto& tp : eager.at("c1")) CHECK((tp.partition == 0 || tp.partition == 1 || tp.partition == 4));
  for (const auto& tp : eager.at("c2")) CHECK((tp.partition == 2 || tp.partition == 3 || tp.partition == 5));
  // Cooperative: whatever moves is still owned by c1 or c2, so c3 waits for the next round.
  auto out = a.assign(counts, members);
  CHECK(out.at("c3").empty());
  CHECK(out.at("c1") == eager.at("c1"));
  CHECK(out.at("c2") == eager.at("c2"));
}

TEST_CASE("cooperative-sticky: two claims in the same generation void each other") {
  std::vector<member_subscription> members{member("c1", {"t"}, tps("t", {0, 1}), 3),
                                           member("c2", {"t"}, tps("t", {1, 2}), 3), member("c3", {"t"}, {}, 3)};
  partition_counts counts{{"t", 3}};
  auto eager = cooperative_sticky_assignor::sticky_assign(counts, members);
  check_assignment(counts, members, eager, true, true);
  CHECK(eager.at("c1") == tps("t", {0}));
  CHECK(eager.at("c2") == tps("t", {2}));
  CHECK(eager.at("c3") == tps("t", {1}));
}

TEST_CASE("cooperative-sticky: the generation comes from user data for v0/v1 subscriptions") {
  auto m1 = member("c1", {"t"}, tps("t", {0, 1}), -1);
  m1.sub.user_data = brook::common::protocol::bytes{0, 0, 0, 4};
  auto m2 = member("c2", {"t"}, tps("t", {0, 1}), -1);
  m2.sub.user_data = brook::common::protocol::bytes{0, 0, 0, 3};
  auto eager = cooperative_sticky_assignor::sticky_assign({{"t", 2}}, {m1, m2});
  // c1's claim (generation 4) wins; balance then moves one partition to c2.
  CHECK(eager.at("c1").size() == 1);
  CHECK(eager.at("c2").size() == 1);
  CHECK((eager.at("c1")[0].partition == 0 || eager.at("c1")[0].partition == 1));
}

TEST_CASE("cooperative-sticky: unequal subscriptions are balanced where topics overlap") {
  cooperative_sticky_assignor a;
  partition_counts counts{{"t1", 3}, {"t2", 2}};
  std::vector<member_subscription> members{member("c1", {"t1"}), member("c2", {"t1", "t2"}), member("c3", {"t1"})};
  auto out = a.assign(counts, members);
  check_assignment(counts, members, out, true, true);
  CHECK(out.at("c2").size() == 2);  // t2's two partitions; t1 to the others
  CHECK(std::all_of(out.at("c2").begin(), out.at("c2").end(), [](const auto& tp) { return tp.topic == "t2"; }));
  // A subscription change drops partitions of the topic no longer subscribed.
  std::vector<member_subscription> changed{member("c1", {"t2"}, out.at("c1"), 1), member("c2", {"t1", "t2"}, out.at("c2"), 1),
                                           member("c3", {"t1"}, out.at("c3"), 1)};
  auto next = a.assign(counts, changed);
  check_assignment(counts, changed, next, false, false);
  for (const auto& tp : next.at("c1")) CHECK(tp.topic == "t2");
}

TEST_CASE("cooperative-sticky: random rebalances follow revoke-then-assign and end complete and balanced") {
  std::mt19937 rng(20261206);
  for (int round = 0; round < 40; ++round) {
    INFO("round " << round);
    partition_counts counts;
    const int topics = 1 + static_cast<int>(rng() % 4);
    for (int t = 0; t < topics; ++t) counts["t" + std::to_string(t)] = 1 + static_cast<int32_t>(rng() % 8);
    struct live {
      std::string id;
      std::vector<std::string> topics;
      std::vector<topic_partition> owned;
    };
    std::vector<live> group;
    int next_id = 0;
    auto add_member = [&] {
      live m{"m" + std::to_string(next_id++), {}, {}};
      for (const auto& [topic, n] : counts)
        if (rng() % 3 != 0 || m.topics.empty()) m.topics.push_back(topic);
      group.push_back(m);
    };
    for (int i = 0; i < 1 + static_cast<int>(rng() % 5); ++i) add_member();
    cooperative_sticky_assignor a;
    int32_t generation = 0;
    for (int change = 0; change < 6; ++change) {
      if (change > 0) {
        if (rng() % 2 == 0 || group.size() == 1) add_member();
        else group.erase(group.begin() + static_cast<long>(rng() % group.size()));
      }
      // Rebalance until no member has anything left to revoke.
      for (int rebalance = 0;; ++rebalance) {
        REQUIRE(rebalance < 5);
        std::vector<member_subscription> members;
        for (const auto& m : group) members.push_back(member(m.id, m.topics, m.owned, generation));
        auto out = a.assign(counts, members);
        check_assignment(counts, members, out, false, false);
        ++generation;
        bool revoked = false;
        for (auto& m : group) {
          const auto& now = out.at(m.id);
          for (const auto& other : group) {
            if (other.id == m.id) continue;
            for (const auto& tp : now) CHECK(std::find(other.owned.begin(), other.owned.end(), tp) == other.owned.end());
          }
          for (const auto& tp : m.owned)
            if (std::find(now.begin(), now.end(), tp) == now.end()) revoked = true;
        }
        for (auto& m : group) m.owned = out.at(m.id);
        if (!revoked) {
          check_assignment(counts, members, out, true, true);
          break;
        }
      }
    }
  }
}
