// The classic group state machine driven with a fake clock: `now` is a plain number the tests move.
#include <catch2/catch.hpp>

#include "broker/group/coordinator.hpp"

using namespace brook::broker::group;
using brook::common::kafka_error;

namespace {

// One coordinator plus the answers of parked requests, keyed by a label the test picks.
struct fixture {
  int64_t now = 1'000'000;
  group_coordinator coord;
  std::map<std::string, std::optional<join_result>> joins;
  std::map<std::string, std::optional<sync_result>> syncs;
  int next_uuid = 0;

  explicit fixture(int32_t initial_delay = 0, int32_t max_size = 100) : coord(make_config(initial_delay, max_size), 1'000'000) {
    coord.new_uuid = [this] { return "u" + std::to_string(++next_uuid); };
  }
  static coordinator_config make_config(int32_t initial_delay, int32_t max_size) {
    coordinator_config c;
    c.limits.min_session_timeout_ms = 6000;
    c.limits.max_session_timeout_ms = 300000;
    c.limits.initial_rebalance_delay_ms = initial_delay;
    c.limits.max_size = max_size;
    c.offsets_retention_ms = 60'000;
    c.offsets_retention_check_interval_ms = 60000;
    return c;
  }

  static std::vector<protocol_entry> protocols(std::vector<std::string> names, std::string metadata = "md") {
    std::vector<protocol_entry> out;
    for (auto& n : names) out.push_back({n, metadata + ":" + n});
    return out;
  }

  bool skip_assignment_supported = true;  // JoinGroup v9+ (KIP-814)
  void join(const std::string& label, const std::string& member_id, std::optional<std::string> instance = std::nullopt,
            std::vector<protocol_entry> protos = protocols({"range"}), bool v4 = true, int32_t session = 10000,
            int32_t rebalance = 30000, const std::string& group_id = "g") {
    join_request r;
    r.member_id = member_id;
    r.instance_id = instance;
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = session;
    r.rebalance_timeout_ms = rebalance;
    r.protocol_type = "consumer";
    r.protocols = std::move(protos);
    r.require_known_member_id = v4;
    r.supports_skip_assignment = skip_assignment_supported;
    joins[label].reset();
    coord.join(group_id, r, now, [this, label](join_result res) { joins[label] = std::move(res); });
  }
  // A full two-step join (MEMBER_ID_REQUIRED, then the real join); returns the member id.
  std::string join_new(const std::string& label) {
    join(label, "");
    REQUIRE(joins[label]);
    REQUIRE(joins[label]->error == kafka_error::member_id_required);
    std::string id = joins[label]->member_id;
    join(label, id);
    return id;
  }
  void sync(const std::string& label, const std::string& member_id, int32_t generation,
            std::vector<std::pair<std::string, std::string>> assignments = {},
            std::optional<std::string> instance = std::nullopt) {
    sync_request r;
    r.member_id = member_id;
    r.generation = generation;
    r.instance_id = instance;
    r.assignments = std::move(assignments);
    syncs[label].reset();
    coord.sync("g", r, now, [this, label](sync_result res) { syncs[label] = std::move(res); });
  }
  void tick(int64_t ms) {
    now += ms;
    coord.advance(now);
  }
  group& g() { return *coord.find("g"); }
};

}  // namespace

TEST_CASE("the transition table is Kafka's") {
  using s = group_state;
  CHECK(transition_allowed(s::empty, s::preparing_rebalance));
  CHECK(transition_allowed(s::preparing_rebalance, s::completing_rebalance));
  CHECK(transition_allowed(s::preparing_rebalance, s::empty));
  CHECK(transition_allowed(s::completing_rebalance, s::stable));
  CHECK(transition_allowed(s::completing_rebalance, s::preparing_rebalance));
  CHECK(transition_allowed(s::stable, s::preparing_rebalance));
  for (auto from : {s::empty, s::preparing_rebalance, s::completing_rebalance, s::stable, s::dead})
    CHECK(transition_allowed(from, s::dead));
  CHECK_FALSE(transition_allowed(s::empty, s::stable));
  CHECK_FALSE(transition_allowed(s::empty, s::completing_rebalance));
  CHECK_FALSE(transition_allowed(s::stable, s::completing_rebalance));
  CHECK_FALSE(transition_allowed(s::stable, s::empty));
  CHECK_FALSE(transition_allowed(s::dead, s::preparing_rebalance));
  CHECK_FALSE(transition_allowed(s::completing_rebalance, s::empty));
  CHECK(state_name(s::completing_rebalance) == "CompletingRebalance");
  CHECK(state_name(s::preparing_rebalance) == "PreparingRebalance");
}

TEST_CASE("one member: member id required, initial delay, sync, heartbeat") {
  fixture f(3000);
  f.join("a", "");
  REQUIRE(f.joins["a"]);
  CHECK(f.joins["a"]->error == kafka_error::member_id_required);
  std::string id = f.joins["a"]->member_id;
  CHECK(id == "client-u1");
  CHECK(f.g().state() == group_state::empty);  // a pending member is no member yet
  f.join("a", id);
  CHECK_FALSE(f.joins["a"]);
  CHECK(f.g().state() == group_state::preparing_rebalance);
  REQUIRE(f.coord.next_deadline());
  CHECK(*f.coord.next_deadline() == f.now + 3000);
  f.tick(2999);
  CHECK_FALSE(f.joins["a"]);
  f.tick(1);
  REQUIRE(f.joins["a"]);
  const auto& r = *f.joins["a"];
  CHECK(r.error == kafka_error::none);
  CHECK(r.generation == 1);
  CHECK(r.leader == id);
  CHECK(r.protocol_name == "range");
  REQUIRE(r.members.size() == 1);
  CHECK(r.members[0].metadata == "md:range");
  CHECK(f.g().state() == group_state::completing_rebalance);
  f.sync("a", id, 1, {{id, "assign-a"}});
  REQUIRE(f.syncs["a"]);
  CHECK(f.syncs["a"]->error == kafka_error::none);
  CHECK(f.syncs["a"]->assignment == "assign-a");
  CHECK(f.g().state() == group_state::stable);
  CHECK(f.coord.heartbeat("g", id, std::nullopt, 1, f.now) == kafka_error::none);
}

TEST_CASE("two members: the leader assigns, the follower waits for its part") {
  fixture f;
  std::string a = f.join_new("a");
  std::string b = f.join_new("b");
  CHECK(f.g().state() == group_state::preparing_rebalance);
  f.tick(0);  // initial delay 0: the join completes with both
  REQUIRE(f.joins["a"]);
  REQUIRE(f.joins["b"]);
  CHECK(f.joins["a"]->generation == 1);
  CHECK(f.joins["b"]->generation == 1);
  CHECK(f.joins["a"]->leader == a);
  CHECK(f.joins["a"]->members.size() == 2);
  CHECK(f.joins["b"]->members.empty());
  f.sync("b", b, 1);
  CHECK_FALSE(f.syncs["b"]);  // waits for the leader
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}});
  REQUIRE(f.syncs["a"]);
  REQUIRE(f.syncs["b"]);
  CHECK(f.syncs["a"]->assignment == "A");
  CHECK(f.syncs["b"]->assignment == "B");
  CHECK(f.syncs["b"]->protocol_name == "range");
  CHECK(f.g().state() == group_state::stable);
}

TEST_CASE("a third member triggers a rebalance that completes when everyone rejoined") {
  fixture f;
  std::string a = f.join_new("a");
  std::string b = f.join_new("b");
  f.tick(0);
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}});
  f.sync("b", b, 1);
  REQUIRE(f.g().state() == group_state::stable);

  std::string c = f.join_new("c");
  CHECK(f.g().state() == group_state::preparing_rebalance);
  CHECK(f.coord.heartbeat("g", a, std::nullopt, 1, f.now) == kafka_error::rebalance_in_progress);
  f.join("a", a);
  CHECK_FALSE(f.joins["c"]);
  f.join("b", b);
  // Everyone is back: no need to wait for the rebalance timeout.
  REQUIRE(f.joins["c"]);
  CHECK(f.joins["c"]->generation == 2);
  CHECK(f.joins["a"]->generation == 2);
  CHECK(f.joins["a"]->members.size() == 3);
  CHECK(f.coord.heartbeat("g", a, std::nullopt, 1, f.now) == kafka_error::illegal_generation);
  f.sync("c", c, 2);
  f.sync("b", b, 2);
  f.sync("a", a, 2, {{a, "A2"}, {b, "B2"}, {c, "C2"}});
  CHECK(f.syncs["c"]->assignment == "C2");
  CHECK(f.g().generation() == 2);
}

TEST_CASE("members that do not rejoin within the rebalance timeout are removed") {
  fixture f;
  std::string a = f.join_new("a");
  std::string b = f.join_new("b");
  f.tick(0);
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}});
  f.sync("b", b, 1);
  f.join("a", a, std::nullopt, fixture::protocols({"range"}, "changed"));  // new metadata: rebalance
  CHECK(f.g().state() == group_state::preparing_rebalance);
  CHECK(*f.coord.next_deadline() == f.now + 10000);  // b's session comes first
  // b keeps heartbeating but never rejoins.
  f.tick(5000);
  CHECK(f.coord.heartbeat("g", b, std::nullopt, 1, f.now) == kafka_error::rebalance_in_progress);
  f.tick(5000);
  CHECK(f.coord.heartbeat("g", b, std::nullopt, 1, f.now) == kafka_error::rebalance_in_progress);
  f.tick(5000);
  CHECK(f.coord.heartbeat("g", b, std::nullopt, 1, f.now) == kafka_error::rebalance_in_progress);
  CHECK_FALSE(f.joins["a"]);
  f.tick(15000);  // 30 s rebalance timeout reached
  REQUIRE(f.joins["a"]);
  CHECK(f.joins["a"]->generation == 2);
  CHECK(f.g().members().size() == 1);
  CHECK(f.coord.heartbeat("g", b, std::nullopt, 2, f.now) == kafka_error::unknown_member_id);
}

TEST_CASE("an expired session removes the member and rebalances the rest") {
  fixture f;
  std::string a = f.join_new("a");
  std::string b = f.join_new("b");
  f.tick(0);
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}});
  f.sync("b", b, 1);
  f.tick(9999);
  CHECK(f.coord.heartbeat("g", a, std::nullopt, 1, f.now) == kafka_error::none);
  CHECK(f.g().state() == group_state::stable);
  f.tick(1);  // b's 10 s session is over
  CHECK(f.g().state() == group_state::preparing_rebalance);
  CHECK_FALSE(f.g().has_member(b));
  CHECK(f.coord.heartbeat("g", a, std::nullopt, 1, f.now) == kafka_error::rebalance_in_progress);
  f.join("a", a);
  REQUIRE(f.joins["a"]);
  CHECK(f.joins["a"]->generation == 2);
  CHECK(f.joins["a"]->members.size() == 1);
  // The last member's session expiring empties the group.
  f.sync("a", a, 2, {{a, "A"}});
  f.tick(10000);
  CHECK(f.g().state() == group_state::empty);
  CHECK(f.g().generation() == 3);
  CHECK(f.g().members().empty());
}

TEST_CASE("a pending member id expires after the session timeout") {
  fixture f;
  std::string a = f.join_new("a");
  f.tick(0);
  f.sync("a", a, 1, {{a, "A"}});
  f.join("b", "");
  std::string b = f.joins["b"]->member_id;
  CHECK(f.g().pending_members().count(b));
  f.tick(10000);
  CHECK(f.g().pending_members().empty());
  f.join("b", b);
  REQUIRE(f.joins["b"]);
  CHECK(f.joins["b"]->error == kafka_error::unknown_member_id);
}

TEST_CASE("static members rejoin under a new id without a rebalance, the old id is fenced") {
  fixture f;
  f.join("a", "", std::string("inst-a"));  // static members skip MEMBER_ID_REQUIRED
  f.join("b", "", std::string("inst-b"));
  f.tick(0);
  std::string a = f.joins["a"]->member_id, b = f.joins["b"]->member_id;
  REQUIRE(f.joins["a"]->error == kafka_error::none);
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}}, std::string("inst-a"));
  f.sync("b", b, 1, {}, std::string("inst-b"));
  REQUIRE(f.g().state() == group_state::stable);

  // b restarts and joins with no member id but the same instance id.
  f.join("b2", "", std::string("inst-b"));
  REQUIRE(f.joins["b2"]);
  const auto& r = *f.joins["b2"];
  CHECK(r.error == kafka_error::none);
  CHECK(r.member_id != b);
  CHECK(r.generation == 1);
  CHECK_FALSE(r.skip_assignment);
  CHECK(f.g().state() == group_state::stable);
  CHECK(f.coord.heartbeat("g", b, std::string("inst-b"), 1, f.now) == kafka_error::fenced_instance_id);
  CHECK(f.coord.heartbeat("g", r.member_id, std::string("inst-b"), 1, f.now) == kafka_error::none);
  f.sync("b2", r.member_id, 1, {}, std::string("inst-b"));
  CHECK(f.syncs["b2"]->assignment == "B");
  f.join("old", b, std::string("inst-b"));
  CHECK(f.joins["old"]->error == kafka_error::fenced_instance_id);
  CHECK(f.coord.validate_commit("g", b, std::string("inst-b"), 1, f.now) == kafka_error::fenced_instance_id);

  // The static leader rejoining may skip the assignment.
  f.join("a2", "", std::string("inst-a"));
  CHECK(f.joins["a2"]->skip_assignment);
  CHECK(f.joins["a2"]->leader == f.joins["a2"]->member_id);
  CHECK(f.g().state() == group_state::stable);

  // Leaving by instance id with the wrong member id is fenced; with the right one it leaves.
  auto errs = f.coord.leave("g", {{b, std::string("inst-b")}}, f.now);
  CHECK(errs == std::vector<kafka_error>{kafka_error::fenced_instance_id});
  errs = f.coord.leave("g", {{"", std::string("inst-b")}, {"nobody", std::nullopt}}, f.now);
  CHECK(errs == std::vector<kafka_error>{kafka_error::none, kafka_error::unknown_member_id});
  CHECK(f.g().state() == group_state::preparing_rebalance);
}

// Kafka Streams puts its task offsets in its subscription's metadata: an instance restarted with the same
// group.instance.id joins with other metadata. Kafka rebalances a stable group for a replaced static
// member only when the protocol the group would select changes; Brook rebalanced on any new metadata.
TEST_CASE("a static member rejoining with new metadata for the same protocol does not rebalance, as in Kafka") {
  fixture f;
  f.join("a", "", std::string("inst-a"), fixture::protocols({"range"}, "a-first"));
  f.join("b", "", std::string("inst-b"), fixture::protocols({"range"}, "b-first"));
  f.tick(0);
  std::string a = f.joins["a"]->member_id, b = f.joins["b"]->member_id;
  REQUIRE(f.joins["a"]->error == kafka_error::none);
  REQUIRE(f.joins["a"]->leader == a);
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}}, std::string("inst-a"));
  f.sync("b", b, 1, {}, std::string("inst-b"));
  REQUIRE(f.g().state() == group_state::stable);

  // The follower restarts with new metadata: its old assignment, no rebalance.
  f.join("b2", "", std::string("inst-b"), fixture::protocols({"range"}, "b-second"));
  REQUIRE(f.joins["b2"]);
  CHECK(f.joins["b2"]->error == kafka_error::none);
  CHECK(f.joins["b2"]->generation == 1);
  CHECK_FALSE(f.joins["b2"]->skip_assignment);
  CHECK(f.g().state() == group_state::stable);
  const std::string b2 = f.joins["b2"]->member_id;
  f.sync("b2", b2, 1, {}, std::string("inst-b"));
  CHECK(f.syncs["b2"]->assignment == "B");

  // The leader restarts with new metadata: it skips the assignment and sees every member's metadata.
  f.join("a2", "", std::string("inst-a"), fixture::protocols({"range"}, "a-second"));
  REQUIRE(f.joins["a2"]);
  const auto& r = *f.joins["a2"];
  CHECK(r.error == kafka_error::none);
  CHECK(r.generation == 1);
  CHECK(r.skip_assignment);
  CHECK(r.leader == r.member_id);
  CHECK(f.g().state() == group_state::stable);
  std::map<std::string, std::string> metadata;
  for (const auto& m : r.members) metadata[m.member_id] = m.metadata;
  CHECK(metadata == std::map<std::string, std::string>{{r.member_id, "a-second:range"}, {b2, "b-second:range"}});
  f.sync("a2", r.member_id, 1, {}, std::string("inst-a"));
  CHECK(f.syncs["a2"]->assignment == "A");

  // A restart that changes the protocol the group would select does rebalance: once both prefer
  // roundrobin, which the group now selects over range.
  f.join("b3", "", std::string("inst-b"), fixture::protocols({"roundrobin", "range"}));
  REQUIRE(f.joins["b3"]);
  CHECK(f.joins["b3"]->error == kafka_error::none);
  CHECK(f.g().state() == group_state::stable);
  f.join("a3", "", std::string("inst-a"), fixture::protocols({"roundrobin", "range"}));
  CHECK_FALSE(f.joins["a3"]);  // parked in the rebalance
  CHECK(f.g().state() == group_state::preparing_rebalance);
}

TEST_CASE("a static leader rejoining with JoinGroup before v9 is named no leader and syncs as a follower, as in Kafka") {
  fixture f;
  f.join("a", "", std::string("inst-a"));
  f.join("b", "", std::string("inst-b"));
  f.tick(0);
  std::string a = f.joins["a"]->member_id, b = f.joins["b"]->member_id;
  REQUIRE(f.joins["a"]->leader == a);
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}}, std::string("inst-a"));
  f.sync("b", b, 1, {}, std::string("inst-b"));
  REQUIRE(f.g().state() == group_state::stable);

  f.skip_assignment_supported = false;
  f.join("a2", "", std::string("inst-a"));
  REQUIRE(f.joins["a2"]);
  const auto& r = *f.joins["a2"];
  CHECK(r.error == kafka_error::none);
  CHECK(r.generation == 1);
  CHECK_FALSE(r.skip_assignment);
  CHECK(r.leader == a);  // the old id: the restarted leader does not assign
  CHECK(r.member_id != a);
  CHECK(r.members.empty());
  CHECK(f.g().state() == group_state::stable);
  f.sync("a2", r.member_id, 1, {}, std::string("inst-a"));
  REQUIRE(f.syncs["a2"]);
  CHECK(f.syncs["a2"]->error == kafka_error::none);
  CHECK(f.syncs["a2"]->assignment == "A");
}

TEST_CASE("a static member replaced before its SyncGroup is no longer awaited under its old id") {
  fixture f;
  // Sessions (60 s) outlast the rebalance timeout (30 s) that bounds the wait for SyncGroups.
  f.join("a", "", std::string("inst-a"), fixture::protocols({"range"}), true, 60000, 30000);
  f.join("b", "", std::string("inst-b"), fixture::protocols({"range"}), true, 60000, 30000);
  f.tick(0);
  std::string a = f.joins["a"]->member_id, b = f.joins["b"]->member_id;
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}}, std::string("inst-a"));
  REQUIRE(f.g().state() == group_state::stable);  // b has not synced yet
  f.join("b2", "", std::string("inst-b"), fixture::protocols({"range"}), true, 60000, 30000);
  REQUIRE(f.joins["b2"]);
  const std::string b2 = f.joins["b2"]->member_id;
  f.sync("b2", b2, 1, {}, std::string("inst-b"));
  CHECK(f.syncs["b2"]->assignment == "B");
  f.tick(30001);
  CHECK(f.g().state() == group_state::stable);
  CHECK(f.g().generation() == 1);
}

TEST_CASE("a static member that misses the rebalance keeps its place until its session expires") {
  fixture f;
  f.join("a", "", std::string("inst-a"));
  f.join("b", "", std::string("inst-b"));
  f.tick(0);
  std::string a = f.joins["a"]->member_id, b = f.joins["b"]->member_id;
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}});
  f.sync("b", b, 1);
  f.join("a", a, std::string("inst-a"), fixture::protocols({"range"}, "new"));
  for (int i = 0; i < 6; ++i) {
    f.tick(5000);  // b stays alive but never rejoins
    if (i < 5) CHECK(f.coord.heartbeat("g", b, std::string("inst-b"), 1, f.now) == kafka_error::rebalance_in_progress);
  }
  REQUIRE(f.joins["a"]);
  CHECK(f.joins["a"]->members.size() == 2);
  CHECK(f.g().has_member(b));
}

TEST_CASE("the leader leaving during CompletingRebalance sends waiting followers back to join") {
  fixture f;
  std::string a = f.join_new("a");
  std::string b = f.join_new("b");
  std::string c = f.join_new("c");
  f.tick(0);
  REQUIRE(f.joins["a"]->leader == a);
  f.sync("b", b, 1);
  f.sync("c", c, 1);
  CHECK_FALSE(f.syncs["b"]);
  auto errs = f.coord.leave("g", {{a, std::nullopt}}, f.now);
  CHECK(errs.front() == kafka_error::none);
  REQUIRE(f.syncs["b"]);
  CHECK(f.syncs["b"]->error == kafka_error::rebalance_in_progress);
  CHECK(f.syncs["c"]->error == kafka_error::rebalance_in_progress);
  CHECK(f.g().state() == group_state::preparing_rebalance);
  f.join("b", b);
  f.join("c", c);
  REQUIRE(f.joins["b"]);
  CHECK(f.joins["b"]->generation == 2);
  CHECK(f.joins["b"]->leader != a);
  CHECK((f.joins["b"]->leader == b || f.joins["b"]->leader == c));
}

TEST_CASE("members that never send SyncGroup are removed after the rebalance timeout") {
  fixture f;
  std::string a = f.join_new("a");
  std::string b = f.join_new("b");
  f.tick(0);
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}});
  CHECK(f.g().state() == group_state::stable);
  for (int i = 0; i < 3; ++i) {
    f.tick(9000);
    CHECK(f.coord.heartbeat("g", a, std::nullopt, 1, f.now) == kafka_error::none);
    CHECK(f.coord.heartbeat("g", b, std::nullopt, 1, f.now) == kafka_error::none);
  }
  CHECK(f.g().has_member(b));
  f.tick(3000);
  CHECK_FALSE(f.g().has_member(b));
  CHECK(f.g().state() == group_state::preparing_rebalance);
}

TEST_CASE("heartbeat and sync errors") {
  fixture f;
  CHECK(f.coord.heartbeat("g", "x", std::nullopt, 1, f.now) == kafka_error::unknown_member_id);
  CHECK(f.coord.heartbeat("", "x", std::nullopt, 1, f.now) == kafka_error::invalid_group_id);
  std::string a = f.join_new("a");
  f.tick(0);
  CHECK(f.coord.heartbeat("g", "x", std::nullopt, 1, f.now) == kafka_error::unknown_member_id);
  CHECK(f.coord.heartbeat("g", a, std::nullopt, 7, f.now) == kafka_error::illegal_generation);
  CHECK(f.coord.heartbeat("g", a, std::nullopt, 1, f.now) == kafka_error::none);  // CompletingRebalance
  f.sync("x", a, 5);
  CHECK(f.syncs["x"]->error == kafka_error::illegal_generation);
  f.sync("x", "nobody", 1);
  CHECK(f.syncs["x"]->error == kafka_error::unknown_member_id);
  f.join("bad", a, std::nullopt, fixture::protocols({"range"}), true, 1000);
  CHECK(f.joins["bad"]->error == kafka_error::invalid_session_timeout);
  f.join("bad", "", std::nullopt, fixture::protocols({"other"}));
  CHECK(f.joins["bad"]->error == kafka_error::inconsistent_group_protocol);
  f.join("bad", "someone", std::nullopt, fixture::protocols({"range"}), true, 10000, 30000, "unknown-group");
  CHECK(f.joins["bad"]->error == kafka_error::unknown_member_id);
}

TEST_CASE("group.max.size rejects members beyond it") {
  fixture f(0, 2);
  f.join("a", "", std::nullopt, fixture::protocols({"range"}), false);
  f.join("b", "", std::nullopt, fixture::protocols({"range"}), false);
  f.tick(0);
  std::string a = f.joins["a"]->member_id, b = f.joins["b"]->member_id;
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}});
  f.join("c", "", std::nullopt, fixture::protocols({"range"}), false);
  REQUIRE(f.joins["c"]);
  CHECK(f.joins["c"]->error == kafka_error::group_max_size_reached);
}

TEST_CASE("protocol selection: the protocol every member supports, by votes") {
  fixture f;
  f.join("a", "", std::nullopt, fixture::protocols({"cooperative-sticky", "range"}), false);
  f.join("b", "", std::nullopt, fixture::protocols({"range", "cooperative-sticky"}), false);
  f.join("c", "", std::nullopt, fixture::protocols({"range", "cooperative-sticky"}), false);
  f.tick(0);
  CHECK(f.joins["a"]->protocol_name == "range");
  // A member sharing no protocol with the group cannot join.
  f.join("d", "", std::nullopt, fixture::protocols({"roundrobin"}), false);
  CHECK(f.joins["d"]->error == kafka_error::inconsistent_group_protocol);
}

TEST_CASE("offset commit checks") {
  fixture f;
  // A consumer that assigns partitions itself: generation -1, no member id.
  CHECK(f.coord.validate_commit("simple", "", std::nullopt, -1, f.now) == kafka_error::none);
  CHECK(f.coord.find("simple")->state() == group_state::empty);
  // A commit with a generation to an unknown group: GROUP_ID_NOT_FOUND from v9, before that
  // ILLEGAL_GENERATION (Kafka's OffsetMetadataManager).
  CHECK(f.coord.validate_commit("nowhere", "m", std::nullopt, 3, f.now, 8) == kafka_error::illegal_generation);
  CHECK(f.coord.validate_commit("nowhere", "m", std::nullopt, 3, f.now, 9) == kafka_error::group_id_not_found);
  std::string a = f.join_new("a");
  f.tick(0);
  CHECK(f.coord.validate_commit("g", a, std::nullopt, 1, f.now) == kafka_error::rebalance_in_progress);
  f.sync("a", a, 1, {{a, "A"}});
  CHECK(f.coord.validate_commit("g", a, std::nullopt, 1, f.now) == kafka_error::none);
  CHECK(f.coord.validate_commit("g", a, std::nullopt, 0, f.now) == kafka_error::illegal_generation);
  CHECK(f.coord.validate_commit("g", "stranger", std::nullopt, 1, f.now) == kafka_error::unknown_member_id);
  CHECK(f.coord.validate_commit("g", "", std::nullopt, -1, f.now) == kafka_error::unknown_member_id);
  // A commit counts as a heartbeat.
  f.tick(9000);
  CHECK(f.coord.validate_commit("g", a, std::nullopt, 1, f.now) == kafka_error::none);
  f.tick(9000);
  CHECK(f.g().has_member(a));
  // Once everyone left, simple commits are allowed again.
  f.coord.leave("g", {{a, std::nullopt}}, f.now);
  f.tick(0);
  CHECK(f.g().state() == group_state::empty);
  CHECK(f.coord.validate_commit("g", "", std::nullopt, -1, f.now) == kafka_error::none);
  CHECK(f.coord.can_delete("g") == kafka_error::none);
  CHECK(f.coord.can_delete("none") == kafka_error::group_id_not_found);
}

TEST_CASE("delete checks refuse groups with members") {
  fixture f;
  f.join_new("a");
  f.tick(0);
  CHECK(f.coord.can_delete("g") == kafka_error::non_empty_group);
  f.coord.mark_dead("g");
  REQUIRE(f.joins["a"]);
  f.join("late", "");
  CHECK(f.joins["late"]->error == kafka_error::coordinator_not_available);
}

TEST_CASE("group metadata survives a restart, restored members get fresh sessions") {
  fixture f;
  f.join("a", "", std::string("inst-a"));
  std::string b = f.join_new("b");
  f.tick(0);
  std::string a = f.joins["a"]->member_id;
  f.sync("b", b, 1);
  f.sync("a", a, 1, {{a, "A"}, {b, "B"}});
  auto dirty = f.coord.take_dirty();
  REQUIRE(dirty.size() == 1);
  CHECK(f.coord.take_dirty().empty());
  // A write that failed leaves the group to be written again, with the same contents.
  f.coord.mark_dirty(dirty);
  CHECK(f.coord.take_dirty() == dirty);

  fixture restarted;
  restarted.now = f.now + 100000;
  auto bad = restarted.coord.load({{dirty[0].first, dirty[0].second}},
                                  {{"g", {{"t", 0, {42, 3, "meta", f.now, std::nullopt}}}}}, restarted.now);
  CHECK(bad.empty());
  group& g = restarted.g();
  CHECK(g.state() == group_state::stable);
  CHECK(g.generation() == 1);
  CHECK(g.protocol_name() == "range");
  CHECK(g.members().size() == 2);
  CHECK(g.find_member(b)->assignment == "B");
  CHECK(g.find_member(a)->instance_id == "inst-a");
  CHECK(restarted.coord.offsets("g")->at({"t", 0}).offset == 42);
  CHECK(restarted.coord.heartbeat("g", b, std::nullopt, 1, restarted.now) == kafka_error::none);
  restarted.tick(5000);
  CHECK(restarted.coord.heartbeat("g", b, std::nullopt, 1, restarted.now) == kafka_error::none);
  restarted.tick(5000);  // a never came back
  CHECK_FALSE(g.has_member(a));
  CHECK(g.state() == group_state::preparing_rebalance);
}

TEST_CASE("offsets of an Empty group expire after the retention") {
  fixture f;
  f.coord.apply_commit("simple", {{"t", 0, {5, -1, "", f.now, std::nullopt}}, {"t", 1, {6, -1, "", f.now, std::nullopt}}},
                       f.now);
  f.now += 30000;
  f.coord.apply_commit("simple", {{"t", 1, {7, -1, "", f.now, std::nullopt}}}, f.now);
  f.now += 30000;
  auto expired = f.coord.advance(f.now);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].partitions.at("t") == std::vector<int32_t>{0});
  CHECK_FALSE(expired[0].remove_group);
  CHECK(f.coord.offsets("simple")->size() == 1);
  f.now += 60000;  // the next check
  expired = f.coord.advance(f.now);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].remove_group);
  CHECK(f.coord.find("simple") == nullptr);
}

TEST_CASE("an Empty group without offsets is forgotten at the next retention check") {
  fixture f;
  std::string a = f.join_new("a");
  f.tick(0);
  f.coord.leave("g", {{a, std::nullopt}}, f.now);
  CHECK(f.g().state() == group_state::empty);
  auto expired = f.coord.advance(f.now + 60000);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].remove_group);
  CHECK(expired[0].partitions.empty());
  CHECK(f.coord.find("g") == nullptr);
}

TEST_CASE("a consumer group's subscription is read from its members' metadata") {
  fixture f;
  // ConsumerProtocolSubscription v1: version, [topics], user data (null), owned partitions ([]).
  std::string md = std::string("\x00\x01", 2) + std::string("\x00\x00\x00\x02", 4) + std::string("\x00\x02", 2) + "t1" +
                   std::string("\x00\x03", 2) + "two" + std::string("\xff\xff\xff\xff", 4) + std::string(4, '\0');
  f.join("a", "", std::nullopt, {{"range", md}}, false);
  f.tick(0);
  auto topics = f.g().subscribed_topics();
  REQUIRE(topics);
  CHECK(*topics == std::set<std::string>{"t1", "two"});
}

TEST_CASE("an assign() consumer with its own member id commits twice with generation -1") {
  // A KIP-848 consumer using assign() commits with the member id it generated and generation -1:
  // the first commit creates an Empty group, and every later one is accepted too (Kafka checks
  // "generation < 0 on an Empty group" before the member).
  fixture f;
  const std::string own_id = "kip848-generated-member-id";
  REQUIRE(f.coord.validate_commit("manual", own_id, std::nullopt, -1, f.now, 9) == kafka_error::none);
  REQUIRE(f.coord.find("manual"));
  CHECK(f.coord.find("manual")->state() == group_state::empty);
  CHECK(f.coord.validate_commit("manual", own_id, std::nullopt, -1, f.now, 9) == kafka_error::none);
  CHECK(f.coord.validate_commit("manual", own_id, std::string("inst"), -1, f.now, 9) == kafka_error::none);
  CHECK(f.coord.validate_commit("manual", "", std::nullopt, -1, f.now, 2) == kafka_error::none);
  // With a generation the member must be known, Empty group or not.
  CHECK(f.coord.validate_commit("manual", own_id, std::nullopt, 0, f.now, 9) == kafka_error::unknown_member_id);
}

TEST_CASE("a new member's id is instance or client id, '-', uuid, cut to fit a protocol string") {
  CHECK(classic_member_id("client", "u1") == "client-u1");
  const std::string uuid = "0f4c1b5e-8a3d-4c59-9f3e-2d7b6c1a0e99";
  const std::string huge(40000, 'c');
  std::string id = classic_member_id(huge, uuid);
  CHECK(id.size() == 32767);
  CHECK(id.substr(id.size() - uuid.size() - 1) == "-" + uuid);
  // A multi-byte character at the cut is not split.
  std::string wide;
  while (wide.size() < 40000) wide += "\xC3\xA9";  // é
  id = classic_member_id(wide, uuid);
  CHECK(id.size() <= 32767);
  const std::string prefix = id.substr(0, id.size() - uuid.size() - 1);
  CHECK(prefix.size() % 2 == 0);
  // Static members are named after their group.instance.id, as Kafka does.
  fixture f;
  f.join("s", "", std::string("inst-s"));
  f.tick(0);
  REQUIRE(f.joins["s"]);
  CHECK(f.joins["s"]->member_id == "inst-s-u1");
}

TEST_CASE("a classic group is stored when a generation completes, with the selected protocol only") {
  fixture f;
  const std::string big(100000, 'x');
  std::vector<protocol_entry> protos{{"range", "R" + big}, {"roundrobin", "RR" + big}};
  std::string a = f.join_new("a");  // MEMBER_ID_REQUIRED, then the real join
  f.join("a", a, std::nullopt, protos);
  std::string b;
  f.join("b", "");
  b = f.joins["b"]->member_id;
  f.join("b", b, std::nullopt, protos);
  f.tick(0);
  REQUIRE(f.joins["a"]);
  REQUIRE(f.joins["a"]->error == kafka_error::none);
  // Joins, rebalances and new generations are not stored (Kafka stores none of them)...
  CHECK(f.coord.take_dirty().empty());
  f.join("a", a, std::nullopt, protos);  // a rejoin with the same metadata
  CHECK(f.coord.take_dirty().empty());
  f.tick(0);
  const int32_t generation = f.g().generation();
  f.sync("b", b, generation);
  CHECK(f.coord.take_dirty().empty());
  // ...the leader's SyncGroup is.
  const std::string leader = f.g().leader();
  f.sync(leader == a ? "a" : "b", leader, generation, {{a, "A"}, {b, "B"}});
  auto dirty = f.coord.take_dirty();
  REQUIRE(dirty.size() == 1);
  // Only the selected protocol's metadata per member (Kafka's member subscription), not every protocol's.
  const size_t stored = brook::log::encode_group_metadata_record(dirty[0].second).size();
  CHECK(stored < 2 * big.size() + 2000);
  CHECK(stored > 2 * big.size());
  CHECK(stored == group_coordinator::encoded_size(f.g()));
  fixture restarted;
  CHECK(restarted.coord.load({{dirty[0].first, dirty[0].second}}, {}, restarted.now).empty());
  CHECK(restarted.g().state() == group_state::stable);
  REQUIRE(restarted.g().find_member(a));
  REQUIRE(restarted.g().find_member(a)->protocols.size() == 1);
  CHECK(restarted.g().find_member(a)->protocols[0].name == f.g().protocol_name());
  // Becoming Empty is stored.
  f.coord.leave("g", {{a, std::nullopt}, {b, std::nullopt}}, f.now);
  f.tick(0);
  CHECK(f.g().state() == group_state::empty);
  CHECK(f.coord.take_dirty().size() == 1);
}

TEST_CASE("a generation too large to store fails the SyncGroup with UNKNOWN_SERVER_ERROR and rebalances") {
  coordinator_config c = fixture::make_config(0, 100);
  c.limits.max_record_bytes = 50000;
  fixture f;
  f.coord = group_coordinator(c, f.now);
  f.coord.new_uuid = [&f] { return "u" + std::to_string(++f.next_uuid); };
  std::string a = f.join_new("a");
  f.join("a", a, std::nullopt, {{"range", std::string(60000, 'm')}});
  f.tick(0);
  REQUIRE(f.joins["a"]);
  REQUIRE(f.joins["a"]->error == kafka_error::none);
  f.sync("a", a, f.g().generation(), {{a, "A"}});
  REQUIRE(f.syncs["a"]);
  CHECK(f.syncs["a"]->error == kafka_error::unknown_server_error);
  CHECK(f.g().state() == group_state::preparing_rebalance);
  CHECK(f.coord.take_dirty().empty());
}

TEST_CASE("deadlines follow the monotonic clock, offset expiry follows the wall clock") {
  fixture f;
  std::string a = f.join_new("a");
  f.tick(0);
  f.sync("a", a, 1, {{a, "A"}});
  f.coord.apply_commit("g", {{"t", 0, {5, -1, "", f.now, std::nullopt}}}, f.now);
  // The wall clock steps a day ahead while only 1 s passes: the session (10 s) is intact...
  const int64_t day = 24LL * 3600 * 1000;
  f.now += 1000;
  f.coord.advance(f.now, f.now + day);
  CHECK(f.g().has_member(a));
  CHECK(f.coord.heartbeat("g", a, std::nullopt, 1, f.now) == kafka_error::none);
  // ...and it expires when 10 s pass on the monotonic clock, whatever the wall clock says.
  f.now += 11000;
  f.coord.advance(f.now, f.now - day);
  CHECK_FALSE(f.g().has_member(a));
  // Offsets expire by wall-clock time: retention (60 s) counts from the commit timestamp.
  fixture g;
  g.coord.validate_commit("simple", "", std::nullopt, -1, g.now);
  g.coord.apply_commit("simple", {{"t", 0, {5, -1, "", /*commit_ms=*/g.now, std::nullopt}}}, g.now);
  auto expired = g.coord.advance(g.now + 60000, g.now + 1000);  // a minute passed, the wall clock says 1 s
  CHECK(expired.empty());
  expired = g.coord.advance(g.now + 120000, g.now + 61000);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].remove_group);
}
