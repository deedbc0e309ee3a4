// Transactional offsets in the group coordinator (TxnOffsetCommit, KIP-98 / KIP-447), driven with a
// fake clock: Kafka 4.4's validation, pending offsets until the marker, commit and abort, the write
// order between plain and transactional commits, expiry, and the deletions that drop pending ones.
#include <catch2/catch.hpp>

#include "broker/group/coordinator.hpp"

using namespace brook::broker::group;
using brook::common::kafka_error;

namespace {

brook::common::uuid txn_test_topic_id(uint8_t n) {
  brook::common::uuid id;
  id.bytes[15] = n;
  return id;
}

struct txn_fixture {
  int64_t now = 1'000'000;
  group_coordinator coord;
  int next_uuid = 0;

  txn_fixture() : coord(config(), 1'000'000) {
    coord.new_uuid = [this] { return "u" + std::to_string(++next_uuid); };
    coord.new_member_id = [this] { return "m" + std::to_string(++next_uuid); };
  }
  static coordinator_config config() {
    coordinator_config c;
    c.limits.min_session_timeout_ms = 6000;
    c.limits.max_session_timeout_ms = 300000;
    c.limits.initial_rebalance_delay_ms = 0;
    c.offsets_retention_ms = 60'000;
    c.offsets_retention_check_interval_ms = 1000;
    c.consumer.session_timeout_ms = 45000;
    c.consumer.heartbeat_interval_ms = 5000;
    c.consumer.assignment_interval_ms = 0;
    return c;
  }

  // A classic group "g" with one member (static if `instance`), Stable at generation 1 (or left in
  // CompletingRebalance when `stable` is false). Returns the member id.
  std::string classic_member(std::optional<std::string> instance = std::nullopt, bool stable = true) {
    join_request r;
    r.instance_id = instance;
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 30000;
    r.protocol_type = "consumer";
    r.protocols = {{"range", "md"}};
    r.require_known_member_id = !instance;
    r.supports_skip_assignment = true;
    std::optional<join_result> joined;
    coord.join("g", r, now, [&](join_result res) { joined = std::move(res); });
    if (!joined) coord.advance(now);  // a static member joins at once and waits for the rebalance
    REQUIRE(joined);
    if (joined->error == kafka_error::member_id_required) {
      r.member_id = joined->member_id;
      joined.reset();
      coord.join("g", r, now, [&](join_result res) { joined = std::move(res); });
      coord.advance(now);
    }
    REQUIRE(joined);
    REQUIRE(joined->error == kafka_error::none);
    const std::string id = joined->member_id;
    if (stable) {
      sync_request s;
      s.member_id = id;
      s.generation = joined->generation;
      s.instance_id = instance;
      s.assignments = {{id, "a"}};
      std::optional<sync_result> synced;
      coord.sync("g", s, now, [&](sync_result res) { synced = std::move(res); });
      REQUIRE(synced);
      REQUIRE(synced->error == kafka_error::none);
    }
    return id;
  }

  // A consumer-protocol group "g" with member "a" subscribed to t1; returns its epoch.
  int32_t consumer_member() {
    coord.set_topics({{"t1", {txn_test_topic_id(1), 3}}}, now);
    consumer_heartbeat_request r;
    r.member_id = "a";
    r.member_epoch = 0;
    r.rebalance_timeout_ms = 30000;
    r.subscribed_topic_names = std::vector<std::string>{"t1"};
    r.owned = topic_partitions{};
    r.client_id = "c";
    r.client_host = "/127.0.0.1";
    auto res = coord.consumer_heartbeat("g", r, 1, now);
    REQUIRE(res.error == kafka_error::none);
    return res.member_epoch;
  }

  kafka_error validate(const std::string& member, int32_t generation, std::optional<std::string> instance = std::nullopt,
                       int16_t version = 6, const std::string& group = "g") {
    return coord.validate_txn_commit(group, member, instance, generation, version, now);
  }

  brook::log::txn_offset staged(const std::string& group, int64_t pid, const std::string& topic, int32_t partition,
                                int64_t offset) {
    brook::log::txn_offset t;
    t.group = group;
    t.producer_id = pid;
    t.topic = topic;
    t.partition = partition;
    t.offset.offset = offset;
    t.offset.commit_ms = now;
    t.offset.sequence = coord.next_sequence();
    return t;
  }
  void stage(const std::string& group, int64_t pid, const std::string& topic, int32_t partition, int64_t offset) {
    coord.apply_txn_stage({staged(group, pid, topic, partition, offset)}, now);
  }
  void commit(const std::string& group, const std::string& topic, int32_t partition, int64_t offset) {
    brook::log::partition_offset po;
    po.topic = topic;
    po.partition = partition;
    po.offset.offset = offset;
    po.offset.commit_ms = now;
    po.offset.sequence = coord.next_sequence();
    coord.apply_commit(group, {po}, now);
  }
  std::optional<int64_t> committed(const std::string& group, const std::string& topic, int32_t partition) {
    const offset_map* m = coord.offsets(group);
    if (!m) return std::nullopt;
    auto it = m->find({topic, partition});
    return it == m->end() ? std::nullopt : std::optional<int64_t>(it->second.offset);
  }
  // The marker for every group holding the producer's offsets, as group_service applies it.
  void marker(int64_t pid, bool commit) {
    for (const auto& group : coord.txn_groups(pid)) coord.apply_txn_completion(group, pid, commit);
  }
};

}  // namespace

TEST_CASE("TxnOffsetCommit to an unknown group: generation -1 creates an empty group, a generation is refused") {
  txn_fixture f;
  CHECK(f.validate("", 5, std::nullopt, 5, "new") == kafka_error::illegal_generation);
  CHECK(f.validate("", 5, std::nullopt, 6, "new") == kafka_error::group_id_not_found);
  CHECK(f.coord.find("new") == nullptr);
  CHECK(f.validate("", -1, std::nullopt, 0, "new") == kafka_error::none);
  REQUIRE(f.coord.find("new"));
  CHECK(f.coord.find("new")->state() == group_state::empty);
  CHECK(f.validate("", -1, std::nullopt, 6, "") == kafka_error::invalid_group_id);
  // An empty group accepts generation -1 whatever member id comes with it, as a plain commit.
  CHECK(f.validate("someone", -1, std::nullopt, 3, "new") == kafka_error::none);
}

TEST_CASE("TxnOffsetCommit to a classic group: Kafka's KIP-447 membership checks") {
  txn_fixture f;
  const std::string id = f.classic_member();
  REQUIRE(f.coord.find("g")->state() == group_state::stable);
  CHECK(f.validate(id, 1) == kafka_error::none);
  CHECK(f.validate(id, 2) == kafka_error::illegal_generation);
  CHECK(f.validate(id, 0) == kafka_error::illegal_generation);
  CHECK(f.validate("stranger", 1) == kafka_error::unknown_member_id);
  CHECK(f.validate("", 1) == kafka_error::unknown_member_id);
  // A producer outside the group (v0-2 carry no membership): accepted while the group has members,
  // which a plain OffsetCommit is not.
  CHECK(f.validate("", -1) == kafka_error::none);
  CHECK(f.coord.validate_commit("g", "", std::nullopt, -1, f.now) == kafka_error::unknown_member_id);
  CHECK(f.validate("", -1, std::string("inst")) == kafka_error::unknown_member_id);
}

TEST_CASE("TxnOffsetCommit: static members are fenced by instance id, and the group state is not enforced") {
  txn_fixture f;
  const std::string id = f.classic_member(std::string("inst"), false);
  REQUIRE(f.coord.find("g")->state() == group_state::completing_rebalance);
  CHECK(f.validate(id, 1, std::string("inst")) == kafka_error::none);
  // A plain commit answers REBALANCE_IN_PROGRESS here; the transactional one does not.
  CHECK(f.coord.validate_commit("g", id, std::string("inst"), 1, f.now) == kafka_error::rebalance_in_progress);
  CHECK(f.validate("zombie", 1, std::string("inst")) == kafka_error::fenced_instance_id);
  CHECK(f.validate(id, 1, std::string("other")) == kafka_error::unknown_member_id);
  f.coord.mark_dead("g");
  CHECK(f.validate(id, 1, std::string("inst")) == kafka_error::coordinator_not_available);
}

TEST_CASE("TxnOffsetCommit to a consumer-protocol group: member epochs, STALE_MEMBER_EPOCH from v6") {
  txn_fixture f;
  const int32_t epoch = f.consumer_member();
  CHECK(f.validate("a", epoch) == kafka_error::none);
  CHECK(f.validate("a", epoch, std::nullopt, 3) == kafka_error::none);  // no version floor, unlike OffsetCommit's v9
  CHECK(f.validate("a", epoch + 1, std::nullopt, 6) == kafka_error::stale_member_epoch);
  CHECK(f.validate("a", epoch + 1, std::nullopt, 5) == kafka_error::illegal_generation);
  CHECK(f.validate("b", epoch) == kafka_error::unknown_member_id);
  // A producer outside the group: epoch -1 without member and instance id.
  CHECK(f.validate("", -1) == kafka_error::none);
  CHECK(f.validate("", -1, std::string("inst")) == kafka_error::unknown_member_id);
}

TEST_CASE("staged offsets are pending until the commit marker, and dropped by an abort") {
  txn_fixture f;
  f.commit("g", "t", 0, 5);
  f.stage("g", 7, "t", 0, 10);
  f.stage("g", 7, "t", 1, 20);
  f.stage("other", 7, "t", 0, 30);
  f.stage("g", 8, "t", 2, 40);
  CHECK(f.committed("g", "t", 0) == 5);  // not visible yet
  CHECK_FALSE(f.committed("g", "t", 1));
  CHECK(f.coord.has_pending_txn_offset("g", "t", 0));
  CHECK(f.coord.has_pending_txn_offset("g", "t", 2));
  CHECK_FALSE(f.coord.has_pending_txn_offset("g", "t", 3));
  CHECK(f.coord.txn_groups(7) == std::vector<std::string>{"g", "other"});
  CHECK(f.coord.find("other"));  // staging creates the group, as a commit does

  f.marker(7, true);
  CHECK(f.committed("g", "t", 0) == 10);
  CHECK(f.committed("g", "t", 1) == 20);
  CHECK(f.committed("other", "t", 0) == 30);
  CHECK_FALSE(f.coord.has_pending_txn_offset("g", "t", 0));
  CHECK(f.coord.has_pending_txn_offset("g", "t", 2));  // producer 8's transaction is still open
  CHECK(f.coord.txn_groups(7).empty());

  f.marker(8, false);
  CHECK_FALSE(f.committed("g", "t", 2));
  CHECK_FALSE(f.coord.has_pending_txn_offsets("g"));
  f.marker(8, true);  // a repeated marker finds nothing
  CHECK_FALSE(f.committed("g", "t", 2));
}

TEST_CASE("a producer's later staging replaces its earlier one for the same partition") {
  txn_fixture f;
  f.stage("g", 7, "t", 0, 10);
  f.stage("g", 7, "t", 0, 12);
  f.marker(7, true);
  CHECK(f.committed("g", "t", 0) == 12);
}

TEST_CASE("between plain and transactional commits of one partition, the one written last wins") {
  txn_fixture f;
  SECTION("a plain commit after the staging is kept when the transaction commits") {
    f.stage("g", 7, "t", 0, 10);
    f.commit("g", "t", 0, 50);
    CHECK(f.coord.has_pending_txn_offset("g", "t", 0));  // both kept until the marker
    f.marker(7, true);
    CHECK(f.committed("g", "t", 0) == 50);
  }
  SECTION("a plain commit before the staging is replaced") {
    f.commit("g", "t", 0, 50);
    f.stage("g", 7, "t", 0, 10);
    f.marker(7, true);
    CHECK(f.committed("g", "t", 0) == 10);
  }
  SECTION("two transactions: the one staged later wins whichever commits first") {
    f.stage("g", 1, "t", 0, 100);
    f.stage("g", 2, "t", 0, 200);
    f.marker(2, true);
    f.marker(1, true);
    CHECK(f.committed("g", "t", 0) == 200);
  }
}

TEST_CASE("expiry keeps offsets with pending transactional ones and groups with open transactions") {
  txn_fixture f;
  f.validate("", -1, std::nullopt, 6, "g");
  f.commit("g", "t", 0, 1);
  f.commit("g", "t", 1, 1);
  f.stage("g", 7, "t", 0, 2);
  f.validate("", -1, std::nullopt, 6, "only-pending");
  f.stage("only-pending", 8, "t", 0, 3);
  f.now += 120'000;
  auto expired = f.coord.advance(f.now);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].group == "g");
  CHECK(expired[0].partitions == std::map<std::string, std::vector<int32_t>>{{"t", {1}}});
  CHECK_FALSE(expired[0].remove_group);
  CHECK(f.committed("g", "t", 0) == 1);
  CHECK(f.coord.find("only-pending"));
  // Once the transactions end, the old offset and the empty groups go.
  f.marker(7, false);
  f.marker(8, false);
  f.now += 2000;
  expired = f.coord.advance(f.now);
  CHECK(expired.size() == 2);
  CHECK_FALSE(f.coord.find("g"));
  CHECK_FALSE(f.coord.find("only-pending"));
}

TEST_CASE("deleting a group, a partition's offsets or a topic drops pending transactional offsets") {
  txn_fixture f;
  f.stage("g", 7, "t", 0, 1);
  f.stage("g", 7, "t", 1, 1);
  f.stage("g", 8, "u", 0, 1);
  f.stage("h", 7, "t", 0, 1);
  f.coord.remove_offsets("g", "t", {0});
  CHECK_FALSE(f.coord.has_pending_txn_offset("g", "t", 0));
  CHECK(f.coord.has_pending_txn_offset("g", "t", 1));
  f.coord.forget_topic("u");
  CHECK(f.coord.txn_groups(8).empty());
  f.coord.erase("g");
  CHECK_FALSE(f.coord.has_pending_txn_offsets("g"));
  CHECK(f.coord.txn_groups(7) == std::vector<std::string>{"h"});
  f.marker(7, true);
  CHECK_FALSE(f.committed("g", "t", 1));
  CHECK(f.committed("h", "t", 0) == 1);
  // DeleteGroups' own check does not look at pending offsets (Kafka deletes them with the group).
  f.stage("h", 9, "t", 0, 2);
  CHECK(f.coord.can_delete("h") == kafka_error::none);
}

TEST_CASE("loading pending offsets restores them and continues the write order after them") {
  txn_fixture f;
  brook::log::partition_offset po;
  po.topic = "t";
  po.partition = 0;
  po.offset.offset = 5;
  po.offset.sequence = 40;
  f.coord.load({}, {{"g", {po}}}, f.now);
  brook::log::txn_offset t;
  t.group = "g";
  t.topic = "t";
  t.partition = 0;
  t.producer_id = 7;
  t.offset.offset = 9;
  t.offset.sequence = 41;
  f.coord.load_txn_offsets({t}, f.now);
  CHECK(f.coord.has_pending_txn_offset("g", "t", 0));
  CHECK(f.coord.next_sequence() == 42);
  f.marker(7, true);
  CHECK(f.committed("g", "t", 0) == 9);
}
