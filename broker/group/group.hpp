// One classic consumer group (the JoinGroup/SyncGroup/Heartbeat protocol) as a pure state machine.
//
// Owner: the group_coordinator, on the broker's network thread (no locks). Time is never read here:
// every call takes `now` (milliseconds on any monotonic clock) and next_deadline() says when
// advance() must next be called, so tests drive a group with a fake clock and the broker with one
// timer.
//
// Invariants:
// - state changes only through set_state(), which asserts transition_allowed(from, to);
// - leader_ is empty iff members_ is empty, else it names a member;
// - a member id is in at most one of members_ and pending_ (ids handed out with MEMBER_ID_REQUIRED);
// - static_members_ maps each group.instance.id to the member currently holding it;
// - join_deadline_ is set only in PreparingRebalance, sync_deadline_ only with pending_sync_ non-empty;
// - parked JoinGroup/SyncGroup callbacks are called exactly once (answer, error, or abort_all()).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace brook::broker::group {

using common::kafka_error;

enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };

// The state's name as Kafka prints it ("PreparingRebalance").
std::string_view state_name(group_state s);
// Kafka's classic transition table: which state may follow which.
bool transition_allowed(group_state from, group_state to);

// Limits from the broker config (group.*).
struct group_limits {
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 1800000;
  int32_t initial_rebalance_delay_ms = 3000;
  int32_t max_size = 2147483647;
  // The largest stored group record (Kafka: message.max.bytes, the max.message.bytes of
  // __consumer_offsets); 0: no bound.
  int64_t max_record_bytes = 1048588;
  // A member awaiting its first join response is kept this long without heartbeats (Kafka's 5 min).
  int32_t new_member_join_timeout_ms = 300000;
};

struct protocol_entry {
  std::string name;
  std::string metadata;
  bool operator==(const protocol_entry&) const = default;
};

struct join_member_info {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string metadata;
};

struct join_result {
  kafka_error error = kafka_error::none;
  int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<join_member_info> members;  // the leader's only
};

struct sync_result {
  kafka_error error = kafka_error::none;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string assignment;
};

using join_callback = std::function<void(join_result)>;
using sync_callback = std::function<void(sync_result)>;

struct join_request {
  std::string member_id;  // empty on the first join
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<protocol_entry> protocols;
  bool require_known_member_id = false;   // JoinGroup v4+
  bool supports_skip_assignment = false;  // JoinGroup v9+
  std::string new_member_id;              // the id to hand out if this is a new member
};

struct sync_request {
  std::string member_id;
  std::optional<std::string> instance_id;
  int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::vector<std::pair<std::string, std::string>> assignments;  // leader only: member id -> bytes
};

struct leave_member {
  std::string member_id;
  std::optional<std::string> instance_id;
};

struct member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<protocol_entry> protocols;
  std::string assignment;
  bool is_new = false;
  int64_t last_heartbeat_ms = 0;
  join_callback awaiting_join;
  sync_callback awaiting_sync;

  const std::string* metadata_for(std::string_view protocol) const;
};

class group {
 public:
  group(std::string id, const group_limits& limits, int64_t now);

  // Restores a persisted group: with members it comes back Stable at `generation` (sessions start
  // afresh at `now`), without members Empty since `state_since_ms`.
  void restore(std::string protocol_type, int32_t generation, std::optional<std::string> protocol,
               std::string leader, std::vector<member> members, int64_t state_since_ms, int64_t now);

  const std::string& id() const { return id_; }
  // message.max.bytes changed at run time: the bound of this group's next metadata record.
  void set_max_record_bytes(int64_t bytes) { limits_.max_record_bytes = bytes; }
  group_state state() const { return state_; }
  int32_t generation() const { return generation_; }
  const std::optional<std::string>& protocol_type() const { return protocol_type_; }
  const std::optional<std::string>& protocol_name() const { return protocol_; }
  const std::string& leader() const { return leader_; }
  const std::map<std::string, member>& members() const { return members_; }
  const std::map<std::string, int64_t>& pending_members() const { return pending_; }  // id -> deadline
  bool has_member(const std::string& id) const { return members_.count(id) != 0; }
  const member* find_member(const std::string& id) const;
  // When the group last changed state (Kafka's currentStateTimestamp): offsets of an Empty group
  // expire counting from here.
  int64_t state_since_ms() const { return state_since_ms_; }

  // JoinGroup: `done` is called now (errors, MEMBER_ID_REQUIRED, rejoin without change) or when the
  // rebalance completes.
  void join(const join_request& req, int64_t now, join_callback done);
  void sync(const sync_request& req, int64_t now, sync_callback done);
  kafka_error heartbeat(const std::string& member_id, const std::optional<std::string>& instance_id,
                        int32_t generation, int64_t now);
  // One error per leaving member, in order.
  std::vector<kafka_error> leave(const std::vector<leave_member>& leaving, int64_t now);
  // OffsetCommit checks for this group (Kafka's validateOffsetCommit plus the state rules); a
  // member's commit also counts as a heartbeat.
  kafka_error validate_commit(const std::string& member_id, const std::optional<std::string>& instance_id,
                              int32_t generation, int64_t now);
  // TxnOffsetCommit v3+ checks (KIP-447; Kafka's ClassicGroup.validateOffsetCommit with
  // isTransactional): as OffsetCommit's, except that a commit without member id, instance id and
  // generation is accepted whatever the state, the group's state is not enforced (no
  // REBALANCE_IN_PROGRESS) and the commit is no heartbeat. An empty member id of a committer that
  // names itself is UNKNOWN_MEMBER_ID, as Kafka's validateMember answers it.
  kafka_error validate_txn_commit(const std::string& member_id, const std::optional<std::string>& instance_id,
                                  int32_t generation) const;

  // Topics the members subscribe to, parsed from their consumer-protocol metadata; nullopt when the
  // group is not a consumer group or a subscription does not parse.
  std::optional<std::set<std::string>> subscribed_topics() const;

  // The earliest time advance() has work: a session, pending member, join or sync deadline.
  std::optional<int64_t> next_deadline() const;
  // Handles everything due at `now`: expired sessions, the end of a rebalance, missing SyncGroups.
  void advance(int64_t now);

  // Marks the group Dead (DeleteGroups; allowed from every state).
  void mark_dead();
  // Answers every parked request with `error` (the broker is shutting down).
  void abort_all(kafka_error error);

  // Set when Kafka would store the group: a generation completes (the leader's SyncGroup), a static
  // member is replaced, the group becomes Empty or Dead. The owner clears it after writing it out.
  bool dirty = false;

 private:
  void set_state(group_state to, int64_t now);
  bool is_static_fenced(const std::optional<std::string>& instance_id, const std::string& member_id) const;
  // A committer's member check (Kafka's ClassicGroup.validateMember): a static member by its instance
  // id (unknown: UNKNOWN_MEMBER_ID, another member id: FENCED_INSTANCE_ID), else by its member id (an
  // empty or unknown one: UNKNOWN_MEMBER_ID).
  kafka_error validate_member(const std::string& member_id, const std::optional<std::string>& instance_id) const;
  bool supports_protocols(const std::string& type, const std::vector<protocol_entry>& protocols) const;
  bool accept_joining_member(const std::string& member_id) const;
  int32_t rebalance_timeout_ms() const;
  std::string select_protocol() const;
  bool all_members_joined() const;
  std::vector<join_member_info> current_member_metadata() const;
  join_result current_join_result(const member& m, bool as_leader) const;

  void join_unknown(const join_request& req, int64_t now, join_callback& done);
  void join_known(const join_request& req, int64_t now, join_callback& done);
  void add_member_and_rebalance(const join_request& req, const std::string& member_id, int64_t now,
                                join_callback& done);
  void update_member_and_rebalance(member& m, const join_request& req, int64_t now, join_callback& done);
  // `old_id` by value: the caller's is the static_members_ entry this replaces.
  void replace_static_member(const join_request& req, std::string old_id, int64_t now, join_callback& done);
  void prepare_rebalance(int64_t now);
  void maybe_complete_join(int64_t now);
  void complete_join(int64_t now);
  void remove_member(const std::string& member_id, kafka_error join_error);
  void remove_member_and_update(const std::string& member_id, int64_t now);
  void propagate_assignment(kafka_error error);
  void heartbeat_member(member& m, int64_t now);
  bool keep_alive(const member& m, int64_t now) const;
  int64_t session_deadline(const member& m) const;

  std::string id_;
  group_limits limits_;
  group_state state_ = group_state::empty;
  int64_t state_since_ms_ = 0;
  int32_t generation_ = 0;
  std::optional<std::string> protocol_type_;
  std::optional<std::string> protocol_;
  std::string leader_;
  std::map<std::string, member> members_;
  std::map<std::string, int64_t> pending_;  // member id -> deadline
  std::map<std::string, std::string> static_members_;  // instance id -> member id
  std::set<std::string> pending_sync_;
  std::optional<int64_t> join_deadline_;
  std::optional<int64_t> sync_deadline_;
  // The first rebalance of an Empty group waits group.initial.rebalance.delay.ms, extended while
  // new members keep arriving, up to the rebalance timeout.
  bool initial_join_ = false;
  bool new_member_added_ = false;
  int64_t initial_remaining_ms_ = 0;
};

}  // namespace brook::broker::group
