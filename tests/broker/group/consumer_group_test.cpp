// Consumer-protocol groups (KIP-848) driven through the coordinator with a fake clock.
#include <catch2/catch.hpp>
#include <chrono>

#include "broker/group/coordinator.hpp"

using namespace brook::broker::group;
using brook::common::kafka_error;
using brook::common::uuid;

namespace {

uuid topic_id(uint8_t n) {
  uuid id;
  id.bytes[15] = n;
  return id;
}
const uuid T1 = topic_id(1);

topic_partitions parts(std::set<int32_t> p, uuid t = T1) {
  topic_partitions tp;
  if (!p.empty()) tp[t] = std::move(p);
  return tp;
}

struct consumer_group_fixture {
  int64_t now = 1'000'000;
  group_coordinator coord;
  int next_id = 0;

  // Most cases compute every target at once (group.consumer.assignment.interval.ms=0); those about
  // the interval pass Kafka's default, 1000.
  explicit consumer_group_fixture(int32_t max_size = 100, int32_t assignment_interval_ms = 0)
      : coord(make_config(max_size, assignment_interval_ms), 1'000'000) {
    coord.new_member_id = [this] { return "gen" + std::to_string(++next_id); };
    coord.set_topics({{"t1", {T1, 6}}}, now);
  }
  static coordinator_config make_config(int32_t max_size, int32_t assignment_interval_ms = 0) {
    coordinator_config c;
    c.consumer.session_timeout_ms = 45000;
    c.consumer.heartbeat_interval_ms = 5000;
    c.consumer.assignment_interval_ms = assignment_interval_ms;
    c.consumer.max_size = max_size;
    c.offsets_retention_ms = 60'000;
    c.offsets_retention_check_interval_ms = 600'000'000;
    return c;
  }

  consumer_heartbeat_result join(const std::string& member, std::vector<std::string> topics = {"t1"},
                                 std::optional<std::string> instance = std::nullopt, int16_t version = 1,
                                 std::optional<std::string> assignor = std::nullopt) {
    consumer_heartbeat_request r;
    r.member_id = member;
    r.member_epoch = 0;
    r.instance_id = instance;
    r.rebalance_timeout_ms = 30000;
    r.subscribed_topic_names = std::move(topics);
    r.server_assignor = assignor;
    r.owned = topic_partitions{};
    r.client_id = "c";
    r.client_host = "/127.0.0.1";
    return coord.consumer_heartbeat("g", r, version, now);
  }
  consumer_heartbeat_result beat(const std::string& member, int32_t epoch,
                                 std::optional<topic_partitions> owned = std::nullopt,
                                 std::optional<std::string> instance = std::nullopt) {
    consumer_heartbeat_request r;
    r.member_id = member;
    r.member_epoch = epoch;
    r.instance_id = instance;
    r.owned = std::move(owned);
    r.client_id = "c";
    r.client_host = "/127.0.0.1";
    return coord.consumer_heartbeat("g", r, 1, now);
  }
  consumer_group& group() { return *coord.find_consumer("g"); }
};

}  // namespace

TEST_CASE("a first member joins and gets every partition") {
  consumer_group_fixture f;
  auto r = f.join("a");
  REQUIRE(r.error == kafka_error::none);
  CHECK(r.member_id == "a");
  // Kafka 4.4 creates a group at epoch 1 with an empty target at epoch 1; the member's subscription
  // bumps it to 2, the epoch of the first computed target.
  CHECK(r.member_epoch == 2);
  CHECK(r.heartbeat_interval_ms == 5000);
  REQUIRE(r.assignment);
  CHECK(*r.assignment == parts({0, 1, 2, 3, 4, 5}));
  CHECK(f.group().state() == consumer_group_state::stable);
  CHECK(f.group().group_epoch() == 2);
  CHECK(f.group().assignment_epoch() == 2);

  // Steady state: same epoch, no assignment in the answer.
  f.now += 5000;
  auto again = f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}));
  CHECK(again.error == kafka_error::none);
  CHECK(again.member_epoch == 2);
  CHECK_FALSE(again.assignment);
  CHECK(f.group().group_epoch() == 2);
}

TEST_CASE("v0 joins get a coordinator-generated member id, v1 needs the client's") {
  consumer_group_fixture f;
  auto r = f.join("", {"t1"}, std::nullopt, 0);
  CHECK(r.error == kafka_error::none);
  CHECK(r.member_id == "gen1");
  auto v1 = f.join("", {"t1"}, std::nullopt, 1);
  CHECK(v1.error == kafka_error::invalid_request);
  CHECK(v1.error_message == "MemberId can't be empty.");
}

TEST_CASE("join validation follows Kafka's request checks") {
  consumer_group_fixture f;
  consumer_heartbeat_request r;
  r.member_id = "a";
  r.member_epoch = 0;
  r.subscribed_topic_names = std::vector<std::string>{"t1"};
  r.owned = topic_partitions{};
  auto missing_timeout = f.coord.consumer_heartbeat("g", r, 1, f.now);
  CHECK(missing_timeout.error == kafka_error::invalid_request);
  CHECK(missing_timeout.error_message == "RebalanceTimeoutMs must be provided in first request.");
  r.rebalance_timeout_ms = 1000;
  r.owned.reset();
  CHECK(f.coord.consumer_heartbeat("g", r, 1, f.now).error_message == "TopicPartitions must be empty when (re-)joining.");
  r.owned = topic_partitions{};
  r.server_assignor = "sticky";
  auto bad_assignor = f.coord.consumer_heartbeat("g", r, 1, f.now);
  CHECK(bad_assignor.error == kafka_error::unsupported_assignor);
  r.server_assignor.reset();
  r.member_epoch = -3;
  CHECK(f.coord.consumer_heartbeat("g", r, 1, f.now).error_message == "MemberEpoch is invalid.");
  // A heartbeat to a group that does not exist.
  CHECK(f.beat("a", 3).error == kafka_error::group_id_not_found);
}

TEST_CASE("a second member: the first revokes, then the second receives") {
  consumer_group_fixture f;
  f.join("a");
  f.now += 1000;
  auto b = f.join("b");
  REQUIRE(b.error == kafka_error::none);
  CHECK(b.member_epoch == 3);
  REQUIRE(b.assignment);
  CHECK(b.assignment->empty());  // a still owns them: unreleased
  CHECK(f.group().find_member("b")->state == member_state::unreleased_partitions);
  CHECK(f.group().target_of("b") == parts({3, 4, 5}));
  CHECK(f.group().state() == consumer_group_state::reconciling);

  // a is told to give up 3-5 and stays at epoch 2 until it does.
  auto a = f.beat("a", 2);
  CHECK(a.member_epoch == 2);
  REQUIRE(a.assignment);
  CHECK(*a.assignment == parts({0, 1, 2}));
  CHECK(f.group().find_member("a")->state == member_state::unrevoked_partitions);

  // b still waits.
  auto b2 = f.beat("b", 3);
  CHECK(b2.member_epoch == 3);
  CHECK_FALSE(b2.assignment);

  // a still reports 3-5: nothing moves.
  auto a2 = f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}));
  CHECK(a2.member_epoch == 2);
  CHECK_FALSE(a2.assignment);

  // a acknowledges: it moves to epoch 3; then b gets 3-5.
  auto a3 = f.beat("a", 2, parts({0, 1, 2}));
  CHECK(a3.member_epoch == 3);
  CHECK_FALSE(a3.assignment);
  auto b3 = f.beat("b", 3, topic_partitions{});
  CHECK(b3.member_epoch == 3);
  REQUIRE(b3.assignment);
  CHECK(*b3.assignment == parts({3, 4, 5}));
  CHECK(f.group().state() == consumer_group_state::stable);
}

TEST_CASE("member epoch checks") {
  consumer_group_fixture f;
  f.join("a");
  CHECK(f.beat("a", 5).error == kafka_error::fenced_member_epoch);
  f.join("b");
  f.beat("a", 2, parts({0, 1, 2}));  // a moves to epoch 3
  // The previous epoch with a subset of the assignment is accepted (a lost response).
  CHECK(f.beat("a", 2, parts({0, 1})).error == kafka_error::none);
  CHECK(f.beat("a", 2, parts({0, 5})).error == kafka_error::fenced_member_epoch);
  CHECK(f.beat("x", 1).error == kafka_error::unknown_member_id);
}

TEST_CASE("leaving gives the partitions back") {
  consumer_group_fixture f;
  f.join("a");
  f.join("b");
  f.beat("a", 2, parts({0, 1, 2}));
  f.beat("b", 3, topic_partitions{});
  auto leave = f.beat("b", -1);
  CHECK(leave.error == kafka_error::none);
  CHECK(leave.member_epoch == -1);
  CHECK(f.group().find_member("b") == nullptr);
  CHECK(f.group().state() == consumer_group_state::assigning);
  auto a = f.beat("a", 3, parts({0, 1, 2}));
  CHECK(a.member_epoch == 4);
  REQUIRE(a.assignment);
  CHECK(*a.assignment == parts({0, 1, 2, 3, 4, 5}));
  // The last member leaving empties the group.
  f.beat("a", -1);
  CHECK(f.group().state() == consumer_group_state::empty);
}

TEST_CASE("session expiry fences a member") {
  consumer_group_fixture f;
  f.join("a");
  f.join("b");
  REQUIRE(f.coord.next_deadline());
  f.now += 40000;
  f.beat("a", 2, parts({0, 1, 2}));
  f.now += 5001;  // b's session (45 s) ran out; a heartbeated 5 s ago
  f.coord.advance(f.now);
  CHECK(f.group().find_member("b") == nullptr);
  CHECK(f.group().find_member("a") != nullptr);
  auto a = f.beat("a", 3, parts({0, 1, 2}));
  REQUIRE(a.assignment);
  CHECK(*a.assignment == parts({0, 1, 2, 3, 4, 5}));
}

TEST_CASE("a member that does not revoke within its rebalance timeout is fenced") {
  consumer_group_fixture f;
  f.join("a");
  f.join("b");
  f.beat("a", 2);  // told to revoke: rebalance timeout 30 s from now
  REQUIRE(f.group().find_member("a")->state == member_state::unrevoked_partitions);
  for (int i = 0; i < 6; ++i) {
    f.now += 5000;
    f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}));  // keeps heartbeating, never revokes
    f.beat("b", 3, topic_partitions{});
    f.coord.advance(f.now);
  }
  CHECK(f.group().find_member("a") == nullptr);
  auto b = f.beat("b", 3, topic_partitions{});
  REQUIRE(b.assignment);
  CHECK(*b.assignment == parts({0, 1, 2, 3, 4, 5}));
}

TEST_CASE("static members leave temporarily and come back with a new member id") {
  consumer_group_fixture f;
  f.join("a1", {"t1"}, std::string("inst-a"));
  f.join("b", {"t1"});
  f.beat("a1", 2, parts({0, 1, 2}), std::string("inst-a"));
  f.beat("b", 3, topic_partitions{});
  const int32_t epoch_before = f.group().group_epoch();
  REQUIRE(epoch_before == 3);

  // Another instance with the same id while a1 is alive.
  CHECK(f.join("a2", {"t1"}, std::string("inst-a")).error == kafka_error::unreleased_instance_id);
  // A heartbeat under the instance id from the wrong member id.
  CHECK(f.beat("zz", 3, std::nullopt, std::string("inst-a")).error == kafka_error::fenced_instance_id);

  auto leave = f.beat("a1", -2, std::nullopt, std::string("inst-a"));
  CHECK(leave.error == kafka_error::none);
  CHECK(leave.member_epoch == -2);
  CHECK(f.group().group_epoch() == epoch_before);  // no rebalance
  auto back = f.join("a2", {"t1"}, std::string("inst-a"));
  CHECK(back.error == kafka_error::none);
  CHECK(back.member_epoch == epoch_before);
  REQUIRE(back.assignment);
  CHECK(*back.assignment == parts({0, 1, 2}));
  CHECK(f.group().find_member("a1") == nullptr);
  CHECK(f.group().group_epoch() == epoch_before);
}

TEST_CASE("group max size") {
  consumer_group_fixture f(1);
  f.join("a");
  CHECK(f.join("b").error == kafka_error::group_max_size_reached);
}

TEST_CASE("a topic gaining partitions re-targets the group at its next heartbeat") {
  consumer_group_fixture f;
  f.join("a");
  REQUIRE(f.group().group_epoch() == 2);
  // As Kafka's coordinator on a new metadata image: nothing moves until a member heartbeats, and two
  // changes before then bump the group epoch once.
  f.coord.set_topics({{"t1", {T1, 7}}, {"other", {topic_id(9), 3}}}, f.now);
  f.coord.set_topics({{"t1", {T1, 8}}, {"other", {topic_id(9), 3}}}, f.now);
  CHECK(f.group().group_epoch() == 2);
  CHECK(f.group().state() == consumer_group_state::stable);
  auto a = f.beat("a", 2);
  CHECK(a.member_epoch == 3);
  CHECK(f.group().group_epoch() == 3);
  REQUIRE(a.assignment);
  CHECK(*a.assignment == parts({0, 1, 2, 3, 4, 5, 6, 7}));
  // A topic the group does not subscribe to changes nothing.
  f.coord.set_topics({{"t1", {T1, 8}}, {"other", {topic_id(9), 5}}}, f.now);
  CHECK(f.beat("a", 3).member_epoch == 3);
  CHECK(f.group().group_epoch() == 3);
  CHECK(f.group().state() == consumer_group_state::stable);
  // Deleting the subscribed topic empties the assignment.
  f.coord.set_topics({{"other", {topic_id(9), 5}}}, f.now);
  auto gone = f.beat("a", 3, parts({0, 1, 2, 3, 4, 5, 6, 7}));
  CHECK(f.group().group_epoch() == 4);
  CHECK(gone.member_epoch == 3);  // it revokes them first
  REQUIRE(gone.assignment);
  CHECK(gone.assignment->empty());
  CHECK(f.beat("a", 3, topic_partitions{}).member_epoch == 4);
}

TEST_CASE("range assignor picked by the members") {
  consumer_group_fixture f;
  f.coord.set_topics({{"t1", {T1, 4}}, {"t2", {topic_id(2), 4}}}, f.now);
  f.join("a", {"t1", "t2"}, std::nullopt, 1, std::string("range"));
  f.join("b", {"t1", "t2"}, std::nullopt, 1, std::string("range"));
  CHECK(f.group().preferred_assignor() == "range");
  CHECK(f.group().target_of("a") == topic_partitions{{T1, {0, 1}}, {topic_id(2), {0, 1}}});
  CHECK(f.group().target_of("b") == topic_partitions{{T1, {2, 3}}, {topic_id(2), {2, 3}}});
}

TEST_CASE("regex subscriptions resolve against the topics") {
  consumer_group_fixture f;
  f.coord.set_topics({{"orders-1", {topic_id(1), 1}}, {"orders-2", {topic_id(2), 1}}, {"misc", {topic_id(3), 1}}}, f.now);
  consumer_heartbeat_request r;
  r.member_id = "a";
  r.member_epoch = 0;
  r.rebalance_timeout_ms = 1000;
  r.subscribed_topic_regex = "orders-.*";
  r.owned = topic_partitions{};
  auto res = f.coord.consumer_heartbeat("g", r, 1, f.now);
  // The regex is resolved off the network thread: until then it matches nothing, and the new
  // group keeps its epoch 1 (Kafka bumps it only once the regex is resolved).
  REQUIRE(res.assignment);
  CHECK(res.assignment->empty());
  CHECK(res.member_epoch == 1);
  CHECK(f.group().group_epoch() == 1);
  REQUIRE(f.coord.regex_jobs_pending());
  f.coord.resolve_regexes_inline(f.now);
  CHECK_FALSE(f.coord.regex_jobs_pending());
  CHECK(f.group().group_epoch() == 2);
  res = f.beat("a", res.member_epoch, topic_partitions{});
  CHECK(res.member_epoch == 2);
  REQUIRE(res.assignment);
  CHECK(*res.assignment == topic_partitions{{topic_id(1), {0}}, {topic_id(2), {0}}});
  // A new topic the regex matches is resolved again and joins the assignment.
  f.coord.set_topics({{"orders-1", {topic_id(1), 1}}, {"orders-2", {topic_id(2), 1}}, {"misc", {topic_id(3), 1}},
                      {"orders-3", {topic_id(4), 1}}},
                     f.now);
  REQUIRE(f.coord.regex_jobs_pending());
  f.coord.resolve_regexes_inline(f.now);
  res = f.beat("a", res.member_epoch, *res.assignment);
  REQUIRE(res.assignment);
  CHECK(*res.assignment == topic_partitions{{topic_id(1), {0}}, {topic_id(2), {0}}, {topic_id(4), {0}}});
}

TEST_CASE("a catastrophic-backtracking regex resolves in linear time (RE2), off the state machine") {
  consumer_group_fixture f;
  topic_catalog topics;
  for (int i = 0; i < 200; ++i) topics.emplace(std::string(240, 'a') + std::to_string(i) + "b", topic_metadata{topic_id(100 + i), 1});
  topics.emplace(std::string(200, 'a'), topic_metadata{topic_id(99), 1});
  f.coord.set_topics(topics, f.now);
  consumer_heartbeat_request r;
  r.member_id = "a";
  r.member_epoch = 0;
  r.rebalance_timeout_ms = 1000;
  r.subscribed_topic_regex = "(a+)+$";
  r.owned = topic_partitions{};
  const auto started = std::chrono::steady_clock::now();
  auto res = f.coord.consumer_heartbeat("g", r, 1, f.now);  // compiles, never matches
  REQUIRE(res.error == kafka_error::none);
  auto jobs = f.coord.take_regex_jobs();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].topics.size() == topics.size());
  auto matched = resolve_regex(jobs[0]);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(matched == std::set<std::string>{std::string(200, 'a')});
  // A backtracking matcher needs 2^240 steps for one of these names; RE2 takes microseconds (the bound
  // leaves room for a sanitizer build on a loaded machine).
  CHECK(took < std::chrono::seconds(10));
  f.coord.apply_regex(jobs[0], matched, f.now);
  res = f.beat("a", res.member_epoch, topic_partitions{});
  REQUIRE(res.assignment);
  CHECK(*res.assignment == topic_partitions{{topic_id(99), {0}}});
}

TEST_CASE("a regex that does not compile is refused with INVALID_REGULAR_EXPRESSION") {
  consumer_group_fixture f;
  consumer_heartbeat_request r;
  r.member_id = "a";
  r.member_epoch = 0;
  r.rebalance_timeout_ms = 1000;
  r.subscribed_topic_regex = "orders-(";
  r.owned = topic_partitions{};
  auto res = f.coord.consumer_heartbeat("g", r, 1, f.now);
  CHECK(res.error == kafka_error::invalid_regular_expression);
  CHECK(res.error_message == "SubscribedTopicRegex `orders-(` is not a valid regular expression.");
  CHECK(f.coord.find_consumer("g") == nullptr);
}

TEST_CASE("classic and consumer groups do not mix") {
  consumer_group_fixture f;
  f.join("a");
  join_request j;
  j.client_id = "c";
  j.session_timeout_ms = 10000;
  j.rebalance_timeout_ms = 10000;
  j.protocol_type = "consumer";
  j.protocols = {{"range", "x"}};
  std::optional<join_result> answer;
  f.coord.join("g", j, f.now, [&](join_result r) { answer = r; });
  REQUIRE(answer);
  CHECK(answer->error == kafka_error::inconsistent_group_protocol);
  CHECK(f.coord.heartbeat("g", "a", std::nullopt, 1, f.now) == kafka_error::unknown_member_id);
  CHECK(f.coord.can_delete("g") == kafka_error::non_empty_group);
}

TEST_CASE("offset commits and fetches check the member epoch") {
  consumer_group_fixture f;
  f.join("a");
  CHECK(f.coord.validate_commit("g", "a", std::nullopt, 2, f.now, 9) == kafka_error::none);
  const std::vector<committed_partition> first{{T1, 0}};
  CHECK(f.coord.validate_commit("g", "a", std::nullopt, 1, f.now, 9, first) == kafka_error::stale_member_epoch);
  CHECK(f.coord.validate_commit("g", "zz", std::nullopt, 2, f.now, 9) == kafka_error::unknown_member_id);
  CHECK(f.coord.validate_commit("g", "", std::nullopt, -1, f.now, 9) == kafka_error::unknown_member_id);
  CHECK(f.coord.validate_commit("g", "a", std::nullopt, 2, f.now, 8) == kafka_error::unsupported_version);
  CHECK(f.coord.validate_fetch("g", std::nullopt, -1) == kafka_error::none);
  CHECK(f.coord.validate_fetch("g", std::string("a"), 0) == kafka_error::stale_member_epoch);
  f.coord.apply_commit("g", {{"t1", 0, {}}}, f.now);
  CHECK(f.coord.find("g") == nullptr);  // no classic shadow group
}

TEST_CASE("an offset commit with an older member epoch is checked partition by partition, as Kafka 4.4") {
  // KIP-1251: each partition a member holds carries the member epoch at which it got it; a commit
  // at an epoch the member has since left behind is accepted for partitions held since then.
  consumer_group_fixture f;
  f.join("a");                                                          // a: epoch 2, every partition
  f.join("b");                                                          // group epoch 3: a 0-2, b 3-5
  REQUIRE(f.beat("a", 2, parts({0, 1, 2, 3, 4, 5})).member_epoch == 2);  // a revokes 3-5 first
  REQUIRE(f.beat("a", 2, parts({0, 1, 2})).member_epoch == 3);
  REQUIRE(f.beat("b", 3, parts({})).assignment == parts({3, 4, 5}));
  const auto* a = f.group().find_member("a");
  REQUIRE(a);
  CHECK(a->assignment_epochs == partition_epochs{{T1, {{0, 2}, {1, 2}, {2, 2}}}});
  CHECK(f.group().find_member("b")->assignment_epochs == partition_epochs{{T1, {{3, 3}, {4, 3}, {5, 3}}}});

  auto commit = [&](const std::string& member, int32_t epoch, std::vector<int32_t> partitions) {
    std::vector<committed_partition> committing;
    for (int32_t p : partitions) committing.push_back({T1, p});
    return f.coord.validate_commit("g", member, std::nullopt, epoch, f.now, 9, committing);
  };
  CHECK(commit("a", 3, {0, 3}) == kafka_error::none);          // the current epoch commits anything
  CHECK(commit("a", 2, {0, 1, 2}) == kafka_error::none);       // held since epoch 2
  CHECK(commit("a", 2, {0, 3}) == kafka_error::stale_member_epoch);  // 3 is b's now: the whole commit fails
  CHECK(commit("a", 1, {0}) == kafka_error::stale_member_epoch);     // older than the partition's epoch
  CHECK(commit("a", 4, {0}) == kafka_error::stale_member_epoch);     // newer than the member's
  CHECK(commit("b", 2, {3}) == kafka_error::stale_member_epoch);     // b got 3 at epoch 3
  CHECK(commit("b", 3, {3}) == kafka_error::none);
  CHECK(commit("b", 4, {3}) == kafka_error::stale_member_epoch);
}

TEST_CASE("a static member's partitions keep no assignment epoch once it leaves, so its return commits them") {
  consumer_group_fixture f;
  f.join("a", {"t1"}, std::string("inst"));
  f.join("b");
  f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}), std::string("inst"));
  REQUIRE(f.beat("a", 2, parts({0, 1, 2}), std::string("inst")).member_epoch == 3);
  REQUIRE(f.beat("a", -2, std::nullopt, std::string("inst")).error == kafka_error::none);  // leaves for now
  CHECK(f.group().find_member("a")->assignment_epochs == partition_epochs{{T1, {{0, 0}, {1, 0}, {2, 0}}}});
  auto back = f.join("a2", {"t1"}, std::string("inst"));
  REQUIRE(back.error == kafka_error::none);
  REQUIRE(back.member_epoch == 3);
  std::vector<committed_partition> committing{{T1, 0}, {T1, 2}};
  CHECK(f.coord.validate_commit("g", "a2", std::nullopt, 1, f.now, 9, committing) == kafka_error::none);
}

TEST_CASE("a stored group keeps each held partition's assignment epoch, a record without them is refused") {
  consumer_group_fixture f;
  f.join("a");  // epoch 2, every partition of t1
  auto dirty = f.coord.take_dirty();
  REQUIRE(dirty.size() == 1);
  auto record = dirty[0].second;
  REQUIRE(record.consumer);
  REQUIRE(record.consumer->members.size() == 1);
  REQUIRE(record.consumer->members[0].assigned.size() == 1);
  CHECK(record.consumer->members[0].assigned[0].partitions == std::vector<int32_t>{0, 1, 2, 3, 4, 5});
  CHECK(record.consumer->members[0].assigned[0].assignment_epochs == std::vector<int32_t>(6, 2));
  consumer_group_fixture g;
  REQUIRE(g.coord.load({{dirty[0].first, record}}, {}, f.now).empty());
  CHECK(g.group().find_member("a")->assignment_epochs ==
        partition_epochs{{T1, {{0, 2}, {1, 2}, {2, 2}, {3, 2}, {4, 2}, {5, 2}}}});
  CHECK(group_coordinator::to_record(g.group()) == record);

  record.consumer->members[0].assigned[0].assignment_epochs.pop_back();
  consumer_group_fixture h;
  CHECK(h.coord.load({{dirty[0].first, record}}, {}, f.now) == std::vector<std::string>{dirty[0].first});
  CHECK_FALSE(h.coord.find_consumer(dirty[0].first));
}

TEST_CASE("a group whose member left and gave its partitions back survives a restart") {
  consumer_group_fixture f;
  f.join("a");
  f.join("b");
  f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}));
  f.beat("a", 2, parts({0, 1, 2}));
  f.beat("b", 3, parts({}));
  f.beat("b", 3, parts({3, 4, 5}));
  REQUIRE(f.beat("b", -1).error == kafka_error::none);
  auto back = f.beat("a", 3, parts({0, 1, 2}));
  REQUIRE(back.assignment == parts({0, 1, 2, 3, 4, 5}));
  auto dirty = f.coord.take_dirty();
  REQUIRE(dirty.size() == 1);
  consumer_group_fixture g;
  CHECK(g.coord.load({{dirty[0].first, dirty[0].second}}, {}, f.now).empty());
  CHECK(g.group().find_member("a")->assignment_epochs == f.group().find_member("a")->assignment_epochs);
}

TEST_CASE("consumer groups survive a restart through their encoding") {
  consumer_group_fixture f;
  f.join("a", {"t1"}, std::string("inst"));
  f.join("b");
  f.beat("a", 2, std::nullopt, std::string("inst"));  // a now owes a revocation
  auto dirty = f.coord.take_dirty();
  REQUIRE(dirty.size() == 1);

  consumer_group_fixture g;
  int64_t later = f.now + 100000;
  auto bad = g.coord.load({{dirty[0].first, dirty[0].second}}, {}, later);
  CHECK(bad.empty());
  auto& restored = g.group();
  CHECK(restored.group_epoch() == f.group().group_epoch());
  CHECK(restored.assignment_epoch() == f.group().assignment_epoch());
  REQUIRE(restored.find_member("a"));
  CHECK(restored.find_member("a")->assigned == parts({0, 1, 2}));
  CHECK(restored.find_member("a")->pending_revocation == parts({3, 4, 5}));
  CHECK(restored.find_member("a")->assignment_epochs == f.group().find_member("a")->assignment_epochs);
  CHECK_FALSE(restored.find_member("a")->assignment_epochs.empty());
  CHECK(restored.find_member("a")->instance_id == std::optional<std::string>("inst"));
  CHECK(restored.target_of("b") == parts({3, 4, 5}));
  CHECK(group_coordinator::to_record(restored) == dirty[0].second);
  // Sessions restart from load time.
  CHECK(restored.find_member("b")->session_deadline_ms == later + 45000);
  // a continues with its epoch and finishes the revocation.
  CHECK(restored.assignment_time_ms() == f.group().assignment_time_ms());
  g.now = later;
  auto a = g.beat("a", 2, parts({0, 1, 2}), std::string("inst"));
  CHECK(a.error == kafka_error::none);
  CHECK(a.member_epoch == 3);
  CHECK(g.group().group_epoch() == 3);  // the loaded group's metadata is checked, unchanged
}

TEST_CASE("a consumer group takes over an empty classic group but not a live one") {
  consumer_group_fixture f;
  // A classic group with a member.
  join_request j;
  j.client_id = "c";
  j.session_timeout_ms = 10000;
  j.rebalance_timeout_ms = 10000;
  j.protocol_type = "consumer";
  j.protocols = {{"range", "x"}};
  j.require_known_member_id = false;
  std::optional<join_result> answer;
  f.coord.join("g", j, f.now, [&](join_result r) { answer = r; });
  f.coord.advance(f.now + 10);  // the (zero) initial delay ends the join
  auto refused = f.join("a");
  CHECK(refused.error == kafka_error::group_id_not_found);
  CHECK(refused.error_message == "Group g is not a consumer group.");

  // A group that only holds offsets committed outside any membership.
  REQUIRE(f.coord.validate_commit("simple", "", std::nullopt, -1, f.now) == kafka_error::none);
  f.coord.apply_commit("simple", {{"t1", 0, {}}}, f.now);
  consumer_heartbeat_request r;
  r.member_id = "m";
  r.member_epoch = 0;
  r.rebalance_timeout_ms = 1000;
  r.subscribed_topic_names = std::vector<std::string>{"t1"};
  r.owned = topic_partitions{};
  CHECK(f.coord.consumer_heartbeat("simple", r, 1, f.now).error == kafka_error::none);
  CHECK(f.coord.find("simple") == nullptr);
  CHECK(f.coord.find_consumer("simple") != nullptr);
  REQUIRE(f.coord.offsets("simple"));
  CHECK(f.coord.offsets("simple")->size() == 1);
  // Once empty again it may be deleted.
  CHECK(f.coord.can_delete("simple") == kafka_error::non_empty_group);
  r.member_epoch = -1;
  r.owned.reset();
  CHECK(f.coord.consumer_heartbeat("simple", r, 1, f.now).error == kafka_error::none);
  CHECK(f.coord.can_delete("simple") == kafka_error::none);
}

TEST_CASE("a heartbeat or leave for a group that does not exist gets GROUP_ID_NOT_FOUND") {
  // Kafka's GroupMetadataManager.getOrMaybeCreateConsumerGroup (heartbeat, epoch > 0) and
  // consumerGroup() (leave): the member then rejoins from scratch or gives up.
  consumer_group_fixture f;
  auto hb = f.beat("a", 3, topic_partitions{});
  CHECK(hb.error == kafka_error::group_id_not_found);
  CHECK(hb.error_message == "Consumer group g not found.");
  auto leave = f.beat("a", -1);
  CHECK(leave.error == kafka_error::group_id_not_found);
  CHECK(leave.error_message == "Group g not found.");
  CHECK(f.beat("a", -2, std::nullopt, std::string("inst")).error == kafka_error::group_id_not_found);
  CHECK(f.coord.find_consumer("g") == nullptr);
  // In an existing group an unknown member is UNKNOWN_MEMBER_ID.
  f.join("b");
  CHECK(f.beat("a", 1, topic_partitions{}).error == kafka_error::unknown_member_id);
  CHECK(f.beat("a", -1).error == kafka_error::unknown_member_id);
}

TEST_CASE("reconciliation: three members, revocations withheld and released one by one") {
  consumer_group_fixture f;
  f.coord.set_topics({{"t1", {T1, 6}}}, f.now);
  REQUIRE(f.join("a").member_epoch == 2);
  auto b = f.join("b");  // epoch 3: a must give up 3-5 to b
  REQUIRE(b.member_epoch == 3);
  auto a = f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}));
  REQUIRE(a.member_epoch == 2);
  REQUIRE(*a.assignment == parts({0, 1, 2}));
  CHECK(f.group().find_member("a")->pending_revocation == parts({3, 4, 5}));

  // c joins before a acknowledges: epoch 4, target a={0,1}, b={3,4}, c={2,5}.
  auto c = f.join("c");
  CHECK(c.member_epoch == 4);
  REQUIRE(c.assignment);
  CHECK(c.assignment->empty());  // 2 is still a's, 5 is pending revocation by a
  CHECK(f.group().find_member("c")->state == member_state::unreleased_partitions);
  CHECK(f.group().target_of("a") == parts({0, 1}));
  CHECK(f.group().target_of("c") == parts({2, 5}));

  // a, still owning 3-5, stays where it is and is told nothing new.
  auto a2 = f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}));
  CHECK(a2.member_epoch == 2);
  CHECK_FALSE(a2.assignment);

  // a acknowledges 3-5 but the newest target takes 2 as well: it stays at its epoch (Kafka 4.4's
  // CurrentAssignmentBuilder computes the next assignment from the member's epoch) and is asked to
  // revoke 2, keeping {0, 1}.
  auto a3 = f.beat("a", 2, parts({0, 1, 2}));
  CHECK(a3.member_epoch == 2);
  REQUIRE(a3.assignment);
  CHECK(*a3.assignment == parts({0, 1}));
  CHECK(f.group().find_member("a")->state == member_state::unrevoked_partitions);
  CHECK(f.group().find_member("a")->pending_revocation == parts({2}));

  // 3 and 4 are free now (nobody owns them), 5 too: b gets 3-4 at epoch 4; c gets 5, not yet 2.
  auto b2 = f.beat("b", 3, topic_partitions{});
  CHECK(b2.member_epoch == 4);
  REQUIRE(b2.assignment);
  CHECK(*b2.assignment == parts({3, 4}));
  CHECK(f.group().find_member("b")->state == member_state::stable);
  auto c2 = f.beat("c", 4, topic_partitions{});
  CHECK(c2.member_epoch == 4);
  REQUIRE(c2.assignment);
  CHECK(*c2.assignment == parts({5}));
  CHECK(f.group().find_member("c")->state == member_state::unreleased_partitions);
  CHECK(f.group().state() == consumer_group_state::reconciling);

  // a releases 2 and reaches the target epoch; then c receives it.
  auto a4 = f.beat("a", 2, parts({0, 1}));
  CHECK(a4.member_epoch == 4);
  CHECK_FALSE(a4.assignment);  // {0, 1} is what it was already told
  CHECK(f.group().find_member("a")->state == member_state::stable);
  // The same heartbeat again (its answer lost): the previous epoch with a subset is accepted.
  auto again = f.beat("a", 2, parts({0, 1}));
  CHECK(again.error == kafka_error::none);
  CHECK(again.member_epoch == 4);
  CHECK(f.beat("a", 2, parts({0, 1, 2})).error == kafka_error::fenced_member_epoch);
  auto c3 = f.beat("c", 4, parts({5}));
  REQUIRE(c3.assignment);
  CHECK(*c3.assignment == parts({2, 5}));
  CHECK(f.group().state() == consumer_group_state::stable);
}

TEST_CASE("the answer carries the assignment on a full request even when unchanged") {
  consumer_group_fixture f;
  f.join("a");
  consumer_heartbeat_request r;
  r.member_id = "a";
  r.member_epoch = 2;
  r.rebalance_timeout_ms = 30000;
  r.subscribed_topic_names = std::vector<std::string>{"t1"};
  r.owned = parts({0, 1, 2, 3, 4, 5});
  auto full = f.coord.consumer_heartbeat("g", r, 1, f.now);
  REQUIRE(full.assignment);
  CHECK(*full.assignment == parts({0, 1, 2, 3, 4, 5}));
  // Without the rebalance timeout it is a plain heartbeat.
  r.rebalance_timeout_ms = -1;
  CHECK_FALSE(f.coord.consumer_heartbeat("g", r, 1, f.now).assignment);
}

TEST_CASE("the rebalance timeout runs from the revocation request and restarts with a new one") {
  consumer_group_fixture f;
  f.join("a");
  f.join("b");
  f.now += 10000;
  f.beat("a", 2);  // asked to revoke 3-5 now: fenced at now + 30 s unless it does
  REQUIRE(f.group().find_member("a")->rebalance_deadline_ms == f.now + 30000);
  const int64_t asked = f.now;
  // Heartbeats that do not revoke leave the deadline where it is.
  f.now += 20000;
  f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}));
  f.beat("b", 3, topic_partitions{});
  CHECK(f.group().find_member("a")->rebalance_deadline_ms == asked + 30000);
  // A third member: a revokes 3-5, stays at epoch 2 and must revoke 2 as well: a new deadline.
  f.join("c");
  f.now += 1000;
  f.beat("a", 2, parts({0, 1, 2}));
  REQUIRE(f.group().find_member("a")->state == member_state::unrevoked_partitions);
  CHECK(f.group().find_member("a")->member_epoch == 2);
  CHECK(f.group().find_member("a")->rebalance_deadline_ms == f.now + 30000);
  // Done revoking: no deadline.
  f.beat("a", 2, parts({0, 1}));
  CHECK(f.group().find_member("a")->state == member_state::stable);
  CHECK_FALSE(f.group().find_member("a")->rebalance_deadline_ms);
}

TEST_CASE("a static member that left temporarily must be back within its session") {
  consumer_group_fixture f;
  f.join("a1", {"t1"}, std::string("inst-a"));
  f.now += 40000;
  f.beat("a1", 2, parts({0, 1, 2, 3, 4, 5}), std::string("inst-a"));  // session until now + 45 s
  f.now += 30000;
  REQUIRE(f.beat("a1", -2, std::nullopt, std::string("inst-a")).member_epoch == -2);
  // The leave does not restart the session: it ends 45 s after the last heartbeat.
  f.now += 15001;
  f.coord.advance(f.now);
  CHECK(f.group().find_member("a1") == nullptr);
  CHECK(f.group().state() == consumer_group_state::empty);
}

TEST_CASE("an emptied group's target takes the group epoch at once as Kafka 4.4's fencing does") {
  consumer_group_fixture f;
  f.join("a");
  REQUIRE(f.group().group_epoch() == 2);
  REQUIRE(f.group().assignment_epoch() == 2);
  f.now += 1000;
  f.beat("a", -1);
  CHECK(f.group().state() == consumer_group_state::empty);
  CHECK(f.group().group_epoch() == 3);
  CHECK(f.group().assignment_epoch() == 3);
  CHECK_FALSE(f.group().assignment_time_ms());
  f.now += 1000;
  auto again = f.join("b");
  CHECK(again.member_epoch == 4);
  REQUIRE(again.assignment);
  CHECK(*again.assignment == parts({0, 1, 2, 3, 4, 5}));
  CHECK(f.group().group_epoch() == 4);
  CHECK(f.group().assignment_epoch() == 4);
  CHECK(f.group().state() == consumer_group_state::stable);

  // A member fenced by its session timeout empties the group the same way.
  f.now += 46000;
  f.coord.advance(f.now);
  CHECK(f.group().find_member("b") == nullptr);
  CHECK(f.group().group_epoch() == 5);
  CHECK(f.group().assignment_epoch() == 5);
  CHECK(f.group().state() == consumer_group_state::empty);
}

TEST_CASE("with members left the target waits for their next heartbeat") {
  consumer_group_fixture f;
  f.join("a");
  f.join("b");
  REQUIRE(f.group().group_epoch() == 3);
  f.now += 1000;
  f.beat("b", -1);
  CHECK(f.group().group_epoch() == 4);
  CHECK(f.group().assignment_epoch() == 3);
  f.now += 1000;
  auto r = f.beat("a", f.group().find_member("a")->member_epoch);
  CHECK(r.error == kafka_error::none);
  CHECK(f.group().assignment_epoch() == 4);
}

TEST_CASE("a restored regex subscription keeps its topics until it is resolved again") {
  consumer_group_fixture f;
  f.coord.set_topics({{"orders-1", {topic_id(1), 2}}, {"misc", {topic_id(3), 1}}}, f.now);
  consumer_heartbeat_request r;
  r.member_id = "a";
  r.member_epoch = 0;
  r.rebalance_timeout_ms = 1000;
  r.subscribed_topic_regex = "orders-.*";
  r.owned = topic_partitions{};
  auto res = f.coord.consumer_heartbeat("g", r, 1, f.now);
  f.coord.resolve_regexes_inline(f.now);
  res = f.beat("a", res.member_epoch, topic_partitions{});
  REQUIRE(res.assignment);
  REQUIRE(*res.assignment == topic_partitions{{topic_id(1), {0, 1}}});
  auto dirty = f.coord.take_dirty();
  REQUIRE(dirty.size() == 1);

  consumer_group_fixture g;
  g.coord = group_coordinator(consumer_group_fixture::make_config(100), g.now);  // as at start-up: no topics known yet
  REQUIRE(g.coord.load({{dirty[0].first, dirty[0].second}}, {}, g.now).empty());
  const int32_t epoch = g.group().group_epoch();
  // The broker hands in the topics before the regex is resolved again: nothing moves.
  g.coord.set_topics({{"orders-1", {topic_id(1), 2}}, {"misc", {topic_id(3), 1}}}, g.now);
  CHECK(g.group().group_epoch() == epoch);
  CHECK(g.group().subscribed_topics() == std::set<std::string>{"orders-1"});
  g.coord.resolve_regexes_inline(g.now);
  CHECK(g.group().group_epoch() == epoch);
}

TEST_CASE("targets are computed at most once per assignment interval, as Kafka 4.4 batches them") {
  consumer_group_fixture f(100, 1000);
  auto a = f.join("a");  // the group's first target is computed at once
  CHECK(a.member_epoch == 2);
  REQUIRE(a.assignment);
  CHECK(*a.assignment == parts({0, 1, 2, 3, 4, 5}));
  REQUIRE(f.group().assignment_time_ms() == f.now);
  const int64_t first = f.now;

  // Two members join within the interval: each bumps the group epoch, neither gets a new target;
  // they reconcile towards the last one (where they have nothing), at its epoch.
  f.now += 200;
  auto b = f.join("b");
  CHECK(f.group().group_epoch() == 3);
  CHECK(f.group().assignment_epoch() == 2);
  CHECK(f.group().state() == consumer_group_state::assigning);
  CHECK(b.member_epoch == 2);
  REQUIRE(b.assignment);
  CHECK(b.assignment->empty());
  f.now += 300;
  auto c = f.join("c");
  CHECK(f.group().group_epoch() == 4);
  CHECK(c.member_epoch == 2);
  f.now += 300;
  auto a2 = f.beat("a", 2);
  CHECK(a2.member_epoch == 2);
  CHECK_FALSE(a2.assignment);
  CHECK(f.group().assignment_epoch() == 2);

  // The first heartbeat once the interval has passed computes the newest epoch's target (3 is
  // never computed).
  f.now = first + 1000;
  auto b2 = f.beat("b", 2, topic_partitions{});
  CHECK(f.group().assignment_epoch() == 4);
  CHECK(f.group().assignment_time_ms() == f.now);
  CHECK(f.group().target_of("a").at(T1).size() == 2);
  CHECK(f.group().target_of("b").at(T1).size() == 2);
  CHECK(f.group().target_of("c").at(T1).size() == 2);
  CHECK(b2.member_epoch == 4);  // its partitions are still a's: it waits for them at epoch 4
  CHECK(f.group().find_member("b")->state == member_state::unreleased_partitions);
  auto a3 = f.beat("a", 2, parts({0, 1, 2, 3, 4, 5}));
  CHECK(a3.member_epoch == 2);  // a revokes first
  REQUIRE(a3.assignment);
  CHECK(*a3.assignment == f.group().target_of("a"));

  // A member leaving bumps the epoch at once; the next target waits for the interval again.
  f.now += 10;
  f.beat("c", -1);
  CHECK(f.group().group_epoch() == 5);
  f.beat("b", 4, topic_partitions{});
  CHECK(f.group().assignment_epoch() == 4);
  f.now += 990;
  f.beat("b", 4, topic_partitions{});
  CHECK(f.group().assignment_epoch() == 5);
}

TEST_CASE("an assignment interval of 0 computes every target at once") {
  consumer_group_fixture f(100, 0);
  f.join("a");
  auto b = f.join("b");
  CHECK(f.group().assignment_epoch() == 3);
  CHECK(b.member_epoch == 3);
}

TEST_CASE("a member leaving a topic revokes its partitions at once, before the next target") {
  consumer_group_fixture f(100, 1000);
  const uuid T2 = topic_id(2);
  f.coord.set_topics({{"t1", {T1, 2}}, {"t2", {T2, 2}}}, f.now);
  auto a = f.join("a", {"t1", "t2"});
  REQUIRE(a.member_epoch == 2);
  REQUIRE(*a.assignment == topic_partitions{{T1, {0, 1}}, {T2, {0, 1}}});

  f.now += 100;
  consumer_heartbeat_request r;
  r.member_id = "a";
  r.member_epoch = 2;
  r.subscribed_topic_names = std::vector<std::string>{"t1"};
  r.owned = topic_partitions{{T1, {0, 1}}, {T2, {0, 1}}};
  auto narrowed = f.coord.consumer_heartbeat("g", r, 1, f.now);
  CHECK(f.group().group_epoch() == 3);
  CHECK(f.group().assignment_epoch() == 2);  // within the interval: no new target yet
  CHECK(narrowed.member_epoch == 2);
  REQUIRE(narrowed.assignment);
  CHECK(*narrowed.assignment == parts({0, 1}));
  CHECK(f.group().find_member("a")->state == member_state::unrevoked_partitions);
  CHECK(f.group().find_member("a")->pending_revocation == topic_partitions{{T2, {0, 1}}});

  // Revoked, and the interval passed: epoch 3's target, t1 alone.
  f.now += 1000;
  auto done = f.beat("a", 2, parts({0, 1}));
  CHECK(done.member_epoch == 3);
  CHECK(f.group().find_member("a")->state == member_state::stable);
  CHECK(f.group().find_member("a")->assigned == parts({0, 1}));
}

TEST_CASE("another preferred server assignor bumps the group epoch") {
  consumer_group_fixture f;
  f.join("a");
  REQUIRE(f.group().group_epoch() == 2);
  REQUIRE(f.group().preferred_assignor() == "uniform");
  consumer_heartbeat_request r;
  r.member_id = "a";
  r.member_epoch = 2;
  r.server_assignor = "range";
  auto res = f.coord.consumer_heartbeat("g", r, 1, f.now);
  CHECK(res.error == kafka_error::none);
  CHECK(f.group().preferred_assignor() == "range");
  CHECK(f.group().group_epoch() == 3);
  CHECK(res.member_epoch == 3);
  // The same assignor again changes nothing.
  r.member_epoch = 3;
  f.coord.consumer_heartbeat("g", r, 1, f.now);
  CHECK(f.group().group_epoch() == 3);
}

TEST_CASE("a regex bumps the group epoch once resolved, and a member joining with a resolved one at once") {
  consumer_group_fixture f;
  f.coord.set_topics({{"orders-1", {topic_id(1), 2}}, {"misc", {topic_id(3), 1}}}, f.now);
  auto regex_join = [&](const std::string& member, const std::string& pattern) {
    consumer_heartbeat_request r;
    r.member_id = member;
    r.member_epoch = 0;
    r.rebalance_timeout_ms = 1000;
    r.subscribed_topic_regex = pattern;
    r.owned = topic_partitions{};
    return f.coord.consumer_heartbeat("g", r, 1, f.now);
  };
  CHECK(regex_join("a", "orders-.*").member_epoch == 1);
  CHECK(f.group().group_epoch() == 1);
  f.coord.resolve_regexes_inline(f.now);
  CHECK(f.group().group_epoch() == 2);
  CHECK(f.beat("a", 1, topic_partitions{}).member_epoch == 2);

  // The same regex, already resolved: the join bumps the epoch itself.
  auto b = regex_join("b", "orders-.*");
  CHECK(f.group().group_epoch() == 3);
  CHECK(b.member_epoch == 3);
  // A regex nothing matches: neither the join nor its resolution bumps anything.
  auto c = regex_join("c", "nothing-.*");
  CHECK(f.group().group_epoch() == 3);
  CHECK(c.member_epoch == 3);
  f.coord.resolve_regexes_inline(f.now);
  CHECK(f.group().group_epoch() == 3);
  // Dropping a regex is a change of subscription: at once.
  consumer_heartbeat_request r;
  r.member_id = "c";
  r.member_epoch = 3;
  r.subscribed_topic_regex = "";
  r.subscribed_topic_names = std::vector<std::string>{"misc"};
  f.coord.consumer_heartbeat("g", r, 1, f.now);
  CHECK(f.group().group_epoch() == 4);
}

TEST_CASE("a member leaving takes its topics out of the group's metadata with one bump") {
  consumer_group_fixture f;
  const uuid T2 = topic_id(2);
  f.coord.set_topics({{"t1", {T1, 2}}, {"t2", {T2, 2}}}, f.now);
  f.join("a", {"t1"});
  f.join("b", {"t2"});
  REQUIRE(f.group().group_epoch() == 3);
  CHECK(f.group().subscribed_topics() == std::set<std::string>{"t1", "t2"});
  f.beat("b", -1);
  CHECK(f.group().group_epoch() == 4);
  CHECK(f.group().subscribed_topics() == std::set<std::string>{"t1"});
  // The next heartbeat computes epoch 4's target and bumps nothing more.
  CHECK(f.beat("a", 2, parts({0, 1})).member_epoch == 4);
  CHECK(f.group().group_epoch() == 4);
  CHECK(f.group().assignment_epoch() == 4);
}
